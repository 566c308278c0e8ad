// Result column names: every select list runs on a throwaway PostgreSQL 15 and, through rewriteQuery,
// on DuckDB (set up as the coordinator sets it up), and the column names must be the same. The names are
// what a client reads from RowDescription: node-postgres's fields on one side, the names DuckDB gives
// the prepared statement's columns (which the session sends) on the other.
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { COMPAT_SCHEMA } from '../../src/sql/compatSchema.js';
import { type RewriteContext, rewriteQuery } from '../../src/sql/rewriteQuery.js';
import { SessionSettings } from '../../src/sql/SessionSettings.js';
import { SqlParser } from '../../src/sql/SqlParser.js';
import { type PgServer, startPostgres } from '../helpers/postgres.js';

let server: PgServer;
let client: pg.Client;
let parser: SqlParser;
let instance: DuckDBInstance;
let db: DuckDBConnection;

const TABLES = [
  'CREATE TABLE t (a integer, b text, x integer, arr integer[], ts timestamp)',
  "INSERT INTO t VALUES (1, 'one', 10, [1, 2], TIMESTAMP '2024-01-02 03:04:05')",
  'CREATE TABLE u (a integer, c text)',
  "INSERT INTO u VALUES (1, 'c')",
];

test.before(async () => {
  server = await startPostgres();
  client = new pg.Client({ connectionString: server.url });
  await client.connect();
  // PostgreSQL writes array literals ARRAY[...]; DuckDB accepts both.
  for (const sql of TABLES) await client.query(sql.replace('[1, 2]', 'ARRAY[1, 2]'));
  parser = await SqlParser.open();
  instance = await DuckDBInstance.create(':memory:');
  db = await instance.connect();
  await db.run('SET integer_division = true');
  for (const sql of COMPAT_SCHEMA) await db.run(sql);
  for (const sql of TABLES) await db.run(sql);
});

test.after(async () => {
  await client?.end();
  await server?.stop();
  db?.closeSync();
  instance?.closeSync();
  parser?.close();
});

function context(): RewriteContext {
  return {
    settings: new SessionSettings({ session_authorization: 'alice' }),
    user: 'alice',
    database: 'shop',
    pid: 1,
  };
}

async function postgresNames(sql: string): Promise<string[]> {
  const result = await client.query({ text: sql, rowMode: 'array' });
  return result.fields.map((f) => f.name);
}

async function mallardNames(sql: string): Promise<string[]> {
  const rewritten = await rewriteQuery(sql, context(), parser);
  const prepared = await db.prepare(rewritten);
  try {
    return Array.from({ length: prepared.columnCount }, (_, i) => prepared.columnName(i));
  } finally {
    prepared.destroySync();
  }
}

