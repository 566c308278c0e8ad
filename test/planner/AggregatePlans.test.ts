// Aggregation: partial aggregates in tasks and the final one on the coordinator, exact aggregates from
// pushed-down inputs, and whole-group aggregation per bucket; each against single-node DuckDB.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PlannerHarness } from './plannerHarness.js';

let h: PlannerHarness;

test.before(async () => {
  h = await PlannerHarness.create();
  // 20,000 rows in 5 files of very different sizes (one empty), with NULLs, duplicates and skew:
  // an average of per-file averages is visibly wrong here.
  await h.writeTable('m', {
    rows: `SELECT id,
             CASE WHEN id % 11 = 0 THEN NULL ELSE id % 4 END AS g,
             id % 3 AS h,
             CASE WHEN id % 7 = 0 THEN NULL ELSE (id * 37) % 101 END AS i,
             CASE WHEN id % 13 = 0 THEN NULL ELSE ((id * 53) % 1000) / 8.0 END AS d,
             CAST(((id * 7919) % 10007) AS DECIMAL(12,2)) / 100 AS dec,
             1000000.0 + ((id * 31) % 97) / 7.0 AS near,
             id % 5 = 0 AS flag,
             CAST(id * 2654435761 % 65536 AS INTEGER) AS bits,
             CASE WHEN id % 17 = 0 THEN NULL ELSE 'w' || ((id * 13) % 29) END AS word,
             'grp' || (id % 4) AS label
           FROM range(1, 20001) r(id)`,
    files: {
      count: 5,
      fileOf:
        'CASE WHEN id <= 16000 THEN 0 WHEN id <= 16010 THEN 1 WHEN id <= 19000 THEN 2 WHEN id <= 20000 THEN 4 END',
    },
  });
  // Bucketed on k: a GROUP BY k aggregates whole groups per bucket.
  await h.writeTable('b', {
    rows: 'SELECT id, id % 500 AS k, (id * 7) % 1000 AS v FROM range(1, 30001) r(id)',
    hash: { column: 'k', buckets: 4, group: 'k500' },
  });
});

test.after(() => h.close());

function stageColumns(plan: Awaited<ReturnType<PlannerHarness['plan']>>): string[] {
  return plan.stages[0]!.columns.map((c) => c.name);
}

test('COUNT, SUM, MIN, MAX and AVG of integers, decimals and doubles, with NULLs', async () => {
  const plan = await h.check(
    `SELECT count(*), count(i), count(d), sum(i), sum(d), sum(dec), min(i), max(d), min(word), max(dec),
            avg(i), avg(d), avg(dec), avg(near) FROM m`,
    // One task per file but the empty one.
    { mode: 'distributed', tasks: 4 },
  );
  assert.is(plan.merge.kind, 'aggregate');
  assert.ok(
    stageColumns(plan).every((c) => c.startsWith('p')),
    'partial aggregates only',
  );
  await h.check('SELECT g, count(*), sum(i), avg(i), avg(d), min(dec), max(word) FROM m GROUP BY g');
  await h.check('SELECT count(*), sum(i), avg(d), min(word) FROM m WHERE id > 30000');
  await h.check('SELECT g, count(*) FROM m WHERE id > 30000 GROUP BY g');
});

test('AVG is a sum over a count, not an average of averages', async () => {
  const plan = await h.check('SELECT avg(id) AS a FROM m WHERE id > 15000');
  assert.ok(plan.merge.sql.includes('sum('), plan.merge.sql);
});

test('STDDEV and VARIANCE, population and sample, merged stably', async () => {
  await h.check(
    `SELECT stddev(d), stddev_samp(d), stddev_pop(d), variance(i), var_samp(i), var_pop(i),
            stddev_samp(near), var_pop(near), var_samp(dec) FROM m`,
  );
  await h.check('SELECT g, stddev_samp(near), var_pop(d), variance(i) FROM m GROUP BY g');
  // A group with one row has no sample variance; with none, no variance at all.
  await h.check(
    'SELECT id % 2000 AS x, var_samp(d), var_pop(d), stddev(i) FROM m WHERE id > 16000 GROUP BY x',
  );
});

test('BOOL_AND/OR, BIT_AND/OR/XOR, ANY_VALUE, ARG_MIN/ARG_MAX', async () => {
  await h.check(
    `SELECT h, bool_and(flag), bool_or(flag), bool_and(i > 0), bit_and(bits), bit_or(bits), bit_xor(bits),
            any_value(label) FILTER (WHERE g = 1), arg_min(id, d * 1000 + id), arg_max(word, id), min_by(id, dec + id / 1e6),
            max_by(d, id) FROM m GROUP BY h`,
  );
  // arg_min skips rows whose argument is NULL: the winner is the best row with a value.
  await h.check('SELECT arg_min(word, id), arg_max(i, id), argmax(d, id) FROM m');
});

