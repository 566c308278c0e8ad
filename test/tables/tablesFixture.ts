import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { Catalog } from '../../src/catalog/Catalog.js';
import { TABLES_DIR } from '../../src/catalog/dataPaths.js';
import { Engine } from '../../src/executor/Engine.js';
import type { SessionExecutor } from '../../src/executor/Executor.js';
import { COMPAT_SCHEMA } from '../../src/sql/compatSchema.js';
import { SqlParser } from '../../src/sql/SqlParser.js';
import { TableStorage } from '../../src/storage/TableStorage.js';
import { TableExecutor } from '../../src/tables/TableExecutor.js';
import { run } from '../executor/engineFixture.js';

/** A coordinator's table layer on a fresh data directory: engine, catalog, storage and parser. */
export interface TablesFixture {
  readonly dataDir: string;
  readonly engine: Engine;
  readonly catalog: Catalog;
  readonly storage: TableStorage;
  readonly parser: SqlParser;
  /** A new session executor (close it, or dispose() closes it). */
  session(): Promise<TableExecutor>;
  dispose(): Promise<void>;
}

export async function openTables(dataDir?: string): Promise<TablesFixture> {
  const root = dataDir ?? mkdtempSync(join(tmpdir(), 'mallard-tables-'));
  const catalog = await Catalog.open(root);
  const storage = await TableStorage.open(catalog, { threads: 2 });
  const engine = await Engine.open({
    dataDir: root,
    readableDirs: [join(root, TABLES_DIR)],
    setupSql: [...COMPAT_SCHEMA, 'SET GLOBAL parquet_metadata_cache = true'],
    threads: 2,
  });
  const parser = await SqlParser.open();
  const sessions: TableExecutor[] = [];
  return {
    dataDir: root,
    engine,
    catalog,
    storage,
    parser,
    async session() {
      const s = new TableExecutor(await engine.createSession(), storage, parser);
      sessions.push(s);
      return s;
    },
    async dispose() {
      for (const s of sessions) await s.close();
      await engine.close();
      await storage.close();
      await catalog.close();
      parser.close();
      if (!dataDir) rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Rows as JSON-comparable values: bigint → number when safe, otherwise text; DuckDB values → strings. */
export function plain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return String(value);
}

/** Runs one statement through a session executor; returns its rows as plain values and its tag. */
export async function q(
  session: SessionExecutor,
  sql: string,
  params: readonly DuckDBValue[] = [],
  hints: readonly (DuckDBType | null)[] = [],
): Promise<{ rows: unknown[][]; tag: string }> {
  const o = await run(session, sql, params, hints);
  return { rows: o.rows.map((r) => r.map(plain)), tag: o.commandTag };
}

/** A plain in-memory DuckDB to compare with: the same statements, DuckDB's own answer. */
export async function referenceDuckDB(): Promise<{ conn: DuckDBConnection; close(): void }> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  return {
    conn,
    close() {
      conn.closeSync();
      db.closeSync();
    },
  };
}

/** The rows of a query on the reference DuckDB, as plain values. */
export async function duckRows(conn: DuckDBConnection, sql: string): Promise<unknown[][]> {
  const r = await conn.runAndReadAll(sql);
  return r.getRows().map((row) => row.map(plain));
}
