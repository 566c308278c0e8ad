import { spawn } from 'node:child_process';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { loudHook } from '../helpers/loudHook.js';
import type { MallardServer } from '../helpers/mallard.js';
import { compareText, oracleRows, type TextResult } from './oracle.js';

/** How the suite gets a Mallard whose SELECTs over catalog tables run on workers. */
export interface DistributedHarness {
  readonly name: string;
  /** Starts Mallard with Parquet tables and `--local-max-rows 0`, its workers ready. */
  start(): Promise<MallardServer>;
}

/** Raw text for every type, as a client reading PostgreSQL's text format sees it. */
const TEXT_TYPES = { getTypeParser: () => (value: string) => value };

const SETUP: readonly string[] = [
  `CREATE TABLE events (id BIGINT, user_id INTEGER, kind VARCHAR, amount DECIMAL(12,2), score DOUBLE,
     flag BOOLEAN, day DATE)`,
  ...[0, 1, 2, 3].map(
    (f) => `INSERT INTO events SELECT i, CASE WHEN i % 3 = 0 THEN 1 ELSE CAST(i % 1000 AS INTEGER) END,
       CASE WHEN i % 17 = 0 THEN NULL ELSE 'k' || CAST(i % 5 AS VARCHAR) END, CAST(i % 10007 AS DECIMAL(12,2)) * 0.25,
       CASE WHEN i % 13 = 0 THEN NULL ELSE CAST(i % 9973 AS DOUBLE) * 0.37 END, i % 2 = 0,
       DATE '2024-01-01' + CAST(i % 400 AS INTEGER)
     FROM range(${f * 50_000}, ${(f + 1) * 50_000}) AS r(i)`,
  ),
  // One file of several row groups: tasks split it by row-group ranges.
  'CREATE TABLE one (id BIGINT, v BIGINT)',
  'INSERT INTO one SELECT i, i % 977 FROM range(0, 400000) AS r(i)',
  // Large enough, with one, that neither side of their join is broadcast: a shuffle join.
  'CREATE TABLE two (k BIGINT, w INTEGER)',
  'INSERT INTO two SELECT i * 2, CAST(i % 13 AS INTEGER) FROM range(0, 300000) AS r(i)',
  'CREATE TABLE users (user_id INTEGER, name VARCHAR, region VARCHAR)',
  `INSERT INTO users SELECT CAST(i AS INTEGER), 'user ' || CAST(i AS VARCHAR), 'r' || CAST(i % 4 AS VARCHAR)
     FROM range(0, 1000) AS r(i)`,
  'CREATE TABLE orders (o_id BIGINT, o_user INTEGER, total DECIMAL(12,2))',
  'CREATE TABLE items (i_order BIGINT, qty INTEGER, price DOUBLE)',
  `INSERT INTO orders SELECT i, CAST(i % 1000 AS INTEGER), CAST(i % 777 AS DECIMAL(12,2)) FROM range(0, 60000) AS r(i)`,
  `INSERT INTO items SELECT i % 70000, CAST(i % 9 AS INTEGER), CAST(i % 101 AS DOUBLE) * 1.5 FROM range(0, 150000) AS r(i)`,
];

/**
 * A table of values that travel from workers as DuckDB's text: quotes, backslashes and commas inside
 * nested values must come back exactly. Mallard takes DuckDB-only types as quoted names.
 */
const NESTED_MALLARD = `CREATE TABLE nested (id BIGINT, tags "VARCHAR[]", info "STRUCT(a VARCHAR, b INTEGER)",
  m "MAP(VARCHAR, INTEGER)", iv INTERVAL, u UUID)`;
const NESTED_ORACLE = `CREATE TABLE nested (id BIGINT, tags VARCHAR[], info STRUCT(a VARCHAR, b INTEGER),
  m MAP(VARCHAR, INTEGER), iv INTERVAL, u UUID)`;
const NESTED_ROWS = [0, 1].map(
  (f) => `INSERT INTO nested SELECT i, ARRAY['it''s', 'back\\slash', 'a, b', '[x]', NULL, '"q"'],
    ROW('x''y "z" \\', CAST(i AS INTEGER)),
    map(ARRAY['k''' || CAST(i % 3 AS VARCHAR)], ARRAY[CAST(i AS INTEGER)]),
    INTERVAL '1 day' * i + INTERVAL '90 minutes',
    CAST('00000000-0000-0000-0000-' || lpad(CAST(i AS VARCHAR), 12, '0') AS UUID)
    FROM range(${f * 500}, ${(f + 1) * 500}) AS r(i)`,
);

/** Mallard-only statements: the Citus-style layout of the tables. */
const LAYOUT: readonly string[] = [
  "SELECT create_reference_table('users')",
  "SELECT create_distributed_table('orders', 'o_id', shard_count => 8)",
  "SELECT create_distributed_table('items', 'i_order', colocate_with => 'orders', shard_count => 8)",
];

