// The table layer's executor on its own (no server): where the rows live, parameter typing, the COPY
// path, distribution, system views, DuckDB-dialect queries, and results compared with plain DuckDB.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DECIMAL, INTEGER, VARCHAR } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PgError } from '../../protocol/pg/PgError.js';
import { DATABASE_FILE } from '../../src/executor/Engine.js';
import { MIRROR_CATALOG } from '../../src/sql/compatSchema.js';
import { SYSTEM_VIEW_SQL } from '../../src/tables/mallardTables.js';
import type { TableExecutor } from '../../src/tables/TableExecutor.js';
import { duckRows, openTables, q, referenceDuckDB, type TablesFixture } from './tablesFixture.js';

let f: TablesFixture;
let s: TableExecutor;

test.before(async () => {
  f = await openTables();
  s = await f.session();
});
test.after(async () => {
  await f?.dispose();
});

async function error(promise: Promise<unknown>): Promise<PgError> {
  try {
    await promise;
  } catch (err) {
    assert.instance(err, PgError, String(err));
    return err as PgError;
  }
  throw new Error('expected a failure');
}

test('tables live in the catalog as Parquet, not in the DuckDB file', async () => {
  await q(s, 'CREATE TABLE places (id int PRIMARY KEY, name text)');
  await q(s, "INSERT INTO places SELECT i, 'p' || i FROM range(500) AS t(i)");
  const snap = f.catalog.snapshot();
  try {
    const t = snap.requireTable({ schema: 'public', name: 'places' });
    assert.is(t.files.length, 1);
    assert.ok(existsSync(join(f.dataDir, t.files[0]!.path)), 'the data file exists');
  } finally {
    snap.release();
  }
  assert.ok(existsSync(join(f.dataDir, DATABASE_FILE)));
  // The session's own database has no such table; DuckDB's catalog lists only the empty copy in the
  // mirror that pg_catalog and information_schema read.
  const native = await q(
    s,
    "SELECT database_name, estimated_size FROM duckdb_tables() WHERE table_name = 'places'",
  );
  assert.equal(native.rows, [[MIRROR_CATALOG, 0]]);
  assert.equal((await q(s, 'SELECT count(*), max(name) FROM places')).rows, [[500, 'p99']]);
});

test('INSERT parameters are typed as the target columns', async () => {
  await q(s, 'CREATE TABLE typed (a int, b decimal(10,3), c varchar, d date)');
  const prepared = await s.prepare('INSERT INTO typed (b, a, c) VALUES ($1, $2, $3)', []);
  assert.equal(
    prepared.paramTypes.map((t) => t.toString()),
    [DECIMAL(10, 3).toString(), INTEGER.toString(), VARCHAR.toString()],
  );
  assert.is(prepared.tag, 'INSERT 0');
  assert.equal(prepared.columns, []);
  prepared.close();
  const update = await s.prepare('UPDATE typed SET b = b + $1 WHERE a = $2', []);
  assert.equal(
    update.paramTypes.map((t) => t.toString()),
    [DECIMAL(10, 3).toString(), INTEGER.toString()],
  );
  update.close();
});

test('COPY path: batched multi-row INSERTs in a block are staged, visible to the session, atomic', async () => {
  await q(s, 'CREATE TABLE loaded (id bigint PRIMARY KEY, v text)');
  const width = 2;
  const rows = 400;
  const tuples = Array.from({ length: rows }, (_, r) => `($${r * width + 1}, $${r * width + 2})`);
  const sql = `INSERT INTO loaded (id, v) VALUES ${tuples.join(', ')}`;
  const batch = (start: number) =>
    Array.from({ length: rows }, (_, r) => [BigInt(start + r), `v${start + r}`]).flat();
  await q(s, 'BEGIN TRANSACTION');
  assert.is((await q(s, sql, batch(0))).tag, 'INSERT 0 400');
  assert.is((await q(s, sql, batch(400))).tag, 'INSERT 0 400');
  // The session sees its staged rows...
  assert.equal((await q(s, 'SELECT count(*) FROM loaded')).rows, [[800]]);
  // ...another session does not, until COMMIT.
  const other = await f.session();
  assert.equal((await q(other, 'SELECT count(*) FROM loaded')).rows, [[0]]);
  await q(s, sql, batch(800));
  await q(s, 'COMMIT');
  assert.equal((await q(other, 'SELECT count(*), min(id), max(id), max(v) FROM loaded')).rows, [
    [1200, 0, 1199, 'v999'],
  ]);

  // A duplicate key in a staged batch fails the COMMIT with 23505 and nothing of the block stays.
  await q(s, 'BEGIN TRANSACTION');
  await q(s, sql, batch(5000));
  await q(s, sql, batch(1100));
  const err = await error(q(s, 'COMMIT'));
  assert.is(err.code, '23505');
  assert.equal((await q(other, 'SELECT count(*) FROM loaded')).rows, [[1200]]);
});

