import { join } from 'node:path';
import {
  type DataFile,
  type InlineBatch,
  type InlineRow,
  ROW_ID_FILE_FACTOR,
  type TableEntry,
} from '../catalog/CatalogModel.js';
import { columnAlias, decodeFromFile, decodeFromInline, missingValue, physicalName } from './columnCodec.js';
import { integerList, quoteIdent, quoteLiteral, stringList } from './sqlText.js';

/** The pseudo-column a relation built with `rowId: true` adds: what deleteRowIds takes. */
export const ROW_ID_COLUMN = '__mallard_rowid';

export interface RelationOptions {
  /** Absolute data directory on the machine that runs the SQL (a worker may mount it elsewhere). */
  readonly root: string;
  /** Add ROW_ID_COLUMN: `fileId * 2^32 + position` for file rows, `-id` for inline rows. */
  readonly rowId?: boolean;
  /** Only this hash bucket's files and inline rows. */
  readonly bucket?: number;
  /** Only these data files (default: all). */
  readonly fileIds?: ReadonlySet<number>;
  /** Include the inline buffer (default true). */
  readonly inline?: boolean;
  /** Only these inline row ids (default: all). */
  readonly inlineIds?: ReadonlySet<number>;
  /**
   * Only rows `[start, end)` by position (`file_row_number`) of these data files, by file id; files not
   * named are read whole. DuckDB skips the row groups outside the range.
   */
  readonly rowRanges?: ReadonlyMap<number, readonly { readonly start: number; readonly end: number }[]>;
}

/**
 * SQL for a table's rows at one catalog version, with the table's column names and types:
 *
 *     read_parquet([files], file_row_number=true) ANTI JOIN (deleted positions) UNION ALL (inline rows)
 *
 * Files are grouped by the columns they physically hold (ADD/DROP COLUMN leave older files as they
 * were); each group is one read_parquet, so DuckDB scans it in parallel and pushes filters into it.
 * Deleted positions (merge-on-read) are anti-joined on (file_index, file_row_number).
 */
export function buildRelation(table: TableEntry, options: RelationOptions): string {
  const cols = table.def.columns;
  const files = table.files.filter(
    (f) =>
      (options.bucket === undefined || f.bucket === options.bucket) &&
      (options.fileIds === undefined || options.fileIds.has(f.id)),
  );
  const parts: string[] = [];
  const groups = new Map<string, DataFile[]>();
  for (const f of files) {
    const key = [...f.columns].sort((a, b) => a - b).join(',');
    const g = groups.get(key);
    if (g) g.push(f);
    else groups.set(key, [f]);
  }
  for (const group of groups.values()) parts.push(fileGroupSql(table, group, options));
  if (options.inline !== false) {
    const rowsByColumns = new Map<string, { batch: InlineBatch; rows: InlineRow[] }>();
    for (const b of table.inline) {
      const rows = b.rows.filter(
        (r) =>
          (options.bucket === undefined || r.bucket === options.bucket) &&
          (options.inlineIds === undefined || options.inlineIds.has(r.id)),
      );
      if (!rows.length) continue;
      const key = b.columns.join(',');
      const g = rowsByColumns.get(key);
      if (g) g.rows.push(...rows);
      else rowsByColumns.set(key, { batch: b, rows });
    }
    for (const { batch, rows } of rowsByColumns.values())
      parts.push(inlineSql(table, batch.columns, rows, options));
  }
  if (!parts.length) {
    const select = cols.map((c) => `${missingValueNull(c.type)} AS ${columnAlias(c)}`);
    if (options.rowId) select.push(`CAST(NULL AS BIGINT) AS ${ROW_ID_COLUMN}`);
    return `SELECT ${select.join(', ')} LIMIT 0`;
  }
  return parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join(' UNION ALL ');
}

function fileGroupSql(table: TableEntry, files: readonly DataFile[], options: RelationOptions): string {
  const present = new Set(files[0]!.columns);
  const select = table.def.columns.map(
    (c) =>
      `${present.has(c.id) ? decodeFromFile(c, `d.${quoteIdent(physicalName(c))}`) : missingValue(c)} AS ${columnAlias(c)}`,
  );
  const deleted: string[] = [];
  files.forEach((f, i) => {
    const d = table.deletes.get(f.id);
    if (!d) return;
    if (d.positions.length) {
      deleted.push(
        `SELECT CAST(${i} AS UBIGINT) AS fi, CAST(unnest(${integerList(d.positions)}) AS BIGINT) AS pos`,
      );
    }
    if (d.files.length) {
      const paths = d.files.map((x) => join(options.root, x.path));
      deleted.push(`SELECT CAST(${i} AS UBIGINT) AS fi, pos FROM read_parquet(${stringList(paths)})`);
    }
  });
  const ranges = files.flatMap((f, i) => (options.rowRanges?.get(f.id) ?? []).map((r) => ({ i, r })));
  const positional = options.rowId || deleted.length > 0 || ranges.length > 0;
  if (options.rowId) {
    const rowId =
      files.length === 1
        ? `${files[0]!.id * ROW_ID_FILE_FACTOR} + d.file_row_number`
        : `CAST(${integerList(files.map((f) => f.id))}[CAST(d.file_index AS BIGINT) + 1] AS BIGINT) * ${ROW_ID_FILE_FACTOR} + d.file_row_number`;
    select.push(`${rowId} AS ${ROW_ID_COLUMN}`);
  }
  const paths = stringList(files.map((f) => join(options.root, f.path)));
  // hive_partitioning=false: bucket directories are named `__bucket=<n>`, which must not become a column.
  let sql = `SELECT ${select.join(', ')} FROM read_parquet(${paths}, hive_partitioning=false${positional ? ', file_row_number=true' : ''}) AS d`;
  if (deleted.length) {
    sql += ` ANTI JOIN (${deleted.join(' UNION ALL ')}) AS x ON d.file_index = x.fi AND d.file_row_number = x.pos`;
  }
  if (ranges.length) {
    const whole = files.flatMap((f, i) => (options.rowRanges?.has(f.id) ? [] : [`d.file_index = ${i}`]));
    const cut = ranges.map(
      ({ i, r }) =>
        `(d.file_index = ${i} AND d.file_row_number >= ${r.start} AND d.file_row_number < ${r.end})`,
    );
    sql += ` WHERE ${[...whole, ...cut].join(' OR ')}`;
  }
  return sql;
}

function inlineSql(
  table: TableEntry,
  columns: readonly number[],
  rows: readonly InlineRow[],
  options: RelationOptions,
): string {
  const index = new Map(columns.map((id, i) => [id, i]));
  const select = table.def.columns.map((c) => {
    const i = index.get(c.id);
    return `${i === undefined ? missingValue(c) : decodeFromInline(c, `v.v${i}`)} AS ${columnAlias(c)}`;
  });
  if (options.rowId) select.push(`CAST(-v.id AS BIGINT) AS ${ROW_ID_COLUMN}`);
  const values = rows.map(
    (r) => `(${[String(r.id), ...r.values.map((x) => (x === null ? 'NULL' : quoteLiteral(x)))].join(', ')})`,
  );
  const names = ['id', ...columns.map((_, i) => `v${i}`)].join(', ');
  return `SELECT ${select.join(', ')} FROM (VALUES ${values.join(', ')}) AS v(${names})`;
}

function missingValueNull(type: string): string {
  return `CAST(NULL AS ${type})`;
}
