import type { CopyStmt, DefElem, Node, RangeVar, TransactionStmt, VariableSetStmt } from 'libpg-query';
import { loadModule, parseSync } from 'libpg-query';
import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import { classifyDeclareCursor, classifyFetch } from './classifyCursor.js';
import { isComment, SqlLexer, TokenKind } from './SqlLexer.js';

// classifyStatement is synchronous, so the PostgreSQL parser's WASM must be ready before first use.
await loadModule();

/** How COPY data is framed, from COPY's option list. Defaults are filled in for the chosen format. */
export interface CopyOptions {
  format: 'text' | 'csv' | 'binary';
  /** One character; `\t` for text, `,` for csv; absent for binary. */
  delimiter?: string;
  /** The NULL marker; `\N` for text, the empty string for csv; absent for binary. */
  null?: string;
  header: boolean;
  /** csv only; defaults to `"`. */
  quote?: string;
  /** csv only; defaults to the quote character. */
  escape?: string;
  /** COPY TO, csv only: columns always quoted. */
  forceQuote?: string[] | '*';
  /** COPY FROM, csv only: columns whose unquoted NULL marker is read as a string. */
  forceNotNull?: string[] | '*';
  /** COPY FROM, csv only: columns whose quoted NULL marker is read as NULL. */
  forceNull?: string[] | '*';
  encoding?: string;
}

/** `DECLARE name [BINARY] [NO SCROLL|SCROLL] CURSOR [WITH|WITHOUT HOLD] FOR query`. */
export interface DeclareCursorCommand {
  kind: 'declareCursor';
  /** As PostgreSQL folds it: lower case unless quoted. */
  name: string;
  /** The query after FOR, verbatim (DuckDB parses it), without a trailing `;` or comments. */
  query: string;
  /** BINARY: rows are sent in binary format. */
  binary: boolean;
  /** WITH HOLD: the cursor outlives the transaction that declared it. */
  hold: boolean;
  /** SCROLL was asked for; Mallard still refuses backward fetches (see FetchCommand). */
  scroll: boolean;
}

/**
 * `FETCH`/`MOVE [FORWARD|NEXT|n|ALL|FORWARD n|FORWARD ALL] [FROM|IN] name`. Backward and absolute
 * positioning throw 0A000 at classification, so the session only ever reads forward.
 */
export interface FetchCommand {
  kind: 'fetch';
  name: string;
  /** Rows to return (FETCH) or skip (MOVE): at least 1 for FETCH; MOVE 0 is a no-op; Infinity for ALL. */
  count: number;
  /** MOVE: position the cursor without returning rows (command tag `MOVE n`). */
  move: boolean;
}

/** `CLOSE name` or `CLOSE ALL`. */
export interface CloseCursorCommand {
  kind: 'closeCursor';
  name: string | 'all';
}

/** What the session does with one statement: answer it itself, or run `query.sql` on DuckDB. */
export type SessionCommand =
  | { kind: 'set'; name: string; value: string | null /* null = DEFAULT */; local: boolean }
  | { kind: 'reset'; name: string | 'all' }
  | { kind: 'show'; name: string | 'all' }
  | { kind: 'setTransaction'; isolation?: string; readOnly?: boolean; session: boolean }
  | { kind: 'begin'; isolation?: string; readOnly?: boolean }
  | { kind: 'commit' }
  | { kind: 'rollback' }
  | { kind: 'savepoint' | 'releaseSavepoint' | 'rollbackToSavepoint'; name: string }
  | { kind: 'discard'; what: 'all' | 'plans' | 'sequences' | 'temp' }
  | {
      kind: 'copyFromStdin';
      /** Quoted and qualified, ready for SQL. */
      table: string;
      /** The bare relation name, as PostgreSQL's COPY error context shows it. */
      relation: string;
      columns: string[] | null;
      options: CopyOptions;
    }
  | { kind: 'copyToStdout'; query: string; options: CopyOptions }
  | { kind: 'listen' | 'unlisten' | 'notify' }
  | { kind: 'deallocate'; name: string | 'all' }
  | DeclareCursorCommand
  | FetchCommand
  | CloseCursorCommand
  | { kind: 'query'; sql: string };

/** First words of every statement the session may answer itself; anything else goes to DuckDB unparsed. */
const SESSION_WORDS = new Set([
  'set',
  'reset',
  'show',
  'begin',
  'start',
  'commit',
  'end',
  'rollback',
  'abort',
  'savepoint',
  'release',
  'discard',
  'copy',
  'listen',
  'unlisten',
  'notify',
  'deallocate',
  'prepare',
  'declare',
  'fetch',
  'move',
  'close',
]);

