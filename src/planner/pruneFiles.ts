import {
  type BaseTableRef,
  type BetweenExpr,
  type ColumnRefExpr,
  type ComparisonExpr,
  cloneTree,
  columnRef,
  conjuncts,
  type Expr,
  type FunctionExpr,
  functionCall,
  isConstantExpr,
  mapExpr,
  type OperatorExpr,
  selectNode,
  statement,
  walkExpr,
} from './ast.js';
import type { SelectAnalysis } from './DistributionAnalyzer.js';
import type { Binding } from './Scope.js';
import type { SqlParser } from './SqlParser.js';
import { quoteIdent, statLiteral } from './sqlText.js';
import type { LayoutColumn, LayoutFile, TableLayout } from './types.js';

/** Functions whose value changes from call to call: an expression using one is no constant. */
export const VOLATILE_FUNCTIONS = new Set([
  'random',
  'setseed',
  'gen_random_uuid',
  'uuid',
  'uuidv4',
  'uuidv7',
  'nextval',
  'currval',
]);

type Op = '=' | '<' | '<=' | '>' | '>=' | 'between' | 'in' | 'is null' | 'is not null';

/** A WHERE conjunct comparing one column of one table reference with constants. */
interface Predicate {
  readonly ref: BaseTableRef;
  readonly layout: TableLayout;
  readonly column: LayoutColumn;
  readonly op: Op;
  readonly constants: readonly Expr[];
  /** The WHERE conjunct itself. */
  readonly expr: Expr;
}

/** What pruning left of each table reference of the top-level FROM clause. */
export interface PruneResult {
  /** The files that may hold matching rows, per reference (all files when nothing is known). */
  readonly files: ReadonlyMap<BaseTableRef, readonly LayoutFile[]>;
  /** References a WHERE conjunct rejects NULL-extended rows of: every result row holds one of their rows. */
  readonly filtered: ReadonlySet<BaseTableRef>;
}

const FLIP: Record<string, Op> = {
  COMPARE_EQUAL: '=',
  COMPARE_LESSTHAN: '>',
  COMPARE_GREATERTHAN: '<',
  COMPARE_LESSTHANOREQUALTO: '>=',
  COMPARE_GREATERTHANOREQUALTO: '<=',
};

const DIRECT: Record<string, Op> = {
  COMPARE_EQUAL: '=',
  COMPARE_LESSTHAN: '<',
  COMPARE_GREATERTHAN: '>',
  COMPARE_LESSTHANOREQUALTO: '<=',
  COMPARE_GREATERTHANOREQUALTO: '>=',
};

/**
 * Skips files that cannot hold a row the top-level WHERE clause keeps: per table reference of the FROM
 * clause, the conjuncts `column op constant` (=, <, <=, >, >=, BETWEEN, IN, IS [NOT] NULL) are checked
 * against each file's min/max/NULL statistics, and `key = constant` / `key IN (...)` against the hash
 * bucket of a hash-distributed table. DuckDB evaluates the checks (the constants are the query's own
 * expressions), so types compare exactly as in the query.
 *
 * A NULL-rejecting WHERE conjunct on a column holds for every result row, whatever the join type, so a
 * file without a matching row contributes nothing: a row it would add is filtered out, and a row it would
 * have matched becomes a NULL-extended row the same conjunct filters out. IS NULL is not NULL-rejecting,
 * so it prunes only tables no outer join NULL-extends.
 */
export async function pruneFiles(
  a: SelectAnalysis,
  parser: SqlParser,
  candidates?: ReadonlyMap<BaseTableRef, readonly LayoutFile[]>,
): Promise<PruneResult> {
  const predicates = findPredicates(a);
  const files = new Map<BaseTableRef, readonly LayoutFile[]>();
  const filtered = new Set<BaseTableRef>();
  for (const b of a.scope.bindings) {
    if (b.table) files.set(b.table.ref, candidates?.get(b.table.ref) ?? b.table.layout.files);
  }
  if (predicates.length === 0) return { files, filtered };
  const types = await constantTypes(predicates, parser);
  const usable = predicates.filter((p, i) => comparable(p, types[i]!));
  for (const p of predicates) if (p.op !== 'is null') filtered.add(p.ref);
  for (const [ref, all] of files) {
    const mine = usable.filter((p) => p.ref === ref);
    if (mine.length === 0) continue;
    let kept = await byStatistics(mine, all, parser);
    const layout = mine[0]!.layout;
    const d = layout.distribution;
    if (d.kind === 'hash') {
      const buckets = await byBucket(mine, d.column, d.buckets, parser);
      if (buckets) kept = kept.filter((f) => f.bucket === undefined || buckets.has(f.bucket));
    }
    files.set(ref, kept);
  }
  return { files, filtered };
}

