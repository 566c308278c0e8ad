// The TPC-H generator at SF 0.01, read back with plain DuckDB: cardinalities, schema, key relationships and
// the value rules of specification clause 4.2.3, and byte-identical output on a second run.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateTpch, type TpchFile } from '../../src/tpch/generate.js';
import { loudHook } from '../helpers/loudHook.js';
import { openTpchDb, removeDir, type TpchDb, tempDir } from './tpchDb.js';

const TABLES = ['region', 'nation', 'supplier', 'customer', 'part', 'partsupp', 'orders', 'lineitem'];

// The specification's word lists, written out here independently of the generator.
const COLOURS =
  'almond antique aquamarine azure beige bisque black blanched blue blush brown burlywood burnished chartreuse ' +
  'chiffon chocolate coral cornflower cornsilk cream cyan dark deep dim dodger drab firebrick floral forest ' +
  'frosted gainsboro ghost goldenrod green grey honeydew hot indian ivory khaki lace lavender lawn lemon light ' +
  'lime linen magenta maroon medium metallic midnight mint misty moccasin navajo navy olive orange orchid pale ' +
  'papaya peach peru pink plum powder puff purple red rose rosy royal saddle salmon sandy seashell sienna sky ' +
  'slate smoke snow spring steel tan thistle tomato turquoise violet wheat white yellow';
const TYPES = ['STANDARD', 'SMALL', 'MEDIUM', 'LARGE', 'ECONOMY', 'PROMO'].flatMap((a) =>
  ['ANODIZED', 'BURNISHED', 'PLATED', 'POLISHED', 'BRUSHED'].flatMap((b) =>
    ['TIN', 'NICKEL', 'BRASS', 'STEEL', 'COPPER'].map((c) => `${a} ${b} ${c}`),
  ),
);
const CONTAINERS = ['SM', 'LG', 'MED', 'JUMBO', 'WRAP'].flatMap((a) =>
  ['CASE', 'BOX', 'BAG', 'JAR', 'PKG', 'PACK', 'CAN', 'DRUM'].map((b) => `${a} ${b}`),
);

