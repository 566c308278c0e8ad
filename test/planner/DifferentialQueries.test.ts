// Random queries from a small grammar (filters, joins of every kind, subqueries, aggregates with GROUP
// BY / GROUPING SETS / HAVING, DISTINCT, ORDER BY / LIMIT), each planned, run with runLocally and
// compared with single-node DuckDB. A fixed seed range runs here; PLANNER_FUZZ_SEEDS=a..b runs others.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { PlanContext } from '../../src/planner/planQuery.js';
import { PlannerHarness } from './plannerHarness.js';

let h: PlannerHarness;
const ctx: Partial<PlanContext> = { broadcastMaxRows: 3_000, workerSlots: 2 };

/** Deterministic PRNG (mulberry32), so a seed names a query. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Source {
  readonly from: string;
  /** Columns usable in predicates, grouping and aggregates (qualified). */
  readonly columns: readonly string[];
  /** A column set that identifies a row, to make ORDER BY total. */
  readonly unique: readonly string[];
}

const SOURCES: readonly Source[] = [
  { from: 'ord o', columns: ['o.ok', 'o.cust', 'o.prio', 'o.amt'], unique: ['o.n'] },
  { from: 'line l', columns: ['l.ok', 'l.qty', 'l.part', 'l.price'], unique: ['l.ln'] },
  { from: 'fact f', columns: ['f.dk', 'f.x', 'f.k', 'f.d'], unique: ['f.id'] },
  ...['JOIN', 'LEFT JOIN', 'RIGHT JOIN', 'FULL JOIN'].map((j) => ({
    from: `ord o ${j} line l ON o.ok = l.ok`,
    columns: ['o.ok', 'o.cust', 'o.prio', 'l.qty', 'l.part', 'l.price', 'o.amt'],
    unique: ['o.n', 'l.ln'],
  })),
  { from: 'ord o, line l', columns: ['o.cust', 'l.qty', 'l.part', 'o.amt'], unique: ['o.n', 'l.ln'] },
  ...['JOIN', 'LEFT JOIN'].map((j) => ({
    from: `fact f ${j} dim d ON f.dk = d.dk`,
    columns: ['f.dk', 'f.x', 'f.k', 'd.region', 'd.name', 'f.d'],
    unique: ['f.id'],
  })),
  {
    from: 'dim d LEFT JOIN fact f ON f.dk = d.dk',
    columns: ['d.dk', 'd.region', 'f.x', 'f.k'],
    unique: ['d.dk', 'f.id'],
  },
  { from: 'fact f JOIN dimb b ON f.dk = b.dk', columns: ['f.x', 'f.k', 'b.grp', 'f.d'], unique: ['f.id'] },
  { from: 'ord o SEMI JOIN line l ON o.ok = l.ok', columns: ['o.ok', 'o.cust', 'o.amt'], unique: ['o.n'] },
  { from: 'ord o ANTI JOIN line l ON o.ok = l.ok', columns: ['o.ok', 'o.cust', 'o.amt'], unique: ['o.n'] },
  {
    from: '(SELECT ok, count(*) AS c, sum(qty) AS q FROM line GROUP BY ok) s JOIN ord o ON o.ok = s.ok',
    columns: ['s.ok', 's.c', 's.q', 'o.prio'],
    unique: ['o.n'],
  },
  {
    from: '(SELECT l.*, rank() OVER (PARTITION BY ok ORDER BY qty, ln) AS rk FROM line l) l',
    columns: ['l.ok', 'l.qty', 'l.rk', 'l.price'],
    unique: ['l.ln'],
  },
];

const AGGREGATES = [
  (c: string) => `count(${c})`,
  () => 'count(*)',
  (c: string) => `sum(${c})`,
  (c: string) => `min(${c})`,
  (c: string) => `max(${c})`,
  (c: string) => `avg(${c})`,
  (c: string) => `stddev_samp(${c})`,
  (c: string) => `var_pop(${c})`,
  (c: string) => `count(DISTINCT ${c})`,
  (c: string) => `median(${c})`,
  (c: string) => `quantile_cont(${c}, 0.3)`,
  (c: string) => `bool_or(${c} > 10)`,
  (c: string) => `sum(${c}) FILTER (WHERE ${c} % 3 = 1)`,
  (c: string) => `bit_xor(CAST(${c} AS BIGINT))`,
  (c: string) => `string_agg(CAST(${c} AS VARCHAR), '-' ORDER BY ${c} NULLS FIRST)`,
  (c: string) => `sum(DISTINCT ${c})`,
  (c: string) => `max(${c}) - min(${c})`,
  (c: string) => `avg(${c}) FILTER (WHERE ${c} > 5)`,
];

