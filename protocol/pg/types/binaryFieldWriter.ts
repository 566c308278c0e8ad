import { type DuckDBType, DuckDBTypeId } from '@duckdb/node-api';
import type { BackendWriter } from '../BackendWriter.js';

/** Writes one non-null value of a column as a binary DataRow field. */
export type BinaryFieldWriter = (w: BackendWriter, value: unknown) => void;

/**
 * A binary writer that encodes straight into the DataRow for the types that dominate result streams
 * (integers, floats, strings), or null to go through the column codec's binary(). Must produce the
 * same bytes as codecFor(type).binary — test/protocol/pg/types/binaryFieldWriter.test.ts checks it.
 */
export function binaryFieldWriter(type: DuckDBType): BinaryFieldWriter | null {
  switch (type.typeId) {
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return (w, v) => w.fieldInt16(v as number);
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return (w, v) => w.fieldInt32(v as number);
    case DuckDBTypeId.BIGINT:
      return (w, v) => w.fieldInt64(v as bigint);
    case DuckDBTypeId.FLOAT:
      return (w, v) => w.fieldFloat32(v as number);
    case DuckDBTypeId.DOUBLE:
      return (w, v) => w.fieldFloat64(v as number);
    case DuckDBTypeId.VARCHAR:
      // text, varchar and json send their UTF-8 bytes as is.
      return (w, v) => w.fieldText(v as string);
    default:
      return null;
  }
}
