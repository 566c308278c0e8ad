import {
  type BaseTableRef,
  type ColumnRefExpr,
  type ComparisonExpr,
  conjuncts,
  type Expr,
  type JoinRef,
  levelExprs,
  someNode,
  type TableRef,
  walkExpr,
} from './ast.js';
import type { DistributionAnalyzer, SelectAnalysis } from './DistributionAnalyzer.js';
import { type Binding, columnId } from './Scope.js';

/**
 * An aggregating SELECT whose reference tables are joined after the aggregation, on the coordinator: the
 * tasks aggregate the split tables alone, grouped by the columns the joins and the output need, and the
 * coordinator joins those (far fewer, far narrower) rows with the reference tables before the final
 * aggregation. This is eager aggregation (Yan and Larson): over inner equi-joins, a decomposable aggregate
 * of the split tables' columns may be computed per join key first, since each joined row of the original
 * counts once in its key's partial and the join then repeats that partial exactly as often as it repeated
 * the rows.
 */
export interface ReferenceLift {
  /** The tasks' FROM: the split tables, cross-joined (their join conditions are in `where`). */
  readonly from: TableRef;
  /** Conjuncts over the split tables alone. */
  readonly where: readonly Expr[];
  /** The reference tables, read on the coordinator. */
  readonly references: readonly BaseTableRef[];
  /** Conjuncts joining the reference tables to the split tables' columns, and to each other. */
  readonly join: readonly Expr[];
  /** True for a column reference that reads a split table (its value must come from the task rows). */
  readonly readsSplit: (e: ColumnRefExpr) => boolean;
}

/**
 * When the SELECT `a` can aggregate before its reference tables are joined, and that pays: every table
 * of its FROM is a catalog table joined by inner joins, the tasks split some and read the others whole,
 * and the reference tables are only joined, never filtered (a filter on one would have cut the split
 * tables' rows on the workers), each by equalities `split column = reference column` whose column is
 * among the GROUP BY keys (so the tasks' groups are no more numerous than the query's own), and to each
 * other by column equalities. The aggregates must read split columns only, and nothing may be a subquery,
 * a window, DISTINCT, QUALIFY or grouping sets. Null otherwise.
 */
export function liftReferenceJoins(analyzer: DistributionAnalyzer, a: SelectAnalysis): ReferenceLift | null {
  const node = a.node;
  if (node.cte_map.map.length > 0 || node.qualify || node.group_sets.length > 1) return null;
  if (node.aggregate_handling === 'FORCE_AGGREGATES' || node.group_expressions.length === 0) return null;
  if (node.modifiers.some((m) => m.type !== 'ORDER_MODIFIER' && m.type !== 'LIMIT_MODIFIER')) return null;
  if (levelExprs(node).some((e) => someNode(e, (n) => n['class'] === 'SUBQUERY' || n['class'] === 'WINDOW')))
    return null;
  const leaves: BaseTableRef[] = [];
  const joinConditions: Expr[] = [];
  if (!innerJoinLeaves(node.from_table, leaves, joinConditions)) return null;
  const split: BaseTableRef[] = [];
  const references: BaseTableRef[] = [];
  for (const ref of leaves) {
    const decision = analyzer.decisions.get(ref);
    if (decision === 'partitioned') split.push(ref);
    else if (decision === 'replicated') references.push(ref);
    else return null;
  }
  if (split.length === 0 || references.length === 0) return null;
  const splitSet = new Set<BaseTableRef>(split);
  const bindingOf = (e: ColumnRefExpr): Binding | null => {
    const r = a.scope.resolve(e.column_names);
    return r.kind === 'column' && r.depth === 0 && r.binding.table ? r.binding : null;
  };
  const isSplit = (b: Binding) => splitSet.has(b.table!.ref);
  /** The bindings an expression reads, or null when one of its columns is not a plain table column. */
  const readsOf = (e: Expr): Binding[] | null => {
    const out: Binding[] = [];
    let unknown = false;
    walkExpr(e, (x) => {
      if (x.class !== 'COLUMN_REF') return undefined;
      const b = bindingOf(x as ColumnRefExpr);
      if (!b) unknown = true;
      else out.push(b);
      return undefined;
    });
    return unknown ? null : out;
  };
  let groups: Expr[];
  try {
    groups = analyzer.groupExprs(a);
  } catch {
    return null;
  }
  const groupColumns = new Set<string>();
  for (const g of groups) {
    if (g.class !== 'COLUMN_REF') continue;
    const b = bindingOf(g as ColumnRefExpr);
    if (b) groupColumns.add(columnId(b, columnName(g as ColumnRefExpr)));
  }
  const where: Expr[] = [];
  const join: Expr[] = [];
  for (const c of [...conjuncts(node.where_clause), ...joinConditions.flatMap((j) => conjuncts(j))]) {
    const reads = readsOf(c);
    if (!reads) return null;
    if (reads.every(isSplit)) {
      where.push(c);
      continue;
    }
    // Only column equalities may touch a reference table: split = reference, or reference = reference.
    if (c.type !== 'COMPARE_EQUAL') return null;
    const { left, right } = c as ComparisonExpr;
    if (left.class !== 'COLUMN_REF' || right.class !== 'COLUMN_REF') return null;
    const l = bindingOf(left as ColumnRefExpr)!;
    const r = bindingOf(right as ColumnRefExpr)!;
    if (l === r) return null;
    if (isSplit(l) || isSplit(r)) {
      const [, reference] = isSplit(l) ? [left, right] : [right, left];
      const b = isSplit(l) ? r : l;
      const sideKey = columnId(b, columnName(reference as ColumnRefExpr));
      const splitKey = isSplit(l)
        ? columnId(l, columnName(left as ColumnRefExpr))
        : columnId(r, columnName(right as ColumnRefExpr));
      if (!groupColumns.has(sideKey) && !groupColumns.has(splitKey)) return null;
    }
    join.push(c);
  }
  // The split tables must join each other by themselves: joined only through a reference table (a.k =
  // r.k AND r.k = b.k), a task would have to pair every row of a with every row of b. (The analysis
  // co-locates such tables only on a bucket key, and grouping by it needs no merge at all; this stays
  // true should either change.)
  const linked = new Set<BaseTableRef>([split[0]!]);
  for (let grown = true; grown; ) {
    grown = false;
    for (const c of where) {
      if (c.type !== 'COMPARE_EQUAL') continue;
      const { left, right } = c as ComparisonExpr;
      if (left.class !== 'COLUMN_REF' || right.class !== 'COLUMN_REF') continue;
      const l = bindingOf(left as ColumnRefExpr)!.table!.ref;
      const r = bindingOf(right as ColumnRefExpr)!.table!.ref;
      if (linked.has(l) !== linked.has(r)) {
        linked.add(l);
        linked.add(r);
        grown = true;
      }
    }
  }
  if (linked.size !== split.length) return null;
  // Every reference table must be joined to the rest: a cross product would multiply the groups.
  const joined = new Set<BaseTableRef>();
  for (const c of join) for (const b of readsOf(c)!) joined.add(b.table!.ref);
  if (!references.every((r) => joined.has(r))) return null;
  // The aggregates read split columns only; the rest of the output may read any column.
  let aggregatesSplitOnly = true;
  for (const e of [node.having, ...node.select_list, ...orderExprs(node)]) {
    if (!e) continue;
    walkExpr(e, (x) => {
      if (!analyzer.isAggregate(x)) return undefined;
      const reads = readsOf(x);
      if (!reads?.every(isSplit)) aggregatesSplitOnly = false;
      return false;
    });
  }
  if (!aggregatesSplitOnly) return null;
  // Outside the aggregates, the keys and outputs read table columns the coordinator can find.
  for (const e of [...groups, ...node.select_list]) {
    if (!columnsOutsideAggregates(analyzer, e).every((c) => bindingOf(c) !== null)) return null;
  }
  return {
    from: crossJoin(split),
    where,
    references,
    join,
    readsSplit: (e) => {
      const b = bindingOf(e);
      return b !== null && isSplit(b);
    },
  };
}

