import { isUtf8 } from 'node:buffer';
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDataChunk,
  type DuckDBDecimalType,
  type DuckDBType,
  DuckDBTypeId,
} from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import * as arrow from 'apache-arrow';
import { quoteIdent } from '../storage/sqlText.js';

/** One column of a stage's result: its name and its DuckDB type as DuckDB spells it, e.g. `DECIMAL(15,2)`. */
export interface StageColumn {
  name: string;
  type: string;
}

/**
 * Field metadata key under which workers put each column's DuckDB type (worker/ArrowChunkEncoder.ts writes
 * it; src/ may not import worker/, so the key is repeated here).
 */
const DUCKDB_TYPE_METADATA = 'duckdb.type';

/** Rows of one data chunk: DuckDB's vector size (2048). */
const VECTOR_SIZE = duckdb.vector_size();

/**
 * Writes rows [start, start + rows) of one Arrow column into a vector of a freshly reset data chunk, whose
 * validity is all-valid. `scratch` is the loader's reusable staging buffer (16 bytes per row).
 */
type ColumnWriter = (
  vector: duckdb.Vector,
  data: arrow.Data,
  start: number,
  rows: number,
  scratch: Scratch,
) => void;

interface Scratch {
  bytes: Uint8Array;
  words: Uint32Array;
  halves: Uint16Array;
}

/** How one stage column travels from the worker and is stored here. */
interface ColumnPlan {
  readonly name: string;
  /** DuckDB's spelling of the stage type, as the worker also writes it in the field metadata. */
  readonly duckdbType: string;
  /** The type the view exposes (DuckDB's spelling, or `JSON` for the JSON alias). */
  readonly viewType: string;
  /** The raw table's storage type. */
  readonly rawType: string;
  /** The Arrow type the worker's encoder produces for this DuckDB type. */
  readonly arrowType: arrow.DataType;
  readonly write: ColumnWriter;
  /** Utf8 columns become VARCHAR, which must be valid UTF-8. */
  readonly utf8: boolean;
}

/**
 * Loads workers' Arrow record batches into the coordinator's DuckDB: a TEMP table `<name>_raw` stores each
 * column in the type its Arrow encoding maps onto, and a TEMP VIEW `<name>` exposes the stage's exact
 * columns, casting the text-travelling types (INTERVAL, UUID, ENUM, LIST, STRUCT, ...) back from VARCHAR.
 *
 * Batches go in as whole data chunks of up to 2,048 rows through DuckDB's appender: fixed-width Arrow
 * buffers are copied straight into the vectors, validity bitmaps byte-wise (both LSB-first; re-aligned when
 * a sliced batch starts mid-byte), short strings as ready-made string_t entries, long ones one native call
 * each. Nothing becomes a per-row JS value.
 *
 * Text-travelling values come back exactly when DuckDB's VARCHAR cast reads the worker's rendering. Today
 * the worker renders with node-api's toString, not DuckDB's own cast, and these do not come back: MAP
 * (`{k: v}` where DuckDB reads `{k=v}`: the view's query fails), UNION (the member tag is lost), GEOMETRY
 * (rendered as WKB bytes), VARIANT (the value types are lost), and inside LIST/STRUCT/MAP/ARRAY: strings
 * holding `'` or `\` (silently altered), BLOBs, and ±infinity DATE, TIMESTAMP_S and TIMESTAMP_MS.
 *
 * Type strings come from DuckDB itself (the planner's column types, the worker's field metadata); DuckDB
 * parses and binds them in a prepared statement that is never executed, and only its own spelling of the
 * resolved types reaches the DDL.
 */
export class ArrowBatchLoader {
  /** The view's name; the raw table is `<name>_raw`. */
  readonly name: string;
  readonly columns: readonly StageColumn[];
  private readonly connection: DuckDBConnection;
  private readonly plans: readonly ColumnPlan[];
  private readonly appender: DuckDBAppender;
  private readonly chunk: DuckDBDataChunk;
  private readonly vectors: duckdb.Vector[];
  private readonly scratch: Scratch;
  /** The last schema found to match the plans; batches of one result share their schema object. */
  private checkedSchema: arrow.Schema | null = null;
  private rowCount = 0;
  private dropped = false;

