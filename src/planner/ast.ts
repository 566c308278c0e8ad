// DuckDB's parse tree as json_serialize_sql writes it, typed as far as the planner reads it, with the
// generic walks the planner needs. Node shapes follow DuckDB's serializer; fields the planner does not
// read stay untyped and are carried through unchanged.

import { JsonNumber } from './losslessJson.js';

/** Any object of the tree. */
export interface AstObject {
  [key: string]: unknown;
}

/** One parsed statement: json_serialize_sql's `statements[i]`. */
export interface SelectStatement extends AstObject {
  node: QueryNode;
}

/** A query: SELECT_NODE, SET_OPERATION_NODE or RECURSIVE_CTE_NODE, with its modifiers and CTEs. */
export interface QueryNode extends AstObject {
  type: string;
  modifiers: Modifier[];
  cte_map: CteMap;
}

/** One `name AS (query)` of a WITH clause. */
export interface CteEntry {
  key: string;
  value: { aliases: string[]; query: SelectStatement; materialized: string; [key: string]: unknown };
}

/** The WITH clause of a query node. */
export interface CteMap extends AstObject {
  map: CteEntry[];
}

/** One SELECT block. `group_sets` index `group_expressions`; a plain GROUP BY is one set of all. */
export interface SelectNode extends QueryNode {
  select_list: Expr[];
  from_table: TableRef;
  where_clause: Expr | null;
  group_expressions: Expr[];
  group_sets: number[][];
  aggregate_handling: string;
  having?: Expr | null;
  qualify?: Expr | null;
  sample?: unknown;
}

/** UNION / INTERSECT / EXCEPT (`setop_all` for ALL). */
export interface SetOperationNode extends QueryNode {
  setop_type: string;
  setop_all?: boolean;
  left: QueryNode;
  right: QueryNode;
}

/** ORDER BY, LIMIT/OFFSET or DISTINCT [ON] of a query node. */
export interface Modifier extends AstObject {
  type: string;
}

/** One ORDER BY term: ASCENDING / DESCENDING / ORDER_DEFAULT and NULLS FIRST / NULLS LAST / ORDER_DEFAULT. */
export interface OrderTerm extends AstObject {
  type: string;
  null_order: string;
  expression: Expr;
}

/** ORDER BY. */
export interface OrderModifier extends Modifier {
  orders: OrderTerm[];
}

/** LIMIT / OFFSET, each an expression or null. */
export interface LimitModifier extends Modifier {
  limit: Expr | null;
  offset: Expr | null;
}

/** DISTINCT (no targets) or DISTINCT ON (targets). */
export interface DistinctModifier extends Modifier {
  distinct_on_targets: Expr[];
}

/** A FROM item: BASE_TABLE, JOIN, SUBQUERY, TABLE_FUNCTION, EXPRESSION_LIST, EMPTY, ... */
export interface TableRef extends AstObject {
  type: string;
  alias?: string;
  column_name_alias?: string[];
  sample?: unknown;
}

/** A table (or CTE, or view) named in FROM. */
export interface BaseTableRef extends TableRef {
  table_name: string;
  schema_name?: string;
  catalog_name?: string;
}

/** A join: join_type INNER/LEFT/RIGHT/FULL/SEMI/ANTI, ref_type REGULAR/CROSS/NATURAL/ASOF/POSITIONAL. */
export interface JoinRef extends TableRef {
  left: TableRef;
  right: TableRef;
  condition: Expr | null;
  join_type: string;
  ref_type: string;
  using_columns: string[];
}

/** A derived table `(SELECT ...) AS alias`. */
export interface SubqueryRef extends TableRef {
  subquery: SelectStatement;
}

/** A table function call in FROM, such as `range(10)` or `read_parquet(...)`. */
export interface TableFunctionRef extends TableRef {
  function: FunctionExpr;
}

/** An expression; `class` is its kind (COLUMN_REF, FUNCTION, WINDOW, SUBQUERY, ...), `type` the detail. */
export interface Expr extends AstObject {
  class: string;
  type: string;
  alias: string;
}

