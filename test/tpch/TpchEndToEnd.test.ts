// The TPC-H kit end to end at SF 0.1: `mallard tpch --load` creates and fills the eight tables in a running
// Mallard (Parquet catalog), and the 22 queries through node-postgres give single-node DuckDB's answers
// over the same files: exact after ordering, decimals and floats within a relative 1e-9. Once in the
// Citus layout (co-located hash tables and reference tables), once balanced.
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TPCH_QUERIES } from '../../src/tpch/queries.js';
import { TPCH_TABLES } from '../../src/tpch/tables.js';
import { loudHook } from '../helpers/loudHook.js';
import { type MallardServer, startMallard } from '../helpers/mallard.js';
import { answerDifference, duckAnswer, pgAnswer, postgresColumnNames } from './sameAnswer.js';
import { openTpchDb, type TpchDb } from './tpchDb.js';
import { mallardTpch, tpchCacheDir } from './tpchKit.js';

const SF = 0.1;

let dir = '';
let server: MallardServer;
let client: pg.Client;
let duck: TpchDb;

test.before(
  loudHook(async () => {
    dir = tpchCacheDir(SF);
    server = await startMallard({
      // SF 0.1 is under the coordinator-local threshold: 0 sends every query the planner can split to the workers.
      args: ['--table-storage', 'parquet', '--readable-dir', dir, '--local-max-rows', '0'],
    });
    client = new pg.Client({ connectionString: server.url });
    client.on('error', () => {});
    await client.connect();
  }),
);

test.after(async () => {
  await client?.end().catch(() => {});
  duck?.close();
  await server?.stop();
});

