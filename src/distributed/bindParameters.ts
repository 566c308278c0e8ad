import { type DuckDBType, DuckDBTypeId, type DuckDBValue } from '@duckdb/node-api';
import { type AstObject, cloneTree, type SelectNode, type SelectStatement } from '../planner/ast.js';
import type { SqlParser } from '../planner/SqlParser.js';
import { quoteLiteral } from '../storage/sqlText.js';

/** Parameter types whose values DuckDB reads back exactly from their text rendering. */
const LITERAL_TYPES: ReadonlySet<DuckDBTypeId> = new Set([
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
  DuckDBTypeId.DATE,
  DuckDBTypeId.TIME,
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
  DuckDBTypeId.INTERVAL,
  DuckDBTypeId.UUID,
]);

/** DuckDB's DATE 'infinity' and '-infinity' are ±(2^31 - 1) days. */
const DATE_INFINITY_DAYS = 2 ** 31 - 1;

/**
 * The statements with every `$n` replaced by its value as a typed literal, `CAST('<text>' AS <type>)`,
 * so that task SQL (which cannot carry placeholders) computes what the prepared statement would. Null
 * when some value cannot be written exactly that way (floats, blobs, nested values, TIMESTAMPTZ whose
 * text depends on the time zone): the query then runs on the coordinator with its parameters bound.
 */
export async function bindParameters(
  parser: SqlParser,
  statements: readonly SelectStatement[],
  params: readonly DuckDBValue[],
  types: readonly DuckDBType[],
): Promise<SelectStatement[] | null> {
  if (params.length === 0) return [...statements];
  const literals: string[] = [];
  for (let i = 0; i < params.length; i++) {
    const value = params[i];
    const type = types[i];
    if (value === null || value === undefined) {
      literals.push(type ? `CAST(NULL AS ${type.toString()})` : 'NULL');
      continue;
    }
    if (!type || !LITERAL_TYPES.has(type.typeId)) return null;
    // DATE ±infinity renders as a far-off calendar date that does not cast back.
    const days = (value as { days?: unknown }).days;
    if (typeof days === 'number' && Math.abs(days) >= DATE_INFINITY_DAYS) return null;
    literals.push(`CAST(${quoteLiteral(String(value))} AS ${type.toString()})`);
  }
  // One parse for every literal: the select list of `SELECT <literal 1>, <literal 2>, ...`.
  const [parsed] = await parser.parse(`SELECT ${literals.join(', ')}`);
  const exprs = (parsed!.node as SelectNode).select_list as AstObject[];
  let unknown = false;
  const bound = statements.map((stmt) =>
    cloneTree(stmt, (node) => {
      if (node['class'] !== 'PARAMETER') return undefined;
      const expr = exprs[Number(node['identifier']) - 1];
      if (!expr) {
        unknown = true;
        return undefined;
      }
      return { ...cloneTree(expr), alias: node['alias'] ?? '' };
    }),
  );
  return unknown ? null : bound;
}