interface Case {
  readonly sql: string;
  /** Parameter values (sent untyped, as node-postgres does), and the oracle's SQL with them written in. */
  readonly values?: readonly unknown[];
  readonly oracle?: string;
  readonly ordered?: boolean;
  /** The plan must run on workers (false: the planner may keep it on the coordinator). */
  readonly distributed?: boolean;
}

/** A join whose skewed key makes it run for many seconds on the workers. */
const SLOW = 'SELECT count(*) FROM events a JOIN events b ON a.user_id = b.user_id AND a.id < b.id';

const CASES: readonly Case[] = [
  { sql: 'SELECT * FROM events', distributed: true },
  { sql: 'SELECT id, kind FROM events WHERE id = 123457', distributed: true },
  { sql: 'SELECT * FROM events WHERE id IN (0, 49999, 50000, 99999, 100000, 199999)', distributed: true },
  {
    sql: `SELECT count(*), count(kind), sum(amount), avg(amount), min(day), max(day), sum(score), avg(score),
            stddev_pop(score), var_samp(score), bool_and(flag), bool_or(flag), bit_xor(user_id), arg_max(kind, id)
          FROM events`,
    distributed: true,
  },
  {
    sql: 'SELECT kind, count(*), sum(amount), avg(score) FROM events GROUP BY kind HAVING count(*) > 10 ORDER BY kind',
    ordered: true,
    distributed: true,
  },
  {
    sql: `SELECT user_id, count(DISTINCT kind), median(score), string_agg(kind, ',' ORDER BY kind) FILTER (WHERE id < 30)
          FROM events GROUP BY user_id`,
    distributed: true,
  },
  { sql: 'SELECT kind, flag, count(*) FROM events GROUP BY ROLLUP (kind, flag)', distributed: true },
  {
    sql: 'SELECT * FROM events ORDER BY score DESC NULLS LAST, id LIMIT 25 OFFSET 5',
    ordered: true,
    distributed: true,
  },
  { sql: 'SELECT DISTINCT kind, flag FROM events', distributed: true },
  {
    sql: `SELECT u.region, count(*), sum(e.amount) FROM events e JOIN users u ON e.user_id = u.user_id
          GROUP BY u.region ORDER BY u.region`,
    ordered: true,
    distributed: true,
  },
  {
    sql: `SELECT o.o_user, sum(i.qty * i.price), count(*) FROM orders o JOIN items i ON o.o_id = i.i_order
          GROUP BY o.o_user`,
    distributed: true,
  },
  {
    sql: `SELECT count(*), count(o.o_id) FROM items i LEFT JOIN orders o ON o.o_id = i.i_order`,
    distributed: true,
  },
  { sql: 'SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.i_order = o.o_id)' },
  { sql: 'SELECT id, score FROM events WHERE score > (SELECT avg(score) FROM events) AND id < 5000' },
  {
    sql: `WITH big AS (SELECT user_id, sum(amount) AS s FROM events GROUP BY user_id)
          SELECT count(*), max(s) FROM big WHERE s > 100`,
  },
  { sql: 'SELECT kind FROM events WHERE id < 10 UNION SELECT name FROM users WHERE user_id < 3' },
  {
    sql: `SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY id) AS rn FROM events WHERE user_id < 5`,
  },
  { sql: 'SELECT o_id, total, sum(total) OVER (PARTITION BY o_id) FROM orders WHERE o_id < 100' },
  { sql: 'SELECT count(*) FROM events WHERE kind IS NULL OR score IS NULL', distributed: true },
  { sql: 'SELECT * FROM nested', distributed: true },
  { sql: 'SELECT count(*), sum(v), min(id), max(id) FROM one', distributed: true },
  { sql: 'SELECT * FROM one WHERE id % 997 = 3', distributed: true },
  { sql: 'SELECT count(*), sum(t.w), sum(o.v) FROM one o JOIN two t ON o.id = t.k', distributed: true },
  {
    sql: 'SELECT t.w, count(*), count(o.id) FROM two t LEFT JOIN one o ON o.id = t.k GROUP BY t.w',
    distributed: true,
  },
  {
    sql: 'SELECT id, tags[1], info.a, m, iv FROM nested ORDER BY iv DESC LIMIT 7',
    ordered: true,
    distributed: true,
  },
  {
    sql: 'SELECT id, kind, amount FROM events WHERE id = $1',
    values: ['150001'],
    oracle: 'SELECT id, kind, amount FROM events WHERE id = 150001',
    distributed: true,
  },
  {
    sql: 'SELECT kind, count(*), sum(amount) FROM events WHERE day >= $1 AND amount > $2 AND kind <> $3 GROUP BY kind',
    values: ['2024-06-01', '100.5', "k'1"],
    oracle: `SELECT kind, count(*), sum(amount) FROM events WHERE day >= DATE '2024-06-01' AND amount > 100.5
             AND kind <> 'k''1' GROUP BY kind`,
    distributed: true,
  },
];

