import { join, resolve } from 'node:path';
import { quoteIdent, quoteLiteral } from '../storage/sqlText.js';
import { TPCH_TABLES, tpchFileName } from './tables.js';

/**
 * `CREATE OR REPLACE VIEW <table> AS SELECT * FROM read_parquet('<dir>/<table>.parquet')` for the eight
 * tables the generator wrote into `dir`, so the 22 queries run on plain DuckDB over the same files (the
 * benchmark's reference side). Each view names its exact file: a glob such as part*.parquet would also
 * read partsupp.
 */
export function tpchViewsSql(dir: string): string[] {
  return TPCH_TABLES.map(
    (table) =>
      `CREATE OR REPLACE VIEW ${quoteIdent(table)} AS SELECT * FROM read_parquet(${quoteLiteral(join(resolve(dir), tpchFileName(table)))})`,
  );
}