  private constructor(
    connection: DuckDBConnection,
    name: string,
    columns: readonly StageColumn[],
    plans: readonly ColumnPlan[],
    appender: DuckDBAppender,
  ) {
    this.connection = connection;
    this.name = name;
    this.columns = columns;
    this.plans = plans;
    this.appender = appender;
    const rawTypes: DuckDBType[] = [];
    for (let i = 0; i < plans.length; i++) rawTypes.push(appender.columnType(i));
    this.chunk = DuckDBDataChunk.create(rawTypes);
    this.vectors = rawTypes.map((_, i) => duckdb.data_chunk_get_vector(this.chunk.chunk, i));
    const buffer = new ArrayBuffer(VECTOR_SIZE * 16);
    this.scratch = {
      bytes: new Uint8Array(buffer),
      words: new Uint32Array(buffer),
      halves: new Uint16Array(buffer),
    };
  }

  /**
   * Creates (on `conn`) a TEMP table `<name>_raw` with storage types chosen for the Arrow encoding, and a
   * TEMP VIEW `<name>` with exactly `columns` (names and types; CASTs from the raw storage where needed).
   * Fails if either name is taken. Each type is resolved by DuckDB and written back in DuckDB's own
   * spelling.
   */
  static async create(
    conn: DuckDBConnection,
    name: string,
    columns: readonly StageColumn[],
  ): Promise<ArrowBatchLoader> {
    if (columns.length === 0) throw new Error('a stage result needs at least one column');
    const types = await resolveTypes(conn, columns);
    const plans = columns.map((column, i) => planColumn(column.name, types[i]!));
    const raw = `${name}_raw`;
    const rawColumns = plans.map((p) => `${quoteIdent(p.name)} ${p.rawType}`).join(', ');
    await conn.run(`CREATE TEMP TABLE ${quoteIdent(raw)} (${rawColumns})`);
    let viewCreated = false;
    try {
      const select = plans
        .map((p) =>
          p.rawType === p.viewType
            ? quoteIdent(p.name)
            : `CAST(${quoteIdent(p.name)} AS ${p.viewType}) AS ${quoteIdent(p.name)}`,
        )
        .join(', ');
      await conn.run(`CREATE TEMP VIEW ${quoteIdent(name)} AS SELECT ${select} FROM ${quoteIdent(raw)}`);
      viewCreated = true;
      const appender = await conn.createAppender(raw, 'main', 'temp');
      return new ArrowBatchLoader(conn, name, columns, plans, appender);
    } catch (err) {
      // Only what this call created: a view of that name may belong to someone else.
      if (viewCreated) await conn.run(`DROP VIEW IF EXISTS temp.main.${quoteIdent(name)}`);
      await conn.run(`DROP TABLE IF EXISTS temp.main.${quoteIdent(raw)}`);
      throw err;
    }
  }

  /** Rows appended since creation or the last clear(). */
  get rows(): number {
    return this.rowCount;
  }

  /**
   * Appends one batch, columns by position, and flushes it, so the view shows it at once. A batch whose
   * columns do not match the stage's (count, Arrow type, the DuckDB type in the field metadata) or whose
   * text is not valid UTF-8 throws and appends nothing.
   */
  append(batch: arrow.RecordBatch): void {
    this.appendAll([batch]);
  }

  /**
   * Appends several batches with one flush at the end. A flush is a DuckDB transaction (about 0.3 ms
   * here) and costs more than writing a 2,048-row batch, so a consumer holding several batches should
   * hand them over together. A refused batch throws after the batches before it are appended; it and
   * those after it are not.
   */
  appendAll(batches: Iterable<arrow.RecordBatch>): void {
    if (this.dropped) throw new Error(`${this.name} was dropped`);
    let pending = 0;
    let refusal: unknown;
    for (const batch of batches) {
      try {
        this.check(batch);
      } catch (err) {
        refusal = err;
        break;
      }
      try {
        this.write(batch);
      } catch (err) {
        // DuckDB refused a chunk: drop what the appender holds unflushed rather than flush half a batch.
        this.appender.clear();
        throw err;
      }
      pending += batch.numRows;
    }
    if (pending > 0) {
      this.appender.flushSync();
      this.rowCount += pending;
    }
    if (refusal !== undefined) throw refusal;
  }