export function distributedSuite(test: Test, harness: DistributedHarness): void {
  let server: MallardServer;
  let client: pg.Client;
  let oracle: DuckDBConnection;
  let instance: DuckDBInstance;

  const query = async (sql: string, values?: readonly unknown[]): Promise<TextResult> => {
    const r = await client.query({
      text: sql,
      rowMode: 'array',
      types: TEXT_TYPES,
      ...(values ? { values: [...values] } : {}),
    });
    return { names: r.fields.map((f) => f.name), floats: [], rows: r.rows as (string | null)[][] };
  };
  const distributedCount = async () =>
    Number((await query("SELECT count(*) FROM mallard_queries WHERE mode = 'distributed'")).rows[0]![0]);

  test.before(
    loudHook(async () => {
      server = await harness.start();
      client = new pg.Client({ connectionString: server.url });
      await client.connect();
      instance = await DuckDBInstance.create(':memory:');
      oracle = await instance.connect();
      for (const sql of SETUP) {
        await client.query(sql);
        await oracle.run(sql);
      }
      await client.query(NESTED_MALLARD);
      await oracle.run(NESTED_ORACLE);
      for (const sql of NESTED_ROWS) {
        await client.query(sql);
        await oracle.run(sql);
      }
      for (const sql of LAYOUT) await client.query(sql);
    }),
  );

  test.after(async () => {
    await client?.end().catch(() => {});
    oracle?.closeSync();
    instance?.closeSync();
    await server?.stop();
  });

  for (const c of CASES) {
    test(`[${harness.name}] ${c.sql.replace(/\s+/g, ' ').slice(0, 110)}`, async () => {
      const before = await distributedCount();
      const actual = await query(c.sql, c.values);
      const expected = await oracleRows(oracle, c.oracle ?? c.sql);
      const diff = compareText(expected, actual, c.ordered ?? false);
      assert.is(diff, undefined, diff);
      if (c.distributed)
        assert.is(await distributedCount(), before + 1, 'the query did not run on the workers');
    });
  }

  test(`[${harness.name}] tasks ran on every worker, and mallard_tasks records them`, async () => {
    const workers = await query("SELECT id FROM mallard_workers WHERE state = 'ready'");
    const used = await query("SELECT DISTINCT worker_id FROM mallard_tasks WHERE status = 'succeeded'");
    assert.ok(workers.rows.length >= 2, JSON.stringify(workers.rows));
    assert.equal(
      new Set(used.rows.map((r) => r[0])),
      new Set(workers.rows.map((r) => r[0])),
      'every worker took some task',
    );
  });

  test(`[${harness.name}] EXPLAIN shows the distributed plan, EXPLAIN ANALYZE each task's worker and rows`, async () => {
    const plan = (await query('EXPLAIN SELECT kind, count(*) FROM events GROUP BY kind')).rows.map(
      (r) => r[0],
    );
    assert.is(plan[0], 'mode: distributed');
    assert.ok(
      // Four files over 2 slots; 200,000 rows is far below DEFAULT_MIN_TASK_ROWS, so one task per slot.
      plan.some((l) => l?.startsWith('stage 1: files, 2 tasks')),
      plan.join('\n'),
    );
    assert.ok(
      plan.some((l) => l?.startsWith('merge: aggregate')),
      plan.join('\n'),
    );
    const analyzed = (await query('EXPLAIN ANALYZE SELECT count(*) FROM events')).rows.map((r) =>
      String(r[0]),
    );
    const tasks = analyzed.filter((l) => l.trimStart().startsWith('task ') && l.includes('attempt'));
    assert.is(tasks.length, 2, analyzed.join('\n'));
    const rows = tasks.map((l) => Number(l.split('rows ')[1]!.split(',')[0]));
    assert.equal(rows, [1, 1], analyzed.join('\n'));
    const phases = analyzed.find((l) => l.startsWith('phases: '));
    assert.ok(phases?.includes('dispatch') && phases.includes(' ms'), analyzed.join('\n'));
    const split = (await query('EXPLAIN SELECT sum(v) FROM one')).rows.map((r) => String(r[0]));
    assert.ok(
      split.some((l) => l.startsWith('stage 1: row-groups')),
      `one file of 400,000 rows is split by row groups:\n${split.join('\n')}`,
    );
    const shuffle = (await query('EXPLAIN SELECT count(*) FROM one o JOIN two t ON o.id = t.k')).rows.map(
      (r) => String(r[0]),
    );
    assert.ok(
      shuffle.some((l) => l.startsWith('stage 2: repartition')),
      `two large tables join through a shuffle:\n${shuffle.join('\n')}`,
    );
    const local = (await query('EXPLAIN SELECT * FROM mallard_workers')).rows.map((r) => r[0]);
    assert.is(local[0], 'mode: local');
  });

  test(`[${harness.name}] mallard_queries records how each query ran: distributed, gathered, and why`, async () => {
    await query('SELECT id, lag(id) OVER (ORDER BY id) AS prev FROM events WHERE id < 5');
    const last = await query(
      'SELECT mode, merge, reason IS NOT NULL, status, rows, tasks FROM mallard_queries ORDER BY started_at DESC, query_id DESC LIMIT 1',
    );
    assert.equal(last.rows, [['gathered', 'sql', 't', 'succeeded', '5', '0']]);
    await query('SELECT kind, count(*) FROM events GROUP BY kind');
    const dist = await query(
      'SELECT mode, merge, status, rows, tasks, workers, duration_ms >= 0 FROM mallard_queries ORDER BY started_at DESC, query_id DESC LIMIT 1',
    );
    assert.equal(dist.rows, [['distributed', 'aggregate', 'succeeded', '6', '2', '2', 't']]);
    // duration_ms runs from before planning, like the phases: it covers them all.
    await query('SELECT kind, max(id) FROM events GROUP BY kind');
    const timed = await query(
      'SELECT duration_ms, phases FROM mallard_queries ORDER BY started_at DESC, query_id DESC LIMIT 1',
    );
    const [duration, phases] = timed.rows[0] as [string, string];
    const end = Number(phases.split('end ')[1]!.split(' ms')[0]);
    assert.ok(Number(duration) >= Math.floor(end), `duration_ms ${duration}, phases ${phases}`);
    assert.ok(Number(phases.split('plan ')[1]!.split(' ms')[0]) > 0, phases);
  });

  test(`[${harness.name}] a division by zero on a worker is 22012, and the session goes on`, async () => {
    const err = await client.query('SELECT id / (user_id - user_id) FROM events').catch((e: unknown) => e);
    assert.instance(err, Error);
    assert.is((err as { code?: string }).code, '22012', String(err));
    assert.is((err as Error).message, 'division by zero');
    assert.equal((await query('SELECT count(*) FROM events')).rows, [['200000']]);
  });

  /** The newest distributed query: it must be the canceled one, and every attempt of it ended on its worker. */
  const assertLastCanceledEverywhere = async () => {
    const last = await query(
      "SELECT query_id, status FROM mallard_queries WHERE mode = 'distributed' ORDER BY started_at DESC LIMIT 1",
    );
    const [id, status] = last.rows[0] ?? [];
    assert.is(status, 'canceled', JSON.stringify(last.rows));
    let statuses: string[] = [];
    for (let i = 0; i < 30; i++) {
      statuses = (await query(`SELECT status FROM mallard_tasks WHERE query_id = '${id}'`)).rows.map((r) =>
        String(r[0]),
      );
      if (statuses.length && !statuses.includes('running')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(statuses.length > 0, 'the workers recorded the tasks');
    assert.ok(statuses.includes('canceled'), statuses.join(','));
    assert.not.ok(statuses.includes('running'), statuses.join(','));
    assert.not.ok(statuses.includes('succeeded'), statuses.join(','));
    // Workers report their running tasks in their heartbeats (every second): all of them go idle.
    let busy: TextResult = { names: [], floats: [], rows: [] };
    for (let i = 0; i < 40; i++) {
      busy = await query('SELECT sum(running_tasks) FROM mallard_workers');
      if (busy.rows[0]?.[0] === '0') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(busy.rows, [['0']]);
  };

  test(`[${harness.name}] statement_timeout stops the query's tasks on every worker`, async () => {
    await client.query("SET statement_timeout = '500ms'");
    const started = Date.now();
    const err = await client.query(SLOW).catch((e: unknown) => e);
    await client.query('RESET statement_timeout');
    assert.is((err as { code?: string }).code, '57014', String(err));
    assert.ok(Date.now() - started < 5_000, `the query ran ${Date.now() - started} ms`);
    await assertLastCanceledEverywhere();
  });

  test(`[${harness.name}] psql's Ctrl-C stops the query's tasks on every worker`, async () => {
    const child = spawn('psql', ['-X', '-At', '-d', server.url], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (stdout.includes('started') && !sent) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), 700);
      }
    });
    child.stdin.end(`SELECT 'started';\n${SLOW};\n`);
    const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    await new Promise((resolve) => child.on('close', resolve));
    clearTimeout(killer);
    const report = `--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
    assert.ok(stderr.includes('ERROR:  canceling statement due to user request'), report);
    await assertLastCanceledEverywhere();
  });
}
