import { packTasks } from './packTasks.js';
import type { SqlParser } from './SqlParser.js';
import { INTEGER_TYPES, quoteIdent, statLiteral } from './sqlText.js';
import type { LayoutFile, Partitioning, TableLayout } from './types.js';

/**
 * One task's share of a split table: some files (a file carrying `rowRange` contributes only those
 * rows), and, for a `range` or `modulo` split, a predicate every row of the share satisfies and no
 * row of another share does.
 */
export interface ScanShare {
  readonly files: readonly LayoutFile[];
  readonly filter?: ShareFilter;
}

/**
 * SQL over the table's own column names (a range of one column), or over `file_row_number` when
 * `positional` (the row's position in its file; only a plain read_parquet scan has it).
 */
export interface ShareFilter {
  readonly sql: string;
  readonly positional: boolean;
}

/** What splitFiles may use. */
export interface SplitOptions {
  /** How many tasks to aim for. */
  readonly target: number;
  /** Free worker slots: a range or modulo split is only made when there are fewer files than slots. */
  readonly slots: number;
  /** The scan can read part of a file (`LayoutFile.rowRange`); else files are never cut. */
  readonly rowRanges: boolean;
  /** The scan is read_parquet itself, so `file_row_number` is at hand for a modulo split. */
  readonly positional: boolean;
  /** A range or modulo split (each task reads every file) needs at least this many rows per task. */
  readonly minRowsPerTask: number;
  /** Drops row groups no matching row can be in (min/max statistics), as files are pruned. */
  readonly prune: (pieces: readonly LayoutFile[]) => Promise<readonly LayoutFile[]>;
  readonly parser: SqlParser;
}

/** How a table's files were divided, and the shares (one per task). */
export interface Split {
  readonly partitioning: Extract<Partitioning, 'files' | 'row-groups' | 'range' | 'modulo'>;
  readonly shares: readonly ScanShare[];
}

/** Types a range split can cut exactly (integer arithmetic on the statistics). */
const RANGE_TYPES: ReadonlySet<string> = new Set([...INTEGER_TYPES, 'DATE']);

/**
 * Divides `given` files (already pruned) of one table into about `target` shares, cheapest way first
 * (files without rows are left out):
 * 1. `files`: at least as many files as tasks, packed whole by weight.
 * 2. `row-groups`: files whose row groups the catalog lists are cut at row-group boundaries into
 *    contiguous runs of even weight (each share reads its runs with a `file_row_number` range, which
 *    DuckDB answers by skipping the other row groups). Row groups are pruned by their own statistics.
 * 3. `range`: value ranges of an integer or DATE column, cut evenly between its smallest minimum and
 *    largest maximum; NULLs go to the first share. Each share reads every file and DuckDB skips the row
 *    groups outside its range, so it pays when the column is clustered.
 * 4. `modulo`: `file_row_number % n` (a plain read_parquet) or a hash of the whole row (any other
 *    scan); every share reads every row.
 * Ranges and modulo are only used with fewer files than worker slots, at least `minRowsPerTask` rows
 * per share, and for more shares than there are files.
 */
export async function splitFiles(
  layout: TableLayout,
  given: readonly LayoutFile[],
  options: SplitOptions,
): Promise<Split> {
  // A file without rows (every row deleted, or written empty) adds nothing but a task.
  const files = given.filter((f) => f.rows > 0);
  const target = Math.max(1, options.target);
  const whole = (): Split => ({
    partitioning: 'files',
    shares: packTasks(files, (f) => f.bytes || f.rows, target).map((g) => ({ files: g })),
  });
  if (files.length >= target || target === 1) return whole();
  if (options.rowRanges && files.some((f) => (f.rowGroups?.length ?? 0) > 1)) {
    const pieces = await options.prune(rowGroupPieces(files));
    const runs = contiguousRuns(pieces, Math.min(target, pieces.length));
    return { partitioning: 'row-groups', shares: runs.map((run) => ({ files: mergeRanges(run, files) })) };
  }
  const rows = files.reduce((n, f) => n + f.rows, 0);
  const count = Math.min(target, Math.floor(rows / Math.max(1, options.minRowsPerTask)));
  // Every share of a range or modulo split reads every file: worth it only when slots would sit idle.
  if (count < 2 || count <= files.length || files.length >= options.slots) return whole();
  const ranges = await rangeFilters(layout, files, count, options.parser);
  if (ranges)
    return {
      partitioning: 'range',
      shares: ranges.map((sql) => ({ files, filter: { sql, positional: false } })),
    };
  const shares: ScanShare[] = [];
  const positional = options.positional;
  const rowHash = `hash(${layout.columns.map((c) => quoteIdent(c.name)).join(', ')})`;
  for (let i = 0; i < count; i++) {
    shares.push({
      files,
      filter: positional
        ? { sql: `file_row_number % ${count} = ${i}`, positional: true }
        : { sql: `${rowHash} % ${count} = ${i}`, positional: false },
    });
  }
  return { partitioning: 'modulo', shares };
}

/** Each row group of each file as a file of its own (with its row range); other files stay whole. */
function rowGroupPieces(files: readonly LayoutFile[]): LayoutFile[] {
  const out: LayoutFile[] = [];
  for (const f of files) {
    const groups = f.rowGroups ?? [];
    if (groups.length < 2) {
      out.push(f);
      continue;
    }
    const totalRows = groups.reduce((n, g) => n + g.rows, 0);
    let start = 0;
    for (const g of groups) {
      const end = start + g.rows;
      out.push({
        path: f.path,
        rows: g.rows,
        bytes: g.bytes ?? (totalRows ? Math.round((f.bytes * g.rows) / totalRows) : 0),
        ...(f.bucket === undefined ? {} : { bucket: f.bucket }),
        ...(g.stats ? { stats: g.stats } : {}),
        rowRange: { start, end },
      });
      start = end;
    }
  }
  return out;
}

