// Aggregations whose reference tables are joined after the tasks aggregate (ReferenceLift): the answers
// equal DuckDB's (duplicate and NULL keys, reference tables joined to each other, HAVING, ORDER BY and
// LIMIT over the aggregates, grouping by split columns too), and the queries where lifting would not pay
// or would not be exact keep the reference tables on the workers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DistributedPlan } from '../../src/planner/types.js';
import { PlannerHarness } from './plannerHarness.js';

let h: PlannerHarness;

const LIFTED = 'joined on the coordinator after the tasks aggregate';
// Orders and lines are too large to read whole in every task; customers and nations are reference tables.
const CONTEXT = { workerSlots: 2, broadcastMaxRows: 5_000 };

/** Checks `sql` against DuckDB and whether its reference tables were joined after the aggregation. */
async function check(sql: string, lifted: boolean, ordered = false): Promise<DistributedPlan> {
  const plan = await h.check(sql, { mode: 'distributed', ordered }, CONTEXT);
  assert.is(plan.reason?.includes(LIFTED) ?? false, lifted, `${sql}\n${plan.reason}`);
  if (lifted) {
    // No task reads a reference table: the coordinator's merge does.
    const stage = plan.stages[0]!;
    assert.equal(stage.replicated, [], plan.reason);
    for (const t of stage.tasks)
      assert.not.ok('cust' in t.files || 'nat' in t.files, JSON.stringify(t.files));
    assert.ok(plan.merge.sql.includes('read_parquet'), plan.merge.sql);
  }
  return plan;
}

test.before(async () => {
  h = await PlannerHarness.create();
  await h.writeTable('ord', {
    rows: `SELECT CASE WHEN n % 500 = 0 THEN NULL ELSE n END AS ok,
             CASE WHEN n % 97 = 0 THEN NULL ELSE n % 70 END AS ck, n % 7 AS prio,
             DATE '1995-01-01' + CAST(n % 700 AS INTEGER) AS odate FROM range(1, 6001) r(n)`,
    hash: { column: 'ok', buckets: 4, group: 'orderkey' },
  });
  await h.writeTable('line', {
    rows: `SELECT CASE WHEN n % 997 = 0 THEN NULL ELSE (n * 7) % 6300 END AS ok, (n * 13) % 50 AS qty,
             (n % 1000) / 7.0 AS price FROM range(1, 24001) r(n)`,
    hash: { column: 'ok', buckets: 4, group: 'orderkey' },
  });
  // Customers 0..59 (orders name 0..69: some have none), with 5 and 6 twice (once with equal
  // attributes, once with others) and a NULL key; nations 0..9, nation 3 twice.
  await h.writeTable('cust', {
    rows: `SELECT * FROM (
             SELECT n AS ck, 'c' || n AS name, n % 12 AS nk, n * 1.5 AS bal FROM range(0, 60) r(n)
             UNION ALL SELECT 5, 'c5', 5, 7.5
             UNION ALL SELECT 6, 'c6 again', 6, 9.0
             UNION ALL SELECT NULL, 'nobody', 1, 0)`,
    reference: true,
  });
  await h.writeTable('nat', {
    rows: `SELECT * FROM (SELECT n AS nk, 'n' || n AS nname FROM range(0, 10) r(n) UNION ALL SELECT 3, 'n3 again')`,
    reference: true,
  });
});

test.after(() => h.close());

test('a Q10-shaped query aggregates orders and lines per customer key, then joins customers and nations', async () => {
  const plan = await check(
    `SELECT c.ck, c.name, n.nname, sum(l.qty * l.price) AS revenue, count(*) AS lines, avg(l.qty) AS aq,
            min(o.odate) AS first, max(l.price) AS top
     FROM ord o, line l, cust c, nat n
     WHERE l.ok = o.ok AND o.ck = c.ck AND c.nk = n.nk AND o.prio < 5 AND l.qty > 3
     GROUP BY c.ck, c.name, n.nname
     ORDER BY revenue DESC, c.ck, c.name, n.nname
     LIMIT 25`,
    true,
    true,
  );
  // The tasks group by the orders' customer key alone.
  const keys = plan.stages[0]!.columns.filter((c) => c.name.startsWith('k'));
  assert.equal(keys, [{ name: 'k0', type: 'BIGINT' }]);
});

test('duplicate reference keys repeat the partials exactly as the join repeated the rows', async () => {
  await check(
    `SELECT c.ck, c.name, count(*) AS n, sum(l.qty) AS q FROM ord o JOIN line l ON l.ok = o.ok
     JOIN cust c ON c.ck = o.ck GROUP BY c.ck, c.name`,
    true,
  );
  // Grouped by the key only: the two rows of customer 5 fall in one group, doubling its sums.
  await check(
    'SELECT c.ck, sum(l.qty) AS q, count(l.qty) AS n FROM ord o, line l, cust c WHERE l.ok = o.ok AND c.ck = o.ck GROUP BY c.ck',
    true,
  );
});

