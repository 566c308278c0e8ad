// Interval literals with PostgreSQL field qualifiers, rewritten to carry their units before the statement
// is written back by pgsql-deparser; DuckDB then reads each as PostgreSQL does.
import { DuckDBInstance } from '@duckdb/node-api';
import { loadModule, parseSync } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { qualifyIntervalLiterals } from '../../src/sql/intervalFields.js';

/** The literal through the rewrite and the deparser, evaluated by DuckDB as text. */
async function viaDuckDB(literal: string): Promise<string> {
  await loadModule();
  const tree = parseSync(`SELECT ${literal} AS v`) as { stmts: { stmt: unknown }[] };
  qualifyIntervalLiterals(tree);
  const sql = deparseSync(tree.stmts[0]!.stmt as never, { pretty: false } as never);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const r = await conn.runAndReadAll(`SELECT CAST(v AS VARCHAR) FROM (${sql})`);
    return String(r.getRows()[0]![0]);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

// PostgreSQL 15's values of the same literals, written as DuckDB prints intervals.
const CASES: readonly (readonly [string, string])[] = [
  ["interval '3' month", '3 months'],
  ["interval '2' year", '2 years'],
  ["interval '-1.5' day", '-1 day -12:00:00'],
  ["interval '90' minute", '01:30:00'],
  ["interval '10.25' second", '00:00:10.25'],
  ["'5'::interval hour", '05:00:00'],
  ["interval '1-2' year to month", '1 year 2 months'],
  ["interval '-1-2' year to month", '-1 year -2 months'],
  ["interval '3 4:05' day to minute", '3 days 04:05:00'],
  ["interval '3 4:05:06.5' day to second", '3 days 04:05:06.5'],
  ["interval '4:05' hour to minute", '04:05:00'],
  ["interval '4:05' minute to second", '00:04:05'],
  ["interval '1 day 2 hours'", '1 day 02:00:00'],
  ["interval(2) '1.5 seconds'", '00:00:01.5'],
];

for (const [literal, expected] of CASES) {
  test(literal, async () => {
    assert.is(await viaDuckDB(literal), expected);
  });
}

test('only interval casts with a qualifier change', async () => {
  await loadModule();
  const tree = parseSync("SELECT '3'::int, interval '1 day', CAST('x' AS text)");
  assert.is(qualifyIntervalLiterals(tree), false);
});

test.run();
