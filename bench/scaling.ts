/**
 * Scaling benchmark (issue 4): a scan-and-aggregate query (COUNT, SUMs, MIN/MAX of a string, grouped by a
 * 16-value key) over a 50,000,000-row table in 32 Parquet files, run as one task per file on 1, 2 and 4
 * worker processes, each pinned to one CPU with `taskset -c` and running DuckDB with `--threads 1`, and on
 * single-thread DuckDB over the same files. Prints wall time, the speedup over one worker, and the CPU time all workers used
 * (utime + stime from /proc/<pid>/stat, before and after) against single-thread DuckDB's own CPU time.
 * Goal: total worker CPU <= 1.2x DuckDB's.
 *
 *   npm run build && node dist/bench/scaling.js [runs]
 *
 * The files are generated once, deterministically, into /tmp/mallard-bench-scaling-50m and reused. On a
 * 2-core machine two workers fill the machine and four oversubscribe it (two per core).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import type { QueryTask } from '../src/cluster/TaskState.js';
import { stringList } from '../src/storage/sqlText.js';
import {
  connectCoordinator,
  cpuSeconds,
  fmt,
  spawnWorker,
  startNatsServer,
  waitForWorkers,
} from './clusterProcs.js';

const RUNS = process.argv[2] === '--reference' ? 0 : Number(process.argv[2] ?? 2);
const ROWS = 50_000_000;
const FILES = 32;
const CACHE = '/tmp/mallard-bench-scaling-50m';
const DONE = join(CACHE, 'complete');
const WORKER_COUNTS = [1, 2, 4];
const AGGREGATE =
  'SELECT k, count(*)::BIGINT AS n, sum(v)::BIGINT AS total, sum(id)::BIGINT AS ids, min(label) AS lo, max(label) AS hi ' +
  'FROM read_parquet($files) GROUP BY k';

/** Writes the 32 files once: id, a 16-value key k spread by a multiplicative hash, a value v, a label. */
async function ensureFiles(): Promise<string[]> {
  const files = Array.from({ length: FILES }, (_, f) => `part-${String(f).padStart(2, '0')}.parquet`);
  if (existsSync(DONE)) return files;
  rmSync(CACHE, { recursive: true, force: true });
  mkdirSync(CACHE, { recursive: true });
  console.log(`generating ${fmt(ROWS)} rows in ${FILES} Parquet files under ${CACHE} (once)...`);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const perFile = ROWS / FILES;
  try {
    for (let f = 0; f < FILES; f++) {
      await connection.run(`
        COPY (SELECT id,
                     ((id * 2654435761) % 16)::INTEGER AS k,
                     ((id * 7919) % 1000003)::BIGINT AS v,
                     'item-' || (id % 1000) AS label
              FROM range(${f * perFile}, ${(f + 1) * perFile}) t(id))
        TO '${join(CACHE, files[f]!)}' (FORMAT parquet)`);
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  writeFileSync(DONE, `${ROWS} rows\n`);
  return files;
}

/** Per key: row count, sum(v), sum(id), min(label), max(label). */
interface Group {
  n: bigint;
  total: bigint;
  ids: bigint;
  lo: string;
  hi: string;
}
type Answer = Map<number, Group>;

/** Folds one partial group into the answer, as the coordinator's merge step does. */
function combine(answer: Answer, k: number, part: Group): void {
  const seen = answer.get(k);
  answer.set(
    k,
    seen
      ? {
          n: seen.n + part.n,
          total: seen.total + part.total,
          ids: seen.ids + part.ids,
          // Code-unit order, which is DuckDB's byte order for these ASCII labels.
          lo: [part.lo, seen.lo].sort()[0]!,
          hi: [part.hi, seen.hi].sort()[1]!,
        }
      : part,
  );
}

function sameAnswer(a: Answer, b: Answer): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || w.n !== v.n || w.total !== v.total || w.ids !== v.ids || w.lo !== v.lo || w.hi !== v.hi)
      return false;
  }
  return true;
}

interface Timing {
  wall: number;
  /** Worker CPU seconds, summed over the workers (or DuckDB's own for the reference). */
  cpu: number;
  coordinatorCpu: number;
}

/**
 * Single-thread DuckDB over all the files, in a process of its own pinned to CPU 0 like a worker, so its CPU
 * time is measured the same way (the process does nothing else while the query runs).
 */
