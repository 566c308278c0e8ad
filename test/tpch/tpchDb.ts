import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { tpchViewsSql } from '../../src/tpch/load.js';

/** A plain in-memory DuckDB with the TPC-H views over the files in one directory. */
export interface TpchDb {
  readonly conn: DuckDBConnection;
  /** The rows of `sql` as JSON-friendly arrays (BIGINT and DECIMAL as strings). */
  rows(sql: string): Promise<unknown[][]>;
  /** The one value of `sql`, as a number. */
  number(sql: string): Promise<number>;
  close(): void;
}

export async function openTpchDb(dir: string): Promise<TpchDb> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  for (const sql of tpchViewsSql(dir)) await conn.run(sql);
  const rows = async (sql: string) => (await conn.runAndReadAll(sql)).getRowsJson() as unknown[][];
  return {
    conn,
    rows,
    async number(sql) {
      const r = await rows(sql);
      if (r.length !== 1 || r[0]!.length !== 1) throw new Error(`expected one value from: ${sql}`);
      return Number(r[0]![0]);
    },
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}