  private write(batch: arrow.RecordBatch): void {
    const total = batch.numRows;
    const children = batch.data.children;
    const { plans, vectors, scratch, chunk } = this;
    for (let start = 0; start < total; start += VECTOR_SIZE) {
      const rows = Math.min(VECTOR_SIZE, total - start);
      // A reset chunk has every vector all-valid again, and an empty string heap.
      chunk.reset();
      for (let c = 0; c < plans.length; c++) plans[c]!.write(vectors[c]!, children[c]!, start, rows, scratch);
      duckdb.data_chunk_set_size(chunk.chunk, rows);
      this.appender.appendDataChunk(chunk);
    }
  }

  /** Deletes all rows (for per-batch streaming merges); appends may follow. */
  async clear(): Promise<void> {
    await this.connection.run(`DELETE FROM temp.main.${quoteIdent(`${this.name}_raw`)}`);
    this.rowCount = 0;
  }

  /** Drops the view and the raw table; the loader is unusable afterwards. */
  async drop(): Promise<void> {
    if (this.dropped) return;
    this.dropped = true;
    this.appender.closeSync();
    await this.connection.run(`DROP VIEW IF EXISTS temp.main.${quoteIdent(this.name)}`);
    await this.connection.run(`DROP TABLE IF EXISTS temp.main.${quoteIdent(`${this.name}_raw`)}`);
  }

  /** Throws unless the batch's columns are the stage's and its text is valid UTF-8. */
  private check(batch: arrow.RecordBatch): void {
    if (batch.schema !== this.checkedSchema) {
      this.checkSchema(batch.schema);
      this.checkedSchema = batch.schema;
    }
    const children = batch.data.children;
    for (let c = 0; c < this.plans.length; c++) {
      const plan = this.plans[c]!;
      if (plan.utf8 && !isUtf8Column(children[c]!)) {
        throw new Error(`${this.name} column ${c + 1} (${plan.name}) holds text that is not valid UTF-8`);
      }
    }
  }

  private checkSchema(schema: arrow.Schema): void {
    if (schema.fields.length !== this.plans.length) {
      throw new Error(
        `${this.name} expects ${this.plans.length} columns, the batch has ${schema.fields.length}`,
      );
    }
    for (let i = 0; i < this.plans.length; i++) {
      const plan = this.plans[i]!;
      const field = schema.fields[i]!;
      const declared = field.metadata.get(DUCKDB_TYPE_METADATA);
      if (declared !== undefined && declared !== plan.duckdbType) {
        throw new Error(
          `${this.name} column ${i + 1} (${plan.name}) is ${plan.duckdbType}, the batch's is ${declared}`,
        );
      }
      if (!sameArrowType(field.type, plan.arrowType)) {
        throw new Error(
          `${this.name} column ${i + 1} (${plan.name}) of type ${plan.duckdbType} travels as Arrow ` +
            `${plan.arrowType}, the batch's is ${field.type}`,
        );
      }
    }
  }
}

/**
 * True when every value of a Utf8 column is valid UTF-8, which DuckDB requires of a VARCHAR and the string
 * writer no longer checks value by value. The values are checked as one run, then each value's first byte
 * must start a character: a run of whole characters cut at character starts is whole characters.
 */
function isUtf8Column(data: arrow.Data): boolean {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const from = offsets[0]!;
  const to = offsets[data.length]!;
  if (from === to) return true;
  if (!isUtf8(bytes.subarray(from, to))) return false;
  for (let i = 1; i < data.length; i++) {
    const at = offsets[i]!;
    if (at < to && (bytes[at]! & 0xc0) === 0x80) return false;
  }
  return true;
}

