// Joins and subqueries: co-located (bucket i with bucket i), broadcast (small sides read whole), outer,
// semi and anti joins that must never replicate the preserved side, repartition (shuffle) joins of large
// tables that are not co-located, and the gathered fallback.
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { explainPlan } from '../../src/planner/explain.js';
import type { PlanContext } from '../../src/planner/planQuery.js';
import type { DistributedPlan } from '../../src/planner/types.js';
import { PlannerHarness } from './plannerHarness.js';

let h: PlannerHarness;
// Tables above 5,000 rows are too large to read whole in every task.
const ctx: Partial<PlanContext> = { broadcastMaxRows: 5_000 };
/** With a shuffle directory (a new one per query). */
const shuffleCtx = (): Partial<PlanContext> => ({ ...ctx, workerSlots: 2, shuffleDir: h.shuffleDir() });

const check = (sql: string, options: Parameters<PlannerHarness['check']>[1] = {}) =>
  h.check(sql, options, ctx);

/** Checks `sql` with a shuffle directory, asserting a shuffle-write stage and a repartition stage. */
async function shuffled(sql: string, options: { ordered?: boolean } = {}): Promise<DistributedPlan> {
  const context = shuffleCtx();
  const plan = await h.check(sql, { mode: 'distributed', ...options }, context);
  const [write, read] = plan.stages;
  assert.is(plan.stages.length, 2, `two stages for ${sql}: ${plan.reason}`);
  assert.is(write!.kind, 'shuffle-write');
  assert.is(read!.partitioning, 'repartition');
  assert.is(plan.shuffleDir, context.shuffleDir);
  for (const t of write!.tasks) assert.ok(t.writes?.startsWith(`${context.shuffleDir}/`), t.writes);
  assert.not.ok(existsSync(context.shuffleDir!), 'runLocally removes the shuffle directory');
  return plan;
}

test.before(async () => {
  h = await PlannerHarness.create();
  // Orders 1..6000 (some with a NULL key), lines for most orders plus lines of orders that do not exist:
  // both bucketed on the order key, hash(ok) % 4, in one colocation group.
  await h.writeTable('ord', {
    rows: `SELECT CASE WHEN n % 500 = 0 THEN NULL ELSE n END AS ok, n % 50 AS cust, n % 7 AS prio,
             DATE '1995-01-01' + CAST(n % 700 AS INTEGER) AS odate FROM range(1, 6001) r(n)`,
    hash: { column: 'ok', buckets: 4, group: 'orderkey' },
  });
  await h.writeTable('line', {
    rows: `SELECT CASE WHEN n % 997 = 0 THEN NULL ELSE (n * 7) % 6300 END AS ok, n AS ln, (n * 13) % 50 AS qty,
             n % 50 AS part FROM range(1, 24001) r(n)`,
    hash: { column: 'ok', buckets: 4, group: 'orderkey' },
  });
  // A balanced fact table, a small reference dimension, a small balanced one, and another large table.
  await h.writeTable('fact', {
    rows: 'SELECT n AS id, n % 60 AS dk, (n * 31) % 1000 AS x, n % 9 AS k FROM range(1, 20001) r(n)',
    files: { count: 4, fileOf: 'id % 4' },
  });
  await h.writeTable('dim', {
    rows: `SELECT n AS dk, 'name' || n AS name, n % 3 AS region FROM range(0, 50) r(n)`,
    reference: true,
  });
  await h.writeTable('dimb', {
    rows: `SELECT n AS dk, n % 4 AS grp FROM range(10, 70) r(n)`,
    files: { count: 2, fileOf: 'dk % 2' },
  });
  await h.writeTable('big2', {
    rows: 'SELECT n AS id2, n % 9 AS k, n % 100 AS y FROM range(1, 9001) r(n)',
    files: { count: 3, fileOf: 'id2 % 3' },
  });
  // Two large balanced tables joined on keys of different types (INTEGER and BIGINT, negative values
  // hash differently at different widths), with NULL keys, duplicates and an empty file.
  await h.writeTable('sa', {
    rows: `SELECT n AS id, CASE WHEN n % 50 = 0 THEN NULL ELSE CAST(n % 3000 - 1500 AS INTEGER) END AS a,
             n % 13 AS v, CASE WHEN n % 9 = 0 THEN NULL ELSE n % 6 END AS g FROM range(1, 8001) r(n)`,
    files: { count: 4, fileOf: 'CASE WHEN id % 3 = 0 THEN 0 WHEN id % 3 = 1 THEN 1 ELSE 3 END' },
  });
  await h.writeTable('sb', {
    rows: `SELECT n AS id2, CASE WHEN n % 40 = 0 THEN NULL ELSE CAST((n * 7) % 4000 - 2000 AS BIGINT) END AS b,
             n % 7 AS w FROM range(1, 7001) r(n)`,
    files: { count: 2, fileOf: 'CASE WHEN id2 <= 3500 THEN 0 ELSE 1 END' },
  });
  // The line table again, balanced: it can be shuffled into ord's buckets.
  await h.writeTable('lineb', {
    rows: 'SELECT ok, ln, qty, part FROM line',
    files: { count: 3, fileOf: 'ln % 3' },
  });
});

