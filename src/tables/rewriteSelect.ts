import type { SqlParser, SqlTree } from '../sql/SqlParser.js';

/** What a table reference in a query turns into. */
export interface ResolvedRelation {
  /** SQL of the rows (a SELECT), read in place of the reference. */
  readonly sql: string;
  /** Column names to give the subquery (a view's explicit column list), or null. */
  readonly columns?: readonly string[] | null;
}

/** The callbacks a rewrite asks; each returns null for a name it does not own (left to DuckDB). */
export interface SelectRewriter {
  /** A table reference `schema.name` (schema '' when unqualified). May be async (views rewrite their own SQL). */
  relation(schema: string, name: string): Promise<ResolvedRelation | null> | ResolvedRelation | null;
  /**
   * A function call that the catalog answers (nextval, currval, setval), with its constant arguments:
   * SQL text of the value, or null to leave the call alone.
   */
  func?(name: string, args: readonly unknown[]): Promise<string | null> | string | null;
}

/** Functions `func` may be asked about. */
export const CATALOG_FUNCTIONS: ReadonlySet<string> = new Set(['nextval', 'currval', 'setval', 'lastval']);

/** What `rewriteSelect` did, so a caller can skip work when nothing was replaced. */
export interface RewriteResult {
  readonly sql: string;
  readonly replaced: number;
}

type Node = Record<string, unknown>;

/**
 * Replaces every table reference of a DuckDB statement tree (json_serialize_sql) that `rewriter` owns
 * by a subquery over its rows, and catalog function calls by their values. The tree is DuckDB's own
 * parse, so CTE names, aliases and quoting are the parser's, never guessed from the text.
 *
 * References are swapped for a unique placeholder name in the tree, the tree is printed by DuckDB, and
 * each placeholder identifier is then replaced by the parenthesized subquery: printing a relation's
 * SQL (which may hold thousands of inline rows) through the parser would cost more than the query.
 */
export async function rewriteSelect(
  parser: SqlParser,
  tree: SqlTree,
  rewriter: SelectRewriter,
  castMarkers: ReadonlyMap<string, SqlTree> = new Map(),
): Promise<RewriteResult> {
  const nonce = Math.random().toString(36).slice(2, 10);
  const ctes = new Set<string>();
  collectCteNames(tree, ctes);
  const substitutions = new Map<string, string>();
  let counter = 0;
  const token = () => `__mallard_${nonce}_${counter++}`;

  const visit = async (node: unknown, inSelectList: boolean): Promise<unknown> => {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) node[i] = await visit(node[i], inSelectList);
      return node;
    }
    if (node === null || typeof node !== 'object') return node;
    const o = node as Node;
    if (o['type'] === 'BASE_TABLE' && typeof o['table_name'] === 'string') {
      const schema = String(o['schema_name'] ?? '');
      const name = o['table_name'];
      const catalogName = String(o['catalog_name'] ?? '');
      if (!catalogName && !(schema === '' && ctes.has(name.toLowerCase()))) {
        const resolved = await rewriter.relation(schema, name);
        if (resolved) {
          const t = token();
          substitutions.set(t, `(${resolved.sql})`);
          o['table_name'] = t;
          o['schema_name'] = '';
          if (!o['alias']) o['alias'] = name;
          if (resolved.columns?.length && !(o['column_name_alias'] as unknown[] | undefined)?.length) {
            o['column_name_alias'] = [...resolved.columns];
          }
        }
      }
      return o;
    }
    if (o['type'] === 'TABLE_FUNCTION') scalarTableFunctionAlias(o);
    if (o['class'] === 'FUNCTION' && typeof o['function_name'] === 'string') {
      const fname = o['function_name'].toLowerCase();
      const marker = castMarkers.get(fname);
      const children = o['children'] as unknown[];
      if (marker && children.length === 1) {
        // A cast the SQL layer asked for with a marker function: DuckDB types it (and its parameter).
        const child = await visit(children[0], false);
        return {
          class: 'CAST',
          type: 'OPERATOR_CAST',
          alias: inSelectList ? o['alias'] : '',
          query_location: o['query_location'],
          child,
          cast_type: structuredClone(marker),
          try_cast: false,
        };
      }
      if (rewriter.func && CATALOG_FUNCTIONS.has(fname) && !o['schema']) {
        const args = children.map((c) => constantValue(c));
        if (args.every((a) => a !== undefined)) {
          const value = await rewriter.func(fname, args);
          if (value !== null) {
            const t = token();
            substitutions.set(t, value);
            return {
              class: 'COLUMN_REF',
              type: 'COLUMN_REF',
              alias: inSelectList ? o['alias'] || fname : '',
              query_location: o['query_location'],
              column_names: [t],
            };
          }
        }
      }
    }
    for (const key of Object.keys(o)) {
      if (key === 'select_list') o[key] = await visit(o[key], true);
      else o[key] = await visit(o[key], false);
    }
    return o;
  };

  await visit(tree, false);
  const printed = await parser.print(tree);
  if (!substitutions.size) return { sql: printed, replaced: 0 };
  let sql = printed;
  for (const [t, replacement] of substitutions) {
    // The placeholder is an identifier DuckDB may or may not quote; it occurs only where it was put.
    sql = sql.split(`"${t}"`).join(replacement).split(t).join(replacement);
  }
  return { sql, replaced: substitutions.size };
}

