import type { SqlToken } from './scanStatement.js';

/** A statement with some `$n` parameters wrapped in casts, and the way back to the client's text. */
export interface CastStatement {
  readonly sql: string;
  /** Maps a UTF-16 index in `sql` to the index in the original statement (error positions). */
  toOriginal(index: number): number;
  /**
   * A result column name as DuckDB would have derived it from the client's statement: DuckDB names a
   * column after its expression, so `SELECT $1` must stay `$1`, not `CAST($1 AS VARCHAR)`.
   */
  originalColumnName(name: string): string;
}

/**
 * Wraps every occurrence of the listed parameters in `CAST($n AS type)`. DuckDB then types the
 * parameter, and every expression built on it, as the client declared (or as text when it cannot infer
 * one and the client declared none), so Describe reports the same columns Execute produces. Works on
 * lexer tokens, never on the raw text.
 */
export function castParameters(
  sql: string,
  tokens: readonly SqlToken[],
  casts: ReadonlyMap<number, string>,
): CastStatement {
  // Copied runs of the original: [start in the new text, start in the original, length].
  const runs: [number, number, number][] = [];
  const inserted = new Map<string, string>();
  let out = '';
  let copied = 0;
  for (const token of tokens) {
    if (token.kind !== 'parameter') continue;
    const type = casts.get(Number(token.value));
    if (type === undefined) continue;
    runs.push([out.length, copied, token.start - copied]);
    out += sql.slice(copied, token.start);
    out += 'CAST(';
    runs.push([out.length, token.start, token.end - token.start]);
    out += `${token.text} AS ${type})`;
    inserted.set(`CAST(${token.text} AS ${type})`, token.text);
    copied = token.end;
  }
  runs.push([out.length, copied, sql.length - copied]);
  out += sql.slice(copied);
  return {
    sql: out,
    originalColumnName(name) {
      for (const [cast, parameter] of inserted) name = name.replaceAll(cast, parameter);
      return name;
    },
    toOriginal(index) {
      let mapped = 0;
      for (const [at, from, length] of runs) {
        if (index < at) break;
        // Inside inserted text (the cast around a parameter) points at the end of the preceding run.
        mapped = from + Math.min(index - at, length);
      }
      return mapped;
    },
  };
}
