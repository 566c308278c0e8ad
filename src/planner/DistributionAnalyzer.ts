import {
  type BaseTableRef,
  type ColumnRefExpr,
  type ComparisonExpr,
  type CteEntry,
  conjuncts,
  type DistinctModifier,
  type Expr,
  type FunctionExpr,
  findModifier,
  forEachTableRef,
  integerConstant,
  isSelectNode,
  type JoinRef,
  levelExprs,
  type OrderModifier,
  type QueryNode,
  type SelectNode,
  type SetOperationNode,
  type SubqueryExpr,
  type SubqueryRef,
  someNode,
  subqueriesOf,
  type TableFunctionRef,
  type TableRef,
  type WindowExpr,
  walkExpr,
} from './ast.js';
import { type Binding, columnId, type Resolution, Scope } from './Scope.js';
import type { TableLayout } from './types.js';

/** The query (or the part being analyzed) has no distributed form this planner can prove equivalent. */
export class NotDistributable extends Error {
  override readonly name = 'NotDistributable';
}

/**
 * Which relation the tasks split:
 * - `files`: one reference to one table is split by files; every other table is read whole.
 * - `hash`: every reference to a table of the colocation group is split by bucket (task i reads bucket
 *   i of each), so rows with equal keys meet in one task; other tables are read whole. References in
 *   `shuffled` are split too: a shuffle stage first writes their rows by the bucket of the column named
 *   (hashed as the group's tables are), so they join the group's buckets.
 */
export type Scheme =
  | { readonly kind: 'files'; readonly ref: BaseTableRef }
  | {
      readonly kind: 'hash';
      readonly group: string;
      readonly buckets: number;
      readonly shuffled?: ReadonlyMap<BaseTableRef, string>;
      /** The type shuffled keys are cast to before hashing. */
      readonly keyType?: string;
    };

/**
 * How a relation is spread over the tasks. Not `part`: every task computes all of it (it reads only
 * whole tables). `part`: every row is computed by exactly one task; `keys` are columns (by columnId) whose
 * value is the row's bucket key, so two rows with equal values there are in the same task.
 */
export interface RelProps {
  readonly part: boolean;
  readonly keys: ReadonlySet<string>;
}

/** RelProps of a query's output, by output position. */
export interface OutputProps {
  readonly part: boolean;
  /** Per output column: is it a bucket key? Null when unknown. */
  readonly keyOutputs: readonly boolean[] | null;
  /** Lower-case output names; null entries (or a null list) when unknown. */
  readonly columns: readonly (string | null)[] | null;
}

/** What the analysis of one SELECT found. */
export interface SelectAnalysis {
  readonly node: SelectNode;
  readonly scope: Scope;
  /** FROM and WHERE: the rows this SELECT's expressions are evaluated over. */
  readonly from: RelProps;
  /** Bindings joined to the root by inner joins only (every result row holds one of their rows). */
  readonly spine: readonly Binding[];
  /** Top-level WHERE equalities `inner column = enclosing query's column`, as [inner id, outer id]. */
  readonly correlations: readonly (readonly [string, string])[];
  /** The SELECT uses joins whose `*` DuckDB deduplicates (USING, NATURAL). */
  readonly mergesColumns: boolean;
}

interface CteDef {
  readonly entry: CteEntry;
  readonly env: CteEnv;
}

type CteEnv = ReadonlyMap<string, CteDef>;

type FromTree =
  | { readonly kind: 'none' }
  | { readonly kind: 'leaf'; readonly binding: Binding }
  | { readonly kind: 'join'; readonly ref: JoinRef; readonly left: FromTree; readonly right: FromTree };

/** Table functions that compute their rows from their arguments alone, so any task can run them. */
const PURE_TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest']);

/** Aggregates whose result ignores duplicate input rows (so DISTINCT inside them changes nothing). */
export const DUPLICATE_INSENSITIVE = new Set([
  'min',
  'max',
  'bool_and',
  'bool_or',
  'bit_and',
  'bit_or',
  'any_value',
  'arbitrary',
  'arg_min',
  'arg_max',
  'argmin',
  'argmax',
  'min_by',
  'max_by',
]);

