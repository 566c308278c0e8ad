import type * as arrow from 'apache-arrow';
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ClusterError,
  NoWorkersError,
  QueryCanceledError,
  TaskError,
} from '../../protocol/cluster/ClusterError.js';
import { decodeControl } from '../../protocol/cluster/controlCodec.js';
import type { TaskStatus } from '../../protocol/cluster/messages.js';
import { clusterSubjects } from '../../protocol/cluster/subjects.js';
import type { Transport } from '../../protocol/cluster/Transport.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import { ClusterClient, type ClusterClientOptions } from '../../src/cluster/ClusterClient.js';
import type { QueryRun } from '../../src/cluster/QueryExecution.js';
import type { QueryTask } from '../../src/cluster/TaskState.js';
import type { ClusterHarness, TestWorker } from './helpers/clusterHarness.js';
import {
  arrowRows,
  assertSameRows,
  BIG_FILES,
  BIG_ROWS_PER_FILE,
  fileList,
  makeTestData,
  referenceRows,
  type TestData,
} from './helpers/testData.js';

/** Runs until interrupted. */
const ENDLESS = 'SELECT sum(hash(i)) FROM range(100000000000::BIGINT) t(i)';
const SCAN = 'SELECT id, k, s, v, flag, amount FROM read_parquet($files) WHERE k % 3 <> 0';
const PARTIAL_AGGREGATE =
  'SELECT k, count(*)::BIGINT AS n, sum(id)::BIGINT AS total, min(s) AS lo, max(v) AS hi FROM read_parquet($files) GROUP BY k';

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | null,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A coordinator and its workers on a cluster prefix of their own, and the workers' own task reports. */
interface Cluster {
  prefix: string;
  client: ClusterClient;
  workers: TestWorker[];
  /** Every TaskStatus the workers published, as they sent it. */
  statuses: TaskStatus[];
  /** The message size limit of the cluster's transport. */
  maxPayload: number;
  addWorker(): Promise<TestWorker>;
  close(): Promise<void>;
}

/**
 * The cluster runtime's functional suite, run once over worker processes on a real nats-server and once
 * over the in-process transport. Every query is checked against single-node DuckDB on the same files.
 */
