/**
 * PostgreSQL catalog compatibility for clients' introspection queries.
 *
 * DuckDB ships a `pg_catalog` schema, but its pg_type has no array types and DuckDB's own type ids in
 * places (pg_attribute.atttypid, format_type), and a schema named pg_catalog cannot be created or
 * changed. So Mallard keeps corrected relations and functions in an attached in-memory database,
 * COMPAT_CATALOG, and rewriteQuery points references to `pg_catalog.pg_type`, `pg_type`,
 * `format_type(...)`, ... at them. Every OID is PostgreSQL's: pg_type lists PostgreSQL 15's built-in
 * types (protocol/pg/types/Oid.ts sends no others), and pg_attribute maps DuckDB column types to the
 * same PostgreSQL types as protocol/pg/types/pgTypeFor.ts.
 */

import {
  DIALECT_CATALOG,
  DIVISION_BY_ZERO_MESSAGE,
  DIVISION_MACRO_SQL,
} from '../../protocol/cluster/taskDialect.js';

/** The attached database holding the compatibility objects. */
export const COMPAT_CATALOG = DIALECT_CATALOG;

/**
 * The attached in-memory database where src/tables/CatalogMirror keeps empty DuckDB copies of the
 * Parquet catalog's schemas, tables, views and sequences, so that DuckDB's own catalog functions (and
 * so pg_class, pg_attribute, information_schema, ...) list them. Its `main` schema stands for the
 * session database's `main`: relations in it are shown in that namespace.
 */
export const MIRROR_CATALOG = 'mallard_parquet';

/** pg_catalog relations replaced by COMPAT_CATALOG.main views of the same name. */
export const COMPAT_RELATIONS: ReadonlySet<string> = new Set([
  'pg_type',
  'pg_namespace',
  'pg_attribute',
  'pg_range',
  'pg_class',
  'pg_am',
  'pg_index',
  'pg_constraint',
  // PostgreSQL features DuckDB lacks: empty, with PostgreSQL's columns, so that psql's \d binds.
  'pg_policy',
  'pg_statistic_ext',
  'pg_publication',
  'pg_publication_namespace',
  'pg_publication_rel',
  'pg_inherits',
  'pg_trigger',
]);

/**
 * pg_catalog relations whose rows depend on the session: the reference becomes a call of this
 * COMPAT_CATALOG.main table macro with the session user (`pg_roles` lists the one role a session has).
 */
export const SESSION_RELATIONS: Readonly<Record<string, string>> = { pg_roles: 'pg_roles_of' };

/** Functions replaced by COMPAT_CATALOG.main macros of the same name (called as `f(...)` or `pg_catalog.f(...)`). */
export const COMPAT_FUNCTIONS: ReadonlySet<string> = new Set([
  'format_type',
  'array_upper',
  'array_lower',
  'current_schemas',
  'pg_encoding_to_char',
  'pg_get_expr',
  'pg_get_indexdef',
  'pg_get_constraintdef',
  'pg_get_triggerdef',
  'pg_get_statisticsobjdef_columns',
  'pg_relation_is_publishable',
  'pg_partition_ancestors',
  'quote_ident',
]);

/** The macros that implement casts to PostgreSQL's reg* types (see rewriteQuery). */
export const REG_CAST_MACROS = {
  regclass: { fromText: 'regclass_oid', fromOid: 'regclass_name' },
  regtype: { fromText: 'regtype_oid', fromOid: 'regtype_name' },
  regnamespace: { fromText: 'regnamespace_oid', fromOid: 'regnamespace_name' },
} as const;

/**
 * The COMPAT_CATALOG.main macros standing for `a / b` and `a % b` (also `mod(a, b)`): PostgreSQL
 * raises 22012 for a zero divisor, where DuckDB returns NULL (integers) or Infinity/NaN (floats).
 */
export const DIVISION_MACROS = { '/': 'pg_div', '%': 'pg_mod', mod: 'pg_mod' } as const;

/** The message of DuckDB's error() that the division macros raise, PostgreSQL's own text. */
export { DIVISION_BY_ZERO_MESSAGE };

interface BuiltinType {
  oid: number;
  name: string;
  len: number;
  category: string;
  array: number;
  /** Prefix of the I/O functions: `int4` → int4in, int4out, int4recv, int4send. */
  io: string;
  type?: 'b' | 'p' | 'r';
  preferred?: boolean;
  /** For int2vector and oidvector, which are arrays without being `_` types. */
  elem?: number;
  delim?: string;
  /** format_type's spelling when it differs from typname. */
  display?: string;
}

