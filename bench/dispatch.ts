/**
 * Dispatch benchmark (issue 4): how many empty tasks per second the coordinator gets through two workers
 * (worker processes on a real nats-server, and in-process workers on the in-process bus), and the fixed
 * latency a trivial one-task distributed query adds over the same SQL on a local DuckDB connection.
 *
 *   npm run build && node dist/bench/dispatch.js [tasks per query] [latency samples]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ClusterClient } from '../src/cluster/ClusterClient.js';
import { startCluster } from '../src/cluster/startCluster.js';
import type { QueryTask } from '../src/cluster/TaskState.js';
import {
  connectCoordinator,
  fmt,
  percentile,
  spawnWorker,
  startNatsServer,
  waitForWorkers,
} from './clusterProcs.js';

const TASKS = Number(process.argv[2] ?? 5_000);
const SAMPLES = Number(process.argv[3] ?? 500);
const ROUNDS = 3;
/** Slots per worker: a worker runs as many tasks at once as it has DuckDB threads. */
const THREADS = 2;
const EMPTY = 'SELECT 1 AS x WHERE false';
const TRIVIAL = 'SELECT 1 AS x';

/** Runs one query and reads it to the end; returns the rows read. */
async function runToEnd(client: ClusterClient, tasks: readonly QueryTask[]): Promise<number> {
  let rows = 0;
  for await (const { batch } of client.runQuery(tasks)) rows += batch.numRows;
  return rows;
}

interface DispatchFigures {
  tasksPerSecond: number[];
  latencyMs: number[];
}

async function measure(client: ClusterClient): Promise<DispatchFigures> {
  const empty: QueryTask[] = Array.from({ length: TASKS }, () => ({ sql: EMPTY, partition: { files: [] } }));
  // Warm up: prepared-statement paths, JIT, the NATS subscriptions.
  await runToEnd(client, empty.slice(0, 200));
  const tasksPerSecond: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    const rows = await runToEnd(client, empty);
    if (rows !== 0) throw new Error(`empty tasks returned ${rows} rows`);
    tasksPerSecond.push(TASKS / ((performance.now() - start) / 1000));
  }
  const trivial: QueryTask[] = [{ sql: TRIVIAL, partition: { files: [] } }];
  for (let i = 0; i < 50; i++) await runToEnd(client, trivial);
  const latencyMs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const start = performance.now();
    const rows = await runToEnd(client, trivial);
    latencyMs.push(performance.now() - start);
    if (rows !== 1) throw new Error(`a trivial query returned ${rows} rows`);
  }
  return { tasksPerSecond, latencyMs };
}

/** The same trivial statement on a local DuckDB connection: prepare, run, read the chunk. */
async function localLatency(): Promise<number[]> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    for (let i = 0; i < 50; i++) await connection.runAndReadAll(TRIVIAL);
    const latencyMs: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const start = performance.now();
      const reader = await connection.runAndReadAll(TRIVIAL);
      latencyMs.push(performance.now() - start);
      if (reader.currentRowCount !== 1) throw new Error('local SELECT 1 did not return one row');
    }
    return latencyMs;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function overNats(dataDir: string): Promise<DispatchFigures> {
  const nats = await startNatsServer();
  const prefix = 'mallard.benchdispatch';
  const workers = [0, 1].map((i) =>
    spawnWorker({ natsUrl: nats.url, prefix, id: `dispatch-w${i}`, dataDir, threads: THREADS }),
  );
  const coordinator = await connectCoordinator(nats.url, prefix);
  try {
    await waitForWorkers(
      coordinator.client,
      workers.map((w) => w.id),
    );
    return await measure(coordinator.client);
  } finally {
    await coordinator.close();
    await Promise.all(workers.map((w) => w.stop()));
    await nats.stop();
  }
}

async function inProcess(dataDir: string): Promise<DispatchFigures> {
  const cluster = await startCluster({ dataDir, workers: 2, threads: THREADS });
  try {
    return await measure(cluster.client);
  } finally {
    await cluster.close();
  }
}

function report(name: string, f: DispatchFigures, local: number[]): void {
  const best = Math.max(...f.tasksPerSecond);
  const p50 = percentile(f.latencyMs, 50);
  const p99 = percentile(f.latencyMs, 99);
  console.log(
    `  ${name.padEnd(11)} empty tasks/s ${f.tasksPerSecond.map((t) => fmt(t)).join(' / ')} (best ${fmt(best)})`,
  );
  console.log(
    `  ${''.padEnd(11)} trivial query p50 ${fmt(p50, 2)} ms, p99 ${fmt(p99, 2)} ms; added over local DuckDB: p50 +${fmt(p50 - percentile(local, 50), 2)} ms, p99 +${fmt(p99 - percentile(local, 99), 2)} ms`,
  );
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'mallard-bench-dispatch-'));
  try {
    console.log(
      `dispatch: ${fmt(TASKS)} empty tasks per query (${EMPTY}), 2 workers x ${THREADS} slots, best of ${ROUNDS}; ` +
        `latency over ${SAMPLES} one-task queries (${TRIVIAL})`,
    );
    const local = await localLatency();
    console.log(
      `  local DuckDB  ${TRIVIAL}: p50 ${fmt(percentile(local, 50), 2)} ms, p99 ${fmt(percentile(local, 99), 2)} ms`,
    );
    report('NATS', await overNats(dataDir), local);
    report('in-process', await inProcess(dataDir), local);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