export function clusterSuite(test: Test, harness: ClusterHarness): void {
  let data: TestData;
  let clusters = 0;

  test.before(async () => {
    await harness.setup();
    data = await makeTestData();
  });

  test.after(async () => {
    await harness.teardown();
    data.close();
  });

  async function startCluster(
    workerCount: number,
    options: Partial<ClusterClientOptions> = {},
  ): Promise<Cluster> {
    const tag = `c${++clusters}`;
    const prefix = `mallard.${tag}`;
    const transport: Transport = await harness.transport();
    const client = new ClusterClient({ transport, prefix, missedHeartbeats: 2, ...options });
    const statuses: TaskStatus[] = [];
    transport.subscribe(clusterSubjects(prefix).allStatuses, (m) =>
      statuses.push(decodeControl(m.data, 'status')),
    );
    const workers: TestWorker[] = [];
    const addWorker = async () => {
      const worker = await harness.startWorker(prefix, {
        id: `${tag}-w${workers.length}`,
        dataDir: data.dir,
      });
      workers.push(worker);
      try {
        await waitFor(
          `worker ${worker.id} to join`,
          () => client.registry.get(worker.id)?.state === 'ready',
          30_000,
        );
      } catch (err) {
        throw new Error(`${(err as Error).message} (${worker.describe()})`);
      }
      return worker;
    };
    const close = async () => {
      await client.close();
      await Promise.all(workers.map((w) => w.stop()));
      await transport.close();
    };
    try {
      for (let i = 0; i < workerCount; i++) await addWorker();
    } catch (err) {
      await close();
      throw err;
    }
    return {
      prefix,
      client,
      workers,
      statuses,
      maxPayload: transport.maxPayload,
      addWorker,
      close,
    };
  }

  const tasksOver = (sql: string, files: readonly string[]): QueryTask[] =>
    files.map((file) => ({ sql, partition: { files: [file] } }));

  /** Reads a whole query; `pause` ms between batches plays a slow client, `onBatch` acts mid-query. */
  async function readAll(
    run: QueryRun,
    options: { pause?: number; onBatch?: (n: number) => Promise<void> | void } = {},
  ): Promise<{ batches: arrow.RecordBatch[]; byTask: Map<number, number> }> {
    const batches: arrow.RecordBatch[] = [];
    const byTask = new Map<number, number>();
    for await (const { taskId, batch } of run) {
      batches.push(batch);
      byTask.set(taskId, (byTask.get(taskId) ?? 0) + batch.numRows);
      if (options.onBatch) await options.onBatch(batches.length);
      if (options.pause) await sleep(options.pause);
    }
    return { batches, byTask };
  }

  const scanReference = () =>
    referenceRows(
      data,
      `SELECT id, k, s, v, flag, amount FROM read_parquet(${fileList(data, data.files)}) WHERE k % 3 <> 0`,
    );

  /** Each task succeeded exactly once; returns how many tasks each worker completed. */
  function succeededPerWorker(run: QueryRun, tasks: number): Map<string, number> {
    const succeeded = run.records().filter((r) => r.status === 'succeeded');
    assert.equal(
      succeeded.map((r) => r.taskId).sort((a, b) => a - b),
      Array.from({ length: tasks }, (_, i) => i),
      'every task succeeded exactly once',
    );
    const perWorker = new Map<string, number>();
    for (const r of succeeded) perWorker.set(r.workerId, (perWorker.get(r.workerId) ?? 0) + 1);
    return perWorker;
  }

  test(`[${harness.name}] 16 tasks over 2 workers: a scan is exact and both workers take tasks`, async () => {
    const cluster = await startCluster(2);
    try {
      const run = cluster.client.runQuery(tasksOver(SCAN, data.files));
      const { batches } = await readAll(run);
      assertSameRows(arrowRows(batches), await scanReference());
      const perWorker = succeededPerWorker(run, data.files.length);
      assert.is(perWorker.size, 2, `tasks per worker: ${JSON.stringify([...perWorker])}`);
      const record = run.records()[0]!;
      assert.is(record.totalTasks, 16);
      assert.ok(record.rows > 0 && record.bytes > 0 && record.batches > 0);
    } finally {
      await cluster.close();
    }
  });

  test(`[${harness.name}] 16 tasks over 3 workers: partial aggregates combine to the single-node answer`, async () => {
    const cluster = await startCluster(3);
    try {
      const run = cluster.client.runQuery(tasksOver(PARTIAL_AGGREGATE, data.files));
      const { batches } = await readAll(run);
      const combined = new Map<number, { n: bigint; total: bigint; lo: string; hi: number }>();
      for (const batch of batches) {
        for (let r = 0; r < batch.numRows; r++) {
          const row = batch.get(r)!;
          const k = row['k'] as number;
          const seen = combined.get(k);
          const part = {
            n: row['n'] as bigint,
            total: row['total'] as bigint,
            lo: row['lo'] as string,
            hi: row['hi'] as number,
          };
          combined.set(
            k,
            seen
              ? {
                  n: seen.n + part.n,
                  total: seen.total + part.total,
                  lo: [part.lo, seen.lo].sort()[0]!,
                  hi: Math.max(seen.hi, part.hi),
                }
              : part,
          );
        }
      }
      const got = [...combined].map(([k, a]) => [k, a.n, a.total, a.lo, a.hi].join('|')).sort();
      const expected = await referenceRows(
        data,
        `SELECT k, count(*)::BIGINT, sum(id)::BIGINT, min(s), max(v) FROM read_parquet(${fileList(data, data.files)}) GROUP BY k`,
      );
      assertSameRows(got, expected, 'aggregates');
      assert.is(succeededPerWorker(run, 16).size, 3);
    } finally {
      await cluster.close();
    }
  });

  test(`[${harness.name}] round-robin deals 15 tasks 5 to each of 3 workers, exactly`, async () => {
    const cluster = await startCluster(3, { mode: 'round-robin' });
    try {
      const files = data.files.slice(0, 15);
      const run = cluster.client.runQuery(tasksOver(SCAN, files));
      const { batches } = await readAll(run);
      const expected = await referenceRows(
        data,
        `SELECT id, k, s, v, flag, amount FROM read_parquet(${fileList(data, files)}) WHERE k % 3 <> 0`,
      );
      assertSameRows(arrowRows(batches), expected);
      assert.equal([...succeededPerWorker(run, 15).values()], [5, 5, 5]);
    } finally {
      await cluster.close();
    }
  });

  test(`[${harness.name}] a worker killed mid-query: the query is still exact (3 random kill points)`, async () => {
    // Small batches, a one-batch credit window and a tight budget keep every worker mid-task, waiting on the
    // slow reader, so the kill lands while the victim holds attempts with rows already sent.
    const cluster = await startCluster(2, {
      batchBytes: 16 * 1024,
      creditWindow: 1,
      memoryBudgetBytes: 96 * 1024,
    });
    const expected = await scanReference();
    let passed = 0;
    try {
      for (let round = 0; round < 3; round++) {
        const victim = await cluster.addWorker();
        const killAfter = 5 + Math.floor(Math.random() * 60);
        const run = cluster.client.runQuery(tasksOver(SCAN, data.files));
        let killedAt = -1;
        const { batches } = await readAll(run, {
          pause: 1,
          onBatch: async (n) => {
            if (killedAt >= 0 || n < killAfter) return;
            const holding = run.records().some((r) => r.workerId === victim.id && r.status === 'running');
            if (!holding) return;
            killedAt = n;
            await victim.crash();
          },
        });
        assert.ok(killedAt > 0, `round ${round}: the victim was killed while holding a task`);
        assertSameRows(
          arrowRows(batches),
          expected,
          `round ${round}: after killing ${victim.id} at batch ${killedAt}`,
        );
        const lost = run.records().filter((r) => r.workerId === victim.id && r.error?.kind === 'lost');
        assert.ok(lost.length > 0, 'the victim had attempts in flight that were lost');
        for (const l of lost) {
          const retry = run.records().find((r) => r.taskId === l.taskId && r.status === 'succeeded');
          assert.ok(
            retry && retry.attempt > l.attempt && retry.workerId !== victim.id,
            `task ${l.taskId} was retried`,
          );
        }
        passed++;
      }
    } finally {
      await cluster.close();
    }
    assert.is(passed, 3);
  });

  test(`[${harness.name}] a worker stopped mid-query hands its tasks back; they are retried at once, exactly`, async () => {
    const cluster = await startCluster(2, {
      batchBytes: 16 * 1024,
      creditWindow: 1,
      memoryBudgetBytes: 96 * 1024,
    });
    try {
      const leaving = await cluster.addWorker();
      const run = cluster.client.runQuery(tasksOver(SCAN, data.files));
      let stopped: Promise<void> | undefined;
      const { batches } = await readAll(run, {
        pause: 1,
        onBatch: () => {
          if (stopped) return;
          if (run.records().some((r) => r.workerId === leaving.id && r.status === 'running'))
            stopped = leaving.stop();
        },
      });
      await stopped;
      assertSameRows(arrowRows(batches), await scanReference());
      const handedBack = run
        .records()
        .filter((r) => r.workerId === leaving.id && r.error?.kind === 'handed-back');
      assert.ok(handedBack.length > 0, 'the stopped worker handed tasks back');
      for (const h of handedBack) {
        const retry = run.records().find((r) => r.taskId === h.taskId && r.status === 'succeeded');
        assert.ok(
          retry && retry.attempt === h.attempt + 1 && retry.workerId !== leaving.id,
          `task ${h.taskId} retried`,
        );
      }
    } finally {
      await cluster.close();
    }
  });

  test(`[${harness.name}] a query of 1,000 tasks`, async () => {
    const cluster = await startCluster(2);
    try {
      const tasks: QueryTask[] = Array.from({ length: 1000 }, (_, i) => ({
        sql: `SELECT count(*)::BIGINT AS n, sum(id)::BIGINT AS total FROM read_parquet($files) WHERE id % 1000 = ${i}`,
        partition: { files: [data.files[i % data.files.length]!] },
      }));
      const run = cluster.client.runQuery(tasks);
      const got = new Map<number, string>();
      for await (const { taskId, batch } of run) {
        for (let r = 0; r < batch.numRows; r++) {
          assert.not.ok(got.has(taskId), `task ${taskId} delivered once`);
          got.set(taskId, `${batch.get(r)!['n']}|${batch.get(r)!['total']}`);
        }
      }
      const reference = await data.reference.runAndReadAll(
        `SELECT id // 25000 AS f, id % 1000 AS r, count(*)::BIGINT, sum(id)::BIGINT FROM read_parquet(${fileList(data, data.files)}) GROUP BY ALL`,
      );
      const expected = new Map<string, string>();
      for (const [f, r, n, total] of reference.getRowsJS()) expected.set(`${f}/${r}`, `${n}|${total}`);
      assert.is(got.size, 1000);
      for (let i = 0; i < 1000; i++)
        assert.is(got.get(i), expected.get(`${i % data.files.length}/${i}`), `task ${i}`);
      assert.is(succeededPerWorker(run, 1000).size, 2);
    } finally {
      await cluster.close();
    }
  });

  test(`[${harness.name}] cancel stops the query's tasks on every worker within 200 ms`, async () => {
    const cluster = await startCluster(2);
    try {
      const run = cluster.client.runQuery(
        Array.from({ length: 8 }, () => ({ sql: ENDLESS, partition: { files: [] } })),
      );
      const reading = readAll(run).then(
        () => null,
        (err: unknown) => err,
      );
      const mine = () => cluster.statuses.filter((s) => s.record.queryId === run.queryId);
      await waitFor('4 tasks running on 2 workers', () => {
        const running = mine().filter((s) => s.state === 'running');
        return running.length === 4 && new Set(running.map((s) => s.record.workerId)).size === 2;
      });
      await sleep(300);
      const canceledAt = Date.now();
      assert.ok(cluster.client.cancel(run.queryId));
      const err = await reading;
      assert.instance(err, QueryCanceledError);
      assert.is((err as QueryCanceledError).code, SqlState.QueryCanceled);
      // The workers' own reports: every running task ended canceled, promptly, and nothing else started.
      const ends = await waitFor('4 canceled reports', () => {
        const final = mine().filter((s) => s.state !== 'running');
        return final.length >= 4 ? final : null;
      });
      await sleep(500);
      assert.is(mine().filter((s) => s.state === 'running').length, 4, 'no task started after the cancel');
      assert.is(mine().filter((s) => s.state !== 'running').length, 4);
      for (const s of ends) {
        assert.is(s.record.status, 'canceled');
        assert.is(s.record.error?.kind, 'canceled');
        assert.ok(
          s.record.endedAt - canceledAt < 200,
          `${s.record.workerId} stopped ${s.record.endedAt - canceledAt} ms after`,
        );
      }
      await waitFor('the workers to report no running tasks', () =>
        cluster.client.workers().every((w) => w.runningTasks === 0 && w.lastHeartbeat > canceledAt + 100),
      );
    } finally {
      await cluster.close();
    }
  });

  test(`[${harness.name}] a task past its deadline is retried with the next attempt, then fails the query`, async () => {
    const cluster = await startCluster(2, { maxAttempts: 2 });
    try {
      const run = cluster.client.runQuery([{ sql: ENDLESS, partition: { files: [] }, deadlineMs: 300 }]);
      const err = await readAll(run).then(
        () => null,
        (e: unknown) => e,
      );
      assert.instance(err, TaskError);
      assert.is((err as TaskError).code, SqlState.QueryCanceled);
      assert.equal(
        (err as TaskError).failures.map((f) => f.kind),
        ['deadline', 'deadline'],
      );
      const attempts = await waitFor('both attempts reported', () => {
        const ends = cluster.statuses.filter(
          (s) => s.record.queryId === run.queryId && s.state !== 'running',
        );
        return ends.length === 2 ? ends : null;
      });
      assert.equal(attempts.map((s) => s.record.attempt).sort(), [1, 2]);
      assert.is(new Set(attempts.map((s) => s.record.workerId)).size, 2, 'the retry ran on the other worker');
    } finally {
      await cluster.close();
    }
  });

  test(`[${harness.name}] a SQL error that repeats on another worker fails the query with its SQLSTATE`, async () => {
    const cluster = await startCluster(2);
    try {
      const tasks = tasksOver(
        'SELECT CAST(s AS INTEGER) AS n FROM read_parquet($files)',
        data.files.slice(0, 4),
      );
      const err = await readAll(cluster.client.runQuery(tasks)).then(
        () => null,
        (e: unknown) => e,
      );
      assert.instance(err, TaskError);
      const failure = err as TaskError;
      assert.is(failure.code, SqlState.InvalidTextRepresentation);
      // The client sees PostgreSQL-style text; the attempts keep DuckDB's own, class included.
      assert.not.match(failure.message, /^Conversion Error/);
      assert.match(failure.failures[0]!.message, /^Conversion Error: /);
      assert.is(failure.failures.length, 2);
      assert.ok(
        failure.failures.every((f) => f.kind === 'sql' && f.message === failure.failures[0]!.message),
      );
    } finally {
      await cluster.close();
    }
  });

  test(`[${harness.name}] a task too large for one message fails the query clearly, not the coordinator`, async () => {
    const cluster = await startCluster(1);
    try {
      const huge = `SELECT 1 AS x -- ${'x'.repeat(cluster.maxPayload)}`;
      const err = await readAll(cluster.client.runQuery([{ sql: huge, partition: { files: [] } }])).then(
        () => null,
        (e: unknown) => e,
      );
      assert.instance(err, TaskError);
      assert.match((err as Error).message, /exceeds max_payload/);
      // The cluster carries on.
      const { batches } = await readAll(
        cluster.client.runQuery([{ sql: 'SELECT 1 AS x', partition: { files: [] } }]),
      );
      assert.is(batches[0]!.get(0)!['x'], 1);
    } finally {
      await cluster.close();
    }
  });

  test(`[${harness.name}] a draining worker finishes its tasks and leaves cleanly`, async () => {
    const cluster = await startCluster(3, {
      batchBytes: 16 * 1024,
      creditWindow: 1,
      memoryBudgetBytes: 96 * 1024,
    });
    try {
      const leaving = cluster.workers[0]!;
      const run = cluster.client.runQuery(tasksOver(SCAN, data.files));
      let exit: Promise<number | null> | undefined;
      const { batches } = await readAll(run, {
        pause: 1,
        onBatch: () => {
          if (exit) return;
          if (run.records().some((r) => r.workerId === leaving.id && r.status === 'running'))
            exit = leaving.drain();
        },
      });
      assert.ok(exit, 'the drained worker held a task when told to drain');
      assert.is(await exit, 0, 'the worker exited cleanly');
      assertSameRows(arrowRows(batches), await scanReference());
      const reports = cluster.statuses.filter(
        (s) => s.record.workerId === leaving.id && s.state !== 'running',
      );
      assert.ok(reports.length > 0);
      assert.ok(
        reports.every((s) => s.state === 'succeeded'),
        'everything it held, it finished',
      );
      assert.ok(
        run.records().every((r) => r.attempt === 1),
        'nothing had to be retried',
      );
      await waitFor(
        'the registry to see it leave',
        () => cluster.client.registry.get(leaving.id)?.state === 'stopped',
      );
    } finally {
      await cluster.close();
    }
  });

  test(`[${harness.name}] a worker that joins mid-query receives tasks`, async () => {
    const cluster = await startCluster(1, {
      batchBytes: 16 * 1024,
      creditWindow: 1,
      memoryBudgetBytes: 96 * 1024,
    });
    try {
      const run = cluster.client.runQuery(tasksOver(SCAN, data.files));
      let joined: Promise<TestWorker> | undefined;
      let latecomerReady = false;
      const { batches } = await readAll(run, {
        pause: 1,
        onBatch: async () => {
          joined ??= cluster.addWorker().then((w) => {
            latecomerReady = true;
            return w;
          });
          // Read slowly until the newcomer is up (a process takes a moment to start), so work remains for it.
          if (!latecomerReady) await sleep(20);
        },
      });
      const latecomer = await joined!;
      assertSameRows(arrowRows(batches), await scanReference());
      const perWorker = succeededPerWorker(run, data.files.length);
      assert.ok(
        (perWorker.get(latecomer.id) ?? 0) > 0,
        `the latecomer ran tasks: ${JSON.stringify([...perWorker])}`,
      );
    } finally {
      await cluster.close();
    }
  });

  if (harness.restartServer) {
    test(`[${harness.name}] the message server restarts mid-query: the query completes or fails clearly, the cluster recovers`, async () => {
      const cluster = await startCluster(2, {
        batchBytes: 16 * 1024,
        creditWindow: 1,
        memoryBudgetBytes: 96 * 1024,
      });
      try {
        const pids = cluster.workers.map((w) => cluster.client.registry.get(w.id)!.pid);
        const expected = await scanReference();
        let restarted = false;
        const outcome = await readAll(cluster.client.runQuery(tasksOver(SCAN, data.files)), {
          pause: 1,
          onBatch: async (n) => {
            if (restarted || n < 20) return;
            restarted = true;
            await harness.restartServer!(1000);
          },
        }).then(
          ({ batches }) => ({ rows: arrowRows(batches), error: null }),
          (error: unknown) => ({ rows: null, error }),
        );
        assert.ok(restarted);
        if (outcome.error) {
          // Failing is allowed, but only with an error that says what happened.
          assert.instance(outcome.error, ClusterError);
        } else {
          assertSameRows(outcome.rows!, expected, 'the query across the restart');
        }
        // The same processes carry on: the workers rejoin and the next query is exact.
        await waitFor('the workers to rejoin', () => cluster.client.registry.ready().length === 2);
        assert.equal(
          cluster.workers.map((w) => cluster.client.registry.get(w.id)!.pid),
          pids,
        );
        const again = await readAll(cluster.client.runQuery(tasksOver(SCAN, data.files)));
        assertSameRows(arrowRows(again.batches), expected, 'the query after the restart');
      } finally {
        await cluster.close();
      }
    });
  }

  test(`[${harness.name}] with no workers a query fails with a clear error after the wait`, async () => {
    const cluster = await startCluster(0, { noWorkersTimeoutMs: 1000 });
    try {
      const started = Date.now();
      const err = await readAll(cluster.client.runQuery(tasksOver(SCAN, data.files.slice(0, 2)))).then(
        () => null,
        (e: unknown) => e,
      );
      const waited = Date.now() - started;
      assert.instance(err, NoWorkersError);
      assert.is((err as NoWorkersError).code, SqlState.InsufficientResources);
      assert.match((err as Error).message, /no workers available/);
      assert.ok(waited >= 1000 && waited < 5000, `failed after ${waited} ms`);
    } finally {
      await cluster.close();
    }
  });

  test(`[${harness.name}] a 3,000,000-row result comes through whole`, async () => {
    const cluster = await startCluster(2);
    try {
      const total = BIG_FILES * BIG_ROWS_PER_FILE;
      const seen = new Uint8Array(total);
      let rows = 0;
      let wrong = 0;
      for await (const { batch } of cluster.client.runQuery(
        tasksOver('SELECT id, s FROM read_parquet($files)', data.bigFiles),
      )) {
        const ids = batch.getChild('id')!.toArray() as BigInt64Array;
        const strings = batch.getChild('s')!;
        for (let r = 0; r < batch.numRows; r++) {
          const id = Number(ids[r]);
          seen[id]!++;
          if (strings.get(r) !== `r${id}`) wrong++;
        }
        rows += batch.numRows;
      }
      assert.is(rows, total);
      assert.is(wrong, 0);
      assert.ok(
        seen.every((n) => n === 1),
        'every row exactly once',
      );
    } finally {
      await cluster.close();
    }
  });
}
