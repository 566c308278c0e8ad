import type { DuckDBDataChunk } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { stringVectorBytes } from '../../worker/stringRuns.js';
import type { Column } from './Executor.js';

/**
 * One chunk's VARCHAR column copied out of DuckDB as UTF-8: row `i` is `bytes[offsets[i] .. offsets[i + 1])`,
 * or NULL where the validity bit is clear. The session writes these bytes into DataRows as they are
 * (a text value's bytes are the same in PostgreSQL's text and binary formats); getItem decodes a JS
 * string for every other reader.
 *
 * Reading through node-api costs a native call that allocates per string over 12 bytes, a UTF-8 decode
 * to a JS string, and the DataRow writer's encode back to UTF-8. Here a chunk's 16-byte string_t entries
 * are read once and heap strings whose bytes touch are copied in one call per run (gatherStrings).
 */
export class Utf8Column implements Column {
  private text: Buffer | null = null;

  constructor(
    readonly itemCount: number,
    readonly bytes: Uint8Array,
    readonly offsets: Int32Array,
    /** DuckDB's validity bitmap (LSB first), or null when every row is valid. */
    private readonly validity: Uint8Array | null,
  ) {}

  isNull(row: number): boolean {
    const v = this.validity;
    return v !== null && (v[row >> 3]! & (1 << (row & 7))) === 0;
  }

  getItem(row: number): string | null {
    if (this.isNull(row)) return null;
    this.text ??= Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.text.toString('utf8', this.offsets[row]!, this.offsets[row + 1]!);
  }
}

/**
 * Copies column `column` (VARCHAR) of `chunk`'s `rows` rows. Call it while the chunk is held and before
 * the stream is asked for its next chunk: the entries and heap strings are DuckDB's memory.
 */
export function readUtf8Column(chunk: DuckDBDataChunk, column: number, rows: number): Utf8Column {
  const vector = duckdb.data_chunk_get_vector(chunk.chunk, column);
  const mask = duckdb.vector_get_validity(vector, Math.ceil(rows / 64) * 8);
  const validity = mask ? mask.slice(0, Math.ceil(rows / 8)) : null;
  const { bytes, offsets } = stringVectorBytes(vector, rows, validity);
  return new Utf8Column(rows, bytes, offsets, validity);
}
