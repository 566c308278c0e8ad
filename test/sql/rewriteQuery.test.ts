import { readFileSync } from 'node:fs';
import {
  type DuckDBBlobValue,
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBValue,
} from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PgError } from '../../protocol/pg/PgError.js';
import { COMPAT_SCHEMA } from '../../src/sql/compatSchema.js';
import { type RewriteContext, rewriteQuery } from '../../src/sql/rewriteQuery.js';
import { SessionSettings } from '../../src/sql/SessionSettings.js';
import { SqlParser } from '../../src/sql/SqlParser.js';
import { MALLARD_VERSION, VERSION_STRING } from '../../src/sql/serverVersion.js';

let parser: SqlParser;
let instance: DuckDBInstance;
let db: DuckDBConnection;

test.before(async () => {
  parser = await SqlParser.open();
  instance = await DuckDBInstance.create(':memory:');
  db = await instance.connect();
  for (const sql of COMPAT_SCHEMA) await db.run(sql);
  await db.run(`CREATE TABLE logins ("user" VARCHAR, n INTEGER); INSERT INTO logins VALUES ('carol', 1)`);
  await db.run('CREATE TABLE blobs (id INTEGER, note VARCHAR, b BLOB)');
});

test.after(() => {
  db.closeSync();
  instance.closeSync();
  parser.close();
});

function context(settings = new SessionSettings({ session_authorization: 'alice' })): RewriteContext {
  return { settings, user: 'alice', database: 'shop', pid: 4242 };
}

/** Rewrites, runs on DuckDB, and returns the column names and rows a client would see. */
async function run(sql: string, ctx = context(), params: DuckDBValue[] = []) {
  const rewritten = await rewriteQuery(sql, ctx, parser);
  const reader = await db.runAndReadAll(rewritten, params);
  return { sql: rewritten, columns: reader.columnNames(), rows: reader.getRows() };
}

async function rejects(
  sql: string,
  ctx: RewriteContext,
  code: string,
  message: string,
  position?: number,
): Promise<void> {
  try {
    await rewriteQuery(sql, ctx, parser);
  } catch (err) {
    assert.instance(err, PgError);
    assert.is((err as PgError).code, code);
    assert.is((err as PgError).message, message);
    if (position !== undefined) assert.is((err as PgError).fields.position, position);
    return;
  }
  assert.unreachable(`${sql} should fail`);
}

test('version() says PostgreSQL and Mallard, in the forms clients parse', async () => {
  const { columns, rows } = await run('SELECT version()');
  assert.equal(columns, ['version']);
  const version = String(rows[0]![0]);
  assert.is(version, VERSION_STRING);
  assert.ok(version.includes(`Mallard ${MALLARD_VERSION}`));
  // The clients' own patterns, applied to the output: SQLAlchemy's and TypeORM's.
  const sqlalchemy = /PostgreSQL (\d+)\.?(\d+)?(?:\.(\d+))?(?:\.\d+)?(?:devel|beta)?/.exec(version);
  assert.equal(sqlalchemy?.slice(1, 3), ['15', '0']);
  assert.is(/^PostgreSQL ([\d.]+) .*$/.exec(version)?.[1], '15.0');
  const aliased = await run('select pg_catalog.version() as v, 1 as one');
  assert.equal(aliased.columns, ['v', 'one']);
  assert.equal(aliased.rows, [[VERSION_STRING, 1]]);
});

test('MALLARD_VERSION is the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  assert.is(MALLARD_VERSION, pkg.version);
});

test('session values: current_user, session_user, user, current_database(), current_catalog, pg_backend_pid()', async () => {
  const { columns, rows } = await run(
    'SELECT current_user, session_user, user, current_database(), current_catalog, pg_backend_pid()',
  );
  assert.equal(columns, [
    'current_user',
    'session_user',
    'user',
    'current_database',
    'current_catalog',
    'pg_backend_pid',
  ]);
  assert.equal(rows, [['alice', 'alice', 'alice', 'shop', 'shop', 4242]]);
  const nested = await run("SELECT upper(current_user) || '@' || current_database() AS who");
  assert.equal(nested.rows, [['ALICE@shop']]);
});

test('a quoted "user" is a column, not the session user', async () => {
  assert.equal((await run('SELECT "user" FROM logins')).rows, [['carol']]);
  assert.equal((await run('SELECT "user", current_user FROM logins')).rows, [['carol', 'alice']]);
});

test('current_setting reads the session settings, with missing_ok', async () => {
  const settings = new SessionSettings();
  settings.set('TimeZone', 'Asia/Tokyo');
  settings.set('myapp.tenant', '7');
  const ctx = context(settings);
  const { columns, rows } = await run(
    "SELECT current_setting('TimeZone'), current_setting('myapp.tenant'), current_setting('nope.x', true), current_setting('datestyle')::text AS ds",
    ctx,
  );
  assert.equal(columns, ['current_setting', 'current_setting', 'current_setting', 'ds']);
  assert.equal(rows, [['Asia/Tokyo', '7', null, 'ISO, MDY']]);
  await rejects(
    "SELECT current_setting('nope')",
    ctx,
    '42704',
    'unrecognized configuration parameter "nope"',
  );
});