async function reference(files: readonly string[]): Promise<{ answer: Answer; timings: Timing[] }> {
  const child = spawn(
    'taskset',
    ['-c', '0', process.execPath, fileURLToPath(import.meta.url), '--reference', String(RUNS), ...files],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the reference DuckDB process exited with ${code}`);
  const { groups, timings } = JSON.parse(out) as {
    groups: [number, string, string, string, string, string][];
    timings: { wall: number; cpu: number }[];
  };
  const answer: Answer = new Map();
  for (const [k, n, total, ids, lo, hi] of groups) {
    combine(answer, k, { n: BigInt(n), total: BigInt(total), ids: BigInt(ids), lo, hi });
  }
  return { answer, timings: timings.map((t) => ({ ...t, coordinatorCpu: 0 })) };
}

/** The reference process: runs the query RUNS + 1 times (the first warms the page cache) and prints JSON. */
async function referenceMain(runs: number, files: readonly string[]): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const sql = AGGREGATE.replace('$files', stringList(files.map((f) => join(CACHE, f))));
  const timings: { wall: number; cpu: number }[] = [];
  let groups: unknown[][] = [];
  const cpuNow = () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  };
  try {
    for (let run = 0; run <= runs; run++) {
      const cpu0 = cpuNow();
      const start = performance.now();
      const reader = await connection.runAndReadAll(sql);
      const wall = (performance.now() - start) / 1000;
      const cpu = cpuNow() - cpu0;
      groups = reader.getRows().map(([k, ...rest]) => [Number(k), ...rest.map(String)]);
      if (run > 0) timings.push({ wall, cpu });
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  process.stdout.write(JSON.stringify({ groups, timings }));
}

async function onWorkers(
  natsUrl: string,
  count: number,
  files: readonly string[],
  expected: Answer,
): Promise<Timing[]> {
  const prefix = `mallard.benchscaling${count}`;
  const cpus = availableParallelism();
  const workers = Array.from({ length: count }, (_, i) =>
    spawnWorker({
      natsUrl,
      prefix,
      id: `scaling-w${i}`,
      dataDir: CACHE,
      threads: 1,
      cpu: i % cpus,
      memoryLimit: '1GB',
    }),
  );
  const coordinator = await connectCoordinator(natsUrl, prefix);
  const timings: Timing[] = [];
  try {
    await waitForWorkers(
      coordinator.client,
      workers.map((w) => w.id),
    );
    const tasks: QueryTask[] = files.map((file) => ({ sql: AGGREGATE, partition: { files: [file] } }));
    for (let run = 0; run <= RUNS; run++) {
      const cpu0 = workers.map((w) => cpuSeconds(w.pid));
      const coordinator0 = cpuSeconds(process.pid);
      const start = performance.now();
      const answer: Answer = new Map();
      for await (const { batch } of coordinator.client.runQuery(tasks)) {
        const column = (name: string) => batch.getChild(name)!;
        for (let r = 0; r < batch.numRows; r++) {
          combine(answer, column('k').get(r) as number, {
            n: column('n').get(r) as bigint,
            total: column('total').get(r) as bigint,
            ids: column('ids').get(r) as bigint,
            lo: column('lo').get(r) as string,
            hi: column('hi').get(r) as string,
          });
        }
      }
      const wall = (performance.now() - start) / 1000;
      const cpu = workers.reduce((sum, w, i) => sum + cpuSeconds(w.pid) - cpu0[i]!, 0);
      const coordinatorCpu = cpuSeconds(process.pid) - coordinator0;
      if (!sameAnswer(answer, expected))
        throw new Error(`${count} workers: the answer differs from DuckDB's`);
      if (run > 0) timings.push({ wall, cpu, coordinatorCpu });
    }
  } finally {
    await coordinator.close();
    await Promise.all(workers.map((w) => w.stop()));
  }
  return timings;
}

const best = (timings: readonly Timing[]) => timings.reduce((a, b) => (b.wall < a.wall ? b : a));

async function main() {
  const files = await ensureFiles();
  const present = readdirSync(CACHE).filter((f) => f.endsWith('.parquet')).length;
  if (present !== FILES) throw new Error(`${CACHE} holds ${present} Parquet files, expected ${FILES}`);
  console.log(
    `scaling: ${fmt(ROWS)} rows in ${FILES} Parquet files, ${AGGREGATE.replace('$files', '<file>')}; one task per file; ` +
      `best of ${RUNS} runs after a warm-up; ${availableParallelism()} CPUs`,
  );
  const ref = await reference(files);
  const refBest = best(ref.timings);
  console.log(
    `  DuckDB, 1 thread (taskset) wall ${ref.timings.map((t) => fmt(t.wall, 2)).join(' / ')} s   CPU ${ref.timings.map((t) => fmt(t.cpu, 2)).join(' / ')} s`,
  );
  const nats = await startNatsServer();
  const rows: { count: number; t: Timing }[] = [];
  try {
    for (const count of WORKER_COUNTS) {
      const timings = await onWorkers(nats.url, count, files, ref.answer);
      const b = best(timings);
      rows.push({ count, t: b });
      console.log(
        `  ${count} worker${count > 1 ? 's' : ' '} (taskset)        wall ${timings.map((t) => fmt(t.wall, 2)).join(' / ')} s   ` +
          `worker CPU ${timings.map((t) => fmt(t.cpu, 2)).join(' / ')} s   coordinator CPU ${fmt(b.coordinatorCpu, 2)} s`,
      );
    }
  } finally {
    await nats.stop();
  }
  const one = rows[0]!.t.wall;
  console.log(
    '\n  workers  wall (best)  speedup vs 1 worker  vs DuckDB 1 thread  worker CPU / DuckDB CPU (goal <= 1.20)',
  );
  for (const { count, t } of rows) {
    console.log(
      `  ${String(count).padStart(7)}  ${fmt(t.wall, 2).padStart(9)} s  ${(one / t.wall).toFixed(2).padStart(19)}  ` +
        `${(refBest.wall / t.wall).toFixed(2).padStart(18)}  ${(t.cpu / refBest.cpu).toFixed(2).padStart(10)}`,
    );
  }
  if (availableParallelism() < Math.max(...WORKER_COUNTS)) {
    console.log(
      `  (${availableParallelism()} CPUs: ${Math.max(...WORKER_COUNTS)} pinned workers share them, so the last row oversubscribes)`,
    );
  }
}

if (process.argv[2] === '--reference') {
  await referenceMain(Number(process.argv[3]), process.argv.slice(4));
} else {
  await main();
}