/**
 * WHERE conjuncts of the SELECT `a` analyzed that a task may apply to one table reference's rows before
 * anything is joined (a shuffle writes only the rows that pass), per reference, rewritten over the
 * table's own column names:
 * - any deterministic conjunct reading columns of that reference alone, when it is joined by inner
 *   joins only (every result row holds one of its rows, so a row failing the conjunct is in none);
 * - the conjuncts pruning uses (a column compared with constants, IS NOT NULL), whatever the joins: a
 *   row failing one is rejected, and so is the NULL-extended row an outer join makes in its place.
 */
export function pushdownFilters(a: SelectAnalysis): Map<BaseTableRef, Expr[]> {
  const out = new Map<BaseTableRef, Expr[]>();
  const simple = new Set(findPredicates(a).map((p) => p.expr));
  for (const c of conjuncts(a.node.where_clause)) {
    let binding: Binding | undefined;
    let pushable = true;
    walkExpr(c, (x) => {
      if (
        x.class === 'SUBQUERY' ||
        x.class === 'STAR' ||
        x.class === 'PARAMETER' ||
        x.class === 'WINDOW' ||
        x.class === 'LAMBDA' ||
        (x.class === 'FUNCTION' && VOLATILE_FUNCTIONS.has((x as FunctionExpr).function_name.toLowerCase()))
      ) {
        pushable = false;
      } else if (x.class === 'COLUMN_REF') {
        const r = a.scope.resolve((x as ColumnRefExpr).column_names);
        if (r.kind !== 'column' || r.depth !== 0 || !r.binding.table || (binding && binding !== r.binding)) {
          pushable = false;
        } else binding = r.binding;
      }
      return pushable;
    });
    if (!pushable || !binding?.table || !binding.columns) continue;
    if (!simple.has(c) && !a.spine.includes(binding)) continue;
    const b = binding;
    const table = b.table!;
    const rewritten = mapExpr(c, (x) => {
      if (x.class !== 'COLUMN_REF') return undefined;
      const r = a.scope.resolve((x as ColumnRefExpr).column_names);
      if (r.kind !== 'column') return undefined;
      return columnRef(table.layout.columns[b.columns!.indexOf(r.column)]!.name);
    });
    out.set(table.ref, [...(out.get(table.ref) ?? []), rewritten]);
  }
  return out;
}

function findPredicates(a: SelectAnalysis): Predicate[] {
  const out: Predicate[] = [];
  const columnOf = (e: Expr) => {
    if (e.class !== 'COLUMN_REF') return undefined;
    const r = a.scope.resolve((e as ColumnRefExpr).column_names);
    if (r.kind !== 'column' || r.depth !== 0 || !r.binding.table || !r.binding.columns) return undefined;
    const i = r.binding.columns.indexOf(r.column);
    const column = r.binding.table.layout.columns[i];
    return column ? { ...r.binding.table, column } : undefined;
  };
  const constant = (e: Expr) => isConstantExpr(e, VOLATILE_FUNCTIONS);
  const where = a.node.where_clause;
  const parts = !where ? [] : where.type === 'CONJUNCTION_AND' ? (where as OperatorExpr).children : [where];
  for (const c of parts) {
    if (DIRECT[c.type]) {
      const cmp = c as ComparisonExpr;
      const left = columnOf(cmp.left);
      const right = columnOf(cmp.right);
      if (left && constant(cmp.right))
        out.push({ ...left, op: DIRECT[c.type]!, constants: [cmp.right], expr: c });
      else if (right && constant(cmp.left))
        out.push({ ...right, op: FLIP[c.type]!, constants: [cmp.left], expr: c });
    } else if (c.type === 'COMPARE_BETWEEN') {
      const b = c as BetweenExpr;
      const col = columnOf(b.input);
      if (col && constant(b.lower) && constant(b.upper)) {
        out.push({ ...col, op: 'between', constants: [b.lower, b.upper], expr: c });
      }
    } else if (c.type === 'COMPARE_IN') {
      const [first, ...rest] = (c as OperatorExpr).children;
      const col = first && columnOf(first);
      if (col && rest.length && rest.every(constant))
        out.push({ ...col, op: 'in', constants: rest, expr: c });
    } else if (c.type === 'OPERATOR_IS_NOT_NULL') {
      const col = columnOf((c as OperatorExpr).children[0]!);
      if (col) out.push({ ...col, op: 'is not null', constants: [], expr: c });
    } else if (c.type === 'OPERATOR_IS_NULL') {
      // IS NULL also holds for a NULL-extended row of an outer join, which skipping files of the table
      // would create: only a table joined by inner joins may be pruned by it.
      const e = (c as OperatorExpr).children[0]!;
      const r = e.class === 'COLUMN_REF' ? a.scope.resolve((e as ColumnRefExpr).column_names) : undefined;
      const col = columnOf(e);
      if (col && r?.kind === 'column' && a.spine.includes(r.binding))
        out.push({ ...col, op: 'is null', constants: [], expr: c });
    }
  }
  return out;
}

