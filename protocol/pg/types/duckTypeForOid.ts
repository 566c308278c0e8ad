import {
  BIGINT,
  BIT,
  BLOB,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  type DuckDBType,
  DuckDBVarCharType,
  FLOAT,
  INTEGER,
  INTERVAL,
  LIST,
  SMALLINT,
  TIME,
  TIMESTAMP,
  TIMESTAMPTZ,
  TIMETZ,
  UINTEGER,
  UUID,
  VARCHAR,
} from '@duckdb/node-api';
import { Oid } from './Oid.js';
import { pgTypeByOid } from './pgTypeByOid.js';

/** DuckDB's JSON type: VARCHAR with the alias JSON. */
const JSON_TYPE = DuckDBVarCharType.create('JSON');

/**
 * numeric without a typmod has no DuckDB equivalent (DECIMAL tops out at 38 digits); DECIMAL(38,10)
 * keeps 28 integer and 10 fractional digits, which covers money-like values exactly.
 */
export const NUMERIC_PARAMETER_TYPE = DECIMAL(38, 10);

const ELEMENTS = new Map<number, DuckDBType>([
  [Oid.bool, BOOLEAN],
  [Oid.int2, SMALLINT],
  [Oid.int4, INTEGER],
  [Oid.int8, BIGINT],
  [Oid.oid, UINTEGER],
  [Oid.float4, FLOAT],
  [Oid.float8, DOUBLE],
  [Oid.numeric, NUMERIC_PARAMETER_TYPE],
  [Oid.text, VARCHAR],
  [Oid.varchar, VARCHAR],
  [Oid.bpchar, VARCHAR],
  [Oid.name, VARCHAR],
  [Oid.char, VARCHAR],
  [Oid.json, JSON_TYPE],
  [Oid.jsonb, JSON_TYPE],
  [Oid.bytea, BLOB],
  [Oid.date, DATE],
  [Oid.time, TIME],
  [Oid.timetz, TIMETZ],
  [Oid.timestamp, TIMESTAMP],
  [Oid.timestamptz, TIMESTAMPTZ],
  [Oid.interval, INTERVAL],
  [Oid.uuid, UUID],
  [Oid.bit, BIT],
  [Oid.varbit, BIT],
]);

/**
 * The DuckDB type for a parameter type a client declares in Parse, or null to let DuckDB infer it:
 * for OID 0 (unspecified), `unknown`, `void`, and types DuckDB has no counterpart for (inet, money,
 * reg*, ...). Arrays of known types become LIST of the element type; numeric becomes DECIMAL(38,10).
 */
export function duckTypeForOid(oid: number): DuckDBType | null {
  const direct = ELEMENTS.get(oid);
  if (direct !== undefined) return direct;
  const entry = pgTypeByOid(oid);
  if (entry === undefined || entry.elementOid === 0) return null;
  const element = ELEMENTS.get(entry.elementOid);
  // name, point and the vector types have a typelem too, but are not arrays of it.
  if (element === undefined || entry.name !== `_${pgTypeByOid(entry.elementOid)!.name}`) return null;
  return LIST(element);
}
