/**
 * Quoting for the SQL this layer generates. Values from users never reach SQL text except through
 * these functions (or as bound parameters); nothing here parses SQL.
 */

/** A double-quoted identifier, as PostgreSQL and DuckDB read it. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A standard single-quoted string literal (no backslash escapes, as in both dialects). A NUL cannot
 * appear inside a literal, so text holding one becomes a concatenation with chr(0).
 */
export function quoteLiteral(text: string): string {
  const quoted = `'${text.replaceAll("'", "''")}'`;
  return text.includes('\0') ? `(${quoted.split('\0').join("' || chr(0) || '")})` : quoted;
}

/** A DuckDB list literal of string literals, e.g. `['a', 'b']`. */
export function stringList(items: readonly string[]): string {
  return `[${items.map(quoteLiteral).join(', ')}]`;
}

/** A DuckDB list literal of integers. */
export function integerList(items: readonly number[]): string {
  return `[${items.join(', ')}]`;
}
