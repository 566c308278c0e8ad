import type { SelectStatement } from './ast.js';
import type { PlanColumn } from './types.js';

/**
 * The DuckDB facilities the planner needs, behind an interface so the coordinator can hand it the
 * connection it already has. All SQL understanding goes through DuckDB itself: its parser
 * (`json_serialize_sql`), its SQL writer (`json_deserialize_sql`) and its binder (prepare).
 */
export interface SqlParser {
  /** The statements of `sql` as DuckDB's parse tree; throws SqlParseError when DuckDB cannot parse them. */
  parse(sql: string): Promise<readonly SelectStatement[]>;
  /** SQL text for a (possibly rewritten) parse tree. */
  deparse(statement: SelectStatement): Promise<string>;
  /** Binds `sql` without running it: the result columns' names and types. */
  describe(sql: string): Promise<readonly PlanColumn[]>;
  /** Runs a small query of the planner's own (statistics checks) and returns its rows as JSON values. */
  query(sql: string): Promise<readonly (readonly unknown[])[]>;
  /** Lower-case names of every aggregate function DuckDB knows. */
  aggregateFunctions(): Promise<ReadonlySet<string>>;
}

/** DuckDB could not parse the statement (or it is not a SELECT, which json_serialize_sql refuses). */
export class SqlParseError extends Error {
  override readonly name = 'SqlParseError';
}