test('split columns in the grouping, HAVING over aggregates, ORDER BY a position', async () => {
  await check(
    `SELECT o.prio, c.ck, n.nname, sum(l.price) AS s FROM ord o, line l, cust c, nat n
     WHERE l.ok = o.ok AND c.ck = o.ck AND n.nk = c.nk
     GROUP BY o.prio, c.ck, n.nname HAVING sum(l.price) > 100 AND count(*) > 2 ORDER BY 4 DESC, 1, 2, 3`,
    true,
    true,
  );
  await check(
    `SELECT c.ck, c.bal * 2 AS doubled, sum(l.qty) FILTER (WHERE o.prio = 1) AS f
     FROM ord o, line l, cust c WHERE l.ok = o.ok AND c.ck = o.ck GROUP BY c.ck, c.bal`,
    true,
  );
});

test('a filtered reference table, a coarser grouping, or an aggregate of reference columns stay on the workers', async () => {
  // A filter on customers cuts the orders on the workers.
  await check(
    `SELECT c.ck, sum(l.qty) FROM ord o, line l, cust c WHERE l.ok = o.ok AND c.ck = o.ck AND c.bal > 20
     GROUP BY c.ck`,
    false,
  );
  // Grouped by nation only: per-customer partials would be many more rows than per-nation ones.
  await check(
    `SELECT n.nname, sum(l.qty) FROM ord o, line l, cust c, nat n WHERE l.ok = o.ok AND c.ck = o.ck
     AND n.nk = c.nk GROUP BY n.nname`,
    false,
  );
  // The aggregate reads a reference column.
  await check(
    'SELECT c.ck, sum(c.bal * l.qty) FROM ord o, line l, cust c WHERE l.ok = o.ok AND c.ck = o.ck GROUP BY c.ck',
    false,
  );
  // Not an inner join, and not an equality.
  await check(
    'SELECT c.ck, sum(l.qty) FROM ord o JOIN line l ON l.ok = o.ok LEFT JOIN cust c ON c.ck = o.ck GROUP BY c.ck',
    false,
  );
  await check(
    'SELECT c.ck, sum(l.qty) FROM ord o, line l, cust c WHERE l.ok = o.ok AND c.ck < o.ck GROUP BY c.ck',
    false,
  );
  // COUNT(DISTINCT ...) does not decompose: its inputs go to the coordinator as before.
  await check(
    'SELECT c.ck, count(DISTINCT l.qty) FROM ord o, line l, cust c WHERE l.ok = o.ok AND c.ck = o.ck GROUP BY c.ck',
    false,
  );
});

test('60 random liftable aggregations equal DuckDB, lifted or not', async () => {
  let state = 7;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const some = <T>(list: readonly T[]): T[] => list.filter(() => next() < 0.4);
  const AGGREGATES = [
    'sum(l.qty)',
    'count(*)',
    'count(l.price)',
    'avg(l.price)',
    'min(o.odate)',
    'max(l.price)',
    'sum(l.qty) FILTER (WHERE o.prio > 2)',
    'bool_or(l.qty > 40)',
    'avg(l.qty * 2 + o.prio)',
    'stddev_pop(l.qty)',
  ];
  let lifted = 0;
  for (let i = 0; i < 60; i++) {
    const nation = next() < 0.5;
    const key = pick(['c.ck', 'o.ck']);
    const groups = [key, ...some(['c.name', 'c.bal', 'o.prio', 'l.qty % 3', ...(nation ? ['n.nname'] : [])])];
    const aggs = [pick(AGGREGATES), ...some(AGGREGATES.slice(0, 4))];
    const where = ['l.ok = o.ok', 'o.ck = c.ck', ...(nation ? ['c.nk = n.nk'] : [])];
    if (next() < 0.5)
      where.push(pick(['o.prio < 4', 'l.qty BETWEEN 5 AND 40', "o.odate >= DATE '1995-06-01'"]));
    const select = [...groups, ...aggs];
    let sql = `SELECT ${select.join(', ')} FROM ord o, line l, cust c${nation ? ', nat n' : ''} WHERE ${where.join(' AND ')} GROUP BY ${groups.join(', ')}`;
    if (next() < 0.3) sql += ` HAVING count(*) > ${Math.floor(next() * 4)}`;
    const ordered = next() < 0.4;
    if (ordered) sql += ` ORDER BY ${select.map((_, j) => `${j + 1} NULLS FIRST`).join(', ')} LIMIT 15`;
    const plan = await h.check(sql, { mode: 'distributed', ordered }, CONTEXT);
    if (plan.reason?.includes(LIFTED)) lifted++;
  }
  // stddev does not lift (its merge needs a window over the partials); most of the rest do.
  assert.ok(lifted >= 30, `${lifted} of 60 lifted`);
});

test.run();
