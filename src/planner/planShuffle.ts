import {
  and,
  type BaseTableRef,
  baseTable,
  type ColumnRefExpr,
  type ComparisonExpr,
  columnRef,
  conjuncts,
  type DistinctModifier,
  type Expr,
  isSelectNode,
  type JoinRef,
  levelExprs,
  type QueryNode,
  type SelectNode,
  type SetOperationNode,
  type SubqueryExpr,
  type SubqueryRef,
  selectNode,
  someNode,
  statement,
  type TableRef,
  type WindowExpr,
  walkExpr,
  withAlias,
} from './ast.js';
import { BUCKET_COLUMN, type RelationBuilder } from './RelationBuilder.js';
import type { SqlParser } from './SqlParser.js';
import type { ScanShare } from './splitFiles.js';
import { INTEGER_TYPES, quoteIdent } from './sqlText.js';
import type { LayoutColumn, TableLayout } from './types.js';

/** The colocation group name of a pure shuffle (no stored table is in it). */
export const SHUFFLE_GROUP = '\u0000shuffle';

/**
 * A repartition to try: `shuffled` references are rewritten by their key column into `buckets` hash
 * buckets (`hash(CAST(key AS keyType)) % buckets`, the storage's bucket function), joining `group`:
 * SHUFFLE_GROUP, or a colocation group of stored tables whose buckets they then match.
 */
export interface ShuffleProposal {
  readonly group: string;
  readonly buckets: number;
  readonly keyType: string;
  readonly shuffled: ReadonlyMap<BaseTableRef, string>;
}

/** A catalog table reference the planner knows, with whether it is too large to read whole. */
export interface ShuffleCandidate {
  readonly ref: BaseTableRef;
  readonly layout: TableLayout;
  readonly large: boolean;
}

/** A name of one FROM clause, with its columns and the stored column each one is, when known. */
interface Entry {
  readonly alias: string;
  readonly columns: readonly string[];
  readonly nodes: readonly (ColumnNode | undefined)[];
}

interface Level {
  readonly entries: readonly Entry[];
  readonly parent: Level | null;
}

/** What a query yields: its output column names and the stored column each one passes through. */
interface Output {
  readonly columns: readonly string[];
  readonly nodes: readonly (ColumnNode | undefined)[];
}

type CteOutputs = ReadonlyMap<string, Output>;

interface ColumnNode {
  readonly ref: BaseTableRef;
  /** The layout's column name. */
  readonly column: string;
}

/**
 * Repartitions worth trying for a query whose large tables are not co-located: equality classes of
 * columns (join conditions, WHERE equalities, correlations, `x IN (SELECT y ...)`, window PARTITION BY,
 * DISTINCT ON) that hold a column of at least two large table references, or of one that a window
 * partitions by or DISTINCT ON groups by.
 * Each proposal shuffles the large references of one class on their column of it; when a stored hash
 * table's distribution column is in the class, a proposal that shuffles only the others into that
 * table's buckets comes first. Resolution of names here is approximate: the DistributionAnalyzer
 * decides whether a proposal is sound.
 */
