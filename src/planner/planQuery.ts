import {
  type AstObject,
  type BaseTableRef,
  type ColumnRefExpr,
  cloneTree,
  columnRef,
  type DistinctModifier,
  type Expr,
  exprKey,
  findModifier,
  forEachTableRef,
  integerConstant,
  integerLiteral,
  type LimitModifier,
  type Modifier,
  mapExpr,
  type OrderModifier,
  type OrderTerm,
  type SelectNode,
  type SelectStatement,
  selectNode,
  someNode,
  star,
  statement,
  walkExpr,
  withAlias,
} from './ast.js';
import {
  DistributionAnalyzer,
  NotDistributable,
  type Scheme,
  type SelectAnalysis,
} from './DistributionAnalyzer.js';
import { liftReferenceJoins } from './liftReferenceJoins.js';
import { packTasks } from './packTasks.js';
import { planAggregate } from './planAggregate.js';
import {
  neededColumns,
  SHUFFLE_GROUP,
  type ShuffleProposal,
  shuffleProposals,
  shuffleWriteSql,
} from './planShuffle.js';
import { pruneFiles, pushdownFilters } from './pruneFiles.js';
import { RelationBuilder, type ScanSql } from './RelationBuilder.js';
import { columnId } from './Scope.js';
import { SqlParseError, type SqlParser } from './SqlParser.js';
import { type ScanShare, type Split, splitFiles } from './splitFiles.js';
import { quoteIdent } from './sqlText.js';
import type {
  DistributedPlan,
  LayoutColumn,
  LayoutFile,
  MergeOrder,
  MergeSpec,
  Partitioning,
  PlanColumn,
  Stage,
  TableLayout,
  TaskSpec,
} from './types.js';

/**
 * Queries whose tables hold at most this many rows together run on the coordinator, and so do those whose
 * distributed plan splits at most this many rows among its tasks (tables every task reads whole do not
 * count; they are read once on the coordinator instead): below it, fanning
 * out costs more (a task round trip through the transport, Arrow encoding, the merge) than scanning the
 * rows in place. Measured by bench/localThreshold.ts on the embedded default (2 in-process workers on the
 * coordinator's 2 cores): a point query and a count-and-sum ran 2–7× faster on the coordinator at every
 * size from 10,000 to 1,000,000 rows (and still 2.5–3× at 4,000,000), so a million rows is the least
 * that is worth a fan-out; with workers on other machines `--local-max-rows` may go lower.
 */
export const DEFAULT_LOCAL_MAX_ROWS = 1_000_000;

/**
 * A table of at most this many rows may be read whole by every task (a broadcast join side). Each task
 * then re-reads and re-hashes it, so the total work grows with the task count; the limit keeps that
 * below the work-efficiency goal for TPC-H-like fact/dimension ratios. Provisional, to be measured.
 */
export const DEFAULT_BROADCAST_MAX_ROWS = 250_000;

/** Tasks per worker slot, so a slow task is evened out by the others. */
export const DEFAULT_TASKS_PER_SLOT = 3;

/**
 * Rows of the largest table each task of a slot should read before the slot gets another task. A task
 * has a fixed cost on its worker (DuckDB starts the statement and opens its files, the claim and status
 * round trips: about 5 ms once the worker keeps the statement prepared) and reads every replicated table
 * again, so tables of a few million rows get one task per slot, and several per slot only where tasks are
 * long enough for evening out a straggler to pay. Measured on TPC-H SF 1 (6M lineitem rows, 2 worker
 * slots of 1 thread, bench/tpch.ts): Q1, Q4, Q6, Q12, Q14 and Q21 ran at a geometric mean of 1.35–1.42×
 * DuckDB with one task per slot and 1.53–1.59× with two (three runs each, alternating); three per slot
 * (the old default) was slower still.
 */
export const DEFAULT_MIN_TASK_ROWS = 4_000_000;

/**
 * A table with fewer files than tasks is split by value ranges or modulo (each task then reads every
 * file) only with at least this many rows per task; row-group splits need no such minimum.
 */
export const DEFAULT_SPLIT_MIN_ROWS = 1_000_000;

/** The relation task results are appended to, which merge SQL reads. */
export const TASK_RESULTS = 'task_results';

/** The output relation of a shuffle-write stage (its tasks' row counts). */
export const SHUFFLE_COUNTS = 'shuffle_counts';

