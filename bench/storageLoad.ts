/**
 * Bulk load benchmark (issue 4): `COPY lineitem FROM STDIN` of TPC-H lineitem rows as CSV, sent by
 * `psql \copy` (one CopyData per line, as psql sends a file), into Mallard (Parquet catalog storage)
 * and into PostgreSQL 15 in the same run, with the same table definition (NOT NULL columns and the
 * primary key). Prints rows/s and the ratio (goal: Mallard >= 2x PostgreSQL).
 *
 *   npx tsc -p . && node dist/bench/storageLoad.js [rows=6000000] [cache dir]
 *
 * The rows come from the project's TPC-H generator (src/tpch, SF 1.01 so that 6,000,000 rows exist),
 * written once as Parquet and CSV under the cache directory (default /tmp/mallard-bench) and reused.
 * The throwaway PostgreSQL runs with fsync off (test/helpers/postgres.ts); Mallard fsyncs its files.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { quoteLiteral } from '../src/storage/sqlText.js';
import { generateTpch } from '../src/tpch/generate.js';
import { tpchCreateTableSql } from '../src/tpch/load.js';
import { startMallard } from '../test/helpers/mallard.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { withPeakRss } from './procStats.js';

const ROWS = Number(process.argv[2] ?? 6_000_000);
const CACHE = process.argv[3] ?? '/tmp/mallard-bench';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** The first ROWS lineitem rows as CSV (no header), generated once. */
async function lineitemCsv(): Promise<string> {
  const csv = join(CACHE, `lineitem-${ROWS}.csv`);
  if (existsSync(csv)) return csv;
  const sf = Math.max(0.01, Math.ceil((ROWS / 6_000_000) * 101) / 100);
  const dir = join(CACHE, `tpch-sf${sf}`);
  if (!existsSync(join(dir, 'lineitem.parquet'))) {
    console.log(`generating TPC-H SF ${sf} into ${dir} ...`);
    await generateTpch({ sf, out: dir });
  }
  mkdirSync(CACHE, { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const parquet = quoteLiteral(join(dir, 'lineitem.parquet'));
    const n = Number(
      (await conn.runAndReadAll(`SELECT count(*) FROM read_parquet(${parquet})`)).getRows()[0]![0],
    );
    if (n < ROWS) throw new Error(`SF ${sf} has ${n} lineitem rows, fewer than ${ROWS}`);
    await conn.run(
      `COPY (SELECT * FROM read_parquet(${parquet}) LIMIT ${ROWS}) TO ${quoteLiteral(`${csv}.tmp`)} (FORMAT csv, HEADER false)`,
    );
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  renameSync(`${csv}.tmp`, csv);
  return csv;
}

interface Target {
  name: string;
  url: string;
  pid(client: pg.Client): Promise<number>;
}

/** `psql -c "\copy lineitem from '<csv>' with (format csv)"`: seconds and the COPY's row count. */
function psqlCopy(url: string, csv: string): Promise<{ seconds: number; rows: number }> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const p = spawn(
      'psql',
      ['-X', '-d', url, '-c', `\\copy lineitem from ${quoteLiteral(csv)} with (format csv)`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const rows = Number(out.trim().split(' ')[1]);
      if (code !== 0 || !Number.isFinite(rows)) reject(new Error(`psql exited ${code}: ${err}${out}`));
      else resolve({ seconds, rows });
    });
  });
}

async function load(t: Target, csv: string): Promise<number> {
  const c = new pg.Client({ connectionString: t.url });
  await c.connect();
  try {
    await c.query('DROP TABLE IF EXISTS lineitem');
    await c.query(tpchCreateTableSql('lineitem'));
    // The server process doing the work: Mallard's, or the PostgreSQL backend of psql's session (not
    // known before it connects), so only Mallard's memory is watched.
    const pid = await t.pid(c);
    const { result, peakMb } = await withPeakRss(pid, () => psqlCopy(t.url, csv));
    if (result.rows !== ROWS) throw new Error(`${t.name}: COPY ${result.rows}, expected ${ROWS}`);
    const check = await c.query('SELECT count(*)::bigint AS n, sum(l_quantity)::text AS q FROM lineitem');
    const mem = t.name === 'Mallard' ? `, server peak RSS ${peakMb.toFixed(0)} MB` : '';
    console.log(
      `  ${t.name.padEnd(10)} ${fmt(ROWS / result.seconds).padStart(10)} rows/s  (${result.seconds.toFixed(1)} s; count ${check.rows[0].n}, sum(l_quantity) ${check.rows[0].q}${mem})`,
    );
    return ROWS / result.seconds;
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  const csv = await lineitemCsv();
  const pgServer = await startPostgres();
  const mallard = await startMallard({ args: ['--table-storage', 'parquet'] });
  const targets: Target[] = [
    { name: 'PostgreSQL', url: pgServer.url, pid: async () => 0 },
    { name: 'Mallard', url: mallard.url, pid: async () => mallard.pid },
  ];
  try {
    console.log(`COPY lineitem FROM STDIN: ${fmt(ROWS)} rows of CSV (${csv}) through psql \\copy`);
    const rate: Record<string, number> = {};
    for (const t of targets) rate[t.name] = await load(t, csv);
    console.log(
      `\nratio Mallard / PostgreSQL rows/s (goal >= 2.00): ${(rate.Mallard! / rate.PostgreSQL!).toFixed(2)}`,
    );
  } finally {
    await mallard.stop();
    await pgServer.stop();
  }
}

await main();
