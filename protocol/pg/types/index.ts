// PostgreSQL types for DuckDB values: the mapping shown in RowDescription, the per-column codecs that
// write PostgreSQL's text and binary formats, and the decoding of Bind parameters.
export { type BinaryFieldWriter, binaryFieldWriter } from './binaryFieldWriter.js';
export { codecFor } from './codecFor.js';
export { type DecodeOptions, decodeParam } from './decodeParam.js';
export { duckTypeForOid, NUMERIC_PARAMETER_TYPE } from './duckTypeForOid.js';
export { Oid, type OidName } from './Oid.js';
export type { ColumnCodec, EncodeOptions, PgType } from './PgType.js';
export { type PgTypeEntry, pgTypeByOid } from './pgTypeByOid.js';
export { isJsonType, pgTypeFor } from './pgTypeFor.js';
export { TimeZone, timeZoneFor } from './TimeZone.js';
