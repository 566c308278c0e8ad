// The planner's building blocks: the lossless JSON codec for DuckDB's parse tree, task packing, the
// DuckDB parser round trip, and edge cases of names, literals and plan shapes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { explainPlan } from '../../src/planner/explain.js';
import { JsonNumber, parseLosslessJson, stringifyLosslessJson } from '../../src/planner/losslessJson.js';
import { packTasks } from '../../src/planner/packTasks.js';
import { runLocally } from '../../src/planner/runLocally.js';
import { SqlParseError } from '../../src/planner/SqlParser.js';
import { PlannerHarness } from './plannerHarness.js';

let h: PlannerHarness;

test.before(async () => {
  h = await PlannerHarness.create();
  await h.writeTable('Odd Names', {
    rows: `SELECT n AS "Order Key", n % 3 AS "select", 'it''s ' || n AS "it's", n % 5 AS c0, n % 2 AS p0,
             CAST(n AS BIGINT) * 2305843009213693 AS huge FROM range(1, 3001) r(n)`,
    files: { count: 3, fileOf: '("Order Key" - 1) // 1000' },
  });
  await h.writeTable('pairs_a', {
    rows: 'SELECT n AS k, n % 10 AS v FROM range(1, 2001) r(n)',
    hash: { column: 'k', buckets: 4, group: 'pairs' },
  });
  await h.writeTable('pairs_b', {
    rows: 'SELECT n * 2 AS k, n % 7 AS v FROM range(1, 2001) r(n)',
    hash: { column: 'k', buckets: 4, group: 'pairs' },
  });
});

test.after(() => h.close());

test('lossless JSON keeps 64-bit integers, Infinity and escapes exactly', () => {
  const text =
    '{"a":18446744073709551615,"b":-9007199254740993,"c":1.5,"d":Infinity,"e":"x\\"y\\u00e9","f":[1,null,true]}';
  const value = parseLosslessJson(text) as Record<string, unknown>;
  assert.instance(value['a'], JsonNumber);
  assert.is((value['a'] as JsonNumber).text, '18446744073709551615');
  assert.is(Number(value['c']), 1.5);
  assert.is(Number(value['d']), Number.POSITIVE_INFINITY);
  assert.is(value['e'], 'x"yé');
  assert.equal(value['f'], [1, null, true]);
  assert.is(stringifyLosslessJson(value), text.replace('\\u00e9', 'é'));
  assert.throws(() => parseLosslessJson('{"a":1'), SyntaxError);
});

test('packTasks: one task per unit up to the bin count, then even weights in original order', () => {
  assert.equal(
    packTasks([5, 1, 3], (x) => x, 4),
    [[5], [1], [3]],
  );
  const packed = packTasks([9, 1, 1, 1, 1, 1, 1, 1, 1, 1], (x) => x, 2);
  assert.equal(packed.length, 2);
  assert.equal(
    packed.map((g) => g.reduce((a, b) => a + b, 0)),
    [9, 9],
  );
  assert.equal(
    packTasks([], (x: number) => x, 3),
    [],
  );
});

test('the parser refuses what DuckDB cannot parse, and non-SELECT statements plan locally', async () => {
  await h.parser.parse('SELEC 1').then(
    () => assert.unreachable('parsed'),
    (e) => assert.instance(e, SqlParseError),
  );
  const plan = await h.plan('CREATE TABLE x (a INTEGER)');
  assert.is(plan.mode, 'local');
  assert.match(plan.reason ?? '', /not a SELECT/);
  await h.plan('SELECT 1; SELECT 2').then(
    () => assert.unreachable('planned two statements'),
    (e) => assert.instance(e, RangeError),
  );
});

test('quoted names, reserved words and 64-bit literals survive the rewrite', async () => {
  await h.check('SELECT * FROM "Odd Names" WHERE "Order Key" = 1500', { tasks: 1 });
  await h.check('SELECT "select", count(*), sum(p0), max("it\'s") FROM "Odd Names" GROUP BY "select"');
  await h.check('SELECT c0, p0, count(DISTINCT "it\'s") FROM "Odd Names" GROUP BY c0, p0');
  await h.check('SELECT "Order Key" AS "A b", c0 FROM "Odd Names" ORDER BY "A b" DESC LIMIT 3', {
    ordered: true,
  });
  await h.check('SELECT huge FROM "Odd Names" WHERE huge = 2305843009213693 * 2999', { tasks: 1 });
  await h.check('SELECT 9007199254740993 + "Order Key" AS big, 1e400 FROM "Odd Names" WHERE "Order Key" < 3');
  await h.check('SELECT sum(huge), avg(huge) FROM "Odd Names"');
});

test('SELECT * over a co-located join keeps duplicate column names', async () => {
  const plan = await h.check('SELECT * FROM pairs_a a JOIN pairs_b b ON a.k = b.k WHERE a.v = 3', {
    mode: 'distributed',
  });
  assert.is(plan.stages[0]!.columns.length, 4);
  await h.check('SELECT * FROM pairs_a JOIN pairs_b USING (k) ORDER BY k LIMIT 7', {
    mode: 'distributed',
    ordered: true,
  });
  await h.check('SELECT k, count(*) FROM pairs_a NATURAL JOIN pairs_b GROUP BY k', { mode: 'distributed' });
});

test('a bucket with no rows of a table every result row needs gets no task', async () => {
  const plan = await h.check(
    'SELECT a.k, b.v FROM pairs_a a JOIN pairs_b b ON a.k = b.k WHERE a.k IN (4, 8)',
  );
  const buckets = plan.stages[0]!.tasks.flatMap((t) => t.buckets ?? []);
  assert.ok(buckets.length <= 2, `buckets ${buckets.join(',')}`);
  const outer = await h.check('SELECT a.k, b.k FROM pairs_a a FULL JOIN pairs_b b ON a.k = b.k');
  assert.is(outer.stages[0]!.tasks.length, 4);
});

test('a query with unbound parameters runs whole on the coordinator', async () => {
  const plan = await h.plan('SELECT k FROM pairs_a WHERE v = $1');
  assert.is(plan.mode, 'gathered');
  assert.match(plan.reason ?? '', /parameters/);
  assert.ok(plan.merge.sql.includes('$1'));
});

test('local plans run on the coordinator and EXPLAIN shows their SQL', async () => {
  const plan = await h.check('SELECT count(*) FROM pairs_a', { mode: 'local' }, { localMaxRows: 10_000 });
  const rows = explainPlan(plan);
  assert.is(rows[0], 'mode: local');
  assert.is(rows[2], 'merge: sql');
  assert.ok(rows[3]!.includes('read_parquet'));
  const result = await runLocally(plan, h.instance);
  assert.is(result.getRows()[0]![0], 2000n);
});

test.run();
