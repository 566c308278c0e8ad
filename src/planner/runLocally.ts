import { mkdirSync, rmSync } from 'node:fs';
import type { DuckDBInstance, DuckDBResultReader } from '@duckdb/node-api';
import { quoteIdent, quoteLiteral } from './sqlText.js';
import type { DistributedPlan, Stage } from './types.js';

/** How runLocally runs tasks. */
export interface RunLocallyOptions {
  /** Tasks run at once, each on its own connection (default 2). */
  readonly concurrency?: number;
}

let runs = 0;

/**
 * Executes a plan in one DuckDB instance: the reference for what the cluster must do, and the "cluster"
 * the planner's tests run against. The contract:
 * 1. Stages run in order. Before a stage's tasks start, its `output` relation exists with exactly the
 *    stage's `columns` (names and types), so a stage whose tasks were all pruned away still has one.
 * 2. Each task's SELECT runs exactly once to completion, in any order and concurrently; its rows are
 *    appended to the output by position. A failed attempt must leave no rows behind (here an
 *    INSERT ... SELECT is atomic; a scheduler retrying a task discards the failed attempt's batches).
 * 3. After every task, `merge.sql` runs on the coordinator with the stage output visible as its
 *    unqualified name (`task_results`); its result, names and types included, is the query's answer.
 *    Local and gathered plans have no stages: `merge.sql` is the whole query.
 * 4. A plan with `shuffleDir` has a `shuffle-write` stage first. The directory is created (empty) before
 *    any stage runs. Each of the stage's tasks runs as `COPY (<task.sql>) TO '<task.writes>'
 *    (FORMAT parquet)`, writing the SELECT's rows in their order; the COPY's one-row `Count` result goes
 *    to the stage's output. The next stage starts only once every write task has succeeded, so every
 *    shuffle file is complete when it is read. A failed or superseded attempt may leave its file (or
 *    DuckDB's `tmp_` file beside it) half written: a retry rewrites it whole, and no two attempts of one
 *    write task may run at once. The directory is removed after the merge, whatever the outcome.
 */
export async function runLocally(
  plan: DistributedPlan,
  instance: DuckDBInstance,
  options: RunLocallyOptions = {},
): Promise<DuckDBResultReader> {
  const schema = `mallard_run_${process.pid}_${++runs}`;
  if (plan.shuffleDir) mkdirSync(plan.shuffleDir, { recursive: true });
  const setup = await instance.connect();
  try {
    if (plan.stages.length) await setup.run(`CREATE SCHEMA ${quoteIdent(schema)}`);
    for (const stage of plan.stages) await runStage(stage, schema, instance, options.concurrency ?? 2);
    const merge = await instance.connect();
    try {
      if (plan.stages.length) await merge.run(`SET search_path = ${quoteIdent(schema)}`);
      return await merge.runAndReadAll(plan.merge.sql);
    } finally {
      merge.closeSync();
    }
  } finally {
    try {
      if (plan.stages.length) await setup.run(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    } finally {
      setup.closeSync();
      if (plan.shuffleDir) rmSync(plan.shuffleDir, { recursive: true, force: true });
    }
  }
}

async function runStage(
  stage: Stage,
  schema: string,
  instance: DuckDBInstance,
  concurrency: number,
): Promise<void> {
  const target = `${quoteIdent(schema)}.${quoteIdent(stage.output)}`;
  const columns = stage.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
  const setup = await instance.connect();
  try {
    await setup.run(`CREATE TABLE ${target} (${columns})`);
  } finally {
    setup.closeSync();
  }
  let next = 0;
  const worker = async () => {
    const conn = await instance.connect();
    try {
      for (let i = next++; i < stage.tasks.length; i = next++) {
        const task = stage.tasks[i]!;
        if (stage.kind === 'shuffle-write') {
          const copy = `COPY (${task.sql}) TO ${quoteLiteral(task.writes!)} (FORMAT parquet)`;
          const written = (await conn.runAndReadAll(copy)).getRows()[0]?.[0];
          await conn.run(`INSERT INTO ${target} VALUES (${BigInt(written as bigint).toString()})`);
        } else {
          await conn.run(`INSERT INTO ${target} SELECT * FROM (${task.sql})`);
        }
      }
    } finally {
      conn.closeSync();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, stage.tasks.length)) }, worker));
}
