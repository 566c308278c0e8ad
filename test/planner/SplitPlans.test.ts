// Splitting a table with fewer files than task slots: at row-group boundaries when the catalog lists
// row groups, by value ranges of a column with statistics otherwise, by row position (or row hash)
// modulo the task count last; each split checked against single-node DuckDB.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { PlanContext } from '../../src/planner/planQuery.js';
import type { ScanSql } from '../../src/planner/RelationBuilder.js';
import { quoteIdent, quoteLiteral } from '../../src/planner/sqlText.js';
import type { DistributedPlan, LayoutFile, TableLayout } from '../../src/planner/types.js';
import { PlannerHarness } from './plannerHarness.js';

let h: PlannerHarness;
// 4 slots x 3 tasks per slot: 12 tasks wanted; ranges and modulo need 10,000 rows per task here.
const ctx: Partial<PlanContext> = { splitMinRows: 10_000 };

const check = (
  sql: string,
  options: Parameters<PlannerHarness['check']>[1] = {},
  more: Partial<PlanContext> = {},
) => h.check(sql, options, { ...ctx, ...more });

/** Registers `name` as `from` with its files transformed (and a DuckDB view of the same rows). */
async function variant(name: string, from: string, files: (f: LayoutFile) => LayoutFile): Promise<void> {
  const layout = h.tables.get(from)!;
  h.tables.set(name, { ...layout, name, files: layout.files.map(files) });
  await h.conn.run(`CREATE OR REPLACE VIEW ${quoteIdent(name)} AS SELECT * FROM ${quoteIdent(from)}`);
}

const noRowGroups = ({ rowGroups: _, ...f }: LayoutFile): LayoutFile => f;
const noStats = ({ rowGroups: _, stats: __, ...f }: LayoutFile): LayoutFile => f;

/** A ScanSql as storage might write one: read_parquet, honouring row ranges when asked to. */
const scanSql: ScanSql = (layout: TableLayout, files: readonly LayoutFile[]) => {
  const columns = layout.columns.map((c) => quoteIdent(c.name)).join(', ');
  return files
    .map((f) =>
      f.rowRange
        ? `SELECT ${columns} FROM read_parquet(${quoteLiteral(f.path)}, file_row_number = true) WHERE file_row_number BETWEEN ${f.rowRange.start} AND ${f.rowRange.end - 1}`
        : `SELECT ${columns} FROM read_parquet(${quoteLiteral(f.path)})`,
    )
    .join(' UNION ALL ');
};

function stage(plan: DistributedPlan) {
  return plan.stages[plan.stages.length - 1]!;
}

test.before(async () => {
  h = await PlannerHarness.create();
  // 100,000 rows in one file of 10 row groups (10,240 rows each, the last 7,840), sorted by id.
  await h.writeTable('big', {
    rows: `SELECT id, id % 97 AS k, CASE WHEN id % 7 = 0 THEN NULL ELSE id * 3 END AS n,
             CASE WHEN id % 10 = 0 THEN NULL ELSE 's' || (id % 31) END AS s, (id % 1000) / 8.0 AS d,
             DATE '2000-01-01' + CAST(id % 5000 AS INTEGER) AS day
           FROM range(1, 100001) r(id)`,
    rowGroupSize: 10_000,
  });
  // Only strings and doubles: no column a range split can cut.
  await h.writeTable('strs', {
    rows: `SELECT 'x' || (i % 1000) AS a, i / 3.0 AS b, CASE WHEN i % 4 = 0 THEN NULL ELSE 'y' END AS c
           FROM range(60000) r(i)`,
  });
  await variant('big_norg', 'big', noRowGroups);
  await variant('big_nostats', 'big', noStats);
});

test.after(() => h.close());