// PostgreSQL 15's pg_type for the built-in types (src/include/catalog/pg_type.dat).
// biome-ignore format: a table, one type per line
const BUILTIN_TYPES: BuiltinType[] = [
  { oid: 16, name: 'bool', len: 1, category: 'B', array: 1000, io: 'bool', preferred: true, display: 'boolean' },
  { oid: 17, name: 'bytea', len: -1, category: 'U', array: 1001, io: 'bytea' },
  { oid: 18, name: 'char', len: 1, category: 'Z', array: 1002, io: 'char', display: '"char"' },
  { oid: 19, name: 'name', len: 64, category: 'S', array: 1003, io: 'name' },
  { oid: 20, name: 'int8', len: 8, category: 'N', array: 1016, io: 'int8', display: 'bigint' },
  { oid: 21, name: 'int2', len: 2, category: 'N', array: 1005, io: 'int2', display: 'smallint' },
  { oid: 22, name: 'int2vector', len: -1, category: 'A', array: 1006, io: 'int2vector', elem: 21 },
  { oid: 23, name: 'int4', len: 4, category: 'N', array: 1007, io: 'int4', display: 'integer' },
  { oid: 24, name: 'regproc', len: 4, category: 'N', array: 1008, io: 'regproc' },
  { oid: 25, name: 'text', len: -1, category: 'S', array: 1009, io: 'text', preferred: true },
  { oid: 26, name: 'oid', len: 4, category: 'N', array: 1028, io: 'oid', preferred: true },
  { oid: 27, name: 'tid', len: 6, category: 'U', array: 1010, io: 'tid' },
  { oid: 28, name: 'xid', len: 4, category: 'U', array: 1011, io: 'xid' },
  { oid: 29, name: 'cid', len: 4, category: 'U', array: 1012, io: 'cid' },
  { oid: 30, name: 'oidvector', len: -1, category: 'A', array: 1013, io: 'oidvector', elem: 26 },
  { oid: 114, name: 'json', len: -1, category: 'U', array: 199, io: 'json_' },
  { oid: 142, name: 'xml', len: -1, category: 'U', array: 143, io: 'xml_' },
  { oid: 194, name: 'pg_node_tree', len: -1, category: 'Z', array: 0, io: 'pg_node_tree_' },
  { oid: 600, name: 'point', len: 16, category: 'G', array: 1017, io: 'point_', elem: 701 },
  { oid: 601, name: 'lseg', len: 32, category: 'G', array: 1018, io: 'lseg_', elem: 600 },
  { oid: 602, name: 'path', len: -1, category: 'G', array: 1019, io: 'path_' },
  { oid: 603, name: 'box', len: 32, category: 'G', array: 1020, io: 'box_', elem: 600, delim: ';' },
  { oid: 604, name: 'polygon', len: -1, category: 'G', array: 1027, io: 'poly_' },
  { oid: 628, name: 'line', len: 24, category: 'G', array: 629, io: 'line_', elem: 701 },
  { oid: 650, name: 'cidr', len: -1, category: 'I', array: 651, io: 'cidr_' },
  { oid: 700, name: 'float4', len: 4, category: 'N', array: 1021, io: 'float4', display: 'real' },
  { oid: 701, name: 'float8', len: 8, category: 'N', array: 1022, io: 'float8', preferred: true, display: 'double precision' },
  { oid: 705, name: 'unknown', len: -2, category: 'X', array: 0, io: 'unknown', type: 'p' },
  { oid: 718, name: 'circle', len: 24, category: 'G', array: 719, io: 'circle_' },
  { oid: 774, name: 'macaddr8', len: 8, category: 'U', array: 775, io: 'macaddr8_' },
  { oid: 790, name: 'money', len: 8, category: 'N', array: 791, io: 'cash_' },
  { oid: 829, name: 'macaddr', len: 6, category: 'U', array: 1040, io: 'macaddr_' },
  { oid: 869, name: 'inet', len: -1, category: 'I', array: 1041, io: 'inet_', preferred: true },
  { oid: 1033, name: 'aclitem', len: 12, category: 'U', array: 1034, io: 'aclitem' },
  { oid: 1042, name: 'bpchar', len: -1, category: 'S', array: 1014, io: 'bpchar' },
  { oid: 1043, name: 'varchar', len: -1, category: 'S', array: 1015, io: 'varchar', display: 'character varying' },
  { oid: 1082, name: 'date', len: 4, category: 'D', array: 1182, io: 'date_' },
  { oid: 1083, name: 'time', len: 8, category: 'D', array: 1183, io: 'time_', display: 'time without time zone' },
  { oid: 1114, name: 'timestamp', len: 8, category: 'D', array: 1115, io: 'timestamp_', display: 'timestamp without time zone' },
  { oid: 1184, name: 'timestamptz', len: 8, category: 'D', array: 1185, io: 'timestamptz_', preferred: true, display: 'timestamp with time zone' },
  { oid: 1186, name: 'interval', len: 16, category: 'T', array: 1187, io: 'interval_', preferred: true },
  { oid: 1266, name: 'timetz', len: 12, category: 'D', array: 1270, io: 'timetz_', display: 'time with time zone' },
  { oid: 1560, name: 'bit', len: -1, category: 'V', array: 1561, io: 'bit_' },
  { oid: 1562, name: 'varbit', len: -1, category: 'V', array: 1563, io: 'varbit_', preferred: true, display: 'bit varying' },
  { oid: 1700, name: 'numeric', len: -1, category: 'N', array: 1231, io: 'numeric_' },
  { oid: 1790, name: 'refcursor', len: -1, category: 'U', array: 2201, io: 'text' },
  { oid: 2202, name: 'regprocedure', len: 4, category: 'N', array: 2207, io: 'regprocedure' },
  { oid: 2203, name: 'regoper', len: 4, category: 'N', array: 2208, io: 'regoper' },
  { oid: 2204, name: 'regoperator', len: 4, category: 'N', array: 2209, io: 'regoperator' },
  { oid: 2205, name: 'regclass', len: 4, category: 'N', array: 2210, io: 'regclass' },
  { oid: 2206, name: 'regtype', len: 4, category: 'N', array: 2211, io: 'regtype' },
  { oid: 2249, name: 'record', len: -1, category: 'P', array: 2287, io: 'record_', type: 'p' },
  { oid: 2275, name: 'cstring', len: -2, category: 'P', array: 1263, io: 'cstring_', type: 'p' },
  { oid: 2276, name: 'any', len: 4, category: 'P', array: 0, io: 'any_', type: 'p' },
  { oid: 2277, name: 'anyarray', len: -1, category: 'P', array: 0, io: 'anyarray_', type: 'p' },
  { oid: 2278, name: 'void', len: 4, category: 'P', array: 0, io: 'void_', type: 'p' },
  { oid: 2279, name: 'trigger', len: 4, category: 'P', array: 0, io: 'trigger_', type: 'p' },
  { oid: 2281, name: 'internal', len: 8, category: 'P', array: 0, io: 'internal_', type: 'p' },
  { oid: 2283, name: 'anyelement', len: 4, category: 'P', array: 0, io: 'anyelement_', type: 'p' },
  { oid: 2776, name: 'anynonarray', len: 4, category: 'P', array: 0, io: 'anynonarray_', type: 'p' },
  { oid: 2950, name: 'uuid', len: 16, category: 'U', array: 2951, io: 'uuid_' },
  { oid: 2970, name: 'txid_snapshot', len: -1, category: 'U', array: 2949, io: 'txid_snapshot_' },
  { oid: 3220, name: 'pg_lsn', len: 8, category: 'U', array: 3221, io: 'pg_lsn_' },
  { oid: 3500, name: 'anyenum', len: 4, category: 'P', array: 0, io: 'anyenum_', type: 'p' },
  { oid: 3614, name: 'tsvector', len: -1, category: 'U', array: 3643, io: 'tsvector' },
  { oid: 3615, name: 'tsquery', len: -1, category: 'U', array: 3645, io: 'tsquery' },
  { oid: 3734, name: 'regconfig', len: 4, category: 'N', array: 3735, io: 'regconfig' },
  { oid: 3769, name: 'regdictionary', len: 4, category: 'N', array: 3770, io: 'regdictionary' },
  { oid: 3802, name: 'jsonb', len: -1, category: 'U', array: 3807, io: 'jsonb_' },
  { oid: 3831, name: 'anyrange', len: -1, category: 'P', array: 0, io: 'anyrange_', type: 'p' },
  { oid: 3904, name: 'int4range', len: -1, category: 'R', array: 3905, io: 'range_', type: 'r' },
  { oid: 3906, name: 'numrange', len: -1, category: 'R', array: 3907, io: 'range_', type: 'r' },
  { oid: 3908, name: 'tsrange', len: -1, category: 'R', array: 3909, io: 'range_', type: 'r' },
  { oid: 3910, name: 'tstzrange', len: -1, category: 'R', array: 3911, io: 'range_', type: 'r' },
  { oid: 3912, name: 'daterange', len: -1, category: 'R', array: 3913, io: 'range_', type: 'r' },
  { oid: 3926, name: 'int8range', len: -1, category: 'R', array: 3927, io: 'range_', type: 'r' },
  { oid: 4072, name: 'jsonpath', len: -1, category: 'U', array: 4073, io: 'jsonpath_' },
  { oid: 4089, name: 'regnamespace', len: 4, category: 'N', array: 4090, io: 'regnamespace' },
  { oid: 4096, name: 'regrole', len: 4, category: 'N', array: 4097, io: 'regrole' },
  { oid: 5069, name: 'xid8', len: 8, category: 'U', array: 271, io: 'xid8' },
];

