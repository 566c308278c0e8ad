import { type DuckDBType, DuckDBTypeId } from '@duckdb/node-api';
import { Oid } from './Oid.js';
import type { PgType } from './PgType.js';
import { type PgTypeEntry, pgTypeByOid } from './pgTypeByOid.js';

function base(oid: number): PgTypeEntry {
  return pgTypeByOid(oid)!;
}

/** True for DuckDB's JSON type, which is a VARCHAR carrying the alias JSON. */
export function isJsonType(type: DuckDBType): boolean {
  return type.typeId === DuckDBTypeId.VARCHAR && type.alias === 'JSON';
}

/**
 * The PostgreSQL type a DuckDB column is presented as in RowDescription (docs/TYPES.md has the table):
 *
 * BOOLEAN→bool; TINYINT, SMALLINT, UTINYINT→int2; INTEGER, USMALLINT→int4; BIGINT→int8; UINTEGER→oid;
 * UBIGINT, HUGEINT, UHUGEINT, BIGNUM→numeric; DECIMAL(p,s)→numeric with typmod ((p<<16)|s)+4;
 * FLOAT→float4; DOUBLE→float8; VARCHAR→text; JSON→json; BLOB→bytea; DATE→date; TIME, TIME_NS→time;
 * TIME_TZ→timetz; TIMESTAMP (and _S, _MS, _NS)→timestamp; TIMESTAMP_TZ→timestamptz; INTERVAL→interval;
 * UUID→uuid; BIT→varbit; ENUM→text; LIST and ARRAY of X→X's array type (lists of lists → the same
 * array type, multi-dimensional); STRUCT, MAP, UNION, VARIANT, GEOMETRY and anything else→text in
 * DuckDB's own CAST(x AS VARCHAR) form.
 */
export function pgTypeFor(type: DuckDBType): PgType {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return base(Oid.bool);
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return base(Oid.int2);
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return base(Oid.int4);
    case DuckDBTypeId.BIGINT:
      return base(Oid.int8);
    // PostgreSQL's oid is an unsigned 32-bit integer: UINTEGER is exactly it, and drivers (asyncpg)
    // need catalog columns typed oid / oid[] to read their own introspection queries.
    case DuckDBTypeId.UINTEGER:
      return base(Oid.oid);
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
    case DuckDBTypeId.INTEGER_LITERAL:
      return base(Oid.numeric);
    case DuckDBTypeId.DECIMAL:
      return { ...base(Oid.numeric), typmod: ((type.width << 16) | type.scale) + 4 };
    case DuckDBTypeId.FLOAT:
      return base(Oid.float4);
    case DuckDBTypeId.DOUBLE:
      return base(Oid.float8);
    case DuckDBTypeId.VARCHAR:
      return isJsonType(type) ? base(Oid.json) : base(Oid.text);
    case DuckDBTypeId.BLOB:
      return base(Oid.bytea);
    case DuckDBTypeId.DATE:
      return base(Oid.date);
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_NS:
      return base(Oid.time);
    case DuckDBTypeId.TIME_TZ:
      return base(Oid.timetz);
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return base(Oid.timestamp);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return base(Oid.timestamptz);
    case DuckDBTypeId.INTERVAL:
      return base(Oid.interval);
    case DuckDBTypeId.UUID:
      return base(Oid.uuid);
    case DuckDBTypeId.BIT:
      return base(Oid.varbit);
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const element = pgTypeFor(innermostElement(type));
      const entry = base(element.oid);
      const array = base(entry.arrayOid === 0 ? Oid.text : entry.arrayOid);
      return element.typmod === -1 ? array : { ...array, typmod: element.typmod };
    }
    default:
      // ENUM, STRUCT, MAP, UNION, VARIANT, GEOMETRY, SQLNULL, STRING_LITERAL, ANY, INVALID.
      return base(Oid.text);
  }
}

/** The element type under any depth of LIST/ARRAY nesting. */
export function innermostElement(type: DuckDBType): DuckDBType {
  let t = type;
  while (t.typeId === DuckDBTypeId.LIST || t.typeId === DuckDBTypeId.ARRAY) t = t.valueType;
  return t;
}
