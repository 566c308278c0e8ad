import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIGINT, DOUBLE, INTEGER, TIMESTAMPTZ, VARCHAR } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LocalExecutor } from '../../src/executor/LocalExecutor.js';
import { type EngineFixture, failure, openEngine, run } from './engineFixture.js';

let fx: EngineFixture;
let session: LocalExecutor;

test.before(async () => {
  fx = await openEngine();
  session = await fx.engine.createSession();
  await run(session, 'CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR, price DOUBLE)');
  await run(session, "INSERT INTO items VALUES (1, 'apple', 0.5), (2, 'pear', 0.75), (3, 'plum', 1.25)");
});

test.after(async () => {
  await fx.dispose();
});

const typeNames = (types: readonly { toString(): string }[]) => types.map(String);

test('a parameter DuckDB cannot type is text, as PostgreSQL types it', async () => {
  const out = await run(session, 'SELECT $1', ['hello']);
  assert.equal(typeNames(out.query.paramTypes), ['VARCHAR']);
  assert.equal(
    out.query.columns.map((c) => [c.name, String(c.type)]),
    [['$1', 'VARCHAR']],
  );
  assert.equal(out.rows, [['hello']]);
  assert.is(out.commandTag, 'SELECT 1');
});

test("the client's type hint wins: bound and reported as declared", async () => {
  const out = await run(session, 'SELECT $1 AS n', [42], [INTEGER]);
  assert.equal(typeNames(out.query.paramTypes), ['INTEGER']);
  assert.equal(String(out.query.columns[0].type), 'INTEGER');
  assert.equal(out.rows, [[42]]);

  // DuckDB infers INTEGER from the column; the client declared int8.
  const wider = await run(session, 'SELECT name FROM items WHERE id = $1', [2n], [BIGINT]);
  assert.equal(typeNames(wider.query.paramTypes), ['BIGINT']);
  assert.equal(wider.rows, [['pear']]);

  const ts = await run(session, 'SELECT $1 AS t', ['2024-05-01 12:00:00+02'], [TIMESTAMPTZ]);
  assert.equal(String(ts.query.columns[0].type), 'TIMESTAMP WITH TIME ZONE');
  assert.is(String(ts.rows[0][0]), '2024-05-01 10:00:00+00');
});

test('hints given for some parameters only: the others are inferred', async () => {
  const out = await run(
    session,
    'SELECT name FROM items WHERE id = $1 AND price < $2',
    [1, 10],
    [null, DOUBLE],
  );
  assert.equal(typeNames(out.query.paramTypes), ['INTEGER', 'DOUBLE']);
  assert.equal(out.rows, [['apple']]);
});

test('a parameter only an operator could type fails with a hint saying how to type it', async () => {
  const error = await failure(session, 'SELECT $1 + 1.5', [1]);
  assert.is(error.code, '42883');
  assert.match(error.fields.hint ?? '', 'DuckDB cannot infer the type of $1');
  const declared = await run(session, 'SELECT $1 + 1.5 AS x', [1], [INTEGER]);
  assert.is(String(declared.rows[0][0]), '2.5');
});

test('DuckDB infers parameters in WHERE, LIMIT, INSERT VALUES and UPDATE SET', async () => {
  const where = await run(session, 'SELECT name FROM items WHERE id = $1', [3]);
  assert.equal(typeNames(where.query.paramTypes), ['INTEGER']);
  assert.equal(where.rows, [['plum']]);

  const limit = await run(session, 'SELECT id FROM items ORDER BY id LIMIT $1', [2]);
  assert.equal(typeNames(limit.query.paramTypes), ['BIGINT']);
  assert.equal(limit.rows, [[1], [2]]);

  const insert = await run(session, 'INSERT INTO items VALUES ($1, $2, $3)', [10, 'fig', 2.5]);
  assert.equal(typeNames(insert.query.paramTypes), ['INTEGER', 'VARCHAR', 'DOUBLE']);
  assert.is(insert.commandTag, 'INSERT 0 1');

  const update = await run(session, 'UPDATE items SET price = $1 WHERE id = $2', [3.5, 10]);
  assert.equal(typeNames(update.query.paramTypes), ['DOUBLE', 'INTEGER']);
  assert.is(update.commandTag, 'UPDATE 1');

  const check = await run(session, 'SELECT price FROM items WHERE id = 10');
  assert.equal(check.rows, [[3.5]]);
  await run(session, 'DELETE FROM items WHERE id = 10');
});

