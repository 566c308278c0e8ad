import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import {
  CopyBinaryDecoder,
  CopyBinaryWriter,
  CopyCsvDecoder,
  CopyCsvWriter,
  CopyTextDecoder,
  CopyTextWriter,
} from '../../protocol/pg/copyFormat.js';
import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import { codecFor, decodeParam } from '../../protocol/pg/types/index.js';
import type { EncodeOptions } from '../../protocol/pg/types/PgType.js';
import type { PreparedQuery, SessionExecutor } from '../executor/Executor.js';
import type { CopyOptions, SessionCommand } from '../sql/classifyStatement.js';
import type { SessionSettings } from '../sql/SessionSettings.js';
import { type CopyLoad, isBulkCopyTarget } from '../tables/SpooledCopy.js';
import type { ClientChannel } from './Session.js';

export interface CopyContext {
  channel: ClientChannel;
  executor: SessionExecutor;
  settings: SessionSettings;
  /** Inside an explicit transaction the COPY joins it; otherwise it runs in its own, all or nothing. */
  inTransaction: boolean;
  rewrite(sql: string): Promise<string>;
}

/** Rows per multi-row INSERT while loading COPY data. */
const INSERT_BATCH = 1000;
const FLUSH_BYTES = 64 * 1024;

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Per-column flags from a FORCE_* option naming columns (or `*`). */
function columnFlags(names: readonly string[], option: string[] | '*' | undefined): boolean[] | undefined {
  if (option === undefined) return undefined;
  if (option === '*') return names.map(() => true);
  for (const n of option) {
    if (!names.includes(n)) {
      throw new PgError(SqlState.UndefinedColumn, `column "${n}" does not exist`);
    }
  }
  return names.map((n) => option.includes(n));
}

async function runToEnd(executor: SessionExecutor, sql: string): Promise<void> {
  const q = await executor.prepare(sql, []);
  try {
    const c = await q.execute([]);
    while (await c.next());
    c.close();
  } finally {
    q.close();
  }
}

/**
 * COPY table FROM STDIN: CopyInResponse, then CopyData until CopyDone (or CopyFail). An executor that
 * can take the data whole (a catalog table, see TableExecutor.openCopy) gets the bytes as they come;
 * otherwise, or when it hands them back, rows are decoded with PostgreSQL's input syntax per column
 * type and inserted in batches. A bad row or CopyFail leaves the table unchanged, and the error names
 * the line.
 */
export async function copyIn(ctx: CopyContext, command: Extract<SessionCommand, { kind: 'copyFromStdin' }>) {
  const { channel, executor } = ctx;
  const probe = await executor.prepare(
    `SELECT ${command.columns ? command.columns.map(quoteIdent).join(', ') : '*'} FROM ${command.table} LIMIT 0`,
    [],
  );
  const names = probe.columns.map((c) => c.name);
  const types: DuckDBType[] = probe.columns.map((c) => c.type);
  probe.close();
  const ncols = names.length;
  const format = command.options.format;
  const relation = command.relation;
  channel.writer.copyInResponse(
    format === 'binary' ? 1 : 0,
    names.map(() => (format === 'binary' ? 1 : 0)),
  );
  channel.flush();

  const o = command.options;
  const decoder =
    format === 'binary'
      ? new CopyBinaryDecoder({ columns: names, relation })
      : format === 'csv'
        ? new CopyCsvDecoder({
            columns: names,
            relation,
            delimiter: o.delimiter,
            null: o.null,
            header: o.header,
            quote: o.quote,
            escape: o.escape,
            forceNotNull: columnFlags(names, o.forceNotNull),
            forceNull: columnFlags(names, o.forceNull),
          })
        : new CopyTextDecoder({
            columns: names,
            relation,
            delimiter: o.delimiter,
            null: o.null,
            header: o.header,
          });

  const target = `INSERT INTO ${command.table} (${names.map(quoteIdent).join(', ')}) VALUES `;
  const inserts = new Map<number, PreparedQuery>();
  const pending: DuckDBValue[] = [];
  let pendingRows = 0;
  let total = 0;
  let failure: unknown = null;

  const insertPending = async () => {
    if (pendingRows === 0) return;
    let q = inserts.get(pendingRows);
    if (!q) {
      const tuples: string[] = [];
      for (let r = 0, p = 1; r < pendingRows; r++) {
        const ps: string[] = [];
        for (let c = 0; c < ncols; c++) ps.push(`$${p++}`);
        tuples.push(`(${ps.join(', ')})`);
      }
      const hints: DuckDBType[] = [];
      for (let r = 0; r < pendingRows; r++) hints.push(...types);
      q = await executor.prepare(target + tuples.join(', '), hints);
      inserts.set(pendingRows, q);
    }
    const cursor = await q.execute(pending);
    while (await cursor.next());
    cursor.close();
    total += pendingRows;
    pending.length = 0;
    pendingRows = 0;
  };

  const onRow = (fields: (string | Buffer | null)[], line: number) => {
    for (let c = 0; c < ncols; c++) {
      const f = fields[c];
      if (f === null || f === undefined) {
        pending.push(null);
        continue;
      }
      try {
        const bytes = typeof f === 'string' ? Buffer.from(f, 'utf8') : f;
        pending.push(
          decodeParam(types[c]!, format === 'binary' ? 1 : 0, bytes, { timeZone: ctx.settings.timeZone }),
        );
      } catch (err) {
        if (err instanceof PgError) {
          const shown = typeof f === 'string' ? `: "${f}"` : '';
          throw new PgError(err.code, err.message, {
            ...err.fields,
            where: `COPY ${relation}, line ${line}, column ${names[c]}${shown}`,
          });
        }
        throw err;
      }
    }
    pendingRows++;
  };

  const decode = async (data: Buffer) => {
    if (decoder instanceof CopyBinaryDecoder) decoder.push(data, onRow);
    else decoder.push(data, onRow);
    if (pendingRows >= INSERT_BATCH) await insertPending();
  };

  if (!ctx.inTransaction) await runToEnd(executor, 'BEGIN TRANSACTION');
  let bulk: CopyLoad | null = null;
  try {
    try {
      bulk = isBulkCopyTarget(executor) ? await executor.openCopy(command) : null;
    } catch (err) {
      // Reported at CopyDone, like a bad row: the client is already sending data.
      failure = err;
    }
    for (;;) {
      const m = await channel.next();
      if (m.type === 'copyData' && bulk) {
        if (failure) continue;
        try {
          const room = bulk.push(m.data);
          if (room) await room;
        } catch (err) {
          failure = err;
        }
      } else if (m.type === 'copyDone' && bulk) {
        if (failure) throw failure;
        const outcome = await bulk.finish();
        if ('rows' in outcome) {
          total = outcome.rows;
          break;
        }
        for await (const chunk of outcome.replay()) await decode(chunk);
        if (decoder instanceof CopyBinaryDecoder) decoder.end();
        else decoder.end(onRow);
        await insertPending();
        break;
      } else if (m.type === 'copyData') {
        if (failure) continue;
        try {
          await decode(m.data);
        } catch (err) {
          // Keep reading to CopyDone/CopyFail so the stream stays in step, then report.
          failure = err;
        }
      } else if (m.type === 'copyDone') {
        if (failure) throw failure;
        if (decoder instanceof CopyBinaryDecoder) decoder.end();
        else decoder.end(onRow);
        await insertPending();
        break;
      } else if (m.type === 'copyFail') {
        throw new PgError(SqlState.QueryCanceled, `COPY from stdin failed: ${m.message}`);
      } else if (m.type === 'flush' || m.type === 'sync') {
        // PostgreSQL ignores these during COPY IN: some drivers send them right after the COPY query.
      } else {
        throw new PgError(
          SqlState.ProtocolViolation,
          `unexpected message type 0x${m.type} during COPY from stdin`,
        );
      }
    }
    if (!ctx.inTransaction) await runToEnd(executor, 'COMMIT');
  } catch (err) {
    if (!ctx.inTransaction) await runToEnd(executor, 'ROLLBACK').catch(() => {});
    throw err;
  } finally {
    for (const q of inserts.values()) q.close();
    await bulk?.close();
  }
  return total;
}