/**
 * Arrow type equality by id and rendering (which spells widths, signedness, units, time zone, precision and
 * scale), plus the decimal's bit width. arrow.util.compareTypes is not used: it tells an IPC-decoded Int of
 * width 32 from an Int32, and a missing time zone (undefined) from a decoded one (null).
 */
function sameArrowType(a: arrow.DataType, b: arrow.DataType): boolean {
  if (a.typeId !== b.typeId || String(a) !== String(b)) return false;
  return !arrow.DataType.isDecimal(a) || a.bitWidth === (b as arrow.Decimal).bitWidth;
}

/** DuckDB's own reading of each type string, through one prepared (never executed) statement. */
async function resolveTypes(conn: DuckDBConnection, columns: readonly StageColumn[]): Promise<DuckDBType[]> {
  const select = columns.map((c, i) => `CAST(NULL AS ${c.type}) AS c${i}`).join(', ');
  let prepared: Awaited<ReturnType<DuckDBConnection['prepare']>>;
  try {
    prepared = await conn.prepare(`SELECT ${select}`);
  } catch (err) {
    throw new Error(`cannot read the stage's column types (${columns.map((c) => c.type).join(', ')})`, {
      cause: err,
    });
  }
  try {
    // A type string that smuggled in more select items would show up as extra columns.
    if (prepared.columnCount !== columns.length) {
      throw new Error(`the stage's column types are not ${columns.length} types`);
    }
    const types: DuckDBType[] = [];
    for (let i = 0; i < columns.length; i++) types.push(prepared.columnType(i));
    return types;
  } finally {
    prepared.destroySync();
  }
}

/** The raw storage, the Arrow type the worker sends and the writer for one DuckDB type. */
function planColumn(name: string, type: DuckDBType): ColumnPlan {
  const duckdbType = String(type);
  // node-api spells the JSON alias as its VARCHAR storage; the view restores the alias.
  const viewType = type.typeId === DuckDBTypeId.VARCHAR && type.alias === 'JSON' ? 'JSON' : duckdbType;
  const same = (arrowType: arrow.DataType, write: ColumnWriter): ColumnPlan => ({
    name,
    duckdbType,
    viewType,
    rawType: duckdbType,
    arrowType,
    write,
    utf8: arrowType instanceof arrow.Utf8,
  });
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return same(new arrow.Bool(), writeBoolean);
    case DuckDBTypeId.TINYINT:
      return same(new arrow.Int8(), fixedWidth(1));
    case DuckDBTypeId.SMALLINT:
      return same(new arrow.Int16(), fixedWidth(2));
    case DuckDBTypeId.INTEGER:
      return same(new arrow.Int32(), fixedWidth(4));
    case DuckDBTypeId.BIGINT:
      return same(new arrow.Int64(), fixedWidth(8));
    case DuckDBTypeId.UTINYINT:
      return same(new arrow.Uint8(), fixedWidth(1));
    case DuckDBTypeId.USMALLINT:
      return same(new arrow.Uint16(), fixedWidth(2));
    case DuckDBTypeId.UINTEGER:
      return same(new arrow.Uint32(), fixedWidth(4));
    case DuckDBTypeId.UBIGINT:
      return same(new arrow.Uint64(), fixedWidth(8));
    case DuckDBTypeId.FLOAT:
      return same(new arrow.Float32(), fixedWidth(4));
    case DuckDBTypeId.DOUBLE:
      return same(new arrow.Float64(), fixedWidth(8));
    case DuckDBTypeId.DATE:
      return same(new arrow.DateDay(), fixedWidth(4));
    case DuckDBTypeId.TIME:
      return same(new arrow.TimeMicrosecond(), fixedWidth(8));
    // Each timestamp keeps its unit: the worker copies DuckDB's int64 as is, so the raw column has the
    // same unit and the copy back is exact (TIMESTAMP WITH TIME ZONE is UTC µs on both sides).
    case DuckDBTypeId.TIMESTAMP:
      return same(new arrow.TimestampMicrosecond(), fixedWidth(8));
    case DuckDBTypeId.TIMESTAMP_S:
      return same(new arrow.TimestampSecond(), fixedWidth(8));
    case DuckDBTypeId.TIMESTAMP_MS:
      return same(new arrow.TimestampMillisecond(), fixedWidth(8));
    case DuckDBTypeId.TIMESTAMP_NS:
      return same(new arrow.TimestampNanosecond(), fixedWidth(8));
    case DuckDBTypeId.TIMESTAMP_TZ:
      return same(new arrow.TimestampMicrosecond('UTC'), fixedWidth(8));
    // HUGEINT's range exceeds DECIMAL(38,0)'s, so it is stored as HUGEINT, not as the decimal it travels as.
    case DuckDBTypeId.HUGEINT:
      return same(new arrow.Decimal(0, 38, 128), fixedWidth(16));
    case DuckDBTypeId.DECIMAL: {
      const { width, scale } = type as DuckDBDecimalType;
      // Stored in its own width (2, 4, 8 or 16 bytes), so the view needs no cast.
      const storage = width <= 4 ? 2 : width <= 9 ? 4 : width <= 18 ? 8 : 16;
      return same(
        new arrow.Decimal(scale, width, 128),
        storage === 16 ? fixedWidth(16) : narrowDecimal(storage),
      );
    }
    case DuckDBTypeId.VARCHAR:
      return same(new arrow.Utf8(), writeStrings);
    case DuckDBTypeId.BLOB:
      return same(new arrow.Binary(), writeStrings);
    default:
      // Everything else travels as DuckDB text in a Utf8 column, stored as VARCHAR and cast in the view.
      return {
        name,
        duckdbType,
        viewType,
        rawType: 'VARCHAR',
        arrowType: new arrow.Utf8(),
        write: writeStrings,
        utf8: true,
      };
  }
}