/**
 * Decides, for one Scheme, whether every part of a query computes the same rows split over tasks as it
 * does whole, and records for each catalog table reference whether tasks split it or read it whole.
 *
 * The rules, bottom-up:
 * - A split table is a partitioned relation; a whole table is replicated.
 * - Inner joins (with the WHERE clause): at most one split relation under `files`; under `hash`, every
 *   split relation must be connected to the others by equalities between bucket keys, so each joined
 *   row combination lies in one bucket.
 * - Outer, semi and anti joins must never replicate the preserved side: a split relation may be joined
 *   to a replicated one only on its preserved side; two split ones only on their keys.
 * - Aggregation, DISTINCT and window functions inside a subquery keep a relation split only when they
 *   group by a bucket key; LIMIT never does.
 * - A subquery in an expression must be replicated, correlated to the outer row on the bucket key, or
 *   an `key IN (subquery returning keys)` filter. Failing that, it is read whole if all its tables are
 *   small enough.
 */
export class DistributionAnalyzer {
  /** Per catalog table reference: split by the tasks, or read whole by each. */
  readonly decisions = new Map<BaseTableRef, 'partitioned' | 'replicated'>();
  /** Why subqueries were read whole rather than split (for EXPLAIN when nothing is left to split). */
  readonly broadcasts: string[] = [];
  /** Every SELECT analyzed, subqueries included (a SELECT analyzed again appears again). */
  readonly analyses: SelectAnalysis[] = [];
  private forced = 0;
  private nextBindingId = 0;

  constructor(
    private readonly scheme: Scheme,
    private readonly lookup: (ref: BaseTableRef) => TableLayout | undefined,
    private readonly replicable: (layout: TableLayout) => boolean,
    private readonly aggregates: ReadonlySet<string>,
  ) {}

  /** Analyzes the statement's top SELECT (its output is planned by the caller). */
  analyzeTop(node: QueryNode): SelectAnalysis {
    if (!isSelectNode(node)) throw new NotDistributable(`a top-level ${describeNode(node)} runs whole`);
    return this.analyzeSelect(node, null, new Map());
  }

  /** True when `fn` is an aggregate call evaluated by the SELECT it appears in. */
  isAggregate(e: Expr): e is FunctionExpr {
    return e.class === 'FUNCTION' && this.aggregates.has((e as FunctionExpr).function_name.toLowerCase());
  }

  /** Whether the SELECT aggregates (aggregate calls, GROUP BY, or GROUP BY ALL). */
  hasAggregation(node: SelectNode): boolean {
    if (node.group_expressions.length > 0 || node.aggregate_handling === 'FORCE_AGGREGATES') return true;
    let found = false;
    for (const e of outputLevelExprs(node)) {
      walkExpr(e, (x) => {
        if (this.isAggregate(x)) found = true;
        return !found;
      });
    }
    return found;
  }

  /** Window function calls this SELECT evaluates. */
  windowsOf(node: SelectNode): WindowExpr[] {
    const out: WindowExpr[] = [];
    for (const e of outputLevelExprs(node)) {
      walkExpr(e, (x) => {
        if (x.class === 'WINDOW') out.push(x as WindowExpr);
        return undefined;
      });
    }
    return out;
  }

  /** The bucket-key column a column reference denotes in `scope`, if any. */
  keyColumnOf(e: Expr, a: SelectAnalysis): string | undefined {
    if (e.class !== 'COLUMN_REF') return undefined;
    const r = a.scope.resolve((e as ColumnRefExpr).column_names);
    if (r.kind !== 'column' || r.depth !== 0) return undefined;
    const id = columnId(r.binding, r.column);
    return a.from.keys.has(id) ? id : undefined;
  }

  /**
   * The GROUP BY expressions with positions (`GROUP BY 1`) and select-list aliases replaced by the
   * expressions they name; DuckDB prefers a FROM column over an alias of the same name.
   */
  groupExprs(a: SelectAnalysis): Expr[] {
    const node = a.node;
    if (node.aggregate_handling === 'FORCE_AGGREGATES') {
      // GROUP BY ALL: every select item that aggregates nothing.
      return node.select_list
        .filter((item) => {
          if (item.class === 'STAR') throw new NotDistributable('GROUP BY ALL with *');
          let agg = false;
          walkExpr(item, (x) => {
            if (this.isAggregate(x) || x.class === 'WINDOW') agg = true;
            return !agg;
          });
          return !agg;
        })
        .map((item) => ({ ...item, alias: '' }));
    }
    return node.group_expressions.map((g) => {
      const position = integerConstant(g);
      if (position !== undefined) {
        const item = node.select_list[position - 1];
        if (!item || item.class === 'STAR') throw new NotDistributable(`GROUP BY ${position}`);
        return { ...item, alias: '' };
      }
      if (g.class === 'COLUMN_REF' && (g as ColumnRefExpr).column_names.length === 1) {
        const r = a.scope.resolve((g as ColumnRefExpr).column_names);
        if (r.kind === 'unknown' || (r.kind === 'column' && r.depth > 0)) {
          const name = (g as ColumnRefExpr).column_names[0]!.toLowerCase();
          const item = node.select_list.find((s) => s.alias.toLowerCase() === name);
          if (item) return { ...item, alias: '' };
          if (r.kind === 'unknown') throw new NotDistributable(`cannot resolve GROUP BY ${name}`);
        }
      }
      return g;
    });
  }

