// The differential fuzzer's fixed seed range: random worlds of tables (NULLs, duplicates, skew, empty
// files, row groups; balanced, co-located and reference tables) and random queries over them, each
// planned, run with runLocally and compared with single-node DuckDB. PLANNER_FUZZ_WORLDS=a..b and
// PLANNER_FUZZ_QUERIES=n pick others; `node dist/bench/fuzz.js` runs for hours.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PlannerHarness } from './plannerHarness.js';
import { fuzzWorld, loadWorld, runCase } from './queryFuzzer.js';

const [firstWorld, lastWorld] = (process.env['PLANNER_FUZZ_WORLDS'] ?? '1..3').split('..').map(Number) as [
  number,
  number,
];
const queries = Number(process.env['PLANNER_FUZZ_QUERIES'] ?? 100);

for (let w = firstWorld; w <= lastWorld; w++) {
  test(`world ${w}: ${queries} random queries give single-node DuckDB answers`, async () => {
    const h = await PlannerHarness.create();
    try {
      const world = fuzzWorld(w);
      await loadWorld(h, world);
      const failures: string[] = [];
      const modes = { local: 0, distributed: 0, gathered: 0, shuffled: 0, skipped: 0 };
      for (let q = 1; q <= queries; q++) {
        const result = await runCase(h, world, q);
        if (!result.mode) modes.skipped++;
        else modes[result.mode]++;
        if (result.shuffled) modes.shuffled++;
        if (result.failure) {
          failures.push(
            `world ${w} query ${q}: ${result.sql}\n  ${result.failure.split('\n').slice(0, 3).join(' | ')}`,
          );
        }
      }
      console.log(
        `  world ${w}: ${modes.distributed} distributed (${modes.shuffled} through shuffles), ${modes.gathered} gathered, ${modes.skipped} rejected by DuckDB`,
      );
      assert.equal(failures, []);
      assert.ok(modes.distributed > queries / 3, 'a good share of random queries distribute');
    } finally {
      h.close();
    }
  });
}

test.run();
