/**
 * Storage benchmark (issue 4): bytes on disk for the eight TPC-H SF1 tables, with the same table
 * definitions (NOT NULL columns and primary keys), in Mallard's Parquet catalog storage, in a DuckDB
 * native database file, and in PostgreSQL 15. Prints per-table bytes where each system reports them,
 * the totals and the ratios.
 *
 *   npx tsc -p . && node dist/bench/storageBytes.js [generator dir=/tmp/mallard-tpch/sf-1]
 *
 * The rows come from the project's TPC-H generator (src/tpch), generated into the directory when it does
 * not hold a complete SF 1 output. Mallard's bytes are its data files (mallard_tables.bytes, and `du`
 * of the data directory's tables/); DuckDB's the database file after CHECKPOINT (its primary-key ART
 * indexes included); PostgreSQL's pg_total_relation_size (heap, primary-key index and TOAST) after
 * VACUUM, with the heap alone alongside.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { TABLES_DIR } from '../src/catalog/dataPaths.js';
import { quoteIdent, quoteLiteral } from '../src/storage/sqlText.js';
import { generateTpch } from '../src/tpch/generate.js';
import { loadTpch, markTpchFiles, tpchCreateTableSql, tpchFilesReady } from '../src/tpch/load.js';
import { TPCH_TABLES, type TpchTable, tpchFileName } from '../src/tpch/tables.js';
import { startMallard } from '../test/helpers/mallard.js';
import { startPostgres } from '../test/helpers/postgres.js';

const DIR = resolve(process.argv[2] ?? '/tmp/mallard-tpch/sf-1');

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function duBytes(path: string): number {
  let total = 0;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    total += e.isDirectory() ? duBytes(p) : statSync(p).size;
  }
  return total;
}

async function mallardBytes(): Promise<{ perTable: Map<TpchTable, number>; total: number }> {
  const server = await startMallard({ args: ['--table-storage', 'parquet', '--readable-dir', DIR] });
  try {
    await loadTpch({ url: server.url, dir: DIR, layout: 'balanced' });
    const c = new pg.Client({ connectionString: server.url });
    await c.connect();
    try {
      const r = await c.query('SELECT table_name, bytes FROM mallard_tables');
      const perTable = new Map<TpchTable, number>(
        r.rows.map((row: { table_name: TpchTable; bytes: string }) => [row.table_name, Number(row.bytes)]),
      );
      return { perTable, total: duBytes(join(server.dataDir, TABLES_DIR)) };
    } finally {
      await c.end();
    }
  } finally {
    await server.stop();
  }
}

async function duckdbBytes(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'mallard-bench-duckdb-'));
  try {
    const file = join(dir, 'tpch.duckdb');
    const db = await DuckDBInstance.create(file);
    const conn = await db.connect();
    for (const t of TPCH_TABLES) {
      await conn.run(tpchCreateTableSql(t));
      await conn.run(
        `INSERT INTO ${quoteIdent(t)} SELECT * FROM read_parquet(${quoteLiteral(join(DIR, tpchFileName(t)))})`,
      );
    }
    await conn.run('CHECKPOINT');
    conn.closeSync();
    db.closeSync();
    return duBytes(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `psql -c "\copy t from program '...' with (format csv)"`, fed by DuckDB writing CSV to stdout. */
function psqlCopy(url: string, table: TpchTable, csv: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(
      'psql',
      ['-X', '-d', url, '-c', `\\copy ${table} from ${quoteLiteral(csv)} with (format csv)`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.on('exit', (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`psql \\copy ${table}: ${err}`)),
    );
  });
}

async function postgresBytes(): Promise<Map<TpchTable, { heap: number; total: number }>> {
  const server = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'mallard-bench-csv-'));
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  try {
    for (const t of TPCH_TABLES) {
      await c.query(tpchCreateTableSql(t));
      const csv = join(dir, `${t}.csv`);
      await conn.run(
        `COPY (SELECT * FROM read_parquet(${quoteLiteral(join(DIR, tpchFileName(t)))})) TO ${quoteLiteral(csv)} (FORMAT csv, HEADER false)`,
      );
      await psqlCopy(server.url, t, csv);
      rmSync(csv);
    }
    await c.query('VACUUM ANALYZE');
    const out = new Map<TpchTable, { heap: number; total: number }>();
    for (const t of TPCH_TABLES) {
      const r = await c.query(
        `SELECT pg_relation_size($1)::bigint AS heap, pg_total_relation_size($1)::bigint AS total`,
        [t],
      );
      out.set(t, { heap: Number(r.rows[0].heap), total: Number(r.rows[0].total) });
    }
    return out;
  } finally {
    await c.end();
    conn.closeSync();
    db.closeSync();
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
}

async function main(): Promise<void> {
  if (!(await tpchFilesReady(DIR, 1))) {
    console.log(`generating TPC-H SF 1 into ${DIR} ...`);
    await generateTpch({ sf: 1, out: DIR });
    await markTpchFiles(DIR, 1);
  }
  const m = await mallardBytes();
  const d = await duckdbBytes();
  const p = await postgresBytes();
  console.log(`TPC-H SF1 bytes on disk (${DIR})`);
  console.log(
    `  ${'table'.padEnd(9)} ${'Mallard'.padStart(11)} ${'PG total'.padStart(11)} ${'PG heap'.padStart(11)}`,
  );
  let pgTotal = 0;
  let pgHeap = 0;
  for (const t of TPCH_TABLES) {
    const pt = p.get(t)!;
    pgTotal += pt.total;
    pgHeap += pt.heap;
    console.log(
      `  ${t.padEnd(9)} ${mb(m.perTable.get(t) ?? 0).padStart(11)} ${mb(pt.total).padStart(11)} ${mb(pt.heap).padStart(11)}`,
    );
  }
  console.log(`\n  Mallard Parquet files (du tables/)      ${mb(m.total)}`);
  console.log(`  DuckDB native file (after CHECKPOINT)   ${mb(d)}`);
  console.log(`  PostgreSQL total (heap + PK + TOAST)     ${mb(pgTotal)}   (heap alone ${mb(pgHeap)})`);
  console.log(
    `\nratio Mallard / DuckDB ${(m.total / d).toFixed(2)}   Mallard / PostgreSQL ${(m.total / pgTotal).toFixed(2)}`,
  );
}

await main();
