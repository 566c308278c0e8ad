import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PgError } from '../../protocol/pg/PgError.js';
import type { LocalExecutor } from '../../src/executor/LocalExecutor.js';
import { mapDuckDBError, toPgError } from '../../src/executor/mapDuckDBError.js';
import { type EngineFixture, failure, openEngine, run } from './engineFixture.js';

let fx: EngineFixture;
let session: LocalExecutor;

test.before(async () => {
  fx = await openEngine();
  session = await fx.engine.createSession();
  await run(
    session,
    'CREATE TABLE parent (id INTEGER PRIMARY KEY, code VARCHAR UNIQUE, qty INTEGER NOT NULL CHECK (qty > 0))',
  );
  await run(session, 'CREATE TABLE child (parent_id INTEGER REFERENCES parent (id))');
  await run(session, "INSERT INTO parent VALUES (1, 'a', 1)");
  await run(session, 'CREATE SEQUENCE seq');
  await run(session, "CREATE TABLE numbered (n INTEGER DEFAULT nextval('seq'))");
});

test.after(async () => {
  await fx.dispose();
});

/** A failing statement's SQLSTATE, then proof the session still answers. */
async function sqlstate(sql: string): Promise<string> {
  const error = await failure(session, sql);
  assert.equal((await run(session, 'SELECT 1 AS ok')).rows, [[1]], `session unusable after: ${sql}`);
  return error.code;
}

const cases: [string, string, string][] = [
  ['syntax error', 'SELEC 1', '42601'],
  ['syntax error at end of input', 'SELECT 1 FROM parent WHERE', '42601'],
  ['table does not exist', 'SELECT * FROM missing_table', '42P01'],
  ['view does not exist', 'DROP VIEW missing_view', '42P01'],
  ['schema does not exist', 'CREATE TABLE missing_schema.t (a INTEGER)', '3F000'],
  ['column does not exist', 'SELECT missing_column FROM parent', '42703'],
  ['qualified column does not exist', 'SELECT parent.missing_column FROM parent', '42703'],
  ['function does not exist', 'SELECT missing_function(1)', '42883'],
  ['no function matches the arguments', "SELECT length('a', 'b', 'c')", '42883'],
  ['ambiguous function call', "SELECT 1 + 'a'", '42725'],
  ['grouping error', 'SELECT id FROM parent GROUP BY code', '42803'],
  ['division by zero', 'SELECT log(1, 10)', '22012'],
  ['invalid text for a number', "SELECT 'x'::INTEGER", '22P02'],
  ['cast out of range', 'SELECT 300::TINYINT', '22003'],
  ['arithmetic overflow', 'SELECT 2147483647::INTEGER + 1', '22003'],
  ['invalid date', "SELECT 'soon'::DATE", '22007'],
  ['date field out of range', "SELECT '2024-13-01'::DATE", '22008'],
  ['NOT NULL violation', "INSERT INTO parent VALUES (2, 'b', NULL)", '23502'],
  ['primary key violation', "INSERT INTO parent VALUES (1, 'c', 1)", '23505'],
  ['unique violation', "INSERT INTO parent VALUES (3, 'a', 1)", '23505'],
  ['CHECK violation', "INSERT INTO parent VALUES (4, 'd', -1)", '23514'],
  ['foreign key violation', 'INSERT INTO child VALUES (99)', '23503'],
  ['table already exists', 'CREATE TABLE parent (a INTEGER)', '42P07'],
  ['schema already exists', 'CREATE SCHEMA main', '42P06'],
  ['subquery returns more than one row', 'SELECT (SELECT * FROM range(2))', '21000'],
  ['not implemented', "SELECT time_bucket(INTERVAL 0 DAY, TIMESTAMP '2024-01-01')", '0A000'],
  ['table referenced by a foreign key', 'DROP TABLE parent', '2BP01'],
  ['sequence used by a default', 'DROP SEQUENCE seq', '2BP01'],
];

for (const [name, sql, code] of cases) {
  test(`${name} → ${code}`, async () => {
    assert.is(await sqlstate(sql), code);
  });
}

test('the engine divides integers as PostgreSQL does; a zero divisor is left to the session rewrite', async () => {
  // integer_division is on, so 7/2 is 3; DuckDB gives NULL for a zero divisor, which src/sql's
  // pg_div rewrite turns into 22012 before SQL reaches the executor.
  const out = await run(session, 'SELECT 7/2 AS quotient, 1/0 AS by_zero');
  assert.equal(out.rows, [[3, null]]);
});

