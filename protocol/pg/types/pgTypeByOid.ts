import { Oid } from './Oid.js';
import type { PgType } from './PgType.js';

/** A pg_type row as far as the wire protocol needs it: what an array holds and what holds it. */
export interface PgTypeEntry extends PgType {
  /** pg_type.typelem for array types, 0 otherwise. */
  readonly elementOid: number;
  /** pg_type.typarray: the array type holding this type, 0 when there is none. */
  readonly arrayOid: number;
}

// [oid, typname, typlen, typarray, typelem?] for the element types, copied from PostgreSQL 15's
// pg_type. A few fixed-length types (name, point, the vectors) are subscriptable and so have a typelem.
const ELEMENTS: readonly (readonly [number, string, number, number, number?])[] = [
  [Oid.bool, 'bool', 1, Oid._bool],
  [Oid.bytea, 'bytea', -1, Oid._bytea],
  [Oid.char, 'char', 1, Oid._char],
  [Oid.name, 'name', 64, Oid._name, Oid.char],
  [Oid.int8, 'int8', 8, Oid._int8],
  [Oid.int2, 'int2', 2, Oid._int2],
  [Oid.int2vector, 'int2vector', -1, Oid._int2vector, Oid.int2],
  [Oid.int4, 'int4', 4, Oid._int4],
  [Oid.regproc, 'regproc', 4, Oid._regproc],
  [Oid.text, 'text', -1, Oid._text],
  [Oid.oid, 'oid', 4, Oid._oid],
  [Oid.tid, 'tid', 6, Oid._tid],
  [Oid.xid, 'xid', 4, Oid._xid],
  [Oid.cid, 'cid', 4, Oid._cid],
  [Oid.oidvector, 'oidvector', -1, Oid._oidvector, Oid.oid],
  [Oid.json, 'json', -1, Oid._json],
  [Oid.xml, 'xml', -1, Oid._xml],
  [Oid.point, 'point', 16, Oid._point, Oid.float8],
  [Oid.cidr, 'cidr', -1, Oid._cidr],
  [Oid.float4, 'float4', 4, Oid._float4],
  [Oid.float8, 'float8', 8, Oid._float8],
  [Oid.unknown, 'unknown', -2, 0],
  [Oid.money, 'money', 8, Oid._money],
  [Oid.macaddr, 'macaddr', 6, Oid._macaddr],
  [Oid.inet, 'inet', -1, Oid._inet],
  [Oid.bpchar, 'bpchar', -1, Oid._bpchar],
  [Oid.varchar, 'varchar', -1, Oid._varchar],
  [Oid.date, 'date', 4, Oid._date],
  [Oid.time, 'time', 8, Oid._time],
  [Oid.timestamp, 'timestamp', 8, Oid._timestamp],
  [Oid.timestamptz, 'timestamptz', 8, Oid._timestamptz],
  [Oid.interval, 'interval', 16, Oid._interval],
  [Oid.timetz, 'timetz', 12, Oid._timetz],
  [Oid.bit, 'bit', -1, Oid._bit],
  [Oid.varbit, 'varbit', -1, Oid._varbit],
  [Oid.numeric, 'numeric', -1, Oid._numeric],
  [Oid.regclass, 'regclass', 4, Oid._regclass],
  [Oid.regtype, 'regtype', 4, Oid._regtype],
  [Oid.record, 'record', -1, Oid._record],
  [Oid.cstring, 'cstring', -2, Oid._cstring],
  [Oid.anyarray, 'anyarray', -1, 0],
  [Oid.void, 'void', 4, 0],
  [Oid.uuid, 'uuid', 16, Oid._uuid],
  [Oid.jsonb, 'jsonb', -1, Oid._jsonb],
  [Oid.jsonpath, 'jsonpath', -1, Oid._jsonpath],
];

const CATALOG = new Map<number, PgTypeEntry>();
for (const [oid, name, typlen, arrayOid, elementOid = 0] of ELEMENTS) {
  CATALOG.set(oid, Object.freeze({ oid, name, typlen, typmod: -1, elementOid, arrayOid }));
  if (arrayOid !== 0) {
    CATALOG.set(
      arrayOid,
      Object.freeze({
        oid: arrayOid,
        name: `_${name}`,
        typlen: -1,
        typmod: -1,
        elementOid: oid,
        arrayOid: 0,
      }),
    );
  }
}

/**
 * The PostgreSQL type with this OID (typmod -1), for ParameterDescription and for checking the
 * types a client declares in Parse. Undefined for OIDs Mallard does not know.
 */
export function pgTypeByOid(oid: number): PgTypeEntry | undefined {
  return CATALOG.get(oid);
}
