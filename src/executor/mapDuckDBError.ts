import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState, type SqlStateCode } from '../../protocol/pg/sqlstate.js';
import { byteToIndex } from './scanStatement.js';

/** PostgreSQL's message for a statement cancelled by a CancelRequest. */
export const USER_CANCEL_MESSAGE = 'canceling statement due to user request';

/** What mapDuckDBError needs to know about the statement that failed. */
export interface ErrorContext {
  /** The SQL DuckDB ran: its error positions are UTF-8 byte offsets into this text. */
  readonly sql?: string;
  /** Maps a UTF-16 index in `sql` back to the client's statement when the executor rewrote it. */
  readonly toOriginal?: (index: number) => number;
  /** The client's statement, for counting the position in characters. Defaults to `sql`. */
  readonly originalSql?: string;
  /** Message for an interrupted statement; PostgreSQL's user-cancel message by default. */
  readonly cancelMessage?: string;
}

/** A DuckDB error as the engine reports it with `errors_as_json`. */
interface DuckDBErrorInfo {
  readonly type: string;
  readonly message: string;
  readonly subtype?: string;
  /** Byte offset into the statement. */
  readonly position?: number;
  /** The catalog entry kind for catalog errors: `Table`, `Scalar Function`, ... */
  readonly entryType?: string;
}

/**
 * Turns whatever DuckDB (or @duckdb/node-api) threw into a PgError with a real SQLSTATE. The
 * message loses DuckDB's `Xxx Error: ` prefix and keeps its first line; the rest (`Did you mean`,
 * candidate lists) becomes the hint, and the error position travels in its own field as PostgreSQL's
 * 1-based character index into the statement.
 */
export function mapDuckDBError(error: unknown, context: ErrorContext = {}): PgError {
  if (error instanceof PgError) return error;
  const raw = error instanceof Error ? error.message : String(error);
  const info = parseDuckDBError(raw);
  if (!info) return new PgError(SqlState.InternalError, raw, {}, { cause: error });
  if (info.type === 'INTERRUPT') {
    return new PgError(
      SqlState.QueryCanceled,
      context.cancelMessage ?? USER_CANCEL_MESSAGE,
      {},
      { cause: error },
    );
  }
  const newline = info.message.indexOf('\n');
  const message = newline < 0 ? info.message : info.message.slice(0, newline);
  const hint = newline < 0 ? undefined : info.message.slice(newline + 1).trim() || undefined;
  const position = info.position === undefined ? undefined : characterPosition(info.position, context);
  const code = sqlStateFor(info);
  if (code === SqlState.InsufficientPrivilege && message.includes('configuration has been locked')) {
    // PostgreSQL's wording for a setting the role may not change.
    const name = between(message, '"', '"') ?? '';
    return new PgError(
      code,
      `permission denied to set parameter "${name}"`,
      { hint: 'DuckDB settings belong to the Mallard server.' },
      { cause: error },
    );
  }
  return new PgError(code, message, { hint, position }, { cause: error });
}

function parseDuckDBError(raw: string): DuckDBErrorInfo | null {
  const json = raw.startsWith('{')
    ? raw
    : raw.includes(' Error: {')
      ? raw.slice(raw.indexOf(': {') + 2)
      : null;
  if (json !== null) {
    try {
      const fields = JSON.parse(json) as Record<string, string | undefined>;
      if (typeof fields.exception_type === 'string') {
        return {
          type: fields.exception_type,
          message: fields.exception_message ?? '',
          subtype: fields.error_subtype,
          position: fields.position === undefined ? undefined : Number(fields.position),
          entryType: fields.type,
        };
      }
    } catch {
      // Not JSON after all; read it as DuckDB's plain format below.
    }
  }
  // Without errors_as_json: `Catalog Error: message\n\nLINE 1: ...`. The LINE context stays out of M.
  const prefixEnd = raw.indexOf(' Error: ');
  if (prefixEnd <= 0 || raw.slice(0, prefixEnd).includes('\n')) return null;
  const body = raw.slice(prefixEnd + ' Error: '.length);
  const context = body.indexOf('\n\nLINE ');
  return { type: raw.slice(0, prefixEnd), message: context < 0 ? body : body.slice(0, context) };
}

