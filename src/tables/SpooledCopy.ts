import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PgError } from '../../protocol/pg/PgError.js';
import type { ColumnDef } from '../catalog/CatalogModel.js';
import { STAGING_DIR } from '../catalog/dataPaths.js';
import { INTEGER_TYPES } from '../planner/sqlText.js';
import type { CopyOptions } from '../sql/classifyStatement.js';
import { quoteIdent, quoteLiteral } from '../storage/sqlText.js';
import type { BulkLoad } from '../storage/TableStorage.js';

/** What a COPY FROM STDIN load ended with: its rows, or the data to send the row-by-row way. */
export type CopyOutcome = { readonly rows: number } | { readonly replay: () => AsyncIterable<Buffer> };

/**
 * A COPY FROM STDIN that the table layer loads itself (see TableExecutor.openCopy): the session hands
 * it every CopyData payload, then asks for the outcome at CopyDone. It must be closed either way.
 */
export interface CopyLoad {
  /** The next CopyData payload. A promise when the caller must wait before sending more. */
  push(data: Buffer): Promise<void> | undefined;
  finish(): Promise<CopyOutcome>;
  close(): Promise<void>;
}

/** A session executor that can take COPY FROM STDIN data whole (TableExecutor). */
export interface BulkCopyTarget {
  /** A load for this COPY, or null when it is to go row by row (INSERTs of decoded rows). */
  openCopy(command: {
    readonly table: string;
    readonly columns: readonly string[] | null;
    readonly options: CopyOptions;
  }): Promise<CopyLoad | null>;
}

export function isBulkCopyTarget(x: unknown): x is BulkCopyTarget {
  return typeof (x as Partial<BulkCopyTarget>).openCopy === 'function';
}

/** One target column of the table and where its value comes from: a field of the data, or its default. */
export interface CopyColumn {
  readonly column: ColumnDef;
  /** Index of the field in each data line, or -1 for a column the COPY does not list. */
  readonly field: number;
}

/** Bytes gathered in memory before they are written to the spool file. */
const SPOOL_BUFFER = 1 << 20;
/**
 * A spool part is loaded once it holds about this much: some 1M rows of TPC-H lineitem, the rows of
 * one balanced file (see TableStorage's rowGroupsPerFile).
 */
const PART_BYTES = 64 << 20;

const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const DOT = 0x2e;

/** Types whose text DuckDB reads as PostgreSQL does (for well-formed input; see castField). */
const DIRECT_TYPES: ReadonlySet<string> = new Set([
  'BOOLEAN',
  ...INTEGER_TYPES,
  'FLOAT',
  'DOUBLE',
  'VARCHAR',
  'DATE',
  'TIMESTAMP',
  'UUID',
]);

/** Whether COPY data for a column of this type can be read by DuckDB's CSV reader. */
export function copyableType(type: string): boolean {
  return DIRECT_TYPES.has(type) || type.startsWith('DECIMAL(');
}

/** Whether the options describe data DuckDB's CSV reader splits exactly as PostgreSQL does. */
export function copyableOptions(o: CopyOptions): boolean {
  if (o.format === 'binary' || o.forceNotNull !== undefined || o.forceNull !== undefined) return false;
  if (o.encoding !== undefined && o.encoding.toUpperCase().replaceAll('-', '') !== 'UTF8') return false;
  const delimiter = o.delimiter ?? (o.format === 'csv' ? ',' : '\t');
  if (Buffer.byteLength(delimiter) !== 1 || delimiter === '\n' || delimiter === '\r') return false;
  if (o.format === 'csv') {
    const quote = o.quote ?? '"';
    // Splitting the stream at safe points assumes the escape only doubles the quote.
    return Buffer.byteLength(quote) === 1 && (o.escape ?? quote) === quote;
  }
  // Text format: only data without backslash escapes (checked as it arrives), with \N for NULL.
  return (o.null ?? '\\N') === '\\N';
}

