import {
  type AstObject,
  and,
  type BaseTableRef,
  baseTable,
  type ColumnRefExpr,
  caseWhen,
  cast,
  coalesce,
  columnRef,
  comparison,
  type DistinctModifier,
  type Expr,
  type FunctionExpr,
  findModifier,
  functionCall,
  integerConstant,
  integerLiteral,
  isNotNull,
  type LimitModifier,
  type Modifier,
  mapExpr,
  nullLiteral,
  type OrderModifier,
  operator,
  readsNoColumn,
  type SelectNode,
  selectNode,
  type TableRef,
  walkExpr,
  withAlias,
} from './ast.js';
import {
  type DistributionAnalyzer,
  DUPLICATE_INSENSITIVE,
  NotDistributable,
  type SelectAnalysis,
} from './DistributionAnalyzer.js';
import { columnsOutsideAggregates, crossJoin, type ReferenceLift } from './liftReferenceJoins.js';
import type { SqlParser } from './SqlParser.js';
import { INTEGER_TYPES, quoteIdent } from './sqlText.js';
import type { PlanColumn } from './types.js';

/** A two-level aggregation: what each task computes, and the coordinator's final query over the results. */
export interface AggregatePlan {
  /** `two-phase`: partial aggregates per task; `inputs`: tasks send (grouped) inputs of exact aggregates. */
  readonly method: 'two-phase' | 'inputs';
  readonly task: SelectNode;
  readonly merge: SelectNode;
  /**
   * The reference tables the merge joins the task results with (ReferenceLift), when the aggregation
   * runs before their join; their references in `merge` are the query's own, for the planner to replace.
   */
  readonly references?: readonly BaseTableRef[];
}

/** What planAggregate needs from the planner. */
export interface AggregateContext {
  readonly analyzer: DistributionAnalyzer;
  readonly analysis: SelectAnalysis;
  readonly parser: SqlParser;
  /** The query's result columns (names and types), in order. */
  readonly outputs: readonly PlanColumn[];
  /** Equal for two expressions exactly when they denote the same value (column references resolved). */
  readonly canon: (e: Expr) => string;
  /** Binds a SELECT over the query's tables (without data) and returns its columns. */
  readonly describe: (node: SelectNode) => Promise<readonly PlanColumn[]>;
  /** The relation tasks' results are appended to. */
  readonly results: string;
  /** Aggregate before joining these reference tables, when every aggregate decomposes (see ReferenceLift). */
  readonly lift?: ReferenceLift | null;
}

const COUNTS = new Set(['count_star', 'count', 'count_if', 'countif']);
/** Aggregates whose partial results combine with the same function. */
const SELF_COMBINING = new Map([
  ['sum', 'sum'],
  ['sum_no_overflow', 'sum'],
  ['fsum', 'fsum'],
  ['kahan_sum', 'kahan_sum'],
  ['sumkahan', 'sumkahan'],
  ['product', 'product'],
  ['min', 'min'],
  ['max', 'max'],
  ['bool_and', 'bool_and'],
  ['bool_or', 'bool_or'],
  ['bit_and', 'bit_and'],
  ['bit_or', 'bit_or'],
  ['bit_xor', 'bit_xor'],
  ['any_value', 'any_value'],
  ['arbitrary', 'arbitrary'],
]);
const AVERAGES = new Set(['avg', 'mean']);
const VARIANCES = new Set(['var_pop', 'var_samp', 'variance', 'stddev', 'stddev_pop', 'stddev_samp']);
const ARG_MIN = new Set(['arg_min', 'argmin', 'min_by']);
const ARG_MAX = new Set(['arg_max', 'argmax', 'max_by']);

const NUMERIC_TYPES: ReadonlySet<string> = new Set([...INTEGER_TYPES, 'UHUGEINT', 'FLOAT', 'DOUBLE']);

function isNumeric(type: string): boolean {
  return NUMERIC_TYPES.has(type) || type.startsWith('DECIMAL');
}

