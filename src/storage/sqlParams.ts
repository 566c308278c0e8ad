import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';

/**
 * Parameter values of a statement's SQL, optionally with their types. DuckDB infers a bound value's
 * type from the JS value, which it cannot do for every value (an empty or nested list, a NULL meant as
 * a list); the SQL layer knows the types it prepared with, and passes them along.
 */
export type SqlParams =
  | readonly DuckDBValue[]
  | { readonly values: readonly DuckDBValue[]; readonly types: readonly (DuckDBType | undefined)[] };

/** The values and (when known) types of `params`, as DuckDBConnection.run takes them. */
export function bindArgs(params: SqlParams): [DuckDBValue[], DuckDBType[] | undefined] {
  if (Array.isArray(params)) return [params as DuckDBValue[], undefined];
  const p = params as Exclude<SqlParams, readonly DuckDBValue[]>;
  return [p.values as DuckDBValue[], p.types as DuckDBType[]];
}

export function paramCount(params: SqlParams): number {
  return bindArgs(params)[0].length;
}