export async function shuffleProposals(
  root: QueryNode,
  candidates: readonly ShuffleCandidate[],
  buckets: number,
  parser: SqlParser,
): Promise<ShuffleProposal[]> {
  const byRef = new Map(candidates.map((c) => [c.ref, c]));
  const uf = new Map<string, string>();
  const nodes = new Map<string, ColumnNode>();
  const find = (x: string): string => {
    let r = x;
    while (uf.get(r) !== r) r = uf.get(r)!;
    uf.set(x, r);
    return r;
  };
  const key = (n: ColumnNode) => `${candidates.findIndex((c) => c.ref === n.ref)}.${n.column}`;
  const add = (n: ColumnNode) => {
    const k = key(n);
    if (!uf.has(k)) {
      uf.set(k, k);
      nodes.set(k, n);
    }
    return k;
  };
  const union = (a: ColumnNode, b: ColumnNode) => {
    const ra = find(add(a));
    const rb = find(add(b));
    if (ra !== rb) uf.set(ra, rb);
  };
  const windowed: ColumnNode[] = [];

  const resolve = (e: Expr, level: Level | null): ColumnNode | undefined => {
    if (e.class !== 'COLUMN_REF') return undefined;
    const names = (e as ColumnRefExpr).column_names.map((n) => n.toLowerCase());
    for (let l = level; l; l = l.parent) {
      if (names.length === 2) {
        const hit = l.entries.filter((r) => r.alias === names[0]);
        if (hit.length === 1) return hit[0]!.nodes[hit[0]!.columns.indexOf(names[1]!)];
      } else if (names.length === 1) {
        const hit = l.entries.filter((r) => r.columns.includes(names[0]!));
        if (hit.length > 1) return undefined;
        if (hit.length === 1) return hit[0]!.nodes[hit[0]!.columns.indexOf(names[0]!)];
      }
    }
    return undefined;
  };

  const equalities = (exprs: readonly Expr[], level: Level) => {
    for (const c of exprs.flatMap((e) => conjuncts(e))) {
      if (c.type !== 'COMPARE_EQUAL' && c.type !== 'COMPARE_NOT_DISTINCT_FROM') continue;
      const l = resolve((c as ComparisonExpr).left, level);
      const r = resolve((c as ComparisonExpr).right, level);
      if (l && r) union(l, r);
    }
  };

  const visitQuery = (node: QueryNode, parent: Level | null, ctes: CteOutputs): Output | undefined => {
    let env = ctes;
    for (const entry of node.cte_map?.map ?? []) {
      const out = visitQuery(entry.value.query.node, parent, env);
      const next = new Map(env);
      if (out) next.set(entry.key.toLowerCase(), renamed(out, entry.value.aliases));
      else next.delete(entry.key.toLowerCase());
      env = next;
    }
    if (node.type === 'SET_OPERATION_NODE') {
      visitQuery((node as SetOperationNode).left, parent, env);
      visitQuery((node as SetOperationNode).right, parent, env);
      return undefined;
    }
    return isSelectNode(node) ? visitSelect(node, parent, env) : undefined;
  };

  /** The FROM item `t` as names of `level` (its joins flattened), visiting derived tables. */
  const fromEntries = (t: TableRef, parent: Level | null, ctes: CteOutputs, joins: JoinRef[]): Entry[] => {
    if (t.type === 'BASE_TABLE') {
      const ref = t as BaseTableRef;
      const alias = (ref.alias || ref.table_name).toLowerCase();
      const candidate = byRef.get(ref);
      if (candidate) {
        const rename = ref.column_name_alias ?? [];
        const columns = candidate.layout.columns.map((c, i) => (rename[i] ?? c.name).toLowerCase());
        const nodes = candidate.layout.columns.map((c) => ({ ref, column: c.name }));
        return [{ alias, columns, nodes }];
      }
      const cte = ref.schema_name ? undefined : ctes.get(ref.table_name.toLowerCase());
      return cte ? [{ alias, ...renamed(cte, ref.column_name_alias ?? []) }] : [];
    }
    if (t.type === 'JOIN') {
      const j = t as JoinRef;
      joins.push(j);
      return [...fromEntries(j.left, parent, ctes, joins), ...fromEntries(j.right, parent, ctes, joins)];
    }
    if (t.type === 'SUBQUERY') {
      // A derived table may read the FROM items before it (LATERAL): approximated by the parent level.
      const out = visitQuery((t as SubqueryRef).subquery.node, parent, ctes);
      return out
        ? [{ alias: (t.alias ?? '').toLowerCase(), ...renamed(out, t.column_name_alias ?? []) }]
        : [];
    }
    return [];
  };

  const visitSelect = (node: SelectNode, parent: Level | null, ctes: CteOutputs): Output | undefined => {
    const joins: JoinRef[] = [];
    const entries = fromEntries(node.from_table, parent, ctes, joins);
    const level: Level = { entries, parent };
    equalities(node.where_clause ? [node.where_clause] : [], level);
    equalities(
      joins.flatMap((j) => (j.condition ? [j.condition] : [])),
      level,
    );
    for (const j of joins) {
      const left = aliasesOf(j.left);
      const right = aliasesOf(j.right);
      for (const c of j.using_columns) {
        const l = resolve(columnRef(c), { entries: entries.filter((e) => left.has(e.alias)), parent: null });
        const r = resolve(columnRef(c), { entries: entries.filter((e) => right.has(e.alias)), parent: null });
        if (l && r) union(l, r);
      }
    }
    // DISTINCT ON groups rows as a window's PARTITION BY does.
    const distinct = node.modifiers.find((m) => m.type === 'DISTINCT_MODIFIER') as
      | DistinctModifier
      | undefined;
    for (const t of distinct?.distinct_on_targets ?? []) {
      const n = resolve(t, level);
      if (n) windowed.push(n);
    }
    const exprs = [...levelExprs(node), ...joins.flatMap((j) => (j.condition ? [j.condition] : []))];
    for (const e of exprs) {
      walkExpr(e, (x) => {
        if (x.class === 'WINDOW') {
          for (const p of (x as WindowExpr).partitions) {
            const n = resolve(p, level);
            if (n) windowed.push(n);
          }
        }
        if (x.class === 'SUBQUERY') {
          const sub = x as SubqueryExpr;
          const out = visitQuery(sub.subquery.node, level, ctes);
          // `x IN (SELECT y FROM ...)`: x and y meet.
          if (sub.subquery_type === 'ANY' && sub.child && out?.nodes.length === 1) {
            const l = resolve(sub.child, level);
            const r = out.nodes[0];
            if (l && r) union(l, r);
          }
        }
        return undefined;
      });
    }
    const columns: string[] = [];
    const nodes: (ColumnNode | undefined)[] = [];
    for (const item of node.select_list) {
      if (item.class === 'STAR') return undefined;
      const names = item.class === 'COLUMN_REF' ? (item as ColumnRefExpr).column_names : [];
      columns.push((item.alias || names[names.length - 1] || '').toLowerCase());
      nodes.push(resolve(item, level));
    }
    return { columns, nodes };
  };

  visitQuery(root, null, new Map());

  const classes = new Map<string, ColumnNode[]>();
  for (const k of nodes.keys()) {
    const r = find(k);
    classes.set(r, [...(classes.get(r) ?? []), nodes.get(k)!]);
  }
  for (const w of windowed) {
    const k = key(w);
    if (!uf.has(k)) classes.set(add(w), [w]);
  }
  const windowRoots = new Set(windowed.map((w) => find(key(w))));
  const proposals: ShuffleProposal[] = [];
  const seen = new Set<string>();
  const propose = async (members: readonly ColumnNode[], windowClass: boolean) => {
    // One column per reference: the first of the class.
    const columnOf = new Map<BaseTableRef, string>();
    for (const m of members) if (!columnOf.has(m.ref)) columnOf.set(m.ref, m.column);
    const large = [...columnOf.keys()].filter((r) => byRef.get(r)!.large);
    if (large.length < (windowClass ? 1 : 2)) return;
    const typeOf = (ref: BaseTableRef) =>
      byRef.get(ref)!.layout.columns.find((c) => c.name === columnOf.get(ref))!.type;
    // Into a stored table's buckets: that table's distribution column is in the class.
    for (const ref of columnOf.keys()) {
      const { layout } = byRef.get(ref)!;
      const d = layout.distribution;
      if (d.kind !== 'hash' || d.column.toLowerCase() !== columnOf.get(ref)!.toLowerCase()) continue;
      const keyType = typeOf(ref);
      const others = large.filter((r) => {
        const od = byRef.get(r)!.layout.distribution;
        return !(od.kind === 'hash' && od.colocationGroup === d.colocationGroup);
      });
      // The storage hashes the key cast to its type: only keys of that very type hash alike.
      if (others.length === 0 || others.some((r) => typeOf(r).toUpperCase() !== keyType.toUpperCase()))
        continue;
      const shuffled = new Map(others.map((r) => [r, columnOf.get(r)!]));
      const id = `${d.colocationGroup}|${[...shuffled].map(([r, c]) => `${candidates.findIndex((x) => x.ref === r)}.${c}`)}`;
      if (seen.has(id)) continue;
      seen.add(id);
      proposals.push({ group: d.colocationGroup, buckets: d.buckets, keyType, shuffled });
    }
    const keyType = await commonKeyType(large.map(typeOf), parser);
    if (!keyType) return;
    const shuffled = new Map(large.map((r) => [r, columnOf.get(r)!]));
    const id = `${SHUFFLE_GROUP}|${[...shuffled].map(([r, c]) => `${candidates.findIndex((x) => x.ref === r)}.${c}`)}`;
    if (seen.has(id)) return;
    seen.add(id);
    proposals.push({ group: SHUFFLE_GROUP, buckets, keyType, shuffled });
  };
  // Classes covering the most rows of large tables first; within a class, reusing stored buckets first.
  const ordered = [...classes].sort((a, b) => rowsOf(b[1], byRef) - rowsOf(a[1], byRef));
  for (const [root, members] of ordered) await propose(members, windowRoots.has(root));
  return proposals.slice(0, 6);
}