/** Range types' element types (pg_range.rngsubtype). */
const RANGE_SUBTYPES: [range: number, subtype: number][] = [
  [3904, 23],
  [3906, 1700],
  [3908, 1114],
  [3910, 1184],
  [3912, 1082],
  [3926, 20],
];

function literal(value: string | number | boolean | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return `'${value.replaceAll("'", "''")}'`;
}

/** PostgreSQL's I/O function names: `int4in` for `int4`, `json_in` for `json_`. */
function io(prefix: string, fn: 'in' | 'out' | 'recv' | 'send'): string {
  return `${prefix}${fn}`;
}

/** One pg_type row per built-in type and one per its array type, as PostgreSQL lists them. */
function builtinTypeRows(): string[] {
  const rows: (string | number | boolean | null)[][] = [];
  for (const t of BUILTIN_TYPES) {
    const byval = t.len === 1 || t.len === 2 || t.len === 4 || t.len === 8;
    const align =
      t.len === 8 || t.name === 'float8'
        ? 'd'
        : t.len === 2
          ? 's'
          : t.len === 1 || t.len === 64 || t.len === -2
            ? 'c'
            : 'i';
    const subscript = t.elem ? 'raw_array_subscript_handler' : '-';
    rows.push([
      t.oid,
      t.name,
      t.len,
      byval,
      t.type ?? 'b',
      t.category,
      t.preferred === true,
      t.delim ?? ',',
      subscript,
      t.elem ?? 0,
      t.array,
      io(t.io, 'in'),
      io(t.io, 'out'),
      io(t.io, 'recv'),
      io(t.io, 'send'),
      align,
      t.len === -1 ? 'x' : 'p',
    ]);
    if (t.array) {
      rows.push([
        t.array,
        `_${t.name}`,
        -1,
        false,
        'b',
        'A',
        false,
        ',',
        'array_subscript_handler',
        t.oid,
        0,
        'array_in',
        'array_out',
        'array_recv',
        'array_send',
        align === 'd' ? 'd' : 'i',
        'x',
      ]);
    }
  }
  return rows.map((r) => `(${r.map(literal).join(', ')})`);
}

/** format_type's names for the types whose SQL spelling differs from typname. */
function displayCase(x: string): string {
  const whens = BUILTIN_TYPES.filter((t) => t.display).map(
    (t) => `WHEN ${t.oid} THEN ${literal(t.display!)}`,
  );
  return `CASE ${x} ${whens.join(' ')} ELSE NULL END`;
}

/** format_type without a typmod for every built-in type and its array; `???` for any other OID. */
function formatTypeCase(x: string): string {
  const whens: string[] = [];
  for (const t of BUILTIN_TYPES) {
    const name = t.display ?? t.name;
    whens.push(`WHEN ${t.oid} THEN ${literal(name)}`);
    if (t.array) whens.push(`WHEN ${t.array} THEN ${literal(`${name}[]`)}`);
  }
  return `CASE ${x} ${whens.join(' ')} ELSE '???' END`;
}

const C = `${COMPAT_CATALOG}.main`;

/**
 * The PostgreSQL type of each DuckDB type name, as protocol/pg/types/pgTypeFor.ts maps it; any other
 * (STRUCT, MAP, UNION, ENUM, ...) is text. DECIMAL(p,s) is looked up as DECIMAL.
 */
