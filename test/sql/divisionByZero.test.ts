// Division by zero as PostgreSQL has it: `/`, `%` and mod() with a zero divisor raise 22012, for
// integers, numerics and floats, wherever they appear in a SELECT. Each statement goes through
// rewriteQuery and runs on a DuckDB set up as the coordinator's (integer_division, the compatibility
// catalog, JSON errors), whose error goes through the executor's SQLSTATE mapping.
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import { mapDuckDBError } from '../../src/executor/mapDuckDBError.js';
import { COMPAT_SCHEMA } from '../../src/sql/compatSchema.js';
import { type RewriteContext, rewriteQuery } from '../../src/sql/rewriteQuery.js';
import { SessionSettings } from '../../src/sql/SessionSettings.js';
import { SqlParser } from '../../src/sql/SqlParser.js';

let parser: SqlParser;
let instance: DuckDBInstance;
let db: DuckDBConnection;

test.before(async () => {
  parser = await SqlParser.open();
  instance = await DuckDBInstance.create(':memory:', { errors_as_json: 'true' });
  db = await instance.connect();
  await db.run('SET integer_division = true');
  for (const sql of COMPAT_SCHEMA) await db.run(sql);
  // d is 0 in one row of three; n is NULL in another.
  await db.run(`CREATE TABLE nums AS SELECT * FROM (VALUES (1, 6, 2.5::DOUBLE, 4), (2, 7, 0.5::DOUBLE, 0), (3, NULL, 1.0::DOUBLE, 3))
    AS v(id, n, f, d)`);
});

test.after(() => {
  db.closeSync();
  instance.closeSync();
  parser.close();
});

function context(): RewriteContext {
  return {
    settings: new SessionSettings({ session_authorization: 'alice' }),
    user: 'alice',
    database: 'shop',
    pid: 1,
  };
}

/** Rewrites and runs; the rows, or the error as a client would get it. */
async function run(sql: string, params: DuckDBValue[] = []) {
  const rewritten = await rewriteQuery(sql, context(), parser);
  try {
    const reader = await db.runAndReadAll(rewritten, params);
    return { sql: rewritten, rows: reader.getRows(), types: reader.columnTypes().map(String) };
  } catch (error) {
    return { sql: rewritten, error: mapDuckDBError(error, { sql: rewritten }) };
  }
}

async function raises(sql: string): Promise<void> {
  const result = await run(sql);
  const rows = JSON.stringify(result.rows, (_, v) => (typeof v === 'bigint' ? String(v) : v));
  assert.ok(result.error, `${sql} should fail, gave ${rows} (ran ${result.sql})`);
  assert.is(result.error!.message, 'division by zero', sql);
}

test('a zero divisor raises "division by zero" for integers, numerics and floats', async () => {
  for (const sql of [
    'SELECT 1 / 0',
    'SELECT 1 % 0',
    'SELECT mod(1, 0)',
    'SELECT pg_catalog.mod(7, 0)',
    'SELECT 1.5 / 0',
    'SELECT 1.5 % 0.0',
    'SELECT 1.0::float8 / 0',
    'SELECT 0.0::float8 / 0',
    'SELECT -1::float4 / 0::float4',
    "SELECT 'Infinity'::float8 / 0",
    'SELECT 2::smallint / 0::smallint',
    'SELECT 9223372036854775807::bigint % 0',
  ]) {
    await raises(sql);
  }
});

test('anywhere in the statement: rows, WHERE, subqueries, CTEs, aggregates, ORDER BY', async () => {
  for (const sql of [
    'SELECT n / d FROM nums',
    'SELECT id FROM nums WHERE n % d = 0',
    'SELECT (SELECT max(n / d) FROM nums)',
    'SELECT id FROM nums WHERE id IN (SELECT n / d FROM nums)',
    'WITH q AS (SELECT f / d AS r FROM nums) SELECT max(r) FROM q',
    'SELECT sum(n) / sum(d - d) FROM nums',
    'SELECT id FROM nums ORDER BY f / d',
    'SELECT id, sum(n) FROM nums GROUP BY id HAVING sum(n) / min(d) > 0',
    'SELECT id FROM nums UNION ALL SELECT n % d FROM nums',
    'SELECT list_transform([1, 0], v -> 10 / v)',
  ]) {
    await raises(sql);
  }
});