test('GROUP BY expressions, aliases and positions; HAVING after the final aggregation; FILTER', async () => {
  await h.check(
    `SELECT g, h, count(*) AS n, sum(i) FILTER (WHERE flag) AS s, count(*) FILTER (WHERE d > 50) AS c
     FROM m GROUP BY g, h HAVING count(*) > 1000 AND sum(i) > 10`,
  );
  await h.check('SELECT id % 10 AS bucket, avg(d) FROM m GROUP BY bucket HAVING avg(d) > 62.2');
  await h.check("SELECT label || '!' AS l, max(id) - min(id) AS span FROM m GROUP BY 1");
  await h.check('SELECT g + 1, sum(i) * 2 + count(*) FROM m GROUP BY g + 1 ORDER BY 2 DESC', {
    ordered: true,
  });
  await h.check('SELECT g, h, count(*) FROM m GROUP BY ALL');
  await h.check(
    'SELECT g, sum(i) AS total, rank() OVER (ORDER BY sum(i) DESC) AS r FROM m GROUP BY g ORDER BY total LIMIT 3',
    { ordered: true },
  );
  await h.check('SELECT count(*) FROM m HAVING count(*) > 100000');
});

test('GROUPING SETS, ROLLUP and CUBE with GROUPING()', async () => {
  await h.check('SELECT g, h, count(*), sum(d), avg(i) FROM m GROUP BY GROUPING SETS ((g), (h), ())');
  await h.check('SELECT g, h, count(*), grouping(g, h) AS gr, max(word) FROM m GROUP BY ROLLUP (g, h)');
  await h.check('SELECT g, h, sum(i) FILTER (WHERE flag), stddev(d) FROM m GROUP BY CUBE (g, h)');
  await h.check('SELECT g, count(DISTINCT word), median(i) FROM m GROUP BY ROLLUP (g) HAVING count(*) > 10');
});

test('COUNT(DISTINCT), MEDIAN, QUANTILE, MODE, STRING_AGG and LIST with ORDER BY are exact', async () => {
  const plan = await h.check(
    `SELECT g, count(DISTINCT word), median(d), quantile_cont(i, 0.25), quantile_disc(d, 0.9),
            mode(least(id % 10, 3)), string_agg(word, ',' ORDER BY id DESC), list(i ORDER BY id) FILTER (WHERE id < 50),
            sum(DISTINCT i), avg(DISTINCT h), count(*), sum(d) FROM m GROUP BY g`,
  );
  assert.ok(stageColumns(plan).includes('__w'), 'inputs are sent with their multiplicity');
  const distinct = await h.check(
    'SELECT h, count(DISTINCT word), count(DISTINCT g), min(d) FROM m GROUP BY h',
  );
  assert.not.ok(
    stageColumns(distinct).includes('__w'),
    'duplicate-insensitive aggregates need distinct inputs only',
  );
  await h.check('SELECT count(DISTINCT id % 1000), median(id) FROM m');
  await h.check('SELECT median(i) FROM m WHERE id < 0');
  await h.check('SELECT count(DISTINCT 1), min(DISTINCT 2) FROM m WHERE id > 19990');
  await h.check('SELECT count(DISTINCT 1) FROM m WHERE id < 0');
});

test('aggregates grouped by the bucket key run whole per bucket', async () => {
  const plan = await h.check('SELECT k, count(*), sum(v), median(v) FROM b GROUP BY k HAVING count(*) = 60', {
    tasks: 4,
  });
  assert.is(plan.stages[0]!.partitioning, 'buckets');
  assert.is(plan.merge.kind, 'concat');
  assert.ok(plan.stages[0]!.tasks[0]!.sql.includes('HAVING'), plan.stages[0]!.tasks[0]!.sql);
  const top = await h.check('SELECT k, sum(v) AS s FROM b GROUP BY k ORDER BY s DESC, k LIMIT 5', {
    ordered: true,
  });
  assert.is(top.merge.kind, 'merge-sort');
  await h.check('SELECT count(*), sum(v) FROM b');
  await h.check('SELECT k % 7 AS x, count(DISTINCT v) FROM b GROUP BY x');
  const point = await h.check('SELECT k, count(*) FROM b WHERE k = 42 GROUP BY k', { tasks: 1 });
  assert.is(point.stages[0]!.tasks[0]!.buckets?.length, 1, 'a key equality selects its bucket');
});

test('aggregates over a derived table and subquery filters', async () => {
  await h.check(
    'SELECT g, count(*) FROM (SELECT g, i + 1 AS j FROM m WHERE d > 10) t WHERE j > 5 GROUP BY g',
  );
  await h.check('SELECT count(*) FROM m WHERE i IN (SELECT 5 UNION ALL SELECT 7)');
});

test.run();
