import {
  type DuckDBDataChunk,
  type DuckDBDecimalType,
  type DuckDBType,
  DuckDBTypeId,
} from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import * as arrow from 'apache-arrow';
import { stringVectorBytes } from './stringRuns.js';

/**
 * Turns DuckDB result chunks into Arrow record batches, column by column, straight from the vectors'
 * memory: fixed-width values are copied as whole typed arrays and validity masks as bytes (DuckDB and
 * Arrow both use LSB-first bitmaps), never through per-row JS values.
 *
 * Native: BOOLEAN, TINYINT..BIGINT, UTINYINT..UBIGINT, FLOAT, DOUBLE, HUGEINT (as decimal128(38,0)),
 * DECIMAL (widened to decimal128), DATE, TIME, TIMESTAMP (s, ms, µs, ns; WITH TIME ZONE as UTC), VARCHAR,
 * BLOB and NULL. Every other type (INTERVAL, UUID, ENUM, LIST, STRUCT, MAP, TIME WITH TIME ZONE, BIT,
 * UHUGEINT, ...) travels as its DuckDB text rendering in a Utf8 column. Every field carries its DuckDB type
 * in the metadata key `duckdb.type`, so the coordinator knows what a text column stands for.
 */

/** Field metadata key holding the column's DuckDB type, e.g. `DECIMAL(12,2)` or `INTEGER[]`. */
export const DUCKDB_TYPE_METADATA = 'duckdb.type';

/** One column of one chunk as Arrow data, plus the bytes it occupies. */
interface Encoded {
  data: arrow.Data;
  bytes: number;
}

type ColumnEncoder = (chunk: DuckDBDataChunk, column: number, rows: number) => Encoded;

const textEncoder = new TextEncoder();

function vectorOf(chunk: DuckDBDataChunk, column: number): duckdb.Vector {
  return duckdb.data_chunk_get_vector(chunk.chunk, column);
}

/** The column's validity as an Arrow null bitmap and null count; no bitmap when every row is valid. */
function validityOf(vector: duckdb.Vector, rows: number): { nullBitmap?: Uint8Array; nullCount: number } {
  const words = Math.ceil(rows / 64);
  const mask = duckdb.vector_get_validity(vector, words * 8);
  if (!mask) return { nullCount: 0 };
  const bytes = Math.ceil(rows / 8);
  const bitmap = mask.slice(0, bytes);
  let valid = 0;
  const whole = rows >> 3;
  for (let i = 0; i < whole; i++) valid += POPCOUNT[bitmap[i]!]!;
  const rest = rows & 7;
  if (rest > 0) valid += POPCOUNT[bitmap[whole]! & ((1 << rest) - 1)]!;
  if (valid === rows) return { nullCount: 0 };
  return { nullBitmap: bitmap, nullCount: rows - valid };
}

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1]!;

/** Fixed-width values: one copy of the vector's data buffer. */
function fixedWidth<T extends arrow.DataType>(type: T, width: number): ColumnEncoder {
  return (chunk, column, rows) => {
    const vector = vectorOf(chunk, column);
    const raw = duckdb.vector_get_data(vector, rows * width).slice();
    const validity = validityOf(vector, rows);
    const values = new (type.ArrayType as TypedArrayCtor)(raw.buffer, 0, rows);
    // makeData's overloads are per type class; this one function serves all the fixed-width classes.
    const data: arrow.Data = arrow.makeData({ type, length: rows, data: values, ...validity } as never);
    return { data, bytes: raw.byteLength + (validity.nullBitmap?.byteLength ?? 0) };
  };
}

type TypedArrayCtor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayBufferView;

/** DuckDB stores a BOOLEAN per byte, Arrow per bit. */
const booleanEncoder: ColumnEncoder = (chunk, column, rows) => {
  const vector = vectorOf(chunk, column);
  const raw = duckdb.vector_get_data(vector, rows);
  const bits = new Uint8Array(Math.ceil(rows / 8));
  for (let i = 0; i < rows; i++) if (raw[i] !== 0) bits[i >> 3]! |= 1 << (i & 7);
  const validity = validityOf(vector, rows);
  const data = arrow.makeData({ type: new arrow.Bool(), length: rows, data: bits, ...validity });
  return { data, bytes: bits.byteLength + (validity.nullBitmap?.byteLength ?? 0) };
};

/**
 * DuckDB keeps a DECIMAL in 2, 4, 8 or 16 bytes by width; Arrow's decimal128 always takes 16, so narrower
 * ones are sign-extended word by word (32-bit words, little-endian, no BigInt per row).
 */
