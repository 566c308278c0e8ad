import { PgError } from '../pg/PgError.js';
import { SqlState, type SqlStateCode } from '../pg/sqlstate.js';
import type { TaskFailure, TaskFailureKind } from './messages.js';
import { DIVISION_BY_ZERO_MESSAGE } from './taskDialect.js';

/**
 * Errors of the distributed runtime. Each is a PgError, so a session turns it into one ErrorResponse with
 * a real SQLSTATE and nothing else to translate.
 */
export class ClusterError extends PgError {
  constructor(code: SqlStateCode, message: string, options?: ErrorOptions) {
    super(code, message, {}, options);
    this.name = 'ClusterError';
  }
}

/** No live worker was available to run a query's tasks within the configured wait. */
export class NoWorkersError extends ClusterError {
  constructor(cluster: string, waitedMs: number) {
    super(
      SqlState.InsufficientResources,
      `no workers available: no live worker on cluster "${cluster}" took the query's tasks within ${waitedMs} ms`,
    );
    this.name = 'NoWorkersError';
  }
}

/** A query stopped by cancel(), a CancelRequest, statement_timeout or a client disconnect. */
export class QueryCanceledError extends ClusterError {
  constructor(reason = 'canceling statement due to user request') {
    super(SqlState.QueryCanceled, reason);
    this.name = 'QueryCanceledError';
  }
}

/** A malformed or incompatible message on the cluster's subjects; logged and dropped, never executed. */
export class ClusterProtocolError extends ClusterError {
  constructor(message: string, options?: ErrorOptions) {
    super(SqlState.InternalError, message, options);
    this.name = 'ClusterProtocolError';
  }
}

/** A task that failed the query: it failed the same way on every attempt, or ran out of attempts. */
export class TaskError extends ClusterError {
  readonly queryId: string;
  readonly taskId: number;
  /** Every attempt's failure, oldest first. */
  readonly failures: readonly TaskFailure[];

  constructor(queryId: string, taskId: number, failures: readonly TaskFailure[]) {
    const last = failures[failures.length - 1] ?? { kind: 'internal', message: 'unknown failure' };
    super(sqlStateOfFailure(last), messageOfFailure(last));
    this.name = 'TaskError';
    this.queryId = queryId;
    this.taskId = taskId;
    this.failures = failures;
  }
}

/**
 * DuckDB prefixes its messages with the error class ("Binder Error: ..."); the clear-cut classes map to
 * PostgreSQL's codes, everything else is an internal error.
 */
const DUCKDB_ERROR_CLASSES: ReadonlyMap<string, SqlStateCode> = new Map<string, SqlStateCode>([
  ['Parser Error', SqlState.SyntaxError],
  ['Binder Error', SqlState.SyntaxErrorOrAccessRuleViolation],
  ['Catalog Error', SqlState.UndefinedObject],
  ['Conversion Error', SqlState.InvalidTextRepresentation],
  ['Invalid Input Error', SqlState.InvalidParameterValue],
  ['Out of Range Error', SqlState.NumericValueOutOfRange],
  ['Out of Memory Error', SqlState.OutOfMemory],
  ['Permission Error', SqlState.InsufficientPrivilege],
  ['INTERRUPT Error', SqlState.QueryCanceled],
]);

const FAILURE_KIND_CODES: Record<TaskFailureKind, SqlStateCode> = {
  sql: SqlState.InternalError,
  rejected: SqlState.FeatureNotSupported,
  canceled: SqlState.QueryCanceled,
  deadline: SqlState.QueryCanceled,
  'handed-back': SqlState.SystemError,
  lost: SqlState.SystemError,
  internal: SqlState.InternalError,
};

/** The SQLSTATE a client sees for a task failure. */
/** What a client sees of a failure: a SQL error's text without DuckDB's class prefix, as PostgreSQL words it. */
export function messageOfFailure(failure: TaskFailure): string {
  if (failure.kind !== 'sql') return failure.message;
  const colon = failure.message.indexOf(': ');
  if (colon > 0 && DUCKDB_ERROR_CLASSES.has(failure.message.slice(0, colon)))
    return failure.message.slice(colon + 2);
  return failure.message;
}

export function sqlStateOfFailure(failure: TaskFailure): SqlStateCode {
  if (failure.kind === 'sql') {
    const colon = failure.message.indexOf(': ');
    // The task dialect's division macros raise PostgreSQL's own message through DuckDB's error().
    if (colon > 0 && failure.message.slice(colon + 2) === DIVISION_BY_ZERO_MESSAGE)
      return SqlState.DivisionByZero;
    const mapped = colon > 0 ? DUCKDB_ERROR_CLASSES.get(failure.message.slice(0, colon)) : undefined;
    if (mapped) return mapped;
  }
  return FAILURE_KIND_CODES[failure.kind];
}

/** Why a transport operation failed. */
export type TransportFailure = 'timeout' | 'no-responders' | 'closed' | 'payload-too-large';

/** A publish, subscribe or request the transport could not carry out. */
export class TransportError extends ClusterError {
  readonly failure: TransportFailure;

  constructor(failure: TransportFailure, message: string, options?: ErrorOptions) {
    super(SqlState.ConnectionFailure, message, options);
    this.name = 'TransportError';
    this.failure = failure;
  }
}