/** DuckDB's type of each predicate's first constant (undefined for IS [NOT] NULL). */
async function constantTypes(
  predicates: readonly Predicate[],
  parser: SqlParser,
): Promise<(string | undefined)[]> {
  const probes = predicates.flatMap((p) => p.constants.map((c) => functionCall('typeof', [c])));
  if (probes.length === 0) return predicates.map(() => undefined);
  let row: readonly unknown[];
  try {
    const sql = await parser.deparse(statement(selectNode({ select: probes, from: { type: 'EMPTY' } })));
    row = (await parser.query(sql))[0] ?? [];
  } catch {
    return predicates.map(() => 'unknown');
  }
  let i = 0;
  return predicates.map((p) => {
    const types = p.constants.map(() => String(row[i++]));
    // All constants of one predicate must agree for it to be usable.
    return types.length === 0 ? undefined : types.every((t) => t === types[0]) ? types[0] : 'mixed';
  });
}

type Family = 'number' | 'time' | 'string' | 'bool' | 'other';

const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT']);
const TIME_TYPES = new Set(['DATE', 'TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS']);

function family(type: string): Family {
  const t = type.toUpperCase();
  if (
    INTEGER_TYPES.has(t) ||
    (t.startsWith('U') && INTEGER_TYPES.has(t.slice(1))) ||
    t.startsWith('DECIMAL')
  ) {
    return 'number';
  }
  if (TIME_TYPES.has(t)) return 'time';
  if (t === 'VARCHAR') return 'string';
  if (t === 'BOOLEAN') return 'bool';
  return 'other';
}

/**
 * True when comparing the column with the constant orders values as the column's own type does, so a
 * min/max range decides the comparison. Floating-point columns are left out (NaN sorts above every
 * statistic); a string constant may meet a typed column only as a literal, which DuckDB casts to the
 * column's type.
 */
function comparable(p: Predicate, constType: string | undefined): boolean {
  if (p.op === 'is null' || p.op === 'is not null') return true;
  if (!constType) return false;
  const col = family(p.column.type);
  const con = family(constType === 'STRING_LITERAL' ? 'VARCHAR' : constType);
  if (col === 'other' || con === 'other') return false;
  if (col === con) return true;
  return con === 'string' && p.constants.every((c) => c.class === 'CONSTANT');
}

