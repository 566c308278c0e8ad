import type { DuckDBConnection } from '@duckdb/node-api';
import type pg from 'pg';

/** A query's answer from single-node DuckDB: column names, DuckDB type names, rows as JSON values. */
export interface DuckAnswer {
  readonly columns: readonly string[];
  readonly types: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

/** A query's answer through the PostgreSQL protocol: column names, type OIDs, rows as the server's text. */
export interface PgAnswer {
  readonly columns: readonly string[];
  readonly typeIds: readonly number[];
  readonly rows: readonly (readonly (string | null)[])[];
}

export async function duckAnswer(conn: DuckDBConnection, sql: string): Promise<DuckAnswer> {
  const reader = await conn.runAndReadAll(sql);
  return {
    columns: reader.columnNames(),
    types: reader.columnTypes().map((t) => t.toString()),
    rows: reader.getRowsJson() as unknown[][],
  };
}

/** Every value exactly as the server sent it in text format: no client-side parsing to hide a difference. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

export async function pgAnswer(client: pg.Client, sql: string): Promise<PgAnswer> {
  const result = await client.query<(string | null)[]>({ text: sql, rowMode: 'array', types: RAW_TEXT });
  return {
    columns: result.fields.map((f) => f.name),
    typeIds: result.fields.map((f) => f.dataTypeID),
    rows: result.rows,
  };
}

/** PostgreSQL type OIDs a DuckDB result type may arrive as. */
function pgTypeIds(duckType: string): readonly number[] | undefined {
  if (duckType.startsWith('DECIMAL') || duckType === 'HUGEINT') return [1700];
  switch (duckType) {
    case 'BIGINT':
      return [20];
    case 'INTEGER':
      return [23];
    case 'SMALLINT':
      return [21];
    case 'DOUBLE':
      return [701];
    case 'FLOAT':
      return [700];
    case 'DATE':
      return [1082];
    case 'VARCHAR':
      return [25, 1043];
    default:
      return undefined;
  }
}

/** Columns compared numerically with a relative tolerance: floating point, and decimals (text from pg). */
function isApproximate(duckType: string): boolean {
  return duckType === 'DOUBLE' || duckType === 'FLOAT' || duckType.startsWith('DECIMAL');
}

function close(a: number, b: number, tolerance: number): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= tolerance * Math.max(Math.abs(a), Math.abs(b));
}

/** Sorts rows of text cells: exact columns as text first, then approximate ones by value. */
function sortRows(rows: (string | null)[][], approximate: readonly boolean[]): (string | null)[][] {
  const exact = approximate.flatMap((a, i) => (a ? [] : [i]));
  const approx = approximate.flatMap((a, i) => (a ? [i] : []));
  const text = (v: string | null) => (v === null ? '\u0000null' : v);
  return [...rows].sort((x, y) => {
    for (const i of exact) {
      const a = text(x[i]!);
      const b = text(y[i]!);
      if (a !== b) return a < b ? -1 : 1;
    }
    for (const i of approx) {
      const a = x[i] === null ? Number.NEGATIVE_INFINITY : Number(x[i]);
      const b = y[i] === null ? Number.NEGATIVE_INFINITY : Number(y[i]);
      if (a !== b) return a - b;
    }
    return 0;
  });
}

/**
 * The names PostgreSQL gives the TPC-H answers' columns where DuckDB's differ: an unaliased aggregate is
 * named after its function alone (Q18's `sum(l_quantity)` is `sum`), and Mallard names columns as
 * PostgreSQL does.
 */
export function postgresColumnNames(queryId: number, duckColumns: readonly string[]): string[] {
  return duckColumns.map((name) => (queryId === 18 && name === 'sum(l_quantity)' ? 'sum' : name));
}

/**
 * Where Mallard's answer differs from DuckDB's, or undefined when they are the same: column names (as
 * `expectedColumns` gives them, DuckDB's own by default), type
 * OIDs for the DuckDB types, and the rows after sorting both sides, exact except decimals and floats,
 * which must agree within `tolerance` relatively.
 */
export function answerDifference(
  expected: DuckAnswer,
  actual: PgAnswer,
  expectedColumns: readonly string[] = expected.columns,
  tolerance = 1e-9,
): string | undefined {
  if (expectedColumns.join('\u0001') !== actual.columns.join('\u0001')) {
    return `columns: expected ${JSON.stringify(expectedColumns)}, got ${JSON.stringify(actual.columns)}`;
  }
  for (let i = 0; i < expected.types.length; i++) {
    const ids = pgTypeIds(expected.types[i]!);
    if (ids && !ids.includes(actual.typeIds[i]!)) {
      return `column ${expected.columns[i]}: DuckDB type ${expected.types[i]} arrived as type OID ${actual.typeIds[i]}, expected ${ids.join(' or ')}`;
    }
  }
  if (expected.rows.length !== actual.rows.length) {
    return `expected ${expected.rows.length} rows, got ${actual.rows.length}`;
  }
  const approximate = expected.types.map(isApproximate);
  const want = sortRows(
    expected.rows.map((r) => r.map((v) => (v === null ? null : String(v)))),
    approximate,
  );
  const got = sortRows(
    actual.rows.map((r) => [...r]),
    approximate,
  );
  for (let r = 0; r < want.length; r++) {
    for (let c = 0; c < approximate.length; c++) {
      const a = want[r]![c]!;
      const b = got[r]![c]!;
      const same =
        a === null || b === null
          ? a === b
          : approximate[c]
            ? close(Number(a), Number(b), tolerance)
            : a === b;
      if (!same) {
        return `row ${r} (sorted), column ${expected.columns[c]}: expected ${a}, got ${b}\n  expected row ${JSON.stringify(want[r])}\n  got row      ${JSON.stringify(got[r])}`;
      }
    }
  }
  return undefined;
}