  /** The grouping sets as lists of indexes into groupExprs (one set of all when none is written). */
  groupingSets(node: SelectNode, groupCount: number): number[][] {
    if (node.aggregate_handling !== 'FORCE_AGGREGATES' && node.group_sets.length > 0) return node.group_sets;
    return [Array.from({ length: groupCount }, (_, i) => i)];
  }

  /** True when every grouping set groups by a bucket key, so each group lies wholly in one task. */
  groupsByKey(a: SelectAnalysis): boolean {
    const groups = this.groupExprs(a);
    if (groups.length === 0) return false;
    return this.groupingSets(a.node, groups.length).every((set) =>
      set.some((i) => this.keyColumnOf(groups[i]!, a) !== undefined),
    );
  }

  /** True when every window function partitions by a bucket key. */
  windowsByKey(a: SelectAnalysis): boolean {
    return this.windowsOf(a.node).every((w) =>
      w.partitions.some((p) => this.keyColumnOf(p, a) !== undefined),
    );
  }

  /** Output names and key flags of a SELECT's select list, expanding `*` where the columns are known. */
  outputColumns(a: SelectAnalysis): { columns: (string | null)[] | null; keys: boolean[] | null } {
    const columns: (string | null)[] = [];
    const keys: boolean[] = [];
    for (const item of a.node.select_list) {
      if (item.class === 'STAR') {
        const expanded = this.expandStar(item, a);
        if (!expanded) return { columns: null, keys: null };
        for (const [b, c] of expanded) {
          columns.push(c);
          keys.push(a.from.keys.has(columnId(b, c)));
        }
        continue;
      }
      keys.push(this.keyColumnOf(item, a) !== undefined);
      if (item.alias) columns.push(item.alias.toLowerCase());
      else if (item.class === 'COLUMN_REF') {
        const names = (item as ColumnRefExpr).column_names;
        columns.push(names[names.length - 1]!.toLowerCase());
      } else columns.push(null);
    }
    return { columns, keys };
  }

  private expandStar(item: Expr, a: SelectAnalysis): [Binding, string][] | undefined {
    const star = item as Expr & {
      relation_name: string;
      exclude_list: unknown[];
      replace_list: unknown[];
      rename_list?: unknown[];
      qualified_exclude_list?: unknown[];
      columns: boolean;
      expr: unknown;
    };
    if (
      star.exclude_list.length ||
      star.replace_list.length ||
      star.rename_list?.length ||
      star.qualified_exclude_list?.length ||
      star.columns ||
      star.expr ||
      a.mergesColumns
    ) {
      return undefined;
    }
    const rel = star.relation_name.toLowerCase();
    const bindings = rel ? a.scope.bindings.filter((b) => b.alias === rel) : a.scope.bindings;
    const out: [Binding, string][] = [];
    for (const b of bindings) {
      if (!b.columns || b.columns.includes(null)) return undefined;
      for (const c of b.columns) out.push([b, c!]);
    }
    return out;
  }

  private analyzeSelect(node: SelectNode, outer: Scope | null, env: CteEnv): SelectAnalysis {
    const ctes = extendEnv(env, node);
    const scope = new Scope(outer);
    const merges = { value: false };
    const tree = this.buildFrom(node.from_table, scope, ctes, merges);
    const where = conjuncts(node.where_clause);
    const spine: Binding[] = [];
    const from = this.evalFrom(tree, this.equalities(where, scope), scope, spine);
    const correlations: [string, string][] = [];
    for (const c of where) {
      const pair = columnPair(c, scope);
      if (!pair) continue;
      const [l, r] = pair;
      if (l.depth === 0 && r.depth === 1)
        correlations.push([columnId(l.binding, l.column), columnId(r.binding, r.column)]);
      if (r.depth === 0 && l.depth === 1)
        correlations.push([columnId(r.binding, r.column), columnId(l.binding, l.column)]);
    }
    const analysis: SelectAnalysis = { node, scope, from, spine, correlations, mergesColumns: merges.value };
    this.analyses.push(analysis);
    for (const c of where) {
      for (const sub of subqueriesOf(c)) this.checkSubquery(sub, analysis, ctes, sub === c);
    }
    const others = levelExprs(node).filter((e) => e !== node.where_clause);
    others.push(...joinConditions(node.from_table));
    for (const e of others) for (const sub of subqueriesOf(e)) this.checkSubquery(sub, analysis, ctes, false);
    return analysis;
  }

