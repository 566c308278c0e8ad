// The planner's differential fuzzer: random tables (a "world": NULLs, duplicates, skewed keys, empty
// files, row groups; balanced, hash co-located and reference distributions) and random queries from a
// grammar (filters, joins of every kind, subqueries, CTEs, aggregates incl. DISTINCT and grouping sets,
// window functions, DISTINCT, ORDER BY / LIMIT / OFFSET, set operations). A case is planned, run with
// runLocally and compared with single-node DuckDB over the same files (PlannerHarness.check).
//
// A world seed names a world and a query seed names a query in it, so a failure is replayed from the
// two numbers: `node dist/bench/fuzz.js --world W --query Q`. Changing the generators changes what a
// seed means; regression tests therefore pin the SQL text, not the seed.
import type { PlanContext } from '../../src/planner/planQuery.js';
import type { DistributedPlan, PlanMode } from '../../src/planner/types.js';
import type { PlannerHarness, TableSpec } from './plannerHarness.js';

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  /** A random non-empty subset (in the original order) of at most `max` elements. */
  some<T>(xs: readonly T[], max: number): T[] {
    const out = xs.filter(() => this.chance(0.4)).slice(0, max);
    return out.length ? out : [this.pick(xs)];
  }
}

/** One table of a world. Every table has the same columns, so any two can be joined on any of them. */
export interface FuzzTable {
  readonly name: string;
  readonly rows: number;
  readonly spec: TableSpec;
  readonly kind: 'balanced' | 'hash' | 'reference';
}

export interface FuzzWorld {
  readonly seed: number;
  readonly tables: readonly FuzzTable[];
  /** Distinct values of k (before NULLs and the skewed value). */
  readonly keyRange: number;
  /** Planner thresholds of this world (a shuffle directory is added per query). */
  readonly context: Partial<PlanContext>;
}

/** Columns every table has: id unique, k a join key (skewed, NULLs), g few groups, x, d, s, dt. */
const COLUMNS = ['id', 'k', 'g', 'x', 'd', 's', 'dt'] as const;
type Column = (typeof COLUMNS)[number];
const NUMERIC: readonly Column[] = ['id', 'k', 'g', 'x', 'd'];
const INTEGERS: readonly Column[] = ['id', 'k', 'g', 'x'];
/** Low-cardinality columns, safe to join on without exploding. */
const JOINABLE: readonly Column[] = ['k', 'x', 'id'];

