// Joins and subqueries: co-located (bucket i with bucket i), broadcast (small sides read whole), outer,
// semi and anti joins that must never replicate the preserved side, and the gathered fallback.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { explainPlan } from '../../src/planner/explain.js';
import type { PlanContext } from '../../src/planner/planQuery.js';
import { PlannerHarness } from './plannerHarness.js';

let h: PlannerHarness;
// Tables above 5,000 rows are too large to read whole in every task.
const ctx: Partial<PlanContext> = { broadcastMaxRows: 5_000 };

const check = (sql: string, options: Parameters<PlannerHarness['check']>[1] = {}) =>
  h.check(sql, options, ctx);

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
});

test.after(() => h.close());

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

test('two large tables not co-located run gathered; CTEs as their uses allow', async () => {
  await check('SELECT f.id, b.y FROM fact f JOIN big2 b ON f.k = b.k WHERE f.id < 50', { mode: 'gathered' });
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

test.run();
