import {
  type DuckDBConnection,
  type DuckDBPreparedStatement,
  type DuckDBType,
  DuckDBTypeId,
  StatementType,
  VARCHAR,
} from '@duckdb/node-api';
import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import { castParameters } from './castParameters.js';
import type { PreparedQuery, ResultColumn, SessionExecutor } from './Executor.js';
import { LocalPreparedQuery } from './LocalPreparedQuery.js';
import type { LocalQueryCursor } from './LocalQueryCursor.js';
import { type ErrorContext, mapDuckDBError, USER_CANCEL_MESSAGE } from './mapDuckDBError.js';
import type { Sandbox } from './Sandbox.js';
import { innerStatementStart, loadSqlLexer, type SqlToken, scanStatement } from './scanStatement.js';
import { sqlString } from './sqlString.js';
import { type StatementTag, tagFromKeywords, tagStatement } from './tagStatement.js';

/**
 * A session's executor on the coordinator's own DuckDB: one DuckDB connection, so DuckDB's MVCC gives
 * the session its own transaction. Calls on the connection run one at a time, in order.
 */
export class LocalExecutor implements SessionExecutor {
  private queue: Promise<unknown> = Promise.resolve();
  private inFlight = false;
  /** Set by interrupt() while a call is running: the message its 57014 carries. */
  private pendingCancel: string | null = null;
  /** The cursor whose DuckDB stream is open; DuckDB allows one per connection. */
  private activeCursor: LocalQueryCursor | null = null;
  private readAhead: Promise<unknown> | null = null;
  private readonly statements = new Set<LocalPreparedQuery>();
  /** Tags of SQL-level `PREPARE name AS ...` statements, for the matching `EXECUTE name`. */
  private readonly sqlPrepared = new Map<string, StatementTag>();
  private closed = false;

  /** Sessions come from Engine.createSession(). */
  constructor(
    private readonly connection: DuckDBConnection,
    private readonly sandbox: Sandbox,
    private readonly onClose: (executor: LocalExecutor) => void = () => {},
  ) {}

  async prepare(sql: string, paramTypeHints: readonly (DuckDBType | null)[]): Promise<PreparedQuery> {
    await loadSqlLexer();
    return this.exclusive(
      async () => {
        await this.detachActiveCursor();
        const tokens = scanStatement(sql);
        if (!tokens) {
          // PostgreSQL's lexer rejected it; DuckDB's parser tells why without binding or running anything.
          await this.connection.extractStatements(sql);
          throw new PgError(SqlState.SyntaxError, 'syntax error: the statement could not be tokenized');
        }
        this.sandbox.checkTokens(tokens);
        let statement: DuckDBPreparedStatement | null = await this.connection.prepare(sql);
        let errorContext: ErrorContext = { sql };
        let columnName = (name: string) => name;
        try {
          this.sandbox.checkPrepared(statement.statementType, tokens);
          const typing = typeParameters(statement, paramTypeHints);
          if (typing.casts.size > 0) {
            const cast = castParameters(sql, tokens, typing.casts);
            errorContext = { sql: cast.sql, toOriginal: cast.toOriginal, originalSql: sql };
            const untyped = statement;
            statement = null;
            untyped.destroySync();
            statement = await this.prepareRewritten(cast.sql, errorContext, typing.guessed);
            columnName = cast.originalColumnName;
          }
          const tag = tagStatement(statement.statementType, sql, tokens, (name) =>
            this.sqlPrepared.get(name),
          );
          const query = new LocalPreparedQuery(
            this,
            statement,
            tag,
            typing.types,
            tag.returnsRows ? resultColumns(statement, columnName) : [],
            isCountColumn(statement),
            this.sandbox,
            errorContext,
          );
          this.statements.add(query);
          this.rememberSqlPrepare(statement.statementType, tokens);
          return query;
        } catch (error) {
          statement?.destroySync();
          throw mapDuckDBError(error, errorContext);
        }
      },
      { sql },
    );
  }

