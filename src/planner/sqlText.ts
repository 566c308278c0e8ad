// Spelling of the planner's own identifiers and values in SQL text. User SQL is never edited as text:
// it is parsed and rewritten as a tree. Text is only built around names and values the planner owns.
import type { StatValue } from './types.js';

/** A double-quoted SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A single-quoted SQL string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A statistic as a literal of the column's type, or undefined when it has no exact SQL spelling. */
export function statLiteral(value: StatValue, type: string): string | undefined {
  if (value === null) return `CAST(NULL AS ${type})`;
  if (typeof value === 'string') return `CAST(${quoteLiteral(value)} AS ${type})`;
  if (typeof value === 'bigint') return `CAST(${value.toString()} AS ${type})`;
  if (typeof value === 'boolean') return `CAST(${value ? 'true' : 'false'} AS ${type})`;
  if (!Number.isFinite(value)) return undefined;
  return `CAST(${quoteLiteral(String(value))} AS ${type})`;
}

/** DuckDB's integer types up to 128 bits, signed and unsigned (UHUGEINT aside), by their names. */
export const INTEGER_TYPES: ReadonlySet<string> = new Set([
  'TINYINT',
  'SMALLINT',
  'INTEGER',
  'BIGINT',
  'HUGEINT',
  'UTINYINT',
  'USMALLINT',
  'UINTEGER',
  'UBIGINT',
]);