test('a parameter in the select list and in WHERE is typed from WHERE', async () => {
  const out = await run(session, 'SELECT $1 AS v FROM items WHERE id = $1', [2]);
  assert.equal(typeNames(out.query.paramTypes), ['INTEGER']);
  assert.equal(String(out.query.columns[0].type), 'INTEGER');
  assert.equal(out.rows, [[2]]);
});

test('text values for typed parameters are cast by DuckDB, as PostgreSQL parses text input', async () => {
  const out = await run(session, 'SELECT name FROM items WHERE id = $1', ['2']);
  assert.equal(out.rows, [['pear']]);
  const bad = await failure(session, 'SELECT name FROM items WHERE id = $1', ['two']);
  assert.is(bad.code, '22P02');
});

test('a NULL parameter', async () => {
  const out = await run(session, 'SELECT $1 IS NULL AS missing', [null], [VARCHAR]);
  assert.equal(out.rows, [[true]]);
});

test('too few parameter values is a protocol violation', async () => {
  const query = await session.prepare('SELECT $1::INTEGER + $2::INTEGER', []);
  try {
    await query.execute([1]);
    assert.unreachable('should fail');
  } catch (error) {
    assert.is((error as { code: string }).code, '08P01');
  } finally {
    query.close();
  }
});

test('a prepared statement runs again with new values', async () => {
  const query = await session.prepare('SELECT name FROM items WHERE id = $1', []);
  const names: unknown[] = [];
  for (const id of [1, 2, 3]) {
    const cursor = await query.execute([id]);
    const batch = await cursor.next();
    names.push(batch?.columns[0].getItem(0));
    assert.is(await cursor.next(), null);
    cursor.close();
  }
  query.close();
  assert.equal(names, ['apple', 'pear', 'plum']);
});

test('rowsChanged comes from DuckDB for INSERT, UPDATE, DELETE; RETURNING sends rows and counts them', async () => {
  await run(session, 'CREATE TABLE counts (n INTEGER)');
  const insert = await run(session, 'INSERT INTO counts SELECT * FROM range(5)');
  assert.equal(insert.query.columns, []);
  assert.is(insert.rowsChanged, 5);
  assert.is(insert.commandTag, 'INSERT 0 5');

  const returning = await run(session, 'INSERT INTO counts VALUES (10), (11) RETURNING n * 2 AS twice');
  assert.equal(
    returning.query.columns.map((c) => c.name),
    ['twice'],
  );
  assert.equal(returning.rows, [[20], [22]]);
  assert.is(returning.rowsChanged, 2);
  assert.is(returning.commandTag, 'INSERT 0 2');

  const update = await run(session, 'UPDATE counts SET n = n + 1 WHERE n < 3');
  assert.is(update.commandTag, 'UPDATE 3');
  const updateReturning = await run(session, 'UPDATE counts SET n = n WHERE n > 9 RETURNING n');
  assert.is(updateReturning.commandTag, 'UPDATE 2');
  const del = await run(session, 'DELETE FROM counts WHERE n >= 10');
  assert.is(del.commandTag, 'DELETE 2');
  const merge = await run(
    session,
    'MERGE INTO counts USING (SELECT 100 AS n) s ON counts.n = s.n WHEN NOT MATCHED THEN INSERT VALUES (s.n)',
  );
  assert.is(merge.commandTag, 'MERGE 1');
  const select = await run(session, 'SELECT * FROM counts');
  assert.is(select.commandTag, 'SELECT 6');
  assert.is(select.rowsChanged, 6);
  await run(session, 'DROP TABLE counts');
});