  /** RelProps of a SELECT used as a relation (derived table, CTE, IN list). */
  private selectOutput(a: SelectAnalysis): OutputProps {
    const { columns, keys } = this.outputColumns(a);
    if (!a.from.part) return { part: false, keyOutputs: null, columns };
    const node = a.node;
    if (node.sample) throw new NotDistributable('TABLESAMPLE over distributed data');
    for (const m of node.modifiers) {
      if (m.type === 'LIMIT_MODIFIER' || m.type === 'LIMIT_PERCENT_MODIFIER') {
        throw new NotDistributable('LIMIT inside a subquery over distributed data');
      }
    }
    if (this.hasAggregation(node) && !this.groupsByKey(a)) {
      throw new NotDistributable('aggregation inside a subquery not grouped by the distribution key');
    }
    if (!this.windowsByKey(a)) {
      throw new NotDistributable('window function not partitioned by the distribution key');
    }
    const distinct = findModifier<DistinctModifier>(node, 'DISTINCT_MODIFIER');
    if (distinct) {
      const targets = distinct.distinct_on_targets.length ? distinct.distinct_on_targets : node.select_list;
      if (!targets.some((t) => this.keyColumnOf(t, a) !== undefined)) {
        throw new NotDistributable('DISTINCT inside a subquery without the distribution key');
      }
    }
    return { part: true, keyOutputs: keys, columns };
  }

  private analyzeQuery(node: QueryNode, outer: Scope | null, env: CteEnv): OutputProps {
    if (isSelectNode(node)) return this.selectOutput(this.analyzeSelect(node, outer, env));
    if (node.type === 'SET_OPERATION_NODE') {
      const set = node as SetOperationNode;
      const ctes = extendEnv(env, node);
      const left = this.analyzeQuery(set.left, outer, ctes);
      const right = this.analyzeQuery(set.right, outer, ctes);
      if (left.part || right.part) throw new NotDistributable('set operation over distributed data');
      return { part: false, keyOutputs: null, columns: left.columns };
    }
    throw new NotDistributable(`${describeNode(node)} over distributed data`);
  }

  /**
   * Runs `analyze`; when it finds no split form and every table under `node` is small, analyzes again
   * with all of them read whole (a broadcast of the whole subquery).
   */
  private withFallback<T>(node: QueryNode, env: CteEnv, analyze: () => T): T {
    const saved = new Map(this.decisions);
    try {
      return analyze();
    } catch (e) {
      if (!(e instanceof NotDistributable) || this.forced > 0 || !this.allReplicable(node, env)) throw e;
      this.decisions.clear();
      for (const [k, v] of saved) this.decisions.set(k, v);
      this.forced++;
      try {
        const result = analyze();
        this.broadcasts.push(e.message);
        return result;
      } finally {
        this.forced--;
      }
    }
  }

  private checkSubquery(sub: SubqueryExpr, outer: SelectAnalysis, env: CteEnv, positive: boolean): void {
    const node = sub.subquery.node;
    this.withFallback(node, env, () => {
      if (!isSelectNode(node)) {
        if (this.analyzeQuery(node, outer.scope, env).part) {
          throw new NotDistributable('set operation over distributed data in a subquery');
        }
        return;
      }
      const a = this.analyzeSelect(node, outer.scope, env);
      if (!a.from.part) {
        this.selectOutput(a);
        return;
      }
      if (!outer.from.part)
        throw new NotDistributable('subquery over distributed data inside a replicated one');
      // Correlated on the bucket key: for each outer row, the subquery only sees rows of that row's bucket.
      if (a.correlations.some(([inner, o]) => a.from.keys.has(inner) && outer.from.keys.has(o))) return;
      // `key IN (SELECT key ...)` as a filter: the matches for a key all live in the key's bucket.
      if (
        positive &&
        sub.subquery_type === 'ANY' &&
        sub.comparison_type === 'COMPARE_EQUAL' &&
        sub.child &&
        this.keyColumnOf(sub.child, outer) !== undefined
      ) {
        const out = this.selectOutput(a);
        if (out.part && out.keyOutputs?.[0]) return;
      }
      throw new NotDistributable(
        'a subquery over distributed data is neither co-located with its outer row nor small',
      );
    });
  }