/** `a`, `t.a`, or `t.a.field`. */
export interface ColumnRefExpr extends Expr {
  column_names: string[];
}

/** A scalar or aggregate function call (operators too, with `is_operator`). */
export interface FunctionExpr extends Expr {
  function_name: string;
  schema: string;
  children: Expr[];
  filter: Expr | null;
  order_bys: OrderModifier;
  distinct: boolean;
  is_operator: boolean;
}

/** A window function call with its PARTITION BY and ORDER BY. */
export interface WindowExpr extends Expr {
  function_name: string;
  children: Expr[];
  partitions: Expr[];
  orders: OrderTerm[];
}

/** A subquery in an expression: SCALAR, EXISTS, NOT_EXISTS or ANY (`child op ANY (...)`, IN). */
export interface SubqueryExpr extends Expr {
  subquery_type: string;
  subquery: SelectStatement;
  child: Expr | null;
  comparison_type: string;
}

/** A literal with its DuckDB type. */
export interface ConstantExpr extends Expr {
  value: { type: { id: string; [key: string]: unknown }; is_null: boolean; value?: unknown };
}

/** `left op right`. */
export interface ComparisonExpr extends Expr {
  left: Expr;
  right: Expr;
}

/** `input BETWEEN lower AND upper`. */
export interface BetweenExpr extends Expr {
  input: Expr;
  lower: Expr;
  upper: Expr;
}

/** AND/OR, NOT, IS [NOT] NULL, IN lists, COALESCE: an operator over `children`. */
export interface OperatorExpr extends Expr {
  children: Expr[];
}

/** `CAST(child AS type)`. */
export interface CastExpr extends Expr {
  child: Expr;
  cast_type: AstObject;
  try_cast: boolean;
}

/** A plain tree object (not an array, not a JsonNumber). */
export function isObject(v: unknown): v is AstObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);
}

/** Parsed expressions carry a `class`; table refs, query nodes and values do not. */
export function isExpr(v: unknown): v is Expr {
  return isObject(v) && typeof v['class'] === 'string';
}

/** Narrows a query node to a SELECT (not a set operation or recursive CTE). */
export function isSelectNode(node: QueryNode): node is SelectNode {
  return node.type === 'SELECT_NODE';
}

/** Calls `fn` on every direct sub-expression of `expr`. A subquery's own query is not entered. */
export function forEachChildExpr(expr: Expr, fn: (child: Expr) => void): void {
  if (expr.class === 'SUBQUERY') {
    const child = (expr as SubqueryExpr).child;
    if (child) fn(child);
    return;
  }
  for (const [key, value] of Object.entries(expr)) {
    if (key === 'value' || key === 'cast_type') continue;
    findExprs(value, fn);
  }
}

function findExprs(value: unknown, fn: (child: Expr) => void): void {
  if (isExpr(value)) fn(value);
  else if (Array.isArray(value)) for (const v of value) findExprs(v, fn);
  else if (isObject(value)) for (const v of Object.values(value)) findExprs(v, fn);
}

/**
 * Pre-order walk of one query level's expression tree: `fn` sees `expr` and then, unless it returns
 * false, its sub-expressions. Subqueries are visited as nodes but not entered.
 */
export function walkExpr(expr: Expr, fn: (e: Expr) => boolean | undefined): void {
  if (fn(expr) === false) return;
  forEachChildExpr(expr, (c) => walkExpr(c, fn));
}

/**
 * A copy of `expr` in which every sub-expression for which `fn` returns a replacement is replaced (the
 * replacement is not walked further). Subquery expressions keep their query by reference.
 */
export function mapExpr(expr: Expr, fn: (e: Expr) => Expr | undefined): Expr {
  const replaced = fn(expr);
  if (replaced) return replaced;
  if (expr.class === 'SUBQUERY') {
    const sub = expr as SubqueryExpr;
    return { ...sub, child: sub.child ? mapExpr(sub.child, fn) : null };
  }
  const out: AstObject = {};
  for (const [key, value] of Object.entries(expr)) {
    out[key] = key === 'value' || key === 'cast_type' ? value : mapValue(value, fn);
  }
  return out as Expr;
}