/** What planQuery plans against. */
export interface PlanContext {
  /** Distributed tables by name (`name`, or `schema.name` outside the main schema), case-insensitive. */
  readonly tables: ReadonlyMap<string, TableLayout>;
  /** Free task slots across the workers. */
  readonly workerSlots: number;
  /** DuckDB's parser and binder (DuckDBSqlParser over the coordinator's connection). */
  readonly parser: SqlParser;
  /** Default DEFAULT_LOCAL_MAX_ROWS. */
  readonly localMaxRows?: number;
  /** Default DEFAULT_BROADCAST_MAX_ROWS. */
  readonly broadcastMaxRows?: number;
  /** Default DEFAULT_TASKS_PER_SLOT: the most tasks per slot. */
  readonly tasksPerSlot?: number;
  /**
   * A slot gets a second (third, ...) task only when each would still read this many rows of the largest
   * table: a stage over a table of at most `workerSlots × minTaskRows` rows has one task per slot. 0 (the
   * default) gives every slot `tasksPerSlot` tasks; the coordinator passes DEFAULT_MIN_TASK_ROWS.
   */
  readonly minTaskRows?: number;
  /**
   * Aim for tasks of at most this many input rows (more tasks than slots × tasks per slot when a table is
   * larger); the cut is at file or row-group boundaries. Unlimited when absent.
   */
  readonly maxTaskRows?: number;
  /** How tasks read a table's files; `read_parquet([files])` when absent. */
  readonly scanSql?: ScanSql;
  /**
   * `scanSql` honours LayoutFile.rowRange, so a file may be split at row-group boundaries. Without
   * scanSql, read_parquet is used and it always does.
   */
  readonly scanSqlRowRanges?: boolean;
  /** Default DEFAULT_SPLIT_MIN_ROWS. */
  readonly splitMinRows?: number;
  /**
   * A directory for this query's shuffle files, spelled as tasks read files (LayoutFile.path), under the
   * shared data directory. It must be unique to the query, never reused: DuckDB's external file cache
   * may serve the old content of a file replaced at the same path within the same second. The runner
   * creates and deletes it. Without it, large tables that are not co-located on their join key (or
   * window partition key) run gathered instead of through a shuffle.
   */
  readonly shuffleDir?: string;
}

interface CatalogRef {
  readonly ref: BaseTableRef;
  readonly layout: TableLayout;
}

/**
 * Plans one SELECT statement (with parameters already bound) for the cluster:
 * 1. `local` when it reads no distributed table, or only small ones: the coordinator runs it.
 * 2. `distributed` when a split of its tables (by files, or by co-located hash buckets with small
 *    tables read whole) is proven to give the same answer: one stage of tasks and a merge, with files
 *    pruned by min/max statistics and hash buckets.
 * 3. `gathered` otherwise: the coordinator runs it whole over every file, and `reason` says why.
 *
 * SQL is read with DuckDB's parser and written back with DuckDB's deparser; result names and types come
 * from DuckDB's binder, run against empty relations of the tables' schemas.
 */
export async function planQuery(sql: string, ctx: PlanContext): Promise<DistributedPlan> {
  let statements: readonly SelectStatement[];
  try {
    statements = await ctx.parser.parse(sql);
  } catch (e) {
    if (!(e instanceof SqlParseError)) throw e;
    return {
      mode: 'local',
      reason: `not a SELECT the planner reads (${e.message})`,
      stages: [],
      merge: { kind: 'sql', sql },
    };
  }
  if (statements.length !== 1)
    throw new RangeError(`planQuery plans one statement, got ${statements.length}`);
  const stmt = statements[0]!;
  const lookup = tableLookup(ctx.tables);
  const refs = catalogRefs(stmt, lookup);
  if (refs.length === 0) {
    return { mode: 'local', reason: 'reads no distributed table', stages: [], merge: { kind: 'sql', sql } };
  }
  const planner = new Planner(stmt, refs, lookup, ctx);
  return planner.plan();
}

class Planner {
  private readonly relations: RelationBuilder;
  private readonly localMaxRows: number;
  private readonly broadcastMaxRows: number;
  private empties: Map<BaseTableRef, AstObject> | undefined;

  constructor(
    private readonly stmt: SelectStatement,
    private readonly refs: readonly CatalogRef[],
    private readonly lookup: (ref: BaseTableRef) => TableLayout | undefined,
    private readonly ctx: PlanContext,
  ) {
    this.relations = new RelationBuilder(ctx.parser, ctx.scanSql);
    this.localMaxRows = ctx.localMaxRows ?? DEFAULT_LOCAL_MAX_ROWS;
    this.broadcastMaxRows = ctx.broadcastMaxRows ?? DEFAULT_BROADCAST_MAX_ROWS;
  }

