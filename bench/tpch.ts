/**
 * TPC-H benchmark (issue 5): the 22 queries at a scale factor through node-postgres against a Mallard
 * cluster on this machine (nats-server, 2 `mallard worker --threads 1` processes pinned to cores 0 and 1
 * with taskset, and `mallard coordinator --nats`), against DuckDB in one process with 2 threads over the
 * same Parquet files, in the same run and interleaved query by query. Prints per-query medians, their
 * ratio, the geometric mean and the worst ratio, and the CPU time the workers (and the coordinator) spent
 * against single-thread DuckDB's. Each query's answer is checked against DuckDB's first.
 *
 *   npm run build && node dist/bench/tpch.js --sf 1 [--runs 3] [--layout colocated|balanced|both] [--no-docs]
 *
 * Writes docs/tpch-sf<N>.svg (docs/tpch-sf<N>-balanced.svg) and the table into docs/BENCHMARKS.md
 * between its `<!-- tpch-sf<N>-<layout>:begin -->` and `:end -->` markers (appended when missing).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { TPCH_LAYOUTS, type TpchLayout, tpchViewsSql } from '../src/tpch/load.js';
import { TPCH_QUERIES } from '../src/tpch/queries.js';
import { logLines, waitFor } from '../test/cli/cliProcesses.js';
import { startNatsServer } from '../test/cluster/helpers/natsServer.js';
import { startMallard } from '../test/helpers/mallard.js';
import { answerDifference, duckAnswer, pgAnswer, postgresColumnNames } from '../test/tpch/sameAnswer.js';
import { mallardTpch, tpchCacheDir } from '../test/tpch/tpchKit.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/mallard.js');
const DOCS = join(ROOT, 'docs');
const PREFIX = 'bench.tpch';

const { values: flags } = parseArgs({
  options: {
    sf: { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
    layout: { type: 'string', default: 'colocated' },
    'no-docs': { type: 'boolean', default: false },
    /** Write V8 CPU profiles of the coordinator and workers into this folder (`node --cpu-prof`). */
    profile: { type: 'string' },
    /**
     * Hash buckets of the colocated layout's two groups (`mallard tpch --buckets`): by default one per
     * worker slot (2), so a task reads one file per table. DuckDB plans a scan of one Parquet file with its
     * statistics and a scan of a list of files without (a task over 8 of 16 lineitem buckets ran Q1 12%
     * slower than over the same rows in one file).
     */
    buckets: { type: 'string', default: '2' },
  },
});
const SF = Number(flags.sf);
const RUNS = Number(flags.runs);
const LAYOUTS: TpchLayout[] =
  flags.layout === 'both' ? [...TPCH_LAYOUTS] : TPCH_LAYOUTS.filter((l) => l === flags.layout);
if (!(SF > 0) || !Number.isInteger(RUNS) || RUNS < 1 || LAYOUTS.length === 0) {
  console.error(
    'usage: node dist/bench/tpch.js --sf N [--runs N] [--layout colocated|balanced|both] [--no-docs] [--profile DIR] [--buckets N]',
  );
  process.exit(2);
}

const PROFILE_ARGS = flags.profile ? ['--cpu-prof', '--cpu-prof-dir', flags.profile] : [];

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** User plus system CPU seconds a process has used so far, from /proc/<pid>/stat (0 once it is gone). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name's closing parenthesis: state is field 3, utime 14 and stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** This process's CPU seconds (all threads, so an in-process DuckDB's too). */
function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function geomean(values: readonly number[]): number {
  return Math.exp(values.reduce((sum, v) => sum + Math.log(v), 0) / values.length);
}

/** Milliseconds `fn` takes. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

interface QueryFigures {
  id: number;
  duckMs: number;
  mallardMs: number;
  ratio: number;
  /** undefined when Mallard's answer is DuckDB's; otherwise the difference, or the error. */
  wrong?: string;
  workerCpu: number;
  coordinatorCpu: number;
  duck1Cpu: number;
}