/** Runs `mallard tpch --sf 0.1 --out <cache> --reuse --load <server> ...extra` and requires success. */
async function load(...extra: string[]): Promise<string> {
  const r = await mallardTpch(['--sf', String(SF), '--out', dir, '--reuse', '--load', server.url, ...extra]);
  assert.is(r.code, 0, `mallard tpch --load failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

interface TableRow {
  table_name: string;
  distribution: string;
  distribution_column: string | null;
  colocation_group: number | null;
  buckets: number | null;
  rows: string;
}

async function tables(): Promise<Map<string, TableRow>> {
  const r = await client.query<TableRow>(
    'SELECT table_name, distribution, distribution_column, colocation_group, buckets, rows FROM mallard_tables',
  );
  return new Map(r.rows.map((row) => [row.table_name, row]));
}

/** Each table holds exactly the rows of its file, counted by DuckDB. */
async function assertRowCounts(): Promise<void> {
  const loaded = await tables();
  for (const table of TPCH_TABLES) {
    const want = await duck.number(`SELECT count(*) FROM ${table}`);
    assert.is(Number(loaded.get(table)?.rows), want, `${table} rows in mallard_tables`);
    const counted = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
    assert.is(Number(counted.rows[0]!.n), want, `count(*) of ${table}`);
  }
}

/** Runs all 22 queries on both sides and fails naming every query whose answer differs, not just the first. */
async function assertQueriesMatch(layout: string): Promise<void> {
  const failures: string[] = [];
  for (const q of TPCH_QUERIES) {
    const expected = await duckAnswer(duck.conn, q.sql);
    assert.ok(expected.rows.length > 0, `Q${q.id} is empty on DuckDB: nothing would be compared`);
    try {
      const actual = await pgAnswer(client, q.sql);
      const difference = answerDifference(expected, actual, postgresColumnNames(q.id, expected.columns));
      if (difference !== undefined) failures.push(`Q${q.id}: ${difference}`);
    } catch (e) {
      failures.push(`Q${q.id} failed on Mallard: ${(e as Error).message}`);
    }
  }
  assert.is(failures.length, 0, `${layout} layout, ${failures.length} of 22 differ:\n${failures.join('\n')}`);
}

test('mallard tpch --load creates and fills the eight tables in the Citus layout', async () => {
  const out = await load();
  // The files are cached across runs; open DuckDB over them only once the command has made sure they exist.
  duck = await openTpchDb(dir);
  for (const table of TPCH_TABLES) assert.ok(out.includes(`loaded ${table}`), out);
  assert.ok(out.includes('loaded 8 tables (colocated)'), out);

  const t = await tables();
  for (const name of ['region', 'nation', 'supplier', 'customer']) {
    assert.is(t.get(name)?.distribution, 'reference', name);
  }
  for (const [name, column] of [
    ['lineitem', 'l_orderkey'],
    ['orders', 'o_orderkey'],
    ['partsupp', 'ps_partkey'],
    ['part', 'p_partkey'],
  ] as const) {
    assert.is(t.get(name)?.distribution, 'hash', name);
    assert.is(t.get(name)?.distribution_column, column, name);
  }
  assert.is(t.get('orders')!.colocation_group, t.get('lineitem')!.colocation_group, 'orders with lineitem');
  assert.is(t.get('part')!.colocation_group, t.get('partsupp')!.colocation_group, 'part with partsupp');
  assert.is.not(t.get('part')!.colocation_group, t.get('lineitem')!.colocation_group, 'two groups');
  // Without --buckets, one bucket per worker slot: each task reads one file of each table.
  const slots = await client.query<{ n: number }>(
    "SELECT CAST(sum(threads) AS INTEGER) AS n FROM mallard_workers WHERE state = 'ready'",
  );
  assert.ok(slots.rows[0]!.n >= 1, 'the embedded default has workers');
  for (const name of ['lineitem', 'orders', 'partsupp', 'part']) {
    assert.is(Number(t.get(name)?.buckets), slots.rows[0]!.n, `${name} buckets`);
  }
  await assertRowCounts();
});

test('the tables have the specification column types', async () => {
  const r = await client.query('SELECT * FROM lineitem LIMIT 0');
  const types = Object.fromEntries(r.fields.map((f) => [f.name, f.dataTypeID]));
  assert.equal(
    {
      l_orderkey: types['l_orderkey'],
      l_partkey: types['l_partkey'],
      l_quantity: types['l_quantity'],
      l_extendedprice: types['l_extendedprice'],
      l_shipdate: types['l_shipdate'],
    },
    { l_orderkey: 20, l_partkey: 23, l_quantity: 1700, l_extendedprice: 1700, l_shipdate: 1082 },
  );
  // DECIMAL(15,2): a money value keeps its two decimal places.
  const price = await client.query({
    text: 'SELECT o_totalprice FROM orders ORDER BY o_orderkey LIMIT 1',
    rowMode: 'array',
  });
  const expected = await duck.rows('SELECT o_totalprice FROM orders ORDER BY o_orderkey LIMIT 1');
  assert.is(price.rows[0]![0], expected[0]![0]);
});

test('the 22 queries through node-postgres give DuckDB’s answers (colocated layout)', async () => {
  await assertQueriesMatch('colocated');
});

test('--layout balanced --replace reloads the tables un-distributed, with the same answers', async () => {
  const out = await load('--layout', 'balanced', '--replace');
  assert.ok(out.includes('loaded 8 tables (balanced)'), out);
  const t = await tables();
  assert.equal(
    TPCH_TABLES.map((name) => t.get(name)?.distribution),
    TPCH_TABLES.map(() => 'balanced'),
  );
  await assertRowCounts();
  await assertQueriesMatch('balanced');
});

test('loading from a directory the server may not read names the flag it needs', async () => {
  const other = tpchCacheDir(0.001);
  const r = await mallardTpch([
    '--sf',
    '0.001',
    '--out',
    other,
    '--reuse',
    '--load',
    server.url,
    '--replace',
  ]);
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.ok(r.stderr.includes(`--readable-dir ${other}`), r.stderr);
});

test.run();