  async plan(): Promise<DistributedPlan> {
    const tables = [...new Set(this.refs.map((r) => r.layout))];
    const rows = tables.reduce((n, t) => n + tableRows(t), 0);
    if (rows <= this.localMaxRows) {
      const names = tables.map((t) => t.name).join(', ');
      return this.whole(
        'local',
        `${names}: ${rows} rows, at most the local threshold of ${this.localMaxRows}`,
      );
    }
    if (someNode(this.stmt, (n) => n['class'] === 'PARAMETER')) {
      // Task SQL cannot carry placeholders; the coordinator runs the query with the values bound.
      return this.whole('gathered', 'the query has parameters: bind them before planning to distribute it');
    }
    let outputs: readonly PlanColumn[];
    try {
      outputs = await this.describe(this.stmt.node as SelectNode);
    } catch (e) {
      // DuckDB will report the same error when the coordinator runs the query.
      return this.whole('gathered', `cannot bind the query: ${(e as Error).message}`);
    }
    const reasons = new Set<string>();
    for (const scheme of await this.schemes()) {
      try {
        return await this.distribute(scheme, outputs);
      } catch (e) {
        // Anything else is a planner defect; the query still runs, whole, and EXPLAIN shows the error.
        const prefix = e instanceof NotDistributable ? '' : 'planner error: ';
        reasons.add(`${schemeName(scheme)}: ${prefix}${(e as Error).message}`);
      }
    }
    return this.whole('gathered', [...reasons].join('; ') || 'no table can be split');
  }

  /** A plan that runs the whole query on the coordinator over every file. */
  private async whole(mode: 'local' | 'gathered', reason: string): Promise<DistributedPlan> {
    const scans = new Map<AstObject, unknown>();
    for (const { ref, layout } of this.refs)
      scans.set(ref, await this.relations.scan(ref, layout, layout.files));
    const sql = await this.ctx.parser.deparse(cloneTree(this.stmt, (n) => scans.get(n)));
    return { mode, reason, stages: [], merge: { kind: 'sql', sql } };
  }

  /** Binds a SELECT over the query's tables without reading data: its result columns. */
  private async describe(node: SelectNode): Promise<readonly PlanColumn[]> {
    if (!this.empties) {
      this.empties = new Map();
      for (const { ref, layout } of this.refs) this.empties.set(ref, await this.relations.empty(ref, layout));
    }
    const empties = this.empties;
    const sql = await this.ctx.parser.deparse(
      cloneTree(statement(node), (n) => empties.get(n as BaseTableRef)),
    );
    return this.ctx.parser.describe(sql);
  }

  private replicable(layout: TableLayout): boolean {
    return layout.distribution.kind === 'reference' || tableRows(layout) <= this.broadcastMaxRows;
  }

  /** How many tasks a stage aims for: a few per free worker slot. */
  private target(): number {
    const slots = this.ctx.workerSlots;
    const largest = Math.max(0, ...this.refs.map((r) => tableRows(r.layout)));
    const most = this.ctx.tasksPerSlot ?? DEFAULT_TASKS_PER_SLOT;
    const min = this.ctx.minTaskRows ?? 0;
    const perSlot =
      min > 0 ? Math.min(most, Math.max(1, Math.ceil(largest / Math.max(1, slots) / min))) : most;
    const perSlots = Math.floor(slots * perSlot);
    // The coordinator holds a task's whole output until the task succeeds (so a retry never duplicates
    // rows): a task reading at most maxTaskRows keeps that bounded however large the table.
    const bySize = this.ctx.maxTaskRows ? Math.ceil(largest / this.ctx.maxTaskRows) : 0;
    return Math.max(1, perSlots, bySize);
  }

  /**
   * Splits to try, most promising first: co-located groups by size, then files of the largest table,
   * then (with a shuffle directory) repartitions of the large tables on a join or window key.
   */
  private async schemes(): Promise<Scheme[]> {
    const groups = new Map<string, { buckets: number; rows: number }>();
    for (const { layout } of this.refs) {
      const d = layout.distribution;
      if (d.kind !== 'hash') continue;
      const g = groups.get(d.colocationGroup) ?? { buckets: d.buckets, rows: 0 };
      g.rows += tableRows(layout);
      groups.set(d.colocationGroup, g);
    }
    const out: Scheme[] = [...groups]
      .sort((a, b) => b[1].rows - a[1].rows)
      .map(([group, g]) => ({ kind: 'hash', group, buckets: g.buckets }));
    // A files split reads every other table whole, so only a large table is worth trying (or, when all
    // are small, the largest); the analysis rejects the split if another large table is read.
    const bySize = [...this.refs].sort((a, b) => tableRows(b.layout) - tableRows(a.layout));
    const large = bySize.filter((r) => !this.replicable(r.layout));
    for (const r of large.length ? large : bySize.slice(0, 1)) out.push({ kind: 'files', ref: r.ref });
    if (this.ctx.shuffleDir !== undefined && large.length > 0) {
      const candidates = this.refs.map((r) => ({ ...r, large: !this.replicable(r.layout) }));
      const proposals = await shuffleProposals(this.stmt.node, candidates, this.target(), this.ctx.parser);
      for (const p of proposals) out.push(shuffleScheme(p));
    }
    return out;
  }

