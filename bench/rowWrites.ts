/**
 * Row-write benchmark (issue 4): pgbench custom scripts, one client, extended protocol, running a
 * single-row `INSERT ... RETURNING id` and a single-row `UPDATE ... WHERE id = :id` on a table of
 * 10,000,000 rows, against Mallard (Parquet catalog storage) and PostgreSQL 15 in the same run.
 * Latencies come from pgbench's per-transaction log (`-l`). Prints p50 and p99 of each and the ratios
 * (goal: Mallard's UPDATE p50 under 50 ms).
 *
 *   npx tsc -p . && node dist/bench/rowWrites.js [rows=10000000] [seconds=20]
 *
 * The throwaway PostgreSQL runs with fsync off (test/helpers/postgres.ts); Mallard fsyncs every commit.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startMallard } from '../test/helpers/mallard.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { run } from '../test/helpers/run.js';

const ROWS = Number(process.argv[2] ?? 10_000_000);
const SECONDS = Number(process.argv[3] ?? 20);

const SCRIPTS = {
  insert:
    "\\set b random(1, 1000)\nINSERT INTO accounts (balance, filler) VALUES (:b, 'new row') RETURNING id;\n",
  update: `\\set id random(1, ${ROWS})\n\\set d random(1, 100)\nUPDATE accounts SET balance = balance + :d WHERE id = :id;\n`,
} as const;

interface Server {
  name: string;
  url: string;
  host: string;
  port: number;
  user: string;
  database: string;
}

async function setUp(s: Server): Promise<number> {
  const c = new pg.Client({ connectionString: s.url });
  await c.connect();
  try {
    const started = performance.now();
    await c.query('DROP TABLE IF EXISTS accounts');
    await c.query('CREATE TABLE accounts (id bigserial PRIMARY KEY, balance bigint NOT NULL, filler text)');
    await c.query(
      `INSERT INTO accounts (id, balance, filler) SELECT i, i % 1000, 'filler ' || i FROM generate_series(1, ${ROWS}) AS t(i)`,
    );
    await c.query(`SELECT setval('accounts_id_seq', ${ROWS})`);
    if (s.name === 'PostgreSQL') await c.query('VACUUM ANALYZE accounts');
    else await c.query('ANALYZE accounts');
    return (performance.now() - started) / 1000;
  } finally {
    await c.end();
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs one script for SECONDS; returns per-transaction latencies in ms from pgbench's log. */
async function pgbench(s: Server, script: keyof typeof SCRIPTS): Promise<{ ms: number[]; tps: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'mallard-rowwrites-'));
  try {
    const file = join(dir, `${script}.sql`);
    writeFileSync(file, SCRIPTS[script]);
    const args = ['-n', '-f', file, '-T', String(SECONDS), '-c', '1', '-M', 'extended', '-l'];
    args.push('--log-prefix', join(dir, 'log'), '-h', s.host, '-p', String(s.port), '-U', s.user, s.database);
    const r = await run('pgbench', args, { timeoutMs: (SECONDS + 120) * 1000 });
    const tps = /tps = ([\d.]+)/.exec(r.stdout);
    if (r.code !== 0 || !tps)
      throw new Error(`pgbench on ${s.name} failed (${r.code}): ${r.stdout}${r.stderr}`);
    // Each line: client_id transaction_no latency_us script_no epoch_s epoch_us.
    const ms: number[] = [];
    for (const name of readdirSync(dir).filter((n) => n.startsWith('log'))) {
      for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
        const fields = line.split(' ');
        if (fields.length >= 3) ms.push(Number(fields[2]) / 1000);
      }
    }
    ms.sort((a, b) => a - b);
    return { ms, tps: Number(tps[1]) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const pgServer = await startPostgres();
  const mallard = await startMallard({ args: ['--table-storage', 'parquet'] });
  const servers: Server[] = [
    { name: 'PostgreSQL', ...pgServer },
    {
      name: 'Mallard',
      url: mallard.url,
      host: mallard.host,
      port: mallard.port,
      user: 'mallard',
      database: 'mallard',
    },
  ];
  try {
    console.log(`pgbench -n -c 1 -M extended -T ${SECONDS} on a ${ROWS.toLocaleString('en-US')}-row table`);
    for (const s of servers)
      console.log(`  ${s.name.padEnd(10)} table loaded in ${(await setUp(s)).toFixed(1)} s`);
    const p50: Record<string, Record<string, number>> = {};
    for (const script of ['insert', 'update'] as const) {
      for (const s of servers) {
        const r = await pgbench(s, script);
        const [a, b] = [percentile(r.ms, 50), percentile(r.ms, 99)];
        p50[script] = { ...p50[script], [s.name]: a };
        console.log(
          `  ${script.padEnd(6)} ${s.name.padEnd(10)} p50 ${a.toFixed(2).padStart(8)} ms  p99 ${b.toFixed(2).padStart(8)} ms  (${r.ms.length} transactions, ${r.tps.toFixed(0)} tps)`,
        );
      }
    }
    console.log('\np50 ratio Mallard / PostgreSQL (lower is better):');
    for (const [script, v] of Object.entries(p50)) {
      console.log(`  ${script.padEnd(6)} ${(v.Mallard! / v.PostgreSQL!).toFixed(1)}x`);
    }
    const u = p50.update!.Mallard!;
    console.log(`UPDATE p50 ${u.toFixed(1)} ms: goal < 50 ms ${u < 50 ? 'met' : 'NOT met'}`);
  } finally {
    await mallard.stop();
    await pgServer.stop();
  }
}

await main();