  private allReplicable(node: QueryNode, env: CteEnv): boolean {
    let ok = true;
    forEachTableRef(statementOf(node), (ref, cte) => {
      const name = ref.table_name.toLowerCase();
      if (cte) return;
      // A CTE of the enclosing query: its body's tables count.
      const def = ref.schema_name ? undefined : env.get(name);
      if (def) {
        if (!this.allReplicable(def.entry.value.query.node, def.env)) ok = false;
        return;
      }
      const layout = this.lookup(ref);
      if (!layout || !this.replicable(layout)) ok = false;
    });
    return ok;
  }

  private buildFrom(ref: TableRef, scope: Scope, env: CteEnv, merges: { value: boolean }): FromTree {
    switch (ref.type) {
      case 'EMPTY':
        return { kind: 'none' };
      case 'BASE_TABLE':
        return { kind: 'leaf', binding: this.bindTable(ref as BaseTableRef, scope, env) };
      case 'SUBQUERY': {
        const sub = ref as SubqueryRef;
        if (ref.sample) throw new NotDistributable('TABLESAMPLE');
        // A derived table may read the FROM items before it (LATERAL), so it sees them as its outer scope.
        const props = this.withFallback(sub.subquery.node, env, () =>
          this.analyzeQuery(sub.subquery.node, scope, env),
        );
        return { kind: 'leaf', binding: this.bindDerived(ref, ref.alias ?? '', props, scope) };
      }
      case 'TABLE_FUNCTION': {
        const fn = (ref as TableFunctionRef).function;
        const name = fn.function_name?.toLowerCase();
        if (!PURE_TABLE_FUNCTIONS.has(name)) throw new NotDistributable(`table function ${name}`);
        for (const c of fn.children ?? []) {
          if (subqueriesOf(c).length) throw new NotDistributable(`subquery in the arguments of ${name}`);
        }
        return { kind: 'leaf', binding: this.addBinding(scope, ref.alias || name, null, new Set(), false) };
      }
      case 'EXPRESSION_LIST': {
        const values = (ref as TableRef & { values?: unknown }).values;
        if (someNode(values, (n) => n['class'] === 'SUBQUERY')) {
          throw new NotDistributable('subquery in VALUES');
        }
        const names = ref.column_name_alias?.length
          ? ref.column_name_alias.map((c) => c.toLowerCase())
          : null;
        return {
          kind: 'leaf',
          binding: this.addBinding(scope, ref.alias || 'valueslist', names, new Set(), false),
        };
      }
      case 'JOIN': {
        const join = ref as JoinRef;
        if (join.using_columns.length || join.ref_type === 'NATURAL') merges.value = true;
        const left = this.buildFrom(join.left, scope, env, merges);
        const right = this.buildFrom(join.right, scope, env, merges);
        const tree: FromTree = { kind: 'join', ref: join, left, right };
        this.mergeUsingColumns(tree, scope);
        return tree;
      }
      default:
        throw new NotDistributable(`${ref.type} in FROM`);
    }
  }

  /** After `a JOIN b USING (c)`, an unqualified `c` is a's (LEFT, INNER), b's (RIGHT), or neither (FULL). */
  private mergeUsingColumns(tree: FromTree & { kind: 'join' }, scope: Scope): void {
    const { ref } = tree;
    let using = ref.using_columns.map((c) => c.toLowerCase());
    if (ref.ref_type === 'NATURAL') {
      const l = new Set(leaves(tree.left).flatMap((b) => b.columns ?? []));
      using = [...new Set(leaves(tree.right).flatMap((b) => b.columns ?? []))].filter(
        (c): c is string => c !== null && l.has(c),
      );
    }
    for (const c of using) {
      const side =
        ref.join_type === 'RIGHT'
          ? tree.right
          : ref.join_type === 'INNER' || ref.join_type === 'LEFT'
            ? tree.left
            : null;
      const holders = side ? leaves(side).filter((b) => b.columns?.includes(c)) : [];
      scope.mergeColumn(c, holders.length === 1 ? holders[0]! : null);
    }
  }

