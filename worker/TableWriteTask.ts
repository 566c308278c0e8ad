import { mkdir, open, readdir, rm, rmdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { type DuckDBConnection, type DuckDBMaterializedResult, listValue } from '@duckdb/node-api';
import { TABLES_DIR, type TableWrite, type WrittenTableFile } from '../protocol/cluster/messages.js';
import { quoteIdent, quoteLiteral } from '../protocol/cluster/taskDialect.js';

/** A table write the worker refuses to run (a folder outside TABLES_DIR). */
export class TableWriteRejected extends Error {}

/**
 * Runs one attempt of a table write: the SELECT's rows go to new Parquet files in
 * `<dir>/t<task>a<attempt>`
 * (through DuckDB's COPY, which reports each file's rows, size and column statistics), every file and
 * folder is fsynced, and the result is one row, `written`, the files as a JSON list of WrittenTableFile.
 * The coordinator commits them to the catalog only after this returns, so the bytes are durable first.
 */
export async function runTableWrite(
  connection: DuckDBConnection,
  dataDir: string,
  sql: string,
  write: TableWrite,
  task: { readonly taskId: number; readonly attempt: number },
  files: readonly string[],
): Promise<DuckDBMaterializedResult> {
  const folder = resolveWriteFolder(dataDir, write.dir, `t${task.taskId}a${task.attempt}`);
  // A folder an earlier run of this very attempt left (never committed: its task did not succeed).
  await rm(folder, { recursive: true, force: true });
  const created = await mkdir(folder, { recursive: true });
  const options = [
    'FORMAT parquet',
    `COMPRESSION ${quoteLiteral(write.compression)}`,
    `ROW_GROUP_SIZE ${Math.max(1, Math.trunc(write.rowGroupSize))}`,
    "FILENAME_PATTERN 'part_{i}'",
    'RETURN_STATS',
  ];
  if (write.partitionBy !== undefined) options.push(`PARTITION_BY (${quoteIdent(write.partitionBy)})`);
  else options.push(`ROW_GROUPS_PER_FILE ${Math.max(1, Math.trunc(write.rowGroupsPerFile ?? 1))}`);
  const copy = `COPY (${sql}) TO ${quoteLiteral(folder)} (${options.join(', ')})`;
  const reader = await connection.runAndReadAll(
    copy,
    files.length ? { files: listValue([...files]) } : undefined,
  );
  const rows = reader.getRowObjectsJson() as unknown as CopyStatsRow[];
  const written: WrittenTableFile[] = [];
  const folders = new Set<string>([folder, dirname(folder)]);
  for (const row of rows) {
    const count = Number(row.count);
    if (count === 0) {
      await rm(row.filename, { force: true });
      continue;
    }
    await fsync(row.filename);
    folders.add(dirname(row.filename));
    written.push(writtenFileOf(row, dataDir, write.partitionBy));
  }
  // The names of the new files and folders, up to the first folder mkdir created, are durable too.
  if (created !== undefined) {
    for (let d = dirname(folder); d.length >= dirname(created).length; d = dirname(d)) {
      folders.add(d);
      if (d === dirname(created)) break;
    }
  }
  for (const d of folders) await fsync(d);
  await removeEmptyBuckets(folder);
  return connection.run('SELECT CAST($1 AS VARCHAR) AS written', [JSON.stringify(written)]);
}

/** `<dataDir>/<dir>/<name>`, refused unless `dir` lies strictly inside `<dataDir>/tables`. */
function resolveWriteFolder(dataDir: string, dir: string, name: string): string {
  const root = resolve(dataDir, TABLES_DIR);
  const path = resolve(dataDir, dir);
  const within = relative(root, path);
  if (within === '' || within.startsWith('..') || isAbsolute(within)) {
    throw new TableWriteRejected(`table write folder ${dir} lies outside ${root}`);
  }
  return join(path, name);
}

/** Bucket folders whose only file held no rows (and was removed). */
async function removeEmptyBuckets(folder: string): Promise<void> {
  for (const e of await readdir(folder, { withFileTypes: true })) {
    if (e.isDirectory()) await rmdir(join(folder, e.name)).catch(() => {});
  }
}

async function fsync(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The record of the file one row of COPY ... RETURN_STATS describes: its path relative to `dataDir`,
 * its rows and bytes, its bucket (the value of the `partitionBy` column), and its column statistics.
 */
export function writtenFileOf(row: CopyStatsRow, dataDir: string, partitionBy?: string): WrittenTableFile {
  const bucket =
    partitionBy === undefined ? undefined : row.partition_keys?.find((p) => p.key === partitionBy)?.value;
  return {
    path: relative(dataDir, row.filename).split(sep).join('/'),
    rows: Number(row.count),
    bytes: Number(row.file_size_bytes),
    bucket: bucket === undefined ? null : Number(bucket),
    columns: Object.fromEntries(
      (row.column_statistics ?? []).map((e) => [
        e.key,
        Object.fromEntries(e.value.map((kv) => [kv.key, kv.value])),
      ]),
    ),
  };
}

/** One row of COPY ... RETURN_STATS in @duckdb/node-api's JSON form (MAPs are key/value lists). */
export interface CopyStatsRow {
  readonly filename: string;
  readonly count: string;
  readonly file_size_bytes: string;
  readonly column_statistics:
    | readonly { key: string; value: readonly { key: string; value: string }[] }[]
    | null;
  readonly partition_keys: readonly { key: string; value: string }[] | null;
}