/** COPY ... TO STDOUT: CopyOutResponse, one CopyData per row, CopyDone. */
export async function copyOut(ctx: CopyContext, command: Extract<SessionCommand, { kind: 'copyToStdout' }>) {
  const { channel, executor } = ctx;
  const w = channel.writer;
  const query = await executor.prepare(await ctx.rewrite(command.query), []);
  try {
    const columns = query.columns;
    const names = columns.map((c) => c.name);
    const ncols = columns.length;
    const codecs = columns.map((c) => codecFor(c.type));
    const o: CopyOptions = command.options;
    const binary = o.format === 'binary';
    const options: EncodeOptions = {
      timeZone: ctx.settings.timeZone,
      extraFloatDigits: ctx.settings.extraFloatDigits,
    };
    const cursor = await query.execute([]);
    w.copyOutResponse(
      binary ? 1 : 0,
      names.map(() => (binary ? 1 : 0)),
    );
    let rows = 0;
    if (binary) {
      const writer = new CopyBinaryWriter();
      // PostgreSQL sends the file header in the same CopyData as the first tuple (or the trailer), and
      // drivers such as psycopg parse each CopyData as whole tuples, so the header must not stand alone.
      let header: Buffer | null = writer.header();
      const values: (Uint8Array | null)[] = new Array(ncols);
      for (let b = await cursor.next(); b; b = await cursor.next()) {
        for (let r = 0; r < b.rowCount; r++) {
          for (let c = 0; c < ncols; c++) {
            const v = b.columns[c]!.getItem(r);
            values[c] = v === null || v === undefined ? null : codecs[c]!.binary(v, options);
          }
          const row = writer.row(values);
          if (header) {
            w.copyData(Buffer.concat([header, row]));
            header = null;
          } else {
            w.copyData(row);
          }
        }
        rows += b.rowCount;
        await drain(channel);
      }
      w.copyData(header ? Buffer.concat([header, writer.trailer()]) : writer.trailer());
    } else {
      const writer =
        o.format === 'csv'
          ? new CopyCsvWriter({
              delimiter: o.delimiter,
              null: o.null,
              quote: o.quote,
              escape: o.escape,
              forceQuote: columnFlags(names, o.forceQuote),
            })
          : new CopyTextWriter({ delimiter: o.delimiter, null: o.null });
      if (o.header) w.copyData(writer.header(names));
      const values: (string | null)[] = new Array(ncols);
      for (let b = await cursor.next(); b; b = await cursor.next()) {
        for (let r = 0; r < b.rowCount; r++) {
          for (let c = 0; c < ncols; c++) {
            const v = b.columns[c]!.getItem(r);
            values[c] = v === null || v === undefined ? null : codecs[c]!.text(v, options);
          }
          w.copyData(writer.row(values));
        }
        rows += b.rowCount;
        await drain(channel);
      }
    }
    cursor.close();
    w.copyDone();
    return rows;
  } finally {
    query.close();
  }
}

async function drain(channel: ClientChannel): Promise<void> {
  if (channel.writer.length < FLUSH_BYTES) return;
  channel.flush();
  await channel.drained();
  if (channel.closed) throw new PgError(SqlState.ConnectionFailure, 'client disconnected');
}
