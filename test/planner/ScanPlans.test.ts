// Scans, filters, ORDER BY / LIMIT / OFFSET and DISTINCT: the prototype's scenarios, each checked
// against single-node DuckDB over the same Parquet files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { explainPlan } from '../../src/planner/explain.js';
import { DEFAULT_LOCAL_MAX_ROWS } from '../../src/planner/planQuery.js';
import { runLocally } from '../../src/planner/runLocally.js';
import { PlannerHarness } from './plannerHarness.js';

let h: PlannerHarness;

test.before(async () => {
  h = await PlannerHarness.create();
  // ids 1..10000 in 4 files of 2,500; cat has 7 values; a NULL every 10th row of s.
  await h.writeTable('items', {
    rows: `SELECT id, id % 7 AS cat, id * 1.5 AS price, CASE WHEN id % 10 = 0 THEN NULL ELSE 'v' || (id % 13) END AS s,
             DATE '2020-01-01' + CAST(id AS INTEGER) AS day FROM range(1, 10001) r(id)`,
    files: { count: 4, fileOf: '(id - 1) // 2500' },
  });
  // Skewed keys and empty files: 6 files, files 1 and 4 empty, file 0 holds 90% of the rows.
  await h.writeTable('skewed', {
    rows: `SELECT id, CASE WHEN id <= 900 THEN 1 ELSE id % 5 END AS k, id % 3 AS g FROM range(1, 1001) r(id)`,
    files: {
      count: 6,
      fileOf: 'CASE WHEN id <= 900 THEN 0 WHEN id <= 950 THEN 2 WHEN id <= 990 THEN 3 ELSE 5 END',
    },
  });
  await h.writeTable('tiny', { rows: 'SELECT * FROM (VALUES (1, 10), (2, 20)) t(a, b)' });
});

test.after(() => h.close());

test('a point query at every file boundary returns its one row from one task', async () => {
  for (const id of [1, 2500, 2501, 5000, 5001, 7500, 7501, 10000]) {
    const plan = await h.check(`SELECT * FROM items WHERE id = ${id}`, { mode: 'distributed', tasks: 1 });
    const result = await runLocally(plan, h.instance);
    assert.is(result.currentRowCount, 1, `id = ${id}`);
  }
});

test('a point query on an absent key plans no task and returns nothing', async () => {
  const plan = await h.check('SELECT * FROM items WHERE id = 20000', { mode: 'distributed', tasks: 0 });
  assert.is((await runLocally(plan, h.instance)).currentRowCount, 0);
});

test('a query pruned to files of at most the local threshold runs on the coordinator', async () => {
  // items: 10,000 rows in 4 files of 2,500; id < 2400 keeps one file.
  const threshold = { localMaxRows: 5_000 };
  const pruned = await h.check('SELECT id, price FROM items WHERE id < 2400', { mode: 'local' }, threshold);
  assert.match(pruned.reason ?? '', 'items: 2500 rows for the tasks to split');
  await h.check('SELECT id FROM items WHERE id IN (3, 9999)', { mode: 'local' }, threshold);
  await h.check('SELECT id FROM items WHERE id > 2600', { mode: 'distributed', tasks: 3 }, threshold);
});

test('a full scan returns all 10,000 rows from one task per file', async () => {
  const plan = await h.check('SELECT * FROM items', { mode: 'distributed', tasks: 4 });
  assert.is((await runLocally(plan, h.instance)).currentRowCount, 10_000);
  assert.is(plan.merge.kind, 'concat');
});

test('range, BETWEEN, IN and date predicates prune files by statistics', async () => {
  await h.check('SELECT id, price FROM items WHERE id < 2400', { tasks: 1 });
  await h.check('SELECT id FROM items WHERE id >= 2500 AND id <= 2501', { tasks: 2 });
  await h.check('SELECT id FROM items WHERE 5001 <= id', { tasks: 2 });
  await h.check('SELECT id FROM items WHERE id BETWEEN 4000 AND 6000', { tasks: 2 });
  await h.check('SELECT id FROM items WHERE id IN (3, 9999)', { tasks: 2 });
  await h.check("SELECT id FROM items WHERE day > DATE '2020-01-01' + INTERVAL 9000 DAY", { tasks: 1 });
  await h.check("SELECT count(*) FROM items WHERE id = '2500'", { tasks: 1 });
});

test('filters the statistics cannot decide keep every file', async () => {
  await h.check('SELECT id, s FROM items WHERE cat = 3 AND s IS NOT NULL', { tasks: 4 });
  await h.check('SELECT id FROM items WHERE id + 0 = 2500', { tasks: 4 });
  await h.check('SELECT id FROM items WHERE id = 2500 OR id = 7600', { tasks: 4 });
  await h.check("SELECT id FROM items WHERE s LIKE 'v1%'", { tasks: 4 });
});

