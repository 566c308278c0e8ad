import type { DuckDBConnection } from '@duckdb/node-api';
import { codecFor } from '../../protocol/pg/types/codecFor.js';
import type { EncodeOptions } from '../../protocol/pg/types/PgType.js';

/** A result as a PostgreSQL client reads it in text: column names, whether each is a float, and the values. */
export interface TextResult {
  readonly names: readonly string[];
  readonly floats: readonly boolean[];
  readonly rows: readonly (readonly (string | null)[])[];
}

const ENCODE: EncodeOptions = { timeZone: 'UTC', extraFloatDigits: 1 };

/**
 * Runs `sql` on single-node DuckDB (the oracle) and renders every value with the codecs Mallard's sessions
 * use, so the expected text is what a correct server sends for DuckDB's own answer.
 */
export async function oracleRows(conn: DuckDBConnection, sql: string): Promise<TextResult> {
  const reader = await conn.runAndReadAll(sql);
  const types = reader.columnTypes();
  const codecs = types.map((t) => codecFor(t));
  const rows = reader
    .getRows()
    .map((row) => row.map((value, c) => (value === null ? null : codecs[c]!.text(value, ENCODE))));
  return {
    names: reader.columnNames(),
    floats: types.map((t) => t.toString() === 'DOUBLE' || t.toString() === 'FLOAT'),
    rows,
  };
}

/** Why two results' values differ, or undefined when they match (unordered unless `ordered`; floats to 1e-9). */
export function compareText(expected: TextResult, actual: TextResult, ordered: boolean): string | undefined {
  // Names are not compared: Mallard names columns as PostgreSQL does (count, not count_star()).
  if (expected.names.length !== actual.names.length)
    return `expected ${expected.names.length} columns, got ${actual.names.length}`;
  if (expected.rows.length !== actual.rows.length)
    return `expected ${expected.rows.length} rows, got ${actual.rows.length}`;
  const floats = expected.floats;
  const sort = (rows: readonly (readonly (string | null)[])[]) => {
    if (ordered) return rows;
    const key = (row: readonly (string | null)[]) =>
      JSON.stringify(row.map((v, i) => (floats[i] && v !== null ? Number(Number(v).toPrecision(6)) : v)));
    return [...rows]
      .map((row) => ({ row, key: key(row) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((x) => x.row);
  };
  const exp = sort(expected.rows);
  const act = sort(actual.rows);
  for (let r = 0; r < exp.length; r++) {
    for (let c = 0; c < floats.length; c++) {
      const e = exp[r]![c] ?? null;
      const a = act[r]![c] ?? null;
      if (e === a) continue;
      if (floats[c] && e !== null && a !== null) {
        const x = Number(e);
        const y = Number(a);
        if (Math.abs(x - y) <= Math.max(1e-9 * Math.max(Math.abs(x), Math.abs(y)), 1e-12)) continue;
      }
      return `row ${r}, column ${c}: expected ${JSON.stringify(exp[r])}, got ${JSON.stringify(act[r])}`;
    }
  }
  return undefined;
}