test.after(() => h.close());

test('regression (fuzzer): DISTINCT ON keeps the row its ORDER BY puts first, in every task', async () => {
  await check('SELECT DISTINCT ON (ok) ok, ln, qty FROM line ORDER BY ok, ln DESC', {
    mode: 'distributed',
    ordered: true,
  });
  await check(
    'SELECT DISTINCT ON (o.ok) o.ok, l.qty, l.ln FROM ord o JOIN line l ON o.ok = l.ok ORDER BY o.ok, l.qty, l.ln',
    {
      mode: 'distributed',
      ordered: true,
    },
  );
  await shuffled('SELECT DISTINCT ON (a) a, id, v FROM sa ORDER BY a NULLS FIRST, v DESC, id', {
    ordered: true,
  });
});

test('co-located joins read bucket i of both tables in task i', async () => {
  const plan = await check('SELECT o.ok, o.cust, l.ln, l.qty FROM ord o JOIN line l ON o.ok = l.ok', {
    mode: 'distributed',
    tasks: 4,
  });
  assert.is(plan.stages[0]!.partitioning, 'buckets');
  assert.equal(Object.keys(plan.stages[0]!.tasks[0]!.files).sort(), ['line', 'ord']);
  assert.equal(plan.stages[0]!.tasks[0]!.buckets, [0]);
  await check('SELECT o.cust, sum(l.qty), count(*) FROM ord o, line l WHERE l.ok = o.ok GROUP BY o.cust', {
    mode: 'distributed',
  });
  await check(
    'SELECT ok, count(*) AS n FROM ord JOIN line USING (ok) GROUP BY ok ORDER BY n DESC, ok LIMIT 5',
    {
      mode: 'distributed',
      ordered: true,
    },
  );
  await check('SELECT o.ok, l.ln FROM ord o JOIN line l ON o.ok = l.ok WHERE o.ok = 4711', { tasks: 1 });
});

test('co-located outer joins keep unmatched rows (and NULL keys) exactly once', async () => {
  await check('SELECT o.ok, o.prio, l.ln FROM ord o LEFT JOIN line l ON o.ok = l.ok', {
    mode: 'distributed',
  });
  await check('SELECT o.ok, l.ok, l.ln FROM ord o RIGHT JOIN line l ON o.ok = l.ok AND l.qty > 10', {
    mode: 'distributed',
  });
  await check('SELECT o.ok, l.ok, l.ln FROM ord o FULL JOIN line l ON o.ok = l.ok', { mode: 'distributed' });
  await check('SELECT count(*), count(o.ok), count(l.ok) FROM ord o FULL OUTER JOIN line l ON l.ok = o.ok', {
    mode: 'distributed',
  });
});