test('create_distributed_table buckets by key; colocate_with shares the group; mallard_tables shows it', async () => {
  await q(s, 'CREATE TABLE orders (o_orderkey bigint, o_total decimal(12,2))');
  await q(s, 'INSERT INTO orders SELECT i, i * 1.5 FROM range(1000) AS t(i)');
  const call = await q(s, "SELECT create_distributed_table('orders', 'o_orderkey', shard_count => 4)");
  assert.equal(call, { rows: [['']], tag: 'SELECT 1' });
  await q(s, 'CREATE TABLE lineitem (l_orderkey bigint, l_qty int)');
  await q(
    s,
    "SELECT create_distributed_table('lineitem', 'l_orderkey', colocate_with => 'orders', shard_count => 4)",
  );
  await q(s, 'INSERT INTO lineitem SELECT i % 1000, 1 FROM range(3000) AS t(i)');
  await q(s, 'CREATE TABLE nation (n_key int, n_name text)');
  await q(s, "SELECT create_reference_table('nation')");
  const t = await q(
    s,
    "SELECT table_name, distribution, distribution_column, buckets, rows FROM mallard_tables WHERE table_name IN ('orders', 'lineitem', 'nation') ORDER BY table_name",
  );
  assert.equal(t.rows, [
    ['lineitem', 'hash', 'l_orderkey', 4, 3000],
    ['nation', 'reference', null, null, 0],
    ['orders', 'hash', 'o_orderkey', 4, 1000],
  ]);
  const groups = await q(
    s,
    "SELECT count(DISTINCT colocation_group) FROM mallard_tables WHERE distribution = 'hash'",
  );
  assert.equal(groups.rows, [[1]]);
  // Files are per bucket, and bucket i of lineitem holds only keys of bucket i of orders.
  const snap = f.catalog.snapshot();
  try {
    const o = snap.requireTable({ schema: 'public', name: 'orders' });
    assert.ok(o.files.every((file) => file.bucket !== null));
    const tasks = f.storage.scanTasks(snap, { schema: 'public', name: 'orders' });
    const ltasks = f.storage.scanTasks(snap, { schema: 'public', name: 'lineitem' });
    assert.is(tasks.length, 4);
    for (let b = 0; b < 4; b++) {
      const joined = await q(
        s,
        `SELECT count(*) FROM (${ltasks[b]!.sql}) l WHERE l.l_orderkey NOT IN (SELECT o_orderkey FROM (${tasks[b]!.sql}) o)`,
      );
      assert.equal(joined.rows, [[0]], `bucket ${b} is co-located`);
    }
  } finally {
    snap.release();
  }
  // The join over all buckets is the same as on one table.
  assert.equal(
    (await q(s, 'SELECT count(*), sum(o_total) FROM orders JOIN lineitem ON o_orderkey = l_orderkey')).rows,
    [[3000, '2247750.00']],
  );
});

test('mallard_table_files lists each file with its rows, bytes, bucket and pending deletes', async () => {
  await q(s, 'CREATE TABLE filed (k int PRIMARY KEY, v text)');
  await q(s, "SELECT create_distributed_table('filed', 'k', shard_count => 2)");
  await q(s, "INSERT INTO filed SELECT i, 'v' || i FROM range(400) AS t(i)");
  await q(s, 'DELETE FROM filed WHERE k < 10');
  await q(s, "INSERT INTO filed VALUES (1000, 'inline')");
  const snap = f.catalog.snapshot();
  let sql: string;
  let files: { id: number; path: string; rows: number; bytes: number; bucket: number | null }[];
  try {
    sql = SYSTEM_VIEW_SQL.get('mallard_table_files')!(snap);
    files = [...snap.requireTable({ schema: 'public', name: 'filed' }).files];
  } finally {
    snap.release();
  }
  const rows = (
    await q(
      s,
      `SELECT kind, file_id, path, bucket, rows, live_rows, bytes, deleted_rows, delete_files FROM (${sql}) WHERE table_name = 'filed' ORDER BY kind, file_id`,
    )
  ).rows;
  assert.is(files.length, 2, 'one file per bucket');
  const parquet = rows.filter((r) => r[0] === 'parquet');
  assert.equal(
    parquet.map((r) => [r[1], r[2], r[3], r[4], r[6]]),
    files.map((file) => [file.id, file.path, file.bucket, file.rows, file.bytes]),
  );
  // Ten rows deleted by records against the files, none folded yet; the single-row insert is inline.
  assert.is(
    parquet.reduce((n, r) => n + Number(r[7]), 0),
    10,
  );
  assert.is(
    parquet.reduce((n, r) => n + Number(r[5]), 0),
    390,
  );
  assert.equal(
    rows.filter((r) => r[0] === 'inline'),
    [['inline', null, null, null, 1, 1, null, 0, 0]],
  );
  // The view is empty but typed when there are no tables to show.
  const none = await q(s, `SELECT count(*) FROM (${sql}) WHERE table_name = 'no_such_table'`);
  assert.equal(none.rows, [[0]]);
});