/** DuckDB's own SHOW forms, which PostgreSQL's grammar reads as SHOW of a parameter. */
const DUCKDB_SHOW = new Set(['tables', 'databases']);

/** Parameters PostgreSQL lists with GUC_LIST_INPUT: several SET arguments are joined with `, `. */
const LIST_PARAMETERS = new Set([
  'search_path',
  'datestyle',
  'temp_tablespaces',
  'session_preload_libraries',
]);

function firstWord(sql: string): string | null {
  const lexer = new SqlLexer(sql);
  let kind = lexer.next();
  while (isComment(kind)) kind = lexer.next();
  return kind === TokenKind.Word ? lexer.text().toLowerCase() : null;
}

function syntaxError(message: string): PgError {
  return new PgError(SqlState.SyntaxError, message);
}

function notSupported(message: string, hint?: string): PgError {
  return new PgError(SqlState.FeatureNotSupported, message, hint ? { hint } : {});
}

/**
 * Decides whether the session answers a statement itself (SET, SHOW, transaction control, COPY to
 * and from the client, ...) or hands it to DuckDB. Statements are parsed with PostgreSQL's own
 * parser (libpg-query); a statement PostgreSQL cannot parse is DuckDB syntax (`FROM t`, `DESCRIBE`,
 * `PRAGMA`, `SUMMARIZE`) and goes to DuckDB unchanged, as does every statement whose first word
 * cannot start a session command, without any parse. SQL cursors (DECLARE, FETCH, MOVE, CLOSE) are
 * session commands too; a DECLARE's query is left as text for DuckDB. Throws a PgError for
 * PostgreSQL statements Mallard refuses (two-phase commit, COMMIT AND CHAIN, invalid COPY options,
 * backward FETCH) and for a DECLARE PostgreSQL's grammar rejects.
 */
export function classifyStatement(sql: string): SessionCommand {
  const word = firstWord(sql);
  if (word === null || !SESSION_WORDS.has(word)) return { kind: 'query', sql };
  // The cursor's query may be DuckDB-only SQL, which PostgreSQL's parser would reject.
  if (word === 'declare') return classifyDeclareCursor(sql);
  let stmt: Node | undefined;
  try {
    const parsed = parseSync(sql);
    if (parsed.stmts?.length !== 1) return { kind: 'query', sql };
    stmt = parsed.stmts[0]!.stmt;
  } catch {
    return { kind: 'query', sql };
  }
  if (!stmt) return { kind: 'query', sql };
  if ('VariableSetStmt' in stmt) return classifySet(stmt.VariableSetStmt);
  if ('VariableShowStmt' in stmt) {
    const name = stmt.VariableShowStmt.name ?? 'all';
    return DUCKDB_SHOW.has(name) ? { kind: 'query', sql } : { kind: 'show', name };
  }
  if ('TransactionStmt' in stmt) return classifyTransaction(stmt.TransactionStmt);
  if ('DiscardStmt' in stmt) {
    const target = stmt.DiscardStmt.target;
    if (target === 'DISCARD_PLANS') return { kind: 'discard', what: 'plans' };
    if (target === 'DISCARD_SEQUENCES') return { kind: 'discard', what: 'sequences' };
    if (target === 'DISCARD_TEMP') return { kind: 'discard', what: 'temp' };
    return { kind: 'discard', what: 'all' };
  }
  if ('CopyStmt' in stmt) return classifyCopy(stmt.CopyStmt, sql);
  if ('ListenStmt' in stmt) return { kind: 'listen' };
  if ('UnlistenStmt' in stmt) return { kind: 'unlisten' };
  if ('NotifyStmt' in stmt) return { kind: 'notify' };
  if ('DeallocateStmt' in stmt) {
    const d = stmt.DeallocateStmt;
    return { kind: 'deallocate', name: d.isall || d.name === undefined ? 'all' : d.name };
  }
  if ('FetchStmt' in stmt) return classifyFetch(stmt.FetchStmt);
  if ('ClosePortalStmt' in stmt)
    return { kind: 'closeCursor', name: stmt.ClosePortalStmt.portalname ?? 'all' };
  return { kind: 'query', sql };
}