function mapValue(value: unknown, fn: (e: Expr) => Expr | undefined): unknown {
  if (isExpr(value)) return mapExpr(value, fn);
  if (Array.isArray(value)) return value.map((v) => mapValue(v, fn));
  if (isObject(value)) {
    const out: AstObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = mapValue(v, fn);
    return out;
  }
  return value;
}

/**
 * A deep copy of any part of the tree; objects for which `replace` returns a value (matched by identity,
 * e.g. one table reference) are replaced by that value instead of copied.
 */
export function cloneTree<T>(value: T, replace?: (node: AstObject) => unknown): T {
  const visit = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(visit);
    if (isObject(v)) {
      const r = replace?.(v);
      if (r !== undefined) return r;
      const out: AstObject = {};
      for (const [k, x] of Object.entries(v)) out[k] = visit(x);
      return out;
    }
    return v;
  };
  return visit(value) as T;
}

/** The AND-ed parts of a predicate (the predicate itself when it is not an AND). */
export function conjuncts(expr: Expr | null | undefined): Expr[] {
  if (!expr) return [];
  if (expr.type === 'CONJUNCTION_AND') return (expr as OperatorExpr).children.flatMap((c) => conjuncts(c));
  return [expr];
}

const IGNORED_KEYS = new Set(['query_location']);

/** A string equal for two expressions exactly when their trees are equal, ignoring positions and alias. */
export function exprKey(expr: Expr): string {
  return JSON.stringify({ ...expr, alias: '' }, (k, v) => (IGNORED_KEYS.has(k) ? undefined : v));
}

/** The expressions one SELECT evaluates itself (not those of its subqueries or derived tables). */
export function levelExprs(node: SelectNode): Expr[] {
  const out: Expr[] = [...node.select_list];
  if (node.where_clause) out.push(node.where_clause);
  if (node.having) out.push(node.having);
  if (node.qualify) out.push(node.qualify);
  out.push(...node.group_expressions);
  for (const m of node.modifiers) {
    if (m.type === 'ORDER_MODIFIER') out.push(...(m as OrderModifier).orders.map((o) => o.expression));
    else if (m.type === 'DISTINCT_MODIFIER') out.push(...(m as DistinctModifier).distinct_on_targets);
    else if (m.type === 'LIMIT_MODIFIER' || m.type === 'LIMIT_PERCENT_MODIFIER') {
      const l = m as LimitModifier;
      if (l.limit) out.push(l.limit);
      if (l.offset) out.push(l.offset);
    }
  }
  return out;
}

/** Every subquery expression evaluated at this level of an expression tree. */
export function subqueriesOf(expr: Expr): SubqueryExpr[] {
  const out: SubqueryExpr[] = [];
  walkExpr(expr, (e) => {
    if (e.class === 'SUBQUERY') out.push(e as SubqueryExpr);
    return undefined;
  });
  return out;
}

/** The query's modifier of `type` (ORDER_MODIFIER, LIMIT_MODIFIER, DISTINCT_MODIFIER), if any. */
export function findModifier<T extends Modifier>(node: QueryNode, type: string): T | undefined {
  return node.modifiers.find((m) => m.type === type) as T | undefined;
}