test('DuckDB-dialect queries on catalog tables go through DuckDB’s parser', async () => {
  await q(s, 'CREATE TABLE dd (a int, b int, c text)');
  await q(s, "INSERT INTO dd VALUES (1, 2, 'x'), (3, 4, 'y')");
  assert.equal((await q(s, 'SELECT * EXCLUDE (b) FROM dd ORDER BY a')).rows, [
    [1, 'x'],
    [3, 'y'],
  ]);
  assert.equal((await q(s, 'FROM dd SELECT a + b AS s ORDER BY s')).rows, [[3], [7]]);
  // A CTE named like a table hides it.
  assert.equal((await q(s, 'WITH dd AS (SELECT 42 AS a) SELECT a FROM dd')).rows, [[42]]);
});

test('DuckDB-only CREATE TABLE syntax is refused; quoted DuckDB types work', async () => {
  const err = await error(q(s, 'CREATE TABLE st (s STRUCT(a INTEGER))'));
  assert.is(err.code, '0A000');
  await q(
    s,
    'CREATE TABLE nested (id int, s "STRUCT(a INTEGER, b VARCHAR)", m "MAP(VARCHAR, INTEGER)", l int[])',
  );
  // Values in DuckDB's text form, cast to the column types (DuckDB's `{...}` literals are not PostgreSQL).
  await q(s, "INSERT INTO nested VALUES (1, '{a: 1, b: x}', '{k=7}', ARRAY[1, 2, 3])");
  assert.equal((await q(s, "SELECT s.a, s.b, m['k'], l[2] FROM nested")).rows, [[1, 'x', 7, 2]]);
});

test('the same statements give the same results as a plain DuckDB', async () => {
  const ref = await referenceDuckDB();
  const statements = [
    'CREATE TABLE cmp (id INTEGER PRIMARY KEY, grp VARCHAR, x DOUBLE, d DATE, n DECIMAL(9,2))',
    "INSERT INTO cmp SELECT i, 'g' || (i % 7), i / 3.0, DATE '2024-01-01' + CAST(i AS INTEGER), i * 0.25 FROM range(2000) AS t(i)",
    'UPDATE cmp SET x = x * 2 WHERE grp IN (SELECT grp FROM cmp WHERE id < 3)',
    "DELETE FROM cmp WHERE d > DATE '2028-01-01'",
    "INSERT INTO cmp VALUES (5000, 'new', 1.5, DATE '2020-02-02', 12.5)",
  ];
  for (const sql of statements) {
    await q(s, sql);
    await ref.conn.run(sql);
  }
  const queries = [
    'SELECT grp, count(*), sum(x), min(d), max(n) FROM cmp GROUP BY grp ORDER BY grp',
    'SELECT id, x, d, n FROM cmp WHERE id % 97 = 0 ORDER BY id',
    'SELECT a.grp, count(*) FROM cmp a JOIN cmp b ON a.id = b.id + 1 GROUP BY ALL ORDER BY 1',
  ];
  for (const sql of queries) {
    assert.equal((await q(s, sql)).rows, await duckRows(ref.conn, sql), sql);
  }
  ref.close();
});

test('views are stored in the catalog and expand per snapshot', async () => {
  await q(s, 'CREATE TABLE vt (k int, v int)');
  await q(s, 'CREATE VIEW vt_sum AS SELECT k, sum(v) AS total FROM vt GROUP BY k');
  await q(s, 'INSERT INTO vt VALUES (1, 10), (1, 5), (2, 7)');
  assert.equal((await q(s, 'SELECT * FROM vt_sum ORDER BY k')).rows, [
    [1, 15],
    [2, 7],
  ]);
  const err = await error(q(s, 'DROP TABLE vt'));
  assert.is(err.code, '2BP01');
  await q(s, 'DROP TABLE vt CASCADE');
  assert.is((await error(q(s, 'SELECT * FROM vt_sum'))).code, '42P01');
});

test('tables, views, sequences and enum types survive a restart of the catalog', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mallard-tables-restart-'));
  try {
    const first = await openTables(dir);
    const a = await first.session();
    await q(a, "CREATE TYPE level AS ENUM ('low', 'high')");
    await q(a, 'CREATE TABLE kept (id serial PRIMARY KEY, lvl level)');
    await q(a, "INSERT INTO kept (lvl) VALUES ('high'), ('low')");
    await q(a, 'CREATE VIEW kept_high AS SELECT id FROM kept WHERE lvl = $$high$$');
    await first.dispose();
    const second = await openTables(dir);
    const b = await second.session();
    await q(b, "INSERT INTO kept (lvl) VALUES ('high')");
    assert.equal((await q(b, 'SELECT * FROM kept_high ORDER BY id')).rows, [[1], [3]]);
    assert.is((await error(q(b, "CREATE TYPE level AS ENUM ('x')"))).code, '42710');
    await second.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