  private async distribute(scheme: Scheme, outputs: readonly PlanColumn[]): Promise<DistributedPlan> {
    const aggregates = await this.ctx.parser.aggregateFunctions();
    const analyzer = new DistributionAnalyzer(scheme, this.lookup, (l) => this.replicable(l), aggregates);
    const a = analyzer.analyzeTop(this.stmt.node);
    if (!a.from.part) {
      const why = analyzer.broadcasts.length ? ` (${analyzer.broadcasts.join('; ')})` : '';
      throw new NotDistributable(`no table of the FROM clause is split${why}`);
    }
    const canon = canonicalizer(a);
    let task: SelectNode;
    let merge: MergeSpec;
    let joinedAfter: string[] = [];
    if (analyzer.hasAggregation(a.node) && !analyzer.groupsByKey(a)) {
      const plan = await planAggregate({
        analyzer,
        analysis: a,
        parser: this.ctx.parser,
        outputs,
        canon,
        describe: (n) => this.describe(n),
        results: TASK_RESULTS,
        lift: liftReferenceJoins(analyzer, a),
      });
      task = plan.task;
      let tree = statement(plan.merge);
      if (plan.references) {
        // The coordinator reads the reference tables itself, after the tasks; no task reads them.
        const scans = new Map<AstObject, unknown>();
        for (const ref of plan.references) {
          const layout = this.lookup(ref)!;
          scans.set(ref, await this.relations.scan(ref, layout, layout.files));
          analyzer.decisions.delete(ref);
          joinedAfter.push(layout.name);
        }
        tree = cloneTree(tree, (n) => scans.get(n));
        joinedAfter = [...new Set(joinedAfter)];
      }
      merge = { kind: 'aggregate', sql: await this.ctx.parser.deparse(tree) };
    } else {
      ({ task, merge } = this.planRows(analyzer, a, outputs, canon));
    }
    const columns = await this.describe(task);
    const { tasks, partitioning, writes } = await this.tasks(scheme, analyzer, a, task);
    const replicated = [
      ...new Set(
        [...analyzer.decisions].filter(([, d]) => d === 'replicated').map(([r]) => this.lookup(r)!.name),
      ),
    ];
    const split = [
      ...new Set(
        [...analyzer.decisions].filter(([, d]) => d === 'partitioned').map(([r]) => this.lookup(r)!.name),
      ),
    ];
    // Only the rows the tasks divide among themselves gain from the fan-out: a table every task reads
    // whole is read once on the coordinator instead, and files no task reads (pruned by their statistics)
    // are skipped there too, by the same statistics.
    const splitRows = split.reduce((n, name) => {
      const layout = this.refs.find((r) => r.layout.name === name)!.layout;
      if (writes) return n + tableRows(layout);
      const read = new Set(tasks.flatMap((t) => t.files[name] ?? []));
      return n + layout.files.reduce((m, f) => m + (read.has(f.path) ? f.rows : 0), 0);
    }, 0);
    // A plan whose every file was pruned has no task at all: nothing to gain by running it whole.
    if (tasks.length > 0 && splitRows <= this.localMaxRows) {
      return this.whole(
        'local',
        `${split.join(', ')}: ${splitRows} rows for the tasks to split, at most the local threshold of ${this.localMaxRows}`,
      );
    }
    const broadcast = replicated.some(
      (n) => this.refs.find((r) => r.layout.name === n)?.layout.distribution.kind !== 'reference',
    );
    const stage: Stage = {
      partitioning: partitioning === 'files' && broadcast ? 'broadcast' : partitioning,
      output: TASK_RESULTS,
      columns,
      replicated,
      tasks,
    };
    let reason: string;
    if (writes) {
      const names = writes.refs.map((r) => `${this.lookup(r.ref)!.name} on ${r.column}`).join(', ');
      const into =
        scheme.kind === 'hash' && scheme.group !== SHUFFLE_GROUP
          ? `the ${scheme.buckets} buckets of colocation group ${scheme.group}`
          : `${scheme.kind === 'hash' ? scheme.buckets : 0} buckets`;
      const stored = split.filter((n) => !writes.refs.some((r) => this.lookup(r.ref)!.name === n));
      reason = `${names} repartitioned by hash into ${into} through shuffle files (${writes.stage.tasks.length} write tasks)`;
      if (stored.length) reason += `; ${stored.join(', ')} split by hash bucket`;
    } else if (scheme.kind === 'hash') {
      reason = `${split.join(', ')} split by hash bucket (colocation group ${scheme.group})`;
    } else {
      reason = `${split.join(', ')} split by ${partitioning === 'files' ? 'files' : partitioning}`;
    }
    let withReplicated = replicated.length
      ? `${reason}; ${replicated.join(', ')} read whole by every task`
      : reason;
    if (joinedAfter.length) {
      withReplicated += `; ${joinedAfter.join(', ')} joined on the coordinator after the tasks aggregate`;
    }
    if (!writes) return { mode: 'distributed', reason: withReplicated, stages: [stage], merge };
    return {
      mode: 'distributed',
      reason: withReplicated,
      stages: [writes.stage, stage],
      merge,
      shuffleDir: this.ctx.shuffleDir!,
    };
  }