test('command tags for every kind of statement', async () => {
  writeFileSync(join(fx.readableDir, 'three.csv'), 'n\n1\n2\n3\n');
  const expected: [string, string][] = [
    ['CREATE TABLE t1 (a INTEGER, b VARCHAR)', 'CREATE TABLE'],
    ['CREATE TEMP TABLE t2 (a INTEGER)', 'CREATE TABLE'],
    ['CREATE TABLE t3 AS SELECT * FROM range(4)', 'SELECT 4'],
    ['CREATE OR REPLACE TABLE t3 AS SELECT * FROM range(7)', 'SELECT 7'],
    ['CREATE VIEW v1 AS SELECT 1 AS one', 'CREATE VIEW'],
    ['CREATE SCHEMA s1', 'CREATE SCHEMA'],
    ['CREATE INDEX i1 ON t1 (a)', 'CREATE INDEX'],
    ['CREATE SEQUENCE q1', 'CREATE SEQUENCE'],
    ['CREATE MACRO plus_one(x) AS x + 1', 'CREATE FUNCTION'],
    ['CREATE OR REPLACE MACRO plus_one(x) AS x + 2', 'CREATE FUNCTION'],
    ['CREATE FUNCTION twice(x) AS x * 2', 'CREATE FUNCTION'],
    ["CREATE TYPE mood AS ENUM ('sad', 'ok')", 'CREATE TYPE'],
    ['ALTER TABLE t1 ADD COLUMN c INTEGER', 'ALTER TABLE'],
    ['ALTER TABLE t2 RENAME TO t2b', 'ALTER TABLE'],
    ['ALTER VIEW v1 RENAME TO v2', 'ALTER VIEW'],
    ["COMMENT ON TABLE t1 IS 'a table'", 'COMMENT'],
    [`COPY t1 (a) FROM '${join(fx.readableDir, 'three.csv')}' (HEADER)`, 'COPY 3'],
    ['TRUNCATE t1', 'TRUNCATE TABLE'],
    ['EXPLAIN SELECT 1', 'EXPLAIN'],
    ['CHECKPOINT', 'CHECKPOINT'],
    ['VACUUM', 'VACUUM'],
    ['ANALYZE', 'ANALYZE'],
    ['BEGIN', 'BEGIN'],
    ['COMMIT', 'COMMIT'],
    ['START TRANSACTION', 'START TRANSACTION'],
    ['ROLLBACK', 'ROLLBACK'],
    ['BEGIN TRANSACTION', 'BEGIN'],
    ['ABORT', 'ROLLBACK'],
    ['PREPARE pick AS SELECT $1::INTEGER AS v', 'PREPARE'],
    ['EXECUTE pick(5)', 'SELECT 1'],
    ['DEALLOCATE pick', 'DEALLOCATE'],
    ["PREPARE put AS INSERT INTO t1 VALUES ($1, 'x', 0)", 'PREPARE'],
    ['EXECUTE put(9)', 'INSERT 0 1'],
    ['DEALLOCATE PREPARE put', 'DEALLOCATE'],
    ['SET search_path = main', 'SET'],
    ['DROP INDEX i1', 'DROP INDEX'],
    ['DROP VIEW v2', 'DROP VIEW'],
    ['DROP MACRO plus_one', 'DROP FUNCTION'],
    ['DROP FUNCTION twice', 'DROP FUNCTION'],
    ['DROP SEQUENCE q1', 'DROP SEQUENCE'],
    ['DROP TYPE mood', 'DROP TYPE'],
    ['DROP SCHEMA s1', 'DROP SCHEMA'],
    ['DROP TABLE t1', 'DROP TABLE'],
    ['DROP TABLE t2b', 'DROP TABLE'],
    ['DROP TABLE IF EXISTS t3', 'DROP TABLE'],
  ];
  const actual: [string, string][] = [];
  for (const [sql] of expected) actual.push([sql, (await run(session, sql)).commandTag]);
  assert.equal(actual, expected);
});

