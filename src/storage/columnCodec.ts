import type { ColumnDef } from '../catalog/CatalogModel.js';
import { quoteIdent } from './sqlText.js';

/**
 * How a column's values travel to Parquet and to the inline buffer and back. Every read is
 * `CAST(<stored> AS <type>)`, so a reader needs nothing but the catalog's column definitions.
 */

/** The Parquet column name: by id, so RENAME COLUMN never rewrites a file. */
export function physicalName(c: ColumnDef): string {
  return `c${c.id}`;
}

/** SQL that turns a value of any type into what the Parquet column stores. */
export function encodeForFile(c: ColumnDef, expr: string): string {
  const typed = `CAST(${expr} AS ${c.type})`;
  return c.fileEncoding === 'text' ? `CAST(${typed} AS VARCHAR)` : typed;
}

/** SQL that reads a stored Parquet column back as the declared type. */
export function decodeFromFile(c: ColumnDef, expr: string): string {
  return `CAST(${expr} AS ${c.type})`;
}

/** SQL that turns a value of the column's type into the inline buffer's text. */
export function encodeForInline(c: ColumnDef, expr: string): string {
  if (c.inlineEncoding === 'epoch_us') {
    // isfinite: epoch_us of ±infinity is NULL, while their VARCHAR form round-trips.
    return `CASE WHEN isfinite(${expr}) THEN CAST(epoch_us(${expr}) AS VARCHAR) ELSE CAST(${expr} AS VARCHAR) END`;
  }
  return `CAST(${expr} AS VARCHAR)`;
}

/** SQL that reads inline text back as the declared type. */
export function decodeFromInline(c: ColumnDef, expr: string): string {
  if (c.inlineEncoding === 'epoch_us') {
    return `CASE WHEN ${expr} IN ('infinity', '-infinity') THEN CAST(${expr} AS TIMESTAMPTZ) ELSE make_timestamptz(CAST(${expr} AS BIGINT)) END`;
  }
  return `CAST(${expr} AS ${c.type})`;
}

/** What rows read for a column they predate. */
export function missingValue(c: ColumnDef): string {
  return `CAST(${c.missing ?? 'NULL'} AS ${c.type})`;
}

/** `"name"`, for select lists. */
export function columnAlias(c: ColumnDef): string {
  return quoteIdent(c.name);
}