  private bindTable(ref: BaseTableRef, scope: Scope, env: CteEnv): Binding {
    const name = ref.table_name.toLowerCase();
    const cte = ref.schema_name ? undefined : env.get(name);
    if (cte) {
      const node = cte.entry.value.query.node;
      const props = this.withFallback(node, cte.env, () => this.analyzeQuery(node, null, cte.env));
      if (ref.sample && props.part) throw new NotDistributable('TABLESAMPLE over distributed data');
      const aliases = cte.entry.value.aliases;
      const renamed: OutputProps =
        aliases.length && props.columns
          ? { ...props, columns: props.columns.map((c, i) => aliases[i]?.toLowerCase() ?? c) }
          : props;
      return this.bindDerived(ref, ref.alias || name, renamed, scope);
    }
    const layout = this.lookup(ref);
    if (!layout) throw new NotDistributable(`${name} is not a distributed table`);
    const d = layout.distribution;
    const shuffleKey = this.scheme.kind === 'hash' ? this.scheme.shuffled?.get(ref) : undefined;
    let decision: 'partitioned' | 'replicated';
    if (this.forced > 0) decision = 'replicated';
    else if (this.scheme.kind === 'files') decision = ref === this.scheme.ref ? 'partitioned' : 'replicated';
    else
      decision =
        shuffleKey !== undefined || (d.kind === 'hash' && d.colocationGroup === this.scheme.group)
          ? 'partitioned'
          : 'replicated';
    if (decision === 'replicated' && !this.replicable(layout)) {
      throw new NotDistributable(
        `${layout.name} is too large to read whole in every task and is not co-located`,
      );
    }
    if (decision === 'partitioned' && ref.sample)
      throw new NotDistributable('TABLESAMPLE over distributed data');
    const previous = this.decisions.get(ref);
    if (previous && previous !== decision) {
      throw new NotDistributable(`${layout.name} would be both split and read whole (a CTE used twice)`);
    }
    this.decisions.set(ref, decision);
    const rename = ref.column_name_alias ?? [];
    const columns = layout.columns.map((c, i) => (rename[i] ?? c.name).toLowerCase());
    const keys = new Set<string>();
    const keyColumn = shuffleKey ?? (d.kind === 'hash' ? d.column : undefined);
    if (decision === 'partitioned' && keyColumn !== undefined && this.scheme.kind === 'hash') {
      const i = layout.columns.findIndex((c) => c.name.toLowerCase() === keyColumn.toLowerCase());
      if (i >= 0) keys.add(columns[i]!);
    }
    const binding = this.addBinding(scope, ref.alias || name, columns, keys, decision === 'partitioned', {
      ref,
      layout,
    });
    return binding;
  }

  private bindDerived(ref: TableRef, alias: string, props: OutputProps, scope: Scope): Binding {
    const rename = (ref.column_name_alias ?? []).map((c) => c.toLowerCase());
    let columns: (string | null)[] | null = props.columns ? [...props.columns] : null;
    if (rename.length) {
      // `AS t(a, b)` renames the first columns; when the rest are unknown, say so with a null.
      if (!columns) columns = [...rename, null];
      else for (let i = 0; i < Math.min(rename.length, columns.length); i++) columns[i] = rename[i]!;
    }
    const keys = new Set<string>();
    if (props.part && props.keyOutputs && columns) {
      props.keyOutputs.forEach((k, i) => {
        const c = columns?.[i];
        if (k && c) keys.add(c);
      });
    }
    return this.addBinding(scope, alias.toLowerCase(), columns, keys, props.part);
  }

  private addBinding(
    scope: Scope,
    alias: string,
    columns: readonly (string | null)[] | null,
    keys: ReadonlySet<string>,
    part: boolean,
    table?: Binding['table'],
  ): Binding {
    const binding: Binding = {
      id: this.nextBindingId++,
      alias: alias.toLowerCase(),
      columns,
      keys,
      part,
      table,
    };
    scope.bindings.push(binding);
    return binding;
  }

  /** Column equalities (both sides columns of this SELECT's FROM) among `predicates`. */
  private equalities(predicates: readonly Expr[], scope: Scope): [string, string][] {
    const out: [string, string][] = [];
    for (const p of predicates) {
      const pair = columnPair(p, scope);
      if (pair && pair[0].depth === 0 && pair[1].depth === 0) {
        out.push([columnId(pair[0].binding, pair[0].column), columnId(pair[1].binding, pair[1].column)]);
      }
    }
    return out;
  }