/**
 * Splits an aggregating SELECT (whose groups span tasks) into task and coordinator queries.
 *
 * When every aggregate decomposes, tasks group by the full grouping key and compute partial states:
 * COUNT as counts summed, SUM, MIN, MAX, BOOL_AND/OR, BIT_AND/OR/XOR and ANY_VALUE as themselves, AVG as sum and count (never
 * an average of averages), VARIANCE/STDDEV as (count, mean, M2) merged exactly as Chan et al. do for many
 * parts (M2 = ΣM2ᵢ + Σnᵢ(meanᵢ − mean)²), ARG_MIN/ARG_MAX as the winning argument with its value. The
 * coordinator then runs the query's own GROUP BY / GROUPING SETS, HAVING, window functions, ORDER BY
 * and LIMIT over the partials, each aggregate cast back to its single-node type.
 *
 * Otherwise (DISTINCT aggregates, MEDIAN, QUANTILE, MODE, STRING_AGG, ordered aggregates, anything
 * unknown) tasks send the aggregates' inputs grouped by (grouping key, inputs) with a row count, and the
 * coordinator expands the counts and runs the query itself over exactly the rows it would have seen; when
 * every aggregate ignores duplicates, tasks send distinct inputs and no counts.
 */
export async function planAggregate(ctx: AggregateContext): Promise<AggregatePlan> {
  const { analyzer, analysis: a } = ctx;
  const node = a.node;
  for (const item of node.select_list) {
    if (item.class === 'STAR') throw new NotDistributable('* in an aggregating SELECT');
  }
  const groups = analyzer.groupExprs(a);
  const keys = new Keyed(ctx.canon, 'k');
  const groupKey = groups.map((g) => keys.add(g));
  const sets = analyzer
    .groupingSets(node, groups.length)
    .map((set) => [...new Set(set.map((i) => Number(groupKey[i]!.slice(1))))]);
  const aggregates = collectAggregates(ctx);
  const probe = await probeTypes(ctx, groups, aggregates);
  const decomposable =
    aggregates.every((f, i) => decomposes(f, probe.argTypes[i])) &&
    !(sets.length > 1 && aggregates.some((f) => VARIANCES.has(name(f))));
  const plan = decomposable
    ? await twoPhase(ctx, keys, sets, aggregates, probe.types)
    : await inputs(ctx, keys, sets, aggregates);
  return plan;
}

/** Expressions named k0, k1, ... (or p0, r0, ...), deduplicated by value. */
class Keyed {
  readonly exprs: Expr[] = [];
  private readonly index = new Map<string, string>();

  constructor(
    private readonly canon: (e: Expr) => string,
    private readonly prefix: string,
  ) {}

  add(e: Expr): string {
    const key = this.canon(e);
    let name = this.index.get(key);
    if (!name) {
      name = `${this.prefix}${this.exprs.length}`;
      this.index.set(key, name);
      this.exprs.push(e);
    }
    return name;
  }

  get(e: Expr): string | undefined {
    return this.index.get(this.canon(e));
  }

  selectList(): Expr[] {
    return this.exprs.map((e, i) => withAlias(e, `${this.prefix}${i}`));
  }

  names(): string[] {
    return this.exprs.map((_, i) => `${this.prefix}${i}`);
  }
}

function name(f: FunctionExpr): string {
  return f.function_name.toLowerCase();
}

/** The distinct aggregate calls of the SELECT's outputs, HAVING, QUALIFY and ORDER BY. */
function collectAggregates(ctx: AggregateContext): FunctionExpr[] {
  const node = ctx.analysis.node;
  const seen = new Set<string>();
  const out: FunctionExpr[] = [];
  const exprs = [...node.select_list];
  if (node.having) exprs.push(node.having);
  if (node.qualify) exprs.push(node.qualify);
  const order = node.modifiers.find((m) => m.type === 'ORDER_MODIFIER') as OrderModifier | undefined;
  if (order) exprs.push(...order.orders.map((o) => o.expression));
  for (const e of exprs) {
    walkExpr(e, (x) => {
      if (!ctx.analyzer.isAggregate(x)) return undefined;
      const key = ctx.canon(x);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(x);
      }
      return false;
    });
  }
  return out;
}