/** The world `seed`: 3 to 5 tables of 0 to 9,000 rows, some hash co-located on k. */
export function fuzzWorld(seed: number): FuzzWorld {
  const r = new Random(seed * 7919 + 17);
  const count = r.int(3, 5);
  const buckets = r.int(2, 4);
  const keyRange = r.pick([50, 400, 3000]);
  const tables: FuzzTable[] = [];
  for (let i = 0; i < count; i++) {
    const rows = r.pick([0, 3, 150, 1200, 3000, 5000, 9000]);
    const salt = seed * 100 + i;
    const nulls = r.pick([0, 3, 20]);
    const skew = r.pick([0, 0, 2, 8]);
    // k is INTEGER in co-located tables; elsewhere sometimes BIGINT (joins across types hash alike).
    const kind: FuzzTable['kind'] = r.chance(0.4)
      ? 'hash'
      : rows <= 150 && r.chance(0.5)
        ? 'reference'
        : 'balanced';
    const keyType = kind !== 'hash' && r.chance(0.3) ? 'BIGINT' : 'INTEGER';
    const h = (m: number) => `(hash(n, ${salt}, ${m}) % 1000)`;
    const select = `SELECT CAST(n AS BIGINT) AS id,
        CASE WHEN ${h(1)} < ${nulls * 10} THEN NULL WHEN ${h(2)} < ${skew * 10} THEN 7
             ELSE CAST(hash(n, ${salt}, 3) % ${keyRange} AS ${keyType}) - ${Math.floor(keyRange / 4)} END AS k,
        CASE WHEN ${h(4)} < ${nulls * 10} THEN NULL ELSE CAST(hash(n, ${salt}, 5) % 5 AS INTEGER) END AS g,
        CASE WHEN ${h(6)} < ${nulls * 10} THEN NULL ELSE CAST(hash(n, ${salt}, 7) % 100 AS BIGINT) END AS x,
        CASE WHEN ${h(8)} < ${nulls * 10} THEN NULL ELSE (hash(n, ${salt}, 9) % 10000) / 100.0 END AS d,
        CASE WHEN ${h(10)} < ${nulls * 10} THEN NULL ELSE 'v' || (hash(n, ${salt}, 11) % 20) END AS s,
        DATE '2020-01-01' + CAST(hash(n, ${salt}, 12) % 400 AS INTEGER) AS dt
      FROM range(1, ${rows + 1}) r(n)`;
    let spec: TableSpec;
    if (kind === 'hash') spec = { rows: select, hash: { column: 'k', buckets, group: 'kgroup' } };
    else if (kind === 'reference') spec = { rows: select, reference: true };
    else {
      const files = r.int(1, 4);
      const fileOf = r.pick([
        `id % ${files}`,
        // Skew: most rows in file 0; the last file empty when there are several.
        `CASE WHEN id % 10 < 8 OR ${files} < 3 THEN 0 ELSE id % ${Math.max(1, files - 1)} END`,
        // Ranges of id: files clustered by id.
        `LEAST(${files - 1}, (id - 1) // ${Math.max(1, Math.ceil(rows / files))})`,
      ]);
      spec = {
        rows: select,
        files: { count: files, fileOf },
        ...(r.chance(0.4) ? { rowGroupSize: r.pick([2048, 4096]) } : {}),
      };
    }
    tables.push({ name: `t${i}`, rows, spec, kind });
  }
  const context: Partial<PlanContext> = {
    broadcastMaxRows: r.pick([100, 1000, 4000]),
    workerSlots: r.int(1, 4),
    splitMinRows: r.pick([500, 2000]),
    localMaxRows: 0,
  };
  return { seed, tables, keyRange, context };
}

/** Writes a world's tables into the harness (replacing any of the same names). */
export async function loadWorld(h: PlannerHarness, world: FuzzWorld): Promise<void> {
  for (const t of world.tables) await h.writeTable(t.name, t.spec);
}

interface From {
  readonly sql: string;
  /** Aliases whose columns are visible, with whether they may be NULL-extended. */
  readonly aliases: readonly string[];
  /** Columns that together identify a result row of the FROM clause. */
  readonly unique: readonly string[];
}

