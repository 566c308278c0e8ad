// The planner's inputs (table layouts) and output (a distributed plan): plain, JSON-serializable data,
// so a plan can be logged, shown by EXPLAIN and shipped to a scheduler unchanged.

/** A column as the catalog declares it: its name and DuckDB's spelling of its type. */
export interface LayoutColumn {
  readonly name: string;
  readonly type: string;
}

/**
 * A min/max statistic. Strings are read as literals of the column's type (`CAST('1995-03-15' AS DATE)`),
 * which is how the catalog keeps them; numbers, bigints and booleans are accepted as they are.
 */
export type StatValue = string | number | bigint | boolean | null;

/**
 * Statistics of one column in one file. `min`/`max` bound the column's non-NULL values (both null: the
 * column holds only NULLs in this file); `nulls` is the NULL count, when known.
 */
export interface ColumnStat {
  readonly min: StatValue;
  readonly max: StatValue;
  readonly nulls: number | null;
}

/** One row group of a Parquet file, in file order. */
export interface LayoutRowGroup {
  readonly rows: number;
  /** Compressed bytes, when known (task weights fall back to rows). */
  readonly bytes?: number;
  /** Keyed by column name, as LayoutFile.stats; a row group without them is never skipped. */
  readonly stats?: Readonly<Record<string, ColumnStat>>;
}

/**
 * Rows `[start, end)` of one file by position (DuckDB's `file_row_number`, counted from 0 over every
 * row the file holds, deleted or not).
 */
export interface RowRange {
  readonly start: number;
  readonly end: number;
}

/** One Parquet file of a table. */
export interface LayoutFile {
  /** What `read_parquet` is given (absolute, or relative to the directory tasks run in). */
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
  /** The hash bucket every row of the file belongs to, for a hash-distributed table. */
  readonly bucket?: number;
  /** Keyed by column name; a column without an entry is never used to skip the file. */
  readonly stats?: Readonly<Record<string, ColumnStat>>;
  /**
   * The file's row groups in order, when the catalog knows them: a table with fewer files than task
   * slots is then split at row-group boundaries (`rows` of each must add up to the file's row count as
   * `file_row_number` counts them).
   */
  readonly rowGroups?: readonly LayoutRowGroup[];
  /**
   * Set only by the planner, on the files it hands a ScanSql (PlanContext.scanSqlRowRanges): read only
   * these rows of the file. Layouts from the catalog never carry it.
   */
  readonly rowRange?: RowRange;
}

/**
 * How a table's rows are spread over its files:
 * - `balanced`: anyhow; the planner splits by files.
 * - `hash`: file `bucket` holds exactly the rows with `hash(CAST(column AS type)) % buckets = bucket`.
 *   Tables of one `colocationGroup` share the key type, the bucket count and the hash, so equal keys sit
 *   in equal buckets in every table of the group.
 * - `reference`: small; every task may read it whole.
 */
export type TableDistribution =
  | { readonly kind: 'balanced' }
  | {
      readonly kind: 'hash';
      readonly column: string;
      readonly buckets: number;
      readonly colocationGroup: string;
    }
  | { readonly kind: 'reference' };

/** A table as the planner sees it at one catalog snapshot. */
export interface TableLayout {
  readonly name: string;
  readonly columns: readonly LayoutColumn[];
  readonly files: readonly LayoutFile[];
  readonly distribution: TableDistribution;
}

/**
 * - `local`: the query touches no distributed table, or only small ones; the coordinator runs `merge.sql`.
 * - `distributed`: the stages' tasks run on workers and the coordinator merges their results.
 * - `gathered`: no distributed form is proven equivalent; the coordinator runs the whole query over
 *   every file (`merge.sql`), and `reason` says why.
 */
export type PlanMode = 'local' | 'distributed' | 'gathered';

/**
 * How a stage's tasks divide the data:
 * - `files`: groups of whole files of one table;
 * - `row-groups`: ranges of row groups of a table's files (`file_row_number` ranges aligned to row-group
 *   boundaries), for a table with fewer files than task slots;
 * - `range`: value ranges of one column (from its min/max statistics), when row groups are unknown;
 * - `modulo`: row position (or row hash) modulo the task count, the last resort;
 * - `buckets`: matching hash buckets of co-located tables;
 * - `broadcast`: files of one table, other large-ish tables read whole by every task;
 * - `repartition`: hash buckets of shuffle files a `shuffle-write` stage wrote (with co-located tables'
 *   matching buckets, if any).
 */
