import { StatementType } from '@duckdb/node-api';
import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import { innerStatementStart, type SqlToken } from './scanStatement.js';

/** Statement kinds that write files or change what the engine can reach; refused whatever their target. */
const REFUSED_TYPES: ReadonlyMap<StatementType, string> = new Map([
  [StatementType.EXPORT, 'EXPORT DATABASE is not allowed'],
  [StatementType.ATTACH, 'ATTACH is not allowed'],
  [StatementType.DETACH, 'DETACH is not allowed'],
  [StatementType.LOAD, 'installing or loading DuckDB extensions is not allowed'],
  [StatementType.EXTENSION, 'installing or loading DuckDB extensions is not allowed'],
  [StatementType.UPDATE_EXTENSIONS, 'updating DuckDB extensions is not allowed'],
  [StatementType.COPY_DATABASE, 'COPY FROM DATABASE is not allowed'],
]);

/**
 * Leading keywords refused before DuckDB sees the statement: preparing some of them already acts
 * (preparing EXPORT DATABASE creates its directory, IMPORT DATABASE reads its files at prepare).
 */
const REFUSED_LEADING: ReadonlyMap<string, string> = new Map([
  ['export', 'EXPORT DATABASE is not allowed'],
  ['import', 'IMPORT DATABASE is not allowed'],
  ['attach', 'ATTACH is not allowed'],
  ['detach', 'DETACH is not allowed'],
  ['install', 'installing or loading DuckDB extensions is not allowed'],
  ['load', 'installing or loading DuckDB extensions is not allowed'],
]);

/**
 * Table functions with engine-wide side effects, refused wherever they are called (CALL or FROM).
 * `enable_logging(storage='file', storage_path=...)` is accepted even by a locked configuration and
 * then fails every later query of every session, and aborts the process at shutdown.
 */
const REFUSED_FUNCTIONS: ReadonlySet<string> = new Set([
  'enable_logging',
  'disable_logging',
  'truncate_duckdb_logs',
  'enable_profiling',
  'disable_profiling',
  'enable_peg_parser',
  'disable_peg_parser',
]);

/** Settings a session may change itself: they only affect its own connection. */
const SESSION_SETTINGS: ReadonlySet<string> = new Set(['search_path', 'schema']);

/** PRAGMAs that only answer a question (DuckDB rewrites them into a SELECT); every other one is refused. */
const QUERY_PRAGMAS: ReadonlySet<string> = new Set([
  'collations',
  'database_list',
  'database_size',
  'functions',
  'metadata_info',
  'platform',
  'show',
  'show_databases',
  'show_tables',
  'show_tables_expanded',
  'storage_info',
  'table_info',
  'user_agent',
  'version',
  'extension_versions',
]);

/**
 * The executor's half of the sandbox. DuckDB itself refuses files outside the allowed directories
 * (`enable_external_access = false`) and, once that is off, any change to the file sandbox settings;
 * what it still allows is refused here: changing settings (SET, RESET, PRAGMA x = y), writing files
 * (COPY TO, EXPORT), reaching other databases (ATTACH), extensions, functions with engine-wide side
 * effects, and naming the database's own files, which DuckDB always keeps readable.
 */
export class Sandbox {
  /**
   * @param protectedNames file names (not paths) that no statement may mention: the database file,
   *   whose name prefixes its WAL and temp directory too.
   * @param pragmaFunctions DuckDB's pragma function names, refused through CALL as through PRAGMA.
   */
  constructor(
    private readonly protectedNames: readonly string[],
    private readonly pragmaFunctions: ReadonlySet<string>,
  ) {}