const DUCKDB_TYPE_OIDS: [duckdbType: string, oid: number][] = [
  ['BOOLEAN', 16],
  ['TINYINT', 21],
  ['SMALLINT', 21],
  ['UTINYINT', 21],
  ['INTEGER', 23],
  ['USMALLINT', 23],
  ['BIGINT', 20],
  ['UINTEGER', 20],
  ['UBIGINT', 1700],
  ['HUGEINT', 1700],
  ['UHUGEINT', 1700],
  ['BIGNUM', 1700],
  ['VARINT', 1700],
  ['DECIMAL', 1700],
  ['FLOAT', 700],
  ['DOUBLE', 701],
  ['VARCHAR', 25],
  ['JSON', 114],
  ['BLOB', 17],
  ['DATE', 1082],
  ['TIME', 1083],
  ['TIME_NS', 1083],
  ['TIME WITH TIME ZONE', 1266],
  ['TIMESTAMP', 1114],
  ['TIMESTAMP_S', 1114],
  ['TIMESTAMP_MS', 1114],
  ['TIMESTAMP_NS', 1114],
  ['TIMESTAMP WITH TIME ZONE', 1184],
  ['INTERVAL', 1186],
  ['UUID', 2950],
  ['BIT', 1562],
];

/**
 * The statements that create the compatibility catalog. Run them once on the engine's DuckDB
 * instance at start-up, before any sandbox lock-down (they ATTACH an in-memory database); the
 * objects are then visible to every connection of that instance. Idempotent.
 */