// Each select list is valid in both PostgreSQL 15 and DuckDB.
const SELECT_LISTS = [
  'SELECT 1',
  'SELECT 1, 2, 3',
  "SELECT 'x'",
  'SELECT -1, 1.5, NULL, true',
  'SELECT a, t.b, x FROM t',
  'SELECT A, T.B FROM t',
  'SELECT * FROM t',
  'SELECT t.*, 1 FROM t',
  'SELECT count(*) FROM t',
  'SELECT count(a), sum(x), max(b), min(t.a) FROM t',
  'SELECT now() IS NOT NULL, lower(b), pg_catalog.upper(b) FROM t',
  "SELECT 'x'::text, 1::int4, 1::integer, 1::bigint, 2::smallint",
  "SELECT CAST(a AS integer), CAST('1' AS integer), CAST(b AS varchar) FROM t",
  "SELECT '1'::numeric, 1.5::float8, 1::real, 'a'::varchar, 'a'::character varying",
  'SELECT a::text, (a + 1)::text, b::varchar(3) FROM t',
  "SELECT true::boolean, '2024-01-01'::date, '2024-01-01'::timestamp, '2024-01-01'::timestamptz",
  "SELECT date '2024-01-01', interval '1 day', timestamp '2024-01-01 00:00:00'",
  'SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END FROM t',
  'SELECT CASE WHEN a > 0 THEN 1 ELSE x END FROM t',
  'SELECT CASE WHEN a > 0 THEN 1 END FROM t',
  "SELECT CASE a WHEN 1 THEN 'one' ELSE b::text END FROM t",
  'SELECT (SELECT max(x) FROM t), (SELECT 1), (SELECT c FROM u)',
  'SELECT EXISTS (SELECT 1 FROM t), NOT EXISTS (SELECT 1 FROM t)',
  'SELECT ARRAY[1, 2], ARRAY[a, x] FROM t',
  'SELECT ROW(1, 2), (1, 2)',
  'SELECT a + 1, a * x, -a, a || b, a = 1, a IN (1, 2), a BETWEEN 1 AND 2 FROM t',
  "SELECT b LIKE 'o%', b IS NULL, a IS DISTINCT FROM x, NOT true FROM t",
  'SELECT coalesce(a, 0), nullif(a, 1), greatest(a, x), least(a, x) FROM t',
  'SELECT current_date IS NOT NULL, current_timestamp IS NOT NULL',
  'SELECT current_date, current_timestamp, localtimestamp',
  'SELECT arr[1], t.arr[2] FROM t',
  'SELECT a / 2, a % 2, 7 / 2, mod(a, 2) FROM t',
  'SELECT sum(a / x), abs(sum(a) % 3), sum(a) / count(*) FROM t',
  'SELECT (SELECT a FROM t) + 1, (SELECT a FROM t)::text, b::text::varchar FROM t',
  "SELECT user, current_user, version(), current_setting('TimeZone') IS NOT NULL",
  'SELECT a AS "Alias", 1 AS one, count(*) AS Total FROM t GROUP BY a',
  'SELECT a b, count(*) n FROM t GROUP BY a',
  'SELECT DISTINCT a, b FROM t',
  'SELECT DISTINCT ON (a) a, x + 1 FROM t ORDER BY a',
  'SELECT 1 UNION ALL SELECT 2',
  'SELECT a, count(*) FROM t GROUP BY a UNION SELECT x, 1 FROM t ORDER BY 1',
  'WITH w AS (SELECT a, a * 2 AS d FROM t) SELECT d, a + d, max(d) FROM w GROUP BY d, a',
  'SELECT s FROM generate_series(1, 3) s',
  "SELECT length('abc'), substring('abc' FROM 2), position('b' IN 'abc'), trim(' a ')",
  "SELECT extract(year FROM ts), date_trunc('day', ts) FROM t",
  'SELECT v.a, v.n FROM (SELECT a, count(*) AS n FROM t GROUP BY a) v',
  'SELECT (a), ((a + 1)) FROM t',
  'SELECT a::text COLLATE "C" FROM t',
  "SELECT 'a' || 'b', upper('a') || lower('B')",
  'SELECT row_number() OVER (), rank() OVER (ORDER BY a) FROM t',
];

test('unaliased select-list items are named as PostgreSQL 15 names them', async () => {
  const failures: string[] = [];
  for (const sql of SELECT_LISTS) {
    const expected = await postgresNames(sql).catch((e: Error) => [`postgres error: ${e.message}`]);
    const actual = await mallardNames(sql).catch((e: Error) => [`duckdb error: ${e.message}`]);
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      failures.push(`${sql}\n  postgres: ${JSON.stringify(expected)}\n  mallard:  ${JSON.stringify(actual)}`);
    }
  }
  assert.is(failures.join('\n'), '', `${failures.length} of ${SELECT_LISTS.length} select lists differ`);
});

test('names the rules pin, so a PostgreSQL that changed would show here', async () => {
  assert.equal(await postgresNames("SELECT 'x'::text, 1::int, CAST(a AS integer), 1 FROM t"), [
    'text',
    'int4',
    'a',
    '?column?',
  ]);
  assert.equal(await mallardNames("SELECT 'x'::text, 1::int, CAST(a AS integer), 1 FROM t"), [
    'text',
    'int4',
    'a',
    '?column?',
  ]);
});

test('inner select lists keep their names: only the top level is renamed', async () => {
  const sql = 'SELECT v.n FROM (SELECT count(*) AS n, 1 FROM t) v';
  assert.is(await rewriteQuery(sql, context(), parser), sql);
  const inner = await rewriteQuery('SELECT 1, n FROM (SELECT count(*) FROM t) v(n)', context(), parser);
  assert.ok(inner.includes('"?column?"'), inner);
  assert.not.ok(inner.includes('AS count') || inner.includes('AS "count"'), inner);
});

test('only select lists that need names pay a parse, and a repeated statement pays it once', async () => {
  let parses = 0;
  const parse = parser.parse.bind(parser);
  parser.parse = (sql: string) => {
    parses++;
    return parse(sql);
  };
  try {
    for (const sql of [
      'SELECT a, t.b, "x", * FROM t',
      'SELECT DISTINCT a AS total, t.* FROM t WHERE a + 1 > 0 ORDER BY 1',
      'SELECT 1 AS one',
    ]) {
      assert.is(await rewriteQuery(sql, context(), parser), sql);
    }
    assert.is(parses, 0);
    const sql = 'SELECT 40 + 2';
    assert.is(await rewriteQuery(sql, context(), parser), 'SELECT (40 + 2) AS "?column?"');
    assert.is(parses, 1);
    assert.is(await rewriteQuery(sql, context(), parser), 'SELECT (40 + 2) AS "?column?"');
    assert.is(parses, 1);
  } finally {
    parser.parse = parse;
  }
});

test.run();