  private joinPairs(join: JoinRef, left: FromTree, right: FromTree, scope: Scope): [string, string][] {
    const pairs = this.equalities(conjuncts(join.condition), scope);
    const sideColumn = (tree: FromTree, column: string): string | undefined => {
      const holders = leaves(tree).filter((b) => b.columns?.includes(column));
      if (holders.length !== 1 || leaves(tree).some((b) => !b.columns || b.columns.includes(null)))
        return undefined;
      return columnId(holders[0]!, column);
    };
    let using = join.using_columns.map((c) => c.toLowerCase());
    if (join.ref_type === 'NATURAL') {
      const l = new Set(leaves(left).flatMap((b) => b.columns ?? []));
      using = [...new Set(leaves(right).flatMap((b) => b.columns ?? []))].filter(
        (c): c is string => c !== null && l.has(c),
      );
    }
    for (const c of using) {
      const l = sideColumn(left, c);
      const r = sideColumn(right, c);
      if (l && r) pairs.push([l, r]);
    }
    return pairs;
  }

  private evalFrom(
    tree: FromTree,
    extra: readonly [string, string][],
    scope: Scope,
    spine?: Binding[],
  ): RelProps {
    if (tree.kind === 'none') return { part: false, keys: new Set() };
    if (tree.kind === 'leaf') {
      spine?.push(tree.binding);
      return leafProps(tree.binding);
    }
    if (!isInnerJoin(tree.ref)) return this.evalOuterJoin(tree, scope);
    const units: RelProps[] = [];
    const pairs: [string, string][] = [...extra];
    const collect = (t: FromTree): void => {
      if (t.kind === 'join' && isInnerJoin(t.ref)) {
        collect(t.left);
        collect(t.right);
        pairs.push(...this.joinPairs(t.ref, t.left, t.right, scope));
      } else if (t.kind === 'leaf') {
        spine?.push(t.binding);
        units.push(leafProps(t.binding));
      } else if (t.kind === 'join') units.push(this.evalOuterJoin(t, scope));
    };
    collect(tree);
    return this.evalInnerJoin(units, pairs);
  }

  /** An inner-join block: a filtered cross product of its units. */
  private evalInnerJoin(units: readonly RelProps[], pairs: readonly [string, string][]): RelProps {
    const parts = units.filter((u) => u.part);
    if (parts.length === 0) return { part: false, keys: new Set() };
    if (parts.length === 1 && this.scheme.kind === 'files') return parts[0]!;
    if (this.scheme.kind === 'files') throw new NotDistributable('joins two split relations');
    const classes = new UnionFind();
    for (const [a, b] of pairs) classes.union(a, b);
    // Split units are connected when their key columns fall into one equality class.
    const units2 = new UnionFind();
    const rootsOf = parts.map((u) => new Set([...u.keys].map((k) => classes.find(k))));
    parts.forEach((_, i) => {
      for (const root of rootsOf[i]!) units2.union(`u${i}`, `r${root}`);
    });
    const first = units2.find('u0');
    if (parts.some((_, i) => units2.find(`u${i}`) !== first)) {
      throw new NotDistributable('split tables are joined on something other than their distribution key');
    }
    const keyRoots = new Set(rootsOf.flatMap((s) => [...s]));
    const keys = new Set<string>();
    for (const u of parts) for (const k of u.keys) keys.add(k);
    for (const c of classes.members()) if (keyRoots.has(classes.find(c))) keys.add(c);
    return { part: true, keys };
  }

  private evalOuterJoin(tree: FromTree & { kind: 'join' }, scope: Scope): RelProps {
    const { ref } = tree;
    const left = this.evalFrom(tree.left, [], scope);
    const right = this.evalFrom(tree.right, [], scope);
    if (!left.part && !right.part) return { part: false, keys: new Set() };
    if (ref.ref_type === 'POSITIONAL') throw new NotDistributable('POSITIONAL JOIN over distributed data');
    const asof = ref.ref_type === 'ASOF';
    const type = ref.join_type;
    const keepsLeft = asof || type === 'LEFT' || type === 'SEMI' || type === 'ANTI';
    const keepsRight = !asof && type === 'RIGHT';
    const full = !asof && (type === 'OUTER' || type === 'FULL');
    if (!keepsLeft && !keepsRight && !full) throw new NotDistributable(`${type} join over distributed data`);
    if (left.part && right.part) {
      const classes = new UnionFind();
      for (const [a, b] of this.joinPairs(ref, tree.left, tree.right, scope)) classes.union(a, b);
      const leftRoots = new Set([...left.keys].map((k) => classes.find(k)));
      if (![...right.keys].some((k) => leftRoots.has(classes.find(k)))) {
        throw new NotDistributable(`${joinName(ref)} of split tables not on their distribution key`);
      }
      return { part: true, keys: keepsLeft ? left.keys : keepsRight ? right.keys : new Set() };
    }
    if (left.part && keepsLeft) return left;
    if (right.part && keepsRight) return right;
    throw new NotDistributable(`${joinName(ref)} would replicate its preserved side`);
  }
}

