import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { integerList, quoteLiteral, stringList } from '../storage/sqlText.js';
import { Prng } from './Prng.js';
import { pick, rnd } from './randomSql.js';
import { TPCH_TABLES, type TpchTable, tpchFileName } from './tables.js';
import { textPool, vStringPool } from './textPool.js';

/** What to generate: scale factor, output directory, and DuckDB threads (default: all cores). */
export interface TpchGenerateOptions {
  readonly sf: number;
  readonly out: string;
  readonly threads?: number;
}

/** One written table: its row count and the absolute path of its Parquet file. */
export interface TpchFile {
  readonly table: TpchTable;
  readonly rows: number;
  readonly file: string;
}

// Word lists of the specification (clause 4.2.2.13, dbgen's dists.dss).
const REGIONS = ['AFRICA', 'AMERICA', 'ASIA', 'EUROPE', 'MIDDLE EAST'];
const NATIONS: readonly (readonly [string, number])[] = [
  ['ALGERIA', 0],
  ['ARGENTINA', 1],
  ['BRAZIL', 1],
  ['CANADA', 1],
  ['EGYPT', 4],
  ['ETHIOPIA', 0],
  ['FRANCE', 3],
  ['GERMANY', 3],
  ['INDIA', 2],
  ['INDONESIA', 2],
  ['IRAN', 4],
  ['IRAQ', 4],
  ['JAPAN', 2],
  ['JORDAN', 4],
  ['KENYA', 0],
  ['MOROCCO', 0],
  ['MOZAMBIQUE', 0],
  ['PERU', 1],
  ['CHINA', 2],
  ['ROMANIA', 3],
  ['SAUDI ARABIA', 4],
  ['VIETNAM', 2],
  ['RUSSIA', 3],
  ['UNITED KINGDOM', 3],
  ['UNITED STATES', 1],
];
const COLOURS = [
  'almond',
  'antique',
  'aquamarine',
  'azure',
  'beige',
  'bisque',
  'black',
  'blanched',
  'blue',
  'blush',
  'brown',
  'burlywood',
  'burnished',
  'chartreuse',
  'chiffon',
  'chocolate',
  'coral',
  'cornflower',
  'cornsilk',
  'cream',
  'cyan',
  'dark',
  'deep',
  'dim',
  'dodger',
  'drab',
  'firebrick',
  'floral',
  'forest',
  'frosted',
  'gainsboro',
  'ghost',
  'goldenrod',
  'green',
  'grey',
  'honeydew',
  'hot',
  'indian',
  'ivory',
  'khaki',
  'lace',
  'lavender',
  'lawn',
  'lemon',
  'light',
  'lime',
  'linen',
  'magenta',
  'maroon',
  'medium',
  'metallic',
  'midnight',
  'mint',
  'misty',
  'moccasin',
  'navajo',
  'navy',
  'olive',
  'orange',
  'orchid',
  'pale',
  'papaya',
  'peach',
  'peru',
  'pink',
  'plum',
  'powder',
  'puff',
  'purple',
  'red',
  'rose',
  'rosy',
  'royal',
  'saddle',
  'salmon',
  'sandy',
  'seashell',
  'sienna',
  'sky',
  'slate',
  'smoke',
  'snow',
  'spring',
  'steel',
  'tan',
  'thistle',
  'tomato',
  'turquoise',
  'violet',
  'wheat',
  'white',
  'yellow',
];
const SEGMENTS = ['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'MACHINERY', 'HOUSEHOLD'];
const PRIORITIES = ['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'];
const INSTRUCTIONS = ['DELIVER IN PERSON', 'COLLECT COD', 'NONE', 'TAKE BACK RETURN'];
const SHIP_MODES = ['REG AIR', 'AIR', 'RAIL', 'SHIP', 'TRUCK', 'MAIL', 'FOB'];
const TYPE_SIZES = ['STANDARD', 'SMALL', 'MEDIUM', 'LARGE', 'ECONOMY', 'PROMO'];
const TYPE_FINISHES = ['ANODIZED', 'BURNISHED', 'PLATED', 'POLISHED', 'BRUSHED'];
const TYPE_METALS = ['TIN', 'NICKEL', 'BRASS', 'STEEL', 'COPPER'];
const CONTAINER_SIZES = ['SM', 'LG', 'MED', 'JUMBO', 'WRAP'];
const CONTAINER_KINDS = ['CASE', 'BOX', 'BAG', 'JAR', 'PKG', 'PACK', 'CAN', 'DRUM'];

const START_DATE = "DATE '1992-01-01'";
/** CURRENTDATE of clause 4.2.3: splits shipped from open lines and returned from not-yet-received ones. */
const CURRENT_DATE = "DATE '1995-06-17'";
/** Orders are dated STARTDATE .. ENDDATE - 151 days: 1992-01-01 .. 1998-08-02, 2405 days later. */
const ORDER_DATE_SPAN = 2405;

const SEED = 19950617;
/** Comment text and v-strings are substrings of these pools, defined once per connection as macros. */
const TEXT_POOL_LENGTH = 1 << 21;
const V_STRING_POOL_LENGTH = 1 << 16;

/** Row counts at a scale factor; lineitem has 1-7 lines per order, about 6,000,000 × SF in all. */
interface Cardinalities {
  readonly suppliers: number;
  readonly parts: number;
  readonly customers: number;
  readonly orders: number;
  readonly clerks: number;
}

function cardinalities(sf: number): Cardinalities {
  const n = (base: number) => Math.round(sf * base);
  return {
    suppliers: n(10_000),
    parts: n(200_000),
    customers: n(150_000),
    orders: n(1_500_000),
    clerks: n(1000),
  };
}

/** A random text string of length [lo, hi] from the comment pool. */
function text(stream: string, key: string, lo: number, hi: number): string {
  const offset = rnd(`${stream}.offset`, key, 1, TEXT_POOL_LENGTH - hi + 1);
  return `substr(tpch_text(), ${offset}, ${rnd(`${stream}.length`, key, lo, hi)})`;
}

/** A random v-string of length [lo, hi] (addresses). */
function vString(stream: string, key: string, lo: number, hi: number): string {
  const offset = rnd(`${stream}.offset`, key, 1, V_STRING_POOL_LENGTH - hi + 1);
  return `substr(tpch_vstring(), ${offset}, ${rnd(`${stream}.length`, key, lo, hi)})`;
}

/** Integer cents as DECIMAL(15,2), exactly (dividing a DECIMAL would give a DOUBLE). */
function money(cents: string): string {
  return `CAST(CAST(${cents} AS DECIMAL(15,0)) * 0.01 AS DECIMAL(15,2))`;
}

/** Phone numbers (clause 4.2.2.9): country code nation + 10, then three random local groups. */
function phone(stream: string, key: string, nation: string): string {
  const group = (name: string, lo: number, hi: number) =>
    `CAST(${rnd(`${stream}.${name}`, key, lo, hi)} AS VARCHAR)`;
  return `CAST(${nation} + 10 AS VARCHAR) || '-' || ${group('1', 100, 999)} || '-' || ${group('2', 100, 999)} || '-' || ${group('3', 1000, 9999)}`;
}

/** P_RETAILPRICE in cents: (90000 + ((key / 10) modulo 20001) + 100 × (key modulo 1000)), integer division. */
function retailCents(partkey: string): string {
  return `(90000 + (${partkey} // 10) % 20001 + 100 * (${partkey} % 1000))`;
}

/** The i-th (0..3) supplier of a part: (partkey + (i × (S/4 + (partkey - 1)/S))) modulo S + 1. */
function supplierOf(partkey: string, i: string, suppliers: number): string {
  return `((${partkey} + ${i} * (${Math.floor(suppliers / 4)} + (${partkey} - 1) // ${suppliers})) % ${suppliers} + 1)`;
}

/** `count` distinct keys from [1, n] (Floyd's algorithm), for the suppliers whose comments carry complaints. */
function distinctKeys(rng: Prng, count: number, n: number): number[] {
  const chosen = new Set<number>();
  for (let j = n - count + 1; j <= n; j++) {
    const t = 1 + rng.int(j);
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen];
}

/**
 * The per-line values, as SQL over a line key (order index × 8 + line number). Both lineitem and orders
 * (whose total price and status summarize its lines) are built from these, so they agree by construction.
 */
function lineValues(c: Cardinalities) {
  return {
    partkey: (lk: string) => rnd('l_partkey', lk, 1, c.parts),
    supplierIndex: (lk: string) => rnd('l_suppkey', lk, 0, 3),
    quantity: (lk: string) => rnd('l_quantity', lk, 1, 50),
    discountCents: (lk: string) => rnd('l_discount', lk, 0, 10),
    taxCents: (lk: string) => rnd('l_tax', lk, 0, 8),
    shipDays: (lk: string) => `CAST(${rnd('l_shipdate', lk, 1, 121)} AS INTEGER)`,
    commitDays: (lk: string) => `CAST(${rnd('l_commitdate', lk, 30, 90)} AS INTEGER)`,
    receiptDays: (lk: string) => `CAST(${rnd('l_receiptdate', lk, 1, 30)} AS INTEGER)`,
  };
}

/**
 * One row per order index o (1-based): the sparse key (dbgen keeps the first 8 of every 32 keys), the
 * order date, and the number of lines.
 */
function orderBase(c: Cardinalities): string {
  return `(SELECT o, (o // 8) * 32 + o % 8 AS okey,
      ${START_DATE} + CAST(${rnd('o_orderdate', 'o', 0, ORDER_DATE_SPAN)} AS INTEGER) AS odate,
      ${rnd('o_lines', 'o', 1, 7)} AS lines
    FROM range(1, ${c.orders + 1}) AS t(o))`;
}

function regionSql(): string {
  return `SELECT CAST(r AS INTEGER) AS r_regionkey, ${stringList(REGIONS)}[r + 1] AS r_name,
      ${text('r_comment', 'r', 31, 115)} AS r_comment
    FROM range(0, 5) AS t(r)`;
}

function nationSql(): string {
  const names = stringList(NATIONS.map(([name]) => name));
  const regions = integerList(NATIONS.map(([, region]) => region));
  return `SELECT CAST(n AS INTEGER) AS n_nationkey, ${names}[n + 1] AS n_name,
      CAST(${regions}[n + 1] AS INTEGER) AS n_regionkey, ${text('n_comment', 'n', 31, 114)} AS n_comment
    FROM range(0, 25) AS t(n)`;
}

function supplierSql(c: Cardinalities, sf: number): string {
  // SF × 5 suppliers complain and SF × 5 recommend (clause 4.2.3; at least one each, so Q16's filter has
  // something to remove at small scale factors).
  const perKind = Math.max(1, Math.round(sf * 5));
  const keys = distinctKeys(new Prng(SEED), 2 * perKind, c.suppliers);
  const bbb = (word: string) =>
    `${text('s_comment.head', 's', 0, 25)} || 'Customer ' || ${text('s_comment.middle', 's', 0, 25)} || '${word}' || ${text('s_comment.tail', 's', 6, 25)}`;
  return `SELECT CAST(s AS INTEGER) AS s_suppkey, 'Supplier#' || lpad(CAST(s AS VARCHAR), 9, '0') AS s_name,
      ${vString('s_address', 's', 10, 40)} AS s_address, CAST(nation AS INTEGER) AS s_nationkey,
      ${phone('s_phone', 's', 'nation')} AS s_phone, ${money(rnd('s_acctbal', 's', -99_999, 999_999))} AS s_acctbal,
      CASE WHEN s IN (${keys.slice(0, perKind).join(', ')}) THEN ${bbb('Complaints')}
           WHEN s IN (${keys.slice(perKind).join(', ')}) THEN ${bbb('Recommends')}
           ELSE ${text('s_comment', 's', 25, 100)} END AS s_comment
    FROM (SELECT s, ${rnd('s_nationkey', 's', 0, 24)} AS nation FROM range(1, ${c.suppliers + 1}) AS t(s))`;
}

function customerSql(c: Cardinalities): string {
  return `SELECT CAST(k AS INTEGER) AS c_custkey, 'Customer#' || lpad(CAST(k AS VARCHAR), 9, '0') AS c_name,
      ${vString('c_address', 'k', 10, 40)} AS c_address, CAST(nation AS INTEGER) AS c_nationkey,
      ${phone('c_phone', 'k', 'nation')} AS c_phone, ${money(rnd('c_acctbal', 'k', -99_999, 999_999))} AS c_acctbal,
      ${pick('c_mktsegment', 'k', SEGMENTS)} AS c_mktsegment, ${text('c_comment', 'k', 29, 116)} AS c_comment
    FROM (SELECT k, ${rnd('c_nationkey', 'k', 0, 24)} AS nation FROM range(1, ${c.customers + 1}) AS t(k))`;
}

function partSql(c: Cardinalities): string {
  // P_NAME is five distinct colours. Floyd's algorithm draws a uniformly random 5-subset of the 92 indexes
  // (step j draws t_j in [0, 86 + j] and takes 86 + j instead when t_j is already chosen); a random
  // rotation of all indexes then makes every word position uniform too (Floyd's order alone is not).
  const draws = [1, 2, 3, 4, 5].map((j) => `${rnd(`p_name.${j}`, 'p', 0, 86 + j)} AS t${j}`);
  let chosen = `(SELECT *, t1 AS s1 FROM (SELECT p, ${rnd('p_name.rotation', 'p', 0, 91)} AS rotation,
      ${rnd('p_mfgr', 'p', 1, 5)} AS mfgr, ${draws.join(', ')}
    FROM range(1, ${c.parts + 1}) AS t(p)))`;
  for (let j = 2; j <= 5; j++) {
    const earlier = Array.from({ length: j - 1 }, (_, k) => `s${k + 1}`).join(', ');
    chosen = `(SELECT *, CASE WHEN t${j} IN (${earlier}) THEN ${86 + j} ELSE t${j} END AS s${j} FROM ${chosen})`;
  }
  const colour = (j: number) => `${stringList(COLOURS)}[1 + (s${j} + rotation) % 92]`;
  return `SELECT CAST(p AS INTEGER) AS p_partkey,
      concat_ws(' ', ${[1, 2, 3, 4, 5].map(colour).join(', ')}) AS p_name,
      'Manufacturer#' || mfgr AS p_mfgr, 'Brand#' || mfgr || ${rnd('p_brand', 'p', 1, 5)} AS p_brand,
      ${pick('p_type.1', 'p', TYPE_SIZES)} || ' ' || ${pick('p_type.2', 'p', TYPE_FINISHES)} || ' ' || ${pick('p_type.3', 'p', TYPE_METALS)} AS p_type,
      CAST(${rnd('p_size', 'p', 1, 50)} AS INTEGER) AS p_size,
      ${pick('p_container.1', 'p', CONTAINER_SIZES)} || ' ' || ${pick('p_container.2', 'p', CONTAINER_KINDS)} AS p_container,
      ${money(retailCents('p'))} AS p_retailprice, ${text('p_comment', 'p', 5, 22)} AS p_comment
    FROM ${chosen}`;
}

function partsuppSql(c: Cardinalities): string {
  return `SELECT CAST(p AS INTEGER) AS ps_partkey, CAST(${supplierOf('p', 'i', c.suppliers)} AS INTEGER) AS ps_suppkey,
      CAST(${rnd('ps_availqty', 'k', 1, 9999)} AS INTEGER) AS ps_availqty,
      ${money(rnd('ps_supplycost', 'k', 100, 100_000))} AS ps_supplycost, ${text('ps_comment', 'k', 49, 198)} AS ps_comment
    FROM (SELECT p, i, p * 4 + i AS k FROM (SELECT p, unnest(range(0, 4)) AS i FROM range(1, ${c.parts + 1}) AS t(p)))`;
}

function ordersSql(c: Cardinalities): string {
  const line = lineValues(c);
  const lk = '(o * 8 + ln)';
  // O_TOTALPRICE = Σ extendedprice × (1 + tax) × (1 - discount), in units of 1/10000 cent, rounded once.
  const gross = `${line.quantity(lk)} * ${retailCents(line.partkey(lk))} * (100 - ${line.discountCents(lk)}) * (100 + ${line.taxCents(lk)})`;
  const shipped = `CASE WHEN odate + ${line.shipDays(lk)} <= ${CURRENT_DATE} THEN 1 ELSE 0 END`;
  // Customers whose key is a multiple of 3 never order. As in dbgen, a draw on such a key moves to the next
  // key (the previous one at the end), so keys ≡ 1 (mod 3) order twice as often as keys ≡ 2: the two-humped
  // orders-per-customer distribution behind Q13's answer.
  const custkey = `CASE WHEN cust % 3 <> 0 THEN cust WHEN cust < ${c.customers} THEN cust + 1 ELSE cust - 1 END`;
  return `SELECT CAST(okey AS BIGINT) AS o_orderkey, CAST(${custkey} AS INTEGER) AS o_custkey,
      CASE WHEN shipped = lines THEN 'F' WHEN shipped = 0 THEN 'O' ELSE 'P' END AS o_orderstatus,
      ${money('(gross + 5000) // 10000')} AS o_totalprice, odate AS o_orderdate,
      ${pick('o_orderpriority', 'o', PRIORITIES)} AS o_orderpriority,
      'Clerk#' || lpad(CAST(${rnd('o_clerk', 'o', 1, Math.max(1, c.clerks))} AS VARCHAR), 9, '0') AS o_clerk,
      CAST(0 AS INTEGER) AS o_shippriority, ${text('o_comment', 'o', 19, 78)} AS o_comment
    FROM (SELECT *, ${rnd('o_custkey', 'o', 1, c.customers)} AS cust,
        list_sum(list_transform(range(1, lines + 1), lambda ln: ${gross})) AS gross,
        list_sum(list_transform(range(1, lines + 1), lambda ln: ${shipped})) AS shipped
      FROM ${orderBase(c)})`;
}

function lineitemSql(c: Cardinalities): string {
  const line = lineValues(c);
  const lines = `(SELECT o, okey, odate, unnest(range(1, lines + 1)) AS ln FROM ${orderBase(c)})`;
  const drawn = `(SELECT okey, ln, lk, odate, ${line.partkey('lk')} AS pk, ${line.supplierIndex('lk')} AS si,
      ${line.quantity('lk')} AS q, ${line.discountCents('lk')} AS disc, ${line.taxCents('lk')} AS tax,
      odate + ${line.shipDays('lk')} AS ship, odate + ${line.commitDays('lk')} AS commit
    FROM (SELECT okey, ln, o * 8 + ln AS lk, odate FROM ${lines}))`;
  const dated = `(SELECT *, ship + ${line.receiptDays('lk')} AS receipt FROM ${drawn})`;
  return `SELECT CAST(okey AS BIGINT) AS l_orderkey, CAST(pk AS INTEGER) AS l_partkey,
      CAST(${supplierOf('pk', 'si', c.suppliers)} AS INTEGER) AS l_suppkey, CAST(ln AS INTEGER) AS l_linenumber,
      CAST(q AS DECIMAL(15,2)) AS l_quantity, ${money(`q * ${retailCents('pk')}`)} AS l_extendedprice,
      ${money('disc')} AS l_discount, ${money('tax')} AS l_tax,
      CASE WHEN receipt <= ${CURRENT_DATE} THEN ${pick('l_returnflag', 'lk', ['R', 'A'])} ELSE 'N' END AS l_returnflag,
      CASE WHEN ship > ${CURRENT_DATE} THEN 'O' ELSE 'F' END AS l_linestatus,
      ship AS l_shipdate, commit AS l_commitdate, receipt AS l_receiptdate,
      ${pick('l_shipinstruct', 'lk', INSTRUCTIONS)} AS l_shipinstruct, ${pick('l_shipmode', 'lk', SHIP_MODES)} AS l_shipmode,
      ${text('l_comment', 'lk', 10, 43)} AS l_comment
    FROM ${dated}`;
}

function tableSql(table: TpchTable, c: Cardinalities, sf: number): string {
  switch (table) {
    case 'region':
      return regionSql();
    case 'nation':
      return nationSql();
    case 'supplier':
      return supplierSql(c, sf);
    case 'customer':
      return customerSql(c);
    case 'part':
      return partSql(c);
    case 'partsupp':
      return partsuppSql(c);
    case 'orders':
      return ordersSql(c);
    case 'lineitem':
      return lineitemSql(c);
  }
}

let pools: { text: string; vString: string } | undefined;

async function definePools(conn: DuckDBConnection): Promise<void> {
  pools ??= { text: textPool(SEED, TEXT_POOL_LENGTH), vString: vStringPool(SEED, V_STRING_POOL_LENGTH) };
  // Macros of constant strings: substr() over a constant known to be ASCII takes DuckDB's O(1) path, where a
  // list or a table of pool entries costs a copy or a join per row.
  await conn.run(`CREATE MACRO tpch_text() AS ${quoteLiteral(pools.text)}`);
  await conn.run(`CREATE MACRO tpch_vstring() AS ${quoteLiteral(pools.vString)}`);
}

/**
 * Writes the eight TPC-H tables at scale factor `sf` as Parquet files `<out>/<table>.parquet` (one file
 * per table, rows in key order, DuckDB's default row groups), following the specification's schema,
 * cardinalities, keys and value rules. Generation runs inside an in-memory DuckDB, every value a hash of
 * its row key, so the files are identical for a given scale factor (and DuckDB version). Each file is
 * written under a temporary name and renamed when complete.
 */
export async function generateTpch(options: TpchGenerateOptions): Promise<TpchFile[]> {
  const { sf } = options;
  // Below 0.001 the partsupp formula runs out of distinct suppliers; above 10,000 line keys (order × 8)
  // would outgrow the 2^40 a random stream leaves them.
  if (!(sf >= 0.001 && sf <= 10_000)) {
    throw new RangeError(`scale factor must be between 0.001 and 10000, got ${sf}`);
  }
  const out = resolve(options.out);
  await mkdir(out, { recursive: true });
  const config: Record<string, string> = { preserve_insertion_order: 'true' };
  if (options.threads !== undefined) config['threads'] = String(options.threads);
  const instance = await DuckDBInstance.create(':memory:', config);
  const conn = await instance.connect();
  try {
    await definePools(conn);
    const c = cardinalities(sf);
    const written: TpchFile[] = [];
    for (const table of TPCH_TABLES) {
      const file = join(out, tpchFileName(table));
      const partial = `${file}.partial`;
      try {
        const result = await conn.runAndReadAll(
          `COPY (${tableSql(table, c, sf)}) TO ${quoteLiteral(partial)} (FORMAT parquet)`,
        );
        await rename(partial, file);
        written.push({ table, rows: Number(result.getRows()[0]?.[0] ?? 0), file });
      } catch (e) {
        await rm(partial, { force: true });
        throw e;
      }
    }
    return written;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