const sqlList = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(', ')}]`;

let dir = '';
let files: TpchFile[] = [];
let db: TpchDb;

test.before(
  loudHook(async () => {
    dir = await tempDir('mallard-tpch-');
    files = await generateTpch({ sf: 0.01, out: dir });
    db = await openTpchDb(dir);
  }),
);

test.after(async () => {
  db?.close();
  await removeDir(dir);
});

/** Asserts that `sql` (a count of rows breaking a rule) is zero. */
async function none(sql: string, rule: string): Promise<void> {
  assert.is(await db.number(sql), 0, rule);
}

test('writes the eight tables with the specification cardinalities at SF 0.01', async () => {
  assert.equal(
    files.map((f) => f.table),
    TABLES,
  );
  for (const f of files) {
    assert.is(f.file, join(dir, `${f.table}.parquet`));
    assert.ok((await stat(f.file)).size > 0, f.file);
    assert.is(await db.number(`SELECT count(*) FROM ${f.table}`), f.rows, `${f.table} rows reported`);
  }
  const expected: Record<string, number> = {
    region: 5,
    nation: 25,
    supplier: 100,
    customer: 1500,
    part: 2000,
    partsupp: 8000,
    orders: 15000,
  };
  for (const [table, rows] of Object.entries(expected)) {
    assert.is(await db.number(`SELECT count(*) FROM ${table}`), rows, table);
  }
  // Lineitem: every order has 1-7 lines numbered 1..n, about 4 per order on average.
  await none(
    `SELECT count(*) FROM (
       SELECT count(*) AS n, min(l_linenumber) AS lo, max(l_linenumber) AS hi, count(DISTINCT l_linenumber) AS d
       FROM lineitem GROUP BY l_orderkey)
     WHERE n NOT BETWEEN 1 AND 7 OR lo <> 1 OR hi <> n OR d <> n`,
    'lines per order are 1..n with n in [1, 7]',
  );
  assert.is(
    await db.number('SELECT count(DISTINCT l_orderkey) FROM lineitem'),
    15000,
    'every order has lines',
  );
  assert.is(
    await db.number('SELECT count(DISTINCT n) FROM (SELECT count(*) AS n FROM lineitem GROUP BY l_orderkey)'),
    7,
    'all seven line counts occur',
  );
  const lines = await db.number('SELECT count(*) FROM lineitem');
  assert.ok(lines > 57_000 && lines < 63_000, `about 60,000 lines, got ${lines}`);
});

test('columns have the specification names and types', async () => {
  const money = 'DECIMAL(15,2)';
  const expected: Record<string, string[]> = {
    region: ['r_regionkey INTEGER', 'r_name VARCHAR', 'r_comment VARCHAR'],
    nation: ['n_nationkey INTEGER', 'n_name VARCHAR', 'n_regionkey INTEGER', 'n_comment VARCHAR'],
    supplier: [
      's_suppkey INTEGER',
      's_name VARCHAR',
      's_address VARCHAR',
      's_nationkey INTEGER',
      's_phone VARCHAR',
      `s_acctbal ${money}`,
      's_comment VARCHAR',
    ],
    customer: [
      'c_custkey INTEGER',
      'c_name VARCHAR',
      'c_address VARCHAR',
      'c_nationkey INTEGER',
      'c_phone VARCHAR',
      `c_acctbal ${money}`,
      'c_mktsegment VARCHAR',
      'c_comment VARCHAR',
    ],
    part: [
      'p_partkey INTEGER',
      'p_name VARCHAR',
      'p_mfgr VARCHAR',
      'p_brand VARCHAR',
      'p_type VARCHAR',
      'p_size INTEGER',
      'p_container VARCHAR',
      `p_retailprice ${money}`,
      'p_comment VARCHAR',
    ],
    partsupp: [
      'ps_partkey INTEGER',
      'ps_suppkey INTEGER',
      'ps_availqty INTEGER',
      `ps_supplycost ${money}`,
      'ps_comment VARCHAR',
    ],
    orders: [
      'o_orderkey BIGINT',
      'o_custkey INTEGER',
      'o_orderstatus VARCHAR',
      `o_totalprice ${money}`,
      'o_orderdate DATE',
      'o_orderpriority VARCHAR',
      'o_clerk VARCHAR',
      'o_shippriority INTEGER',
      'o_comment VARCHAR',
    ],
    lineitem: [
      'l_orderkey BIGINT',
      'l_partkey INTEGER',
      'l_suppkey INTEGER',
      'l_linenumber INTEGER',
      `l_quantity ${money}`,
      `l_extendedprice ${money}`,
      `l_discount ${money}`,
      `l_tax ${money}`,
      'l_returnflag VARCHAR',
      'l_linestatus VARCHAR',
      'l_shipdate DATE',
      'l_commitdate DATE',
      'l_receiptdate DATE',
      'l_shipinstruct VARCHAR',
      'l_shipmode VARCHAR',
      'l_comment VARCHAR',
    ],
  };
  for (const [table, columns] of Object.entries(expected)) {
    const described = await db.rows(`SELECT column_name || ' ' || column_type FROM (DESCRIBE ${table})`);
    assert.equal(
      described.map((r) => r[0]),
      columns,
      table,
    );
  }
});

test('keys are unique, order keys sparse, and every reference resolves', async () => {
  const unique: [string, string][] = [
    ['region', 'r_regionkey'],
    ['nation', 'n_nationkey'],
    ['supplier', 's_suppkey'],
    ['customer', 'c_custkey'],
    ['part', 'p_partkey'],
    ['partsupp', 'ps_partkey, ps_suppkey'],
    ['orders', 'o_orderkey'],
    ['lineitem', 'l_orderkey, l_linenumber'],
  ];
  for (const [table, key] of unique) {
    await none(`SELECT count(*) - count(DISTINCT (${key})) FROM ${table}`, `${table} key (${key}) is unique`);
  }
  const dense: [string, string, number, number][] = [
    ['region', 'r_regionkey', 0, 4],
    ['nation', 'n_nationkey', 0, 24],
    ['supplier', 's_suppkey', 1, 100],
    ['customer', 'c_custkey', 1, 1500],
    ['part', 'p_partkey', 1, 2000],
  ];
  for (const [table, key, lo, hi] of dense) {
    assert.equal(await db.rows(`SELECT min(${key}), max(${key}) FROM ${table}`), [[lo, hi]], `${table} keys`);
  }
  // dbgen's sparse keys: only the first 8 of every 32 are used, so the i-th key is (i div 8) * 32 + i mod 8.
  await none('SELECT count(*) FROM orders WHERE o_orderkey % 32 >= 8', 'order keys sit in the first 8 of 32');
  await none(
    `SELECT count(*) FROM (SELECT o_orderkey, row_number() OVER (ORDER BY o_orderkey) AS i FROM orders)
     WHERE o_orderkey <> (i // 8) * 32 + i % 8`,
    'order keys are the dense sequence made sparse',
  );
  assert.is(await db.number('SELECT max(o_orderkey) FROM orders'), 60000);

  const references: [string, string][] = [
    ['SELECT count(*) FROM lineitem ANTI JOIN orders ON l_orderkey = o_orderkey', 'l_orderkey in orders'],
    [
      'SELECT count(*) FROM lineitem ANTI JOIN partsupp ON l_partkey = ps_partkey AND l_suppkey = ps_suppkey',
      '(l_partkey, l_suppkey) in partsupp',
    ],
    ['SELECT count(*) FROM partsupp ANTI JOIN part ON ps_partkey = p_partkey', 'ps_partkey in part'],
    ['SELECT count(*) FROM partsupp ANTI JOIN supplier ON ps_suppkey = s_suppkey', 'ps_suppkey in supplier'],
    ['SELECT count(*) FROM orders ANTI JOIN customer ON o_custkey = c_custkey', 'o_custkey in customer'],
    ['SELECT count(*) FROM customer ANTI JOIN nation ON c_nationkey = n_nationkey', 'c_nationkey in nation'],
    ['SELECT count(*) FROM supplier ANTI JOIN nation ON s_nationkey = n_nationkey', 's_nationkey in nation'],
    ['SELECT count(*) FROM nation ANTI JOIN region ON n_regionkey = r_regionkey', 'n_regionkey in region'],
    ['SELECT count(*) FROM orders WHERE o_custkey % 3 = 0', 'o_custkey is never a multiple of 3'],
  ];
  for (const [sql, rule] of references) await none(sql, rule);
  assert.is(
    await db.number('SELECT count(*) FROM customer SEMI JOIN orders ON c_custkey = o_custkey'),
    1000,
    'every customer whose key is not a multiple of 3 has orders',
  );

  // PS_SUPPKEY = (ps_partkey + (i * (S/4 + (ps_partkey - 1) / S))) mod S + 1 for i in 0..3, S = 100.
  await none(
    `SELECT count(*) FROM (
       SELECT p, (p + i * (25 + (p - 1) // 100)) % 100 + 1 AS s FROM range(1, 2001) AS a(p), range(0, 4) AS b(i)
     ) AS spec FULL OUTER JOIN partsupp ON ps_partkey = p AND ps_suppkey = s
     WHERE p IS NULL OR ps_partkey IS NULL`,
    "partsupp holds exactly the spec's four suppliers of every part",
  );
});