function decimalEncoder(width: number, scale: number): ColumnEncoder {
  const type = new arrow.Decimal(scale, width, 128);
  const storage = width <= 4 ? 2 : width <= 9 ? 4 : width <= 18 ? 8 : 16;
  return (chunk, column, rows) => {
    const vector = vectorOf(chunk, column);
    const raw = duckdb.vector_get_data(vector, rows * storage);
    const out = new Uint32Array(rows * 4);
    if (storage === 16) {
      out.set(new Uint32Array(raw.slice().buffer, 0, rows * 4));
    } else if (storage === 8) {
      const src = new Int32Array(raw.buffer, raw.byteOffset, rows * 2);
      for (let i = 0; i < rows; i++) {
        const hi = src[2 * i + 1]!;
        const sign = hi >> 31;
        out[4 * i] = src[2 * i]!;
        out[4 * i + 1] = hi;
        out[4 * i + 2] = sign;
        out[4 * i + 3] = sign;
      }
    } else {
      const src =
        storage === 4
          ? new Int32Array(raw.buffer, raw.byteOffset, rows)
          : new Int16Array(raw.buffer, raw.byteOffset, rows);
      for (let i = 0; i < rows; i++) {
        const v = src[i]!;
        const sign = v >> 31;
        out[4 * i] = v;
        out[4 * i + 1] = sign;
        out[4 * i + 2] = sign;
        out[4 * i + 3] = sign;
      }
    }
    const validity = validityOf(vector, rows);
    const data = arrow.makeData({ type, length: rows, data: out, ...validity });
    return { data, bytes: out.byteLength + (validity.nullBitmap?.byteLength ?? 0) };
  };
}

/**
 * VARCHAR and BLOB are 16-byte string_t entries: a u32 length, then the bytes inline when they fit in 12,
 * else a 4-byte prefix and a pointer into DuckDB's string heap. Long strings were the worker's dearest
 * values until gatherStrings (via stringVectorBytes) read touching ones in one native call per run.
 */
function stringEncoder(type: arrow.Utf8 | arrow.Binary): ColumnEncoder {
  return (chunk, column, rows) => {
    const vector = vectorOf(chunk, column);
    const validity = validityOf(vector, rows);
    const { bytes, offsets } = stringVectorBytes(vector, rows, validity.nullBitmap);
    // Utf8 and Binary share one layout; makeData's overloads only differ in name.
    const data = arrow.makeData({
      type: type as arrow.Utf8,
      length: rows,
      valueOffsets: offsets,
      data: bytes,
      ...validity,
    });
    return { data, bytes: bytes.byteLength + offsets.byteLength + (validity.nullBitmap?.byteLength ?? 0) };
  };
}

/** Any other type: DuckDB's own text rendering of each value. */
const textFallbackEncoder: ColumnEncoder = (chunk, column, rows) => {
  const vector = chunk.getColumnVector(column);
  const offsets = new Int32Array(rows + 1);
  const parts: Uint8Array[] = [];
  let nullBitmap: Uint8Array | undefined;
  let nullCount = 0;
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const value = vector.getItem(i);
    if (value === null) {
      nullBitmap ??= new Uint8Array(Math.ceil(rows / 8)).fill(0xff);
      nullBitmap[i >> 3]! &= ~(1 << (i & 7));
      nullCount++;
    } else {
      const encoded = textEncoder.encode(String(value));
      parts.push(encoded);
      total += encoded.byteLength;
    }
    offsets[i + 1] = total;
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.byteLength;
  }
  const data = arrow.makeData({
    type: new arrow.Utf8(),
    length: rows,
    valueOffsets: offsets,
    data: bytes,
    nullCount,
    ...(nullBitmap ? { nullBitmap } : {}),
  });
  return { data, bytes: bytes.byteLength + offsets.byteLength };
};

const nullEncoder: ColumnEncoder = (_chunk, _column, rows) => ({
  data: arrow.makeData({ type: new arrow.Null(), length: rows }),
  bytes: 0,
});

