import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';

/**
 * The seam between a Postgres session and whatever runs its SQL. Today the coordinator's own DuckDB
 * (LocalExecutor); later the distributed planner, behind the same interface.
 */

/** One column of a batch; @duckdb/node-api's DuckDBVector satisfies it, and Arrow vectors are adapted. */
export interface Column {
  readonly itemCount: number;
  getItem(index: number): unknown;
}

/** Rows travel column by column, as DuckDB produces them. */
export interface ColumnBatch {
  readonly rowCount: number;
  readonly columns: readonly Column[];
}

export interface ResultColumn {
  readonly name: string;
  readonly type: DuckDBType;
}

/** A statement that has been parsed and bound to types, ready to execute any number of times. */
export interface PreparedQuery {
  /** The CommandComplete tag without a row count, e.g. `SELECT`, `INSERT 0`, `CREATE TABLE`. */
  readonly tag: string;
  /** True when the tag takes a row count (`SELECT 3`, `INSERT 0 3`, `UPDATE 2`). */
  readonly tagHasCount: boolean;
  /** Parameter types, inferred by DuckDB where the client sent none. */
  readonly paramTypes: readonly DuckDBType[];
  /** Result columns; empty when the statement returns no rows (NoData). */
  readonly columns: readonly ResultColumn[];
  /** Runs the statement. The returned cursor is pulled batch by batch: that is the backpressure. */
  execute(params: readonly DuckDBValue[]): Promise<QueryCursor>;
  close(): void;
}

export interface QueryCursor {
  readonly columns: readonly ResultColumn[];
  /** The next batch, or null when done. Rejects with a PgError on failure or cancellation. */
  next(): Promise<ColumnBatch | null>;
  /**
   * For statements without a result set: rows inserted, updated, deleted or copied, known once execute()
   * resolves (and the rows stored by CREATE TABLE AS). For statements that return rows (SELECT,
   * INSERT ... RETURNING): the number of rows returned by next() so far.
   */
  readonly rowsChanged: number;
  /** Stops the statement early; idempotent. */
  close(): void;
}

/** One per session. Holds that session's connection, transaction and settings. */
export interface SessionExecutor {
  /** Prepares one SQL statement. `paramTypeHints[i]` is the client's declared type, or null to infer. */
  prepare(sql: string, paramTypeHints: readonly (DuckDBType | null)[]): Promise<PreparedQuery>;
  /**
   * Interrupts whatever this session is running (CancelRequest, statement_timeout, disconnect): the
   * running prepare, execute or next() rejects with PgError 57014 carrying `message`, by default
   * PostgreSQL's `canceling statement due to user request`.
   */
  interrupt(message?: string): void;
  /**
   * Mirrors the session's TimeZone into DuckDB (null: no ICU equivalent, keep UTC) so timestamptz
   * casts and functions agree with what the codecs print. Optional: executors without it stay in UTC.
   */
  setTimeZone?(zone: string | null): Promise<void>;
  /**
   * Runs `work` on the session's own DuckDB connection, between its statements. Optional: only the
   * coordinator's LocalExecutor has one; the distributed runtime stages task results through it.
   */
  withConnection?<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T>;
  /** Parses without binding or running: rejects with a 42601 PgError (with position) on a syntax error. */
  checkSyntax?(sql: string): Promise<void>;
  close(): Promise<void>;
}
