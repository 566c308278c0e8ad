import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { Decimal, type RecordBatch } from 'apache-arrow';

export const FILES = 16;
export const ROWS_PER_FILE = 25_000;
export const BIG_FILES = 6;
export const BIG_ROWS_PER_FILE = 500_000;

/** Parquet files written by DuckDB itself into a temp data directory, and a plain DuckDB to check against. */
export interface TestData {
  dir: string;
  /** `part-NN.parquet`, relative to dir: ids [n*25000, (n+1)*25000). */
  files: string[];
  /** `big/big-N.parquet`: 3,000,000 rows in all. */
  bigFiles: string[];
  /** Single-node DuckDB over the same files, unsandboxed: the reference every cluster result must equal. */
  reference: DuckDBConnection;
  close(): void;
}

export async function makeTestData(): Promise<TestData> {
  const dir = mkdtempSync(join(tmpdir(), 'mallard-cluster-data-'));
  mkdirSync(join(dir, 'big'));
  const instance = await DuckDBInstance.create(':memory:');
  const reference = await instance.connect();
  const files: string[] = [];
  for (let f = 0; f < FILES; f++) {
    const file = `part-${String(f).padStart(2, '0')}.parquet`;
    files.push(file);
    await reference.run(`
      COPY (SELECT id, (id % 97)::INTEGER AS k,
                   CASE WHEN id % 5 = 0 THEN 'a longer value that lives on the string heap #' || id ELSE 'r' || id END AS s,
                   (id * 0.25)::DOUBLE AS v, id % 3 = 0 AS flag, ((id % 100000) * 1.25 - 7)::DECIMAL(12,2) AS amount
            FROM range(${f * ROWS_PER_FILE}, ${(f + 1) * ROWS_PER_FILE}) t(id))
      TO '${join(dir, file)}' (FORMAT parquet)`);
  }
  const bigFiles: string[] = [];
  for (let f = 0; f < BIG_FILES; f++) {
    const file = `big/big-${f}.parquet`;
    bigFiles.push(file);
    await reference.run(`
      COPY (SELECT id, 'r' || id AS s FROM range(${f * BIG_ROWS_PER_FILE}, ${(f + 1) * BIG_ROWS_PER_FILE}) t(id))
      TO '${join(dir, file)}' (FORMAT parquet)`);
  }
  return {
    dir,
    files,
    bigFiles,
    reference,
    close() {
      reference.closeSync();
      instance.closeSync();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The file list of an SQL read_parquet over several files of the data directory. */
export function fileList(data: TestData, files: readonly string[]): string {
  return `[${files.map((f) => `'${join(data.dir, f)}'`).join(', ')}]`;
}

/** One row as text, the same way for DuckDB's values and Arrow's, so results compare as sorted lists. */
export function rowKey(values: readonly unknown[]): string {
  return values.map((v) => (v === null || v === undefined ? 'null' : String(v))).join('|');
}

/** The sorted row keys of a reference query (DuckDB renders its DECIMAL values with their scale). */
export async function referenceRows(data: TestData, sql: string): Promise<string[]> {
  const reader = await data.reference.runAndReadAll(sql);
  return reader
    .getRows()
    .map((row) => rowKey(row))
    .sort();
}

/** An Arrow decimal128 (an unscaled integer) as DuckDB writes it: `-12.50`. */
function decimalText(value: unknown, scale: number): string {
  const unscaled = BigInt(String(value));
  if (scale === 0) return unscaled.toString();
  const digits = (unscaled < 0n ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${unscaled < 0n ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** The sorted row keys of Arrow batches. */
export function arrowRows(batches: readonly RecordBatch[]): string[] {
  const keys: string[] = [];
  for (const batch of batches) {
    const columns = batch.schema.fields.map((field, i) => {
      const vector = batch.getChildAt(i)!;
      const scale = field.type instanceof Decimal ? field.type.scale : undefined;
      return (r: number) => {
        const value = vector.get(r);
        return scale === undefined || value === null ? value : decimalText(value, scale);
      };
    });
    for (let r = 0; r < batch.numRows; r++) keys.push(rowKey(columns.map((get) => get(r))));
  }
  return keys.sort();
}

/**
 * Asserts two sorted row lists are equal, naming the first difference. (uvu's deep-equal diff of lists
 * this long would take minutes.)
 */
export function assertSameRows(got: readonly string[], expected: readonly string[], what = 'rows'): void {
  const n = Math.min(got.length, expected.length);
  for (let i = 0; i < n; i++) {
    if (got[i] !== expected[i]) {
      throw new Error(`${what}: first difference at sorted row ${i}: got ${got[i]}, expected ${expected[i]}`);
    }
  }
  if (got.length !== expected.length) {
    throw new Error(`${what}: got ${got.length} rows, expected ${expected.length}`);
  }
}