  /**
   * Tasks return the query's own rows (each row, or each whole group, computed by one task): every
   * task runs the SELECT, with its top `limit + offset` rows when there is a LIMIT, renamed to c0, c1, ...
   * (and s0, ... for sort keys not in the output); the coordinator concatenates, merges sorted streams,
   * removes duplicates across tasks for DISTINCT, and applies LIMIT/OFFSET.
   */
  private planRows(
    analyzer: DistributionAnalyzer,
    a: SelectAnalysis,
    outputs: readonly PlanColumn[],
    canon: (e: Expr) => string,
  ): { task: SelectNode; merge: MergeSpec } {
    const node = a.node;
    if (!analyzer.windowsByKey(a)) {
      throw new NotDistributable('window function not partitioned by the distribution key');
    }
    const order = findModifier<OrderModifier>(node, 'ORDER_MODIFIER');
    const distinct = findModifier<DistinctModifier>(node, 'DISTINCT_MODIFIER');
    let limit: number | undefined;
    let offset: number | undefined;
    for (const m of node.modifiers) {
      if (m.type === 'LIMIT_PERCENT_MODIFIER') throw new NotDistributable('LIMIT with a percentage');
      if (m.type !== 'LIMIT_MODIFIER') continue;
      const l = m as LimitModifier;
      limit = l.limit ? integerConstant(l.limit) : undefined;
      offset = l.offset ? integerConstant(l.offset) : undefined;
      if ((l.limit && limit === undefined) || (l.offset && offset === undefined)) {
        throw new NotDistributable('LIMIT or OFFSET is not a constant');
      }
    }
    const keyed = node.select_list.some((item) => analyzer.keyColumnOf(item, a) !== undefined);
    if (distinct?.distinct_on_targets.length) {
      if (!distinct.distinct_on_targets.some((t) => analyzer.keyColumnOf(t, a) !== undefined)) {
        throw new NotDistributable('DISTINCT ON without the distribution key');
      }
    }
    const distinctAcross = distinct !== undefined && distinct.distinct_on_targets.length === 0 && !keyed;
    // Which output column each select item is (a `*` expands to several).
    const itemOutput = itemPositions(a, outputs.length);
    const aliases = new Map<string, number>();
    node.select_list.forEach((item, i) => {
      if (item.alias && itemOutput[i] !== undefined) aliases.set(item.alias.toLowerCase(), itemOutput[i]!);
    });
    const hidden: Expr[] = [];
    const mergeOrder: MergeOrder[] = [];
    for (const term of order?.orders ?? []) {
      const e = term.expression;
      let column: string | undefined;
      const position = integerConstant(e);
      if (position !== undefined) {
        if (position < 1 || position > outputs.length) throw new NotDistributable(`ORDER BY ${position}`);
        column = `c${position - 1}`;
      } else if (e.class === 'COLUMN_REF' && (e as ColumnRefExpr).column_names.length === 1) {
        const i = aliases.get((e as ColumnRefExpr).column_names[0]!.toLowerCase());
        if (i !== undefined) column = `c${i}`;
      }
      if (column === undefined) {
        const key = canon(e);
        const item = node.select_list.findIndex(
          (s) => s.class !== 'STAR' && canon({ ...s, alias: '' }) === key,
        );
        if (item >= 0 && itemOutput[item] !== undefined) column = `c${itemOutput[item]}`;
      }
      if (column === undefined) {
        if (distinct) throw new NotDistributable('ORDER BY an expression outside the DISTINCT select list');
        walkExpr(e, (x) => {
          const names = x.class === 'COLUMN_REF' ? (x as ColumnRefExpr).column_names : [];
          if (names.length === 1 && aliases.has(names[0]!.toLowerCase())) {
            throw new NotDistributable('ORDER BY an expression over an output alias');
          }
          return undefined;
        });
        column = `s${hidden.length}`;
        hidden.push(e);
      }
      mergeOrder.push({
        column,
        descending: term.type === 'DESCENDING',
        nulls:
          term.null_order === 'NULLS FIRST' ? 'first' : term.null_order === 'NULLS LAST' ? 'last' : 'default',
      });
    }
    const names = [...outputs.map((_, i) => `c${i}`), ...hidden.map((_, j) => `s${j}`)];
    const innerModifiers: Modifier[] = [];
    if (distinct) innerModifiers.push(distinct);
    // The ORDER BY picks the row DISTINCT ON keeps, and the rows a LIMIT keeps: then tasks apply it too.
    if (order && (limit !== undefined || distinct?.distinct_on_targets.length)) innerModifiers.push(order);
    if (limit !== undefined) {
      innerModifiers.push({
        type: 'LIMIT_MODIFIER',
        limit: integerLiteral(limit + (offset ?? 0)),
        offset: null,
      });
    }
    const inner: SelectNode = {
      ...node,
      select_list: [...node.select_list, ...hidden.map((h, j) => withAlias(h, `__mallard_sort_${j}`))],
      modifiers: innerModifiers,
    };
    const sortTerms: OrderTerm[] = mergeOrder.map((o) => ({
      type: o.descending ? 'DESCENDING' : 'ASCENDING',
      null_order: o.nulls === 'first' ? 'NULLS FIRST' : o.nulls === 'last' ? 'NULLS LAST' : 'ORDER_DEFAULT',
      expression: columnRef(o.column),
    }));
    const task = selectNode({
      select: [star()],
      from: {
        type: 'SUBQUERY',
        alias: '__mallard_task',
        sample: null,
        subquery: statement(inner),
        column_name_alias: names,
      },
      modifiers: sortTerms.length ? [{ type: 'ORDER_MODIFIER', orders: sortTerms }] : [],
    });
    const select = outputs.map((o, i) => `${quoteIdent(`c${i}`)} AS ${quoteIdent(o.name)}`).join(', ');
    let sql = `SELECT ${distinctAcross ? 'DISTINCT ' : ''}${select} FROM ${quoteIdent(TASK_RESULTS)}`;
    if (mergeOrder.length) {
      const terms = mergeOrder.map((o) => {
        // Output columns by position (valid with DISTINCT too), sort-only columns by name.
        const ref = o.column.startsWith('c') ? String(Number(o.column.slice(1)) + 1) : quoteIdent(o.column);
        const nulls = o.nulls === 'default' ? '' : o.nulls === 'first' ? ' NULLS FIRST' : ' NULLS LAST';
        return `${ref}${o.descending ? ' DESC' : ' ASC'}${nulls}`;
      });
      sql += ` ORDER BY ${terms.join(', ')}`;
    }
    if (limit !== undefined) sql += ` LIMIT ${limit}`;
    if (offset !== undefined) sql += ` OFFSET ${offset}`;
    const merge: MergeSpec = {
      kind: distinctAcross ? 'distinct' : mergeOrder.length ? 'merge-sort' : 'concat',
      sql,
      ...(mergeOrder.length ? { orderBy: mergeOrder } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(offset !== undefined ? { offset } : {}),
    };
    return { task, merge };
  }

  private async tasks(
    scheme: Scheme,
    analyzer: DistributionAnalyzer,
    a: SelectAnalysis,
    node: SelectNode,
  ): Promise<{
    tasks: TaskSpec[];
    partitioning: Partitioning;
    writes?: { stage: Stage; refs: { ref: BaseTableRef; column: string }[] };
  }> {
    const target = this.target();
    const pruned = await pruneFiles(a, this.ctx.parser);
    const filesOf = (ref: BaseTableRef) => pruned.files.get(ref) ?? this.lookup(ref)!.files;
    const split = [...analyzer.decisions].filter(([, d]) => d === 'partitioned').map(([r]) => r);
    const whole = [...analyzer.decisions].filter(([, d]) => d === 'replicated').map(([r]) => r);
    const shuffledKeys =
      scheme.kind === 'hash' ? (scheme.shuffled ?? new Map<BaseTableRef, string>()) : new Map();
    const shuffled = split.filter((r) => shuffledKeys.has(r));
    if (shuffledKeys.size > 0 && shuffled.length === 0) {
      throw new NotDistributable('no repartitioned table is split');
    }
    const stored = split.filter((r) => !shuffledKeys.has(r));
    type Unit = { shares: Map<BaseTableRef, ScanShare>; buckets?: number[] };
    let units: Unit[];
    let partitioning: Partitioning;
    if (scheme.kind === 'files') {
      const layout = this.lookup(scheme.ref)!;
      const result = await this.split(scheme.ref, layout, filesOf(scheme.ref), a, target);
      partitioning = result.partitioning;
      units = result.shares.map((share) => ({ shares: new Map([[scheme.ref, share]]) }));
    } else {
      partitioning = shuffled.length ? 'repartition' : 'buckets';
      const spine = new Set(a.spine.map((b) => b.table?.ref));
      const required = stored.filter((r) => spine.has(r) || pruned.filtered.has(r));
      const byBucket = new Map<number, Map<BaseTableRef, LayoutFile[]>>();
      for (const ref of stored) {
        for (const f of this.lookup(ref)!.files) {
          if (f.bucket === undefined || f.bucket < 0 || f.bucket >= scheme.buckets) {
            throw new NotDistributable(`${this.lookup(ref)!.name} has a file outside its hash buckets`);
          }
        }
        for (const f of filesOf(ref)) {
          const m = byBucket.get(f.bucket!) ?? new Map<BaseTableRef, LayoutFile[]>();
          m.set(ref, [...(m.get(ref) ?? []), f]);
          byBucket.set(f.bucket!, m);
        }
      }
      // A bucket without rows of a table every result row needs yields nothing. Shuffled tables may
      // have rows in any bucket.
      const buckets = [...Array(scheme.buckets).keys()].filter((b) =>
        required.every((r) => (byBucket.get(b)?.get(r)?.length ?? 0) > 0),
      );
      const rowsPerBucket = shuffled.reduce((n, r) => n + tableRows(this.lookup(r)!), 0) / scheme.buckets;
      const weight = (b: number) =>
        rowsPerBucket +
        [...(byBucket.get(b)?.values() ?? [])].flat().reduce((n, f) => n + (f.bytes || f.rows), 0);
      units = packTasks(buckets, weight, target).map((group) => {
        const shares = new Map<BaseTableRef, ScanShare>();
        for (const ref of stored)
          shares.set(ref, { files: group.flatMap((b) => byBucket.get(b)?.get(ref) ?? []) });
        return { shares, buckets: group };
      });
    }
    let writes: { stage: Stage; refs: { ref: BaseTableRef; column: string }[] } | undefined;
    const shuffleFiles = new Map<BaseTableRef, { columns: readonly LayoutColumn[]; paths: string[] }>();
    if (shuffled.length && scheme.kind === 'hash') {
      writes = await this.shuffleStage(scheme, shuffled, analyzer, a, filesOf, target, shuffleFiles);
    }
    const shared = new Map<AstObject, unknown>();
    for (const ref of whole) shared.set(ref, await this.relations.scan(ref, this.lookup(ref)!, filesOf(ref)));
    // A table only an unused CTE reads: tasks need its schema to bind, never its rows.
    for (const { ref, layout } of this.refs) {
      if (!analyzer.decisions.has(ref)) shared.set(ref, await this.relations.empty(ref, layout));
    }
    const out: TaskSpec[] = [];
    for (const unit of units) {
      const scans = new Map(shared);
      const files: Record<string, string[]> = {};
      const add = (ref: BaseTableRef, list: readonly string[]) => {
        const name = this.lookup(ref)!.name;
        files[name] = [...new Set([...(files[name] ?? []), ...list])];
      };
      for (const ref of stored) {
        const share = unit.shares.get(ref) ?? { files: [] };
        scans.set(ref, await this.relations.scanShare(ref, this.lookup(ref)!, share));
        add(
          ref,
          share.files.map((f) => f.path),
        );
      }
      for (const ref of shuffled) {
        const sf = shuffleFiles.get(ref)!;
        scans.set(
          ref,
          await this.relations.shuffled(ref, this.lookup(ref)!, sf.columns, sf.paths, unit.buckets ?? []),
        );
        add(ref, sf.paths);
      }
      for (const ref of whole)
        add(
          ref,
          filesOf(ref).map((f) => f.path),
        );
      const sql = await this.ctx.parser.deparse(cloneTree(statement(node), (n) => scans.get(n)));
      out.push({ sql, files, ...(unit.buckets ? { buckets: unit.buckets } : {}) });
    }
    return { tasks: out, partitioning, ...(writes ? { writes } : {}) };
  }

  /** Splits one table reference's (pruned) files into about `target` shares; see splitFiles. */
  private split(
    ref: BaseTableRef,
    layout: TableLayout,
    files: readonly LayoutFile[],
    a: SelectAnalysis,
    target: number,
  ): Promise<Split> {
    // read_parquet's file_row_number would clash with a column of that name.
    const plain =
      !this.ctx.scanSql && !layout.columns.some((c) => c.name.toLowerCase() === 'file_row_number');
    return splitFiles(layout, files, {
      target,
      slots: Math.max(1, this.ctx.workerSlots),
      rowRanges: plain || (this.ctx.scanSql !== undefined && this.ctx.scanSqlRowRanges === true),
      positional: plain,
      minRowsPerTask: this.ctx.splitMinRows ?? DEFAULT_SPLIT_MIN_ROWS,
      parser: this.ctx.parser,
      prune: async (pieces) => {
        // Row groups are pruned like files, by their own statistics (a top-level reference only).
        if (!a.scope.bindings.some((b) => b.table?.ref === ref)) return pieces;
        return (await pruneFiles(a, this.ctx.parser, new Map([[ref, pieces]]))).files.get(ref) ?? pieces;
      },
    });
  }

  /**
   * The shuffle-write stage: every shuffled reference's files are split into about `target` shares, and
   * each share's task writes its needed columns and passing rows, with their bucket, to one file.
   */
  private async shuffleStage(
    scheme: Scheme & { kind: 'hash' },
    shuffled: readonly BaseTableRef[],
    analyzer: DistributionAnalyzer,
    a: SelectAnalysis,
    filesOf: (ref: BaseTableRef) => readonly LayoutFile[],
    target: number,
    shuffleFiles: Map<BaseTableRef, { columns: readonly LayoutColumn[]; paths: string[] }>,
  ): Promise<{ stage: Stage; refs: { ref: BaseTableRef; column: string }[] }> {
    const given = this.ctx.shuffleDir!;
    const dir = given.endsWith('/') ? given.slice(0, -1) : given;
    // Filters of every SELECT level reading a shuffled table (EXISTS subqueries, derived tables too).
    const filters = new Map<BaseTableRef, Expr[]>();
    for (const level of analyzer.analyses) {
      for (const [ref, list] of pushdownFilters(level)) {
        const known = filters.get(ref) ?? [];
        const keys = new Set(known.map(exprKey));
        filters.set(ref, [...known, ...list.filter((e) => !keys.has(exprKey(e)))]);
      }
    }
    const tasks: TaskSpec[] = [];
    const partitionings = new Set<Partitioning>();
    const refs: { ref: BaseTableRef; column: string }[] = [];
    for (const [i, ref] of shuffled.entries()) {
      const layout = this.lookup(ref)!;
      const keyColumn = scheme.shuffled!.get(ref)!;
      refs.push({ ref, column: keyColumn });
      const columns = neededColumns(this.stmt, ref, layout);
      const result = await this.split(ref, layout, filesOf(ref), a, target);
      partitionings.add(result.partitioning);
      const paths: string[] = [];
      for (const [k, share] of result.shares.entries()) {
        const path = `${dir}/s${i}_${k}.parquet`;
        paths.push(path);
        const sql = await shuffleWriteSql(
          {
            layout,
            share,
            columns,
            keyColumn,
            keyType: scheme.keyType!,
            buckets: scheme.buckets,
            filters: filters.get(ref) ?? [],
          },
          this.relations,
          this.ctx.parser,
        );
        tasks.push({ sql, files: { [layout.name]: share.files.map((f) => f.path) }, writes: path });
      }
      shuffleFiles.set(ref, { columns, paths });
    }
    const partitioning = partitionings.size === 1 ? [...partitionings][0]! : 'files';
    return {
      stage: {
        kind: 'shuffle-write',
        partitioning,
        output: SHUFFLE_COUNTS,
        columns: [{ name: 'Count', type: 'BIGINT' }],
        replicated: [],
        tasks,
      },
      refs,
    };
  }
}

function shuffleScheme(p: ShuffleProposal): Scheme {
  return { kind: 'hash', group: p.group, buckets: p.buckets, shuffled: p.shuffled, keyType: p.keyType };
}

function schemeName(s: Scheme): string {
  if (s.kind === 'files') return `split of ${s.ref.table_name} by files`;
  if (s.shuffled?.size) {
    const names = [...s.shuffled].map(([r, c]) => `${r.alias || r.table_name}.${c}`).join(', ');
    return `repartition of ${names}`;
  }
  return `co-located split of group ${s.group}`;
}

function tableRows(layout: TableLayout): number {
  return layout.files.reduce((n, f) => n + f.rows, 0);
}

/** Output position of each select item (undefined for a `*` whose width is unknown). */
function itemPositions(a: SelectAnalysis, outputCount: number): (number | undefined)[] {
  const items = a.node.select_list;
  const stars = items.filter((i) => i.class === 'STAR').length;
  if (stars === 0) return items.map((_, i) => i);
  // With several stars the width of each is unknown here; their aliases are then not mapped.
  if (stars > 1) return items.map(() => undefined);
  const widths = items.map((i) => (i.class === 'STAR' ? outputCount - (items.length - 1) : 1));
  const out: number[] = [];
  let at = 0;
  for (const w of widths) {
    out.push(at);
    at += w;
  }
  return out;
}

/** Canonical form of an expression with its column references resolved to the columns they denote. */
function canonicalizer(a: SelectAnalysis): (e: Expr) => string {
  return (e) =>
    exprKey(
      mapExpr(e, (x) => {
        if (x.class !== 'COLUMN_REF') return undefined;
        const r = a.scope.resolve((x as ColumnRefExpr).column_names);
        if (r.kind !== 'column') return undefined;
        return columnRef(`#${r.depth}:${columnId(r.binding, r.column)}`);
      }),
    );
}

/** Case-insensitive lookup of catalog tables by the names a table reference may use. */
function tableLookup(
  tables: ReadonlyMap<string, TableLayout>,
): (ref: BaseTableRef) => TableLayout | undefined {
  const index = new Map<string, TableLayout>();
  for (const [name, layout] of tables) index.set(name.toLowerCase(), layout);
  return (ref) => {
    if (ref.catalog_name) return undefined;
    const name = ref.table_name.toLowerCase();
    const schema = ref.schema_name?.toLowerCase();
    if (schema && schema !== 'main' && schema !== 'public') return index.get(`${schema}.${name}`);
    return index.get(name) ?? (schema ? index.get(`${schema}.${name}`) : undefined);
  };
}

/** Every reference to a catalog table in the statement (a CTE of the same name shadows the table). */
function catalogRefs(
  stmt: SelectStatement,
  lookup: (ref: BaseTableRef) => TableLayout | undefined,
): CatalogRef[] {
  const out: CatalogRef[] = [];
  forEachTableRef(stmt, (ref, cte) => {
    const layout = cte ? undefined : lookup(ref);
    if (layout) out.push({ ref, layout });
  });
  return out;
}
