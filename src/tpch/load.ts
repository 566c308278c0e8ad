import { access, readFile, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import { quoteIdent, quoteLiteral } from '../storage/sqlText.js';
import { TPCH_TABLES, type TpchTable, tpchFileName } from './tables.js';

/**
 * `CREATE OR REPLACE VIEW <table> AS SELECT * FROM read_parquet('<dir>/<table>.parquet')` for the eight
 * tables the generator wrote into `dir`, so the 22 queries run on plain DuckDB over the same files (the
 * benchmark's reference side). Each view names its exact file: a glob such as part*.parquet would also
 * read partsupp.
 */
export function tpchViewsSql(dir: string): string[] {
  return TPCH_TABLES.map(
    (table) =>
      `CREATE OR REPLACE VIEW ${quoteIdent(table)} AS SELECT * FROM read_parquet(${quoteLiteral(join(resolve(dir), tpchFileName(table)))})`,
  );
}

/**
 * How the loaded tables are laid out. `colocated` is the Citus layout: lineitem and orders hash-bucketed on
 * the order key in one colocation group, partsupp and part on the part key in another, and the small
 * tables (region, nation, supplier, customer) reference tables. `balanced` leaves all eight tables
 * un-distributed, the benchmark's comparison.
 */
export type TpchLayout = 'colocated' | 'balanced';

export const TPCH_LAYOUTS: readonly TpchLayout[] = ['colocated', 'balanced'];

// Columns of clause 1.4.1, in the generator's order. Identifiers are INTEGER except the order key, which
// is BIGINT as in the generator's files (it passes 2^31 above SF 350). Fixed text is CHAR(n), variable text
// VARCHAR(n), money DECIMAL(15,2).
const COLUMNS: Record<TpchTable, readonly (readonly [string, string])[]> = {
  region: [
    ['r_regionkey', 'INTEGER'],
    ['r_name', 'CHAR(25)'],
    ['r_comment', 'VARCHAR(152)'],
  ],
  nation: [
    ['n_nationkey', 'INTEGER'],
    ['n_name', 'CHAR(25)'],
    ['n_regionkey', 'INTEGER'],
    ['n_comment', 'VARCHAR(152)'],
  ],
  supplier: [
    ['s_suppkey', 'INTEGER'],
    ['s_name', 'CHAR(25)'],
    ['s_address', 'VARCHAR(40)'],
    ['s_nationkey', 'INTEGER'],
    ['s_phone', 'CHAR(15)'],
    ['s_acctbal', 'DECIMAL(15,2)'],
    ['s_comment', 'VARCHAR(101)'],
  ],
  customer: [
    ['c_custkey', 'INTEGER'],
    ['c_name', 'VARCHAR(25)'],
    ['c_address', 'VARCHAR(40)'],
    ['c_nationkey', 'INTEGER'],
    ['c_phone', 'CHAR(15)'],
    ['c_acctbal', 'DECIMAL(15,2)'],
    ['c_mktsegment', 'CHAR(10)'],
    ['c_comment', 'VARCHAR(117)'],
  ],
  part: [
    ['p_partkey', 'INTEGER'],
    ['p_name', 'VARCHAR(55)'],
    ['p_mfgr', 'CHAR(25)'],
    ['p_brand', 'CHAR(10)'],
    ['p_type', 'VARCHAR(25)'],
    ['p_size', 'INTEGER'],
    ['p_container', 'CHAR(10)'],
    ['p_retailprice', 'DECIMAL(15,2)'],
    ['p_comment', 'VARCHAR(23)'],
  ],
  partsupp: [
    ['ps_partkey', 'INTEGER'],
    ['ps_suppkey', 'INTEGER'],
    ['ps_availqty', 'INTEGER'],
    ['ps_supplycost', 'DECIMAL(15,2)'],
    ['ps_comment', 'VARCHAR(199)'],
  ],
  orders: [
    ['o_orderkey', 'BIGINT'],
    ['o_custkey', 'INTEGER'],
    ['o_orderstatus', 'CHAR(1)'],
    ['o_totalprice', 'DECIMAL(15,2)'],
    ['o_orderdate', 'DATE'],
    ['o_orderpriority', 'CHAR(15)'],
    ['o_clerk', 'CHAR(15)'],
    ['o_shippriority', 'INTEGER'],
    ['o_comment', 'VARCHAR(79)'],
  ],
  lineitem: [
    ['l_orderkey', 'BIGINT'],
    ['l_partkey', 'INTEGER'],
    ['l_suppkey', 'INTEGER'],
    ['l_linenumber', 'INTEGER'],
    ['l_quantity', 'DECIMAL(15,2)'],
    ['l_extendedprice', 'DECIMAL(15,2)'],
    ['l_discount', 'DECIMAL(15,2)'],
    ['l_tax', 'DECIMAL(15,2)'],
    ['l_returnflag', 'CHAR(1)'],
    ['l_linestatus', 'CHAR(1)'],
    ['l_shipdate', 'DATE'],
    ['l_commitdate', 'DATE'],
    ['l_receiptdate', 'DATE'],
    ['l_shipinstruct', 'CHAR(25)'],
    ['l_shipmode', 'CHAR(10)'],
    ['l_comment', 'VARCHAR(44)'],
  ],
};

/** Primary keys of clause 1.4.2.2. */
const PRIMARY_KEYS: Record<TpchTable, readonly string[]> = {
  region: ['r_regionkey'],
  nation: ['n_nationkey'],
  supplier: ['s_suppkey'],
  customer: ['c_custkey'],
  part: ['p_partkey'],
  partsupp: ['ps_partkey', 'ps_suppkey'],
  orders: ['o_orderkey'],
  lineitem: ['l_orderkey', 'l_linenumber'],
};

/** The column names of a TPC-H table, in the specification's (and the generator's) order. */
export function tpchColumns(table: TpchTable): string[] {
  return COLUMNS[table].map(([name]) => name);
}

/** `CREATE TABLE` for one TPC-H table in PostgreSQL syntax: clause 1.4.1's columns, NOT NULL, primary key. */
export function tpchCreateTableSql(table: TpchTable): string {
  const columns = COLUMNS[table].map(([name, type]) => `${quoteIdent(name)} ${type} NOT NULL`);
  const key = PRIMARY_KEYS[table].map(quoteIdent).join(', ');
  return `CREATE TABLE ${quoteIdent(table)} (${columns.join(', ')}, PRIMARY KEY (${key}))`;
}

/**
 * The Citus calls that lay the (still empty) tables out: none for `balanced`. The order matters: a table
 * is co-located with one distributed before it. `buckets` is the shard count of the two hash groups (the
 * server's default when absent).
 */
export function tpchDistributionSql(layout: TpchLayout, buckets?: number): string[] {
  if (layout === 'balanced') return [];
  const count = buckets === undefined ? '' : `, shard_count => ${buckets}`;
  const hash = (table: TpchTable, column: string, colocateWith: string) =>
    `SELECT create_distributed_table(${quoteLiteral(table)}, ${quoteLiteral(column)}, colocate_with => ${quoteLiteral(colocateWith)}${count})`;
  return [
    hash('lineitem', 'l_orderkey', 'none'),
    hash('orders', 'o_orderkey', 'lineitem'),
    hash('partsupp', 'ps_partkey', 'none'),
    hash('part', 'p_partkey', 'partsupp'),
    ...(['region', 'nation', 'supplier', 'customer'] as const).map(
      (table) => `SELECT create_reference_table(${quoteLiteral(table)})`,
    ),
  ];
}

/** `INSERT INTO <table> (columns) SELECT columns FROM read_parquet('<dir>/<table>.parquet')`. */
export function tpchInsertSql(dir: string, table: TpchTable): string {
  const columns = tpchColumns(table).map(quoteIdent).join(', ');
  const file = quoteLiteral(join(resolve(dir), tpchFileName(table)));
  return `INSERT INTO ${quoteIdent(table)} (${columns}) SELECT ${columns} FROM read_parquet(${file})`;
}

/**
 * The worker slots of the cluster behind `client` (its ready workers' threads), or undefined without
 * workers. The colocated layout's default shard count: a task then reads one file of each table, and
 * DuckDB plans a scan of one Parquet file with its statistics, which it does not have over a list of
 * files (TPC-H SF 1 on 2 single-thread workers: geometric mean 1.08-1.10x DuckDB with 2 buckets, 1.24x
 * with 16).
 */
async function workerSlots(client: pg.Client): Promise<number | undefined> {
  const r = await client.query<{ slots: number | null }>(
    "SELECT CAST(sum(threads) AS INTEGER) AS slots FROM mallard_workers WHERE state = 'ready'",
  );
  const slots = r.rows[0]?.slots;
  return slots && slots > 0 ? slots : undefined;
}

/** What {@link loadTpch} loads, and where. */
export interface TpchLoadOptions {
  /** A PostgreSQL connection string of a running Mallard, e.g. `postgres://127.0.0.1:5432/mallard`. */
  readonly url: string;
  /** The directory the generator wrote into; the server must be allowed to read it (`--readable-dir`). */
  readonly dir: string;
  readonly layout: TpchLayout;
  /**
   * Shard count of the hash-distributed tables (colocated layout only). When absent: one per worker slot
   * of the cluster, else the server's default.
   */
  readonly buckets?: number;
  /** Drop the eight tables first when they exist; otherwise an existing table makes CREATE TABLE fail. */
  readonly replace?: boolean;
  /** Called after each table is loaded. */
  readonly onTable?: (loaded: TpchLoadedTable) => void;
}

/** One loaded table: the rows its INSERT reported and how long the INSERT took. */
export interface TpchLoadedTable {
  readonly table: TpchTable;
  readonly rows: number;
  readonly seconds: number;
}

/**
 * Creates the eight TPC-H tables in a running Mallard (started with `--table-storage parquet` and
 * `--readable-dir <dir>`), lays them out as `layout` says, and fills each with one
 * `INSERT ... SELECT ... FROM read_parquet(...)` that the server runs over the generator's file. Each
 * statement commits on its own; a failure leaves the tables loaded so far.
 */
export async function loadTpch(options: TpchLoadOptions): Promise<TpchLoadedTable[]> {
  // Like psql, a URL without a user name logs in as PGUSER or the operating-system user (pg would send
  // an empty one: the URL's empty user name overrides its own default).
  const url = new URL(options.url);
  if (url.username === '') url.username = encodeURIComponent(process.env['PGUSER'] ?? userInfo().username);
  // Loaded here, not at the top: the rest of the CLI must not need the client library.
  const { default: pgModule } = await import('pg');
  const client = new pgModule.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    if (options.replace) {
      for (const table of [...TPCH_TABLES].reverse())
        await client.query(`DROP TABLE IF EXISTS ${quoteIdent(table)}`);
    }
    for (const table of TPCH_TABLES) await client.query(tpchCreateTableSql(table));
    const buckets =
      options.buckets ?? (options.layout === 'colocated' ? await workerSlots(client) : undefined);
    for (const sql of tpchDistributionSql(options.layout, buckets)) await client.query(sql);
    const loaded: TpchLoadedTable[] = [];
    for (const table of TPCH_TABLES) {
      const started = performance.now();
      let result: pg.QueryResult;
      try {
        result = await client.query(tpchInsertSql(options.dir, table));
      } catch (e) {
        throw explainLoadError(e, options.dir);
      }
      const entry = { table, rows: result.rowCount ?? 0, seconds: (performance.now() - started) / 1000 };
      loaded.push(entry);
      options.onTable?.(entry);
    }
    return loaded;
  } finally {
    await client.end();
  }
}