/** A query over `world`, named by `seed`. */
export function fuzzQuery(world: FuzzWorld, seed: number): string {
  const r = new Random(seed * 104729 + world.seed);
  const tables = world.tables.map((t) => t.name);
  const table = () => r.pick(tables);
  const col = (alias: string, cols: readonly Column[] = COLUMNS) => `${alias}.${r.pick(cols)}`;

  const rowsOf = new Map(world.tables.map((t) => [t.name, t.rows]));
  // Rows a join on a column yields per row pair, roughly: results stay small enough to compare.
  const matchRate = (c: Column) =>
    c === 'id' ? 0 : c === 'k' ? 1 / world.keyRange + 0.01 : c === 'x' ? 0.01 : c === 'g' ? 0.2 : 1;
  const MAX_ROWS = 60_000;
  /** Two tables whose join on (c1, c2) stays small; on id when no pair does. */
  const pair = (c1: Column, c2: Column): [string, string, Column, Column] => {
    const rate = c1 === c2 ? matchRate(c1) : Math.max(matchRate(c1), matchRate(c2));
    const ok = tables.flatMap((a) =>
      tables.filter((b) => rowsOf.get(a)! * rowsOf.get(b)! * rate <= MAX_ROWS).map((b) => [a, b] as const),
    );
    if (ok.length) {
      const [a, b] = r.pick(ok);
      return [a, b, c1, c2];
    }
    return [table(), table(), 'id', 'id'];
  };

  const from = (): From => {
    const shape = r.next();
    if (shape < 0.3) return { sql: `${table()} a`, aliases: ['a'], unique: ['a.id'] };
    if (shape < 0.75) {
      const [ta, tb, on, on2] = pair(r.pick(JOINABLE), r.pick(JOINABLE));
      const cond = r.chance(0.8) ? `a.${on} = b.${on2}` : `a.${on} = b.${on2} AND a.g <> b.g`;
      const type = r.pick(['JOIN', 'JOIN', 'LEFT JOIN', 'RIGHT JOIN', 'FULL JOIN', 'SEMI JOIN', 'ANTI JOIN']);
      if (type === 'SEMI JOIN' || type === 'ANTI JOIN') {
        return { sql: `${ta} a ${type} ${tb} b ON ${cond}`, aliases: ['a'], unique: ['a.id'] };
      }
      const cross = pair('d', 'd');
      if (r.chance(0.1) && cross[2] === 'd') {
        return { sql: `${cross[0]} a, ${cross[1]} b`, aliases: ['a', 'b'], unique: ['a.id', 'b.id'] };
      }
      return { sql: `${ta} a ${type} ${tb} b ON ${cond}`, aliases: ['a', 'b'], unique: ['a.id', 'b.id'] };
    }
    if (shape < 0.85) {
      const [ta, tb, on] = pair(r.pick(['k', 'x', 'id']), 'id');
      const type = r.pick(['JOIN', 'LEFT JOIN']);
      // The third table joins on its id: at most one row per row of the pair.
      return {
        sql: `${ta} a JOIN ${tb} b ON a.${on} = b.${on} ${type} ${table()} c ON c.id = a.${r.pick(['k', 'x'])}`,
        aliases: ['a', 'b', 'c'],
        unique: ['a.id', 'b.id', 'c.id'],
      };
    }
    if (shape < 0.95) {
      // A derived table grouped by a key, joined back (no float sums: their last bits depend on the
      // order of addition, and DISTINCT or GROUP BY over them would then differ).
      const key = r.pick(['k', 'g', 'x']);
      const inner = table();
      const filter = r.chance(0.5) ? ` WHERE ${pred('q0')}` : '';
      return {
        sql: `(SELECT ${key} AS k, count(*) AS x, max(d) AS d, min(s) AS s, max(id) AS id, min(g) AS g, max(dt) AS dt
                FROM ${inner} q0${filter} GROUP BY ${key}) a JOIN ${table()} b ON a.k = b.${key}`,
        aliases: ['a', 'b'],
        unique: ['a.k', 'b.id'],
      };
    }
    const t = table();
    if (r.chance(0.4)) {
      // A filtered derived table.
      return { sql: `(SELECT * FROM ${t} WHERE ${pred(t)}) a`, aliases: ['a'], unique: ['a.id'] };
    }
    if (r.chance(0.5)) {
      // Columns renamed by position (k becomes x and x becomes k).
      return { sql: `${t} AS a(id, x, g, k, d, s, dt)`, aliases: ['a'], unique: ['a.id'] };
    }
    // USING: the merged k is a's for INNER and LEFT, b's for RIGHT, a COALESCE for FULL.
    const [ta, tb] = pair('k', 'k');
    const type = r.pick(['JOIN', 'LEFT JOIN', 'RIGHT JOIN', 'FULL JOIN']);
    return { sql: `${ta} a ${type} ${tb} b USING (k)`, aliases: ['a', 'b'], unique: ['a.id', 'b.id'] };
  };

  function pred(alias: string): string {
    const c = col(alias, NUMERIC);
    const v = r.int(-20, 120);
    return r.pick([
      `${c} < ${v}`,
      `${c} = ${v}`,
      `${c} BETWEEN ${v} AND ${v + 30}`,
      `${c} IN (${v}, ${v + 1}, 7)`,
      `${c} IS NOT NULL`,
      `${c} IS NULL`,
      `${c} > ${v} OR ${c} < ${v - 40}`,
      `${alias}.s LIKE 'v1%'`,
      `${alias}.dt >= DATE '2020-06-01'`,
      `coalesce(${c}, 0) % 3 = 1`,
    ]);
  }

  const subqueryPred = (alias: string): string => {
    const t = table();
    const on = r.pick(JOINABLE);
    return r.pick([
      `EXISTS (SELECT 1 FROM ${t} z WHERE z.${on} = ${alias}.${on} AND z.g > ${r.int(0, 3)})`,
      `NOT EXISTS (SELECT 1 FROM ${t} z WHERE z.${on} = ${alias}.${on})`,
      `${alias}.${on} IN (SELECT z.${on} FROM ${t} z WHERE z.x < ${r.int(10, 90)})`,
      `${alias}.k IN (SELECT z.k FROM ${t} z GROUP BY z.k HAVING count(*) > 1)`,
      `${alias}.x NOT IN (SELECT z.x FROM ${t} z WHERE z.x IS NOT NULL AND z.g = 1)`,
      `${alias}.x NOT IN (SELECT z.x FROM ${t} z)`,
      `${alias}.d > (SELECT avg(z.d) FROM ${t} z)`,
      `${alias}.x > (SELECT avg(z.x) FROM ${t} z WHERE z.k = ${alias}.k)`,
      `${alias}.g IN (1, 3)`,
    ]);
  };

  const f = from();
  const preds: string[] = [];
  for (let i = r.int(0, 2); i > 0; i--) preds.push(pred(r.pick(f.aliases)));
  if (r.chance(0.25)) preds.push(subqueryPred(r.pick(f.aliases)));
  const where = preds.length ? ` WHERE ${preds.map((p) => `(${p})`).join(' AND ')}` : '';
  const anyCol = () => col(r.pick(f.aliases));
  const numCol = () => col(r.pick(f.aliases), NUMERIC);
  const intCol = () => col(r.pick(f.aliases), INTEGERS);

  const shape = r.next();
  if (shape < 0.4) {
    // Aggregation.
    const groups =
      f.aliases.length && r.chance(0.75) ? r.some([anyCol(), anyCol(), `${intCol()} % 3`], 2) : [];
    const uniqueGroups = [...new Set(groups)];
    const aggs = Array.from({ length: r.int(1, 3) }, () => aggregate(r, numCol(), intCol(), anyCol()));
    let groupBy = '';
    let sets = false;
    if (uniqueGroups.length) {
      if (uniqueGroups.length === 2 && r.chance(0.25)) {
        sets = true;
        const kind = r.pick(['ROLLUP', 'CUBE', 'GROUPING SETS']);
        const list =
          kind === 'GROUPING SETS'
            ? `(${uniqueGroups[0]}), (${uniqueGroups.join(', ')}), ()`
            : uniqueGroups.join(', ');
        groupBy = ` GROUP BY ${kind} (${list})`;
      } else groupBy = ` GROUP BY ${uniqueGroups.join(', ')}`;
    }
    const having = uniqueGroups.length && r.chance(0.3) ? ` HAVING count(*) > ${r.int(0, 4)}` : '';
    const select = [...uniqueGroups, ...aggs];
    const order =
      !sets && r.chance(0.4)
        ? ` ORDER BY ${select.map((_, i) => `${i + 1} NULLS FIRST`).join(', ')} LIMIT ${r.int(1, 12)}`
        : '';
    return `SELECT ${select.join(', ')} FROM ${f.sql}${where}${groupBy}${having}${order}`;
  }
  if (shape < 0.55) {
    // Window functions over one relation, ordered by its unique columns.
    const part = anyCol();
    const order = f.unique.join(', ');
    const windows = Array.from({ length: r.int(1, 2) }, () =>
      r.pick([
        `row_number() OVER (PARTITION BY ${part} ORDER BY ${order})`,
        `rank() OVER (PARTITION BY ${part} ORDER BY ${numCol()} NULLS LAST)`,
        `sum(${numCol()}) OVER (PARTITION BY ${part})`,
        `count(*) OVER (PARTITION BY ${part})`,
        `lag(${anyCol()}) OVER (PARTITION BY ${part} ORDER BY ${order})`,
        `max(${anyCol()}) OVER (PARTITION BY ${part} ORDER BY ${order} ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)`,
        `min(${intCol()}) OVER (PARTITION BY ${anyCol()})`,
        `sum(${intCol()}) OVER (ORDER BY ${order})`,
      ]),
    );
    const cols = [...f.unique, ...r.some([anyCol(), anyCol()], 2)];
    const select = [...new Set(cols)].concat(windows.map((w, i) => `${w} AS w${i}`));
    const qualify = r.chance(0.2) ? ` QUALIFY w0 IS NOT NULL` : '';
    const tail = r.chance(0.3)
      ? ` ORDER BY ${f.unique.map((u) => `${u} NULLS FIRST`).join(', ')} LIMIT ${r.int(1, 30)}`
      : '';
    return `SELECT ${select.join(', ')} FROM ${f.sql}${where}${qualify}${tail}`;
  }
  const cols = [
    ...new Set(
      r.some(
        [
          anyCol(),
          anyCol(),
          anyCol(),
          `${numCol()} * 2`,
          `coalesce(${col(r.pick(f.aliases), ['s'])}, 'none')`,
        ],
        4,
      ),
    ),
  ];
  if (shape < 0.65) {
    const order = r.chance(0.5)
      ? ` ORDER BY ${cols.map((_, i) => `${i + 1} NULLS LAST`).join(', ')} LIMIT ${r.int(1, 20)}`
      : '';
    return `SELECT DISTINCT ${cols.join(', ')} FROM ${f.sql}${where}${order}`;
  }
  if (shape < 0.7) {
    // A set operation of two simple selects.
    const op = r.pick(['UNION ALL', 'UNION', 'INTERSECT', 'EXCEPT']);
    return `SELECT a.k, a.g FROM ${table()} a WHERE a.x < 50 ${op} SELECT b.k, b.g FROM ${table()} b WHERE b.g <> 2`;
  }
  if (shape < 0.73) {
    const t = table();
    if (r.chance(0.5)) {
      return `WITH c AS (SELECT k, g, x, id FROM ${t} WHERE ${pred(t)}) SELECT c.k, count(*), sum(c.x) FROM c JOIN ${table()} b ON b.k = c.k GROUP BY c.k`;
    }
    // A CTE read twice.
    const key = r.pick(['k', 'x', 'g']);
    return `WITH c AS (SELECT ${key} AS key, count(*) AS n, max(id) AS m FROM ${t} GROUP BY ${key}) SELECT c1.key, c1.n, c2.m FROM c c1 ${r.pick(['JOIN', 'LEFT JOIN', 'FULL JOIN'])} c c2 ON c1.key = c2.key + ${r.int(0, 1)}`;
  }
  if (shape < 0.76) {
    // DISTINCT ON, with an ORDER BY that decides which row each group keeps.
    const on = anyCol();
    return `SELECT DISTINCT ON (${on}) ${on}, ${f.unique.join(', ')}, ${anyCol()} FROM ${f.sql}${where} ORDER BY ${on} NULLS FIRST, ${f.unique.map((u) => `${u} DESC NULLS LAST`).join(', ')}`;
  }
  if (shape < 0.79) {
    // A correlated scalar subquery in the select list.
    const alias = r.pick(f.aliases);
    const on = r.pick(JOINABLE);
    return `SELECT ${f.unique.join(', ')}, (SELECT count(*) FROM ${table()} z WHERE z.${on} = ${alias}.${on}) AS n FROM ${f.sql}${where}`;
  }
  if (shape < 0.82) {
    // ORDER BY an expression that is not selected.
    const hidden = r.pick([`${numCol()} * 2 + 1`, `coalesce(${anyCol()}, NULL)`, `${intCol()} % 7`]);
    return `SELECT ${cols.join(', ')} FROM ${f.sql}${where} ORDER BY ${hidden} DESC NULLS FIRST, ${f.unique.map((u) => `${u} NULLS FIRST`).join(', ')} LIMIT ${r.int(1, 30)}`;
  }
  if (r.chance(0.5)) {
    const dir = r.pick(['ASC', 'DESC']);
    const nulls = r.pick(['NULLS FIRST', 'NULLS LAST']);
    const keys = [...cols, ...f.unique].map((k) => `${k} ${dir} ${nulls}`);
    const offset = r.chance(0.3) ? ` OFFSET ${r.int(0, 10)}` : '';
    return `SELECT ${cols.join(', ')} FROM ${f.sql}${where} ORDER BY ${keys.join(', ')} LIMIT ${r.int(1, 25)}${offset}`;
  }
  return `SELECT ${cols.join(', ')} FROM ${f.sql}${where}`;
}