function statementOf(node: QueryNode): { node: QueryNode } {
  return { node };
}

function leafProps(b: Binding): RelProps {
  return { part: b.part, keys: new Set([...b.keys].map((c) => columnId(b, c))) };
}

function leaves(tree: FromTree): Binding[] {
  if (tree.kind === 'leaf') return [tree.binding];
  if (tree.kind === 'join') return [...leaves(tree.left), ...leaves(tree.right)];
  return [];
}

function isInnerJoin(ref: JoinRef): boolean {
  return (
    ref.join_type === 'INNER' &&
    (ref.ref_type === 'REGULAR' || ref.ref_type === 'CROSS' || ref.ref_type === 'NATURAL')
  );
}

function joinName(ref: JoinRef): string {
  if (ref.ref_type === 'ASOF') return 'ASOF join';
  return `${ref.join_type === 'OUTER' ? 'FULL' : ref.join_type} join`;
}

function describeNode(node: QueryNode): string {
  if (node.type === 'SET_OPERATION_NODE') return 'set operation';
  if (node.type === 'RECURSIVE_CTE_NODE') return 'recursive CTE';
  return node.type.toLowerCase();
}

/** Conditions of the joins in a FROM clause (evaluated at this SELECT's level). */
function joinConditions(ref: TableRef): Expr[] {
  if (ref.type !== 'JOIN') return [];
  const j = ref as JoinRef;
  return [...(j.condition ? [j.condition] : []), ...joinConditions(j.left), ...joinConditions(j.right)];
}

/** Expressions computed over the SELECT's output rows (where aggregates and windows live). */
function outputLevelExprs(node: SelectNode): Expr[] {
  const out: Expr[] = [...node.select_list];
  if (node.having) out.push(node.having);
  if (node.qualify) out.push(node.qualify);
  const order = findModifier<OrderModifier>(node, 'ORDER_MODIFIER');
  if (order) out.push(...order.orders.map((o) => o.expression));
  return out;
}

/** `a = b` (or IS NOT DISTINCT FROM) between two column references, resolved. */
function columnPair(
  e: Expr,
  scope: Scope,
): [Resolution & { kind: 'column' }, Resolution & { kind: 'column' }] | undefined {
  if (e.type !== 'COMPARE_EQUAL' && e.type !== 'COMPARE_NOT_DISTINCT_FROM') return undefined;
  const c = e as ComparisonExpr;
  if (c.left.class !== 'COLUMN_REF' || c.right.class !== 'COLUMN_REF') return undefined;
  const l = scope.resolve((c.left as ColumnRefExpr).column_names);
  const r = scope.resolve((c.right as ColumnRefExpr).column_names);
  if (l.kind !== 'column' || r.kind !== 'column') return undefined;
  return [l, r];
}

function extendEnv(env: CteEnv, node: QueryNode): CteEnv {
  const entries = node.cte_map?.map ?? [];
  if (entries.length === 0) return env;
  const out = new Map(env);
  for (const entry of entries) {
    // A CTE sees the ones defined before it (and, in WITH RECURSIVE, itself: analyzed as unsupported).
    out.set(entry.key.toLowerCase(), { entry, env: new Map(out) });
  }
  return out;
}

class UnionFind {
  private readonly parent = new Map<string, string>();

  find(x: string): string {
    if (!this.parent.has(x)) this.parent.set(x, x);
    let root = x;
    while (this.parent.get(root) !== root) root = this.parent.get(root)!;
    for (let c = x; c !== root; ) {
      const next = this.parent.get(c)!;
      this.parent.set(c, root);
      c = next;
    }
    return root;
  }

  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }

  members(): string[] {
    return [...this.parent.keys()];
  }
}