function query(seed: number): string {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const src = pick(SOURCES);
  const numeric = src.columns.filter((c) => !c.endsWith('name'));
  const preds: string[] = [];
  const predCount = Math.floor(r() * 3);
  for (let i = 0; i < predCount; i++) {
    const c = pick(numeric);
    const v = Math.floor(r() * 60);
    preds.push(
      pick([
        `${c} < ${v}`,
        `${c} = ${v}`,
        `${c} BETWEEN ${v} AND ${v + 15}`,
        `${c} IN (${v}, ${v + 1}, ${v + 7})`,
        `${c} IS NOT NULL`,
        `${c} IS NULL`,
        `${c} > ${v} OR ${c} < ${v - 20}`,
      ]),
    );
  }
  if (src.from.startsWith('ord o') && r() < 0.3) {
    preds.push(
      pick([
        'EXISTS (SELECT 1 FROM line x WHERE x.ok = o.ok AND x.qty > 30)',
        'NOT EXISTS (SELECT 1 FROM line x WHERE x.ok = o.ok)',
        'o.ok IN (SELECT ok FROM line GROUP BY ok HAVING count(*) > 3)',
        'o.cust IN (SELECT dk FROM dim WHERE region = 1)',
        'o.cust NOT IN (SELECT dk FROM dimb WHERE grp = 1)',
        'o.amt > (SELECT avg(x.price) * 2 FROM line x WHERE x.ok = o.ok)',
        'o.ok IN (SELECT part FROM line)',
      ]),
    );
  }
  if (src.from === 'ord o, line l') preds.push('o.ok = l.ok');
  const where = preds.length ? ` WHERE ${preds.map((p) => `(${p})`).join(' AND ')}` : '';
  if (r() < 0.55) {
    const groups = numeric.filter(() => r() < 0.35).slice(0, 2);
    const aggs = Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(AGGREGATES)(pick(numeric)));
    let groupBy = '';
    if (groups.length) {
      groupBy =
        groups.length === 2 && r() < 0.3
          ? ` GROUP BY ${pick(['ROLLUP', 'CUBE'])} (${groups.join(', ')})`
          : ` GROUP BY ${groups.join(', ')}`;
    }
    const having = groups.length && r() < 0.3 ? ` HAVING count(*) > ${Math.floor(r() * 5)}` : '';
    const select = [...groups, ...aggs];
    const order =
      r() < 0.4 ? ` ORDER BY ${select.map((_, i) => `${i + 1} NULLS FIRST`).join(', ')} LIMIT 7` : '';
    return `SELECT ${select.join(', ')} FROM ${src.from}${where}${groupBy}${having}${order}`;
  }
  const cols = numeric.filter(() => r() < 0.5);
  if (cols.length === 0) cols.push(numeric[0]!);
  if (r() < 0.2) return `SELECT DISTINCT ${cols.join(', ')} FROM ${src.from}${where}`;
  if (r() < 0.5) {
    const keys = [...cols, ...src.unique];
    const dir = r() < 0.5 ? 'DESC' : 'ASC';
    const offset = r() < 0.3 ? ` OFFSET ${Math.floor(r() * 10)}` : '';
    return `SELECT ${cols.join(', ')} FROM ${src.from}${where} ORDER BY ${keys.map((k) => `${k} ${dir} NULLS LAST`).join(', ')} LIMIT ${1 + Math.floor(r() * 20)}${offset}`;
  }
  return `SELECT ${cols.join(', ')} FROM ${src.from}${where}`;
}

test.before(async () => {
  h = await PlannerHarness.create();
  await h.writeTable('ord', {
    rows: `SELECT n, CASE WHEN n % 97 = 0 THEN NULL ELSE n % 1500 END AS ok, n % 40 AS cust, n % 7 AS prio,
             CASE WHEN n % 11 = 0 THEN NULL ELSE (n * 37) % 1000 / 10.0 END AS amt FROM range(1, 3001) r(n)`,
    hash: { column: 'ok', buckets: 4, group: 'ok' },
  });
  await h.writeTable('line', {
    rows: `SELECT n AS ln, CASE WHEN n % 89 = 0 THEN NULL ELSE (n * 7) % 1700 END AS ok, (n * 13) % 50 AS qty,
             n % 45 AS part, (n * 17) % 3000 / 100.0 AS price FROM range(1, 9001) r(n)`,
    hash: { column: 'ok', buckets: 4, group: 'ok' },
  });
  await h.writeTable('fact', {
    rows: `SELECT n AS id, n % 55 AS dk, CASE WHEN n % 9 = 0 THEN NULL ELSE (n * 31) % 100 END AS x, n % 9 AS k,
             (n * 7) % 1000 / 7.0 AS d FROM range(1, 8001) r(n)`,
    files: { count: 5, fileOf: 'CASE WHEN id < 6000 THEN id % 3 ELSE 3 + id % 2 END' },
  });
  await h.writeTable('dim', {
    rows: `SELECT n AS dk, 'name' || (n % 17) AS name, n % 3 AS region FROM range(0, 50) r(n)`,
    reference: true,
  });
  await h.writeTable('dimb', {
    rows: 'SELECT n AS dk, n % 4 AS grp FROM range(5, 60) r(n)',
    files: { count: 2, fileOf: 'dk % 2' },
  });
});

test.after(() => h.close());

test('random queries give single-node DuckDB answers', async () => {
  const [from, to] = (process.env['PLANNER_FUZZ_SEEDS'] ?? '1..150').split('..').map(Number) as [
    number,
    number,
  ];
  const failures: string[] = [];
  const modes = { local: 0, distributed: 0, gathered: 0 };
  for (let seed = from; seed <= to; seed++) {
    const sql = query(seed);
    try {
      const plan = await h.check(sql, { ordered: sql.includes('LIMIT') }, ctx);
      modes[plan.mode]++;
    } catch (e) {
      failures.push(`seed ${seed}: ${(e as Error).message.split('\n').slice(0, 3).join(' | ')}`);
    }
  }
  console.log(`  ${to - from + 1} queries: ${modes.distributed} distributed, ${modes.gathered} gathered`);
  assert.equal(failures, []);
  assert.ok(modes.distributed > (to - from + 1) / 2, 'most random queries distribute');
});

test.run();