/** The names the FROM items under `t` bind. */
function aliasesOf(t: TableRef): Set<string> {
  if (t.type === 'JOIN')
    return new Set([...aliasesOf((t as JoinRef).left), ...aliasesOf((t as JoinRef).right)]);
  if (t.type === 'BASE_TABLE') return new Set([(t.alias || (t as BaseTableRef).table_name).toLowerCase()]);
  return new Set([(t.alias ?? '').toLowerCase()]);
}

/** An output with its first columns renamed (`AS t(a, b)`, a CTE's column list). */
function renamed(out: Output, aliases: readonly string[]): Output {
  if (!aliases.length) return out;
  return { columns: out.columns.map((c, i) => aliases[i]?.toLowerCase() ?? c), nodes: out.nodes };
}

function rowsOf(members: readonly ColumnNode[], byRef: ReadonlyMap<BaseTableRef, ShuffleCandidate>): number {
  const refs = new Set(members.map((m) => m.ref));
  let rows = 0;
  for (const r of refs) {
    const c = byRef.get(r)!;
    if (c.large) rows += c.layout.files.reduce((n, f) => n + f.rows, 0);
  }
  return rows;
}

/**
 * The type every key is cast to before hashing, so equal keys hash alike: the keys' type when they
 * agree; for exact numbers of different types (integers, DECIMAL), the type DuckDB compares them in.
 * Undefined for any other mix (a string compared with a number, say), which is not shuffled.
 */
