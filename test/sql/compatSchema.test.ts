import { type DuckDBConnection, DuckDBInstance, type DuckDBValue, listValue } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Oid } from '../../protocol/pg/types/Oid.js';
import { COMPAT_SCHEMA } from '../../src/sql/compatSchema.js';
import { rewriteQuery } from '../../src/sql/rewriteQuery.js';
import { SessionSettings } from '../../src/sql/SessionSettings.js';
import { SqlParser } from '../../src/sql/SqlParser.js';

// Client introspection queries, verbatim from the drivers, run through rewriteQuery on a DuckDB
// prepared with COMPAT_SCHEMA, as the session runs them.

let parser: SqlParser;
let instance: DuckDBInstance;
let db: DuckDBConnection;
const ctx = () => ({ settings: new SessionSettings(), user: 'alice', database: 'shop', pid: 7 });

test.before(async () => {
  parser = await SqlParser.open();
  instance = await DuckDBInstance.create(':memory:');
  db = await instance.connect();
  for (const sql of COMPAT_SCHEMA) await db.run(sql);
  // Twice: start-up must be idempotent (every engine start runs it).
  for (const sql of COMPAT_SCHEMA) await db.run(sql);
  await db.run(
    'CREATE TABLE orders (id INTEGER NOT NULL, total DECIMAL(10,2) DEFAULT 0, tags VARCHAR[], placed TIMESTAMPTZ)',
  );
  await db.run(
    'CREATE TABLE keyed (id INTEGER PRIMARY KEY, label VARCHAR); CREATE INDEX keyed_label ON keyed (label, lower(label))',
  );
});

test.after(() => {
  db.closeSync();
  instance.closeSync();
  parser.close();
});

async function query(sql: string, params: DuckDBValue[] = []): Promise<unknown[][]> {
  const rewritten = await rewriteQuery(sql, ctx(), parser);
  const reader = await db.runAndReadAll(rewritten, params);
  return reader.getRows().map((row) => row.map((v) => (typeof v === 'bigint' ? Number(v) : v)));
}

test('every type OID Mallard sends is in pg_type, under its PostgreSQL name', async () => {
  const rows = await query('SELECT oid, typname FROM pg_catalog.pg_type');
  const byOid = new Map(rows.map(([oid, name]) => [oid, name]));
  for (const [name, oid] of Object.entries(Oid)) assert.is(byOid.get(oid), name, `${name} (${oid})`);
});

test('postgres.js array type fetch', async () => {
  const rows = await query(
    "select b.oid, b.typarray from pg_catalog.pg_type a left join pg_catalog.pg_type b on b.oid = a.typelem where a.typcategory = 'A' group by b.oid, b.typarray order by b.oid",
  );
  const arrayOf = new Map(rows.map(([oid, array]) => [oid, array]));
  assert.is(arrayOf.get(Oid.int4), Oid._int4);
  assert.is(arrayOf.get(Oid.text), Oid._text);
  assert.is(arrayOf.get(Oid.timestamptz), Oid._timestamptz);
  assert.is(arrayOf.get(Oid.numeric), Oid._numeric);
  assert.ok(rows.length > 50);
});

test('pgjdbc TypeInfoCache: SQL type of an OID, by name, array element, delimiter, name of an OID', async () => {
  const sqlType = `SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname, pg_type.oid   FROM pg_catalog.pg_type   LEFT JOIN (select ns.oid as nspoid, ns.nspname, r.r           from pg_namespace as ns           join ( select s.r, (current_schemas(false))[s.r] as nspname                    from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r          using ( nspname )        ) as sp     ON sp.nspoid = typnamespace  WHERE pg_type.oid = $1  ORDER BY sp.r, pg_type.oid DESC`;
  assert.equal(await query(sqlType, [1007]), [[true, 'b', '_int4', 1007]]);
  assert.equal(await query(sqlType, [23]), [[false, 'b', 'int4', 23]]);
  const byName = `SELECT pg_type.oid, typname   FROM pg_catalog.pg_type   LEFT   JOIN (select ns.oid as nspoid, ns.nspname, r.r           from pg_namespace as ns           join ( select s.r, (current_schemas(false))[s.r] as nspname                    from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r          using ( nspname )        ) as sp     ON sp.nspoid = typnamespace  WHERE typname = $1  ORDER BY sp.r, pg_type.oid DESC LIMIT 1;`;
  assert.equal(await query(byName, ['uuid']), [[2950, 'uuid']]);
  const arrayElement =
    'SELECT e.oid, n.nspname = ANY(current_schemas(true)), n.nspname, e.typname FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid JOIN pg_catalog.pg_type e ON t.typelem = e.oid WHERE t.oid = $1';
  assert.equal(await query(arrayElement, [1009]), [[25, true, 'pg_catalog', 'text']]);
  const delimiter =
    'SELECT e.typdelim FROM pg_catalog.pg_type t, pg_catalog.pg_type e WHERE t.oid = $1 and t.typelem = e.oid';
  assert.equal(await query(delimiter, [1020]), [[';']]);
  const nameOf =
    'SELECT n.nspname = ANY(current_schemas(true)), n.nspname, t.typname FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid WHERE t.oid = $1';
  assert.equal(await query(nameOf, [1184]), [[true, 'pg_catalog', 'timestamptz']]);
  const arrayByName =
    'SELECT t.typarray, arr.typname   FROM pg_catalog.pg_type t  JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid  JOIN pg_catalog.pg_type arr ON arr.oid = t.typarray WHERE t.typname = $1 AND (n.nspname = $2 OR $3 AND n.nspname = ANY (current_schemas(true))) ORDER BY t.oid DESC LIMIT 1';
  assert.equal(await query(arrayByName, ['int8', null, true]), [[1016, '_int8']]);
});