test('set_config applies the setting, returns the value as shown, and is reported', async () => {
  const settings = new SessionSettings();
  settings.takeReports();
  const ctx = context(settings);
  const { columns, rows } = await run("SELECT set_config('timezone', 'europe/paris', false)", ctx);
  assert.equal(columns, ['set_config']);
  assert.equal(rows, [['Europe/Paris']]);
  assert.is(settings.get('TimeZone'), 'Europe/Paris');
  assert.equal(settings.takeReports(), [['TimeZone', 'Europe/Paris']]);
  // pg_dump's opening move.
  assert.equal((await run("SELECT pg_catalog.set_config('search_path', '', false)", ctx)).rows, [['']]);
  assert.is(settings.get('search_path'), '');
  // is_local lasts until the transaction ends.
  settings.beginTransaction();
  await run("SELECT set_config('myapp.role', 'admin', true)", ctx);
  assert.is(settings.get('myapp.role'), 'admin');
  settings.endTransaction(true);
  assert.is(settings.find('myapp.role'), undefined);
  await rejects(
    "SELECT set_config('TimeZone', 'Mars/Base', false)",
    ctx,
    '22023',
    'invalid value for parameter "TimeZone": "Mars/Base"',
  );
  await rejects(
    'SELECT set_config($1, $2, false)',
    ctx,
    '0A000',
    'set_config() with non-constant arguments is not supported',
  );
});

test('PostgreSQL regular-expression operators match anywhere, any case with ~*', async () => {
  const { rows } = await run(
    "SELECT 'pg_toast_1' ~ '^pg_toast', 'xabcx' ~ 'abc', 'pg_toast_1' !~ '^pg_toast', 'ABC' ~* 'b', 'ABC' !~* 'b'",
  );
  assert.equal(rows, [[true, true, false, true, false]]);
  // SIMILAR TO is a full match, and stays one when `~` appears too.
  assert.equal((await run("SELECT 'abc' SIMILAR TO 'b', 'abc' ~ 'b'")).rows, [[false, true]]);
});

test('parameters survive a rewrite', async () => {
  const { rows } = await run('SELECT version() AS v, $1::INTEGER + 1 AS n', context(), [41]);
  assert.equal(rows, [[VERSION_STRING, 42]]);
});

test('statements needing no rewrite come back untouched, without a parse', async () => {
  const ctx = context();
  for (const sql of [
    'SELECT 1 AS one',
    "SELECT 'version()' AS v",
    'SELECT "version" FROM t',
    'SELECT a, t.b, "C", * FROM t',
    'SELECT DISTINCT ON (a) a, b AS "B" FROM t',
    'INSERT INTO logins SELECT current_user, 1',
    'UPDATE logins SET "user" = current_user',
    'CREATE TABLE v AS SELECT version()',
    'FROM logins',
  ]) {
    assert.is(await rewriteQuery(sql, ctx, parser), sql, sql);
  }
  // A SELECT DuckDB cannot parse is left for DuckDB to report.
  assert.is(await rewriteQuery('SELECT version( FROM', ctx, parser), 'SELECT version( FROM');
});

test('casts to reg* types become catalog lookups', async () => {
  const { columns, rows } = await run(
    "SELECT 'logins'::regclass = (SELECT oid FROM pg_catalog.pg_class WHERE relname = 'logins'), 'int4'::regtype, 'integer[]'::regtype, 1007::regtype, 'pg_catalog.array_in'::regproc",
  );
  assert.equal(columns.slice(1), ['regtype', 'regtype', 'regtype', 'regproc']);
  assert.equal(rows, [[true, 23, 1007, 'integer[]', 'array_in']]);
});

test('the PostgreSQL pre-pass removes OPERATOR(pg_catalog.x) and default collations', async () => {
  const { rows } = await run(
    "SELECT relname FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(logins)$' COLLATE pg_catalog.default",
  );
  assert.equal(rows, [['logins']]);
});

/** A BLOB value as the hex PostgreSQL's encode(b, 'hex') prints. */
function hex(value: unknown): string {
  return Buffer.from((value as DuckDBBlobValue).bytes).toString('hex');
}

// Expected values checked against PostgreSQL 15: SELECT encode(<literal>, 'hex').
test('bytea literals in a SELECT mean the bytes PostgreSQL reads', async () => {
  const { columns, rows } = await run(
    String.raw`SELECT '\x0001ff'::bytea, bytea '\x41', CAST('\x4A4b' AS bytea), E'\\x7f'::bytea, 'a\\b\001\377'::bytea, '\x'::bytea AS empty, 'plain'::blob, '\x00'
'ff'::bytea`,
  );
  assert.equal(columns, ['bytea', 'bytea', 'bytea', 'bytea', 'bytea', 'empty', 'bytea', 'bytea']);
  assert.equal(rows[0]!.map(hex), ['0001ff', '41', '4a4b', '7f', '615c6201ff', '', '706c61696e', '00ff']);
  const nested = await run(
    String.raw`SELECT octet_length('\x0001ff'::bytea), '\x5c27'::bytea = '\\'''::bytea AS same`,
  );
  assert.equal(nested.columns, ['octet_length', 'same']);
  assert.equal(nested.rows, [[3n, true]]);
});