test('co-located semi and anti joins and subqueries correlated on the key', async () => {
  await check(
    'SELECT prio, count(*) FROM ord o WHERE EXISTS (SELECT 1 FROM line l WHERE l.ok = o.ok AND l.qty > 40) GROUP BY prio',
    {
      mode: 'distributed',
    },
  );
  await check('SELECT count(*) FROM ord o WHERE NOT EXISTS (SELECT * FROM line l WHERE l.ok = o.ok)', {
    mode: 'distributed',
  });
  await check('SELECT o.ok FROM ord o SEMI JOIN line l ON o.ok = l.ok WHERE o.prio = 3', {
    mode: 'distributed',
  });
  await check('SELECT o.ok FROM ord o ANTI JOIN line l ON o.ok = l.ok', { mode: 'distributed' });
  await check(
    'SELECT l.ln, l.qty FROM line l WHERE l.qty > (SELECT avg(l2.qty) * 1.5 FROM line l2 WHERE l2.ok = l.ok)',
    { mode: 'distributed' },
  );
  // TPC-H Q18's shape: IN over keys grouped by the key.
  await check(
    `SELECT o.ok, sum(l.qty) FROM ord o JOIN line l ON o.ok = l.ok
     WHERE o.ok IN (SELECT ok FROM line GROUP BY ok HAVING sum(qty) > 120) GROUP BY o.ok`,
    { mode: 'distributed' },
  );
  await check(
    'SELECT o.ok, x.total FROM ord o JOIN (SELECT ok, sum(qty) AS total FROM line GROUP BY ok) x ON x.ok = o.ok',
    { mode: 'distributed' },
  );
});

test('joins off the distribution key run gathered', async () => {
  const plan = await check('SELECT o.ok, l.ln FROM ord o JOIN line l ON o.cust = l.part WHERE o.ok < 100', {
    mode: 'gathered',
  });
  assert.match(plan.reason ?? '', /distribution key/);
  await check('SELECT count(*) FROM ord o WHERE EXISTS (SELECT 1 FROM line l WHERE l.part = o.cust)', {
    mode: 'gathered',
  });
  await check('SELECT count(*) FROM ord WHERE ok IN (SELECT part FROM line)', { mode: 'gathered' });
});

test('broadcast joins: tasks over the large side, small sides read whole', async () => {
  const ref = await check('SELECT f.id, d.name FROM fact f JOIN dim d ON f.dk = d.dk WHERE d.region = 1', {
    mode: 'distributed',
    tasks: 4,
  });
  assert.is(ref.stages[0]!.partitioning, 'files');
  assert.equal(ref.stages[0]!.replicated, ['dim']);
  const small = await check('SELECT d.grp, sum(f.x) FROM fact f, dimb d WHERE f.dk = d.dk GROUP BY d.grp', {
    mode: 'distributed',
  });
  assert.is(small.stages[0]!.partitioning, 'broadcast');
  assert.equal(small.stages[0]!.tasks[0]!.files['dimb']?.length, 2, 'every task reads the small table whole');
  await check('SELECT o.ok, d.name FROM ord o JOIN dim d ON o.cust = d.dk JOIN line l ON l.ok = o.ok', {
    mode: 'distributed',
  });
});

test('the local threshold counts the rows tasks split, not the tables they all read whole', async () => {
  // fact (20,000 rows) is split; big2 (9,000) is read whole by every task: 29,000 rows in all.
  const sql = 'SELECT f.k, count(*), sum(b.y) FROM fact f JOIN big2 b ON f.id = b.id2 GROUP BY f.k';
  const both = { broadcastMaxRows: 10_000 };
  const local = await h.check(sql, { mode: 'local' }, { ...both, localMaxRows: 25_000 });
  assert.match(
    local.reason ?? '',
    'fact: 20000 rows for the tasks to split, at most the local threshold of 25000',
  );
  const split = await h.check(sql, { mode: 'distributed' }, { ...both, localMaxRows: 19_999 });
  assert.equal(split.stages[0]!.replicated, ['big2']);
});

test('outer joins never replicate the preserved side', async () => {
  await check('SELECT f.id, d.grp FROM fact f LEFT JOIN dimb d ON f.dk = d.dk', { mode: 'distributed' });
  await check('SELECT f.id, d.grp FROM dimb d RIGHT JOIN fact f ON f.dk = d.dk', { mode: 'distributed' });
  const left = await check('SELECT d.dk, f.id FROM dimb d LEFT JOIN fact f ON f.dk = d.dk', {
    mode: 'gathered',
  });
  assert.match(left.reason ?? '', /preserved side/);
  await check('SELECT d.dk, f.id FROM fact f RIGHT JOIN dimb d ON f.dk = d.dk', { mode: 'gathered' });
  await check('SELECT d.dk, f.id FROM fact f FULL JOIN dim d ON f.dk = d.dk', { mode: 'gathered' });
  await check('SELECT d.dk FROM dimb d WHERE EXISTS (SELECT 1 FROM fact f WHERE f.dk = d.dk)', {
    mode: 'gathered',
  });
  await check('SELECT d.dk FROM dimb d ANTI JOIN fact f ON f.dk = d.dk', { mode: 'gathered' });
});