/**
 * COPY data spooled to files in the data directory's staging area as it arrives (memory stays
 * bounded), read with DuckDB's parallel CSV reader straight into Parquet files, written once. The
 * spool is cut into parts of about PART_BYTES at row boundaries, and each part is loaded while the
 * next one arrives; the constraints are checked once, over all of them, at CopyDone.
 *
 * The fast path reads only what DuckDB reads as PostgreSQL does. Anything it cannot vouch for sends the
 * whole COPY back, as `replay`, to the session's row-by-row decoder, which applies PostgreSQL's input
 * rules and reports a bad row by line and column exactly as before: text-format backslash escapes,
 * empty lines, carriage returns, NUL bytes, an end-of-data marker, a value DuckDB refuses, or an
 * integer written with a fraction, an exponent, a hex prefix or separators (DuckDB would round or
 * accept it where PostgreSQL refuses). A constraint violation is final: the rows are PostgreSQL's.
 */
export class SpooledCopy implements CopyLoad {
  readonly #dir: string;
  readonly #id = randomUUID();
  readonly #options: CopyOptions;
  readonly #columns: readonly CopyColumn[];
  readonly #fields: number;
  readonly #openLoad: () => BulkLoad;
  readonly #partBytes: number;
  #load: BulkLoad | null = null;
  /** Spool files, in data order; the last one is being written. */
  readonly #parts: string[] = [];
  #file: FileHandle | null = null;
  #partSize = 0;
  readonly #buffer = Buffer.allocUnsafe(SPOOL_BUFFER);
  #buffered = 0;
  /** Loads of finished parts, at most #parallel at a time. */
  readonly #loads: Promise<void>[] = [];
  readonly #parallel: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  #loaded = 0;
  /** Why the fast path cannot take this data, once known. */
  #unfit: string | null = null;
  /** The byte before the current payload (a line feed at the start). */
  #prev = LF;
  /** Text format: a `\N` ended the last payload and must be followed by a delimiter or a line end. */
  #nullAtEnd = false;
  /** CSV: inside a quoted field at the end of the data so far. */
  #inQuote = false;
  readonly #delimiter: number;
  readonly #quote: number;
  #bytes = 0;

  constructor(
    dataDir: string,
    options: CopyOptions,
    columns: readonly CopyColumn[],
    fields: number,
    load: () => BulkLoad,
    partBytes = PART_BYTES,
    parallel = 1,
  ) {
    this.#dir = join(dataDir, STAGING_DIR);
    this.#options = options;
    this.#columns = columns;
    this.#fields = fields;
    this.#openLoad = load;
    this.#partBytes = partBytes;
    this.#parallel = Math.max(1, parallel);
    this.#delimiter = (options.delimiter ?? (options.format === 'csv' ? ',' : '\t')).charCodeAt(0);
    this.#quote = options.format === 'csv' ? (options.quote ?? '"').charCodeAt(0) : -1;
  }

  /** Why the data went row by row, or null: for logs and tests. */
  get unfit(): string | null {
    return this.#unfit;
  }

  /** How many spool parts were loaded while the data was arriving (and before CopyDone). */
  get partsLoaded(): number {
    return this.#loaded;
  }