/** The Arrow type and encoder for one DuckDB column type, chosen once per result. */
function encoderFor(type: DuckDBType): { arrowType: arrow.DataType; encode: ColumnEncoder } {
  const fixed = <T extends arrow.DataType>(arrowType: T, width: number) => ({
    arrowType,
    encode: fixedWidth(arrowType, width),
  });
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { arrowType: new arrow.Bool(), encode: booleanEncoder };
    case DuckDBTypeId.TINYINT:
      return fixed(new arrow.Int8(), 1);
    case DuckDBTypeId.SMALLINT:
      return fixed(new arrow.Int16(), 2);
    case DuckDBTypeId.INTEGER:
      return fixed(new arrow.Int32(), 4);
    case DuckDBTypeId.BIGINT:
      return fixed(new arrow.Int64(), 8);
    case DuckDBTypeId.UTINYINT:
      return fixed(new arrow.Uint8(), 1);
    case DuckDBTypeId.USMALLINT:
      return fixed(new arrow.Uint16(), 2);
    case DuckDBTypeId.UINTEGER:
      return fixed(new arrow.Uint32(), 4);
    case DuckDBTypeId.UBIGINT:
      return fixed(new arrow.Uint64(), 8);
    case DuckDBTypeId.FLOAT:
      return fixed(new arrow.Float32(), 4);
    case DuckDBTypeId.DOUBLE:
      return fixed(new arrow.Float64(), 8);
    case DuckDBTypeId.DATE:
      return fixed(new arrow.DateDay(), 4);
    case DuckDBTypeId.TIME:
      return fixed(new arrow.TimeMicrosecond(), 8);
    case DuckDBTypeId.TIMESTAMP:
      return fixed(new arrow.TimestampMicrosecond(), 8);
    case DuckDBTypeId.TIMESTAMP_S:
      return fixed(new arrow.TimestampSecond(), 8);
    case DuckDBTypeId.TIMESTAMP_MS:
      return fixed(new arrow.TimestampMillisecond(), 8);
    case DuckDBTypeId.TIMESTAMP_NS:
      return fixed(new arrow.TimestampNanosecond(), 8);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return fixed(new arrow.TimestampMicrosecond('UTC'), 8);
    case DuckDBTypeId.HUGEINT:
      return { arrowType: new arrow.Decimal(0, 38, 128), encode: decimalEncoder(38, 0) };
    case DuckDBTypeId.DECIMAL: {
      const { width, scale } = type as DuckDBDecimalType;
      return { arrowType: new arrow.Decimal(scale, width, 128), encode: decimalEncoder(width, scale) };
    }
    case DuckDBTypeId.VARCHAR:
      return { arrowType: new arrow.Utf8(), encode: stringEncoder(new arrow.Utf8()) };
    case DuckDBTypeId.BLOB:
      return { arrowType: new arrow.Binary(), encode: stringEncoder(new arrow.Binary()) };
    case DuckDBTypeId.SQLNULL:
      return { arrowType: new arrow.Null(), encode: nullEncoder };
    default:
      return { arrowType: new arrow.Utf8(), encode: textFallbackEncoder };
  }
}

/**
 * True when `type` travels as text (the fallback): its values must then be rendered by DuckDB's own
 * `CAST(... AS VARCHAR)`, which the coordinator casts back exactly. node-api's JS rendering of nested
 * values does not escape quotes or backslashes inside LIST/STRUCT/MAP, so it cannot be used.
 */
export function travelsAsText(type: DuckDBType): boolean {
  return encoderFor(type).encode === textFallbackEncoder;
}

/** Encodes the chunks of one result, whose columns are fixed when the encoder is built. */
export class ArrowChunkEncoder {
  readonly schema: arrow.Schema;
  private readonly encoders: ColumnEncoder[];
  private readonly structType: arrow.Struct;

  constructor(names: readonly string[], types: readonly DuckDBType[]) {
    const fields: arrow.Field[] = [];
    this.encoders = [];
    for (let i = 0; i < types.length; i++) {
      const { arrowType, encode } = encoderFor(types[i]!);
      const metadata = new Map([[DUCKDB_TYPE_METADATA, String(types[i])]]);
      fields.push(new arrow.Field(names[i]!, arrowType, true, metadata));
      this.encoders.push(encode);
    }
    this.schema = new arrow.Schema(fields);
    this.structType = new arrow.Struct(fields);
  }

  /** One chunk as one record batch, and the bytes its buffers take (an estimate of its IPC size). */
  encode(chunk: DuckDBDataChunk): { batch: arrow.RecordBatch; bytes: number } {
    const rows = chunk.rowCount;
    const children: arrow.Data[] = [];
    let bytes = 0;
    for (let c = 0; c < this.encoders.length; c++) {
      const encoded = this.encoders[c]!(chunk, c, rows);
      children.push(encoded.data);
      bytes += encoded.bytes;
    }
    const data = arrow.makeData({ type: this.structType, length: rows, nullCount: 0, children });
    return { batch: new arrow.RecordBatch(this.schema, data), bytes };
  }
}

/** Arrow IPC stream bytes (schema, the batches, end-of-stream) for one result batch message. */
export function encodeIpcStream(batches: readonly arrow.RecordBatch[]): Uint8Array {
  return arrow.RecordBatchStreamWriter.writeAll(batches).toUint8Array(true);
}
