/**
 * The planner's differential fuzzer, for as long as asked:
 *
 *     node dist/bench/fuzz.js --seconds 3600 [--seed N] [--queries 300]
 *     node dist/bench/fuzz.js --world W --query Q      # replay one case, with its plan
 *
 * `--trace` prints every case before running it.
 *
 * World N, N+1, ... each gets `--queries` random queries (test/planner/queryFuzzer.ts); every query is
 * planned, run with runLocally and compared with single-node DuckDB over the same files. A failure
 * prints its world and query seeds, the SQL and why; a plan whose SQL trips a DuckDB INTERNAL error
 * (DuckDB's own bug, such as duckdb/duckdb#26000) is printed apart. The last line counts cases,
 * failures and plan modes. Exits 1 when a case failed.
 */
import { parseArgs } from 'node:util';
import { explainPlan } from '../src/planner/explain.js';
import { PlannerHarness } from '../test/planner/plannerHarness.js';
import { fuzzQuery, fuzzWorld, loadWorld, runCase } from '../test/planner/queryFuzzer.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    queries: { type: 'string', default: '300' },
    world: { type: 'string' },
    query: { type: 'string' },
    trace: { type: 'boolean', default: false },
  },
});

async function replay(w: number, q: number): Promise<void> {
  const h = await PlannerHarness.create();
  try {
    const world = fuzzWorld(w);
    await loadWorld(h, world);
    const sql = fuzzQuery(world, q);
    console.log(sql);
    const plan = await h.plan(sql, { ...world.context, shuffleDir: h.shuffleDir() });
    console.log(explainPlan(plan).join('\n'));
    const result = await runCase(h, world, q);
    console.log(result.failure ? `FAIL: ${result.failure}` : `ok (${result.mode ?? 'rejected by DuckDB'})`);
    if (result.failure) process.exitCode = 1;
  } finally {
    h.close();
  }
}

async function run(seconds: number, firstWorld: number, perWorld: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  const counts = {
    cases: 0,
    failures: 0,
    internal: 0,
    local: 0,
    distributed: 0,
    gathered: 0,
    shuffled: 0,
    rejected: 0,
  };
  console.log(`fuzzing from world ${firstWorld}, ${perWorld} queries per world, for ${seconds} s`);
  for (let w = firstWorld; Date.now() < deadline; w++) {
    const h = await PlannerHarness.create();
    try {
      const world = fuzzWorld(w);
      await loadWorld(h, world);
      for (let q = 1; q <= perWorld && Date.now() < deadline; q++) {
        if (values.trace) console.log(`world ${w} query ${q}: ${fuzzQuery(world, q)}`);
        const result = await runCase(h, world, q);
        counts.cases++;
        if (!result.mode) counts.rejected++;
        else counts[result.mode]++;
        if (result.shuffled) counts.shuffled++;
        if (result.failure) {
          if (result.internal) counts.internal++;
          else counts.failures++;
          const what = result.internal ? 'DUCKDB INTERNAL ERROR' : 'FAIL';
          const why = result.failure.split('\n').slice(0, 4).join('\n  ');
          console.log(`${what} world ${w} query ${q}\n  ${result.sql}\n  ${why}`);
        }
      }
    } finally {
      h.close();
    }
  }
  console.log(
    `${counts.cases} cases, ${counts.failures} failed, ${counts.internal} hit DuckDB internal errors; ${counts.distributed} distributed (${counts.shuffled} shuffled), ` +
      `${counts.gathered} gathered, ${counts.local} local, ${counts.rejected} rejected by DuckDB`,
  );
  if (counts.failures) process.exitCode = 1;
}

if (values.world !== undefined && values.query !== undefined) {
  await replay(Number(values.world), Number(values.query));
} else {
  await run(Number(values.seconds), Number(values.seed), Number(values.queries));
}