test('ORDER BY with LIMIT and OFFSET: per-task top-N, merged in order', async () => {
  const plan = await h.check('SELECT id, price FROM items ORDER BY price DESC LIMIT 10 OFFSET 5', {
    ordered: true,
    tasks: 4,
  });
  assert.is(plan.merge.kind, 'merge-sort');
  assert.is(plan.merge.limit, 10);
  assert.is(plan.merge.offset, 5);
  assert.ok(plan.stages[0]!.tasks[0]!.sql.includes('LIMIT 15'), 'each task keeps limit + offset rows');
  await h.check('SELECT id, s FROM items ORDER BY s NULLS FIRST, id DESC LIMIT 30', { ordered: true });
  await h.check('SELECT id FROM items ORDER BY cat, id LIMIT 5', { ordered: true });
  await h.check('SELECT id AS x FROM items ORDER BY x DESC LIMIT 3', { ordered: true });
  await h.check('SELECT id, cat FROM items ORDER BY 2 DESC, 1 LIMIT 4 OFFSET 9998', { ordered: true });
  await h.check('SELECT * FROM items ORDER BY id OFFSET 9990', { ordered: true });
  await h.check('SELECT id FROM items ORDER BY price % 7, id', { ordered: true });
  const limited = await h.check('SELECT count(*) FROM (SELECT id FROM items LIMIT 7)');
  assert.is(limited.mode, 'gathered', 'LIMIT inside a subquery cannot be split');
  const plain = await h.plan('SELECT id FROM items LIMIT 3');
  assert.is((await runLocally(plain, h.instance)).currentRowCount, 3);
});

test('DISTINCT: per-task DISTINCT, then DISTINCT across tasks', async () => {
  const plan = await h.check('SELECT DISTINCT cat, s FROM items');
  assert.is(plan.merge.kind, 'distinct');
  assert.ok(plan.stages[0]!.tasks[0]!.sql.includes('DISTINCT'));
  await h.check('SELECT DISTINCT cat FROM items ORDER BY cat DESC LIMIT 3', { ordered: true });
  await h.check('SELECT DISTINCT s FROM items WHERE id > 5000 ORDER BY s NULLS FIRST', { ordered: true });
});

test('skewed keys and empty files', async () => {
  // The two empty files get no task.
  await h.check('SELECT * FROM skewed', { tasks: 4 });
  await h.check('SELECT k, count(*), sum(id) FROM skewed GROUP BY k');
  await h.check('SELECT * FROM skewed WHERE id > 990', { tasks: 1 });
  await h.check('SELECT g, count(DISTINCT k), median(id) FROM skewed GROUP BY g');
  await h.check('SELECT count(*), min(id), avg(k) FROM skewed WHERE id > 5000', { tasks: 0 });
});

test('a table smaller than one task per slot', async () => {
  await h.check('SELECT * FROM tiny', { mode: 'distributed', tasks: 1 });
  await h.check('SELECT sum(b) FROM tiny WHERE a = 2', { mode: 'distributed' });
});

test('small tables and queries on no table run on the coordinator', async () => {
  const local = await h.check(
    'SELECT cat, count(*) FROM items GROUP BY cat',
    { mode: 'local' },
    { localMaxRows: 50_000 },
  );
  assert.match(local.reason ?? '', /local threshold/);
  assert.is(local.stages.length, 0);
  const none = await h.check('SELECT 1 + 1 AS two', { mode: 'local' });
  assert.is(none.merge.sql, 'SELECT 1 + 1 AS two');
  const catalog = await h.check("SELECT count(*) > 0 FROM duckdb_tables() WHERE table_name = 'x' OR true", {
    mode: 'local',
  });
  assert.is(catalog.stages.length, 0);
  const byDefault = await h.plan('SELECT * FROM items', { localMaxRows: undefined });
  assert.is(
    byDefault.mode,
    'local',
    `10,000 rows are below DEFAULT_LOCAL_MAX_ROWS (${DEFAULT_LOCAL_MAX_ROWS})`,
  );
});

test('a window function not partitioned by a distribution key runs gathered, and EXPLAIN says why', async () => {
  const plan = await h.check(
    'SELECT id, rank() OVER (PARTITION BY cat ORDER BY price DESC) AS r FROM items',
    {
      mode: 'gathered',
    },
  );
  const rows = explainPlan(plan);
  assert.is(rows[0], 'mode: gathered');
  assert.match(rows[1]!, /window function/);
  await h.check('SELECT id, sum(price) OVER (ORDER BY id) FROM items QUALIFY id % 1000 = 0', {
    mode: 'gathered',
  });
});

test('EXPLAIN lists the stage, every task with its SQL and the merge', async () => {
  const plan = await h.plan('SELECT id FROM items WHERE id > 7000 ORDER BY id LIMIT 2');
  const rows = explainPlan(plan);
  assert.is(rows[0], 'mode: distributed');
  assert.ok(
    rows.some((r) => r.startsWith('stage 1: files, 2 tasks -> task_results(c0 BIGINT)')),
    rows.join('\n'),
  );
  assert.is(rows.filter((r) => r.startsWith('  task ')).length, 2);
  assert.ok(
    rows.some((r) => r.startsWith('merge: merge-sort by c0 limit 2')),
    rows.join('\n'),
  );
  assert.ok(rows.some((r) => r.includes('read_parquet')));
});

test('a 3,000,000-row table returns every row (no chunk-size cap)', async () => {
  await h.writeTable('big', {
    rows: 'SELECT id, id % 1000 AS k FROM range(3000000) r(id)',
    files: { count: 5, fileOf: 'id % 5' },
  });
  const plan = await h.plan('SELECT id, k FROM big');
  assert.is(plan.mode, 'distributed');
  assert.is(plan.stages[0]!.tasks.length, 5);
  const result = await runLocally(plan, h.instance, { concurrency: 2 });
  assert.is(result.currentRowCount, 3_000_000);
  let sum = 0n;
  const seen = new Set<bigint>();
  for (const [id] of result.getRows()) {
    sum += id as bigint;
    if ((id as bigint) % 100_000n === 0n) seen.add(id as bigint);
  }
  assert.is(sum, (2_999_999n * 3_000_000n) / 2n);
  assert.is(seen.size, 30);
});

test.run();