/** DuckDB's result type of every aggregate, and the argument type of those whose split depends on it. */
async function probeTypes(
  ctx: AggregateContext,
  groups: readonly Expr[],
  aggregates: readonly FunctionExpr[],
): Promise<{ types: string[]; argTypes: (string | undefined)[] }> {
  const select: Expr[] = [...aggregates];
  const argIndex: (number | undefined)[] = aggregates.map((f) => {
    if (!(AVERAGES.has(name(f)) || VARIANCES.has(name(f))) || f.children.length !== 1) return undefined;
    select.push(functionCall('any_value', [f.children[0]!]));
    return select.length - 1;
  });
  if (select.length === 0) return { types: [], argTypes: [] };
  const node = ctx.analysis.node;
  const probe = selectNode({
    select,
    from: node.from_table,
    where: node.where_clause,
    groups: [...groups],
    cteMap: node.cte_map,
  });
  let columns: readonly PlanColumn[];
  try {
    columns = await ctx.describe(probe);
  } catch (e) {
    throw new NotDistributable(`cannot bind the aggregates: ${(e as Error).message}`);
  }
  return {
    types: aggregates.map((_, i) => columns[i]!.type),
    argTypes: argIndex.map((i) => (i === undefined ? undefined : columns[i]!.type)),
  };
}

function decomposes(f: FunctionExpr, argType: string | undefined): boolean {
  const n = name(f);
  if (f.order_bys.orders.length) return false;
  if (f.distinct && !DUPLICATE_INSENSITIVE.has(n)) return false;
  const arity = f.children.length;
  if (COUNTS.has(n)) return arity <= 1 && (n !== 'count_star' || arity === 0);
  if (SELF_COMBINING.has(n)) return arity === 1;
  if (AVERAGES.has(n) || VARIANCES.has(n)) return arity === 1 && argType !== undefined && isNumeric(argType);
  if (ARG_MIN.has(n) || ARG_MAX.has(n)) return arity === 2;
  return false;
}

/** CAST type nodes as DuckDB's parser writes them, for type names. */
async function castTypes(parser: SqlParser, types: readonly string[]): Promise<Map<string, AstObject>> {
  const unique = [...new Set(types)];
  const out = new Map<string, AstObject>();
  if (unique.length === 0) return out;
  const [parsed] = await parser.parse(`SELECT ${unique.map((t) => `CAST(NULL AS ${t})`).join(', ')}`);
  const list = (parsed!.node as SelectNode).select_list;
  unique.forEach((t, i) => {
    out.set(t, list[i]!['cast_type'] as AstObject);
  });
  return out;
}