async function byStatistics(
  predicates: readonly Predicate[],
  files: readonly LayoutFile[],
  parser: SqlParser,
): Promise<readonly LayoutFile[]> {
  const columns = [...new Set(predicates.map((p) => p.column))];
  const rows: string[] = [];
  for (const [i, f] of files.entries()) {
    const values = [String(i), String(f.rows)];
    for (const c of columns) {
      const s = f.stats?.[c.name];
      const min = s ? statLiteral(s.min, c.type) : undefined;
      const max = s ? statLiteral(s.max, c.type) : undefined;
      const known = s !== undefined && min !== undefined && max !== undefined;
      values.push(known ? 'true' : 'false', known ? min : `CAST(NULL AS ${c.type})`);
      values.push(known ? max : `CAST(NULL AS ${c.type})`, s?.nulls == null ? 'NULL' : String(s.nulls));
    }
    rows.push(`(${values.join(', ')})`);
  }
  const names = ['i', 'rc', ...columns.flatMap((_, j) => [`h${j}`, `mn${j}`, `mx${j}`, `nn${j}`])];
  const holes: Expr[] = [];
  const hole = (e: Expr): string => {
    holes.push(e);
    return holeName(holes.length - 1);
  };
  const conditions = predicates.map((p) => {
    const j = columns.indexOf(p.column);
    const [mn, mx, nn] = [`mn${j}`, `mx${j}`, `nn${j}`];
    let range: string;
    switch (p.op) {
      case '=':
        range = `${mn} <= ${hole(p.constants[0]!)} AND ${hole(p.constants[0]!)} <= ${mx}`;
        break;
      case '<':
      case '<=':
        range = `${mn} ${p.op} ${hole(p.constants[0]!)}`;
        break;
      case '>':
      case '>=':
        range = `${mx} ${p.op} ${hole(p.constants[0]!)}`;
        break;
      case 'between':
        range = `${mx} >= ${hole(p.constants[0]!)} AND ${mn} <= ${hole(p.constants[1]!)}`;
        break;
      case 'in':
        range = p.constants.map((c) => `(${mn} <= ${hole(c)} AND ${hole(c)} <= ${mx})`).join(' OR ');
        break;
      case 'is null':
        range = `${nn} IS NULL OR ${nn} > 0`;
        break;
      case 'is not null':
        range = `${nn} IS NULL OR ${nn} < rc`;
        break;
    }
    return `(NOT h${j} OR (${range}))`;
  });
  const sql = `SELECT i FROM (VALUES ${rows.join(', ')}) AS f(${names.join(', ')}) WHERE ${conditions.join(' AND ')}`;
  try {
    const kept = new Set((await runWithHoles(sql, holes, parser)).map((r) => Number(r[0])));
    return files.filter((_, i) => kept.has(i));
  } catch {
    // A statistic that does not cast to the column's type: keep every file.
    return files;
  }
}

/** The buckets `key = c` / `key IN (...)` conjuncts allow, or undefined when they do not constrain. */
async function byBucket(
  predicates: readonly Predicate[],
  key: string,
  buckets: number,
  parser: SqlParser,
): Promise<Set<number> | undefined> {
  let allowed: Set<number> | undefined;
  for (const p of predicates) {
    if ((p.op !== '=' && p.op !== 'in') || p.column.name.toLowerCase() !== key.toLowerCase()) continue;
    // The storage's bucket function (src/storage/hashBucket.ts): hash of the value cast to the key type.
    const select = p.constants.map(
      (_, i) => `CAST(hash(CAST(${holeName(i)} AS ${p.column.type})) % ${buckets} AS BIGINT)`,
    );
    try {
      const row = (await runWithHoles(`SELECT ${select.join(', ')}`, p.constants, parser))[0] ?? [];
      const set = new Set(row.map((v) => Number(v)));
      allowed = allowed ? new Set([...allowed].filter((b) => set.has(b))) : set;
    } catch {
      // A constant that does not cast to the key type matches no row; leave the buckets alone.
    }
  }
  return allowed;
}

const HOLE = '__mallard_const_';

function holeName(i: number): string {
  return quoteIdent(`${HOLE}${i}`);
}

/** Parses the planner's own query text and puts the query's constant expressions into its holes. */
async function runWithHoles(
  sql: string,
  holes: readonly Expr[],
  parser: SqlParser,
): Promise<readonly (readonly unknown[])[]> {
  const [parsed] = await parser.parse(sql);
  const filled = cloneTree(parsed!, (node) => {
    if (node['class'] !== 'COLUMN_REF') return undefined;
    const name = (node as ColumnRefExpr).column_names[0]!;
    return name.startsWith(HOLE) ? holes[Number(name.slice(HOLE.length))] : undefined;
  });
  return parser.query(await parser.deparse(filled));
}