test('asyncpg type lookups and introspection of an OID', async () => {
  assert.equal(
    await query(
      'SELECT t.oid, t.typelem AS elemtype, t.typtype AS kind FROM pg_catalog.pg_type AS t WHERE t.oid = $1',
      [1007],
    ),
    [[1007, 23, 'b']],
  );
  assert.equal(
    await query(
      'SELECT t.oid, t.typelem AS elemtype, t.typtype AS kind FROM pg_catalog.pg_type AS t INNER JOIN pg_catalog.pg_namespace ns ON (ns.oid = t.typnamespace) WHERE t.typname = $1 AND ns.nspname = $2',
      ['int4range', 'pg_catalog'],
    ),
    [[3904, 0, 'r']],
  );
  const rows = await query(ASYNCPG_INTRO_LOOKUP_TYPES, [listValue([1007, 3904])]);
  // oid, ns, name, kind, ..., elemtype_name, range_subtype_name, ordered by depth.
  const summary = rows.map((r) => [r[0], r[1], r[2], r[3], r[12], r[13]]);
  assert.equal(
    summary.sort((a, b) => Number(a[0]) - Number(b[0])),
    [
      [23, 'pg_catalog', 'int4', 'b', '-', null],
      [1007, 'pg_catalog', '_int4', 'b', 'integer', null],
      [3904, 'pg_catalog', 'int4range', 'r', '-', 'integer'],
    ],
  );
});

test('psql \\dt lists the table with its owner', async () => {
  const rows = await query(`SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;`);
  assert.equal(rows, [
    ['main', 'keyed', 'table', 'alice'],
    ['main', 'orders', 'table', 'alice'],
  ]);
});

test("psql \\d: finding the table and listing its columns with PostgreSQL's types", async () => {
  const found = await query(`SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(orders)$' COLLATE pg_catalog.default
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 2, 3;`);
  assert.is(found.length, 1);
  const [oid, schema, name] = found[0]!;
  assert.equal([schema, name], ['main', 'orders']);
  const columns = await query(`SELECT a.attname,
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
ORDER BY a.attnum;`);
  assert.equal(columns, [
    ['id', 'integer', null, true, null, '', ''],
    ['total', 'numeric(10,2)', '0', false, null, '', ''],
    ['tags', 'text[]', null, false, null, '', ''],
    ['placed', 'timestamp with time zone', null, false, null, '', ''],
  ]);
});

test('format_type spells types as PostgreSQL does', async () => {
  assert.equal(
    await query(
      'SELECT format_type(23, -1), format_type(1043, 14), format_type(1700, 655366), format_type(1185, NULL), format_type(16, NULL), format_type(424242, NULL), format_type(NULL, NULL)',
    ),
    [
      [
        'integer',
        'character varying(10)',
        'numeric(10,2)',
        'timestamp with time zone[]',
        'boolean',
        '???',
        null,
      ],
    ],
  );
});

test('pg_roles lists the session user, a superuser as is_superuser says', async () => {
  assert.equal(await query('SELECT rolname, rolsuper, rolcanlogin, oid FROM pg_catalog.pg_roles'), [
    ['alice', true, true, 10],
  ]);
  assert.equal(await query('SELECT r.rolname FROM pg_roles r WHERE r.oid = 10'), [['alice']]);
});