async function twoPhase(
  ctx: AggregateContext,
  keys: Keyed,
  sets: number[][],
  aggregates: readonly FunctionExpr[],
  types: readonly string[],
): Promise<AggregatePlan> {
  const partials = new Keyed(ctx.canon, 'p');
  const typeNodes = await castTypes(ctx.parser, [...types, 'DOUBLE']);
  const double = typeNodes.get('DOUBLE')!;
  const col = (e: Expr) => columnRef(partials.add(e));
  const sum = (e: Expr) => functionCall('sum', [e]);
  const variances: { n: string; mean: string; mu: string }[] = [];
  const finals = new Map<string, Expr>();
  aggregates.forEach((f, i) => {
    const n = name(f);
    const filter = f.filter;
    const args = f.children;
    let final: Expr;
    if (COUNTS.has(n)) {
      final = coalesce([sum(col(functionCall(f.function_name, args, { filter }))), integerLiteral(0)]);
    } else if (SELF_COMBINING.has(n)) {
      final = functionCall(SELF_COMBINING.get(n)!, [col(functionCall(f.function_name, args, { filter }))]);
    } else if (AVERAGES.has(n)) {
      const total = col(functionCall('sum', args, { filter }));
      const count = col(functionCall('count', args, { filter }));
      final = operator('/', [cast(sum(total), double), cast(sum(count), double)]);
    } else if (VARIANCES.has(n)) {
      const count = partials.add(functionCall('count', args, { filter }));
      const mean = partials.add(cast(functionCall('avg', args, { filter }), double));
      const m2 = col(
        operator('*', [functionCall('var_pop', args, { filter }), functionCall('count', args, { filter })]),
      );
      let v = variances.find((x) => x.n === count && x.mean === mean);
      if (!v) {
        v = { n: count, mean, mu: `mu${variances.length}` };
        variances.push(v);
      }
      const total = sum(columnRef(count));
      const diff = operator('-', [columnRef(mean), columnRef(v.mu)]);
      const m2All = operator('+', [
        sum(m2),
        sum(operator('*', [cast(columnRef(count), double), operator('*', [diff, diff])])),
      ]);
      const population = n === 'var_pop' || n === 'stddev_pop';
      const variance = population
        ? caseWhen(
            comparison('COMPARE_GREATERTHAN', total, integerLiteral(0)),
            operator('/', [m2All, total]),
            nullLiteral(),
          )
        : caseWhen(
            comparison('COMPARE_GREATERTHAN', total, integerLiteral(1)),
            operator('/', [m2All, operator('-', [total, integerLiteral(1)])]),
            nullLiteral(),
          );
      final = n.startsWith('stddev') ? functionCall('sqrt', [variance]) : variance;
    } else {
      // ARG_MIN / ARG_MAX: DuckDB skips rows where either argument is NULL, so the winning value is the
      // extreme of the rows with a non-NULL argument.
      const [arg, value] = args as [Expr, Expr];
      const winner = col(functionCall(f.function_name, args, { filter }));
      const extreme = ARG_MIN.has(n) ? 'min' : 'max';
      const bestFilter = and([...(filter ? [filter] : []), isNotNull(arg)]);
      const best = col(functionCall(extreme, [value], { filter: bestFilter }));
      final = functionCall(f.function_name, [winner, best]);
    }
    finals.set(ctx.canon(f), cast(final, typeNodes.get(types[i]!)!));
  });
  if (ctx.lift && variances.length === 0) return lifted(ctx, ctx.lift, partials, finals);
  const task = taskNode(ctx, [...keys.selectList(), ...partials.selectList()], keys.exprs);
  let from: TableRef = baseTable(ctx.results);
  if (variances.length) {
    const partition = keys.names().map(quoteIdent).join(', ');
    const over = `OVER (${partition ? `PARTITION BY ${partition}` : ''})`;
    const mus = variances.map(
      (v) =>
        `sum(CAST(${quoteIdent(v.n)} AS DOUBLE) * ${quoteIdent(v.mean)}) ${over} / sum(${quoteIdent(v.n)}) ${over} AS ${quoteIdent(v.mu)}`,
    );
    from = await derived(ctx.parser, `SELECT *, ${mus.join(', ')} FROM ${quoteIdent(ctx.results)}`);
  }
  const merge = mergeNode(ctx, keys, sets, from, (e) => {
    const key = keys.get(e);
    if (key) return columnRef(key);
    if (ctx.analyzer.isAggregate(e)) return finals.get(ctx.canon(e))!;
    return undefined;
  });
  return { method: 'two-phase', task, merge };
}

/**
 * Two-phase aggregation with the reference tables joined after it (ReferenceLift): tasks group the split
 * tables' rows by the split columns the rest of the query reads (join keys, grouping keys, outputs) and
 * compute the partials; the coordinator joins those rows with the reference tables and finishes the
 * aggregation with the query's own GROUP BY, HAVING, ORDER BY and LIMIT.
 */