test('invalid bytea input fails as in PostgreSQL, at the literal', async () => {
  await rejects(String.raw`SELECT '\xzz'::bytea`, context(), '22023', 'invalid hexadecimal digit: "z"', 8);
  await rejects(
    String.raw`SELECT 'é', '\q'::bytea`,
    context(),
    '22P02',
    'invalid input syntax for type bytea',
    13,
  );
  await rejects(
    String.raw`INSERT INTO blobs VALUES (1, 'é', '\x0'::bytea)`,
    context(),
    '22023',
    'invalid hexadecimal data: odd number of digits',
    35,
  );
});

test("psycopg2's INSERT and UPDATE with inlined bytea store the right bytes", async () => {
  const ctx = context();
  await run(
    String.raw`INSERT INTO blobs (id, note, b) VALUES (1, 'héllo ✓ ''\x00''::bytea', '\x0001ff'::bytea), (2, NULL, bytea '\001\\')`,
    ctx,
  );
  await run(String.raw`INSERT INTO blobs VALUES (3, 'x', '\xbeef'::bytea) RETURNING id`, ctx);
  await run(String.raw`UPDATE blobs SET b = b || CAST(E'\\xdead' AS bytea) || '\x'::bytea WHERE id = 3`, ctx);
  await run(
    String.raw`UPDATE blobs SET b = b || '\x00'
  'ff'::bytea WHERE id = 3`,
    ctx,
  );
  await run(
    String.raw`WITH v AS (SELECT '\x2a'::bytea AS b) INSERT INTO blobs SELECT 4, 'cte', b FROM v`,
    ctx,
  );
  const { rows } = await run('SELECT id, note, b FROM blobs ORDER BY id');
  assert.equal(
    rows.map(([id, note, b]) => [id, note, hex(b)]),
    [
      [1, "héllo ✓ '\\x00'::bytea", '0001ff'],
      [2, null, '015c'],
      [3, 'x', 'beefdead00ff'],
      [4, 'cte', '2a'],
    ],
  );
  // The statement is rewritten literal by literal: everything else reaches DuckDB as written.
  assert.is(
    await rewriteQuery(
      String.raw`insert into blobs values (5, 'bytea', '\x00ff'::bytea) returning id`,
      ctx,
      parser,
    ),
    String.raw`insert into blobs values (5, 'bytea', '\x00\xFF'::bytea) returning id`,
  );
});

test('statements without a bytea literal are not parsed for one', async () => {
  const ctx = context();
  for (const sql of [
    "INSERT INTO blobs VALUES (1, 'bytea', NULL)",
    'INSERT INTO blobs SELECT 1, NULL, $1::bytea',
    'UPDATE blobs SET b = NULL::bytea',
    "INSERT INTO blobs VALUES (1, 'x', from_hex('00'))",
    'SELECT $1::bytea AS b',
  ]) {
    assert.is(await rewriteQuery(sql, ctx, parser), sql, sql);
  }
});

test('pg_catalog-qualified functions and types, as psql writes them', async () => {
  const { rows } = await run(
    "SELECT pg_catalog.lower('A'), 'x'::pg_catalog.text, '7'::pg_catalog.int4 + 1 AS n, pg_catalog.array_to_string(ARRAY['a', 'b'], ',') AS s",
  );
  assert.equal(rows, [['a', 'x', 8, 'a,b']]);
});

test('a one-column set-returning function in FROM is named by its alias, as in PostgreSQL', async () => {
  const series = await run('SELECT s FROM generate_series(1, 3) s WHERE s > 1');
  assert.equal(series.columns, ['s']);
  assert.equal(series.rows, [[2n], [3n]]);
  const qualified = await run('SELECT * FROM pg_catalog.generate_series(1, 2) AS g');
  assert.equal(qualified.columns, ['g']);
  const unnested = await run('SELECT x * 10 AS y FROM unnest([1, 2]) x');
  assert.equal(unnested.rows, [[10], [20]]);
  // Column aliases given explicitly are kept.
  assert.equal((await run('SELECT * FROM generate_series(1, 1) AS t(n)')).columns, ['n']);
});

test('constants a JS number cannot hold survive the trip through the statement tree', async () => {
  const { rows } = await run(
    String.raw`SELECT '\x00'::bytea AS b, CAST(-9223372036854775808 AS int8) AS m, CAST(12345678901234567890.123456 AS numeric(38,6)) AS d, 18446744073709551615::UBIGINT AS u, 1.0 AS one, version() AS v`,
  );
  const [b, m, d, u, one] = rows[0]!;
  assert.is(hex(b), '00');
  assert.is(m, -9223372036854775808n);
  assert.is(String(d), '12345678901234567890.123456');
  assert.is(u, 18446744073709551615n);
  assert.is(String(one), '1.0');
});

test.run();
