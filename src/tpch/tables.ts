/** The eight TPC-H tables, smallest first (the order the generator writes them in). */
export const TPCH_TABLES = [
  'region',
  'nation',
  'supplier',
  'customer',
  'part',
  'partsupp',
  'orders',
  'lineitem',
] as const;

export type TpchTable = (typeof TPCH_TABLES)[number];

/** The generator's file for `table` inside its output directory: one Parquet file per table. */
export function tpchFileName(table: TpchTable): string {
  return `${table}.parquet`;
}