test("error('division by zero') from the pg_div rewrite maps to 22012", async () => {
  const error = await failure(session, "SELECT error('division by zero')");
  assert.is(error.code, '22012');
  assert.is(error.message, 'division by zero');
});

test('the message loses the "Xxx Error:" prefix and the LINE context; suggestions become the hint', async () => {
  const error = await failure(session, 'SELECT * FROM parnt');
  assert.is(error.message, 'Table with name parnt does not exist!');
  assert.ok(error.fields.hint?.includes('Did you mean "parent"'), error.fields.hint);
  assert.not.ok(error.message.includes('LINE'));
  assert.not.ok(error.message.includes('Catalog Error'));
});

test('the position is a 1-based character index, counted in characters, not bytes', async () => {
  const plain = await failure(session, 'SELECT * FROM missing_table');
  assert.is(plain.fields.position, 15);
  const syntax = await failure(session, 'SELEC 1');
  assert.is(syntax.fields.position, 1);
  const multibyte = await failure(session, "SELECT 'ééé', '€', missing_column FROM parent");
  assert.is(multibyte.fields.position, "SELECT 'ééé', '€', ".length + 1);
});

test('the position points into the statement the client sent, not the one with casts added', async () => {
  // SELECT $1 is rewritten to SELECT CAST($1 AS VARCHAR) before DuckDB prepares it.
  const error = await failure(session, 'SELECT $1, missing_column FROM parent', ['x']);
  assert.is(error.code, '42703');
  assert.is(error.fields.position, 'SELECT $1, '.length + 1);
});

test('a serialization conflict between two sessions → 40001', async () => {
  const other = await fx.engine.createSession();
  try {
    await run(session, 'BEGIN');
    await run(other, 'BEGIN');
    await run(session, 'UPDATE parent SET qty = 2 WHERE id = 1');
    const conflict = await failure(other, 'UPDATE parent SET qty = 3 WHERE id = 1');
    assert.is(conflict.code, '40001');
    await run(other, 'ROLLBACK');
    await run(session, 'COMMIT');
  } finally {
    await other.close();
  }
});

test('a statement in a failed transaction → 25P02 until ROLLBACK', async () => {
  await run(session, 'BEGIN');
  // An error while executing aborts DuckDB's transaction; one found while binding does not (the
  // session keeps PostgreSQL's rule that any error does).
  await failure(session, "SELECT 'x'::INTEGER");
  const aborted = await failure(session, 'SELECT 1');
  assert.is(aborted.code, '25P02');
  await run(session, 'ROLLBACK');
  assert.equal((await run(session, 'SELECT 1 AS ok')).rows, [[1]]);
});

test('out of memory → 53200', async () => {
  const small = await openEngine({ memoryLimit: '32MB', threads: 1 });
  try {
    const s = await small.engine.createSession();
    const error = await failure(s, 'SELECT list(range)::VARCHAR FROM range(20000000)');
    assert.is(error.code, '53200');
    assert.equal((await run(s, 'SELECT 1 AS ok')).rows, [[1]]);
  } finally {
    await small.dispose();
  }
});

test('errors that are not DuckDB errors → XX000; a PgError passes through', () => {
  const odd = toPgError(new Error('something unexpected'));
  assert.is(odd.code, 'XX000');
  assert.is(odd.message, 'something unexpected');
  const original = new PgError('42501', 'no');
  assert.is(mapDuckDBError(original), original);
});

test("DuckDB's plain error format (without errors_as_json) is understood too", () => {
  const error = mapDuckDBError(
    new Error(
      'Catalog Error: Table with name nope does not exist!\n\nLINE 1: SELECT * FROM nope\n                      ^',
    ),
  );
  assert.is(error.code, '42P01');
  assert.is(error.message, 'Table with name nope does not exist!');
});

test('INTERRUPT carries the cancel message given by the session', () => {
  const raw = new Error('{"exception_type":"INTERRUPT","exception_message":"Interrupted!"}');
  assert.is(mapDuckDBError(raw).message, 'canceling statement due to user request');
  const timeout = mapDuckDBError(raw, { cancelMessage: 'canceling statement due to statement timeout' });
  assert.is(timeout.code, '57014');
  assert.is(timeout.message, 'canceling statement due to statement timeout');
});

test.run();
