import {
  ANY,
  ARRAY,
  BIGINT,
  BIGNUM,
  BIT,
  BLOB,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  type DuckDBType,
  DuckDBTypeId,
  DuckDBVarCharType,
  ENUM,
  FLOAT,
  GEOMETRY,
  HUGEINT,
  INTEGER,
  INTEGER_LITERAL,
  INTERVAL,
  LIST,
  MAP,
  SMALLINT,
  SQLNULL,
  STRING_LITERAL,
  STRUCT,
  TIME,
  TIME_NS,
  TIMESTAMP,
  TIMESTAMP_MS,
  TIMESTAMP_NS,
  TIMESTAMP_S,
  TIMESTAMPTZ,
  TIMETZ,
  TINYINT,
  UBIGINT,
  UHUGEINT,
  UINTEGER,
  UNION,
  USMALLINT,
  UTINYINT,
  UUID,
  VARCHAR,
  VARIANT,
} from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { duckTypeForOid, Oid, pgTypeByOid, pgTypeFor } from '../../../../protocol/pg/types/index.js';

// The documented mapping (docs/TYPES.md), one row per DuckDB type id. The first test fails when
// @duckdb/node-api grows a type id this table does not cover, so every type stays documented.
const MAPPING: Record<number, [DuckDBType, string]> = {
  [DuckDBTypeId.INVALID]: [{ typeId: DuckDBTypeId.INVALID } as unknown as DuckDBType, 'text'],
  [DuckDBTypeId.BOOLEAN]: [BOOLEAN, 'bool'],
  [DuckDBTypeId.TINYINT]: [TINYINT, 'int2'],
  [DuckDBTypeId.SMALLINT]: [SMALLINT, 'int2'],
  [DuckDBTypeId.INTEGER]: [INTEGER, 'int4'],
  [DuckDBTypeId.BIGINT]: [BIGINT, 'int8'],
  [DuckDBTypeId.UTINYINT]: [UTINYINT, 'int2'],
  [DuckDBTypeId.USMALLINT]: [USMALLINT, 'int4'],
  [DuckDBTypeId.UINTEGER]: [UINTEGER, 'oid'],
  [DuckDBTypeId.UBIGINT]: [UBIGINT, 'numeric'],
  [DuckDBTypeId.FLOAT]: [FLOAT, 'float4'],
  [DuckDBTypeId.DOUBLE]: [DOUBLE, 'float8'],
  [DuckDBTypeId.TIMESTAMP]: [TIMESTAMP, 'timestamp'],
  [DuckDBTypeId.DATE]: [DATE, 'date'],
  [DuckDBTypeId.TIME]: [TIME, 'time'],
  [DuckDBTypeId.INTERVAL]: [INTERVAL, 'interval'],
  [DuckDBTypeId.HUGEINT]: [HUGEINT, 'numeric'],
  [DuckDBTypeId.UHUGEINT]: [UHUGEINT, 'numeric'],
  [DuckDBTypeId.VARCHAR]: [VARCHAR, 'text'],
  [DuckDBTypeId.BLOB]: [BLOB, 'bytea'],
  [DuckDBTypeId.DECIMAL]: [DECIMAL(10, 2), 'numeric'],
  [DuckDBTypeId.TIMESTAMP_S]: [TIMESTAMP_S, 'timestamp'],
  [DuckDBTypeId.TIMESTAMP_MS]: [TIMESTAMP_MS, 'timestamp'],
  [DuckDBTypeId.TIMESTAMP_NS]: [TIMESTAMP_NS, 'timestamp'],
  [DuckDBTypeId.ENUM]: [ENUM(['sad', 'happy']), 'text'],
  [DuckDBTypeId.LIST]: [LIST(INTEGER), '_int4'],
  [DuckDBTypeId.STRUCT]: [STRUCT({ a: INTEGER }), 'text'],
  [DuckDBTypeId.MAP]: [MAP(VARCHAR, INTEGER), 'text'],
  [DuckDBTypeId.ARRAY]: [ARRAY(DOUBLE, 3), '_float8'],
  [DuckDBTypeId.UUID]: [UUID, 'uuid'],
  [DuckDBTypeId.UNION]: [UNION({ n: INTEGER, s: VARCHAR }), 'text'],
  [DuckDBTypeId.BIT]: [BIT, 'varbit'],
  [DuckDBTypeId.TIME_TZ]: [TIMETZ, 'timetz'],
  [DuckDBTypeId.TIMESTAMP_TZ]: [TIMESTAMPTZ, 'timestamptz'],
  [DuckDBTypeId.ANY]: [ANY, 'text'],
  [DuckDBTypeId.BIGNUM]: [BIGNUM, 'numeric'],
  [DuckDBTypeId.SQLNULL]: [SQLNULL, 'text'],
  [DuckDBTypeId.STRING_LITERAL]: [STRING_LITERAL, 'text'],
  [DuckDBTypeId.INTEGER_LITERAL]: [INTEGER_LITERAL, 'numeric'],
  [DuckDBTypeId.TIME_NS]: [TIME_NS, 'time'],
  [DuckDBTypeId.GEOMETRY]: [GEOMETRY, 'text'],
  [DuckDBTypeId.VARIANT]: [VARIANT, 'text'],
};