function classifySet(s: VariableSetStmt): SessionCommand {
  const name = s.name ?? '';
  switch (s.kind) {
    case 'VAR_RESET_ALL':
      return { kind: 'reset', name: 'all' };
    case 'VAR_RESET':
      return { kind: 'reset', name };
    case 'VAR_SET_DEFAULT':
      return { kind: 'set', name, value: null, local: s.is_local === true };
    case 'VAR_SET_CURRENT':
      throw notSupported('SET ... FROM CURRENT is not supported');
    case 'VAR_SET_MULTI': {
      if (name === 'TRANSACTION' || name === 'SESSION CHARACTERISTICS') {
        const options = transactionOptions(s.args);
        return { kind: 'setTransaction', ...options, session: name !== 'TRANSACTION' };
      }
      throw notSupported(`SET ${name} is not supported`);
    }
    default:
      return { kind: 'set', name, value: flattenSetArgs(name, s.args ?? []), local: s.is_local === true };
  }
}

/** PostgreSQL's flatten_set_variable_args: the SET arguments as the one string the parameter receives. */
function flattenSetArgs(name: string, args: Node[]): string {
  const key = name.toLowerCase();
  if (args.length > 1 && !LIST_PARAMETERS.has(key)) throw syntaxError(`SET ${name} takes only one argument`);
  const parts: string[] = [];
  for (const arg of args) {
    if ('A_Const' in arg) {
      const c = arg.A_Const;
      if (c.sval)
        parts.push(key === 'search_path' ? quoteIdentifier(c.sval.sval ?? '') : (c.sval.sval ?? ''));
      else if (c.fval) parts.push(c.fval.fval ?? '0');
      else if (c.ival) parts.push(String(c.ival.ival ?? 0));
      else if (c.boolval) parts.push(c.boolval.boolval ? 'true' : 'false');
      else throw syntaxError(`invalid value for SET ${name}`);
    } else if ('TypeCast' in arg && key === 'timezone') {
      // SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE: an offset in hours, east positive.
      const inner = arg.TypeCast.arg;
      const text = inner && 'A_Const' in inner ? inner.A_Const.sval?.sval : undefined;
      const hours = text === undefined ? null : intervalHours(text);
      if (hours === null)
        throw new PgError(SqlState.InvalidParameterValue, `invalid interval value for time zone: "${text}"`);
      parts.push(String(hours));
    } else {
      throw syntaxError(`invalid value for SET ${name}`);
    }
  }
  return parts.join(', ');
}