test('dates, flags, statuses and prices follow clause 4.2.3', async () => {
  const rules: [string, string][] = [
    [
      "SELECT count(*) FROM orders WHERE o_orderdate NOT BETWEEN DATE '1992-01-01' AND DATE '1998-08-02'",
      'orders dated STARTDATE .. ENDDATE - 151 days',
    ],
    [
      'SELECT count(*) FROM lineitem JOIN orders ON l_orderkey = o_orderkey WHERE l_shipdate - o_orderdate NOT BETWEEN 1 AND 121',
      'shipdate = orderdate + [1, 121]',
    ],
    [
      'SELECT count(*) FROM lineitem JOIN orders ON l_orderkey = o_orderkey WHERE l_commitdate - o_orderdate NOT BETWEEN 30 AND 90',
      'commitdate = orderdate + [30, 90]',
    ],
    [
      'SELECT count(*) FROM lineitem WHERE l_receiptdate - l_shipdate NOT BETWEEN 1 AND 30',
      'receiptdate = shipdate + [1, 30]',
    ],
    [
      `SELECT count(*) FROM lineitem WHERE CASE WHEN l_receiptdate <= DATE '1995-06-17'
         THEN l_returnflag NOT IN ('R', 'A') ELSE l_returnflag <> 'N' END`,
      'returnflag R or A when received by CURRENTDATE, else N',
    ],
    [
      `SELECT count(*) FROM lineitem
       WHERE l_linestatus <> CASE WHEN l_shipdate > DATE '1995-06-17' THEN 'O' ELSE 'F' END`,
      'linestatus O when shipped after CURRENTDATE, else F',
    ],
    [
      `SELECT count(*) FROM lineitem WHERE l_quantity NOT BETWEEN 1 AND 50 OR l_quantity <> round(l_quantity)
         OR l_discount NOT BETWEEN 0 AND 0.10 OR l_tax NOT BETWEEN 0 AND 0.08`,
      'quantity [1, 50], discount [0, 0.10], tax [0, 0.08]',
    ],
    [
      `SELECT count(*) FROM part
       WHERE p_retailprice * 100 <> 90000 + (p_partkey // 10) % 20001 + 100 * (p_partkey % 1000)`,
      'retailprice = (90000 + ((partkey / 10) mod 20001) + 100 * (partkey mod 1000)) / 100',
    ],
    [
      'SELECT count(*) FROM lineitem JOIN part ON l_partkey = p_partkey WHERE l_extendedprice <> l_quantity * p_retailprice',
      'extendedprice = quantity * retailprice',
    ],
    [
      `SELECT count(*) FROM orders JOIN (
         SELECT l_orderkey, sum(l_extendedprice * (1 + l_tax) * (1 - l_discount)) AS total,
           count(*) AS n, count(*) FILTER (WHERE l_linestatus = 'F') AS f
         FROM lineitem GROUP BY l_orderkey) ON o_orderkey = l_orderkey
       WHERE abs(o_totalprice - total) > 0.005
          OR o_orderstatus <> CASE WHEN f = n THEN 'F' WHEN f = 0 THEN 'O' ELSE 'P' END`,
      'totalprice = sum(extendedprice * (1 + tax) * (1 - discount)); orderstatus F/O/P from line statuses',
    ],
    ['SELECT count(*) FROM orders WHERE o_shippriority <> 0', 'shippriority 0'],
  ];
  for (const [sql, rule] of rules) await none(sql, rule);

  // Both ends of the date ranges are reached, and every flag and status occurs.
  assert.equal(
    await db.rows(
      `SELECT min(o_orderdate) < DATE '1992-01-15', max(o_orderdate) > DATE '1998-07-20' FROM orders`,
    ),
    [[true, true]],
  );
  assert.equal(await db.rows('SELECT DISTINCT l_returnflag, l_linestatus FROM lineitem ORDER BY ALL'), [
    ['A', 'F'],
    ['N', 'F'],
    ['N', 'O'],
    ['R', 'F'],
  ]);
  assert.equal(await db.rows('SELECT DISTINCT o_orderstatus FROM orders ORDER BY 1'), [['F'], ['O'], ['P']]);
});