/** The value of an integer constant expression, or undefined for anything else. */
export function integerConstant(expr: Expr | null | undefined): number | undefined {
  if (expr?.class !== 'CONSTANT') return undefined;
  const v = (expr as ConstantExpr).value;
  if (v.is_null) return undefined;
  const id = v.type.id;
  if (
    !['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT'].includes(id)
  )
    return undefined;
  const n = Number(v.value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** True when the expression reads no column and no subquery (so it is a constant of the query). */
export function isConstantExpr(expr: Expr, volatile: ReadonlySet<string>): boolean {
  let constant = true;
  walkExpr(expr, (e) => {
    if (
      e.class === 'COLUMN_REF' ||
      e.class === 'SUBQUERY' ||
      e.class === 'PARAMETER' ||
      e.class === 'WINDOW' ||
      e.class === 'LAMBDA' ||
      e.class === 'STAR' ||
      (e.class === 'FUNCTION' && volatile.has((e as FunctionExpr).function_name.toLowerCase()))
    ) {
      constant = false;
      return false;
    }
    return undefined;
  });
  return constant;
}

/** True when the expression reads no column of any table (at this level). */
export function readsNoColumn(expr: Expr): boolean {
  let none = true;
  walkExpr(expr, (e) => {
    if (e.class === 'COLUMN_REF' || e.class === 'SUBQUERY' || e.class === 'STAR') {
      none = false;
      return false;
    }
    return undefined;
  });
  return none;
}

/** A column reference `name` (one unqualified name) as the parser would produce it. */
export function columnRef(name: string): ColumnRefExpr {
  return { class: 'COLUMN_REF', type: 'COLUMN_REF', alias: '', column_names: [name] };
}

/** A function call (or aggregate) node with the fields DuckDB's deserializer reads. */
export function functionCall(
  name: string,
  children: Expr[],
  options: { filter?: Expr | null; distinct?: boolean; isOperator?: boolean; orderBys?: OrderTerm[] } = {},
): FunctionExpr {
  return {
    class: 'FUNCTION',
    type: 'FUNCTION',
    alias: '',
    function_name: name,
    schema: '',
    children,
    filter: options.filter ?? null,
    order_bys: { type: 'ORDER_MODIFIER', orders: options.orderBys ?? [] },
    distinct: options.distinct ?? false,
    is_operator: options.isOperator ?? false,
    export_state: false,
    catalog: '',
  };
}

/** An arithmetic or comparison operator written as a function call, e.g. `-` or `*`. */
export function operator(name: string, children: Expr[]): FunctionExpr {
  return functionCall(name, children, { isOperator: true });
}

/** An integer constant (INTEGER, or BIGINT beyond 32 bits). */
export function integerLiteral(value: number): ConstantExpr {
  const id = value >= -(2 ** 31) && value < 2 ** 31 ? 'INTEGER' : 'BIGINT';
  return {
    class: 'CONSTANT',
    type: 'VALUE_CONSTANT',
    alias: '',
    value: { type: { id, type_info: null }, is_null: false, value },
  };
}

/** The NULL constant. */
export function nullLiteral(): ConstantExpr {
  return {
    class: 'CONSTANT',
    type: 'VALUE_CONSTANT',
    alias: '',
    value: { type: { id: 'NULL', type_info: null }, is_null: true },
  };
}

/** `COALESCE(children...)`. */
export function coalesce(children: Expr[]): OperatorExpr {
  return { class: 'OPERATOR', type: 'OPERATOR_COALESCE', alias: '', children };
}

/** `child IS NOT NULL`. */
export function isNotNull(child: Expr): OperatorExpr {
  return { class: 'OPERATOR', type: 'OPERATOR_IS_NOT_NULL', alias: '', children: [child] };
}

/** The conjunction of `children` (the child itself when there is one). */
export function and(children: Expr[]): Expr {
  if (children.length === 1) return children[0]!;
  return { class: 'CONJUNCTION', type: 'CONJUNCTION_AND', alias: '', children };
}

/** A comparison such as COMPARE_EQUAL or COMPARE_GREATERTHAN. */
export function comparison(type: string, left: Expr, right: Expr): ComparisonExpr {
  return { class: 'COMPARISON', type, alias: '', left, right };
}

/** `CASE WHEN when THEN then ELSE otherwise END`. */
export function caseWhen(when: Expr, then: Expr, otherwise: Expr): Expr {
  return {
    class: 'CASE',
    type: 'CASE_EXPR',
    alias: '',
    case_checks: [{ when_expr: when, then_expr: then }],
    else_expr: otherwise,
  };
}

/** A CAST node; `castType` is a type as the parser serializes it (see TypeCatalog). */
export function cast(child: Expr, castType: AstObject): CastExpr {
  return { class: 'CAST', type: 'OPERATOR_CAST', alias: '', child, cast_type: castType, try_cast: false };
}

/** A copy of `expr` carrying `alias` (its output name in a select list). */
export function withAlias<T extends Expr>(expr: T, alias: string): T {
  return { ...expr, alias };
}

/** `*` in a select list. */
export function star(): Expr {
  return {
    class: 'STAR',
    type: 'STAR',
    alias: '',
    relation_name: '',
    exclude_list: [],
    replace_list: [],
    columns: false,
    expr: null,
    qualified_exclude_list: [],
    rename_list: [],
  };
}

/** A reference to a table by name (the planner's own relations, such as `task_results`). */
export function baseTable(name: string, alias = ''): BaseTableRef {
  return {
    type: 'BASE_TABLE',
    alias,
    sample: null,
    schema_name: '',
    table_name: name,
    column_name_alias: [],
    catalog_name: '',
    at_clause: null,
  };
}

/** A SELECT node with the fields DuckDB's deserializer reads. */
export function selectNode(parts: {
  select: Expr[];
  from: TableRef;
  where?: Expr | null;
  groups?: Expr[];
  groupSets?: number[][];
  having?: Expr | null;
  qualify?: Expr | null;
  modifiers?: Modifier[];
  cteMap?: CteMap;
}): SelectNode {
  return {
    type: 'SELECT_NODE',
    modifiers: parts.modifiers ?? [],
    cte_map: parts.cteMap ?? { map: [] },
    select_list: parts.select,
    from_table: parts.from,
    where_clause: parts.where ?? null,
    group_expressions: parts.groups ?? [],
    // A plain GROUP BY is one grouping set of all its expressions; DuckDB writes it out that way.
    group_sets: parts.groupSets ?? (parts.groups?.length ? [parts.groups.map((_, i) => i)] : []),
    aggregate_handling: 'STANDARD_HANDLING',
    having: parts.having ?? null,
    sample: null,
    qualify: parts.qualify ?? null,
  };
}

/** Wraps a query node as a statement for deparse. */
export function statement(node: QueryNode): SelectStatement {
  return { node, named_param_map: [] };
}

/**
 * Calls `visit` for every table reference by name anywhere in the tree, with whether a CTE of that name
 * is visible there (then it names the CTE, not a table). A non-recursive CTE sees the CTEs defined
 * before it but not itself: `WITH t AS (SELECT * FROM t)` reads the table t.
 */
export function forEachTableRef(root: unknown, visit: (ref: BaseTableRef, cte: boolean) => void): void {
  const walk = (v: unknown, ctes: ReadonlySet<string>): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x, ctes);
      return;
    }
    if (!isObject(v)) return;
    if (v['type'] === 'BASE_TABLE' && typeof v['table_name'] === 'string') {
      const ref = v as BaseTableRef;
      visit(ref, !ref.schema_name && ctes.has(ref.table_name.toLowerCase()));
      return;
    }
    let names = ctes;
    const entries = (v['cte_map'] as CteMap | undefined)?.map ?? [];
    for (const entry of entries) {
      const key = entry.key.toLowerCase();
      const recursive = entry.value.query.node.type === 'RECURSIVE_CTE_NODE';
      walk(entry.value.query, recursive ? new Set([...names, key]) : names);
      names = new Set([...names, key]);
    }
    for (const [k, x] of Object.entries(v)) if (k !== 'cte_map') walk(x, names);
  };
  walk(root, new Set());
}

/** True when some object anywhere in the tree satisfies `test`. */
export function someNode(root: unknown, test: (node: AstObject) => boolean): boolean {
  if (Array.isArray(root)) return root.some((x) => someNode(x, test));
  if (!isObject(root)) return false;
  return test(root) || Object.values(root).some((x) => someNode(x, test));
}