  push(data: Buffer): Promise<void> | undefined {
    if (data.length === 0) return undefined;
    if (this.#unfit === null) this.#inspect(data);
    this.#bytes += data.length;
    if (this.#unfit === null && this.#partSize + this.#buffered + data.length >= this.#partBytes) {
      const cut = this.#rowEnd(data);
      if (cut >= 0) return this.#cut(data, cut);
    }
    this.#trackQuotes(data, 0, data.length);
    return this.#append(data);
  }

  async finish(): Promise<CopyOutcome> {
    await this.#flush();
    await this.#file?.close();
    this.#file = null;
    if (this.#bytes === 0) return { rows: 0 };
    if (this.#unfit === null) this.#loadPart(this.#parts.length - 1);
    await Promise.all(this.#loads);
    if (this.#unfit !== null) {
      await this.#load?.abort();
      return { replay: () => this.#replay() };
    }
    try {
      return { rows: await this.#load!.finish() };
    } catch (err) {
      // Rows that were read but break a constraint: PostgreSQL's error, whichever way they were read.
      if (err instanceof PgError && err.code.startsWith('23')) throw err;
      this.#unfit = `the load failed: ${err instanceof Error ? err.message : String(err)}`;
      return { replay: () => this.#replay() };
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#loads);
    await this.#file?.close().catch(() => {});
    this.#file = null;
    for (const p of this.#parts) await rm(p, { force: true });
  }

  /**
   * Starts loading a finished part once fewer than #parallel loads run (the load's writeFiles runs on
   * the workers when it is parallel; one at a time on the coordinator).
   */
  #loadPart(index: number): void {
    const path = this.#parts[index]!;
    const header = index === 0 && this.#options.header === true;
    this.#load ??= this.#openLoad();
    const load = this.#load;
    const parallel = load.parallel ? this.#parallel : 1;
    const run = async () => {
      if (this.#unfit !== null) return;
      try {
        await load.writeFiles([`${STAGING_DIR}/${basename(path)}`], (files) =>
          this.#sourceSql(files, header),
        );
        this.#loaded++;
      } catch (err) {
        this.#unfit ??= `DuckDB refused the data: ${err instanceof Error ? err.message : String(err)}`;
      }
    };
    const slot =
      this.#running < parallel
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.#waiting.push(resolve);
          });
    this.#running++;
    this.#loads.push(
      slot.then(run).finally(() => {
        this.#running--;
        this.#waiting.shift()?.();
      }),
    );
  }

  /** The rows of spool parts (`files`, SQL for their list), one column per table column in table order. */
  #sourceSql(files: string, header: boolean): string {
    const o = this.#options;
    const csv = o.format === 'csv';
    const fieldNames = Array.from({ length: this.#fields }, (_, i) => `f${i}`);
    const columnTypes = fieldNames.map((n) => `${quoteLiteral(n)}: 'VARCHAR'`).join(', ');
    const args = [
      files,
      `columns = {${columnTypes}}`,
      'auto_detect = false',
      `header = ${header ? 'true' : 'false'}`,
      `delim = ${quoteLiteral(o.delimiter ?? (csv ? ',' : '\t'))}`,
      `quote = ${quoteLiteral(csv ? (o.quote ?? '"') : '')}`,
      `escape = ${quoteLiteral(csv ? (o.escape ?? o.quote ?? '"') : '')}`,
      `nullstr = ${quoteLiteral(o.null ?? (csv ? '' : '\\N'))}`,
      // PostgreSQL reads a quoted NULL marker as the string itself.
      'allow_quoted_nulls = false',
      'strict_mode = true',
      "new_line = '\\n'",
      'parallel = true',
    ];
    const select = this.#columns.map((c) => {
      if (c.field < 0) {
        const d = c.column.default;
        return d ? `CAST((${d}) AS ${c.column.type})` : `CAST(NULL AS ${c.column.type})`;
      }
      return castField(quoteIdent(`f${c.field}`), c.column.type);
    });
    return `SELECT ${select.join(', ')} FROM read_csv(${args.join(', ')})`;
  }

  async *#replay(): AsyncIterable<Buffer> {
    for (const path of this.#parts) {
      for await (const chunk of createReadStream(path, { highWaterMark: SPOOL_BUFFER })) {
        yield chunk as Buffer;
      }
    }
  }

  /** Ends the current part after `data[0, cut)`, starts loading it, and spools the rest in a new one. */
  async #cut(data: Buffer, cut: number): Promise<void> {
    const head = data.subarray(0, cut);
    this.#trackQuotes(head, 0, head.length);
    await this.#append(head);
    await this.#flush();
    await this.#file?.close();
    this.#file = null;
    this.#partSize = 0;
    this.#loadPart(this.#parts.length - 1);
    const tail = data.subarray(cut);
    this.#trackQuotes(tail, 0, tail.length);
    if (tail.length) await this.#append(tail);
  }

  /** Just past the last line end of `data` that is outside a quoted field, or -1. */
  #rowEnd(data: Buffer): number {
    if (this.#quote < 0) {
      const nl = data.lastIndexOf(LF);
      return nl < 0 ? -1 : nl + 1;
    }
    let inQuote = this.#inQuote;
    let end = -1;
    for (let i = 0; i < data.length; i++) {
      const c = data[i]!;
      if (c === this.#quote) inQuote = !inQuote;
      else if (c === LF && !inQuote) end = i + 1;
    }
    return end;
  }

  /** Keeps #inQuote: with the escape equal to the quote, every quote byte toggles it. */
  #trackQuotes(data: Buffer, from: number, to: number): void {
    if (this.#quote < 0) return;
    for (let i = data.indexOf(this.#quote, from); i >= 0 && i < to; i = data.indexOf(this.#quote, i + 1)) {
      this.#inQuote = !this.#inQuote;
    }
  }

  #append(data: Buffer): Promise<void> | undefined {
    if (this.#buffered + data.length <= SPOOL_BUFFER) {
      data.copy(this.#buffer, this.#buffered);
      this.#buffered += data.length;
      return undefined;
    }
    return this.#spill(data);
  }

  async #spill(data: Buffer): Promise<void> {
    await this.#flush();
    if (data.length >= SPOOL_BUFFER) {
      await this.#write(data);
      return;
    }
    data.copy(this.#buffer, 0);
    this.#buffered = data.length;
  }

  async #flush(): Promise<void> {
    if (!this.#buffered) return;
    const n = this.#buffered;
    this.#buffered = 0;
    await this.#write(this.#buffer.subarray(0, n));
  }

  async #write(bytes: Buffer): Promise<void> {
    if (!this.#file) {
      if (!this.#parts.length) await mkdir(this.#dir, { recursive: true });
      const path = join(this.#dir, `copy-${this.#id}-${this.#parts.length}.dat`);
      this.#parts.push(path);
      this.#file = await open(path, 'w');
    }
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await this.#file.write(bytes, off, bytes.length - off);
      off += bytesWritten;
    }
    this.#partSize += bytes.length;
  }

  /** Looks for what DuckDB's reader would take differently from PostgreSQL's; see the class comment. */
  #inspect(data: Buffer): void {
    const reason = this.#misfit(data);
    if (reason !== null) this.#unfit = reason;
    this.#prev = data[data.length - 1]!;
  }

  /** Why DuckDB's reader could read `data` differently from PostgreSQL, or null. */
  #misfit(data: Buffer): string | null {
    const first = data[0]!;
    if (this.#nullAtEnd) {
      this.#nullAtEnd = false;
      if (first !== this.#delimiter && first !== LF) return 'a backslash escape';
    }
    if (data.indexOf(0) >= 0) return 'a NUL byte';
    if (data.indexOf(CR) >= 0) return 'a carriage return';
    if ((this.#prev === LF && first === LF) || data.indexOf('\n\n') >= 0) return 'an empty line';
    const text = this.#options.format !== 'csv';
    for (let i = data.indexOf(BACKSLASH); i >= 0; i = data.indexOf(BACKSLASH, i + 1)) {
      if (!text) {
        // `\.` ends the data in PostgreSQL's CSV too; one split across payloads is refused as well.
        if (data[i + 1] === DOT || i === data.length - 1) return 'an end-of-data marker';
        continue;
      }
      const before = i === 0 ? this.#prev : data[i - 1]!;
      if (data[i + 1] !== 0x4e /* N */ || (before !== this.#delimiter && before !== LF)) {
        return 'a backslash escape';
      }
      if (i + 2 >= data.length) this.#nullAtEnd = true;
      else if (data[i + 2] !== this.#delimiter && data[i + 2] !== LF) return 'a backslash escape';
    }
    return null;
  }
}

/**
 * A VARCHAR field as the column's type. DuckDB reads integers PostgreSQL refuses (`1.5` rounded,
 * `1e3`, `0x10`, `1_000`), so an integer field must read back as the very text it came from; anything
 * else (those, but also `+5`, ` 5` or `007`, which PostgreSQL accepts) fails here and sends the COPY to
 * the row-by-row decoder and its PostgreSQL rules. One cast back costs a third of testing for each odd
 * character.
 */
function castField(field: string, type: string): string {
  if (!INTEGER_TYPES.has(type)) return `CAST(${field} AS ${type})`;
  return `CASE WHEN CAST(CAST(${field} AS ${type}) AS VARCHAR) <> ${field} THEN error('not an integer') ELSE CAST(${field} AS ${type}) END`;
}
