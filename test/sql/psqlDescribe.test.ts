import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { COMPAT_SCHEMA } from '../../src/sql/compatSchema.js';
import { rewriteQuery } from '../../src/sql/rewriteQuery.js';
import { SessionSettings } from '../../src/sql/SessionSettings.js';
import { SqlParser } from '../../src/sql/SqlParser.js';

// psql 15's `\d name`: the queries verbatim as `psql -E` printed them against PostgreSQL 15 (only the
// table's OID and name are filled in), run through rewriteQuery on a DuckDB prepared with
// COMPAT_SCHEMA, in psql's order and under psql's conditions (describeOneTableDetails in
// src/bin/psql/describe.c). psql gives up on the whole \d at the first query that fails.

let parser: SqlParser;
let instance: DuckDBInstance;
let db: DuckDBConnection;

test.before(async () => {
  parser = await SqlParser.open();
  instance = await DuckDBInstance.create(':memory:');
  db = await instance.connect();
  for (const sql of COMPAT_SCHEMA) await db.run(sql);
  await db.run(`CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR UNIQUE, age INTEGER CHECK (age > 0));
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customers (id), note TEXT DEFAULT 'none');
    CREATE INDEX orders_note ON orders (note);
    CREATE TABLE plain (n BIGINT, "Mixed Case" DOUBLE)`);
});

test.after(() => {
  db.closeSync();
  instance.closeSync();
  parser.close();
});

async function query(sql: string): Promise<unknown[][]> {
  const ctx = { settings: new SessionSettings(), user: 'alice', database: 'shop', pid: 7 };
  const rewritten = await rewriteQuery(sql, ctx, parser);
  const reader = await db.runAndReadAll(rewritten);
  return reader.getRows().map((row) => row.map((v) => (typeof v === 'bigint' ? Number(v) : v)));
}

interface Described {
  schema: string;
  /** relchecks, relkind, relhasindex, relhasrules, relhastriggers, ..., relreplident, amname. */
  table: unknown[];
  columns: unknown[][];
  /** Footer sections psql prints, by the query behind each; absent when psql does not ask. */
  indexes?: unknown[][];
  checks?: unknown[][];
  foreignKeys?: unknown[][];
  referencedBy?: unknown[][];
  triggers?: unknown[][];
}

/** Every query `\d name` sends, as psql sends them; the rows of the ones whose footers can be non-empty. */
async function describe(name: string): Promise<Described> {
  const found = await query(LOOKUP(name));
  assert.is(found.length, 1, `\\d ${name} finds one relation`);
  const [oid, schema] = [String(found[0]![0]), String(found[0]![1])];
  const [table] = await query(TABLE(oid));
  const [relchecks, , hasIndex, , hasTriggers] = table!;
  const out: Described = { schema, table: table!, columns: await query(COLUMNS(oid)) };
  if (hasIndex) out.indexes = await query(INDEXES(oid));
  if (Number(relchecks) > 0) out.checks = await query(CHECKS(oid));
  if (hasTriggers) {
    out.foreignKeys = await query(FOREIGN_KEYS(oid));
    out.referencedBy = await query(REFERENCED_BY(oid));
  }
  // Row security, extended statistics and publications: features DuckDB lacks, so always empty.
  for (const q of [POLICIES, STATISTICS, PUBLICATIONS]) assert.equal(await query(q(oid)), []);
  if (hasTriggers) out.triggers = await query(TRIGGERS(oid));
  // Inheritance: parents, then partitions and children.
  assert.equal(await query(PARENTS(oid)), []);
  assert.equal(await query(CHILDREN(oid)), []);
  return out;
}

test('\\d of a table with a primary key, a unique and a check constraint, referenced by a foreign key', async () => {
  const d = await describe('customers');
  assert.is(d.schema, 'main');
  // relforcerowsecurity and relreplident exist; the access method is heap, as in PostgreSQL.
  assert.equal(d.table, [1, 'r', true, false, true, false, false, false, false, '', 0, '', 'p', 'd', 'heap']);
  assert.equal(d.columns, [
    ['id', 'integer', null, true, null, '', ''],
    ['email', 'text', null, false, null, '', ''],
    ['age', 'integer', null, false, null, '', ''],
  ]);
  // PostgreSQL names the primary key customers_pkey; these are DuckDB's constraint names.
  assert.equal(d.indexes, [
    [
      'customers_id_pkey',
      true,
      true,
      false,
      true,
      'CREATE UNIQUE INDEX customers_id_pkey ON main.customers USING btree (id)',
      'PRIMARY KEY (id)',
      'p',
      false,
      false,
      false,
      0,
    ],
    [
      'customers_email_key',
      false,
      true,
      false,
      true,
      'CREATE UNIQUE INDEX customers_email_key ON main.customers USING btree (email)',
      'UNIQUE (email)',
      'u',
      false,
      false,
      false,
      0,
    ],
  ]);
  assert.equal(d.checks, [['customers_age_check', 'CHECK (age > 0)']]);
  assert.equal(d.foreignKeys, []);
  assert.equal(d.referencedBy, [
    ['orders_customer_id_fkey', 'orders', 'FOREIGN KEY (customer) REFERENCES customers(id)'],
  ]);
  assert.equal(d.triggers, []);
});