function columnName(e: ColumnRefExpr): string {
  return e.column_names[e.column_names.length - 1]!.toLowerCase();
}

function orderExprs(node: SelectAnalysis['node']): Expr[] {
  const order = node.modifiers.find((m) => m.type === 'ORDER_MODIFIER') as
    | { orders: { expression: Expr }[] }
    | undefined;
  return order ? order.orders.map((o) => o.expression) : [];
}

/** The column references of `e` outside its aggregate calls. */
export function columnsOutsideAggregates(analyzer: DistributionAnalyzer, e: Expr): ColumnRefExpr[] {
  const out: ColumnRefExpr[] = [];
  walkExpr(e, (x) => {
    if (analyzer.isAggregate(x)) return false;
    if (x.class === 'COLUMN_REF') out.push(x as ColumnRefExpr);
    return undefined;
  });
  return out;
}

/**
 * Collects the base tables of a FROM made of inner joins only (comma joins, or JOIN ... ON without USING),
 * with their ON conditions; false for anything else.
 */
function innerJoinLeaves(ref: TableRef, leaves: BaseTableRef[], conditions: Expr[]): boolean {
  if (ref.type === 'BASE_TABLE') {
    if (ref.sample || (ref as BaseTableRef & { at_clause?: unknown }).at_clause) return false;
    leaves.push(ref as BaseTableRef);
    return true;
  }
  if (ref.type !== 'JOIN') return false;
  const j = ref as JoinRef;
  if (j.join_type !== 'INNER' || (j.ref_type !== 'CROSS' && j.ref_type !== 'REGULAR')) return false;
  if (j.using_columns.length > 0 || j.sample) return false;
  if (j.condition) conditions.push(j.condition);
  return innerJoinLeaves(j.left, leaves, conditions) && innerJoinLeaves(j.right, leaves, conditions);
}

/** `a, b, c` as DuckDB's parser writes a comma join. */
export function crossJoin(refs: readonly TableRef[]): TableRef {
  return refs.slice(1).reduce<TableRef>(
    (left, right) => ({
      type: 'JOIN',
      alias: '',
      sample: null,
      left,
      right,
      condition: null,
      join_type: 'INNER',
      ref_type: 'CROSS',
      using_columns: [],
      delim_flipped: false,
      duplicate_eliminated_columns: [],
    }),
    refs[0]!,
  );
}
