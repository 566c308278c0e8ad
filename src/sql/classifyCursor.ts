import type { FetchStmt } from 'libpg-query';
import { parseSync } from 'libpg-query';
import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import type { DeclareCursorCommand, FetchCommand } from './classifyStatement.js';
import { isComment, SqlLexer, TokenKind } from './SqlLexer.js';

// DeclareCursorStmt.options bits (PostgreSQL's parsenodes.h CURSOR_OPT_*).
const CURSOR_OPT_BINARY = 0x1;
const CURSOR_OPT_SCROLL = 0x2;
const CURSOR_OPT_HOLD = 0x20;

/**
 * FETCH_ALL as the parser reports it: LONG_MAX of the 32-bit WASM build of PostgreSQL's parser, which
 * also caps any explicit count there.
 */
const FETCH_ALL = 2147483647;

/**
 * `DECLARE name [BINARY] [ASENSITIVE|INSENSITIVE] [NO SCROLL|SCROLL] CURSOR [WITH|WITHOUT HOLD] FOR query`.
 *
 * Only the head, up to `FOR`, goes through PostgreSQL's parser (with a stand-in query): the query is
 * DuckDB's to parse, so DuckDB-only syntax works inside a cursor too. `FOR` is a reserved word, so the
 * first unquoted `for` after the cursor name ends the head; the lexer skips quotes and comments.
 */
export function classifyDeclareCursor(sql: string): DeclareCursorCommand {
  const lexer = new SqlLexer(sql);
  let seen = 0;
  let headEnd = -1;
  for (let kind = lexer.next(); kind !== TokenKind.End; kind = lexer.next()) {
    if (isComment(kind)) continue;
    // Token 0 is DECLARE, token 1 the cursor name (which may be spelt "for", quoted).
    if (seen++ >= 2 && kind === TokenKind.Word && lexer.text().toLowerCase() === 'for') {
      headEnd = lexer.end;
      break;
    }
  }
  const body = headEnd < 0 ? null : statementBody(sql, headEnd);
  const query = body === null ? '' : sql.slice(body.start, body.end);
  const head = headEnd < 0 ? sql : `${sql.slice(0, headEnd)} SELECT 1`;
  let options = 0;
  let name = '';
  try {
    const parsed = parseSync(head);
    const stmt = parsed.stmts?.length === 1 ? parsed.stmts[0]!.stmt : undefined;
    if (!stmt || !('DeclareCursorStmt' in stmt))
      throw new PgError(SqlState.SyntaxError, 'syntax error in DECLARE');
    options = stmt.DeclareCursorStmt.options ?? 0;
    name = stmt.DeclareCursorStmt.portalname ?? '';
  } catch (err) {
    if (err instanceof PgError) throw err;
    const details = (err as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const at = details?.cursorPosition;
    // A position inside the stand-in query would point past the text the client sent.
    const fields = at !== undefined && (headEnd < 0 || at < headEnd) ? { position: at + 1 } : {};
    throw new PgError(SqlState.SyntaxError, (err as Error).message, fields);
  }
  if (query === '') throw new PgError(SqlState.SyntaxError, 'syntax error at end of input');
  checkQueryStart(query, body!.start);
  if (name === '') throw new PgError(SqlState.InvalidCursorName, 'invalid cursor name: must not be empty');
  return {
    kind: 'declareCursor',
    name,
    query,
    binary: (options & CURSOR_OPT_BINARY) !== 0,
    hold: (options & CURSOR_OPT_HOLD) !== 0,
    scroll: (options & CURSOR_OPT_SCROLL) !== 0,
  };
}

/** Words a row-returning query starts with, PostgreSQL's SelectStmt and DuckDB's own forms. */
const QUERY_WORDS = new Set(['select', 'values', 'with', 'table', 'from', 'pivot', 'unpivot']);

/** PostgreSQL's grammar takes only a SELECT after FOR: `DECLARE c CURSOR FOR INSERT ...` is a syntax error. */
function checkQueryStart(query: string, offset: number): void {
  const lexer = new SqlLexer(query);
  const kind = lexer.next();
  if (
    kind === TokenKind.OpenParen ||
    (kind === TokenKind.Word && QUERY_WORDS.has(lexer.text().toLowerCase()))
  )
    return;
  throw new PgError(SqlState.SyntaxError, `syntax error at or near "${lexer.text()}"`, {
    position: offset + 1,
  });
}

/** From `start`, the span of the tokens that are neither comments nor `;`; null if there are none. */
function statementBody(sql: string, start: number): { start: number; end: number } | null {
  const lexer = new SqlLexer(sql, start);
  let first = -1;
  let last = -1;
  for (let kind = lexer.next(); kind !== TokenKind.End; kind = lexer.next()) {
    if (kind === TokenKind.Semicolon || (isComment(kind) && !lexer.unterminated)) continue;
    if (first < 0) first = lexer.start;
    last = lexer.end;
  }
  return first < 0 ? null : { start: first, end: last };
}

/**
 * FETCH and MOVE, forward only: Mallard's cursors stream a DuckDB result once. Counts are read as
 * PostgreSQL's PortalRunFetch reads them (FORWARD -n is BACKWARD n and the reverse); anything that
 * would re-read a row (PRIOR, BACKWARD, FIRST, LAST, ABSOLUTE, RELATIVE, FETCH 0) is refused with 0A000.
 */
export function classifyFetch(f: FetchStmt): FetchCommand {
  const move = f.ismove === true;
  let direction = f.direction ?? 'FETCH_FORWARD';
  let count = Number(f.howMany ?? 0);
  if (direction === 'FETCH_FORWARD' && count < 0) {
    direction = 'FETCH_BACKWARD';
    count = -count;
  } else if (direction === 'FETCH_BACKWARD' && count < 0) {
    direction = 'FETCH_FORWARD';
    count = -count;
  }
  // FETCH 0 re-reads the current row; MOVE 0 stays where it is, which a forward-only cursor can do.
  if (direction !== 'FETCH_FORWARD' || (count === 0 && !move)) {
    throw new PgError(SqlState.FeatureNotSupported, 'backward scan is not supported', {
      hint: `Mallard cursors scan forward only: use ${move ? 'MOVE' : 'FETCH'} [FORWARD] n, NEXT or ALL.`,
    });
  }
  return {
    kind: 'fetch',
    name: f.portalname ?? '',
    count: count >= FETCH_ALL ? Number.POSITIVE_INFINITY : count,
    move,
  };
}
