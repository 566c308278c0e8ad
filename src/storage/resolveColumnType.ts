import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api';
import { DuckDBTypeId } from '@duckdb/node-api';
import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import type { FileEncoding, InlineEncoding } from '../catalog/CatalogModel.js';

/** A column type as DuckDB spells it, with the encodings that keep its values exact. */
export interface ResolvedType {
  /** DuckDB's canonical name (`typeof`), e.g. `DECIMAL(18,3)`, `ENUM('a', 'b')`. */
  readonly type: string;
  readonly fileEncoding: FileEncoding;
  readonly inlineEncoding: InlineEncoding;
  /** Whether Parquet's min/max statistics are in the type's own order and in its VARCHAR form. */
  readonly minMaxStats: boolean;
  /** A scalar whose min/max DuckDB can compute and read back from VARCHAR (for ANALYZE). */
  readonly orderable: boolean;
  /** Two values are equal exactly when their VARCHAR forms are (not so for DOUBLE's -0.0, nor TIMESTAMPTZ). */
  readonly exactText: boolean;
}

const EXACT_TEXT_TYPES = new Set([
  DuckDBTypeId.BOOLEAN,
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.DECIMAL,
  DuckDBTypeId.VARCHAR,
  DuckDBTypeId.UUID,
  DuckDBTypeId.DATE,
  DuckDBTypeId.TIME,
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
  DuckDBTypeId.ENUM,
]);

const NOT_ORDERABLE = new Set([
  DuckDBTypeId.LIST,
  DuckDBTypeId.ARRAY,
  DuckDBTypeId.STRUCT,
  DuckDBTypeId.MAP,
  DuckDBTypeId.UNION,
  DuckDBTypeId.BLOB,
  DuckDBTypeId.BIT,
  DuckDBTypeId.GEOMETRY,
  DuckDBTypeId.VARIANT,
]);

/** DuckDB's Parquet writer maps these lossily: HUGEINT→DOUBLE, INTERVAL→millis, TIMETZ→UTC time. */
const LOSSY_IN_PARQUET = new Set([
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.INTERVAL,
  DuckDBTypeId.TIME_TZ,
]);

const MIN_MAX_TYPES = new Set([
  DuckDBTypeId.BOOLEAN,
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.FLOAT,
  DuckDBTypeId.DOUBLE,
  DuckDBTypeId.DECIMAL,
  DuckDBTypeId.VARCHAR,
  DuckDBTypeId.DATE,
  DuckDBTypeId.TIME,
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
  DuckDBTypeId.TIMESTAMP_TZ,
  DuckDBTypeId.UUID,
]);

/**
 * Resolves a type name through DuckDB itself (aliases, precision defaults) and chooses encodings by
 * walking the type tree. `typeText` is a type as the SQL layer produced it, not free user text.
 */
export async function resolveColumnType(conn: DuckDBConnection, typeText: string): Promise<ResolvedType> {
  let type: string;
  let tree: DuckDBType;
  try {
    const prepared = await conn.prepare(
      `SELECT CAST(NULL AS ${typeText}) AS v, typeof(CAST(NULL AS ${typeText})) AS t`,
    );
    tree = prepared.columnType(0);
    const r = await prepared.runAndReadAll();
    type = String(r.getRows()[0]![1]);
  } catch (err) {
    throw new PgError(SqlState.UndefinedObject, `type "${typeText}" does not exist`, {}, { cause: err });
  }
  const ids = new Set<DuckDBTypeId>();
  collectTypeIds(tree, ids);
  const hasUnion = ids.has(DuckDBTypeId.UNION);
  const lossy = [...ids].some((id) => LOSSY_IN_PARQUET.has(id));
  // A UNION's VARCHAR form drops its tag, so it must stay native even if a member is lossy.
  const fileEncoding: FileEncoding = lossy && !hasUnion ? 'text' : 'native';
  const inlineEncoding: InlineEncoding = hasUnion
    ? 'none'
    : tree.typeId === DuckDBTypeId.TIMESTAMP_TZ
      ? 'epoch_us'
      : 'text';
  return {
    type,
    fileEncoding,
    inlineEncoding,
    minMaxStats: MIN_MAX_TYPES.has(tree.typeId),
    orderable: !NOT_ORDERABLE.has(tree.typeId),
    exactText: EXACT_TEXT_TYPES.has(tree.typeId),
  };
}

function collectTypeIds(t: DuckDBType, out: Set<DuckDBTypeId>): void {
  out.add(t.typeId);
  const children: DuckDBType[] = [];
  if ('valueType' in t) children.push(t.valueType);
  if ('keyType' in t) children.push(t.keyType);
  if ('entryTypes' in t) children.push(...t.entryTypes);
  if ('memberTypes' in t) children.push(...t.memberTypes);
  for (const c of children) collectTypeIds(c, out);
}