test('every DuckDB type id has a documented PostgreSQL type', () => {
  const ids = Object.values(DuckDBTypeId).filter((v): v is number => typeof v === 'number');
  const missing = ids.filter((id) => MAPPING[id] === undefined).map((id) => DuckDBTypeId[id]);
  assert.equal(missing, []);
  for (const id of ids) {
    const [type, name] = MAPPING[id]!;
    const pg = pgTypeFor(type);
    assert.is(pg.name, name, DuckDBTypeId[id]);
    assert.is(pg.oid, pgTypeByOid(pg.oid)!.oid);
    assert.is(pg.typlen, pgTypeByOid(pg.oid)!.typlen);
  }
});

test('JSON is json, other VARCHAR aliases are text', () => {
  assert.is(pgTypeFor(DuckDBVarCharType.create('JSON')).oid, Oid.json);
  assert.is(pgTypeFor(LIST(DuckDBVarCharType.create('JSON'))).oid, Oid._json);
  assert.is(pgTypeFor(DuckDBVarCharType.create('SHOUTING')).oid, Oid.text);
});

test('lists of lists share the element’s array type; lists of nested types are text[]', () => {
  assert.is(pgTypeFor(LIST(LIST(INTEGER))).oid, Oid._int4);
  assert.is(pgTypeFor(ARRAY(LIST(TIMESTAMPTZ), 2)).oid, Oid._timestamptz);
  assert.is(pgTypeFor(LIST(STRUCT({ a: INTEGER }))).oid, Oid._text);
  assert.is(pgTypeFor(LIST(MAP(VARCHAR, INTEGER))).oid, Oid._text);
  assert.is(pgTypeFor(LIST(UBIGINT)).oid, Oid._numeric);
  assert.is(pgTypeFor(LIST(BIT)).oid, Oid._varbit);
});

test('numeric typmods: DECIMAL(p,s) is ((p << 16) | s) + 4, the integer types have none', () => {
  assert.is(pgTypeFor(DECIMAL(10, 2)).typmod, 655366);
  assert.is(pgTypeFor(DECIMAL(38, 10)).typmod, (38 << 16) + 10 + 4);
  assert.is(pgTypeFor(DECIMAL(4, 0)).typmod, 262148);
  assert.is(pgTypeFor(LIST(DECIMAL(18, 3))).typmod, (18 << 16) + 3 + 4);
  assert.is(pgTypeFor(HUGEINT).typmod, -1);
  assert.is(pgTypeFor(VARCHAR).typmod, -1);
});