  /**
   * Sets this session's DuckDB TimeZone (ICU zone names; null means UTC), which timestamptz casts,
   * date_trunc and extract use. Rejects with 22023 for a zone ICU does not know.
   */
  setTimeZone(zone: string | null): Promise<void> {
    const name = zone ?? 'UTC';
    return this.exclusive(async () => {
      // Running a statement would end an open stream; keep it readable.
      await this.detachActiveCursor();
      try {
        await this.connection.run(`SET SESSION TimeZone = ${sqlString(name)}`);
      } catch (error) {
        const mapped = mapDuckDBError(error);
        // ICU reports an unknown zone as "Not implemented"; anything else (an aborted transaction) stands.
        if (mapped.code !== SqlState.FeatureNotSupported) throw mapped;
        throw new PgError(
          SqlState.InvalidParameterValue,
          `invalid value for parameter "TimeZone": "${name}"`,
          {},
          { cause: error },
        );
      }
    });
  }

  /** Parses without binding or running anything: rejects with 42601 and the error position. */
  async checkSyntax(sql: string): Promise<void> {
    await loadSqlLexer();
    const tokens = scanStatement(sql);
    if (tokens?.length === 0) return;
    try {
      // Parsing does not disturb an open stream, so no need to wait for the connection.
      await this.connection.extractStatements(sql);
    } catch (error) {
      throw mapDuckDBError(error, { sql });
    }
  }

  interrupt(message: string = USER_CANCEL_MESSAGE): void {
    if (this.closed) return;
    if (this.inFlight) this.pendingCancel = message;
    this.activeCursor?.cancel(message);
    this.connection.interrupt();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.interrupt();
    this.closed = true;
    this.activeCursor?.close();
    await this.queue;
    for (const query of [...this.statements]) query.close();
    this.connection.closeSync();
    this.onClose(this);
  }