/** Set-returning functions of one column, which PostgreSQL names after their FROM-clause alias. */
const SCALAR_TABLE_FUNCTIONS = new Set(['generate_series', 'generate_subscripts', 'unnest']);

/**
 * `generate_series(1, 3) AS g`: in PostgreSQL `g` is also the column, in DuckDB only the table. The
 * session rewrites top-level queries this way; statements the table layer builds itself (INSERT ...
 * SELECT, CREATE TABLE AS, views) get the same here.
 */
function scalarTableFunctionAlias(o: Node): void {
  const fn = o['function'] as Node | undefined;
  const name = typeof fn?.['function_name'] === 'string' ? fn['function_name'].toLowerCase() : '';
  const aliases = o['column_name_alias'] as unknown[] | undefined;
  const args = (fn?.['children'] as unknown[] | undefined) ?? [];
  if (
    SCALAR_TABLE_FUNCTIONS.has(name) &&
    !fn?.['schema'] &&
    !fn?.['catalog'] &&
    o['alias'] &&
    !aliases?.length &&
    (name !== 'unnest' || args.length === 1)
  ) {
    o['column_name_alias'] = [o['alias']];
  }
}

/** Lower-cased names of every CTE in the tree (a CTE named like a table hides it, as in PostgreSQL). */
function collectCteNames(node: unknown, out: Set<string>): void {
  if (Array.isArray(node)) {
    for (const n of node) collectCteNames(n, out);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const o = node as Node;
  const map = (o['cte_map'] as { map?: { key: string }[] } | undefined)?.map;
  if (map) for (const entry of map) out.add(entry.key.toLowerCase());
  for (const v of Object.values(o)) collectCteNames(v, out);
}

/** The value of a CONSTANT node (string, number or null), or undefined for anything else. */
function constantValue(node: unknown): unknown {
  const o = node as Node | null;
  // `'seq'::regclass` arrives as a cast of a constant.
  if (o?.['class'] === 'CAST') return constantValue(o['child']);
  if (o?.['class'] !== 'CONSTANT') return undefined;
  const v = o['value'] as { is_null?: boolean; value?: unknown } | undefined;
  if (!v || v.is_null) return null;
  return v.value;
}

/** True when the tree calls a function in `names` (lower-cased). */
export function callsFunction(tree: SqlTree, names: ReadonlySet<string>): boolean {
  let found = false;
  const walk = (node: unknown): void => {
    if (found) return;
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const o = node as Node;
    if (
      o['class'] === 'FUNCTION' &&
      typeof o['function_name'] === 'string' &&
      names.has(o['function_name'].toLowerCase())
    ) {
      found = true;
      return;
    }
    for (const v of Object.values(o)) walk(v);
  };
  walk(tree);
  return found;
}