/** Cuts the pieces, in order, into at most `count` runs of about equal weight. */
function contiguousRuns(pieces: readonly LayoutFile[], count: number): LayoutFile[][] {
  const weight = (f: LayoutFile) => f.bytes || f.rows || 1;
  const total = pieces.reduce((n, f) => n + weight(f), 0);
  const runs: LayoutFile[][] = [];
  let run: LayoutFile[] = [];
  let acc = 0;
  for (const [i, piece] of pieces.entries()) {
    run.push(piece);
    acc += weight(piece);
    const left = pieces.length - i - 1;
    const toCome = count - runs.length - 1;
    // Cut at the next even share of the total, or when every run still to come needs a piece left.
    if (toCome > 0 && (acc >= (total * (runs.length + 1)) / count || left <= toCome)) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length) runs.push(run);
  return runs;
}

/** Adjacent pieces of one file become one range; a range over all of a file becomes the file. */
function mergeRanges(run: readonly LayoutFile[], originals: readonly LayoutFile[]): LayoutFile[] {
  const out: LayoutFile[] = [];
  for (const piece of run) {
    const last = out[out.length - 1];
    if (
      last?.rowRange &&
      piece.rowRange &&
      last.path === piece.path &&
      last.rowRange.end === piece.rowRange.start
    ) {
      out[out.length - 1] = {
        path: last.path,
        rows: last.rows + piece.rows,
        bytes: last.bytes + piece.bytes,
        ...(last.bucket === undefined ? {} : { bucket: last.bucket }),
        rowRange: { start: last.rowRange.start, end: piece.rowRange.end },
      };
    } else out.push(piece);
  }
  return out.map((f) => {
    if (!f.rowRange) return f;
    const original = originals.find((o) => o.path === f.path);
    const physical = original?.rowGroups?.reduce((n, g) => n + g.rows, 0);
    return original && f.rowRange.start === 0 && f.rowRange.end === physical ? original : f;
  });
}

/**
 * `count` predicates over the integer or DATE column with the widest span of statistics, cutting it
 * into ranges that together hold every row once (NULLs in the first); undefined when no column has
 * statistics spanning at least two values.
 */
async function rangeFilters(
  layout: TableLayout,
  files: readonly LayoutFile[],
  count: number,
  parser: SqlParser,
): Promise<string[] | undefined> {
  const candidates = layout.columns.filter((c) => RANGE_TYPES.has(c.type.toUpperCase()));
  const columns = candidates.filter((c) => files.some((f) => f.stats?.[c.name]?.min != null));
  if (columns.length === 0) return undefined;
  const rows = files.map((f) => {
    const values = columns.flatMap((c) => {
      const s = f.stats?.[c.name];
      const lo = s && s.min != null ? statLiteral(s.min, c.type) : undefined;
      const hi = s && s.max != null ? statLiteral(s.max, c.type) : undefined;
      return [lo ?? `CAST(NULL AS ${c.type})`, hi ?? `CAST(NULL AS ${c.type})`];
    });
    return `(${values.join(', ')})`;
  });
  const names = columns.flatMap((_, j) => [`lo${j}`, `hi${j}`]);
  const spans = columns.map((_, j) => `CAST(max(hi${j}) - min(lo${j}) AS HUGEINT)`);
  let spanRow: readonly unknown[];
  try {
    spanRow =
      (
        await parser.query(
          `SELECT ${spans.join(', ')} FROM (VALUES ${rows.join(', ')}) AS s(${names.join(', ')})`,
        )
      )[0] ?? [];
  } catch {
    return undefined;
  }
  let best = -1;
  let bestSpan = 0n;
  spanRow.forEach((v, j) => {
    if (v === null || v === undefined) return;
    const span = BigInt(String(v));
    if (span > bestSpan) {
      best = j;
      bestSpan = span;
    }
  });
  if (best < 0) return undefined;
  const column = columns[best]!;
  const isDate = column.type.toUpperCase() === 'DATE';
  const lo = `min(lo${best})`;
  const step = `(CAST(${spans[best]} AS HUGEINT) * i) // ${count}`;
  const point = isDate
    ? `${lo} + CAST(${step} AS INTEGER)`
    : `CAST(CAST(${lo} AS HUGEINT) + ${step} AS ${column.type})`;
  let cuts: string[];
  try {
    const sql = `SELECT CAST(${point} AS VARCHAR) FROM (VALUES ${rows.join(', ')}) AS s(${names.join(', ')}), range(1, ${count}) AS r(i) GROUP BY i ORDER BY i`;
    cuts = [...new Set((await parser.query(sql)).map((r) => String(r[0])))];
  } catch {
    return undefined;
  }
  if (cuts.length === 0) return undefined;
  const col = quoteIdent(column.name);
  const lit = (v: string) => statLiteral(v, column.type)!;
  const out = [`(${col} < ${lit(cuts[0]!)} OR ${col} IS NULL)`];
  for (let i = 1; i < cuts.length; i++)
    out.push(`(${col} >= ${lit(cuts[i - 1]!)} AND ${col} < ${lit(cuts[i]!)})`);
  out.push(`${col} >= ${lit(cuts[cuts.length - 1]!)}`);
  return out;
}