/** `[+-]hh[:mm]` as a number of hours; the only interval form SET TIME ZONE INTERVAL needs. */
function intervalHours(text: string): number | null {
  const t = text.trim();
  let i = 0;
  let sign = 1;
  if (t[0] === '+' || t[0] === '-') {
    sign = t[0] === '-' ? -1 : 1;
    i++;
  }
  const [h, m = '0', rest] = t.slice(i).split(':');
  if (rest !== undefined || !isDigits(h ?? '') || !isDigits(m)) return null;
  return sign * (Number(h) + Number(m) / 60);
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** PostgreSQL's quote_identifier, minus the keyword check: quotes unless lower-case letters, digits, `_`. */
export function quoteIdentifier(name: string): string {
  let safe = name.length > 0 && ((name[0]! >= 'a' && name[0]! <= 'z') || name[0] === '_');
  for (let i = 0; safe && i < name.length; i++) {
    const ch = name[i]!;
    safe = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch === '_';
  }
  return safe ? name : `"${name.replaceAll('"', '""')}"`;
}

/** Always quoted: DuckDB matches quoted identifiers case-insensitively, so this never changes meaning. */
function quoteAlways(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function transactionOptions(args: Node[] | undefined): { isolation?: string; readOnly?: boolean } {
  const out: { isolation?: string; readOnly?: boolean } = {};
  for (const arg of args ?? []) {
    if (!('DefElem' in arg)) continue;
    const d = arg.DefElem;
    const value = d.arg && 'A_Const' in d.arg ? d.arg.A_Const : undefined;
    if (d.defname === 'transaction_isolation') out.isolation = value?.sval?.sval ?? '';
    else if (d.defname === 'transaction_read_only') out.readOnly = (value?.ival?.ival ?? 0) !== 0;
    // transaction_deferrable only matters to SERIALIZABLE READ ONLY, which Mallard refuses.
  }
  return out;
}

function classifyTransaction(t: TransactionStmt): SessionCommand {
  switch (t.kind) {
    case 'TRANS_STMT_BEGIN':
    case 'TRANS_STMT_START':
      return { kind: 'begin', ...transactionOptions(t.options) };
    case 'TRANS_STMT_COMMIT':
    case 'TRANS_STMT_ROLLBACK':
      if (t.chain)
        throw notSupported(
          `${t.kind === 'TRANS_STMT_COMMIT' ? 'COMMIT' : 'ROLLBACK'} AND CHAIN is not supported`,
        );
      return { kind: t.kind === 'TRANS_STMT_COMMIT' ? 'commit' : 'rollback' };
    case 'TRANS_STMT_SAVEPOINT':
      return { kind: 'savepoint', name: t.savepoint_name ?? '' };
    case 'TRANS_STMT_RELEASE':
      return { kind: 'releaseSavepoint', name: t.savepoint_name ?? '' };
    case 'TRANS_STMT_ROLLBACK_TO':
      return { kind: 'rollbackToSavepoint', name: t.savepoint_name ?? '' };
    default:
      throw notSupported('prepared transactions (two-phase commit) are not supported');
  }
}

function tableName(r: RangeVar): string {
  return [r.catalogname, r.schemaname, r.relname]
    .filter((p): p is string => p !== undefined && p !== '')
    .map(quoteAlways)
    .join('.');
}

function strings(nodes: Node[] | undefined): string[] {
  return (nodes ?? []).map((n) => ('String' in n ? (n.String.sval ?? '') : ''));
}

function classifyCopy(c: CopyStmt, sql: string): SessionCommand {
  // A file name or PROGRAM is a server-side COPY: DuckDB runs it and the sandbox decides.
  if (c.filename !== undefined || c.is_program) return { kind: 'query', sql };
  if (c.whereClause) throw notSupported('COPY FROM ... WHERE is not supported');
  const options = copyOptions(c.options ?? [], c.is_from === true);
  const columns = c.attlist?.length ? strings(c.attlist) : null;
  if (c.is_from) {
    if (!c.relation) throw syntaxError('COPY FROM needs a table');
    return {
      kind: 'copyFromStdin',
      table: tableName(c.relation),
      relation: c.relation.relname ?? '',
      columns,
      options,
    };
  }
  if (c.relation) {
    const list = columns ? columns.map(quoteAlways).join(', ') : '*';
    return { kind: 'copyToStdout', query: `SELECT ${list} FROM ${tableName(c.relation)}`, options };
  }
  return { kind: 'copyToStdout', query: parenthesisedQuery(sql), options };
}

/** The text inside `COPY ( ... )`, found with the lexer so parentheses in strings do not count. */
function parenthesisedQuery(sql: string): string {
  const lexer = new SqlLexer(sql);
  let depth = 0;
  let start = -1;
  for (let kind = lexer.next(); kind !== TokenKind.End; kind = lexer.next()) {
    if (kind === TokenKind.OpenParen) {
      if (depth++ === 0) start = lexer.end;
    } else if (kind === TokenKind.CloseParen && --depth === 0) {
      return sql.slice(start, lexer.start).trim();
    }
  }
  throw syntaxError('COPY query is not parenthesised');
}

function optionString(d: DefElem): string | undefined {
  const a = d.arg;
  if (!a) return undefined;
  if ('String' in a) return a.String.sval ?? '';
  if ('Integer' in a) return String(a.Integer.ival ?? 0);
  if ('Boolean' in a) return a.Boolean.boolval ? 'true' : 'false';
  if ('A_Const' in a) return a.A_Const.sval?.sval;
  return undefined;
}

function optionColumns(d: DefElem): string[] | '*' {
  const a = d.arg;
  if (a && 'A_Star' in a) return '*';
  if (a && 'List' in a) return strings(a.List.items);
  throw new PgError(SqlState.SyntaxError, `argument to option "${d.defname}" must be a list of column names`);
}

function optionBool(d: DefElem): boolean {
  const v = optionString(d);
  if (v === undefined) return true;
  const t = v.toLowerCase();
  if (['true', 'on', '1'].includes(t)) return true;
  if (['false', 'off', '0'].includes(t)) return false;
  if (t === 'match' && d.defname === 'header') throw notSupported('COPY HEADER MATCH is not supported');
  throw new PgError(SqlState.SyntaxError, `${d.defname} requires a Boolean value`);
}

function singleChar(name: string, value: string): string {
  if (value.length !== 1 || value.charCodeAt(0) > 127)
    throw notSupported(`COPY ${name} must be a single one-byte character`);
  return value;
}

/**
 * COPY's option list, old style (`WITH CSV HEADER DELIMITER ','`) and new (`(FORMAT csv, HEADER)`),
 * which PostgreSQL's grammar already turns into the same DefElems; checked as ProcessCopyOptions does.
 */
function copyOptions(defs: Node[], isFrom: boolean): CopyOptions {
  const seen = new Set<string>();
  let format: CopyOptions['format'] = 'text';
  const o: Partial<CopyOptions> = {};
  let header = false;
  for (const node of defs) {
    if (!('DefElem' in node)) continue;
    const d = node.DefElem;
    const name = d.defname ?? '';
    if (seen.has(name)) throw syntaxError('conflicting or redundant options');
    seen.add(name);
    switch (name) {
      case 'format': {
        const f = (optionString(d) ?? '').toLowerCase();
        if (f !== 'text' && f !== 'csv' && f !== 'binary')
          throw new PgError(SqlState.InvalidParameterValue, `COPY format "${f}" not recognized`);
        format = f;
        break;
      }
      case 'delimiter':
        o.delimiter = optionString(d) ?? '';
        break;
      case 'null':
        o.null = optionString(d) ?? '';
        break;
      case 'header':
        header = optionBool(d);
        break;
      case 'quote':
        o.quote = optionString(d) ?? '';
        break;
      case 'escape':
        o.escape = optionString(d) ?? '';
        break;
      case 'force_quote':
        o.forceQuote = optionColumns(d);
        break;
      case 'force_not_null':
        o.forceNotNull = optionColumns(d);
        break;
      case 'force_null':
        o.forceNull = optionColumns(d);
        break;
      case 'encoding':
        o.encoding = optionString(d) ?? '';
        break;
      case 'freeze':
        // A loading hint about visibility; meaningless for DuckDB, accepted as PostgreSQL accepts it.
        optionBool(d);
        break;
      case 'on_error':
        if ((optionString(d) ?? '').toLowerCase() !== 'stop')
          throw notSupported('COPY ON_ERROR other than stop is not supported');
        break;
      case 'default':
        throw notSupported('COPY DEFAULT is not supported');
      default:
        throw syntaxError(`option "${name}" not recognized`);
    }
  }
  if (format === 'binary') {
    for (const n of ['delimiter', 'null', 'quote', 'escape'] as const) {
      if (o[n] !== undefined) throw syntaxError(`cannot specify ${n.toUpperCase()} in BINARY mode`);
    }
    if (header) throw notSupported('cannot specify HEADER in BINARY mode');
  }
  const csv = format === 'csv';
  if (!csv) {
    if (o.quote !== undefined) throw notSupported('COPY quote available only in CSV mode');
    if (o.escape !== undefined) throw notSupported('COPY escape available only in CSV mode');
    if (o.forceQuote) throw notSupported('COPY force quote available only in CSV mode');
    if (o.forceNotNull) throw notSupported('COPY force not null available only in CSV mode');
    if (o.forceNull) throw notSupported('COPY force null available only in CSV mode');
  }
  if (o.forceQuote && isFrom) throw notSupported('COPY force quote only available using COPY TO');
  if (o.forceNotNull && !isFrom) throw notSupported('COPY force not null only available using COPY FROM');
  if (o.forceNull && !isFrom) throw notSupported('COPY force null only available using COPY FROM');
  const options: CopyOptions = { format, header };
  if (format !== 'binary') {
    options.delimiter = singleChar('delimiter', o.delimiter ?? (csv ? ',' : '\t'));
    if (options.delimiter === '\n' || options.delimiter === '\r')
      throw new PgError(
        SqlState.InvalidParameterValue,
        'COPY delimiter cannot be newline or carriage return',
      );
    options.null = o.null ?? (csv ? '' : '\\N');
    if (options.null.includes('\n') || options.null.includes('\r'))
      throw new PgError(
        SqlState.InvalidParameterValue,
        'COPY null representation cannot use newline or carriage return',
      );
    if (
      !csv &&
      (options.delimiter === '\\' || 'abcdefghijklmnopqrstuvwxyz0123456789.'.includes(options.delimiter))
    )
      throw new PgError(SqlState.InvalidParameterValue, `COPY delimiter cannot be "${options.delimiter}"`);
    if (options.null.includes(options.delimiter))
      throw new PgError(
        SqlState.InvalidParameterValue,
        'COPY delimiter must not appear in the NULL specification',
      );
  }
  if (csv) {
    options.quote = singleChar('quote', o.quote ?? '"');
    options.escape = singleChar('escape', o.escape ?? options.quote);
    if (options.quote === options.delimiter)
      throw new PgError(SqlState.InvalidParameterValue, 'COPY delimiter and quote must be different');
    if (options.null!.includes(options.quote))
      throw new PgError(
        SqlState.InvalidParameterValue,
        'CSV quote character must not appear in the NULL specification',
      );
  }
  if (o.forceQuote) options.forceQuote = o.forceQuote;
  if (o.forceNotNull) options.forceNotNull = o.forceNotNull;
  if (o.forceNull) options.forceNull = o.forceNull;
  if (o.encoding !== undefined) options.encoding = o.encoding;
  return options;
}
