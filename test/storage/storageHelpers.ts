import type { DuckDBConnection } from '@duckdb/node-api';
import * as assert from 'uvu/assert';
import { PgError } from '../../protocol/pg/PgError.js';
import { Catalog, type CatalogOptions } from '../../src/catalog/Catalog.js';
import type { TableRef } from '../../src/catalog/CatalogModel.js';
import { TableStorage, type TableStorageOptions } from '../../src/storage/TableStorage.js';
import { removeDir, tempDataDir } from '../catalog/dataDirHelpers.js';

/** A catalog, its storage and a DuckDB connection on a fresh data directory. */
export interface Fixture {
  dir: string;
  catalog: Catalog;
  storage: TableStorage;
  conn: DuckDBConnection;
}

export async function openFixture(
  dir: string,
  options: TableStorageOptions = {},
  catalogOptions: CatalogOptions = {},
): Promise<Fixture> {
  const catalog = await Catalog.open(dir, catalogOptions);
  const storage = await TableStorage.open(catalog, { threads: 2, ...options });
  const conn = await storage.connect();
  return { dir, catalog, storage, conn };
}

export async function closeFixture(f: Fixture): Promise<void> {
  f.conn.closeSync();
  await f.storage.close();
  await f.catalog.close();
}

/** Runs `fn` against a fixture on a temp directory that is removed afterwards. */
export async function withStorage(
  fn: (f: Fixture) => Promise<void>,
  options: TableStorageOptions = {},
  catalogOptions: CatalogOptions = {},
): Promise<void> {
  const dir = await tempDataDir('mallard-storage-');
  const f = await openFixture(dir, options, catalogOptions);
  try {
    await fn(f);
  } finally {
    await closeFixture(f);
    await removeDir(dir);
  }
}

/** The rows of a table at the newest committed version, as JSON values, ordered by `orderBy`. */
export async function committedRows(
  f: Fixture,
  ref: TableRef,
  orderBy: string,
): Promise<Record<string, unknown>[]> {
  const snap = f.catalog.snapshot();
  try {
    const sql = `SELECT * FROM (${f.storage.relation(snap, ref)}) AS t ORDER BY ${orderBy}`;
    return (await f.conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    snap.release();
  }
}

/** The first column of the first row of a query. */
export async function scalar(conn: DuckDBConnection, sql: string): Promise<unknown> {
  return (await conn.runAndReadAll(sql)).getRowsJson()[0]?.[0];
}

export async function rejectsWith(p: Promise<unknown>, code: string): Promise<PgError> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof PgError)) throw err;
    assert.is(err.code, code, err.message);
    return err;
  }
  assert.unreachable(`expected SQLSTATE ${code}`);
  throw new Error('unreachable');
}