  /** Checks a statement's tokens before DuckDB prepares it. Throws PgError 42501. */
  checkTokens(tokens: readonly SqlToken[]): void {
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i];
      if (token.kind === 'string') this.checkText(token.value);
      else if (REFUSED_FUNCTIONS.has(token.value.toLowerCase()) && tokens[i + 1]?.text === '(') {
        throw denied(`${token.value.toLowerCase()}() is not allowed`);
      }
    }
    const at = innerStatementStart(tokens);
    const lead = tokens[at];
    if (!lead) return;
    const word = lead.value;
    const refused = REFUSED_LEADING.get(word);
    if (refused) throw denied(refused);
    if (word === 'force' && tokens[at + 1]?.value === 'install')
      throw denied(REFUSED_LEADING.get('install')!);
    if (word === 'copy') this.checkCopy(tokens, at);
    if (word === 'pragma' || word === 'call') {
      // The function is the name right before the argument list: `CALL system.main.enable_profiling()`.
      const open = tokens.findIndex((t, i) => i > at && t.text === '(');
      const name = tokens[open < 0 ? at + 1 : open - 1]?.value ?? '';
      if (word === 'call' ? this.pragmaFunctions.has(name) : !QUERY_PRAGMAS.has(name)) {
        throw denied(`PRAGMA ${name} is not allowed`);
      }
    }
  }

  /** Checks what DuckDB made of the statement. Throws PgError 42501. */
  checkPrepared(type: StatementType, tokens: readonly SqlToken[]): void {
    const refused = REFUSED_TYPES.get(type);
    if (refused) throw denied(refused);
    if (type === StatementType.PRAGMA) throw denied('this PRAGMA is not allowed');
    if (type === StatementType.COPY) this.checkCopy(tokens, innerStatementStart(tokens));
    if (type === StatementType.SET || type === StatementType.VARIABLE_SET) checkSet(tokens);
  }

  /** Parameters reach table functions too (`read_blob($1)`): their text gets the same check as literals. */
  checkParameters(values: readonly unknown[]): void {
    for (const value of values) if (typeof value === 'string') this.checkText(value);
  }

  /**
   * Refuses text that names a database file as a path: some path segment starts with the file's name
   * (`/data/./mallard.duckdb.wal`, `file:///data/mallard.duckdb`, a relative `mallard.duckdb`). Prose
   * that merely mentions the name is left alone. Globs cannot reach the files: the data directory is
   * not an allowed directory, so DuckDB refuses to list it.
   */
  private checkText(text: string): void {
    const lower = text.toLowerCase();
    for (const name of this.protectedNames) {
      if (lower.includes(name) && lower.split('/').some((segment) => segment.startsWith(name))) {
        throw denied('access to the database files is not allowed');
      }
    }
  }

  private checkCopy(tokens: readonly SqlToken[], at: number): void {
    // COPY's direction is the first top-level TO or FROM; COPY FROM DATABASE copies a whole catalog.
    const direction = tokens.findIndex(
      (t, i) => i > at && t.depth === 0 && t.kind === 'keyword' && (t.value === 'to' || t.value === 'from'),
    );
    if (direction < 0 || tokens[direction].value === 'to') {
      throw denied(
        'COPY to a file is not allowed',
        'Use COPY ... TO STDOUT to receive the data through the client.',
      );
    }
    if (tokens[direction + 1]?.value === 'database') throw denied('COPY FROM DATABASE is not allowed');
  }
}

/**
 * SET and RESET may touch only the session's own search path and variables; DuckDB settings are the
 * server's. (The session layer answers PostgreSQL's SET itself and mirrors TimeZone through
 * LocalExecutor.setTimeZone.) `USE` is DuckDB's per-connection default catalog and schema.
 */
function checkSet(tokens: readonly SqlToken[]): void {
  const lead = tokens[0]?.value;
  if (lead === 'use') return;
  let i = 1;
  const scope = tokens[i]?.value;
  if (scope === 'session' || scope === 'local' || scope === 'global') i++;
  if (tokens[i]?.value === 'variable' && scope !== 'global') return;
  const name = tokens[i]?.value ?? '';
  if (scope !== 'global' && SESSION_SETTINGS.has(name.toLowerCase())) return;
  throw new PgError(SqlState.InsufficientPrivilege, `permission denied to set parameter "${name}"`, {
    hint: 'DuckDB settings belong to the Mallard server.',
  });
}

function denied(message: string, hint?: string): PgError {
  return new PgError(SqlState.InsufficientPrivilege, `permission denied: ${message}`, hint ? { hint } : {});
}
