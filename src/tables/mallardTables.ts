import type { CatalogView } from '../catalog/CatalogView.js';

/** The system views the table layer answers, by lower-cased name. */
export const SYSTEM_VIEWS: ReadonlySet<string> = new Set(['mallard_tables']);

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
  if (!rows.length)
    return `SELECT ${COLUMNS.map(([n, t]) => `CAST(NULL AS ${t}) AS ${n}`).join(', ')} LIMIT 0`;
  const typed = COLUMNS.map(([n, t]) => `CAST(v.${n} AS ${t}) AS ${n}`);
  return `SELECT ${typed.join(', ')} FROM (VALUES ${rows.join(', ')}) AS v(${COLUMNS.map(([n]) => n).join(', ')})`;
}

function literal(text: string | null): string {
  return text === null ? 'NULL' : `'${text.replaceAll("'", "''")}'`;
}
