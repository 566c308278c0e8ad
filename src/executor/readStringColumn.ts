import { DuckDBBlobVector, DuckDBVarCharVector } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { gatherStrings } from '../../worker/stringRuns.js';
import type { Column } from './Executor.js';

/**
 * Rows `from` to `to` of one VARCHAR or BLOB column, as one byte buffer: row `from + i` is
 * `bytes[offsets[i] .. offsets[i + 1])` (UTF-8 for VARCHAR), or NULL where `isNull(i)`.
 */
export interface StringColumnBytes {
  readonly bytes: Uint8Array;
  /** `to - from + 1` offsets into `bytes`; a NULL row is empty. */
  readonly offsets: Int32Array;
  /** DuckDB's validity bitmap (LSB first) over the whole vector, or null when every row is valid. */
  readonly validity: Uint8Array | null;
  readonly from: number;
}

/** True when row `from + i` of `column` is NULL. */
export function isNullAt(column: StringColumnBytes, i: number): boolean {
  const v = column.validity;
  if (v === null) return false;
  const row = column.from + i;
  return (v[row >> 3]! & (1 << (row & 7))) === 0;
}

/** The fields of @duckdb/node-api 1.5's string vectors that the bulk read needs (private in its types). */
interface RawStringVector {
  readonly vector?: duckdb.Vector;
  readonly itemOffset?: number;
  readonly itemCount: number;
}

/**
 * Reads rows `from` to `to` (exclusive) of a VARCHAR or BLOB column in bulk, or returns null when the
 * column is not a whole @duckdb/node-api string vector (an adapted Arrow column, a slice): read those
 * per value with getItem.
 *
 * getItem reads each heap string (over 12 bytes) with a native call that allocates, then decodes it to a
 * JS string that the DataRow writer encodes back to UTF-8: about 0.7 µs a value. Here the column's 16-byte
 * string_t entries are read once; inline strings are copied from them, and runs of heap strings whose
 * bytes touch (each starts where the previous one ended, as a materialized chunk stores them) are read
 * with one native call per run. Every byte of such a run belongs to one of its strings, so the read never
 * leaves memory DuckDB handed out.
 */
export function readStringColumn(column: Column, from: number, to: number): StringColumnBytes | null {
  if (!(column instanceof DuckDBVarCharVector) && !(column instanceof DuckDBBlobVector)) return null;
  const raw = column as unknown as RawStringVector;
  const vector = raw.vector;
  if (vector === undefined || raw.itemOffset !== 0 || to > raw.itemCount || from < 0 || from > to)
    return null;
  const rows = to - from;
  if (rows === 0) return { bytes: new Uint8Array(0), offsets: new Int32Array(1), validity: null, from };
  const entries = duckdb.vector_get_data(vector, to * 16);
  const mask = duckdb.vector_get_validity(vector, Math.ceil(to / 64) * 8);
  const validity = mask ? mask.slice(0, Math.ceil(to / 8)) : null;
  // string_t entries as 32-bit words: [length, prefix or inline bytes, pointer low, pointer high].
  const words = new Uint32Array(entries.buffer, entries.byteOffset, to * 4);
  const offsets = new Int32Array(rows + 1);
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const row = from + i;
    if (validity === null || (validity[row >> 3]! & (1 << (row & 7))) !== 0) total += words[row * 4]!;
    offsets[i + 1] = total;
  }
  const bytes = gatherStrings(entries, from, offsets);
  return { bytes, offsets, validity, from };
}