test('regclass reads a name or an OID, and pg_class has the constraint indexes', async () => {
  const [[oid]] = (await query("SELECT oid FROM pg_catalog.pg_class WHERE relname = 'orders'")) as [[number]];
  assert.equal(await query(`SELECT 'orders'::regclass = '${oid}'::regclass, ${oid}::regclass`), [
    [true, 'orders'],
  ]);
  const indexes = await query(
    "SELECT c.relname, c.relkind, i.indisprimary, i.indkey FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'keyed'::regclass ORDER BY 1",
  );
  assert.equal(
    indexes.map(([name, kind, primary, key]) => [name, kind, primary, (key as { items: unknown[] }).items]),
    [
      ['keyed_id_pkey', 'i', true, [1]],
      ['keyed_label', 'i', false, [2, 0]],
    ],
  );
});

const ASYNCPG_TYPEINFO = `
    (
        SELECT
            t.oid                           AS oid,
            ns.nspname                      AS ns,
            t.typname                       AS name,
            t.typtype                       AS kind,
            (CASE WHEN t.typtype = 'd' THEN
                (WITH RECURSIVE typebases(oid, depth) AS (
                    SELECT
                        t2.typbasetype      AS oid,
                        0                   AS depth
                    FROM
                        pg_type t2
                    WHERE
                        t2.oid = t.oid

                    UNION ALL

                    SELECT
                        t2.typbasetype      AS oid,
                        tb.depth + 1        AS depth
                    FROM
                        pg_type t2,
                        typebases tb
                    WHERE
                       tb.oid = t2.oid
                       AND t2.typbasetype != 0
               ) SELECT oid FROM typebases ORDER BY depth DESC LIMIT 1)

               ELSE NULL
            END)                            AS basetype,
            t.typelem                       AS elemtype,
            elem_t.typdelim                 AS elemdelim,
            range_t.rngsubtype              AS range_subtype,
            (CASE WHEN t.typtype = 'c' THEN
                (SELECT
                    array_agg(ia.atttypid ORDER BY ia.attnum)
                FROM
                    pg_attribute ia
                    INNER JOIN pg_class c
                        ON (ia.attrelid = c.oid)
                WHERE
                    ia.attnum > 0 AND NOT ia.attisdropped
                    AND c.reltype = t.oid)

                ELSE NULL
            END)                            AS attrtypoids,
            (CASE WHEN t.typtype = 'c' THEN
                (SELECT
                    array_agg(ia.attname::text ORDER BY ia.attnum)
                FROM
                    pg_attribute ia
                    INNER JOIN pg_class c
                        ON (ia.attrelid = c.oid)
                WHERE
                    ia.attnum > 0 AND NOT ia.attisdropped
                    AND c.reltype = t.oid)

                ELSE NULL
            END)                            AS attrnames
        FROM
            pg_catalog.pg_type AS t
            INNER JOIN pg_catalog.pg_namespace ns ON (
                ns.oid = t.typnamespace)
            LEFT JOIN pg_type elem_t ON (
                t.typlen = -1 AND
                t.typelem != 0 AND
                t.typelem = elem_t.oid
            )
            LEFT JOIN pg_range range_t ON (
                t.oid = range_t.rngtypid
            )
    )
`;

const ASYNCPG_INTRO_LOOKUP_TYPES = `WITH RECURSIVE typeinfo_tree(
    oid, ns, name, kind, basetype, elemtype, elemdelim,
    range_subtype, attrtypoids, attrnames, depth)
AS (
    SELECT
        ti.oid, ti.ns, ti.name, ti.kind, ti.basetype,
        ti.elemtype, ti.elemdelim, ti.range_subtype,
        ti.attrtypoids, ti.attrnames, 0
    FROM
        ${ASYNCPG_TYPEINFO} AS ti
    WHERE
        ti.oid = any($1::oid[])

    UNION ALL

    SELECT
        ti.oid, ti.ns, ti.name, ti.kind, ti.basetype,
        ti.elemtype, ti.elemdelim, ti.range_subtype,
        ti.attrtypoids, ti.attrnames, tt.depth + 1
    FROM
        ${ASYNCPG_TYPEINFO} ti,
        typeinfo_tree tt
    WHERE
        (tt.elemtype IS NOT NULL AND ti.oid = tt.elemtype)
        OR (tt.attrtypoids IS NOT NULL AND ti.oid = any(tt.attrtypoids))
        OR (tt.range_subtype IS NOT NULL AND ti.oid = tt.range_subtype)
)

SELECT DISTINCT
    *,
    basetype::regtype::text AS basetype_name,
    elemtype::regtype::text AS elemtype_name,
    range_subtype::regtype::text AS range_subtype_name
FROM
    typeinfo_tree
ORDER BY
    depth DESC
`;

test.run();