function lifted(
  ctx: AggregateContext,
  lift: ReferenceLift,
  partials: Keyed,
  finals: ReadonlyMap<string, Expr>,
): AggregatePlan {
  const { analyzer, analysis: a } = ctx;
  const node = a.node;
  const keys = new Keyed(ctx.canon, 'k');
  const order = findModifier<OrderModifier>(node, 'ORDER_MODIFIER');
  const outside = [
    ...analyzer.groupExprs(a),
    ...node.select_list,
    ...(node.having ? [node.having] : []),
    ...(order?.orders.map((o) => o.expression) ?? []),
    ...lift.join,
  ];
  for (const e of outside) {
    for (const c of columnsOutsideAggregates(analyzer, e)) if (lift.readsSplit(c)) keys.add(c);
  }
  const task = selectNode({
    select: [...keys.selectList(), ...partials.selectList()],
    from: lift.from,
    where: lift.where.length ? and([...lift.where]) : null,
    groups: keys.exprs,
  });
  // Task result columns are qualified in the merge: a reference table may have a column named k0.
  const own = (name: string): ColumnRefExpr => ({ ...columnRef(name), column_names: [ctx.results, name] });
  const partialNames = new Set(partials.names());
  const qualified = (e: Expr) =>
    mapExpr(e, (x) => {
      const names = x.class === 'COLUMN_REF' ? (x as ColumnRefExpr).column_names : [];
      return names.length === 1 && partialNames.has(names[0]!) ? own(names[0]!) : undefined;
    });
  const rewrite = (e: Expr): Expr =>
    mapExpr(e, (x) => {
      if (analyzer.isAggregate(x)) return qualified(finals.get(ctx.canon(x))!);
      if (x.class === 'COLUMN_REF' && lift.readsSplit(x as ColumnRefExpr)) return own(keys.get(x)!);
      if (x.class === 'SUBQUERY' || x.class === 'STAR')
        throw new NotDistributable(`${x.class} over aggregated rows`);
      return undefined;
    });
  const aliases = new Set(node.select_list.map((s) => s.alias.toLowerCase()).filter(Boolean));
  const modifiers: Modifier[] = node.modifiers.map((m) => {
    if (m.type !== 'ORDER_MODIFIER') return m;
    const o = m as OrderModifier;
    return {
      ...o,
      orders: o.orders.map((term) => {
        const e = term.expression;
        // Positions and output aliases mean the same over the merge's select list.
        if (integerConstant(e) !== undefined) return term;
        const names = e.class === 'COLUMN_REF' ? (e as ColumnRefExpr).column_names : [];
        if (names.length === 1 && aliases.has(names[0]!.toLowerCase())) return term;
        return { ...term, expression: rewrite(e) };
      }),
    };
  });
  const merge = selectNode({
    select: node.select_list.map((item, i) =>
      withAlias(rewrite({ ...item, alias: '' }), ctx.outputs[i]!.name),
    ),
    from: crossJoin([baseTable(ctx.results), ...lift.references]),
    where: lift.join.length ? rewrite(and([...lift.join])) : null,
    groups: analyzer.groupExprs(a).map(rewrite),
    having: node.having ? rewrite(node.having) : null,
    modifiers,
  });
  return { method: 'two-phase', task, merge, references: lift.references };
}

async function inputs(
  ctx: AggregateContext,
  keys: Keyed,
  sets: number[][],
  aggregates: readonly FunctionExpr[],
): Promise<AggregatePlan> {
  const values = new Keyed(ctx.canon, 'r');
  for (const f of aggregates) {
    const parts = [
      ...f.children,
      ...(f.filter ? [f.filter] : []),
      ...f.order_bys.orders.map((o) => o.expression),
    ];
    for (const e of parts) if (!readsNoColumn(e) && !keys.get(e)) values.add(e);
  }
  // Without any column to send, the row count alone must say whether there were rows.
  const weighted =
    aggregates.some((f) => !f.distinct && !DUPLICATE_INSENSITIVE.has(name(f))) ||
    keys.exprs.length + values.exprs.length === 0;
  const select = [...keys.selectList(), ...values.selectList()];
  if (weighted) select.push(withAlias(functionCall('count_star', []), '__w'));
  const task = taskNode(ctx, select, [...keys.exprs, ...values.exprs]);
  let from: TableRef = baseTable(ctx.results);
  if (weighted) {
    // Each (key, inputs) row stands for __w equal input rows: expand it back to exactly those rows.
    const columns = [...keys.names(), ...values.names()].map(quoteIdent).join(', ') || '1';
    const results = quoteIdent(ctx.results);
    from = await derived(ctx.parser, `SELECT ${columns} FROM ${results}, range(${results}."__w")`);
  }
  const merge = mergeNode(ctx, keys, sets, from, (e) => {
    const name = keys.get(e) ?? values.get(e);
    return name ? columnRef(name) : undefined;
  });
  return { method: 'inputs', task, merge };
}