function sqlStateFor(info: DuckDBErrorInfo): SqlStateCode {
  const m = info.message;
  switch (info.type) {
    case 'Parser':
    case 'Syntax':
      return SqlState.SyntaxError;
    case 'Catalog':
      return catalogState(info);
    case 'Binder':
      if (info.subtype === 'COLUMN_NOT_FOUND' || m.includes('does not have a column named')) {
        return SqlState.UndefinedColumn;
      }
      if (info.subtype === 'NO_MATCHING_FUNCTION' || m.startsWith('No function matches')) {
        return SqlState.UndefinedFunction;
      }
      if (m.startsWith('Could not choose a best candidate function')) return SqlState.AmbiguousFunction;
      if (m.includes('must appear in the GROUP BY clause')) return SqlState.GroupingError;
      if (m.includes('is ambiguous')) return SqlState.AmbiguousColumn;
      return SqlState.SyntaxErrorOrAccessRuleViolation;
    case 'Conversion':
      if (m.includes('out of range'))
        return m.startsWith('date') ? SqlState.DatetimeFieldOverflow : rangeState(m);
      if (m.startsWith('invalid date') || m.startsWith('invalid timestamp'))
        return SqlState.InvalidDatetimeFormat;
      return SqlState.InvalidTextRepresentation;
    case 'Out of Range':
      return rangeState(m);
    case 'Divide by Zero':
      return SqlState.DivisionByZero;
    case 'Constraint':
      return constraintState(m);
    case 'TransactionContext':
      return transactionState(m);
    case 'Not implemented':
      return SqlState.FeatureNotSupported;
    case 'Out of Memory':
      return SqlState.OutOfMemory;
    case 'Permission':
      return SqlState.InsufficientPrivilege;
    case 'Dependency':
      return SqlState.DependentObjectsStillExist;
    case 'Mismatch Type':
    case 'Invalid type':
      return SqlState.DatatypeMismatch;
    case 'Parameter Not Resolved':
      return SqlState.IndeterminateDatatype;
    case 'IO':
      return SqlState.IoError;
    case 'Invalid Input':
      // src/sql/compatSchema.ts's pg_div/pg_mod raise error('division by zero') for a zero divisor.
      if (m === 'division by zero') return SqlState.DivisionByZero;
      if (m.includes('configuration has been locked')) return SqlState.InsufficientPrivilege;
      if (m.startsWith('More than one row returned by a subquery')) return SqlState.CardinalityViolation;
      if (m.includes('Cannot prepare multiple statements')) return SqlState.SyntaxError;
      return SqlState.InvalidParameterValue;
    default:
      return SqlState.InternalError;
  }
}

function catalogState(info: DuckDBErrorInfo): SqlStateCode {
  const m = info.message;
  const kind = info.entryType ?? m.slice(0, m.indexOf(' with name '));
  if (info.subtype === 'ENTRY_ALREADY_EXISTS' || m.includes('already exists')) {
    if (kind === 'Schema') return SqlState.DuplicateSchema;
    if (kind.endsWith('Function') || kind.endsWith('Macro')) return SqlState.DuplicateFunction;
    if (kind === 'Table' || kind === 'View' || kind === 'Sequence' || kind === 'Index')
      return SqlState.DuplicateTable;
    return SqlState.DuplicateObject;
  }
  if (info.subtype === 'MISSING_ENTRY' || m.includes('does not exist')) {
    if (kind === 'Table' || kind === 'View' || kind === 'Sequence') return SqlState.UndefinedTable;
    if (kind.endsWith('Function') || kind.endsWith('Macro')) return SqlState.UndefinedFunction;
    if (kind === 'Schema') return SqlState.InvalidSchemaName;
    return SqlState.UndefinedObject;
  }
  // `... because this table is main key table of the table "child"`: a foreign key depends on it.
  if (m.includes('depend on it') || m.includes('main key table')) return SqlState.DependentObjectsStillExist;
  return SqlState.SyntaxErrorOrAccessRuleViolation;
}

function rangeState(message: string): SqlStateCode {
  // DuckDB spells it "divison" in `log(1, x)`; both spellings mean PostgreSQL's 22012.
  return message.includes('by zero') ? SqlState.DivisionByZero : SqlState.NumericValueOutOfRange;
}

function constraintState(message: string): SqlStateCode {
  if (message.startsWith('NOT NULL constraint')) return SqlState.NotNullViolation;
  if (message.startsWith('CHECK constraint')) return SqlState.CheckViolation;
  if (message.includes('foreign key')) return SqlState.ForeignKeyViolation;
  if (message.includes('Duplicate key') || message.includes('PRIMARY KEY or UNIQUE'))
    return SqlState.UniqueViolation;
  return SqlState.IntegrityConstraintViolation;
}

function transactionState(message: string): SqlStateCode {
  if (message.includes('transaction is aborted')) return SqlState.InFailedSqlTransaction;
  if (message.includes('constraint violation')) return SqlState.UniqueViolation;
  if (message.includes('onflict')) return SqlState.SerializationFailure;
  if (message.includes('within a transaction')) return SqlState.ActiveSqlTransaction;
  if (message.includes('no transaction is active')) return SqlState.NoActiveSqlTransaction;
  return SqlState.InvalidTransactionState;
}

function characterPosition(byteOffset: number, context: ErrorContext): number | undefined {
  if (!Number.isFinite(byteOffset) || context.sql === undefined) return undefined;
  let index = byteToIndex(context.sql)(byteOffset);
  if (context.toOriginal) index = context.toOriginal(index);
  const original = context.originalSql ?? context.sql;
  // PostgreSQL counts characters (code points), starting at 1.
  return Array.from(original.slice(0, index)).length + 1;
}

function between(text: string, open: string, close: string): string | undefined {
  const from = text.indexOf(open);
  const to = text.indexOf(close, from + 1);
  return from < 0 || to < 0 ? undefined : text.slice(from + 1, to);
}

/** mapDuckDBError without statement context: for errors raised outside a statement. */
export function toPgError(error: unknown): PgError {
  return mapDuckDBError(error);
}