test('semi and anti joins against small tables: IN, NOT IN, EXISTS, NOT EXISTS', async () => {
  await check('SELECT id FROM fact WHERE dk IN (SELECT dk FROM dimb WHERE grp = 2)', { mode: 'distributed' });
  await check('SELECT count(*) FROM fact WHERE dk NOT IN (SELECT dk FROM dimb)', { mode: 'distributed' });
  await check('SELECT count(*) FROM fact WHERE dk NOT IN (SELECT NULL UNION ALL SELECT 1)', {
    mode: 'distributed',
  });
  await check('SELECT id FROM fact f WHERE EXISTS (SELECT 1 FROM dim d WHERE d.dk = f.dk AND d.region = 2)', {
    mode: 'distributed',
  });
  await check(
    'SELECT k, count(*) FROM fact f WHERE NOT EXISTS (SELECT 1 FROM dim d WHERE d.dk = f.dk) GROUP BY k',
    {
      mode: 'distributed',
    },
  );
  await check('SELECT f.id FROM fact f WHERE f.x > (SELECT avg(x) FROM fact)', { mode: 'gathered' });
  await check('SELECT id FROM fact WHERE x > (SELECT max(dk) * 10 FROM dimb)', { mode: 'distributed' });
});

test('two large tables not co-located run gathered without a shuffle directory; CTEs as their uses allow', async () => {
  await check('SELECT f.id, b.y FROM fact f JOIN big2 b ON f.k = b.k WHERE f.id < 50', { mode: 'gathered' });
  await check('SELECT sa.id, sb.id2 FROM sa JOIN sb ON sa.a = sb.b', { mode: 'gathered' });
  await check('WITH s AS (SELECT dk, x FROM fact WHERE x > 500) SELECT dk, count(*) FROM s GROUP BY dk', {
    mode: 'distributed',
  });
  const twice = await check(
    'WITH s AS (SELECT dk, sum(x) AS t FROM fact GROUP BY dk) SELECT a.dk, b.t FROM s a JOIN s b ON a.dk = b.dk + 1',
    { mode: 'gathered' },
  );
  assert.ok(twice.reason, 'EXPLAIN says why');
  await check(
    `WITH per AS (SELECT ok, count(*) AS n FROM line GROUP BY ok)
     SELECT a.ok, a.n, b.n FROM per a JOIN per b ON a.ok = b.ok`,
    { mode: 'distributed' },
  );
  await check('WITH fact AS (SELECT * FROM fact WHERE x < 100) SELECT k, count(*) FROM fact GROUP BY k', {
    mode: 'distributed',
  });
  await check('WITH unused AS (SELECT * FROM big2), s AS (SELECT id FROM fact) SELECT count(*) FROM s', {
    mode: 'distributed',
  });
  await check('SELECT id FROM fact WHERE id < 10 UNION ALL SELECT id2 FROM big2 WHERE id2 < 10', {
    mode: 'gathered',
  });
});

