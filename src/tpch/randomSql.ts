import { stringList } from '../storage/sqlText.js';

// SQL expressions for the generator's pseudo-random values. A value is DuckDB's hash() of the row's key
// plus a per-column stream offset: a pure function of (column, key), so any row of any table can be
// recomputed anywhere (the orders' totals re-derive their lines' prices) and output is identical on every
// run of the same DuckDB version. hash() of one BIGINT is a full 64-bit mix; combining arguments inside
// hash(a, b) is only an XOR of two mixes, which would make different columns of one row correlated.

/** Keys stay below 2^40 so a key plus a stream offset never crosses into another stream. */
const KEY_BITS = 40n;
/** Stream ids stay below 2^22 so stream << 40 plus a key fits a signed BIGINT. */
const STREAM_SPACE = 1n << 22n;

const streams = new Map<bigint, string>();

/** FNV-1a of the stream's name, so a stream is named where it is used and needs no central registry. */
function streamOffset(name: string): bigint {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  const id = BigInt(h) % STREAM_SPACE;
  const owner = streams.get(id);
  if (owner !== undefined && owner !== name) throw new Error(`random streams ${owner} and ${name} collide`);
  streams.set(id, name);
  return id << KEY_BITS;
}

/**
 * A uniform integer in [lo, hi] drawn from stream `stream` for the row whose key is the BIGINT
 * expression `key` (below 2^40).
 */
export function rnd(stream: string, key: string, lo: number, hi: number): string {
  const draw = `CAST(hash(${key} + ${streamOffset(stream)}) % ${hi - lo + 1} AS BIGINT)`;
  return lo === 0 ? draw : `(${lo} + ${draw})`;
}

/** One of `values`, uniformly. */
export function pick(stream: string, key: string, values: readonly string[]): string {
  return `${stringList(values)}[${rnd(stream, key, 1, values.length)}]`;
}
