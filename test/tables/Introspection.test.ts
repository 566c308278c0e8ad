// What clients learn about Parquet catalog tables from pg_catalog and information_schema (psql's \d,
// JDBC's and ORMs' metadata queries), next to what PostgreSQL 15 answers for the same DDL.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type RunResult, run } from '../helpers/run.js';
import { type Pair, startPair } from './pgDiff.js';

let pair: Pair;

test.before(async () => {
  pair = await startPair();
  const ddl = [
    'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, price numeric(10,2) CHECK (price > 0), sku integer UNIQUE, added date)',
    'CREATE INDEX items_added ON items (added)',
    'CREATE VIEW cheap AS SELECT id, price FROM items WHERE price < 10',
    'CREATE SCHEMA shop',
    'CREATE TABLE shop.orders (order_id bigint PRIMARY KEY, item integer NOT NULL, amount double precision)',
  ];
  for (const sql of ddl) {
    await pair.m.query(sql);
    await pair.p.query(sql);
  }
});

test.after(async () => {
  await pair?.stop();
});

function psql(url: string, command: string): Promise<RunResult> {
  return run('/usr/bin/psql', ['-X', '-d', url, '-P', 'pager=off', '-c', command], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C.UTF-8' },
  });
}

/** psql's output on both servers, without the Owner column (the user names differ). */
async function bothPsql(command: string): Promise<{ mallard: string; postgres: string }> {
  const [m, p] = await Promise.all([psql(pair.mallard.url, command), psql(pair.postgres.url, command)]);
  assert.is(m.stderr, '', `mallard: ${command}`);
  assert.is(p.stderr, '', `postgres: ${command}`);
  return { mallard: m.stdout, postgres: p.stdout };
}

async function rowsOn(sql: string): Promise<{ mallard: unknown[]; postgres: unknown[] }> {
  const [m, p] = await Promise.all([pair.m.query(sql), pair.p.query(sql)]);
  return { mallard: m.rows, postgres: p.rows };
}

test('\\dt and \\d list the catalog tables, views and sequences in their schemas', async () => {
  const dt = await psql(pair.mallard.url, '\\dt public.*');
  assert.is(dt.stderr, '');
  assert.match(dt.stdout, /^ public \| items \| table \|/m);
  const all = await psql(pair.mallard.url, '\\d');
  assert.match(all.stdout, /^ public \| cheap\s+\| view\s+\|/m);
  assert.match(all.stdout, /^ public \| items\s+\| table\s+\|/m);
  assert.match(all.stdout, /^ public \| items_id_seq \| sequence \|/m);
  const shop = await psql(pair.mallard.url, '\\dt shop.*');
  assert.match(shop.stdout, /^ shop\s+\| orders \| table \|/m);
  const schemas = await psql(pair.mallard.url, '\\dn shop');
  assert.match(schemas.stdout, /^ shop \|/m);
});