export type Partitioning =
  | 'files'
  | 'row-groups'
  | 'range'
  | 'modulo'
  | 'buckets'
  | 'broadcast'
  | 'repartition';

/**
 * One unit of work: one DuckDB SELECT. In a `select` stage its rows go to the stage's output relation;
 * in a `shuffle-write` stage they go to the Parquet file `writes` names, in their order, as
 * `COPY (<sql>) TO '<writes>' (FORMAT parquet)` writes them, and that statement's one-row result
 * (`Count BIGINT`: the rows written) goes to the output relation.
 */
export interface TaskSpec {
  readonly sql: string;
  /** The files the task reads, by table (for locality and for EXPLAIN); shuffle files included. */
  readonly files: Readonly<Record<string, readonly string[]>>;
  /** The hash buckets the task covers, for a `buckets` or `repartition` stage. */
  readonly buckets?: readonly number[];
  /**
   * The shuffle file a `shuffle-write` task writes, directly inside DistributedPlan.shuffleDir and
   * spelled as LayoutFile.path is (the next stage's SQL reads it by that name).
   */
  readonly writes?: string;
}

/** A column of a stage's output relation, with DuckDB's type. */
export interface PlanColumn {
  readonly name: string;
  readonly type: string;
}

/**
 * One set of tasks that run independently of each other. A stage starts only once every task of the
 * stage before it has succeeded.
 * - `select` (also when `kind` is absent): each task is a SELECT whose rows go to `output`.
 * - `shuffle-write`: each task writes its SELECT's rows to one shuffle file (TaskSpec.writes): its share
 *   of one table's rows with their bucket in the INTEGER column `__mallard_bucket`, sorted by it;
 *   `output` collects the row counts (`Count BIGINT`), which nothing reads. The next stage's tasks read
 *   the files.
 */
export interface Stage {
  readonly kind?: 'select' | 'shuffle-write';
  readonly partitioning: Partitioning;
  /** The relation the coordinator appends every task's rows to, e.g. `task_results`. */
  readonly output: string;
  /** Schema of `output`: every task returns exactly these columns, in this order. */
  readonly columns: readonly PlanColumn[];
  /** Tables every task reads whole (reference tables and broadcast sides). */
  readonly replicated: readonly string[];
  readonly tasks: readonly TaskSpec[];
}

/** A sort key of a merge: a column of the stage output, with the query's direction and NULL order. */
export interface MergeOrder {
  readonly column: string;
  readonly descending: boolean;
  /** `default` leaves DuckDB's default NULL order (NULLS LAST), as the query did. */
  readonly nulls: 'first' | 'last' | 'default';
}

/**
 * How the coordinator combines task results. `sql` is authoritative: a SELECT over the stage output
 * relation (`task_results`) that yields exactly the query's answer, names and types included. The other
 * fields describe it for a streaming implementation:
 * - `concat`: rows pass through in any order (renamed); `limit`/`offset` may stop the stream early.
 * - `merge-sort`: every task's rows arrive sorted by `orderBy`; a k-way merge then `offset`/`limit`.
 * - `distinct`: duplicate rows across tasks are removed (then ordered and limited).
 * - `aggregate`: partial aggregates are combined by a final aggregation.
 * - `sql`: the whole query runs on the coordinator (local and gathered plans; no stages).
 */
export interface MergeSpec {
  readonly kind: 'concat' | 'merge-sort' | 'distinct' | 'aggregate' | 'sql';
  readonly sql: string;
  readonly orderBy?: readonly MergeOrder[];
  readonly limit?: number;
  readonly offset?: number;
}

/** What planQuery produces. */
export interface DistributedPlan {
  readonly mode: PlanMode;
  readonly reason?: string;
  readonly stages: readonly Stage[];
  readonly merge: MergeSpec;
  /**
   * Set when a stage writes shuffle files: PlanContext.shuffleDir, under which every shuffle file of
   * the plan lies (directly). The runner creates it before the first stage and deletes it, files and
   * all, once the query has ended (succeeded, failed or canceled).
   */
  readonly shuffleDir?: string;
}