  /**
   * Runs `work` on this session's DuckDB connection, in turn with the session's statements (an open
   * stream is read into memory first): how the distributed runtime stages task results in TEMP tables
   * that the merge SQL, prepared on this same session, then reads.
   */
  withConnection<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      await this.detachActiveCursor();
      return work(this.connection);
    });
  }

  /**
   * Runs one call on the connection after the previous ones; maps what it throws to a PgError.
   * @internal for LocalPreparedQuery and LocalQueryCursor.
   */
  exclusive<T>(work: () => Promise<T>, context: ErrorContext = {}): Promise<T> {
    const run = async (): Promise<T> => {
      // A cursor's read-ahead fetch runs outside the queue; nothing else may use the connection meanwhile.
      if (this.readAhead) await this.readAhead.catch(() => undefined);
      if (this.closed) throw new PgError(SqlState.ConnectionException, 'the session executor is closed');
      this.inFlight = true;
      this.pendingCancel = null;
      try {
        return await work();
      } catch (error) {
        throw mapDuckDBError(error, { ...context, cancelMessage: this.pendingCancel ?? undefined });
      } finally {
        this.inFlight = false;
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Before another statement uses the connection, reads what is left of the open stream into memory:
   * a portal left half-read (pg-cursor, a suspended Execute) stays readable. Costs memory for the rest
   * of that result, which is why sessions should close cursors they will not finish.
   * @internal
   */
  async detachActiveCursor(): Promise<void> {
    const cursor = this.activeCursor;
    if (cursor) await cursor.drain();
    this.activeCursor = null;
  }

  /**
   * A cursor fetching its next chunk while the session encodes the current one: later calls on the
   * connection wait for it.
   * @internal
   */
  noteReadAhead(fetch: Promise<unknown>): void {
    this.readAhead = fetch;
    const clear = () => {
      if (this.readAhead === fetch) this.readAhead = null;
    };
    fetch.then(clear, clear);
  }

  /** @internal */
  openCursor(cursor: LocalQueryCursor): void {
    this.activeCursor = cursor;
    // An interrupt that arrived while the stream was starting applies to it.
    if (this.pendingCancel !== null) cursor.cancel(this.pendingCancel);
  }

  /** @internal */
  releaseCursor(cursor: LocalQueryCursor): void {
    if (this.activeCursor === cursor) this.activeCursor = null;
  }

  /** @internal */
  forgetStatement(query: LocalPreparedQuery): void {
    this.statements.delete(query);
  }

  private async prepareRewritten(
    sql: string,
    context: ErrorContext,
    guessed: readonly number[],
  ): Promise<DuckDBPreparedStatement> {
    try {
      const statement = await this.connection.prepare(sql);
      if (hasUnknownColumns(statement)) {
        statement.destroySync();
        // Table functions bind only once their arguments have values: `SELECT * FROM range($1)`.
        throw new PgError(
          SqlState.IndeterminateDatatype,
          'could not determine the result columns before the parameters are bound',
          {
            hint: 'DuckDB binds table functions only with constant arguments; write the value as a literal.',
          },
        );
      }
      return statement;
    } catch (error) {
      const mapped = mapDuckDBError(error, context);
      if (guessed.length === 0 || mapped.code === SqlState.IndeterminateDatatype) throw mapped;
      // PostgreSQL would infer these from the operator (`$1 + 1.5`); DuckDB cannot, so say what happened.
      const list = guessed.map((n) => `$${n}`).join(', ');
      const hint = `DuckDB cannot infer the type of ${list}, so it was taken as text; cast it (e.g. ${guessed.map((n) => `$${n}::INTEGER`)[0]}) or declare the parameter type.`;
      throw new PgError(mapped.code, mapped.message, { ...mapped.fields, hint }, { cause: error });
    }
  }

  /** Keeps the tag of `PREPARE name AS <statement>` for `EXECUTE name`, and forgets it on DEALLOCATE. */
  private rememberSqlPrepare(type: StatementType, tokens: readonly SqlToken[]): void {
    if (type === StatementType.PREPARE && tokens[0]?.value === 'prepare' && tokens[1]) {
      this.sqlPrepared.set(tokens[1].value, tagFromKeywords(tokens, innerStatementStart(tokens)));
    } else if (type === StatementType.DROP && tokens[0]?.value === 'deallocate') {
      const name = tokens[1]?.value === 'prepare' ? tokens[2]?.value : tokens[1]?.value;
      if (name === 'all') this.sqlPrepared.clear();
      else if (name) this.sqlPrepared.delete(name);
    }
  }
}

interface ParameterTyping {
  /** One type per parameter: the client's hint, else DuckDB's inference, else VARCHAR. */
  readonly types: DuckDBType[];
  /** Parameters to wrap in a cast (by `$n` number) so DuckDB types them as `types` says. */
  readonly casts: Map<number, string>;
  /** Parameters typed as text only because neither DuckDB nor the client gave a type. */
  readonly guessed: number[];
}

/**
 * Decides each parameter's type. A client's hint always wins; where DuckDB could not infer a type
 * (`SELECT $1`) and the client gave none, the parameter is text, as PostgreSQL types it. Parameters
 * whose type then differs from DuckDB's inference are cast in the SQL, and so are all of them when
 * DuckDB could not type a result column (`SELECT $1 FROM t WHERE a = $1`).
 */
function typeParameters(
  statement: DuckDBPreparedStatement,
  hints: readonly (DuckDBType | null)[],
): ParameterTyping {
  const count = statement.parameterCount;
  const types: DuckDBType[] = [];
  const casts = new Map<number, string>();
  const guessed: number[] = [];
  const unknownColumns = hasUnknownColumns(statement);
  for (let i = 0; i < Math.max(count, hints.length); i++) {
    const inferred = i < count ? parameterType(statement, i + 1) : null;
    const hint = hints[i] ?? null;
    const type = hint ?? inferred ?? VARCHAR;
    if (hint === null && inferred === null && i < count) guessed.push(i + 1);
    types.push(type);
    if (i < count && (inferred === null || unknownColumns || type.toString() !== inferred.toString())) {
      casts.set(i + 1, type.toString());
    }
  }
  return { types, casts, guessed };
}

function parameterType(statement: DuckDBPreparedStatement, index: number): DuckDBType | null {
  const id = statement.parameterTypeId(index);
  if (id === DuckDBTypeId.INVALID || id === DuckDBTypeId.ANY || id === DuckDBTypeId.SQLNULL) return null;
  return statement.parameterType(index);
}

function hasUnknownColumns(statement: DuckDBPreparedStatement): boolean {
  for (let i = 0; i < statement.columnCount; i++) {
    if (statement.columnTypeId(i) === DuckDBTypeId.INVALID) return true;
  }
  return false;
}

function resultColumns(
  statement: DuckDBPreparedStatement,
  columnName: (name: string) => string,
): ResultColumn[] {
  const columns: ResultColumn[] = [];
  for (let i = 0; i < statement.columnCount; i++) {
    columns.push({ name: columnName(statement.columnName(i)), type: statement.columnType(i) });
  }
  return columns;
}

/** DuckDB's stand-in result for statements that report only how many rows they touched. */
function isCountColumn(statement: DuckDBPreparedStatement): boolean {
  return (
    statement.columnCount === 1 &&
    statement.columnName(0) === 'Count' &&
    statement.columnTypeId(0) === DuckDBTypeId.BIGINT
  );
}