test('\\d table shows columns, types, not-null, defaults, keys, indexes and checks as PostgreSQL does', async () => {
  const { mallard, postgres } = await bothPsql('\\d items');
  // Defaults and checks are printed from each engine's own expression text (PostgreSQL adds casts);
  // everything else is PostgreSQL's.
  const withoutDefaults = (s: string) =>
    s
      .split('\n')
      .map((l) =>
        l
          .replace(/\| nextval\(.*$/, '| nextval(...)')
          .replace(/CHECK \(.*$/, 'CHECK (...)')
          .trim()
          .replace(/[ -]+$/, ''),
      )
      .filter((l) => !l.startsWith('-'))
      .join('\n');
  assert.fixture(withoutDefaults(mallard), withoutDefaults(postgres));
  assert.match(mallard, /"items_pkey" PRIMARY KEY, btree \(id\)/);
  assert.match(mallard, /"items_sku_key" UNIQUE CONSTRAINT, btree \(sku\)/);
  assert.match(mallard, /"items_price_check" CHECK \(price > 0/);
});

test('pg_attribute with format_type, as ORMs reflect columns, matches PostgreSQL', async () => {
  const sql = `SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull, a.atthasdef
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = 'shop.orders'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`;
  const r = await rowsOn(sql);
  assert.equal(r.mallard, r.postgres);
  assert.equal(r.mallard, [
    { attname: 'order_id', type: 'bigint', attnotnull: true, atthasdef: false },
    { attname: 'item', type: 'integer', attnotnull: true, atthasdef: false },
    { attname: 'amount', type: 'double precision', attnotnull: false, atthasdef: false },
  ]);
});

test('pg_constraint and pg_index name the keys and checks as PostgreSQL does', async () => {
  const cons = await rowsOn(
    `SELECT conname, contype FROM pg_catalog.pg_constraint WHERE conrelid = 'items'::regclass ORDER BY conname`,
  );
  assert.equal(cons.mallard, cons.postgres);
  const idx = await rowsOn(
    `SELECT c.relname, i.indisprimary, i.indisunique FROM pg_catalog.pg_index i
       JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
     WHERE i.indrelid = 'items'::regclass ORDER BY c.relname`,
  );
  assert.equal(idx.mallard, idx.postgres);
});

test('information_schema lists the tables and their columns', async () => {
  const tables = await rowsOn(
    `SELECT table_schema, table_name FROM information_schema.tables
     WHERE table_schema IN ('public', 'shop') ORDER BY 1, 2`,
  );
  assert.equal(tables.mallard, tables.postgres);
  const columns = await rowsOn(
    `SELECT column_name, is_nullable FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name = 'items' ORDER BY ordinal_position`,
  );
  assert.equal(columns.mallard, columns.postgres);
});

test('pgjdbc DatabaseMetaData lists the same tables and columns as for PostgreSQL', async () => {
  const jar = '/usr/share/java/postgresql.jar';
  if (!existsSync(jar))
    throw new Error(`${jar} is missing; install it with: apt-get install -y libpostgresql-jdbc-java`);
  const classes = mkdtempSync(join(tmpdir(), 'mallard-jdbc-meta-'));
  try {
    const source = fileURLToPath(new URL('../../../test/tables/JdbcMetadata.java', import.meta.url));
    const javac = await run('javac', ['-d', classes, '-cp', jar, source], { timeoutMs: 120_000 });
    assert.is(javac.code, 0, `javac (apt-get install -y openjdk-17-jdk-headless): ${javac.stderr}`);
    const meta = (host: string, port: number, database: string, user: string) =>
      run(
        'java',
        ['-cp', `${classes}:${jar}`, 'JdbcMetadata', host, String(port), database, user, 'public'],
        {
          timeoutMs: 120_000,
        },
      );
    const { mallard, postgres } = pair;
    const [m, p] = await Promise.all([
      meta(mallard.host, mallard.port, 'mallard', 'mallard'),
      meta(postgres.host, postgres.port, postgres.database, postgres.user),
    ]);
    assert.is(m.code, 0, m.stderr);
    assert.is(p.code, 0, p.stderr);
    assert.fixture(m.stdout, p.stdout);
    assert.match(m.stdout, 'column items.id serial type=4');
  } finally {
    rmSync(classes, { recursive: true, force: true });
  }
});

test('ALTER TABLE, RENAME and DROP show at once, in this session and in others', async () => {
  const statements = [
    'ALTER TABLE items ADD COLUMN stock integer NOT NULL DEFAULT 0',
    'ALTER TABLE items RENAME COLUMN added TO added_on',
    'ALTER TABLE items ALTER COLUMN sku TYPE bigint',
    'ALTER TABLE items DROP COLUMN name',
    'ALTER TABLE shop.orders RENAME TO purchases',
  ];
  for (const sql of statements) {
    await pair.m.query(sql);
    await pair.p.query(sql);
  }
  const sql = `SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = 'items'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attname`;
  const r = await rowsOn(sql);
  assert.equal(r.mallard, r.postgres);
  const { mallard } = await bothPsql('\\dt shop.*');
  assert.match(mallard, /^ shop\s+\| purchases \| table \|/m);
  await pair.m.query('DROP VIEW cheap');
  await pair.m.query('DROP TABLE shop.purchases');
  const gone = await pair.m.query(
    `SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('public', 'shop') AND c.relkind IN ('r', 'v') ORDER BY 1`,
  );
  assert.equal(
    gone.rows.map((x) => x.relname),
    ['items'],
  );
});

test.run();