test('repartition joins: inner and outer joins of two large tables through shuffle files', async () => {
  const plan = await shuffled('SELECT sa.id, sa.v, sb.id2, sb.w FROM sa JOIN sb ON sa.a = sb.b');
  assert.match(plan.reason ?? '', /sa on a, sb on b repartitioned by hash/);
  const [write, read] = plan.stages;
  // One write task per non-empty input file share, each writing one file; every read task reads them all.
  assert.is(write!.tasks.length, 5);
  assert.equal(write!.columns, [{ name: 'Count', type: 'BIGINT' }]);
  assert.is(read!.tasks.length, 6, '2 slots x 3 tasks per slot, one bucket each');
  assert.equal(read!.tasks[3]!.buckets, [3]);
  assert.equal(read!.tasks[0]!.files['sb'], [
    `${plan.shuffleDir}/s1_0.parquet`,
    `${plan.shuffleDir}/s1_1.parquet`,
  ]);
  // Only the columns the query reads are written; keys of both types are hashed as BIGINT.
  assert.ok(write!.tasks[0]!.sql.startsWith('SELECT id, a, v, CAST((hash(CAST(a AS BIGINT)) % 6)'));
  const explained = explainPlan(plan);
  assert.ok(
    explained.includes('stage 1: files, 5 tasks, writing shuffle files -> shuffle_counts(Count BIGINT)'),
    explained.join('\n'),
  );
  assert.ok(explained.some((r) => r.startsWith('stage 2: repartition, 6 tasks -> task_results')));
  assert.ok(explained.some((r) => r.includes(`writes ${plan.shuffleDir}/s0_0.parquet`)));
  await shuffled('SELECT sa.id, sb.id2, sb.b FROM sa LEFT JOIN sb ON sa.a = sb.b');
  await shuffled('SELECT sa.id, sa.a, sb.id2 FROM sa RIGHT JOIN sb ON sb.b = sa.a AND sa.v > 3');
  await shuffled('SELECT sa.id, sa.a, sb.id2, sb.b FROM sa FULL JOIN sb ON sa.a = sb.b');
  await shuffled(
    'SELECT count(*), count(sa.a), count(sb.b), count(sa.id), count(sb.id2) FROM sb FULL JOIN sa ON sa.a = sb.b',
  );
  // NULL keys meet NULL keys: they all hash to one bucket.
  await shuffled('SELECT sa.id, sb.id2 FROM sa JOIN sb ON sa.a IS NOT DISTINCT FROM sb.b');
  await shuffled('SELECT sa.id, sb.id2 FROM sa, sb WHERE sb.b = sa.a AND sa.v = sb.w');
  await shuffled('SELECT id, id2 FROM sa JOIN (SELECT id2, b AS a, w FROM sb) s USING (a)');
});

test('repartition joins: semi and anti joins, EXISTS and IN; NOT IN stays whole', async () => {
  await shuffled('SELECT sa.id FROM sa SEMI JOIN sb ON sa.a = sb.b');
  await shuffled('SELECT sa.id, sa.a FROM sa ANTI JOIN sb ON sa.a = sb.b');
  // The subquery's own filter is applied before writing, and its `*` reads no column.
  const exists = await shuffled(
    'SELECT count(*) FROM sa WHERE EXISTS (SELECT * FROM sb WHERE sb.b = sa.a AND sb.w > 2)',
  );
  const sbWrite = exists.stages[0]!.tasks.find((t) => t.files['sb'])!.sql;
  assert.ok(sbWrite.startsWith('SELECT b, w, CAST('), sbWrite);
  assert.ok(sbWrite.includes('WHERE (w > 2)'), sbWrite);
  await shuffled('SELECT id, a FROM sa WHERE NOT EXISTS (SELECT 1 FROM sb WHERE sb.b = sa.a)');
  await shuffled('SELECT id FROM sa WHERE a IN (SELECT b FROM sb WHERE w = 3)');
  // NOT IN is NULL for every row once the subquery holds a NULL: no bucket alone can know that.
  const notIn = await h.check('SELECT count(*) FROM sa WHERE a NOT IN (SELECT b FROM sb)', {}, shuffleCtx());
  assert.is.not(notIn.stages[0]?.kind, 'shuffle-write');
});

test('repartition joins: aggregates, ORDER BY and LIMIT over the joined buckets', async () => {
  await shuffled('SELECT sa.a, count(*), sum(sb.w) FROM sa JOIN sb ON sa.a = sb.b GROUP BY sa.a');
  await shuffled(
    'SELECT sa.g, count(*), avg(sb.w), count(DISTINCT sb.id2) FROM sa JOIN sb ON sa.a = sb.b GROUP BY sa.g',
  );
  await shuffled(
    'SELECT sa.id, sb.id2 FROM sa LEFT JOIN sb ON sa.a = sb.b ORDER BY sa.id DESC, sb.id2 NULLS FIRST LIMIT 25',
    {
      ordered: true,
    },
  );
  await shuffled('SELECT DISTINCT sa.v, sb.w FROM sa JOIN sb ON sa.a = sb.b');
  // Small tables ride along, read whole by every task of the second stage.
  const dims = await shuffled(
    'SELECT d.name, count(*) FROM sa JOIN sb ON sa.a = sb.b JOIN dim d ON d.dk = sa.v GROUP BY d.name',
  );
  assert.equal(dims.stages[1]!.replicated, ['dim']);
});

