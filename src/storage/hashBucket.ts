/**
 * The bucket function of hash-distributed tables:
 *
 *     bucket = hash(CAST(key AS <key type>)) % buckets
 *
 * computed by DuckDB (`hash` is DuckDB's 64-bit value hash, returning UBIGINT; NULL keys hash to a
 * fixed value, so they share one bucket). It is deterministic for a given DuckDB version and value,
 * and integers of different widths hash alike (hash(5::INTEGER) = hash(5::BIGINT)). Co-located tables
 * share a ColocationGroup, which pins the key type, the bucket count and this function's name: equal
 * keys land in equal buckets in every table of the group, so bucket i joins only bucket i.
 *
 * The name carries DuckDB's major.minor version: DuckDB has changed `hash` between releases, and
 * files bucketed by one version must not be joined bucket-wise with files bucketed by another.
 */
export function hashFunctionName(duckdbVersion: string): string {
  const bare = duckdbVersion.startsWith('v') ? duckdbVersion.slice(1) : duckdbVersion;
  const [major, minor] = bare.split('.');
  return `duckdb-hash-v${major}.${minor}`;
}

/** SQL for the bucket of `keyExpr` (already cast to the key type), as an INTEGER. */
export function bucketExpr(keyExpr: string, buckets: number): string {
  return `CAST(hash(${keyExpr}) % ${buckets} AS INTEGER)`;
}