test('\\d of a table with a foreign key, a default and a CREATE INDEX index', async () => {
  const d = await describe('orders');
  assert.equal(d.table, [0, 'r', true, false, true, false, false, false, false, '', 0, '', 'p', 'd', 'heap']);
  assert.equal(d.columns, [
    ['id', 'integer', null, true, null, '', ''],
    ['customer', 'integer', null, false, null, '', ''],
    ['note', 'text', "'none'", false, null, '', ''],
  ]);
  assert.equal(
    d.indexes?.map((r) => [r[0], r[1], r[2], r[5], r[7]]),
    [
      [
        'orders_id_pkey',
        true,
        true,
        'CREATE UNIQUE INDEX orders_id_pkey ON main.orders USING btree (id)',
        'p',
      ],
      ['orders_note', false, false, 'CREATE INDEX orders_note ON main.orders USING btree (note)', null],
    ],
  );
  assert.is(d.checks, undefined);
  assert.equal(d.foreignKeys, [
    [true, 'orders_customer_id_fkey', 'FOREIGN KEY (customer) REFERENCES customers(id)', 'orders'],
  ]);
  assert.equal(d.referencedBy, []);
});

test('\\d of a table without constraints asks only the queries every table gets', async () => {
  const d = await describe('plain');
  assert.equal(d.table, [
    0,
    'r',
    false,
    false,
    false,
    false,
    false,
    false,
    false,
    '',
    0,
    '',
    'p',
    'd',
    'heap',
  ]);
  assert.equal(d.columns, [
    ['n', 'bigint', null, false, null, '', ''],
    ['Mixed Case', 'double precision', null, false, null, '', ''],
  ]);
  assert.equal(
    [d.indexes, d.checks, d.foreignKeys, d.triggers],
    [undefined, undefined, undefined, undefined],
  );
  assert.equal(await query(LOOKUP('nosuchtable')), []);
});

// The queries, verbatim from `psql -E` (PostgreSQL 15.18 client and server).
const LOOKUP = (name: string) => `SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(${name})$' COLLATE pg_catalog.default
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 2, 3;`;

const TABLE = (
  oid: string,
) => `SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids, c.relispartition, '', c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE c.reloftype::pg_catalog.regtype::pg_catalog.text END, c.relpersistence, c.relreplident, am.amname
FROM pg_catalog.pg_class c
 LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)
LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)
WHERE c.oid = '${oid}';`;

const COLUMNS = (oid: string) => `SELECT a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)
   FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
  a.attnotnull,
  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
  a.attidentity,
  a.attgenerated
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = '${oid}' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;`;

const INDEXES = (
  oid: string,
) => `SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, i.indisvalid, pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),
  pg_catalog.pg_get_constraintdef(con.oid, true), contype, condeferrable, condeferred, i.indisreplident, c2.reltablespace
FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i
  LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))
WHERE c.oid = '${oid}' AND c.oid = i.indrelid AND i.indexrelid = c2.oid
ORDER BY i.indisprimary DESC, c2.relname;`;

const CHECKS = (oid: string) => `SELECT r.conname, pg_catalog.pg_get_constraintdef(r.oid, true)
FROM pg_catalog.pg_constraint r
WHERE r.conrelid = '${oid}' AND r.contype = 'c'
ORDER BY 1;`;

const FOREIGN_KEYS = (oid: string) => `SELECT true as sametable, conname,
  pg_catalog.pg_get_constraintdef(r.oid, true) as condef,
  conrelid::pg_catalog.regclass AS ontable
FROM pg_catalog.pg_constraint r
WHERE r.conrelid = '${oid}' AND r.contype = 'f'
     AND conparentid = 0
ORDER BY conname`;