test('rows that are not zero, or not reached, divide as before', async () => {
  assert.equal((await run('SELECT n / d, n % d, f / d FROM nums WHERE d <> 0 ORDER BY id')).rows, [
    [1, 2, 0.625],
    [null, null, 1 / 3],
  ]);
  assert.equal((await run('SELECT CASE WHEN d = 0 THEN -1 ELSE n / d END FROM nums ORDER BY id')).rows, [
    [1],
    [-1],
    [null],
  ]);
  // Nothing to evaluate: no error (PostgreSQL folds a constant 1/0 at plan time; DuckDB does not).
  assert.equal((await run('SELECT n / 0 FROM nums WHERE false')).rows, []);
  assert.equal((await run('SELECT CASE WHEN false THEN 1 / 0 ELSE 2 END')).rows, [[2]]);
});

test('NULL over zero is NULL, as with PostgreSQL strict operators', async () => {
  assert.equal((await run('SELECT NULL::integer / 0, NULL::float8 % 0, 1 / NULL::integer')).rows, [
    [null, null, null],
  ]);
  assert.equal((await run('SELECT n / 0 FROM nums WHERE n IS NULL')).rows, [[null]]);
});

test('results keep the types and values of DuckDB division with integer_division', async () => {
  const result = await run(
    'SELECT 7 / 2, 7 % 2, -7 / 2, 7.5 / 2.5, 2::smallint / 1::smallint, 7::bigint % 4, 1.0::float8 / 3, 7.5 % 2',
  );
  const plain = await db.runAndReadAll(
    'SELECT 7 / 2, 7 % 2, -7 / 2, 7.5 / 2.5, 2::smallint / 1::smallint, 7::bigint % 4, 1.0::float8 / 3, 7.5 % 2',
  );
  assert.equal(result.types, plain.columnTypes().map(String));
  assert.equal(result.rows, plain.getRows());
  const columns = await run('SELECT n / d, n % d, f / d, mod(n, d) FROM nums WHERE d <> 0');
  assert.ok(columns.sql.includes('pg_div'), columns.sql);
  const plainColumns = await db.runAndReadAll('SELECT n / d, n % d, f / d, mod(n, d) FROM nums WHERE d <> 0');
  assert.equal(columns.types, plainColumns.columnTypes().map(String));
  assert.equal(columns.rows, plainColumns.getRows());
});

test('a non-zero constant divisor needs no check', async () => {
  const sql = 'SELECT sum(i / 3), sum(i % 7) FROM range(10) t(i)';
  const { sql: rewritten, rows } = await run(sql);
  assert.not.ok(rewritten.includes('pg_div') || rewritten.includes('pg_mod'), rewritten);
  assert.equal(rows, [[12n, 24n]]);
});

test('a column named like the macro parameters is not captured', async () => {
  const { rows } = await run('SELECT dividend / divisor FROM (SELECT 7 AS dividend, 2 AS divisor) s');
  assert.equal(rows, [[3]]);
});

test('a division by a parameter is left as DuckDB has it, so the parameter type is not forced', async () => {
  const sql = 'SELECT 10 / $1::INTEGER AS q';
  assert.is(await rewriteQuery(sql, context(), parser), sql);
});

test('the error reaches the client as SQLSTATE 22012', async () => {
  const result = await run('SELECT n / d FROM nums');
  assert.ok(result.error);
  assert.is(result.error!.code, SqlState.DivisionByZero);
});

test.run();