test('a one-file table splits into tasks at row-group boundaries', async () => {
  const plan = await check('SELECT * FROM big', { mode: 'distributed', tasks: 10 });
  assert.is(stage(plan).partitioning, 'row-groups');
  assert.ok(stage(plan).tasks[1]!.sql.includes('(file_row_number >= 10240)'), stage(plan).tasks[1]!.sql);
  await check('SELECT k, count(*), sum(d), count(DISTINCT s) FROM big GROUP BY k', { tasks: 10 });
  await check('SELECT id, s FROM big ORDER BY d DESC, id LIMIT 20', { ordered: true });
  await check('SELECT count(*), min(day), max(n) FROM big');
  // Fewer slots than row groups: contiguous runs of about equal size.
  const runs = await check('SELECT * FROM big', { tasks: 3 }, { workerSlots: 1 });
  assert.is(stage(runs).partitioning, 'row-groups');
});

test('row groups are pruned by their own statistics', async () => {
  await check('SELECT * FROM big WHERE id = 55555', { tasks: 1 });
  await check('SELECT id, k FROM big WHERE id BETWEEN 15000 AND 35000', { tasks: 3 });
  await check('SELECT count(*) FROM big WHERE id > 200000', { tasks: 0 });
  await check('SELECT id FROM big WHERE id < 10 OR id > 99990', { tasks: 10 });
});

test('without row groups: value ranges of the widest integer column, NULLs in the first range', async () => {
  const plan = await check('SELECT * FROM big_norg', { mode: 'distributed', tasks: 10 });
  assert.is(stage(plan).partitioning, 'range');
  assert.ok(stage(plan).tasks[0]!.sql.includes('(n IS NULL)'), stage(plan).tasks[0]!.sql);
  await check('SELECT k, count(*), avg(n) FROM big_norg GROUP BY k');
  await check('SELECT id FROM big_norg WHERE n IS NULL ORDER BY id DESC LIMIT 5', { ordered: true });
  await check('SELECT count(*), count(n) FROM big_norg WHERE id > 50000');
  // The minimum rows per task: 100,000 rows, 40,000 per task at least, two tasks.
  await check('SELECT * FROM big_norg', { tasks: 2 }, { splitMinRows: 40_000 });
  // Below the default minimum (1,000,000 rows per task) a file is not cut.
  await check('SELECT * FROM big_norg', { tasks: 1 }, { splitMinRows: undefined });
});

test('without statistics: the row position modulo the task count', async () => {
  const plan = await check('SELECT * FROM big_nostats', { tasks: 10 });
  assert.is(stage(plan).partitioning, 'modulo');
  assert.ok(stage(plan).tasks[3]!.sql.includes('((file_row_number % 10) = 3)'), stage(plan).tasks[3]!.sql);
  await check('SELECT a, count(*), sum(b) FROM strs GROUP BY a', { tasks: 6 });
  await check('SELECT DISTINCT c FROM strs');
});

test('a ScanSql splits at row groups only if it reads row ranges; else ranges or a hash of the row', async () => {
  const ranged = await check('SELECT * FROM big', { tasks: 10 }, { scanSql, scanSqlRowRanges: true });
  assert.is(stage(ranged).partitioning, 'row-groups');
  assert.ok(stage(ranged).tasks[2]!.sql.includes('BETWEEN 20480 AND 30719'), stage(ranged).tasks[2]!.sql);
  const values = await check('SELECT k, sum(id) FROM big GROUP BY k', { tasks: 10 }, { scanSql });
  assert.is(stage(values).partitioning, 'range');
  const hashed = await check('SELECT a, c, count(*) FROM strs GROUP BY ALL', { tasks: 6 }, { scanSql });
  assert.is(stage(hashed).partitioning, 'modulo');
  assert.ok(stage(hashed).tasks[0]!.sql.includes('hash(a, b, c)'), stage(hashed).tasks[0]!.sql);
});

test('a shuffle splits its input the same way', async () => {
  const plan = await check(
    'SELECT id, k, row_number() OVER (PARTITION BY k ORDER BY id DESC) AS r FROM big',
    { mode: 'distributed' },
    { shuffleDir: h.shuffleDir(), broadcastMaxRows: 1000 },
  );
  assert.is(plan.stages[0]!.kind, 'shuffle-write');
  assert.is(plan.stages[0]!.partitioning, 'row-groups');
  assert.is(plan.stages[0]!.tasks.length, 10);
});

test.run();