const REFERENCED_BY = (oid: string) => `SELECT conname, conrelid::pg_catalog.regclass AS ontable,
       pg_catalog.pg_get_constraintdef(oid, true) AS condef
  FROM pg_catalog.pg_constraint c
 WHERE confrelid IN (SELECT pg_catalog.pg_partition_ancestors('${oid}')
                     UNION ALL VALUES ('${oid}'::pg_catalog.regclass))
       AND contype = 'f' AND conparentid = 0
ORDER BY conname;`;

const POLICIES = (oid: string) => `SELECT pol.polname, pol.polpermissive,
  CASE WHEN pol.polroles = '{0}' THEN NULL ELSE pg_catalog.array_to_string(array(select rolname from pg_catalog.pg_roles where oid = any (pol.polroles) order by 1),',') END,
  pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
  pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid),
  CASE pol.polcmd
    WHEN 'r' THEN 'SELECT'
    WHEN 'a' THEN 'INSERT'
    WHEN 'w' THEN 'UPDATE'
    WHEN 'd' THEN 'DELETE'
    END AS cmd
FROM pg_catalog.pg_policy pol
WHERE pol.polrelid = '${oid}' ORDER BY 1;`;

const STATISTICS = (
  oid: string,
) => `SELECT oid, stxrelid::pg_catalog.regclass, stxnamespace::pg_catalog.regnamespace::pg_catalog.text AS nsp, stxname,
pg_catalog.pg_get_statisticsobjdef_columns(oid) AS columns,
  'd' = any(stxkind) AS ndist_enabled,
  'f' = any(stxkind) AS deps_enabled,
  'm' = any(stxkind) AS mcv_enabled,
stxstattarget
FROM pg_catalog.pg_statistic_ext
WHERE stxrelid = '${oid}'
ORDER BY nsp, stxname;`;

const PUBLICATIONS = (oid: string) => `SELECT pubname
     , NULL
     , NULL
FROM pg_catalog.pg_publication p
     JOIN pg_catalog.pg_publication_namespace pn ON p.oid = pn.pnpubid
     JOIN pg_catalog.pg_class pc ON pc.relnamespace = pn.pnnspid
WHERE pc.oid ='${oid}' and pg_catalog.pg_relation_is_publishable('${oid}')
UNION
SELECT pubname
     , pg_get_expr(pr.prqual, c.oid)
     , (CASE WHEN pr.prattrs IS NOT NULL THEN
         (SELECT string_agg(attname, ', ')
           FROM pg_catalog.generate_series(0, pg_catalog.array_upper(pr.prattrs::pg_catalog.int2[], 1)) s,
                pg_catalog.pg_attribute
          WHERE attrelid = pr.prrelid AND attnum = prattrs[s])
        ELSE NULL END) FROM pg_catalog.pg_publication p
     JOIN pg_catalog.pg_publication_rel pr ON p.oid = pr.prpubid
     JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
WHERE pr.prrelid = '${oid}'
UNION
SELECT pubname
     , NULL
     , NULL
FROM pg_catalog.pg_publication p
WHERE p.puballtables AND pg_catalog.pg_relation_is_publishable('${oid}')
ORDER BY 1;`;

const TRIGGERS = (
  oid: string,
) => `SELECT t.tgname, pg_catalog.pg_get_triggerdef(t.oid, true), t.tgenabled, t.tgisinternal,
  CASE WHEN t.tgparentid != 0 THEN
    (SELECT u.tgrelid::pg_catalog.regclass
     FROM pg_catalog.pg_trigger AS u,
          pg_catalog.pg_partition_ancestors(t.tgrelid) WITH ORDINALITY AS a(relid, depth)
     WHERE u.tgname = t.tgname AND u.tgrelid = a.relid
           AND u.tgparentid = 0
     ORDER BY a.depth LIMIT 1)
  END AS parent
FROM pg_catalog.pg_trigger t
WHERE t.tgrelid = '${oid}' AND (NOT t.tgisinternal OR (t.tgisinternal AND t.tgenabled = 'D'))
ORDER BY 1;`;

const PARENTS = (oid: string) => `SELECT c.oid::pg_catalog.regclass
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhparent AND i.inhrelid = '${oid}'
  AND c.relkind != 'p' AND c.relkind != 'I'
ORDER BY inhseqno;`;

const CHILDREN = (
  oid: string,
) => `SELECT c.oid::pg_catalog.regclass, c.relkind, inhdetachpending, pg_catalog.pg_get_expr(c.relpartbound, c.oid)
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhrelid AND i.inhparent = '${oid}'
ORDER BY pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', c.oid::pg_catalog.regclass::pg_catalog.text;`;

test.run();
