import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { WrittenTableFile } from '../../protocol/cluster/messages.js';
import { type CopyStatsRow, writtenFileOf } from '../../worker/TableWriteTask.js';
import type { ColumnDef, ColumnStats, DataFile, DeleteFile, TableDef } from '../catalog/CatalogModel.js';
import { tableDir } from '../catalog/dataPaths.js';
import { fsyncDir, fsyncFile, mkdirDurably } from '../catalog/durableFs.js';
import { encodeForFile, physicalName } from './columnCodec.js';
import { bucketExpr } from './hashBucket.js';
import { bindArgs, type SqlParams } from './sqlParams.js';
import { quoteIdent, quoteLiteral } from './sqlText.js';

export interface FileWriteOptions {
  readonly dataDir: string;
  readonly table: TableDef;
  /** The bucket count of a hash-distributed table; null writes balanced files. */
  readonly buckets: number | null;
  readonly rowGroupSize: number;
  /** Balanced files get this many row groups each (the last one fewer). */
  readonly rowGroupsPerFile: number;
  readonly compression: string;
  /** Whether Parquet's min/max of a column are worth recording (see resolveColumnType). */
  readonly minMaxStats: (c: ColumnDef) => boolean;
  readonly allocateIds: (n: number) => number;
  /** Called with the write directory (relative) before anything is written in it. */
  readonly onDirectory?: (dir: string) => void;
}

/** The files one write produced, fsynced, with their directory fsynced too. */
export interface WrittenFiles {
  readonly dir: string;
  readonly files: readonly DataFile[];
  readonly rows: number;
}

/**
 * Writes the rows of `sourceSql` (positionally, one column per table column) into new Parquet files in
 * a fresh directory `tables/<table>/<uuid>/`, with DuckDB's COPY. Balanced tables get files of
 * `rowGroupsPerFile` row groups; hash tables one file per non-empty bucket (`__bucket=<n>/`). Per-file
 * row counts, sizes and column statistics come from COPY's RETURN_STATS. Every file and directory is
 * fsynced before this returns, so a catalog commit may reference them.
 */
export async function writeTableFiles(
  conn: DuckDBConnection,
  options: FileWriteOptions,
  sourceSql: string,
  params: SqlParams = [],
): Promise<WrittenFiles> {
  const t = options.table;
  const dir = `${tableDir(t.id)}/${randomUUID()}`;
  const abs = join(options.dataDir, dir);
  options.onDirectory?.(dir);
  await mkdirDurably(abs);
  try {
    const copyOptions = [
      'FORMAT parquet',
      `COMPRESSION ${options.compression}`,
      `ROW_GROUP_SIZE ${options.rowGroupSize}`,
      "FILENAME_PATTERN 'part_{i}'",
      'RETURN_STATS',
    ];
    // DuckDB cannot rotate files inside PARTITION_BY; a bucket is one file per write, compacted later.
    if (options.buckets !== null) copyOptions.push(`PARTITION_BY (${BUCKET_COLUMN})`);
    else copyOptions.push(`ROW_GROUPS_PER_FILE ${options.rowGroupsPerFile}`);
    const select = tableFileSelect(t, options.buckets, sourceSql);
    const sql = `COPY (${select}) TO ${quoteLiteral(abs)} (${copyOptions.join(', ')})`;
    const reader = await conn.runAndReadAll(sql, ...bindArgs(params));
    const written = reader.getRowObjectsJson() as unknown as CopyStatsRow[];
    const files: DataFile[] = [];
    const dirs = new Set<string>([abs]);
    let rows = 0;
    for (const w of written) {
      const count = Number(w.count);
      if (count === 0) {
        await rm(w.filename, { force: true });
        continue;
      }
      await fsyncFile(w.filename);
      dirs.add(dirname(w.filename));
      files.push(
        dataFileOf(
          options,
          writtenFileOf(w, options.dataDir, options.buckets === null ? undefined : BUCKET_COLUMN),
        ),
      );
      rows += count;
    }
    for (const d of dirs) await fsyncDir(d);
    return { dir, files, rows };
  } catch (err) {
    await rm(abs, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Writes positions (the BIGINT column `pos` of `positionsSql`) as a delete file for one data file,
 * fsynced. Returns its catalog record.
 */
export async function writeDeleteFile(
  conn: DuckDBConnection,
  dataDir: string,
  tableId: number,
  positionsSql: string,
  onDirectory?: (dir: string) => void,
): Promise<DeleteFile> {
  const dir = `${tableDir(tableId)}/${randomUUID()}`;
  const abs = join(dataDir, dir);
  onDirectory?.(dir);
  await mkdirDurably(abs);
  try {
    const file = join(abs, 'deletes.parquet');
    const reader = await conn.runAndReadAll(
      `COPY (SELECT CAST(pos AS BIGINT) AS pos FROM (${positionsSql}) ORDER BY pos) TO ${quoteLiteral(file)} (FORMAT parquet, RETURN_STATS)`,
    );
    const w = reader.getRowObjectsJson()[0] as unknown as CopyStatsRow;
    await fsyncFile(file);
    await fsyncDir(abs);
    return { path: `${dir}/deletes.parquet`, rows: Number(w.count), bytes: Number(w.file_size_bytes) };
  } catch (err) {
    await rm(abs, { recursive: true, force: true });
    throw err;
  }
}

/** The column a bucketed write partitions its files by (one folder `__bucket=<n>` per bucket). */
export const BUCKET_COLUMN = '__bucket';

/**
 * The SELECT a write turns into files: `sourceSql`'s columns (positionally, one per table column) in their
 * file encoding under their physical names, plus BUCKET_COLUMN for a table written in `buckets` buckets.
 */
export function tableFileSelect(t: TableDef, buckets: number | null, sourceSql: string): string {
  const select = t.columns.map(
    (c, i) => `${encodeForFile(c, `src.a${i}`)} AS ${quoteIdent(physicalName(c))}`,
  );
  if (buckets !== null) {
    if (t.distribution.kind !== 'hash') throw new Error(`table ${t.name} is not hash-distributed`);
    const keyColumn = t.distribution.column;
    const k = t.columns.findIndex((c) => c.id === keyColumn);
    select.push(`${bucketExpr(`CAST(src.a${k} AS ${t.columns[k]!.type})`, buckets)} AS ${BUCKET_COLUMN}`);
  }
  const names = t.columns.map((_, i) => `a${i}`).join(', ');
  return `SELECT ${select.join(', ')} FROM (${sourceSql}) AS src(${names})`;
}

/** The catalog record of a file a write produced (here or on a worker), with a fresh id. */
export function dataFileOf(
  options: Pick<FileWriteOptions, 'table' | 'minMaxStats' | 'allocateIds'>,
  file: WrittenTableFile,
): DataFile {
  const t = options.table;
  const out: Record<string, ColumnStats> = {};
  for (const c of t.columns) {
    // Top-level columns only: nested leaves are keyed `"c3"."field"`.
    const s = file.columns[quoteIdent(physicalName(c))];
    if (!s) continue;
    const wantMinMax = options.minMaxStats(c);
    const nulls = s['null_count'];
    out[String(c.id)] = {
      min: wantMinMax ? (s['min'] ?? null) : null,
      max: wantMinMax ? (s['max'] ?? null) : null,
      nullCount: nulls === undefined ? null : Number(nulls),
    };
  }
  return {
    id: options.allocateIds(1),
    path: file.path,
    rows: file.rows,
    bytes: file.bytes,
    bucket: file.bucket,
    columns: t.columns.map((c) => c.id),
    stats: out,
  };
}
