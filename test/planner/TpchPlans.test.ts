// All 22 TPC-H queries, planned with lineitem and orders co-located on the order key, partsupp bucketed
// on the part key and the small tables as reference tables (the Citus layout), and again with every
// table balanced (split by files anyhow, large joins through shuffles), run with runLocally and
// compared in order with single-node DuckDB over the same files. PLANNER_TPCH_SF picks the scale
// factor (default 0.01).
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { PlanContext } from '../../src/planner/planQuery.js';
import { generateTpch } from '../../src/tpch/generate.js';
import { TPCH_QUERIES } from '../../src/tpch/queries.js';
import { TPCH_TABLES } from '../../src/tpch/tables.js';
import { PlannerHarness, type TableSpec } from './plannerHarness.js';

const SF = Number(process.env['PLANNER_TPCH_SF'] ?? 0.01);
let h: PlannerHarness;
let balanced: PlannerHarness;
// Reference tables are read whole anyway; partsupp (800,000 rows per SF) may be broadcast, orders not.
const ctx: Partial<PlanContext> = { broadcastMaxRows: Math.round(1_000_000 * SF), workerSlots: 4 };

/** The queries this planner proves distributable under this layout; the rest run gathered. */
const DISTRIBUTED = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 19, 21];
/** The queries that repartition over balanced tables. */
const SHUFFLED = [2, 3, 4, 5, 7, 8, 10, 12, 17, 18, 21];

test.before(async () => {
  h = await PlannerHarness.create();
  const raw = join(h.dir, 'raw');
  await generateTpch({ sf: SF, out: raw, threads: 2 });
  const layout: Record<string, Omit<TableSpec, 'rows'>> = {
    lineitem: { hash: { column: 'l_orderkey', buckets: 4, group: 'orderkey' } },
    orders: { hash: { column: 'o_orderkey', buckets: 4, group: 'orderkey' } },
    partsupp: { hash: { column: 'ps_partkey', buckets: 4, group: 'partkey' } },
  };
  for (const table of TPCH_TABLES) {
    const spec = layout[table] ?? { reference: true };
    await h.writeTable(table, {
      ...spec,
      rows: `SELECT * FROM read_parquet('${join(raw, `${table}.parquet`)}')`,
    });
  }
  balanced = await PlannerHarness.create();
  for (const table of TPCH_TABLES) {
    const rows = `SELECT * FROM read_parquet('${join(raw, `${table}.parquet`)}')`;
    await balanced.writeTable(table, { rows, files: { count: 2, fileOf: `hash(${KEYS[table]}) % 2` } });
  }
});

test.after(() => {
  h.close();
  balanced.close();
});

/** A column to spread each table's rows over its two files by. */
const KEYS: Record<string, string> = {
  lineitem: 'l_linenumber',
  orders: 'o_custkey',
  partsupp: 'ps_suppkey',
  part: 'p_partkey',
  customer: 'c_custkey',
  supplier: 's_suppkey',
  nation: 'n_nationkey',
  region: 'r_regionkey',
};

test(`all 22 TPC-H queries at SF ${SF} give DuckDB's answer`, async () => {
  const modes: Record<string, number[]> = { distributed: [], gathered: [], local: [] };
  const failures: string[] = [];
  for (const q of TPCH_QUERIES) {
    try {
      const plan = await h.check(q.sql, { ordered: true }, ctx);
      modes[plan.mode]!.push(q.id);
      if (plan.mode === 'gathered') console.log(`  Q${q.id} gathered: ${plan.reason}`);
      else
        console.log(
          `  Q${q.id} ${plan.mode}: ${plan.reason} (${plan.stages[0]?.tasks.length} tasks, merge ${plan.merge.kind})`,
        );
    } catch (e) {
      failures.push(`Q${q.id}: ${(e as Error).message}`);
    }
  }
  console.log(
    `  distributed: ${modes['distributed']!.join(', ')}; gathered: ${modes['gathered']!.join(', ')}`,
  );
  assert.equal(failures, []);
  assert.equal(modes['distributed'], DISTRIBUTED);
});

test(`all 22 TPC-H queries over balanced tables (shuffles for large joins) at SF ${SF}`, async () => {
  // lineitem, orders and partsupp are too large to broadcast; part, customer and the rest are not.
  const context: Partial<PlanContext> = { broadcastMaxRows: Math.round(500_000 * SF), workerSlots: 2 };
  const failures: string[] = [];
  const shuffled: number[] = [];
  for (const q of TPCH_QUERIES) {
    try {
      const plan = await balanced.check(
        q.sql,
        { ordered: true },
        { ...context, shuffleDir: balanced.shuffleDir() },
      );
      if (plan.stages[0]?.kind === 'shuffle-write') shuffled.push(q.id);
    } catch (e) {
      failures.push(`Q${q.id}: ${(e as Error).message}`);
    }
  }
  console.log(`  repartitioned: ${shuffled.join(', ')}`);
  assert.equal(failures, []);
  assert.equal(shuffled, SHUFFLED);
});

test.run();
