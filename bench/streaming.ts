/**
 * Streaming benchmark (issue 2): a 5,000,000-row, 4-column result (int, bigint, text, double), read to
 * completion by node-postgres (text and binary) and by `psql -At > /dev/null`, from Mallard and from
 * PostgreSQL 15 in the same run. Prints rows/s, the ratio, and each server's peak RSS while streaming.
 *
 *   npm run build && node dist/bench/streaming.js [rows]
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { startMallard } from '../test/helpers/mallard.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { withPeakRss } from './procStats.js';

const ROWS = Number(process.argv[2] ?? 5_000_000);
const SQL = `SELECT i::int AS a, (i * 2)::bigint AS b, ('row ' || i)::text AS c, (i * 0.5)::float8 AS d FROM generate_series(1, ${ROWS}) AS t(i)`;

interface Target {
  name: string;
  host: string;
  port: number;
  user: string;
  database: string;
  /** The process whose memory we watch: Mallard's server, or PostgreSQL's backend for the session. */
  serverPid(client: pg.Client): Promise<number>;
}

async function viaNodePostgres(
  t: Target,
  binary: boolean,
): Promise<{ rows: number; seconds: number; peakMb: number }> {
  const client = new pg.Client({ host: t.host, port: t.port, user: t.user, database: t.database });
  await client.connect();
  const pid = await t.serverPid(client);
  const { result, peakMb } = await withPeakRss(pid, async () => {
    const start = process.hrtime.bigint();
    let rows = 0;
    await new Promise<void>((resolve, reject) => {
      // A Submittable Query emits rows without accumulating them, so the client's memory stays flat.
      const q = new pg.Query({ text: SQL, rowMode: 'array', binary } as pg.QueryConfig & { binary: boolean });
      q.on('row', () => {
        rows++;
      });
      q.on('end', () => resolve());
      q.on('error', reject);
      client.query(q);
    });
    return { rows, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
  });
  await client.end();
  return { ...result, peakMb };
}

async function viaPsql(t: Target): Promise<{ rows: number; seconds: number }> {
  const start = process.hrtime.bigint();
  let newlines = 0;
  await new Promise<void>((resolve, reject) => {
    const p = spawn(
      'psql',
      ['-X', '-At', '-h', t.host, '-p', String(t.port), '-U', t.user, '-d', t.database, '-c', SQL],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    p.stdout.on('data', (d: Buffer) => {
      for (let i = 0; i < d.length; i++) if (d[i] === 10) newlines++;
    });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`psql exited ${code}`))));
  });
  return { rows: newlines, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main() {
  const pgServer = await startPostgres();
  const mallard = await startMallard();
  const targets: Target[] = [
    {
      name: 'PostgreSQL',
      host: pgServer.host,
      port: pgServer.port,
      user: pgServer.user,
      database: pgServer.database,
      serverPid: async (c) => (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid,
    },
    {
      name: 'Mallard',
      host: mallard.host,
      port: mallard.port,
      user: 'mallard',
      database: 'mallard',
      serverPid: async () => mallard.pid,
    },
  ];
  try {
    console.log(`streaming ${fmt(ROWS)} rows x 4 columns (int, bigint, text, double)`);
    const results: Record<string, Record<string, number>> = {};
    const record = (k: string, name: string, rowsPerSecond: number) => {
      results[k] = { ...results[k], [name]: rowsPerSecond };
    };
    for (const mode of ['text', 'binary'] as const) {
      for (const t of targets) {
        const r = await viaNodePostgres(t, mode === 'binary');
        if (r.rows !== ROWS) throw new Error(`${t.name} returned ${r.rows} rows, expected ${ROWS}`);
        record(`node-postgres ${mode}`, t.name, ROWS / r.seconds);
        console.log(
          `  node-postgres ${mode.padEnd(6)} ${t.name.padEnd(10)} ${fmt(ROWS / r.seconds)} rows/s, server peak RSS ${r.peakMb.toFixed(0)} MB`,
        );
      }
    }
    for (const t of targets) {
      const r = await viaPsql(t);
      if (r.rows !== ROWS) throw new Error(`${t.name} psql printed ${r.rows} rows, expected ${ROWS}`);
      record('psql -At', t.name, ROWS / r.seconds);
      console.log(`  psql -At            ${t.name.padEnd(10)} ${fmt(ROWS / r.seconds)} rows/s`);
    }
    console.log('\nratio Mallard / PostgreSQL (goal >= 1.00):');
    for (const [k, v] of Object.entries(results))
      console.log(`  ${k.padEnd(20)} ${(v.Mallard! / v.PostgreSQL!).toFixed(2)}`);
  } finally {
    await mallard.stop();
    await pgServer.stop();
  }
}

await main();
