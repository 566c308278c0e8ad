import type * as arrow from 'apache-arrow';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClusterClient } from '../../src/cluster/ClusterClient.js';
import type { QueryTask } from '../../src/cluster/TaskState.js';
import { natsHarness, type TestWorker } from './helpers/clusterHarness.js';
import { arrowRows, fileList, makeTestData, referenceRows } from './helpers/testData.js';

/**
 * The issue's crash trial: 20 times, a query of 16 tasks over 3 worker processes on a real nats-server
 * (5+ tasks per worker), `kill -9` of one worker at a random point of the result, and the rows compared
 * with single-node DuckDB on the same files. A fresh worker process replaces the victim for the next trial.
 */
const TRIALS = 20;
const WORKERS = 3;
/** Short heartbeats keep each trial's wait for the death to be noticed under a second. */
const HEARTBEAT_MS = 250;
const SCAN = 'SELECT id, k, s, v, flag, amount FROM read_parquet($files) WHERE k % 3 <> 0';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, probe: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

interface TrialOutcome {
  exact: boolean;
  detail: string;
  /** Attempts the victim lost, each retried elsewhere with a later attempt number. */
  lost: number;
}

test(`kill -9 one of ${WORKERS} worker processes at a random point, ${TRIALS} times: every result exact`, async () => {
  const harness = natsHarness();
  await harness.setup();
  const data = await makeTestData();
  const transport = await harness.transport();
  const prefix = 'mallard.killtrials';
  // Small batches, a one-batch credit window and a tight budget keep every worker mid-task, waiting on the
  // reader, so the kill lands on attempts that already sent rows.
  const client = new ClusterClient({
    transport,
    prefix,
    missedHeartbeats: 3,
    batchBytes: 16 * 1024,
    creditWindow: 1,
    memoryBudgetBytes: 96 * 1024,
  });
  const workers: TestWorker[] = [];
  let started = 0;
  const startWorker = async (): Promise<TestWorker> => {
    const worker = await harness.startWorker(prefix, {
      id: `kt-w${started++}`,
      dataDir: data.dir,
      heartbeatMs: HEARTBEAT_MS,
    });
    workers.push(worker);
    await waitFor(`worker ${worker.id} to join (${worker.describe()})`, () => {
      return client.registry.get(worker.id)?.state === 'ready';
    });
    return worker;
  };
  const outcomes: TrialOutcome[] = [];
  try {
    await Promise.all(Array.from({ length: WORKERS }, () => startWorker()));
    const expected = await referenceRows(
      data,
      `SELECT id, k, s, v, flag, amount FROM read_parquet(${fileList(data, data.files)}) WHERE k % 3 <> 0`,
    );
    const tasks: QueryTask[] = data.files.map((file) => ({ sql: SCAN, partition: { files: [file] } }));
    for (let trial = 0; trial < TRIALS; trial++) {
      const live = () => workers.filter((w) => client.registry.get(w.id)?.state === 'ready');
      await waitFor(`${WORKERS} live workers before trial ${trial}`, () => live().length === WORKERS);
      // The kill point: after a random share (0-85%) of the result's rows has been read.
      const killAtRows = Math.floor(Math.random() * 0.85 * expected.length);
      const run = client.runQuery(tasks);
      const batches: arrow.RecordBatch[] = [];
      let rowsRead = 0;
      let victim: TestWorker | undefined;
      let killedAtRows = 0;
      let replacement: Promise<TestWorker> | undefined;
      let outcome: TrialOutcome;
      try {
        for await (const { batch } of run) {
          batches.push(batch);
          rowsRead += batch.numRows;
          if (!victim && rowsRead >= killAtRows) {
            const holding = live().filter((w) =>
              run.records().some((r) => r.workerId === w.id && r.status === 'running'),
            );
            if (holding.length > 0) {
              victim = holding[Math.floor(Math.random() * holding.length)]!;
              killedAtRows = rowsRead;
              await victim.crash();
              workers.splice(workers.indexOf(victim), 1);
              // The replacement starts at once and may join while this query still runs.
              replacement = startWorker();
            }
          }
          // A reader a little slower than the workers keeps them waiting for credit, mid-task.
          if (batches.length % 4 === 0) await sleep(1);
        }
        const got = arrowRows(batches);
        const lostAttempts = run
          .records()
          .filter((r) => r.workerId === victim?.id && r.error?.kind === 'lost');
        const unretried = lostAttempts.filter(
          (l) =>
            !run
              .records()
              .some(
                (r) =>
                  r.taskId === l.taskId &&
                  r.status === 'succeeded' &&
                  r.attempt > l.attempt &&
                  r.workerId !== victim?.id,
              ),
        );
        const firstDiff = got.findIndex((row, i) => row !== expected[i]);
        const exact = victim !== undefined && got.length === expected.length && firstDiff === -1;
        outcome = {
          exact: exact && unretried.length === 0,
          lost: lostAttempts.length,
          detail: !victim
            ? 'no worker held a task at the kill point'
            : `killed ${victim.id} after ${killedAtRows} of ${expected.length} rows; got ${got.length} rows${firstDiff >= 0 ? `, first difference at ${firstDiff}: ${got[firstDiff]} vs ${expected[firstDiff]}` : ''}; ${lostAttempts.length} attempts lost${unretried.length > 0 ? `, ${unretried.length} not retried elsewhere` : ''}`,
        };
      } catch (err) {
        outcome = { exact: false, lost: 0, detail: `the query failed: ${(err as Error).message}` };
      }
      outcomes.push(outcome);
      if (!outcome.exact) console.log(`  trial ${trial}: ${outcome.detail}`);
      await (replacement ?? (victim ? startWorker() : undefined));
    }
  } finally {
    await client.close();
    await Promise.all(workers.map((w) => w.stop()));
    await transport.close();
    await harness.teardown();
    data.close();
  }
  const exact = outcomes.filter((o) => o.exact).length;
  const lost = outcomes.reduce((n, o) => n + o.lost, 0);
  console.log(`kill -9 trials: ${exact}/${TRIALS} exact (${lost} in-flight attempts lost and retried)`);
  assert.is(exact, TRIALS, outcomes.map((o, i) => `trial ${i}: ${o.detail}`).join('\n'));
  // Had no kill landed on an attempt in flight, the trials would have shown nothing.
  assert.ok(lost >= TRIALS / 2, `only ${lost} attempts were lost over ${TRIALS} kills`);
});

test.run();