test('names, phones, segments, parts and comments follow the specification', async () => {
  const distinct = async (sql: string) => (await db.rows(sql)).map((r) => r[0]);
  assert.equal(await distinct('SELECT DISTINCT c_mktsegment FROM customer ORDER BY 1'), [
    'AUTOMOBILE',
    'BUILDING',
    'FURNITURE',
    'HOUSEHOLD',
    'MACHINERY',
  ]);
  assert.equal(await distinct('SELECT DISTINCT o_orderpriority FROM orders ORDER BY 1'), [
    '1-URGENT',
    '2-HIGH',
    '3-MEDIUM',
    '4-NOT SPECIFIED',
    '5-LOW',
  ]);
  assert.equal(await distinct('SELECT DISTINCT l_shipmode FROM lineitem ORDER BY 1'), [
    'AIR',
    'FOB',
    'MAIL',
    'RAIL',
    'REG AIR',
    'SHIP',
    'TRUCK',
  ]);
  assert.equal(await distinct('SELECT DISTINCT l_shipinstruct FROM lineitem ORDER BY 1'), [
    'COLLECT COD',
    'DELIVER IN PERSON',
    'NONE',
    'TAKE BACK RETURN',
  ]);
  assert.equal(await distinct('SELECT DISTINCT r_name FROM region ORDER BY r_regionkey'), [
    'AFRICA',
    'AMERICA',
    'ASIA',
    'EUROPE',
    'MIDDLE EAST',
  ]);
  assert.equal(
    await db.rows(
      "SELECT n_name, n_regionkey FROM nation WHERE n_name IN ('BRAZIL', 'GERMANY', 'SAUDI ARABIA', 'CHINA', 'KENYA') ORDER BY n_nationkey",
    ),
    [
      ['BRAZIL', 1],
      ['GERMANY', 3],
      ['KENYA', 0],
      ['CHINA', 2],
      ['SAUDI ARABIA', 4],
    ],
  );

  const rules: [string, string][] = [
    [
      `SELECT count(*) FROM part WHERE NOT list_contains(${sqlList(TYPES)}, p_type)
         OR NOT list_contains(${sqlList(CONTAINERS)}, p_container) OR p_size NOT BETWEEN 1 AND 50`,
      'type, container and size from the spec',
    ],
    [
      `SELECT count(*) FROM part WHERE p_mfgr NOT IN ('Manufacturer#1', 'Manufacturer#2', 'Manufacturer#3', 'Manufacturer#4', 'Manufacturer#5')
         OR p_brand <> 'Brand#' || right(p_mfgr, 1) || right(p_brand, 1) OR right(p_brand, 1) NOT IN ('1', '2', '3', '4', '5')`,
      'Manufacturer#M and Brand#MN',
    ],
    [
      `SELECT count(*) FROM part, (SELECT string_split('${COLOURS}', ' ') AS colours)
       WHERE len(string_split(p_name, ' ')) <> 5 OR len(list_distinct(string_split(p_name, ' '))) <> 5
          OR NOT list_has_all(colours, string_split(p_name, ' '))`,
      'p_name is five distinct colour words',
    ],
    [
      `SELECT count(*) FROM supplier WHERE s_name <> 'Supplier#' || lpad(CAST(s_suppkey AS VARCHAR), 9, '0')`,
      'Supplier#000000001',
    ],
    [
      `SELECT count(*) FROM customer WHERE c_name <> 'Customer#' || lpad(CAST(c_custkey AS VARCHAR), 9, '0')`,
      'Customer#000000001',
    ],
    [
      `SELECT count(*) FROM orders WHERE NOT regexp_full_match(o_clerk, 'Clerk#[0-9]{9}')
         OR CAST(right(o_clerk, 9) AS INTEGER) NOT BETWEEN 1 AND 10`,
      'clerks Clerk#000000001 .. SF * 1000',
    ],
    [
      `SELECT count(*) FROM (SELECT c_phone AS phone, c_nationkey AS nation FROM customer
                             UNION ALL SELECT s_phone, s_nationkey FROM supplier)
       WHERE NOT regexp_full_match(phone, '[0-9]{2}-[1-9][0-9]{2}-[1-9][0-9]{2}-[1-9][0-9]{3}')
          OR CAST(left(phone, 2) AS INTEGER) <> nation + 10`,
      'phones CC-LLL-LLL-LLLL with country code nationkey + 10',
    ],
    [
      `SELECT count(*) FROM (SELECT c_acctbal AS b FROM customer UNION ALL SELECT s_acctbal FROM supplier)
       WHERE b NOT BETWEEN -999.99 AND 9999.99`,
      'acctbal in [-999.99, 9999.99]',
    ],
    [
      'SELECT count(*) FROM partsupp WHERE ps_supplycost NOT BETWEEN 1 AND 1000 OR ps_availqty NOT BETWEEN 1 AND 9999',
      'supplycost [1.00, 1000.00], availqty [1, 9999]',
    ],
  ];
  for (const [sql, rule] of rules) await none(sql, rule);
  assert.is(
    await db.number(
      `SELECT count(DISTINCT w) FROM (SELECT unnest(string_split(p_name, ' ')) AS w FROM part)`,
    ),
    92,
    'every colour is used',
  );

  const lengths: [string, string, number, number][] = [
    ['region', 'r_comment', 31, 115],
    ['nation', 'n_comment', 31, 114],
    ['supplier', 's_comment', 25, 100],
    ['supplier', 's_address', 10, 40],
    ['customer', 'c_comment', 29, 116],
    ['customer', 'c_address', 10, 40],
    ['part', 'p_comment', 5, 22],
    ['partsupp', 'ps_comment', 49, 198],
    ['orders', 'o_comment', 19, 78],
    ['lineitem', 'l_comment', 10, 43],
  ];
  for (const [table, column, lo, hi] of lengths) {
    await none(`SELECT count(*) FROM ${table} WHERE length(${column}) NOT BETWEEN ${lo} AND ${hi}`, column);
  }
  assert.ok(
    (await db.number("SELECT count(*) FROM supplier WHERE s_comment LIKE '%Customer%Complaints%'")) >= 1,
    'a supplier with complaints (Q16)',
  );
  assert.ok(
    (await db.number("SELECT count(*) FROM supplier WHERE s_comment LIKE '%Customer%Recommends%'")) >= 1,
    'a recommended supplier',
  );
  // Comments are the grammar's text: Q13's words occur, in some orders together.
  const special = await db.number("SELECT count(*) FROM orders WHERE o_comment LIKE '%special%requests%'");
  assert.ok(special > 0 && special < 1500, `some but few orders match Q13's pattern, got ${special}`);
});

test('the same scale factor gives byte-identical files, whatever the thread count', async () => {
  const again = await tempDir('mallard-tpch-again-');
  try {
    const second = await generateTpch({ sf: 0.01, out: again, threads: 1 });
    const sha = async (file: string) =>
      createHash('sha256')
        .update(await readFile(file))
        .digest('hex');
    for (const [i, f] of files.entries()) {
      assert.is(second[i]!.table, f.table);
      assert.is(second[i]!.rows, f.rows, f.table);
      assert.is(await sha(second[i]!.file), await sha(f.file), `${f.table} content`);
    }
  } finally {
    await removeDir(again);
  }
});

test('rejects scale factors outside 0.001 .. 10000', async () => {
  for (const sf of [0, -1, 0.0001, 20_000, Number.NaN]) {
    try {
      await generateTpch({ sf, out: join(dir, 'never') });
      assert.unreachable(`sf ${sf} accepted`);
    } catch (e) {
      assert.instance(e, RangeError, `sf ${sf}`);
    }
  }
});

test.run();