/** A DuckDB type's SQL spelling, with the JSON alias shown (toString drops it inside a LIST). */
function describe(type: DuckDBType): string {
  if (type.typeId === DuckDBTypeId.LIST) return `${describe(type.valueType)}[]`;
  return type.alias === 'JSON' ? 'JSON' : type.toString();
}

test('declared parameter types map to DuckDB types, or null to let DuckDB infer', () => {
  const cases: [number, string | null][] = [
    [0, null],
    [Oid.unknown, null],
    [Oid.void, null],
    [Oid.inet, null],
    [Oid.point, null],
    [Oid.int2vector, null],
    [123456, null],
    [Oid.bool, 'BOOLEAN'],
    [Oid.int2, 'SMALLINT'],
    [Oid.int4, 'INTEGER'],
    [Oid.int8, 'BIGINT'],
    [Oid.oid, 'UINTEGER'],
    [Oid.float4, 'FLOAT'],
    [Oid.float8, 'DOUBLE'],
    [Oid.numeric, 'DECIMAL(38,10)'],
    [Oid.text, 'VARCHAR'],
    [Oid.varchar, 'VARCHAR'],
    [Oid.bpchar, 'VARCHAR'],
    [Oid.name, 'VARCHAR'],
    [Oid.json, 'JSON'],
    [Oid.jsonb, 'JSON'],
    [Oid.bytea, 'BLOB'],
    [Oid.date, 'DATE'],
    [Oid.time, 'TIME'],
    [Oid.timetz, 'TIME WITH TIME ZONE'],
    [Oid.timestamp, 'TIMESTAMP'],
    [Oid.timestamptz, 'TIMESTAMP WITH TIME ZONE'],
    [Oid.interval, 'INTERVAL'],
    [Oid.uuid, 'UUID'],
    [Oid.bit, 'BIT'],
    [Oid.varbit, 'BIT'],
    [Oid._int4, 'INTEGER[]'],
    [Oid._text, 'VARCHAR[]'],
    [Oid._name, 'VARCHAR[]'],
    [Oid._jsonb, 'JSON[]'],
    [Oid._timestamptz, 'TIMESTAMP WITH TIME ZONE[]'],
    [Oid._numeric, 'DECIMAL(38,10)[]'],
  ];
  for (const [oid, expected] of cases) {
    const type = duckTypeForOid(oid);
    assert.is(type === null ? null : describe(type), expected, `oid ${oid}`);
  }
});

test('a declared type comes back as the same PostgreSQL type, where DuckDB has the type', () => {
  for (const oid of [
    Oid.bool,
    Oid.int2,
    Oid.int4,
    Oid.int8,
    Oid.float4,
    Oid.float8,
    Oid.numeric,
    Oid.text,
    Oid.json,
  ]) {
    assert.is(pgTypeFor(duckTypeForOid(oid)!).oid, oid, pgTypeByOid(oid)!.name);
  }
  for (const oid of [
    Oid.bytea,
    Oid.date,
    Oid.time,
    Oid.timetz,
    Oid.timestamp,
    Oid.timestamptz,
    Oid.interval,
    Oid.uuid,
  ]) {
    assert.is(pgTypeFor(duckTypeForOid(oid)!).oid, oid, pgTypeByOid(oid)!.name);
  }
  for (const oid of [Oid._int4, Oid._text, Oid._float8, Oid._timestamptz, Oid._uuid, Oid._bool]) {
    assert.is(pgTypeFor(duckTypeForOid(oid)!).oid, oid, pgTypeByOid(oid)!.name);
  }
});

test('pgTypeByOid knows the arrays and their element types', () => {
  assert.equal(
    { ...pgTypeByOid(Oid._int4)! },
    { oid: 1007, name: '_int4', typlen: -1, typmod: -1, elementOid: 23, arrayOid: 0 },
  );
  assert.equal(
    { ...pgTypeByOid(Oid.timestamptz)! },
    { oid: 1184, name: 'timestamptz', typlen: 8, typmod: -1, elementOid: 0, arrayOid: 1185 },
  );
  assert.is(pgTypeByOid(123456), undefined);
});

test.run();
