/**
 * The SQL dialect task statements are written in. The coordinator rewrites PostgreSQL-isms before it
 * plans (src/sql/rewriteQuery.ts), so the SQL it sends to workers may call a few macros of its own and
 * assumes PostgreSQL's integer division. Every worker runs TASK_DIALECT_SQL on its DuckDB before the
 * sandbox is locked, and the coordinator runs the same statements, so a task binds on a worker exactly as
 * it did when the coordinator planned it.
 */

/** The in-memory database that holds the dialect's macros (and, on the coordinator, pg_catalog). */
export const DIALECT_CATALOG = 'mallard_catalog';

/** PostgreSQL's message for a zero divisor, raised by the division macros. */
export const DIVISION_BY_ZERO_MESSAGE = 'division by zero';

/** Macros of DIALECT_CATALOG.main that task SQL may call; a query calling any other runs on the coordinator. */
export const TASK_DIALECT_MACROS: ReadonlySet<string> = new Set(['pg_div', 'pg_mod']);

const C = `${DIALECT_CATALOG}.main`;

/**
 * `a / b` and `a % b` with PostgreSQL's division-by-zero error (22012) where DuckDB returns NULL or
 * Infinity. CASE runs error() only for the rows whose divisor is zero (DuckDB does not fold an unselected
 * branch at bind time), and its type is that of the division itself. Like PostgreSQL's strict operators, a
 * NULL dividend gives NULL even over zero. The macro repeats its arguments, so a volatile divisor
 * (random()) is evaluated twice.
 */
export const DIVISION_MACRO_SQL: readonly string[] = [
  `CREATE OR REPLACE MACRO ${C}.pg_div(dividend, divisor) AS
    CASE WHEN divisor = 0 AND dividend IS NOT NULL THEN error('${DIVISION_BY_ZERO_MESSAGE}') ELSE dividend / divisor END`,
  `CREATE OR REPLACE MACRO ${C}.pg_mod(dividend, divisor) AS
    CASE WHEN divisor = 0 AND dividend IS NOT NULL THEN error('${DIVISION_BY_ZERO_MESSAGE}') ELSE dividend % divisor END`,
];

/** What a worker runs at start-up, in order, before locking its configuration. */
export const TASK_DIALECT_SQL: readonly string[] = [
  `ATTACH IF NOT EXISTS ':memory:' AS ${DIALECT_CATALOG}`,
  ...DIVISION_MACRO_SQL,
  // PostgreSQL semantics: integer / integer truncates (DuckDB's default is float division).
  'SET GLOBAL integer_division = true',
];

/** A SQL identifier in double quotes, inner quotes doubled: for names a worker writes into its own SQL. */
export function quoteIdent(name: string): string {
  return `"${name.split('"').join('""')}"`;
}

/** A SQL string literal, quotes doubled: for paths a worker writes into its own SQL. */
export function quoteLiteral(text: string): string {
  return `'${text.split("'").join("''")}'`;
}
