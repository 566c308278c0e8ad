import { configurationOptionDescriptions, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import type { BackendWriter, FieldDescription } from '../../protocol/pg/BackendWriter.js';
import type { FrontendMessage } from '../../protocol/pg/messages.js';
import { PgError, ProtocolError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import {
  type BinaryFieldWriter,
  binaryFieldWriter,
  codecFor,
  decodeParam,
  duckTypeForOid,
  Oid,
  pgTypeFor,
} from '../../protocol/pg/types/index.js';
import type { ColumnCodec, EncodeOptions } from '../../protocol/pg/types/PgType.js';
import type {
  ColumnBatch,
  PreparedQuery,
  QueryCursor,
  ResultColumn,
  SessionExecutor,
} from '../executor/Executor.js';
import { toPgError } from '../executor/mapDuckDBError.js';
import { Utf8Column } from '../executor/Utf8Column.js';
import type { Logger } from '../log.js';
import { classifyStatement, type SessionCommand } from '../sql/classifyStatement.js';
import { paramCastTypes } from '../sql/paramCastTypes.js';
import { rewriteIsTextOnly, rewriteQuery } from '../sql/rewriteQuery.js';
import type { SessionSettings } from '../sql/SessionSettings.js';
import type { SqlParser } from '../sql/SqlParser.js';
import { splitStatements } from '../sql/splitStatements.js';
import { copyIn, copyOut } from './copy.js';

/** What a session needs from its client connection. */
export interface ClientChannel {
  readonly writer: BackendWriter;
  /** The next frontend message; rejects once the client is gone or sent malformed bytes. */
  next(): Promise<FrontendMessage>;
  /** Hands pending bytes to the socket. */
  flush(): void;
  /** Resolves when the socket has room again. */
  drained(): Promise<void>;
  readonly closed: boolean;
}

export interface SessionInit {
  user: string;
  database: string;
  /** Every startup parameter as sent, including `options`. */
  params: Record<string, string>;
  pid: number;
  channel: ClientChannel;
  log: Logger;
}

export interface SessionFactory {
  create(init: SessionInit): Promise<Session>;
}

/** How many prepared statements a session keeps in its plan cache. */
const PLAN_CACHE_SIZE = 64;

/**
 * Bumped by any session's DDL (and by COMMIT/ROLLBACK of a transaction that ran DDL): cached
 * statements from an older epoch are prepared again. One process owns the schema, so a counter in
 * memory sees every change.
 */
let schemaEpoch = 0;

function planKey(sql: string, paramOids: readonly number[]): string {
  return `${paramOids.join(',')}|${sql}`;
}

/** Write batches to the socket once this much is pending, then wait for it to drain. */
const FLUSH_BYTES = 64 * 1024;

interface Statement {
  readonly sql: string;
  readonly command: SessionCommand | null; // null: empty query
  readonly query: PreparedQuery | null;
  /** The OIDs reported in ParameterDescription. */
  readonly paramOids: number[];
  readonly paramTypes: readonly DuckDBType[];
  /** Kept in the session's plan cache: closed only when the cache lets it go. */
  shared?: boolean;
}

interface Portal {
  readonly statement: Statement;
  readonly params: readonly DuckDBValue[];
  readonly formats: readonly (0 | 1)[];
  cursor: QueryCursor | null;
  batch: ColumnBatch | null;
  offset: number;
  rows: number;
  done: boolean;
}

type TxStatus = 'I' | 'T' | 'E';

/**
 * One client session: the simple and extended query protocols, COPY, transactions and settings.
 * SQL goes to the SessionExecutor one statement at a time; rows come back as column batches and are
 * encoded column by column with codecs chosen once per result.
 */
export class Session {
  readonly settings: SessionSettings;
  private readonly statements = new Map<string, Statement>();
  private readonly portals = new Map<string, Portal>();
  /** Prepared statements by parameter types and text, oldest first (see cachedStatement). */
  private readonly planCache = new Map<string, { statement: Statement; epoch: number }>();
  /** The open transaction ran DDL: its end changes what other sessions see. */
  private txChangedSchema = false;
  /** SQL-level cursors (DECLARE ... CURSOR): portals the client drives with FETCH and MOVE. */
  private readonly cursors = new Map<string, { portal: Portal; hold: boolean }>();
  private tx: TxStatus = 'I';
  /** After an error in the extended protocol, messages are skipped until Sync. */
  private skipToSync = false;
  private running = false;
  private cancelReason: string | null = null;
  private readonly w: BackendWriter;

  constructor(
    private readonly init: SessionInit,
    private readonly executor: SessionExecutor,
    private readonly parser: SqlParser,
    settings: SessionSettings,
  ) {
    this.settings = settings;
    this.w = init.channel.writer;
  }

  /** ParameterStatus values not yet sent: all of them at startup, then whatever changed. */
  reportedParameters(): [string, string][] {
    return this.settings.takeReports();
  }

  /** CancelRequest, statement_timeout or disconnect: interrupts the running statement, if any. */
  cancel(reason: string): void {
    if (!this.running) return;
    this.cancelReason = reason;
    this.executor.interrupt();
  }

  async close(): Promise<void> {
    for (const p of this.portals.values()) p.cursor?.close();
    for (const s of this.statements.values()) this.release(s);
    this.portals.clear();
    this.statements.clear();
    this.clearPlanCache();
    await this.executor.close();
  }

  async handle(m: FrontendMessage): Promise<void> {
    if (this.skipToSync && m.type !== 'sync') {
      if (m.type === 'query') this.skipToSync = false;
      else return;
    }
    try {
      switch (m.type) {
        case 'query':
          return await this.onQuery(m.sql);
        case 'parse':
          return await this.onParse(m.name, m.sql, m.paramOids);
        case 'bind':
          return this.onBind(m);
        case 'describe':
          return this.onDescribe(m.kind, m.name);
        case 'execute':
          return await this.onExecute(m.portal, m.maxRows);
        case 'close':
          return this.onClose(m.kind, m.name);
        case 'sync':
          return await this.onSync();
        case 'flush':
          return this.init.channel.flush();
        case 'copyData':
        case 'copyDone':
        case 'copyFail':
          // Outside COPY these are ignored, as PostgreSQL does after a failed COPY.
          return;
        case 'functionCall':
          throw new PgError(SqlState.FeatureNotSupported, 'the function call protocol is not supported');
        default:
          throw new ProtocolError(`unexpected message type ${m.type}`);
      }
    } catch (err) {
      if (err instanceof ProtocolError) throw err;
      this.reportError(err);
      if (m.type !== 'query') {
        this.skipToSync = true;
        // The client may be waiting for this error without having sent Sync (it sent Flush, or nothing yet).
        this.init.channel.flush();
      }
    }
  }

  private reportError(err: unknown): void {
    const pgErr = this.toError(err);
    if (pgErr.severity === 'FATAL') throw pgErr;
    this.w.errorResponse(pgErr);
    if (this.tx === 'T') this.tx = 'E';
    if (!(err instanceof PgError)) this.init.log.debug({ err }, 'statement failed');
  }

  private toError(err: unknown): PgError {
    if (this.cancelReason !== null) {
      const reason = this.cancelReason;
      this.cancelReason = null;
      if (reason !== 'client disconnected') {
        return new PgError(SqlState.QueryCanceled, `canceling statement due to ${reason}`);
      }
    }
    return err instanceof PgError ? err : toPgError(err);
  }

  // ---- simple query ----

  private async onQuery(text: string): Promise<void> {
    const parts = splitStatements(text);
    const commands = parts.map((p) => (p.empty ? null : classifyStatement(p.sql)));
    // PostgreSQL runs a multi-statement Query as one implicit transaction unless it controls transactions itself.
    const implicit =
      this.tx === 'I' && commands.length > 1 && commands.every((c) => c === null || !isTransactionControl(c));
    try {
      // PostgreSQL parses the whole message before running any of it: a syntax error anywhere runs nothing.
      if (commands.length > 1 && this.executor.checkSyntax) {
        for (let i = 0; i < commands.length; i++) {
          const c = commands[i];
          if (c?.kind === 'query')
            await this.executor.checkSyntax(c.sql).catch((e) => throwAt(e, parts[i]!.offset));
        }
      }
      if (implicit) await this.execSql('BEGIN TRANSACTION');
      for (let i = 0; i < commands.length; i++) {
        const command = commands[i]!;
        if (command === null) {
          this.w.emptyQueryResponse();
          continue;
        }
        try {
          const { statement, cached } = await this.cachedStatement(command, []);
          const portal = this.newPortal(statement, [], []);
          try {
            await this.runSimple(portal);
          } catch (err) {
            if (!cached) throw err;
            // A cached plan may be stale after DDL: prepare afresh and run once more, since the simple
            // protocol plans every query anew in PostgreSQL. Nothing was sent for it yet.
            if (command.kind === 'query') this.evictPlan(planKey(command.sql, []));
            if (!(err instanceof PgError && err.message === 'cached plan must not change result type'))
              throw err;
            const fresh = await this.prepareStatement(command, []);
            const again = this.newPortal(fresh, [], []);
            try {
              await this.runSimple(again);
            } finally {
              again.cursor?.close();
              fresh.query?.close();
            }
          } finally {
            portal.cursor?.close();
            if (!cached) statement.query?.close();
          }
        } catch (err) {
          throwAt(err, parts[i]!.offset);
        }
      }
      if (implicit) await this.execSql('COMMIT');
    } catch (err) {
      if (err instanceof PgError && err.severity === 'FATAL') throw err;
      this.reportError(err);
      if (implicit) await this.execSql('ROLLBACK').catch(() => {});
    }
    this.readyForQuery();
  }

  /** One statement of a simple Query: RowDescription (once its result is open), rows, CommandComplete. */
  private async runSimple(portal: Portal): Promise<void> {
    const describe = () => {
      const desc = this.rowDescription(portal.statement, []);
      if (desc) this.w.rowDescription(desc);
    };
    if (portal.statement.command?.kind === 'query') return this.executePortal(portal, 0, describe);
    describe();
    return this.executePortal(portal, 0);
  }

  /**
   * Statements whose rewrite depends on the text alone are prepared once per session and kept (like the
   * statement caches of drivers): a repeated simple `SELECT ...`, or a repeated unnamed Parse (what
   * node-postgres and pgbench's extended mode send for every query), then skips DuckDB's prepare.
   * Entries prepared before any DDL since (the process-wide schema epoch) are not reused.
   */
  private async cachedStatement(
    command: SessionCommand | null,
    paramOids: readonly number[],
  ): Promise<{ statement: Statement; cached: boolean }> {
    if (command?.kind !== 'query')
      return { statement: await this.prepareStatement(command, paramOids), cached: false };
    const key = planKey(command.sql, paramOids);
    const hit = this.planCache.get(key);
    if (hit && hit.epoch === schemaEpoch) {
      this.planCache.delete(key);
      this.planCache.set(key, hit);
      return { statement: hit.statement, cached: true };
    }
    if (hit) this.evictPlan(key);
    if (this.tx === 'E') throw abortedTransaction();
    const epoch = schemaEpoch;
    const statement = await this.prepareStatement(command, paramOids);
    const tag = statement.query?.tag;
    const cacheable =
      (tag === 'SELECT' || tag === 'INSERT 0' || tag === 'UPDATE' || tag === 'DELETE') &&
      rewriteIsTextOnly(command.sql);
    if (!cacheable) return { statement, cached: false };
    if (this.planCache.size >= PLAN_CACHE_SIZE) this.evictPlan(this.planCache.keys().next().value!);
    statement.shared = true;
    this.planCache.set(key, { statement, epoch });
    return { statement, cached: true };
  }

  private evictPlan(key: string): void {
    const entry = this.planCache.get(key);
    if (!entry) return;
    this.planCache.delete(key);
    entry.statement.shared = false;
    // Still the unnamed statement, or bound in a portal: it is closed when they let it go.
    const inUse =
      [...this.statements.values()].includes(entry.statement) ||
      [...this.portals.values()].some((p) => p.statement === entry.statement);
    if (!inUse) entry.statement.query?.close();
  }

  private clearPlanCache(): void {
    for (const key of [...this.planCache.keys()]) this.evictPlan(key);
  }

  /** Closes a statement the session no longer names, unless the plan cache keeps it. */
  private release(statement: Statement | undefined): void {
    if (statement && !statement.shared) statement.query?.close();
  }

  /** DDL (here or in any session) and SET search_path change what a cached statement would bind to. */
  private noteSchemaChange(command: SessionCommand, tag: string | undefined): void {
    const ddl =
      tag !== undefined &&
      (tag.startsWith('CREATE') ||
        tag.startsWith('ALTER') ||
        tag.startsWith('DROP') ||
        tag === 'SELECT create_distributed_table');
    if (ddl) {
      schemaEpoch++;
      if (this.tx !== 'I') this.txChangedSchema = true;
    }
    const name = command.kind === 'set' || command.kind === 'reset' ? command.name.toLowerCase() : '';
    if (name === 'search_path' || (command.kind === 'reset' && name === 'all')) schemaEpoch++;
  }

  private readyForQuery(): void {
    // Like PostgreSQL 14+, report changed parameters (SET, set_config, transaction end) just before ReadyForQuery.
    for (const [name, value] of this.settings.takeReports()) this.w.parameterStatus(name, value);
    this.w.readyForQuery(this.tx);
    this.init.channel.flush();
  }

  // ---- extended query ----

  private async onParse(name: string, sql: string, paramOids: number[]): Promise<void> {
    const parts = splitStatements(sql).filter((p) => !p.empty);
    if (parts.length > 1) {
      throw new PgError(SqlState.SyntaxError, 'cannot insert multiple commands into a prepared statement');
    }
    if (name !== '' && this.statements.has(name)) {
      throw new PgError(SqlState.DuplicatePreparedStatement, `prepared statement "${name}" already exists`);
    }
    const command = parts.length === 0 ? null : classifyStatement(parts[0]!.sql);
    // Named statements live as long as the client keeps them; unnamed ones are re-sent for every query.
    const statement =
      name === ''
        ? (await this.cachedStatement(command, paramOids)).statement
        : await this.prepareStatement(command, paramOids);
    const previous = this.statements.get(name);
    this.statements.set(name, statement);
    if (previous !== statement) this.release(previous);
    this.w.parseComplete();
  }

  private onBind(m: Extract<FrontendMessage, { type: 'bind' }>): void {
    const statement = this.statements.get(m.statement);
    if (!statement) {
      throw new PgError(
        SqlState.InvalidSqlStatementName,
        `prepared statement "${m.statement}" does not exist`,
      );
    }
    if (m.portal !== '' && this.portals.has(m.portal)) {
      throw new PgError(SqlState.DuplicateCursor, `cursor "${m.portal}" already exists`);
    }
    // In a failed transaction only COMMIT/ROLLBACK may run, as in PostgreSQL's exec_bind_message.
    const exits = statement.command?.kind === 'commit' || statement.command?.kind === 'rollback';
    if (this.tx === 'E' && !exits) throw abortedTransaction();
    const n = statement.paramTypes.length;
    if (m.params.length !== n) {
      throw new ProtocolError(
        `bind message supplies ${m.params.length} parameters, but prepared statement "${m.statement}" requires ${n}`,
      );
    }
    if (m.paramFormats.length > 1 && m.paramFormats.length !== n) {
      throw new ProtocolError(
        `bind message has ${m.paramFormats.length} parameter formats but ${n} parameters`,
      );
    }
    const params: DuckDBValue[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const bytes = m.params[i]!;
      const format = (
        m.paramFormats.length === 0 ? 0 : (m.paramFormats[m.paramFormats.length === 1 ? 0 : i] ?? 0)
      ) as 0 | 1;
      params[i] =
        bytes === null
          ? null
          : decodeParam(statement.paramTypes[i]!, format, bytes, {
              timeZone: this.settings.timeZone,
              parameterNumber: i + 1,
            });
    }
    const resultColumns = this.resultColumns(statement);
    const ncols =
      resultColumns === 'show' && statement.command?.kind === 'show'
        ? showColumns(statement.command, this.settings).length
        : (resultColumns as readonly ResultColumn[]).length;
    if (m.resultFormats.length > 1 && m.resultFormats.length !== ncols) {
      throw new ProtocolError(
        `bind message has ${m.resultFormats.length} result formats but query has ${ncols} columns`,
      );
    }
    const formats: (0 | 1)[] = new Array(ncols);
    for (let i = 0; i < ncols; i++) {
      const f = m.resultFormats.length === 0 ? 0 : m.resultFormats[m.resultFormats.length === 1 ? 0 : i]!;
      formats[i] = f as 0 | 1;
    }
    this.dropPortal(m.portal);
    this.portals.set(m.portal, this.newPortal(statement, params, formats));
    this.w.bindComplete();
  }

  private onDescribe(kind: 'S' | 'P', name: string): void {
    if (kind === 'S') {
      const statement = this.statements.get(name);
      if (!statement)
        throw new PgError(SqlState.InvalidSqlStatementName, `prepared statement "${name}" does not exist`);
      this.w.parameterDescription(statement.paramOids);
      const desc = this.rowDescription(statement, []);
      if (desc) this.w.rowDescription(desc);
      else this.w.noData();
      return;
    }
    // A DECLAREd cursor is a portal too: drivers (psycopg 3) describe it by name.
    const portal = this.portals.get(name) ?? this.cursors.get(name)?.portal;
    if (!portal) throw new PgError(SqlState.InvalidCursorName, `portal "${name}" does not exist`);
    const desc = this.rowDescription(portal.statement, portal.formats);
    if (desc) this.w.rowDescription(desc);
    else this.w.noData();
  }

  private async onExecute(name: string, maxRows: number): Promise<void> {
    const portal = this.portals.get(name);
    if (!portal) throw new PgError(SqlState.InvalidCursorName, `portal "${name}" does not exist`);
    await this.executePortal(portal, maxRows);
  }

  private onClose(kind: 'S' | 'P', name: string): void {
    if (kind === 'S') {
      const statement = this.statements.get(name);
      this.statements.delete(name);
      this.release(statement);
    } else {
      this.dropPortal(name);
    }
    this.w.closeComplete();
  }

  private async onSync(): Promise<void> {
    this.skipToSync = false;
    // Outside a transaction block, Sync ends the implicit transaction, and its portals with it.
    if (this.tx === 'I') for (const name of [...this.portals.keys()]) this.dropPortal(name);
    this.readyForQuery();
  }

  private dropPortal(name: string): void {
    const p = this.portals.get(name);
    if (!p) return;
    p.cursor?.close();
    this.portals.delete(name);
  }

  // ---- shared execution ----

  private async prepareStatement(
    command: SessionCommand | null,
    paramOids: readonly number[],
  ): Promise<Statement> {
    if (command === null || (command.kind !== 'query' && command.kind !== 'declareCursor')) {
      return { sql: '', command, query: null, paramOids: [], paramTypes: [] };
    }
    if (this.tx === 'E') throw abortedTransaction();
    // DECLARE prepares its query now, so its parameters are typed and bound like any statement's.
    const text = command.kind === 'query' ? command.sql : command.query;
    const sql = await rewriteQuery(text, this.rewriteContext(), this.parser);
    // Like PostgreSQL, a parameter the statement casts directly takes the cast's type when the client
    // declared none: `$1::oid[]` is described as oid[], not as DuckDB's nearest type.
    const casts = paramCastTypes(text);
    const declared = [...paramOids];
    for (const [n, oid] of casts) if (!declared[n - 1]) declared[n - 1] = oid;
    for (let i = 0; i < declared.length; i++) declared[i] ??= 0;
    paramOids = declared;
    const hints = paramOids.map((oid) => (oid === 0 ? null : duckTypeForOid(oid)));
    const query = await this.executor.prepare(sql, hints);
    const paramTypes = query.paramTypes;
    const oids = paramTypes.map((t, i) => (paramOids[i] ? paramOids[i]! : pgTypeFor(t).oid));
    return { sql, command, query, paramOids: oids, paramTypes };
  }

  private rewriteContext() {
    return {
      settings: this.settings,
      user: this.init.user,
      database: this.init.database,
      pid: this.init.pid,
    };
  }

  private newPortal(
    statement: Statement,
    params: readonly DuckDBValue[],
    formats: readonly (0 | 1)[],
  ): Portal {
    return {
      statement,
      params,
      formats,
      cursor: null,
      batch: null,
      offset: 0,
      rows: 0,
      done: false,
    };
  }

  /** The result columns a statement produces: a query's, SHOW's one text column, or FETCH's cursor's. */
  private resultColumns(statement: Statement): readonly ResultColumn[] | 'show' {
    const command = statement.command;
    if (command?.kind === 'show') return 'show';
    if (command?.kind === 'declareCursor') return [];
    if (command?.kind === 'fetch') {
      return command.move ? [] : (this.cursors.get(command.name)?.portal.statement.query?.columns ?? []);
    }
    return statement.query?.columns ?? [];
  }

  private rowDescription(statement: Statement, formats: readonly (0 | 1)[]): FieldDescription[] | null {
    if (statement.command?.kind === 'fetch' && formats.length === 0) {
      const cursor = this.cursors.get(statement.command.name);
      if (cursor) formats = cursor.portal.formats;
    }
    if (statement.command?.kind === 'show') {
      return showColumns(statement.command, this.settings).map((name, i) => ({
        name,
        tableOid: 0,
        columnAttr: 0,
        typeOid: Oid.text,
        typeSize: -1,
        typeModifier: -1,
        format: formats[i] ?? 0,
      }));
    }
    const columns = this.resultColumns(statement);
    if (columns === 'show' || columns.length === 0) return null;
    return columns.map((c, i) => {
      const t = pgTypeFor(c.type);
      return {
        name: c.name,
        tableOid: 0,
        columnAttr: 0,
        typeOid: t.oid,
        typeSize: t.typlen,
        typeModifier: t.typmod,
        format: formats[i] ?? 0,
      };
    });
  }

  /**
   * Runs a portal to completion or to `maxRows` rows (then PortalSuspended). Utility commands are run
   * by the session itself; queries go to the executor.
   */
  private async executePortal(portal: Portal, maxRows: number, onOpen?: () => void): Promise<void> {
    const { command, query } = portal.statement;
    if (command === null) {
      this.w.emptyQueryResponse();
      return;
    }
    if (command.kind !== 'query') {
      await this.runCommand(command, portal);
      return;
    }
    if (portal.done) {
      this.w.commandComplete(tagFor(query!, 0, 0));
      return;
    }
    if (this.tx === 'E') throw abortedTransaction();
    await this.guarded(async () => {
      if (!portal.cursor) {
        portal.cursor = await query!.execute(portal.params);
        onOpen?.();
      }
      // Like PostgreSQL, the tag counts the rows of this Execute, not of the whole portal.
      const before = portal.rows;
      const suspended = await this.streamRows(portal, query!.columns, maxRows);
      if (suspended) {
        this.w.portalSuspended();
        return;
      }
      portal.done = true;
      const changed = portal.cursor.rowsChanged;
      portal.cursor.close();
      this.noteSchemaChange(command, query!.tag);
      this.w.commandComplete(tagFor(query!, portal.rows - before, changed));
    });
  }

  /** Returns true when the row limit stopped it before the end of the result. */
  private async streamRows(
    portal: Portal,
    columns: readonly ResultColumn[],
    maxRows: number,
    formats: readonly (0 | 1)[] = portal.formats,
    send = true,
  ): Promise<boolean> {
    const w = this.w;
    const channel = this.init.channel;
    const ncols = columns.length;
    const codecs: ColumnCodec[] = columns.map((c) => codecFor(c.type));
    const options: EncodeOptions = {
      timeZone: this.settings.timeZone,
      extraFloatDigits: this.settings.extraFloatDigits,
    };
    // Binary columns get a writer that encodes in place where the type allows, else the codec's bytes.
    const binary: (BinaryFieldWriter | null)[] = columns.map((col, i) => {
      if (formats[i] !== 1) return null;
      const codec = codecs[i]!;
      return binaryFieldWriter(col.type) ?? ((w, v) => w.fieldBytes(codec.binary(v, options)));
    });
    let budget = maxRows > 0 ? maxRows : Number.POSITIVE_INFINITY;
    while (budget > 0) {
      if (!portal.batch || portal.offset >= portal.batch.rowCount) {
        portal.batch = await portal.cursor!.next();
        portal.offset = 0;
        if (!portal.batch) return false;
      }
      const batch = portal.batch;
      const cols = batch.columns;
      const end = Math.min(batch.rowCount, portal.offset + budget);
      for (let r = send ? portal.offset : end; r < end; r++) {
        w.beginDataRow(ncols);
        for (let c = 0; c < ncols; c++) {
          const col = cols[c]!;
          // VARCHAR values go out as the bytes the cursor copied from DuckDB, in either format.
          if (col instanceof Utf8Column) {
            if (col.isNull(r)) w.fieldNull();
            else w.fieldSlice(col.bytes, col.offsets[r]!, col.offsets[r + 1]!);
            continue;
          }
          const v = col.getItem(r);
          if (v === null || v === undefined) w.fieldNull();
          else if (binary[c]) binary[c]!(w, v);
          else w.fieldText(codecs[c]!.text(v, options));
        }
        w.endDataRow();
      }
      budget -= end - portal.offset;
      portal.rows += end - portal.offset;
      portal.offset = end;
      if (w.length >= FLUSH_BYTES) {
        channel.flush();
        await channel.drained();
        if (channel.closed) throw new PgError(SqlState.ConnectionFailure, 'client disconnected');
      }
    }
    return true;
  }

  /** Runs `fn` as the session's running statement: cancellable, and bounded by statement_timeout. */
  private async guarded<T>(fn: () => Promise<T>): Promise<T> {
    this.running = true;
    this.cancelReason = null;
    const timeoutMs = this.settings.statementTimeoutMs;
    const timer = timeoutMs > 0 ? setTimeout(() => this.cancel('statement timeout'), timeoutMs) : null;
    try {
      return await fn();
    } catch (err) {
      throw this.toError(err);
    } finally {
      if (timer) clearTimeout(timer);
      this.running = false;
      this.cancelReason = null;
    }
  }

  /** Runs SQL for the session's own bookkeeping (transaction control), discarding any rows. */
  private async execSql(sql: string): Promise<void> {
    const q = await this.executor.prepare(sql, []);
    try {
      const cursor = await q.execute([]);
      while (await cursor.next());
      cursor.close();
    } finally {
      q.close();
    }
  }

  private async runCommand(command: Exclude<SessionCommand, { kind: 'query' }>, portal: Portal) {
    const w = this.w;
    const inFailedTx = this.tx === 'E';
    switch (command.kind) {
      case 'commit':
      case 'rollback': {
        if (this.tx === 'I') {
          w.noticeResponse(
            new PgError(SqlState.NoActiveSqlTransaction, 'there is no transaction in progress', {
              severity: 'WARNING',
            }),
          );
          w.commandComplete(command.kind === 'commit' ? 'COMMIT' : 'ROLLBACK');
          return;
        }
        const commit = command.kind === 'commit' && !inFailedTx;
        this.tx = 'I';
        // Whether it committed or rolled back, the DDL it ran changes (back) what others see.
        if (this.txChangedSchema) schemaEpoch++;
        this.txChangedSchema = false;
        this.settings.endTransaction(commit);
        this.endCursors(commit);
        await this.execSql(commit ? 'COMMIT' : 'ROLLBACK');
        w.commandComplete(commit ? 'COMMIT' : 'ROLLBACK');
        return;
      }
      default:
        break;
    }
    if (inFailedTx) throw abortedTransaction();
    switch (command.kind) {
      case 'begin':
        if (this.tx !== 'I') {
          w.noticeResponse(
            new PgError(SqlState.ActiveSqlTransaction, 'there is already a transaction in progress', {
              severity: 'WARNING',
            }),
          );
        } else {
          this.settings.beginTransaction({ isolation: command.isolation, readOnly: command.readOnly });
          await this.execSql('BEGIN TRANSACTION');
          this.tx = 'T';
        }
        w.commandComplete('BEGIN');
        return;
      case 'set': {
        const { warning } = this.setting(command.name, () =>
          this.settings.set(command.name, command.value, { local: command.local }),
        );
        if (warning) w.noticeResponse(warning);
        await this.mirrorSetting(command.name);
        this.noteSchemaChange(command, undefined);
        w.commandComplete('SET');
        return;
      }
      case 'reset': {
        const { warning } = this.setting(command.name, () => this.settings.reset(command.name));
        if (warning) w.noticeResponse(warning);
        await this.mirrorSetting(command.name);
        this.noteSchemaChange(command, undefined);
        w.commandComplete('RESET');
        return;
      }
      case 'show': {
        const rows =
          command.name === 'all'
            ? this.settings.all().map((s) => [s.name, s.setting, s.description])
            : [[this.settings.get(command.name)]];
        for (const row of rows) {
          w.beginDataRow(row.length);
          for (const v of row) w.fieldText(v);
          w.endDataRow();
        }
        w.commandComplete('SHOW');
        return;
      }
      case 'setTransaction': {
        // SET SESSION CHARACTERISTICS sets the defaults; SET TRANSACTION the current block's values.
        const prefix = command.session ? 'default_' : '';
        const local = !command.session;
        const results = [];
        if (command.isolation !== undefined) {
          results.push(this.settings.set(`${prefix}transaction_isolation`, command.isolation, { local }));
        }
        if (command.readOnly !== undefined) {
          results.push(
            this.settings.set(`${prefix}transaction_read_only`, command.readOnly ? 'on' : 'off', { local }),
          );
        }
        for (const r of results) if (r.warning) w.noticeResponse(r.warning);
        w.commandComplete('SET');
        return;
      }
      case 'savepoint':
      case 'releaseSavepoint':
      case 'rollbackToSavepoint':
        throw new PgError(SqlState.FeatureNotSupported, 'savepoints are not supported');
      case 'discard':
        if (command.what === 'all') {
          if (this.tx !== 'I') {
            throw new PgError(
              SqlState.ActiveSqlTransaction,
              'DISCARD ALL cannot run inside a transaction block',
            );
          }
          for (const name of [...this.portals.keys()])
            if (this.portals.get(name) !== portal) this.dropPortal(name);
          for (const s of this.statements.values()) this.release(s);
          this.statements.clear();
          this.clearPlanCache();
          this.settings.resetAll();
          await this.mirrorSetting('TimeZone');
        }
        w.commandComplete(`DISCARD ${command.what.toUpperCase()}`);
        return;
      case 'listen':
      case 'unlisten':
      case 'notify':
        w.commandComplete(command.kind.toUpperCase());
        return;
      case 'deallocate':
        if (command.name === 'all') {
          for (const s of this.statements.values()) this.release(s);
          this.statements.clear();
          w.commandComplete('DEALLOCATE ALL');
        } else {
          if (!this.statements.has(command.name)) {
            throw new PgError(
              SqlState.InvalidSqlStatementName,
              `prepared statement "${command.name}" does not exist`,
            );
          }
          const statement = this.statements.get(command.name);
          this.statements.delete(command.name);
          this.release(statement);
          w.commandComplete('DEALLOCATE');
        }
        return;
      case 'declareCursor': {
        if (!command.hold && this.tx === 'I') {
          throw new PgError(
            SqlState.NoActiveSqlTransaction,
            'DECLARE CURSOR can only be used in transaction blocks',
          );
        }
        if (this.cursors.has(command.name)) {
          throw new PgError(SqlState.DuplicateCursor, `cursor "${command.name}" already exists`);
        }
        const columns = portal.statement.query!.columns;
        // The cursor's portal runs the DECLAREd query as a plain query statement.
        const cursorStatement: Statement = {
          ...portal.statement,
          command: { kind: 'query', sql: portal.statement.sql },
        };
        const cursorPortal = this.newPortal(
          cursorStatement,
          portal.params,
          columns.map(() => (command.binary ? 1 : 0)),
        );
        await this.guarded(async () => {
          cursorPortal.cursor = await portal.statement.query!.execute(portal.params);
        });
        this.cursors.set(command.name, { portal: cursorPortal, hold: command.hold });
        w.commandComplete('DECLARE CURSOR');
        return;
      }
      case 'fetch': {
        const cursor = this.cursors.get(command.name);
        if (!cursor) throw new PgError(SqlState.InvalidCursorName, `cursor "${command.name}" does not exist`);
        const cp = cursor.portal;
        const before = cp.rows;
        const formats = portal.formats.length > 0 ? portal.formats : cp.formats;
        if (!cp.done && command.count > 0) {
          const limit = command.count === Number.POSITIVE_INFINITY ? 0 : command.count;
          await this.guarded(async () => {
            const suspended = await this.streamRows(
              cp,
              cp.statement.query!.columns,
              limit,
              formats,
              !command.move,
            );
            if (!suspended) cp.done = true;
          });
        }
        w.commandComplete(`${command.move ? 'MOVE' : 'FETCH'} ${cp.rows - before}`);
        return;
      }
      case 'closeCursor':
        if (command.name === 'all') {
          for (const c of this.cursors.values()) c.portal.cursor?.close();
          this.cursors.clear();
        } else {
          const cursor = this.cursors.get(command.name);
          if (!cursor)
            throw new PgError(SqlState.InvalidCursorName, `cursor "${command.name}" does not exist`);
          cursor.portal.cursor?.close();
          this.cursors.delete(command.name);
        }
        w.commandComplete('CLOSE CURSOR');
        return;
      case 'copyFromStdin': {
        const rows = await this.guarded(() => copyIn(this.copyContext(), command));
        w.commandComplete(`COPY ${rows}`);
        return;
      }
      case 'copyToStdout': {
        const rows = await this.guarded(() => copyOut(this.copyContext(), command));
        w.commandComplete(`COPY ${rows}`);
        return;
      }
      default:
        throw new PgError(
          SqlState.FeatureNotSupported,
          `${(command as SessionCommand).kind} is not supported`,
        );
    }
  }

  /**
   * At transaction end cursors close, except WITH HOLD ones after COMMIT. Those keep their rows: the
   * executor reads an open DuckDB stream into memory before the COMMIT runs on the connection.
   */
  private endCursors(commit: boolean): void {
    for (const [name, c] of this.cursors) {
      if (commit && c.hold) continue;
      c.portal.cursor?.close();
      this.cursors.delete(name);
    }
  }

  /** DuckDB's own configuration is the sandbox: naming one of its options is refused, not unknown. */
  private setting<T>(name: string, apply: () => T): T {
    try {
      return apply();
    } catch (err) {
      if (
        err instanceof PgError &&
        err.code === SqlState.UndefinedObject &&
        DUCKDB_OPTIONS.has(name.toLowerCase())
      ) {
        throw new PgError(SqlState.InsufficientPrivilege, `permission denied to set parameter "${name}"`);
      }
      throw err;
    }
  }

  /** Settings DuckDB must see too: TimeZone drives its timestamptz casts and functions. */
  private async mirrorSetting(name: string): Promise<void> {
    const key = name.toLowerCase();
    if (key !== 'timezone' && key !== 'all') return;
    await this.executor.setTimeZone?.(this.settings.duckdbTimeZone);
  }

  private copyContext() {
    return {
      channel: this.init.channel,
      executor: this.executor,
      settings: this.settings,
      inTransaction: this.tx !== 'I',
      rewrite: (sql: string) => rewriteQuery(sql, this.rewriteContext(), this.parser),
    };
  }
}

const DUCKDB_OPTIONS = new Set(Object.keys(configurationOptionDescriptions()).map((n) => n.toLowerCase()));

/** Rethrows with the error position moved from the statement to the whole Query string. */
function throwAt(err: unknown, offset: number): never {
  if (err instanceof PgError && err.fields.position !== undefined && offset > 0) {
    throw new PgError(
      err.code,
      err.message,
      { ...err.fields, position: err.fields.position + offset },
      { cause: err },
    );
  }
  throw err;
}

/** Statements that run their own transaction control, so a multi-statement Query is not wrapped around them. */
function isTransactionControl(c: SessionCommand): boolean {
  return c.kind === 'begin' || c.kind === 'commit' || c.kind === 'rollback' || c.kind === 'copyFromStdin';
}

function abortedTransaction(): PgError {
  return new PgError(
    SqlState.InFailedSqlTransaction,
    'current transaction is aborted, commands ignored until end of transaction block',
  );
}

function showColumns(
  command: Extract<SessionCommand, { kind: 'show' }>,
  settings: SessionSettings,
): string[] {
  return command.name === 'all' ? ['name', 'setting', 'description'] : [settings.canonicalName(command.name)];
}

function tagFor(query: PreparedQuery, rowsSent: number, rowsChanged: number): string {
  if (!query.tagHasCount) return query.tag;
  // With a result set (SELECT, or DML with RETURNING) the count is the rows sent.
  return `${query.tag} ${query.columns.length > 0 ? rowsSent : rowsChanged}`;
}