function aggregate(r: Random, num: string, int: string, any: string): string {
  return r.pick([
    'count(*)',
    `count(${any})`,
    `count(DISTINCT ${any})`,
    `sum(${num})`,
    `sum(DISTINCT ${int})`,
    `avg(${num})`,
    `min(${any})`,
    `max(${any})`,
    `stddev_samp(${num})`,
    `var_pop(${num})`,
    `median(${num})`,
    `quantile_cont(${num}, 0.25)`,
    `bool_or(${num} > 50)`,
    `bit_xor(${int})`,
    `string_agg(CAST(${any} AS VARCHAR), ',' ORDER BY CAST(${any} AS VARCHAR) NULLS FIRST)`,
    `count(*) FILTER (WHERE ${int} % 2 = 0)`,
    `sum(${int}) FILTER (WHERE ${num} > 10)`,
    `list(${int} ORDER BY ${int} NULLS FIRST)`,
    `max(${num}) - min(${num})`,
    `avg(DISTINCT ${int})`,
  ]);
}

/** How one case ended. */
export interface CaseResult {
  readonly sql: string;
  /** The plan's mode; undefined when DuckDB itself rejects the query (the case is skipped). */
  readonly mode?: PlanMode;
  readonly shuffled?: boolean;
  /** Why the distributed answer differs from DuckDB's, or the plan could not run. */
  readonly failure?: string;
  /**
   * The failure is a DuckDB INTERNAL error (an assertion of DuckDB's own) in task or merge SQL that is
   * valid: DuckDB bugs such as duckdb/duckdb#26000 (ANTI JOIN column binding after join reordering),
   * which the plan's smaller inputs can trigger where the whole query does not.
   */
  readonly internal?: boolean;
}

/** Plans and runs query `seed` of `world` (loaded in `h`) and compares it with DuckDB. */
export async function runCase(h: PlannerHarness, world: FuzzWorld, seed: number): Promise<CaseResult> {
  const sql = fuzzQuery(world, seed);
  try {
    await h.conn.runAndReadAll(sql);
  } catch {
    return { sql };
  }
  let plan: DistributedPlan;
  try {
    plan = await h.check(
      sql,
      { ordered: sql.includes(' LIMIT ') },
      { ...world.context, shuffleDir: h.shuffleDir() },
    );
  } catch (e) {
    const failure = (e as Error).message;
    return { sql, failure, ...(failure.includes('INTERNAL Error') ? { internal: true } : {}) };
  }
  return { sql, mode: plan.mode, shuffled: plan.stages[0]?.kind === 'shuffle-write' };
}