/**
 * Copies the Arrow null bitmap's bits for the rows into the vector's validity. Arrow's bitmap of a sliced
 * column starts `data.offset` bits in; when that is not a whole byte the bits are shifted into place.
 */
function writeValidity(
  vector: duckdb.Vector,
  data: arrow.Data,
  start: number,
  rows: number,
  s: Scratch,
): void {
  if (data.nullCount === 0) return;
  const bitmap = data.nullBitmap!;
  const bit = data.offset + start;
  const bytes = (rows + 7) >> 3;
  duckdb.vector_ensure_validity_writable(vector);
  const from = bit >> 3;
  const shift = bit & 7;
  if (shift === 0) {
    duckdb.copy_data_to_vector_validity(
      vector,
      0,
      bitmap.buffer as ArrayBuffer,
      bitmap.byteOffset + from,
      bytes,
    );
    return;
  }
  const out = s.bytes;
  const last = bitmap.length - 1;
  for (let i = 0; i < bytes; i++) {
    const at = from + i;
    out[i] = (bitmap[at]! >> shift) | (at < last ? bitmap[at + 1]! << (8 - shift) : 0);
  }
  duckdb.copy_data_to_vector_validity(vector, 0, out.buffer as ArrayBuffer, 0, bytes);
}

/** Fixed-width values are laid out alike in Arrow and DuckDB: one copy per vector. */
function fixedWidth(width: number): ColumnWriter {
  return (vector, data, start, rows, scratch) => {
    // Arrow JS slices fixed-width value buffers, so row 0 of `data` is element 0 of `values`.
    const values = data.values as ArrayBufferView;
    duckdb.copy_data_to_vector(
      vector,
      0,
      values.buffer as ArrayBuffer,
      values.byteOffset + start * width,
      rows * width,
    );
    writeValidity(vector, data, start, rows, scratch);
  };
}

/** Arrow packs booleans in bits (from `data.offset`, as it never slices them), DuckDB keeps a byte each. */
const writeBoolean: ColumnWriter = (vector, data, start, rows, scratch) => {
  const bits = data.values as Uint8Array;
  const out = scratch.bytes;
  const first = data.offset + start;
  for (let i = 0; i < rows; i++) {
    const bit = first + i;
    out[i] = (bits[bit >> 3]! >> (bit & 7)) & 1;
  }
  duckdb.copy_data_to_vector(vector, 0, out.buffer as ArrayBuffer, 0, rows);
  writeValidity(vector, data, start, rows, scratch);
};