/** The task's SELECT: the query's FROM and WHERE, grouped by `groups`, returning `select`. */
function taskNode(ctx: AggregateContext, select: Expr[], groups: Expr[]): SelectNode {
  const node = ctx.analysis.node;
  return selectNode({
    select,
    from: node.from_table,
    where: node.where_clause,
    groups,
    cteMap: node.cte_map,
  });
}

async function derived(parser: SqlParser, sql: string): Promise<TableRef> {
  const [parsed] = await parser.parse(`SELECT * FROM (${sql}) AS task_results`);
  return (parsed!.node as SelectNode).from_table;
}

/**
 * The coordinator's query: the original SELECT list, HAVING, QUALIFY, ORDER BY, DISTINCT and LIMIT with
 * grouping expressions and aggregates rewritten by `replace` over the task results, grouped by the key
 * columns with the original grouping sets, each output named as the query names it.
 */
function mergeNode(
  ctx: AggregateContext,
  keys: Keyed,
  sets: number[][],
  from: TableRef,
  replace: (e: Expr) => Expr | undefined,
): SelectNode {
  const node = ctx.analysis.node;
  const rewrite = (e: Expr): Expr =>
    mapExpr(e, (x) => {
      const r = replace(x);
      if (r) return r;
      if (x.class === 'COLUMN_REF') {
        throw new NotDistributable(
          `${(x as ColumnRefExpr).column_names.join('.')} is neither grouped nor aggregated`,
        );
      }
      if (x.class === 'SUBQUERY') throw new NotDistributable('subquery over aggregated rows');
      if (x.class === 'STAR') throw new NotDistributable('* over aggregated rows');
      return undefined;
    });
  const aliases = new Set(node.select_list.map((s) => s.alias.toLowerCase()).filter(Boolean));
  const modifiers: Modifier[] = node.modifiers.map((m) => {
    if (m.type === 'ORDER_MODIFIER') {
      const order = m as OrderModifier;
      return {
        ...order,
        orders: order.orders.map((o) => {
          const e = o.expression;
          // Positions and output aliases mean the same over the merge's select list.
          if (integerConstant(e) !== undefined) return o;
          if (e.class === 'COLUMN_REF') {
            const names = (e as ColumnRefExpr).column_names;
            if (names.length === 1 && aliases.has(names[0]!.toLowerCase())) return o;
          }
          return { ...o, expression: rewrite(e) };
        }),
      };
    }
    if (m.type === 'DISTINCT_MODIFIER') {
      const d = m as DistinctModifier;
      return { ...d, distinct_on_targets: d.distinct_on_targets.map(rewrite) };
    }
    if (m.type === 'LIMIT_MODIFIER') return m as LimitModifier;
    throw new NotDistributable(`${m.type} in an aggregating SELECT`);
  });
  const groupCount = keys.exprs.length;
  return selectNode({
    select: node.select_list.map((item, i) =>
      withAlias(rewrite({ ...item, alias: '' }), ctx.outputs[i]!.name),
    ),
    from,
    groups: keys.names().map((k) => columnRef(k)),
    groupSets: groupCount ? sets : [],
    having: node.having ? rewrite(node.having) : null,
    qualify: node.qualify ? rewrite(node.qualify) : null,
    modifiers,
  });
}