async function commonKeyType(types: readonly string[], parser: SqlParser): Promise<string | undefined> {
  const upper = types.map((t) => t.toUpperCase());
  if (upper.every((t) => t === upper[0])) return types[0];
  if (!upper.every((t) => INTEGER_TYPES.has(t) || t.startsWith('DECIMAL'))) return undefined;
  try {
    const list = types.map((t) => `CAST(NULL AS ${t})`).join(', ');
    const row = (await parser.query(`SELECT typeof([${list}][1])`))[0];
    return row ? String(row[0]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The columns of `layout` a query may read through `ref`: every column whose name appears in some
 * column reference or USING list of the query, or all of them when the query uses `*` (other than as
 * what EXISTS selects), COLUMNS(...), positional references, NATURAL joins, the table's row as a value,
 * or renames the reference's columns.
 */
export function neededColumns(root: unknown, ref: BaseTableRef, layout: TableLayout): LayoutColumn[] {
  if (ref.column_name_alias?.length) return [...layout.columns];
  const alias = (ref.alias || ref.table_name).toLowerCase();
  // `EXISTS (SELECT * ...)` reads no column through its `*` (unless it groups by it).
  const ignored = new Set<unknown>();
  someNode(root, (n) => {
    if (n['class'] !== 'SUBQUERY') return false;
    const sub = n as SubqueryExpr;
    const node = sub.subquery.node;
    if (
      (sub.subquery_type === 'EXISTS' || sub.subquery_type === 'NOT_EXISTS') &&
      isSelectNode(node) &&
      node.aggregate_handling !== 'FORCE_AGGREGATES' &&
      node.group_expressions.length === 0
    ) {
      for (const item of node.select_list) if (item.class === 'STAR') ignored.add(item);
    }
    return false;
  });
  const names = new Set<string>();
  let all = false;
  someNode(root, (n) => {
    if ((n['class'] === 'STAR' && !ignored.has(n)) || n['class'] === 'POSITIONAL_REFERENCE') all = true;
    if (n['type'] === 'JOIN' && n['ref_type'] === 'NATURAL') all = true;
    if (n['class'] === 'COLUMN_REF') {
      const parts = (n as ColumnRefExpr).column_names.map((c) => c.toLowerCase());
      if (parts.length === 1 && parts[0] === alias) all = true;
      for (const p of parts) names.add(p);
    }
    if (n['type'] === 'JOIN') for (const c of (n as JoinRef).using_columns) names.add(c.toLowerCase());
    return all;
  });
  if (all) return [...layout.columns];
  return layout.columns.filter((c) => names.has(c.name.toLowerCase()));
}

/** What one shuffle-write task does. */
export interface ShuffleWrite {
  readonly layout: TableLayout;
  readonly share: ScanShare;
  /** The columns written (besides the bucket). */
  readonly columns: readonly LayoutColumn[];
  readonly keyColumn: string;
  readonly keyType: string;
  readonly buckets: number;
  /** Conjuncts over the table's column names that every row the query needs satisfies. */
  readonly filters: readonly Expr[];
}

/**
 * The SELECT of a shuffle-write task, whose rows the runner writes to one Parquet file: its share of the
 * table's rows (the needed columns, the rows passing `filters`), each with its bucket, sorted by bucket
 * so that a reader of one bucket skips the other row groups.
 */
export async function shuffleWriteSql(
  w: ShuffleWrite,
  relations: RelationBuilder,
  parser: SqlParser,
): Promise<string> {
  const source = await relations.scanShare(baseTable(w.layout.name, '__mallard_source'), w.layout, w.share);
  const [parsed] = await parser.parse(
    `SELECT CAST(hash(CAST(${quoteIdent(w.keyColumn)} AS ${w.keyType})) % ${w.buckets} AS INTEGER)`,
  );
  const bucket = withAlias((parsed!.node as SelectNode).select_list[0]!, BUCKET_COLUMN);
  const node = selectNode({
    select: [...w.columns.map((c) => columnRef(c.name)), bucket],
    from: source,
    where: w.filters.length ? and([...w.filters]) : null,
    modifiers: [
      {
        type: 'ORDER_MODIFIER',
        orders: [{ type: 'ASCENDING', null_order: 'ORDER_DEFAULT', expression: columnRef(BUCKET_COLUMN) }],
      },
    ],
  });
  return parser.deparse(statement(node));
}