/** A refused read_parquet (42501) says which flag the server lacks; other errors pass through. */
function explainLoadError(e: unknown, dir: string): unknown {
  if ((e as { code?: unknown }).code !== '42501') return e;
  const message = e instanceof Error ? e.message : String(e);
  return new Error(
    `the server may not read ${resolve(dir)}: start it with --table-storage parquet --readable-dir ${resolve(dir)} (${message})`,
    { cause: e },
  );
}

/** The file that marks a directory as holding a complete generator output, and at which scale factor. */
const MARK_FILE = 'tpch.json';

/**
 * True when `dir` holds all eight table files from a generation at scale factor `sf` that ran to the end
 * ({@link markTpchFiles} wrote its mark). The generator is deterministic, so such files can be reused.
 */
export async function tpchFilesReady(dir: string, sf: number): Promise<boolean> {
  try {
    const mark = JSON.parse(await readFile(join(dir, MARK_FILE), 'utf8')) as { sf?: unknown };
    if (mark.sf !== sf) return false;
    for (const table of TPCH_TABLES) await access(join(dir, tpchFileName(table)));
    return true;
  } catch {
    return false;
  }
}

/** Marks `dir` as a complete generation at `sf`; call once the generator has returned. */
export async function markTpchFiles(dir: string, sf: number): Promise<void> {
  await writeFile(join(dir, MARK_FILE), `${JSON.stringify({ sf })}\n`);
}

/** Removes the mark before a generation starts, so that one interrupted half-way is not reused. */
export async function unmarkTpchFiles(dir: string): Promise<void> {
  await rm(join(dir, MARK_FILE), { force: true });
}