interface LayoutFigures {
  layout: TpchLayout;
  loadSeconds: number;
  queries: QueryFigures[];
  /** The 1-minute load average when the layout's queries started and ended (the machine is shared). */
  loadAverage: readonly [number, number];
}

async function main(): Promise<void> {
  const dir = tpchCacheDir(SF);
  console.log(`TPC-H SF ${SF}: files in ${dir}`);
  const generated = await mallardTpch(['--sf', String(SF), '--out', dir, '--reuse']);
  if (generated.code !== 0) throw new Error(`mallard tpch failed:\n${generated.stdout}\n${generated.stderr}`);
  process.stdout.write(generated.stdout);

  const nats = await startNatsServer();
  const server = await startMallard({
    nodeArgs: PROFILE_ARGS,
    args: [
      '--table-storage',
      'parquet',
      '--readable-dir',
      dir,
      'coordinator',
      '--nats',
      nats.url,
      '--prefix',
      PREFIX,
    ],
  });
  const workers: ChildProcess[] = [];
  const duck2 = await DuckDBInstance.create(':memory:', { threads: '2' });
  const duck1 = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn2 = await duck2.connect();
  const conn1 = await duck1.connect();
  const client = new pg.Client({ connectionString: server.url });
  client.on('error', () => {});
  try {
    for (const [core, id] of [
      [0, 'bench-w1'],
      [1, 'bench-w2'],
    ] as const) {
      // taskset execs the command, so the child's pid is the worker's own.
      const worker = spawn(
        'taskset',
        [
          '-c',
          String(core),
          process.execPath,
          ...PROFILE_ARGS,
          BIN,
          '--data',
          server.dataDir,
          '--log-level',
          'warn',
          'worker',
          '--nats',
          nats.url,
          '--prefix',
          PREFIX,
          '--threads',
          '1',
          '--id',
          id,
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      workers.push(worker);
    }
    await waitFor(
      'both workers to join',
      () =>
        logLines(server.stdout()).filter((l) => l.msg === 'worker joined').length >= 2 ? true : undefined,
      30_000,
    );
    for (const sql of tpchViewsSql(dir)) {
      await conn2.run(sql);
      await conn1.run(sql);
    }
    await client.connect();
    const versions = (await conn2.runAndReadAll('SELECT version()')).getRows()[0]![0];

    const results: LayoutFigures[] = [];
    for (const layout of LAYOUTS) {
      console.log(`\nloading (${layout}) ...`);
      const started = performance.now();
      const load = await mallardTpch([
        '--sf',
        String(SF),
        '--out',
        dir,
        '--reuse',
        '--replace',
        '--load',
        server.url,
        '--layout',
        layout,
        ...(layout === 'colocated' ? ['--buckets', flags.buckets!] : []),
      ]);
      if (load.code !== 0) throw new Error(`load failed:\n${load.stdout}\n${load.stderr}`);
      const loadSeconds = (performance.now() - started) / 1000;
      console.log(`loaded in ${loadSeconds.toFixed(1)} s`);
      console.log(' query  DuckDB-2t ms  Mallard ms  ratio  worker-cpu s  coord-cpu s  duck-1t-cpu s');
      const queries: QueryFigures[] = [];
      const loadBefore = loadavg()[0]!;
      for (const q of TPCH_QUERIES) {
        // Warm-up run on each side (file cache, plan caches), which also checks the answer.
        const expected = await duckAnswer(conn2, q.sql);
        let wrong: string | undefined;
        try {
          const actual = await pgAnswer(client, q.sql);
          wrong = answerDifference(expected, actual, postgresColumnNames(q.id, expected.columns));
        } catch (e) {
          wrong = `error: ${(e as Error).message}`;
        }
        const workerBefore = workers.reduce((s, w) => s + cpuSeconds(w.pid!), 0);
        const coordinatorBefore = cpuSeconds(server.pid);
        const mallard: number[] = [];
        const duck: number[] = [];
        // The two sides take turns, so a spell of load from the machine's other tenants falls on both.
        // Both hand the application its rows as JS values: node-postgres parses Mallard's DataRows, and
        // DuckDB's materialized result is read with getRows(). Mallard's processes are idle during
        // DuckDB's turns, so their CPU time is Mallard's alone.
        for (let r = 0; r < RUNS; r++) {
          if (wrong?.startsWith('error') !== true) {
            mallard.push(await timed(() => client.query({ text: q.sql, rowMode: 'array' })));
          }
          duck.push(await timed(async () => (await conn2.runAndReadAll(q.sql)).getRows()));
        }
        const workerCpu = (workers.reduce((s, w) => s + cpuSeconds(w.pid!), 0) - workerBefore) / RUNS;
        const coordinatorCpu = (cpuSeconds(server.pid) - coordinatorBefore) / RUNS;
        await conn1.runAndReadAll(q.sql);
        const ownBefore = ownCpuSeconds();
        for (let r = 0; r < RUNS; r++) await conn1.runAndReadAll(q.sql);
        const duck1Cpu = (ownCpuSeconds() - ownBefore) / RUNS;
        const duckMs = median(duck);
        const mallardMs = mallard.length ? median(mallard) : Number.NaN;
        const f: QueryFigures = {
          id: q.id,
          duckMs,
          mallardMs,
          ratio: mallardMs / duckMs,
          workerCpu,
          coordinatorCpu,
          duck1Cpu,
          ...(wrong === undefined ? {} : { wrong }),
        };
        queries.push(f);
        console.log(
          `${`Q${q.id}`.padStart(6)}  ${duckMs.toFixed(0).padStart(12)}  ${mallardMs.toFixed(0).padStart(10)}  ${f.ratio.toFixed(2).padStart(5)}  ${workerCpu.toFixed(2).padStart(12)}  ${coordinatorCpu.toFixed(2).padStart(11)}  ${duck1Cpu.toFixed(2).padStart(13)}${wrong ? `  WRONG: ${wrong.split('\n')[0]}` : ''}`,
        );
      }
      results.push({ layout, loadSeconds, queries, loadAverage: [loadBefore, loadavg()[0]!] });
      printSummary(layout, queries);
    }

    if (!flags['no-docs']) {
      const machine = `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}, DuckDB ${versions}`;
      for (const r of results) writeDocs(r, machine);
    }
  } finally {
    await client.end().catch(() => {});
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exitCode !== null || w.signalCode !== null) return resolve();
            const timer = setTimeout(() => w.kill('SIGKILL'), 10_000);
            w.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
    await server.stop();
    await nats.stop();
    conn1.closeSync();
    conn2.closeSync();
    duck1.closeSync();
    duck2.closeSync();
  }
}

interface Summary {
  /** True when the workers did almost none of the work: the queries ran on the coordinator. */
  coordinatorLocal: boolean;
  geomean: number;
  max: QueryFigures;
  wrong: number;
  workerCpu: number;
  coordinatorCpu: number;
  duck1Cpu: number;
}

function summarize(queries: readonly QueryFigures[]): Summary {
  const measured = queries.filter((q) => Number.isFinite(q.ratio));
  const workerCpu = queries.reduce((sum, q) => sum + q.workerCpu, 0);
  const coordinatorCpu = queries.reduce((sum, q) => sum + q.coordinatorCpu, 0);
  return {
    coordinatorLocal: workerCpu < 0.05 * (workerCpu + coordinatorCpu),
    geomean: geomean(measured.map((q) => q.ratio)),
    max: measured.reduce((a, b) => (b.ratio > a.ratio ? b : a)),
    wrong: queries.filter((q) => q.wrong !== undefined).length,
    workerCpu,
    coordinatorCpu,
    duck1Cpu: queries.reduce((s, q) => s + q.duck1Cpu, 0),
  };
}

function printSummary(layout: TpchLayout, queries: readonly QueryFigures[]): void {
  const s = summarize(queries);
  console.log(`\n${layout}: geometric mean ratio ${s.geomean.toFixed(2)} (goal <= 1.10)`);
  console.log(`${layout}: max ratio ${s.max.ratio.toFixed(2)} at Q${s.max.id} (goal <= 1.50)`);
  console.log(`${layout}: answers differing from DuckDB: ${s.wrong}`);
  if (s.coordinatorLocal)
    console.log(`${layout}: the workers did under 5% of the CPU work: the queries ran on the coordinator`);
  console.log(
    `${layout}: CPU per run of the 22: workers ${s.workerCpu.toFixed(2)} s, coordinator ${s.coordinatorCpu.toFixed(2)} s, single-thread DuckDB ${s.duck1Cpu.toFixed(2)} s; workers / DuckDB-1t ${(s.workerCpu / s.duck1Cpu).toFixed(2)} (goal <= 1.20), (workers + coordinator) / DuckDB-1t ${((s.workerCpu + s.coordinatorCpu) / s.duck1Cpu).toFixed(2)}`,
  );
}

function chartFile(layout: TpchLayout): string {
  return `tpch-sf${SF}${layout === 'colocated' ? '' : `-${layout}`}.svg`;
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** A horizontal grouped bar chart: per query, DuckDB's and Mallard's median milliseconds and the ratio. */
function chartSvg(r: LayoutFigures, s: Summary): string {
  const rowHeight = 26;
  const top = 58;
  const left = 48;
  const plotWidth = 560;
  const width = left + plotWidth + 120;
  const height = top + r.queries.length * rowHeight + 56;
  const max = Math.max(
    ...r.queries.flatMap((q) => [q.duckMs, Number.isFinite(q.mallardMs) ? q.mallardMs : 0]),
  );
  const scale = (ms: number) => Math.max(1, (ms / max) * plotWidth);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(`TPC-H SF ${SF}, ${r.layout} layout: Mallard against DuckDB, median ms per query`)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeXml(`TPC-H SF ${SF}, ${r.layout} layout: median ms per query (${RUNS} runs)`)}</text>`,
    `<rect x="${left}" y="30" width="12" height="12" fill="#9e9e9e"/><text x="${left + 16}" y="40">DuckDB, 1 process, 2 threads</text>`,
    `<rect x="${left + 200}" y="30" width="12" height="12" fill="#1f6fb2"/><text x="${left + 216}" y="40">Mallard, 2 workers x 1 thread</text>`,
    `<text x="${left + plotWidth + 10}" y="40" font-weight="bold">ratio</text>`,
  ];
  r.queries.forEach((q, i) => {
    const y = top + i * rowHeight;
    parts.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">Q${q.id}</text>`);
    parts.push(
      `<rect x="${left}" y="${y + 2}" width="${scale(q.duckMs).toFixed(1)}" height="10" fill="#9e9e9e"/>`,
    );
    if (Number.isFinite(q.mallardMs)) {
      parts.push(
        `<rect x="${left}" y="${y + 12}" width="${scale(q.mallardMs).toFixed(1)}" height="10" fill="${q.wrong ? '#c62828' : '#1f6fb2'}"/>`,
      );
    }
    const label = Number.isFinite(q.ratio) ? `${q.ratio.toFixed(2)}x` : 'failed';
    parts.push(
      `<text x="${left + plotWidth + 10}" y="${y + 15}" fill="${q.ratio > 1.5 || q.wrong ? '#c62828' : '#000000'}">${label}${q.wrong ? ' (wrong)' : ''}</text>`,
    );
  });
  const foot = top + r.queries.length * rowHeight + 20;
  parts.push(
    `<text x="${left}" y="${foot}">${escapeXml(`geometric mean ${s.geomean.toFixed(2)}x (goal <= 1.10), max ${s.max.ratio.toFixed(2)}x at Q${s.max.id} (goal <= 1.50); longest bar ${max.toFixed(0)} ms`)}</text>`,
  );
  if (s.coordinatorLocal) {
    parts.push(
      `<text x="${left}" y="${foot + 16}" fill="#c62828">The workers did under 5% of the CPU work: these queries ran on the coordinator.</text>`,
    );
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function markdown(r: LayoutFigures, s: Summary, machine: string): string {
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} with \`node dist/bench/tpch.js --sf ${SF} --runs ${RUNS} --layout ${r.layout}\` on ${machine}. Load (\`mallard tpch --load --layout ${r.layout}${r.layout === 'colocated' ? ` --buckets ${flags.buckets}` : ''}\`): ${r.loadSeconds.toFixed(0)} s.`,
    '',
    '| query | DuckDB 2 threads, ms | Mallard, ms | Mallard / DuckDB | answer |',
    '| --- | ---: | ---: | ---: | --- |',
    ...r.queries.map(
      (q) =>
        `| Q${q.id} | ${q.duckMs.toFixed(0)} | ${Number.isFinite(q.mallardMs) ? q.mallardMs.toFixed(0) : '–'} | ${Number.isFinite(q.ratio) ? q.ratio.toFixed(2) : '–'} | ${q.wrong === undefined ? 'same' : `**differs**: ${escapeXml(q.wrong.split('\n')[0]!)}`} |`,
    ),
    `| **geometric mean** | | | **${s.geomean.toFixed(2)}** | goal ≤ 1.10 |`,
    `| **max** | | | **${s.max.ratio.toFixed(2)}** (Q${s.max.id}) | goal ≤ 1.50 |`,
    '',
    `Load average (1 min) ${r.loadAverage[0].toFixed(1)} when the queries started and ${r.loadAverage[1].toFixed(1)} when they ended: the machine's 2 cores were shared with other work, so the times vary accordingly.${s.coordinatorLocal ? ' **The workers did under 5% of the CPU work: these queries ran on the coordinator.**' : ''}`,
    '',
    `CPU time per run of the 22 queries: the two workers ${s.workerCpu.toFixed(2)} s, the coordinator ${s.coordinatorCpu.toFixed(2)} s, single-thread DuckDB ${s.duck1Cpu.toFixed(2)} s. Workers / single-thread DuckDB: **${(s.workerCpu / s.duck1Cpu).toFixed(2)}** (goal ≤ 1.20${s.coordinatorLocal ? '; meaningless while the workers run nothing' : ''}); workers and coordinator together: ${((s.workerCpu + s.coordinatorCpu) / s.duck1Cpu).toFixed(2)}.`,
    '',
    `![TPC-H SF ${SF}, ${r.layout}: median ms per query](${chartFile(r.layout)})`,
  ];
  return lines.join('\n');
}

/** Writes the chart and replaces (or appends) this layout's block in docs/BENCHMARKS.md. */
function writeDocs(r: LayoutFigures, machine: string): void {
  const s = summarize(r.queries);
  writeFileSync(join(DOCS, chartFile(r.layout)), chartSvg(r, s));
  const file = join(DOCS, 'BENCHMARKS.md');
  const doc = readFileSync(file, 'utf8');
  const begin = `<!-- tpch-sf${SF}-${r.layout}:begin -->`;
  const end = `<!-- tpch-sf${SF}-${r.layout}:end -->`;
  const block = `${begin}\n${markdown(r, s, machine)}\n${end}`;
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  const next =
    a >= 0 && b > a ? doc.slice(0, a) + block + doc.slice(b + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
  console.log(`wrote docs/${chartFile(r.layout)} and the ${r.layout} table in docs/BENCHMARKS.md`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