export const COMPAT_SCHEMA: readonly string[] = [
  `ATTACH IF NOT EXISTS ':memory:' AS ${COMPAT_CATALOG}`,
  `ATTACH IF NOT EXISTS ':memory:' AS ${MIRROR_CATALOG}`,
  // The catalog's (PostgreSQL's) names of mirrored constraints; DuckDB names them itself.
  `CREATE TABLE IF NOT EXISTS ${C}.mirror_constraint_names (table_oid BIGINT, constraint_index BIGINT, name VARCHAR)`,
  // A mirrored relation in the mirror's `main` belongs to the session database's `main` namespace.
  `CREATE OR REPLACE MACRO ${C}.nsp(schema_oid) AS CASE WHEN schema_oid = (
      SELECT oid FROM duckdb_schemas() WHERE database_name = '${MIRROR_CATALOG}' AND schema_name = 'main')
    THEN (SELECT oid FROM duckdb_schemas() WHERE database_name = current_database() AND schema_name = 'main')
    ELSE schema_oid END`,
  `CREATE OR REPLACE TABLE ${C}.duckdb_type_oids AS SELECT * FROM (VALUES ${DUCKDB_TYPE_OIDS.map(
    ([t, oid]) => `(${literal(t)}, ${oid})`,
  ).join(', ')}) AS m(duckdb_type, oid)`,
  // A table, not a view over VALUES: every reference to a view binds its whole text again, and the
  // catalog queries clients send reference pg_type many times.
  `CREATE OR REPLACE TABLE ${C}.pg_type_builtin AS
    SELECT *, (SELECT oid FROM duckdb_schemas() WHERE database_name = 'system' AND schema_name = 'pg_catalog') AS typnamespace
    FROM (VALUES ${builtinTypeRows().join(', ')})
      AS b(oid, typname, typlen, typbyval, typtype, typcategory, typispreferred, typdelim, typsubscript, typelem,
           typarray, typinput, typoutput, typreceive, typsend, typalign, typstorage)`,
  // PostgreSQL 15's pg_type columns, in order: the built-in types, then DuckDB's user-defined ENUMs.
  `CREATE OR REPLACE VIEW ${C}.pg_type AS
    SELECT oid::INTEGER AS oid, typname::VARCHAR AS typname, typnamespace, 10 AS typowner, typlen::SMALLINT AS typlen, typbyval, typtype, typcategory, typispreferred, true AS typisdefined,
      typdelim, 0 AS typrelid, typsubscript, typelem::INTEGER AS typelem, typarray::INTEGER AS typarray, typinput,
      typoutput, typreceive, typsend, '-' AS typmodin, '-' AS typmodout, '-' AS typanalyze, typalign, typstorage,
      false AS typnotnull, 0 AS typbasetype, -1 AS typtypmod, 0 AS typndims,
      CASE WHEN typcategory = 'S' THEN 100 ELSE 0 END AS typcollation, NULL::VARCHAR AS typdefaultbin,
      NULL::VARCHAR AS typdefault, NULL::VARCHAR AS typacl
    FROM ${C}.pg_type_builtin
    UNION ALL
    SELECT type_oid::INTEGER, type_name, schema_oid, 10, 4, true, 'e', 'E', false, true, ',', 0, '-', 0, 0,
      'enum_in', 'enum_out', 'enum_recv', 'enum_send', '-', '-', '-', 'i', 'p', false, 0, -1, 0, 0, NULL, NULL, NULL
    FROM duckdb_types() WHERE logical_type = 'ENUM' AND NOT internal AND type_oid IS NOT NULL`,
  `CREATE OR REPLACE VIEW ${C}.pg_namespace AS
    SELECT oid, CASE WHEN database_name = 'temp' THEN 'pg_temp' ELSE schema_name END AS nspname, 10 AS nspowner, NULL::VARCHAR AS nspacl
    FROM duckdb_schemas()
    WHERE database_name = current_database() OR database_name = 'temp'
       OR (database_name = 'system' AND schema_name IN ('pg_catalog', 'information_schema'))
       OR (database_name = '${MIRROR_CATALOG}' AND schema_name <> 'main')`,
  // Joins, not macros: a CASE macro nested in another is inlined into every branch, and the
  // expression grows past what DuckDB binds quickly.
  `CREATE OR REPLACE VIEW ${C}.pg_attribute AS
    SELECT col.table_oid AS attrelid, col.column_name AS attname,
      (CASE WHEN col.is_list THEN coalesce(arr.typarray, 1009) ELSE coalesce(m.oid, 25) END)::UINTEGER AS atttypid,
      -1 AS attstattarget, -1::SMALLINT AS attlen, col.column_index::SMALLINT AS attnum,
      CASE WHEN col.is_list THEN 1 ELSE 0 END AS attndims, -1 AS attcacheoff,
      CASE WHEN NOT col.is_list AND col.base = 'DECIMAL' THEN col.numeric_precision * 65536 + col.numeric_scale + 4 ELSE -1 END AS atttypmod,
      false AS attbyval, 'p' AS attalign, 'p' AS attstorage, '' AS attcompression, NOT col.is_nullable AS attnotnull,
      col.column_default IS NOT NULL AS atthasdef, false AS atthasmissing, '' AS attidentity, '' AS attgenerated,
      false AS attisdropped, true AS attislocal, 0 AS attinhcount, 0 AS attcollation, NULL::VARCHAR AS attacl,
      NULL::VARCHAR AS attoptions, NULL::VARCHAR AS attfdwoptions, NULL::VARCHAR AS attmissingval
    FROM (
      SELECT *, ends_with(data_type, ']') AS is_list,
        CASE WHEN starts_with(data_type, 'DECIMAL') THEN 'DECIMAL' ELSE split_part(data_type, '[', 1) END AS base
      FROM duckdb_columns()) col
    LEFT JOIN ${C}.duckdb_type_oids m ON m.duckdb_type = col.base
    LEFT JOIN ${C}.pg_type_builtin arr ON arr.oid = m.oid`,
  `CREATE OR REPLACE VIEW ${C}.pg_range AS
    SELECT rngtypid, rngsubtype, 0 AS rngmultitypid, 0 AS rngcollation, 0 AS rngsubopc, '-' AS rngcanonical, '-' AS rngsubdiff
    FROM (VALUES ${RANGE_SUBTYPES.map(([r, s]) => `(${r}, ${s})`).join(', ')}) AS r(rngtypid, rngsubtype)`,
  // PostgreSQL's quote_ident, less its keyword list: quoted unless lower-case letters, digits, `_`, `$`.
  `CREATE OR REPLACE MACRO ${C}.quote_ident(ident) AS
    CASE WHEN regexp_full_match(ident, '[a-z_][a-z0-9_$]*') THEN ident ELSE '"' || replace(ident, '"', '""') || '"' END`,
  // An identifier as DuckDB writes it in a CREATE statement, `"label"`, back to its name.
  `CREATE OR REPLACE MACRO ${C}.unquote_ident(ident) AS
    CASE WHEN starts_with(ident, '"') AND ends_with(ident, '"') THEN replace(ident[2:-2], '""', '"') ELSE ident END`,
  // DuckDB's constraints as PostgreSQL's pg_constraint sees them, plus what pg_get_constraintdef and
  // the constraint indexes need. The OID is DuckDB's own pg_constraint's; NOT NULL is no constraint
  // row in PostgreSQL 15. A PRIMARY KEY or UNIQUE constraint's index shares its constraint's OID.
  `CREATE OR REPLACE VIEW ${C}.constraint_info AS
    SELECT d.table_oid * 1000000 + d.constraint_index AS oid, coalesce(mn.name, d.constraint_name) AS conname,
      ${C}.nsp(d.schema_oid) AS connamespace,
      CASE d.constraint_type WHEN 'CHECK' THEN 'c' WHEN 'UNIQUE' THEN 'u' WHEN 'PRIMARY KEY' THEN 'p' ELSE 'f' END AS contype,
      d.table_oid AS conrelid, coalesce(r.table_oid, 0) AS confrelid,
      [(i + 1)::SMALLINT for i in d.constraint_column_indexes] AS conkey, d.expression AS conbin,
      array_to_string([${C}.quote_ident(n) for n in d.constraint_column_names], ', ') AS columns,
      d.schema_name, d.table_name,
      CASE d.constraint_type
        WHEN 'CHECK' THEN 'CHECK ' || CASE WHEN starts_with(d.expression, '(') AND ends_with(d.expression, ')')
          THEN d.expression ELSE '(' || d.expression || ')' END
        WHEN 'FOREIGN KEY' THEN d.constraint_text
        ELSE d.constraint_type || ' (' || array_to_string([${C}.quote_ident(n) for n in d.constraint_column_names], ', ') || ')'
      END AS condef
    FROM duckdb_constraints() d
    LEFT JOIN ${C}.mirror_constraint_names mn ON mn.table_oid = d.table_oid AND mn.constraint_index = d.constraint_index
    LEFT JOIN duckdb_tables() r
      ON r.database_name = d.database_name AND r.schema_name = d.schema_name AND r.table_name = d.referenced_table
    WHERE d.constraint_type IN ('CHECK', 'UNIQUE', 'PRIMARY KEY', 'FOREIGN KEY')`,
  // CREATE INDEX indexes (their column list cut from DuckDB's CREATE statement) and the indexes
  // PostgreSQL keeps for PRIMARY KEY and UNIQUE constraints, which DuckDB does not list.
  `CREATE OR REPLACE VIEW ${C}.index_info AS
    SELECT *, 'CREATE ' || CASE WHEN indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX ' || ${C}.quote_ident(relname)
        || ' ON ' || ${C}.quote_ident(schema_name) || '.' || ${C}.quote_ident(table_name) || ' USING btree (' || columns || ')' AS indexdef
    FROM (
      SELECT index_oid AS oid, index_name AS relname, ${C}.nsp(schema_oid) AS relnamespace, table_oid AS indrelid,
        is_unique AS indisunique, is_primary AS indisprimary, NULL::SMALLINT[] AS conkey, columns, schema_name, table_name
      FROM (SELECT *, left(rtrim(substr(on_rest, strpos(on_rest, '(') + 1), '; '), -1) AS columns
            FROM (SELECT *, substr(sql, strpos(sql, ' ON ') + 4) AS on_rest FROM duckdb_indexes()))
      UNION ALL
      SELECT oid, conname, connamespace, conrelid, true, contype = 'p', conkey, columns, schema_name, table_name
      FROM ${C}.constraint_info WHERE contype IN ('p', 'u'))`,
  // Every relation's name, for the reg* casts: lighter than pg_class, which they would otherwise bind.
  `CREATE OR REPLACE VIEW ${C}.relation_names AS
    SELECT table_oid AS oid, table_name AS relname, ${C}.nsp(schema_oid) AS relnamespace FROM duckdb_tables()
    UNION ALL SELECT view_oid, view_name, ${C}.nsp(schema_oid) FROM duckdb_views()
    UNION ALL SELECT sequence_oid, sequence_name, ${C}.nsp(schema_oid) FROM duckdb_sequences()
    UNION ALL SELECT oid, relname, relnamespace FROM ${C}.index_info`,
  // indkey maps a plain column to its attnum and anything else to 0, as PostgreSQL does for expressions.
  `CREATE OR REPLACE VIEW ${C}.pg_index AS
    SELECT oid AS indexrelid, indrelid, len(indkey)::SMALLINT AS indnatts, len(indkey)::SMALLINT AS indnkeyatts, indisunique,
      false AS indnullsnotdistinct, indisprimary, false AS indisexclusion, true AS indimmediate, false AS indisclustered,
      true AS indisvalid, false AS indcheckxmin, true AS indisready, true AS indislive, false AS indisreplident, indkey,
      [0 for k in indkey] AS indcollation, [0 for k in indkey] AS indclass, [0::SMALLINT for k in indkey] AS indoption,
      NULL::VARCHAR AS indexprs, NULL::VARCHAR AS indpred
    FROM (
      SELECT i.*, coalesce(i.conkey,
          [coalesce(list_position(tc.names, ${C}.unquote_ident(trim(x))), 0)::SMALLINT for x in string_split(i.columns, ',')]) AS indkey
      FROM ${C}.index_info i
      LEFT JOIN (SELECT table_oid, list(column_name ORDER BY column_index) AS names FROM duckdb_columns() GROUP BY table_oid) tc
        ON tc.table_oid = i.indrelid)`,
  // PostgreSQL 15's columns. DuckDB's foreign keys can only be NO ACTION and MATCH SIMPLE.
  `CREATE OR REPLACE VIEW ${C}.pg_constraint AS
    SELECT oid, conname, connamespace, contype, false AS condeferrable, false AS condeferred, true AS convalidated,
      conrelid, 0 AS contypid, CASE WHEN contype IN ('p', 'u') THEN oid ELSE 0 END AS conindid, 0 AS conparentid, confrelid,
      CASE WHEN contype = 'f' THEN 'a' ELSE ' ' END AS confupdtype, CASE WHEN contype = 'f' THEN 'a' ELSE ' ' END AS confdeltype,
      CASE WHEN contype = 'f' THEN 's' ELSE ' ' END AS confmatchtype, true AS conislocal, 0 AS coninhcount, false AS connoinherit,
      conkey, NULL::SMALLINT[] AS confkey, NULL::INTEGER[] AS conpfeqop, NULL::INTEGER[] AS conppeqop, NULL::INTEGER[] AS conffeqop,
      NULL::SMALLINT[] AS confdelsetcols, NULL::INTEGER[] AS conexclop, conbin
    FROM ${C}.constraint_info`,
  `CREATE OR REPLACE VIEW ${C}.pg_am AS
    SELECT * FROM (VALUES (2, 'heap', 'heap_tableam_handler', 't'), (403, 'btree', 'bthandler', 'i')) AS a(oid, amname, amhandler, amtype)`,
  // DuckDB's pg_class, completed to PostgreSQL 15's columns (psql's \d reads relforcerowsecurity and
  // relreplident), with the constraint indexes, the heap and btree access methods, and
  // relhastriggers where PostgreSQL would have foreign-key triggers (psql lists foreign keys then).
  `CREATE OR REPLACE VIEW ${C}.pg_class AS
    SELECT c.oid, c.relname, ${C}.nsp(c.relnamespace) AS relnamespace, 0 AS reltype, 0 AS reloftype, 10 AS relowner,
      CASE c.relkind WHEN 'r' THEN 2 WHEN 'i' THEN 403 ELSE 0 END AS relam, 0 AS relfilenode, 0 AS reltablespace,
      0 AS relpages, c.reltuples::FLOAT AS reltuples, 0 AS relallvisible, 0 AS reltoastrelid,
      ix.indrelid IS NOT NULL AS relhasindex, false AS relisshared,
      CASE WHEN c.relkind = 'i' THEN 'p' ELSE c.relpersistence END AS relpersistence, c.relkind,
      coalesce(c.relnatts, 0)::SMALLINT AS relnatts, c.relchecks::SMALLINT AS relchecks, false AS relhasrules,
      fk.rel IS NOT NULL AS relhastriggers, false AS relhassubclass, false AS relrowsecurity, false AS relforcerowsecurity,
      true AS relispopulated, CASE WHEN c.relkind = 'r' THEN 'd' ELSE 'n' END AS relreplident, false AS relispartition,
      0 AS relrewrite, 0 AS relfrozenxid, 0 AS relminmxid, NULL::VARCHAR[] AS relacl, NULL::VARCHAR[] AS reloptions,
      NULL::VARCHAR AS relpartbound
    FROM pg_catalog.pg_class c
    LEFT JOIN (SELECT DISTINCT indrelid FROM ${C}.index_info) ix ON ix.indrelid = c.oid
    LEFT JOIN (SELECT conrelid AS rel FROM ${C}.constraint_info WHERE contype = 'f'
               UNION SELECT confrelid FROM ${C}.constraint_info WHERE contype = 'f') fk ON fk.rel = c.oid
    UNION ALL
    SELECT oid, relname, relnamespace, 0, 0, 10, 403, 0, 0, 0, 0::FLOAT, 0, 0, false, false, 'p', 'i', len(conkey)::SMALLINT,
      0::SMALLINT, false, false, false, false, false, true, 'n', false, 0, 0, 0, NULL, NULL, NULL
    FROM ${C}.index_info WHERE conkey IS NOT NULL`,
  // Features DuckDB does not have: empty, with PostgreSQL 15's columns.
  `CREATE OR REPLACE VIEW ${C}.pg_policy AS
    SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS polname, NULL::BIGINT AS polrelid, NULL::VARCHAR AS polcmd,
      NULL::BOOLEAN AS polpermissive, NULL::BIGINT[] AS polroles, NULL::VARCHAR AS polqual, NULL::VARCHAR AS polwithcheck
    WHERE false`,
  `CREATE OR REPLACE VIEW ${C}.pg_statistic_ext AS
    SELECT NULL::BIGINT AS oid, NULL::BIGINT AS stxrelid, NULL::VARCHAR AS stxname, NULL::BIGINT AS stxnamespace,
      NULL::BIGINT AS stxowner, NULL::INTEGER AS stxstattarget, NULL::SMALLINT[] AS stxkeys, NULL::VARCHAR[] AS stxkind,
      NULL::VARCHAR AS stxexprs
    WHERE false`,
  `CREATE OR REPLACE VIEW ${C}.pg_publication AS
    SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS pubname, NULL::BIGINT AS pubowner, NULL::BOOLEAN AS puballtables,
      NULL::BOOLEAN AS pubinsert, NULL::BOOLEAN AS pubupdate, NULL::BOOLEAN AS pubdelete, NULL::BOOLEAN AS pubtruncate,
      NULL::BOOLEAN AS pubviaroot
    WHERE false`,
  `CREATE OR REPLACE VIEW ${C}.pg_publication_namespace AS
    SELECT NULL::BIGINT AS oid, NULL::BIGINT AS pnpubid, NULL::BIGINT AS pnnspid WHERE false`,
  `CREATE OR REPLACE VIEW ${C}.pg_publication_rel AS
    SELECT NULL::BIGINT AS oid, NULL::BIGINT AS prpubid, NULL::BIGINT AS prrelid, NULL::VARCHAR AS prqual,
      NULL::SMALLINT[] AS prattrs
    WHERE false`,
  `CREATE OR REPLACE VIEW ${C}.pg_inherits AS
    SELECT NULL::BIGINT AS inhrelid, NULL::BIGINT AS inhparent, NULL::INTEGER AS inhseqno, NULL::BOOLEAN AS inhdetachpending
    WHERE false`,
  `CREATE OR REPLACE VIEW ${C}.pg_trigger AS
    SELECT NULL::BIGINT AS oid, NULL::BIGINT AS tgrelid, NULL::BIGINT AS tgparentid, NULL::VARCHAR AS tgname,
      NULL::BIGINT AS tgfoid, NULL::SMALLINT AS tgtype, NULL::VARCHAR AS tgenabled, NULL::BOOLEAN AS tgisinternal,
      NULL::BIGINT AS tgconstrrelid, NULL::BIGINT AS tgconstrindid, NULL::BIGINT AS tgconstraint,
      NULL::BOOLEAN AS tgdeferrable, NULL::BOOLEAN AS tginitdeferred, NULL::SMALLINT AS tgnargs, NULL::SMALLINT[] AS tgattr,
      NULL::BLOB AS tgargs, NULL::VARCHAR AS tgqual, NULL::VARCHAR AS tgoldtable, NULL::VARCHAR AS tgnewtable
    WHERE false`,
  // pg_roles for one session: its user, a superuser as is_superuser reports (see SESSION_RELATIONS).
  `CREATE OR REPLACE MACRO ${C}.pg_roles_of(role_name) AS TABLE
    SELECT CAST(role_name AS VARCHAR) AS rolname, true AS rolsuper, true AS rolinherit, true AS rolcreaterole,
      true AS rolcreatedb, true AS rolcanlogin, false AS rolreplication, -1 AS rolconnlimit, '********' AS rolpassword,
      NULL::TIMESTAMPTZ AS rolvaliduntil, true AS rolbypassrls, NULL::VARCHAR[] AS rolconfig, 10::BIGINT AS oid`,
  `CREATE OR REPLACE MACRO ${C}.pg_get_constraintdef(con_oid) AS
      (SELECT condef FROM ${C}.constraint_info WHERE oid = con_oid),
    (con_oid, pretty) AS (SELECT condef FROM ${C}.constraint_info WHERE oid = con_oid)`,
  // With a column number, that column's expression, as PostgreSQL answers it.
  `CREATE OR REPLACE MACRO ${C}.pg_get_indexdef(idx_oid) AS (SELECT indexdef FROM ${C}.index_info WHERE oid = idx_oid),
    (idx_oid, col, pretty) AS (SELECT CASE WHEN col = 0 THEN indexdef ELSE trim(string_split(columns, ',')[col]) END
      FROM ${C}.index_info WHERE oid = idx_oid)`,
  `CREATE OR REPLACE MACRO ${C}.pg_get_triggerdef(trigger_oid) AS NULL::VARCHAR, (trigger_oid, pretty) AS NULL::VARCHAR`,
  `CREATE OR REPLACE MACRO ${C}.pg_get_statisticsobjdef_columns(stat_oid) AS NULL::VARCHAR`,
  `CREATE OR REPLACE MACRO ${C}.pg_relation_is_publishable(rel) AS false`,
  `CREATE OR REPLACE MACRO ${C}.pg_type_display(display_oid) AS ${displayCase('display_oid')}`,
  // PostgreSQL's format_type: SQL spellings, typmods, `[]` for arrays, `???` for an unknown OID. A
  // plain CASE over the built-in types: psql calls it once per column, and a subquery per call is slow.
  `CREATE OR REPLACE MACRO ${C}.format_type(fmt_oid, fmt_typmod) AS CASE
    WHEN fmt_oid IS NULL THEN NULL
    WHEN fmt_oid = 1700 AND fmt_typmod >= 4 THEN 'numeric(' || ((fmt_typmod - 4) // 65536) || ',' || ((fmt_typmod - 4) % 65536) || ')'
    WHEN fmt_oid = 1043 AND fmt_typmod >= 4 THEN 'character varying(' || (fmt_typmod - 4) || ')'
    WHEN fmt_oid = 1042 AND fmt_typmod >= 4 THEN 'character(' || (fmt_typmod - 4) || ')'
    WHEN fmt_oid = 1560 AND fmt_typmod >= 1 THEN 'bit(' || fmt_typmod || ')'
    ELSE ${formatTypeCase('fmt_oid')} END`,
  // Only one-dimensional arrays exist in Mallard's catalog queries.
  `CREATE OR REPLACE MACRO ${C}.array_upper(arr, dim) AS CASE WHEN dim = 1 AND len(arr) > 0 THEN len(arr) END`,
  `CREATE OR REPLACE MACRO ${C}.array_lower(arr, dim) AS CASE WHEN dim = 1 AND len(arr) > 0 THEN 1 END`,
  // DuckDB answers [] for current_schemas(false); PostgreSQL lists the existing schemas of the search path.
  `CREATE OR REPLACE MACRO ${C}.current_schemas(include_implicit) AS
    CASE WHEN include_implicit THEN ['pg_catalog', current_schema()] ELSE [current_schema()] END`,
  `CREATE OR REPLACE MACRO ${C}.pg_encoding_to_char(encoding) AS
    CASE encoding WHEN 6 THEN 'UTF8' WHEN 0 THEN 'SQL_ASCII' ELSE '' END`,
  // DuckDB keeps defaults as SQL text in adbin; psql passes a third `pretty` argument DuckDB's macro lacks.
  `CREATE OR REPLACE MACRO ${C}.pg_get_expr(expr, rel) AS expr, (expr, rel, pretty) AS expr`,
  // Casts to reg* types: text → OID where a name (or, as regclass_in reads it, a number) is cast,
  // OID → name where a number is.
  `CREATE OR REPLACE MACRO ${C}.regclass_oid(name) AS coalesce(TRY_CAST(name AS BIGINT), (
    SELECT c.oid FROM ${C}.relation_names c JOIN ${C}.pg_namespace n ON n.oid = c.relnamespace
    WHERE lower(c.relname) = lower(replace(CASE WHEN contains(name, '.') THEN split_part(name, '.', 2) ELSE name END, '"', ''))
      AND (NOT contains(name, '.') OR lower(n.nspname) = lower(replace(split_part(name, '.', 1), '"', '')))
    ORDER BY n.nspname = 'pg_catalog' DESC LIMIT 1))`,
  `CREATE OR REPLACE MACRO ${C}.regclass_name(rel_oid) AS
    CASE WHEN rel_oid = 0 THEN '-' ELSE coalesce((SELECT c.relname FROM ${C}.relation_names c WHERE c.oid = rel_oid LIMIT 1), CAST(rel_oid AS VARCHAR)) END`,
  // pg_partition_ancestors(regclass): DuckDB has no partitioned tables, so a relation is its own
  // only ancestor. rewriteQuery turns the FROM-clause form into unnest([...]) around this.
  `CREATE OR REPLACE MACRO ${C}.pg_partition_ancestors(rel) AS ${C}.regclass_oid(CAST(rel AS VARCHAR))`,
  // A type name as regtype reads it: typname or SQL spelling, optionally pg_catalog-qualified.
  `CREATE OR REPLACE MACRO ${C}.regtype_scalar_oid(wanted_type) AS (
    SELECT rt.oid FROM ${C}.pg_type rt, (SELECT CASE trim(replace(lower(wanted_type), 'pg_catalog.', ''))
        WHEN 'int' THEN 'int4' WHEN 'decimal' THEN 'numeric' WHEN 'float' THEN 'float8'
        ELSE trim(replace(lower(wanted_type), 'pg_catalog.', '')) END AS wanted) w
    WHERE rt.typname = w.wanted OR ${C}.pg_type_display(rt.oid) = w.wanted
    LIMIT 1)`,
  `CREATE OR REPLACE MACRO ${C}.regtype_oid(type_text) AS CASE
    WHEN ends_with(type_text, '[]')
    THEN (SELECT ra.typarray FROM ${C}.pg_type ra WHERE ra.oid = ${C}.regtype_scalar_oid(left(type_text, -2)))
    ELSE ${C}.regtype_scalar_oid(type_text) END`,
  `CREATE OR REPLACE MACRO ${C}.regtype_name(reg_oid) AS
    CASE WHEN reg_oid IS NULL THEN NULL WHEN reg_oid = 0 THEN '-' ELSE coalesce(nullif(${C}.format_type(reg_oid, NULL), '???'), CAST(reg_oid AS VARCHAR)) END`,
  ...DIVISION_MACRO_SQL,
  `CREATE OR REPLACE MACRO ${C}.regnamespace_oid(name) AS
    (SELECT n.oid FROM ${C}.pg_namespace n WHERE n.nspname = replace(name, '"', '') LIMIT 1)`,
  `CREATE OR REPLACE MACRO ${C}.regnamespace_name(ns_oid) AS
    coalesce((SELECT n.nspname FROM ${C}.pg_namespace n WHERE n.oid = ns_oid LIMIT 1), CAST(ns_oid AS VARCHAR))`,
];
