/**
 * Latency benchmark (issue 2): `pgbench -n -c 8 -T 20` running `SELECT 1` in simple, extended and
 * prepared mode, against Mallard and PostgreSQL 15 in the same run. Goal: Mallard >= 0.5x PostgreSQL's TPS.
 *
 *   npm run build && node dist/bench/latency.js [seconds]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMallard } from '../test/helpers/mallard.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { run } from '../test/helpers/run.js';

const SECONDS = Number(process.argv[2] ?? 20);

async function pgbench(host: string, port: number, user: string, db: string, mode: string, script: string) {
  const r = await run(
    'pgbench',
    [
      '-n',
      '-c',
      '8',
      '-j',
      '2',
      '-T',
      String(SECONDS),
      '-M',
      mode,
      '-f',
      script,
      '-h',
      host,
      '-p',
      String(port),
      '-U',
      user,
      db,
    ],
    { timeoutMs: (SECONDS + 60) * 1000 },
  );
  const m = /tps = ([\d.]+)/.exec(r.stdout);
  if (r.code !== 0 || !m) throw new Error(`pgbench failed (${r.code}): ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

async function main() {
  const script = join(mkdtempSync(join(tmpdir(), 'mallard-bench-')), 'select1.sql');
  writeFileSync(script, 'SELECT 1;\n');
  const pgServer = await startPostgres();
  const mallard = await startMallard();
  try {
    console.log(`pgbench -n -c 8 -T ${SECONDS}, SELECT 1`);
    for (const mode of ['simple', 'extended', 'prepared']) {
      const p = await pgbench(pgServer.host, pgServer.port, pgServer.user, pgServer.database, mode, script);
      const m = await pgbench(mallard.host, mallard.port, 'mallard', 'mallard', mode, script);
      console.log(
        `  -M ${mode.padEnd(9)} PostgreSQL ${p.toFixed(0).padStart(7)} tps   Mallard ${m.toFixed(0).padStart(7)} tps   ratio ${(m / p).toFixed(2)} (goal >= 0.50)`,
      );
    }
  } finally {
    await mallard.stop();
    await pgServer.stop();
  }
}

await main();
