import {
  type DuckDBMaterializedResult,
  type DuckDBPreparedStatement,
  type DuckDBResult,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
  ResultReturnType,
} from '@duckdb/node-api';
import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import type { PreparedQuery, QueryCursor, ResultColumn } from './Executor.js';
import type { LocalExecutor } from './LocalExecutor.js';
import { LocalQueryCursor } from './LocalQueryCursor.js';
import type { ErrorContext } from './mapDuckDBError.js';
import type { Sandbox } from './Sandbox.js';
import type { StatementTag } from './tagStatement.js';

/** A statement DuckDB prepared on one session's connection. */
export class LocalPreparedQuery implements PreparedQuery {
  readonly tag: string;
  readonly tagHasCount: boolean;
  private closed = false;

  /**
   * @param countColumn DuckDB reports the statement's row count as its single `Count` column
   *   (CREATE TABLE AS, COPY): execute() reads it from there.
   * @param errorContext how DuckDB's error positions map back to the client's statement.
   */
  constructor(
    private readonly executor: LocalExecutor,
    private readonly statement: DuckDBPreparedStatement,
    statementTag: StatementTag,
    readonly paramTypes: readonly DuckDBType[],
    readonly columns: readonly ResultColumn[],
    private readonly countColumn: boolean,
    private readonly sandbox: Sandbox,
    private readonly errorContext: ErrorContext,
  ) {
    this.tag = statementTag.tag;
    this.tagHasCount = statementTag.hasCount;
  }

  execute(params: readonly DuckDBValue[]): Promise<QueryCursor> {
    return this.executor.exclusive(async () => {
      if (this.closed) throw new PgError(SqlState.InvalidSqlStatementName, 'prepared statement is closed');
      await this.executor.detachActiveCursor();
      this.sandbox.checkParameters(params);
      this.bind(params);
      if (this.columns.length > 0) {
        const result = await this.statement.stream();
        // DuckDB silently re-binds a prepared statement after DDL, and its result may change shape; the
        // RowDescription already promised these columns, so refuse as PostgreSQL does.
        if (!sameShape(result, this.columns)) {
          throw new PgError(SqlState.FeatureNotSupported, 'cached plan must not change result type');
        }
        const cursor = new LocalQueryCursor(this.executor, this.columns, result);
        this.executor.openCursor(cursor);
        return cursor;
      }
      const result = await this.statement.run();
      return new LocalQueryCursor(this.executor, this.columns, null, await this.countRows(result));
    }, this.errorContext);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Safe while a stream from this statement is open: the result keeps what it needs.
    this.statement.destroySync();
    this.executor.forgetStatement(this);
  }

  private bind(params: readonly DuckDBValue[]): void {
    const count = this.statement.parameterCount;
    if (params.length < count) {
      throw new PgError(
        SqlState.ProtocolViolation,
        `bind message supplies ${params.length} parameters, but prepared statement requires ${count}`,
      );
    }
    this.statement.clearBindings();
    for (let i = 0; i < count; i++) {
      const value = params[i];
      const type = this.paramTypes[i];
      try {
        if (typeof value === 'string' && type.typeId !== DuckDBTypeId.VARCHAR) {
          // Text-format parameter for a typed slot: DuckDB casts it, as PostgreSQL parses text input.
          this.statement.bindVarchar(i + 1, value);
        } else {
          this.statement.bindValue(i + 1, value, type);
        }
      } catch (error) {
        throw new PgError(
          SqlState.InvalidParameterValue,
          `invalid value for parameter $${i + 1} of type ${type}: ${error instanceof Error ? error.message : error}`,
          {},
          { cause: error },
        );
      }
    }
  }

  private async countRows(result: DuckDBMaterializedResult): Promise<number> {
    if (result.returnType === ResultReturnType.CHANGED_ROWS) return result.rowsChanged;
    if (!this.countColumn) return 0;
    const chunk = await result.fetchChunk();
    return chunk && chunk.rowCount > 0 ? Number(chunk.getColumnVector(0).getItem(0) ?? 0) : 0;
  }
}

/** True when a result has exactly the columns the statement was prepared with. */
function sameShape(result: DuckDBResult, columns: readonly ResultColumn[]): boolean {
  if (result.columnCount !== columns.length) return false;
  for (let i = 0; i < columns.length; i++) {
    if (result.columnType(i).toString() !== columns[i]!.type.toString()) return false;
  }
  return true;
}