test('statements without a result set report no columns (NoData)', async () => {
  for (const sql of [
    'CREATE TABLE nodata (a INTEGER)',
    'INSERT INTO nodata VALUES (1)',
    'DROP TABLE nodata',
  ]) {
    const query = await session.prepare(sql, []);
    assert.equal(query.columns, [], sql);
    const cursor = await query.execute([]);
    assert.is(await cursor.next(), null, sql);
    cursor.close();
    query.close();
  }
});

test('EXPLAIN and CALL send rows', async () => {
  const explain = await run(session, 'EXPLAIN SELECT * FROM items');
  assert.ok(explain.rows.length > 0);
  assert.is(explain.commandTag, 'EXPLAIN');
  const call = await run(session, "CALL pragma_table_info('items')");
  assert.equal(
    call.rows.map((r) => r[1]),
    ['id', 'name', 'price'],
  );
  assert.is(call.commandTag, 'CALL');
});

test('two cursors on one session: the first stays readable after the second statement runs', async () => {
  const first = await session.prepare('SELECT range AS n FROM range(10000)', []);
  const cursorA = await first.execute([]);
  const head = await cursorA.next();
  assert.is(head?.rowCount, 2048);
  // DuckDB allows one open stream per connection; the executor reads the rest of the first ahead.
  const other = await run(session, 'SELECT count(*) AS c FROM items');
  assert.equal(other.rows, [[3n]]);
  let total = head!.rowCount;
  let last: unknown;
  for (let batch = await cursorA.next(); batch; batch = await cursorA.next()) {
    total += batch.rowCount;
    last = batch.columns[0].getItem(batch.rowCount - 1);
  }
  assert.is(total, 10000);
  assert.is(last, 9999n);
  cursorA.close();
  first.close();
});

test('each session has its own transaction', async () => {
  const other = await fx.engine.createSession();
  try {
    await run(session, 'BEGIN');
    await run(session, "INSERT INTO items VALUES (50, 'hidden', 1)");
    assert.equal((await run(other, 'SELECT count(*) FROM items WHERE id = 50')).rows, [[0n]]);
    await run(session, 'COMMIT');
    assert.equal((await run(other, 'SELECT count(*) FROM items WHERE id = 50')).rows, [[1n]]);
    await run(session, 'DELETE FROM items WHERE id = 50');
  } finally {
    await other.close();
  }
});

test('checkSyntax parses without running, and reports where the error is', async () => {
  await session.checkSyntax('SELECT * FROM no_such_table; DROP TABLE items');
  assert.equal((await run(session, 'SELECT count(*) FROM items')).rows, [[3n]]);
  await session.checkSyntax('-- only a comment');
  try {
    await session.checkSyntax('SELECT 1; SELEC 2');
    assert.unreachable('should reject');
  } catch (error) {
    assert.is((error as { code: string }).code, '42601');
    assert.is((error as { fields: { position?: number } }).fields.position, 'SELECT 1; '.length + 1);
  }
});

test('the database persists across engine restarts', async () => {
  const { Engine } = await import('../../src/executor/Engine.js');
  const root = fx.root;
  const scratch = await Engine.open({ dataDir: join(root, 'persist') });
  const s1 = await scratch.createSession();
  await run(s1, 'CREATE TABLE kept AS SELECT 7 AS v');
  await scratch.close();
  const reopened = await Engine.open({ dataDir: join(root, 'persist') });
  const s2 = await reopened.createSession();
  assert.equal((await run(s2, 'SELECT v FROM kept')).rows, [[7]]);
  await reopened.close();
});

test.run();
