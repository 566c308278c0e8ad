import duckdb from '@duckdb/node-bindings';

/** DuckDB keeps strings of up to 12 bytes inside their 16-byte string_t entry. */
export const INLINE_BYTES = 12;

/**
 * The bytes of the strings of rows `from` to `from + offsets.length - 1` of a DuckDB string vector, whose
 * 16-byte string_t entries (a u32 length, then the bytes inline when they fit in 12, else a 4-byte prefix
 * and a pointer into DuckDB's string heap) are `entries`, from row 0. `offsets` are where each row's
 * bytes go in the result (cumulative lengths, a NULL row empty).
 *
 * Reading one heap string is a native call that allocates (about 1 µs). A materialized result stores a
 * chunk's heap strings one after the other, so consecutive long strings whose bytes touch (each starts
 * exactly where the previous one ended) are read in one call: every byte of such a run belongs to one of
 * its strings, so the read never leaves memory DuckDB handed out. A TPC-H column of 22,000 long strings
 * takes about 45 calls instead of 22,000.
 */
export function gatherStrings(entries: Uint8Array, from: number, offsets: Int32Array): Uint8Array {
  const rows = offsets.length - 1;
  // string_t entries as 32-bit words: [length, prefix or inline bytes, pointer low, pointer high].
  const words = new Uint32Array(entries.buffer, entries.byteOffset, (from + rows) * 4);
  const bytes = new Uint8Array(offsets[rows]!);
  // The run of touching heap strings being gathered: its first row (relative), heap address and bytes.
  let runRow = -1;
  let runStart = 0;
  let runBytes = 0;
  const flush = (end: number) => {
    const heap = duckdb.get_data_from_pointer(
      entries.buffer as ArrayBuffer,
      entries.byteOffset + (from + runRow) * 16 + 8,
      runBytes,
    );
    // The run's strings lie apart in the output only where inline strings sit between them: each
    // stretch without one is one copy.
    let read = 0;
    let copied = 0;
    let at = offsets[runRow]!;
    for (let i = runRow; i < end; i++) {
      const length = offsets[i + 1]! - offsets[i]!;
      if (length === 0) continue;
      if (length > INLINE_BYTES) {
        read += length;
        continue;
      }
      if (read > copied) bytes.set(heap.subarray(copied, read), at);
      copied = read;
      at = offsets[i + 1]!;
    }
    if (read > copied) bytes.set(heap.subarray(copied, read), at);
    runRow = -1;
  };
  for (let i = 0; i < rows; i++) {
    const start = offsets[i]!;
    const length = offsets[i + 1]! - start;
    if (length === 0) continue;
    const row = from + i;
    if (length <= INLINE_BYTES) {
      const at = row * 16 + 4;
      for (let k = 0; k < length; k++) bytes[start + k] = entries[at + k]!;
      continue;
    }
    // Pointers fit a double exactly (user-space addresses are under 2^53).
    const pointer = words[row * 4 + 3]! * 0x1_0000_0000 + words[row * 4 + 2]!;
    if (runRow >= 0 && pointer !== runStart + runBytes) flush(i);
    if (runRow < 0) {
      runRow = i;
      runStart = pointer;
      runBytes = 0;
    }
    runBytes += length;
  }
  if (runRow >= 0) flush(rows);
  return bytes;
}

/**
 * The bytes of a flat VARCHAR or BLOB vector's first `rows` strings, one after another, and where each
 * row's begin (`offsets`, `rows + 1` of them; a NULL row, whose bit in `validity` is clear, is empty).
 * Read while the vector's chunk is held: the entries and heap strings are DuckDB's memory.
 */
export function stringVectorBytes(
  vector: duckdb.Vector,
  rows: number,
  validity: Uint8Array | null | undefined,
): { bytes: Uint8Array; offsets: Int32Array } {
  const entries = duckdb.vector_get_data(vector, rows * 16);
  // string_t entries as 32-bit words: [length, prefix or inline bytes, pointer low, pointer high].
  const words = new Uint32Array(entries.buffer, entries.byteOffset, rows * 4);
  const offsets = new Int32Array(rows + 1);
  let total = 0;
  for (let i = 0; i < rows; i++) {
    if (!validity || (validity[i >> 3]! & (1 << (i & 7))) !== 0) total += words[i * 4]!;
    offsets[i + 1] = total;
  }
  return { bytes: gatherStrings(entries, 0, offsets), offsets };
}
