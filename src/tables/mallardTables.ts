import type { CatalogView } from '../catalog/CatalogView.js';

/** The system views the table layer answers, by lower-cased name, and their SQL over a snapshot. */
export const SYSTEM_VIEW_SQL: ReadonlyMap<string, (view: CatalogView) => string> = new Map([
  ['mallard_tables', mallardTablesSql],
  ['mallard_table_files', mallardTableFilesSql],
]);

const COLUMNS: readonly (readonly [string, string])[] = [
  ['schema_name', 'VARCHAR'],
  ['table_name', 'VARCHAR'],
  ['distribution', 'VARCHAR'],
  ['distribution_column', 'VARCHAR'],
  ['buckets', 'INTEGER'],
  ['colocation_group', 'INTEGER'],
  ['files', 'BIGINT'],
  ['rows', 'BIGINT'],
  ['bytes', 'BIGINT'],
  ['inline_rows', 'BIGINT'],
  ['deleted_rows', 'BIGINT'],
  ['delete_files', 'BIGINT'],
];

/**
 * `mallard_tables`: one row per table of the snapshot: its distribution (balanced, hash with key and
 * buckets, reference), its data files, live rows, bytes on disk, rows still buffered inline, and the
 * pending delete records that compaction has not folded yet.
 */
export function mallardTablesSql(view: CatalogView): string {
  const rows: string[] = [];
  for (const t of view.tables()) {
    const d = t.def.distribution;
    let column: string | null = null;
    let buckets: number | null = null;
    let group: number | null = null;
    if (d.kind === 'hash') {
      column = t.def.columns.find((c) => c.id === d.column)?.name ?? null;
      group = d.group;
      buckets = view.colocationGroup(d.group)?.buckets ?? null;
    }
    let bytes = 0;
    let deleted = 0;
    let deleteFiles = 0;
    for (const f of t.files) bytes += f.bytes;
    for (const s of t.deletes.values()) {
      deleted += s.count;
      deleteFiles += s.files.length;
      for (const df of s.files) bytes += df.bytes;
    }
    const inline = t.inline.reduce((n, b) => n + b.rows.length, 0);
    rows.push(
      `(${[
        literal(t.def.schema),
        literal(t.def.name),
        literal(d.kind),
        literal(column),
        String(buckets ?? 'NULL'),
        String(group ?? 'NULL'),
        String(t.files.length),
        String(view.rowCount(t.def.id)),
        String(bytes),
        String(inline),
        String(deleted),
        String(deleteFiles),
      ].join(', ')})`,
    );
  }
  return valuesSql(COLUMNS, rows);
}

const FILE_COLUMNS: readonly (readonly [string, string])[] = [
  ['schema_name', 'VARCHAR'],
  ['table_name', 'VARCHAR'],
  ['kind', 'VARCHAR'],
  ['file_id', 'BIGINT'],
  ['path', 'VARCHAR'],
  ['bucket', 'INTEGER'],
  ['rows', 'BIGINT'],
  ['live_rows', 'BIGINT'],
  ['bytes', 'BIGINT'],
  ['deleted_rows', 'BIGINT'],
  ['delete_files', 'BIGINT'],
  ['delete_bytes', 'BIGINT'],
];

/**
 * `mallard_table_files`: one row per data file of each table of the snapshot (`kind` 'parquet'): its
 * path in the data directory, hash bucket, rows written, rows still live, bytes, and the delete
 * records against it that compaction has not folded yet (deleted rows, and the delete files holding
 * some of them with their bytes). Rows buffered inline in the catalog show as one `kind` 'inline'
 * row per table, without a path.
 */
export function mallardTableFilesSql(view: CatalogView): string {
  const rows: string[] = [];
  for (const t of view.tables()) {
    for (const f of t.files) {
      const d = t.deletes.get(f.id);
      const deleteBytes = d?.files.reduce((n, df) => n + df.bytes, 0) ?? 0;
      rows.push(
        `(${[
          literal(t.def.schema),
          literal(t.def.name),
          "'parquet'",
          String(f.id),
          literal(f.path),
          String(f.bucket ?? 'NULL'),
          String(f.rows),
          String(f.rows - (d?.count ?? 0)),
          String(f.bytes),
          String(d?.count ?? 0),
          String(d?.files.length ?? 0),
          String(deleteBytes),
        ].join(', ')})`,
      );
    }
    const inline = t.inline.reduce((n, b) => n + b.rows.length, 0);
    if (inline > 0) {
      rows.push(
        `(${[literal(t.def.schema), literal(t.def.name), "'inline'", 'NULL', 'NULL', 'NULL', String(inline), String(inline), 'NULL', '0', '0', '0'].join(', ')})`,
      );
    }
  }
  return valuesSql(FILE_COLUMNS, rows);
}

/** A typed relation over VALUES rows, or no rows with the same columns. */
function valuesSql(columns: readonly (readonly [string, string])[], rows: readonly string[]): string {
  if (!rows.length)
    return `SELECT ${columns.map(([n, t]) => `CAST(NULL AS ${t}) AS ${n}`).join(', ')} LIMIT 0`;
  const typed = columns.map(([n, t]) => `CAST(v.${n} AS ${t}) AS ${n}`);
  return `SELECT ${typed.join(', ')} FROM (VALUES ${rows.join(', ')}) AS v(${columns.map(([n]) => n).join(', ')})`;
}

function literal(text: string | null): string {
  return text === null ? 'NULL' : `'${text.replaceAll("'", "''")}'`;
}
