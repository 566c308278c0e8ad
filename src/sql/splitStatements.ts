import { isComment, SqlLexer, TokenKind } from './SqlLexer.js';

/** One statement of a simple Query message. */
export interface SplitStatement {
  /** The statement's text, without surrounding whitespace, comments and the terminating `;`. */
  sql: string;
  /** 0-based offset of `sql` in the query text: add it to an error position inside `sql`. */
  offset: number;
  /** True when the whole query held only whitespace and comments: answer EmptyQueryResponse. */
  empty: boolean;
}

/**
 * Splits a simple Query's text into statements at top-level semicolons, as PostgreSQL's grammar does:
 * semicolons inside quotes, dollar quotes, comments or parentheses do not split (a stray one inside
 * parentheses is then the parser's syntax error, not a silent split). Empty statements are dropped, as
 * PostgreSQL drops them; a query with no statement at all yields one `empty` entry.
 */
export function splitStatements(text: string): SplitStatement[] {
  const out: SplitStatement[] = [];
  const lexer = new SqlLexer(text);
  let first = -1;
  let last = -1;
  let depth = 0;
  for (;;) {
    const kind = lexer.next();
    if (kind === TokenKind.End || (kind === TokenKind.Semicolon && depth === 0)) {
      if (first >= 0) out.push({ sql: text.slice(first, last), offset: first, empty: false });
      if (kind === TokenKind.End) break;
      first = last = -1;
      continue;
    }
    // An unclosed comment stays in the statement, so that the parser reports it.
    if (isComment(kind) && !lexer.unterminated) continue;
    if (kind === TokenKind.OpenParen) depth++;
    else if (kind === TokenKind.CloseParen && depth > 0) depth--;
    if (first < 0) first = lexer.start;
    last = lexer.end;
  }
  if (out.length === 0) out.push({ sql: '', offset: 0, empty: true });
  return out;
}
