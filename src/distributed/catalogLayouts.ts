import type { DataFile, TableEntry } from '../catalog/CatalogModel.js';
import type { CatalogView } from '../catalog/CatalogView.js';
import type { ScanSql } from '../planner/RelationBuilder.js';
import type {
  ColumnStat,
  LayoutColumn,
  LayoutFile,
  LayoutRowGroup,
  TableDistribution,
  TableLayout,
} from '../planner/types.js';
import { buildRelation } from '../storage/buildRelation.js';

/** Prefix of the pseudo-file standing for a table's inline rows (small inserts not yet in Parquet). */
const INLINE_PREFIX = 'inline:';

/** What planQuery needs from one catalog snapshot. */
export interface CatalogLayouts {
  /** Every table of the snapshot, keyed as planQuery looks them up (`name`; `schema.name` outside public). */
  readonly tables: ReadonlyMap<string, TableLayout>;
  /** How a task reads some files of a table: merge-on-read deletes and inline rows included. */
  readonly scanSql: ScanSql;
}

/**
 * The planner's view of a catalog snapshot: each table's columns, files (with row counts net of deleted
 * rows, and per-column min/max by column name), and distribution. A table's inline rows appear as one
 * pseudo-file per hash bucket (or one for the table), without statistics, so they are never pruned and
 * ride with whichever task reads that bucket.
 *
 * `root` is the data directory as the workers see it (on one machine, the coordinator's).
 */
export function catalogLayouts(
  view: CatalogView,
  root: string,
  rowGroups: (path: string) => readonly LayoutRowGroup[] | undefined = () => undefined,
): CatalogLayouts {
  const tables = new Map<string, TableLayout>();
  const entries = new Map<TableLayout, { entry: TableEntry; files: Map<string, DataFile> }>();
  for (const entry of view.tables()) {
    const layout = tableLayout(view, entry, rowGroups);
    const key = entry.def.schema === 'public' || entry.def.schema === 'main' ? '' : `${entry.def.schema}.`;
    const name = `${key}${entry.def.name}`;
    // PostgreSQL's public and DuckDB's main are both searched for an unqualified name: public wins.
    if (tables.has(name) && entry.def.schema !== 'public') continue;
    tables.set(name, layout);
    entries.set(layout, { entry, files: new Map(entry.files.map((f) => [f.path, f])) });
  }
  const scanSql: ScanSql = (layout, files) => {
    const known = entries.get(layout);
    if (!known) throw new Error(`table ${layout.name} is not in this catalog snapshot`);
    const fileIds = new Set<number>();
    const rowRanges = new Map<number, { start: number; end: number }[]>();
    const whole = new Set<number>();
    const inlineBuckets = new Set<number | null>();
    for (const f of files) {
      if (f.path.startsWith(INLINE_PREFIX)) inlineBuckets.add(f.bucket ?? null);
      else {
        const data = known.files.get(f.path);
        if (!data) throw new Error(`file ${f.path} is not a file of table ${layout.name}`);
        fileIds.add(data.id);
        if (!f.rowRange) whole.add(data.id);
        else rowRanges.set(data.id, [...(rowRanges.get(data.id) ?? []), f.rowRange]);
      }
    }
    for (const id of whole) rowRanges.delete(id);
    const inlineIds = new Set<number>();
    for (const batch of known.entry.inline)
      for (const row of batch.rows) if (inlineBuckets.has(row.bucket)) inlineIds.add(row.id);
    if (rowRanges.size === 0)
      return buildRelation(known.entry, { root, fileIds, inline: inlineIds.size > 0, inlineIds });
    // Each file cut by row ranges is read on its own: a range over one read_parquet of one file is a
    // plain conjunction DuckDB turns into skipped row groups, where an OR across files makes it read
    // (and number) every row.
    const parts: string[] = [];
    const uncut = new Set([...fileIds].filter((id) => !rowRanges.has(id)));
    if (uncut.size > 0 || inlineIds.size > 0)
      parts.push(buildRelation(known.entry, { root, fileIds: uncut, inline: inlineIds.size > 0, inlineIds }));
    for (const [id, ranges] of rowRanges) {
      parts.push(
        buildRelation(known.entry, {
          root,
          fileIds: new Set([id]),
          inline: false,
          rowRanges: new Map([[id, ranges]]),
        }),
      );
    }
    return parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join(' UNION ALL ');
  };
  return { tables, scanSql };
}

function tableLayout(
  view: CatalogView,
  entry: TableEntry,
  rowGroups: (path: string) => readonly LayoutRowGroup[] | undefined,
): TableLayout {
  const columnName = new Map(entry.def.columns.map((c) => [String(c.id), c.name]));
  const columns: LayoutColumn[] = entry.def.columns.map((c) => ({ name: c.name, type: c.type }));
  const files: LayoutFile[] = entry.files.map((f) => {
    const stats: Record<string, ColumnStat> = {};
    for (const [id, s] of Object.entries(f.stats)) {
      const name = columnName.get(id);
      if (name !== undefined) stats[name] = { min: s.min, max: s.max, nulls: s.nullCount };
    }
    const groups = rowGroups(f.path);
    return {
      path: f.path,
      rows: f.rows - (entry.deletes.get(f.id)?.count ?? 0),
      bytes: f.bytes,
      // Row groups count every row the file holds; with deletes the file's rows are fewer, so it is
      // not cut (a task then reads it whole).
      ...(groups && !entry.deletes.has(f.id) ? { rowGroups: groups } : {}),
      ...(f.bucket === null ? {} : { bucket: f.bucket }),
      stats,
    };
  });
  const inlineRows = new Map<number | null, number>();
  for (const batch of entry.inline)
    for (const row of batch.rows) inlineRows.set(row.bucket, (inlineRows.get(row.bucket) ?? 0) + 1);
  for (const [bucket, rows] of inlineRows) {
    files.push({
      path: `${INLINE_PREFIX}${entry.def.id}:${bucket ?? 'all'}`,
      rows,
      bytes: 0,
      ...(bucket === null ? {} : { bucket }),
    });
  }
  return { name: entry.def.name, columns, files, distribution: distributionOf(view, entry) };
}

function distributionOf(view: CatalogView, entry: TableEntry): TableDistribution {
  const d = entry.def.distribution;
  if (d.kind !== 'hash') return { kind: d.kind };
  const group = view.colocationGroup(d.group);
  const column = entry.def.columns.find((c) => c.id === d.column);
  // The planner prunes buckets with hash(CAST(value AS <column type>)) and joins bucket i with bucket i;
  // the storage hashed the value cast to the group's key type. DuckDB hashes -5::INTEGER and -5::BIGINT
  // differently, so unless the types are the same such a table is planned as balanced (files split
  // anyhow), never pruned or joined by bucket.
  if (!group || !column || group.keyType.toUpperCase() !== column.type.toUpperCase())
    return { kind: 'balanced' };
  return { kind: 'hash', column: column.name, buckets: group.buckets, colocationGroup: String(group.id) };
}