test('repartition joins: filters are applied before writing; empty sides write nothing', async () => {
  const filtered = await shuffled(
    'SELECT sa.id, sb.id2 FROM sa JOIN sb ON sa.a = sb.b WHERE sa.v < 3 AND sb.w IN (1, 2)',
  );
  const writes = filtered.stages[0]!.tasks.map((t) => t.sql);
  assert.ok(writes[0]!.includes('WHERE (v < 3)'), writes[0]);
  assert.ok(writes[3]!.includes('IN (1, 2)'), writes[3]);
  // Statistics rule out every file of sb: no write task for it, every read task sees it empty.
  const empty = await shuffled(
    'SELECT sa.id, sb.id2 FROM sa LEFT JOIN sb ON sa.a = sb.b WHERE sb.id2 > 100000 OR sa.v = 1',
  );
  assert.is(empty.stages[0]!.tasks.length, 5);
  const none = await shuffled(
    'SELECT sa.id, sb.id2 FROM sa RIGHT JOIN sb ON sa.a = sb.b WHERE sb.id2 > 100000',
  );
  assert.is(none.stages[0]!.tasks.length, 3, 'sb is pruned away; sa is still written');
  await shuffled('SELECT count(*), count(sb.b) FROM sa FULL JOIN sb ON sa.a = sb.b WHERE sa.id < 0');
});

test('a table hashed on the join key takes the other side into its own buckets', async () => {
  const plan = await shuffled('SELECT o.ok, o.prio, l.ln FROM ord o JOIN lineb l ON o.ok = l.ok');
  assert.match(
    plan.reason ?? '',
    /lineb on ok repartitioned by hash into the 4 buckets of colocation group orderkey/,
  );
  assert.equal(Object.keys(plan.stages[0]!.tasks[0]!.files), ['lineb'], 'only lineb is written');
  assert.equal(plan.stages[1]!.tasks[0]!.buckets, [0]);
  await shuffled(
    'SELECT o.cust, count(*), sum(l.qty) FROM ord o LEFT JOIN lineb l ON l.ok = o.ok GROUP BY o.cust',
  );
  await shuffled(
    'SELECT l.ln, o.ok FROM ord o RIGHT JOIN lineb l ON l.ok = o.ok WHERE o.ok = 4711 OR l.qty = 3',
  );
  await shuffled('SELECT count(*) FROM lineb l WHERE NOT EXISTS (SELECT 1 FROM ord o WHERE o.ok = l.ok)');
});

test('one small side: a broadcast join, not a shuffle', async () => {
  const plan = await h.check(
    'SELECT d.grp, sum(f.x) FROM fact f JOIN dimb d ON f.dk = d.dk GROUP BY d.grp',
    {},
    shuffleCtx(),
  );
  assert.is(plan.stages.length, 1);
  assert.is(plan.stages[0]!.partitioning, 'broadcast');
});

test('window functions partitioned by the bucket key run per bucket; others gather', async () => {
  await check('SELECT ok, ln, row_number() OVER (PARTITION BY ok ORDER BY ln) AS rn FROM line', {
    mode: 'distributed',
  });
  await check(
    'SELECT ok, ln, qty FROM line QUALIFY rank() OVER (PARTITION BY ok ORDER BY qty DESC, ln) = 1 ORDER BY ok LIMIT 20',
    { mode: 'distributed', ordered: true },
  );
  const plan = await check('SELECT ln, sum(qty) OVER (PARTITION BY part) FROM line', { mode: 'gathered' });
  assert.ok(explainPlan(plan).some((r) => r.includes('window function')));
});

test('window functions partitioned by another column repartition by it', async () => {
  await shuffled('SELECT ln, sum(qty) OVER (PARTITION BY part) FROM line');
  await shuffled('SELECT id, a, v, row_number() OVER (PARTITION BY a ORDER BY id) AS rn FROM sa');
  await shuffled(
    'SELECT a, id, v FROM sa QUALIFY rank() OVER (PARTITION BY a ORDER BY v DESC, id) <= 2 ORDER BY a NULLS FIRST, id LIMIT 40',
    { ordered: true },
  );
  await shuffled(
    'SELECT g, count(*) FROM (SELECT g, lag(v) OVER (PARTITION BY g ORDER BY id) AS p FROM sa) t WHERE p > 5 GROUP BY g',
  );
  // Windows partitioned by different columns cannot share one repartition.
  const two = await h.check(
    'SELECT id, sum(v) OVER (PARTITION BY a), sum(v) OVER (PARTITION BY g) FROM sa',
    {},
    shuffleCtx(),
  );
  assert.is(two.mode, 'gathered');
});

test.run();