/**
 * A DECIMAL of width ≤ 18 arrives widened to decimal128 (16 bytes, little-endian two's complement); its
 * low 2, 4 or 8 bytes are DuckDB's storage for it.
 */
function narrowDecimal(storage: 2 | 4 | 8): ColumnWriter {
  return (vector, data, start, rows, scratch) => {
    const words = data.values as Uint32Array;
    const base = start * 4;
    if (storage === 8) {
      const out = scratch.words;
      for (let i = 0; i < rows; i++) {
        out[2 * i] = words[base + 4 * i]!;
        out[2 * i + 1] = words[base + 4 * i + 1]!;
      }
    } else if (storage === 4) {
      const out = scratch.words;
      for (let i = 0; i < rows; i++) out[i] = words[base + 4 * i]!;
    } else {
      const out = scratch.halves;
      for (let i = 0; i < rows; i++) out[i] = words[base + 4 * i]!;
    }
    duckdb.copy_data_to_vector(vector, 0, scratch.bytes.buffer as ArrayBuffer, 0, rows * storage);
    writeValidity(vector, data, start, rows, scratch);
  };
}

/** DuckDB keeps strings of up to 12 bytes inside their 16-byte string_t entry. */
const INLINE_BYTES = 12;

/**
 * Utf8 and Binary. DuckDB's string_t is 16 bytes: a u32 length, then the bytes themselves when they fit in
 * 12 (zero-padded, which DuckDB's comparisons rely on), else a 4-byte prefix and a pointer to the bytes.
 *
 * Every entry is built here and copied with the vector in one call. For long strings, the chunk's whole
 * run of Arrow value bytes is first copied into the vector's string heap as one string (one native call,
 * where a call per string cost about 1 µs each); its heap address is read back from that entry, and each
 * long string's entry then points at its own bytes inside the copy. The heap belongs to the vector until
 * the chunk is reset, which is after the appender has copied the rows into the table.
 *
 * Every row is written, NULL ones too (Arrow gives them no bytes, so an empty entry): a reset chunk still
 * holds the previous chunk's entries, whose pointers into the freed heap must never be left where DuckDB
 * might read them.
 */
const writeStrings: ColumnWriter = (vector, data, start, rows, scratch) => {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const entries = scratch.bytes;
  const words = scratch.words;
  entries.fill(0, 0, rows * 16);
  const first = offsets[start]!;
  let long = false;
  for (let i = 0; i < rows && !long; i++) long = offsets[start + i + 1]! - offsets[start + i]! > INLINE_BYTES;
  // The heap address of the chunk's value bytes, as two 32-bit halves (little-endian).
  let low = 0;
  let high = 0;
  if (long) {
    duckdb.vector_assign_string_element_len(vector, 0, bytes.subarray(first, offsets[start + rows]!));
    const entry = new Uint32Array(duckdb.vector_get_data(vector, 16).slice().buffer);
    low = entry[2]!;
    high = entry[3]!;
  }
  let from = first;
  for (let i = 0; i < rows; i++) {
    const to = offsets[start + i + 1]!;
    const length = to - from;
    words[i << 2] = length;
    // Inline bytes, or the 4-byte prefix of a heap string.
    let at = (i << 4) + 4;
    const end = length > INLINE_BYTES ? from + 4 : to;
    for (let k = from; k < end; k++) entries[at++] = bytes[k]!;
    if (length > INLINE_BYTES) {
      const pointer = low + (from - first);
      words[(i << 2) + 2] = pointer >>> 0;
      words[(i << 2) + 3] = high + Math.floor(pointer / 0x1_0000_0000);
    }
    from = to;
  }
  duckdb.copy_data_to_vector(vector, 0, entries.buffer as ArrayBuffer, 0, rows * 16);
  writeValidity(vector, data, start, rows, scratch);
};
