import { type DuckDBDataChunk, type DuckDBResult, DuckDBTypeId } from '@duckdb/node-api';
import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import type { Column, ColumnBatch, QueryCursor, ResultColumn } from './Executor.js';
import type { LocalExecutor } from './LocalExecutor.js';
import { mapDuckDBError } from './mapDuckDBError.js';
import { readUtf8Column } from './Utf8Column.js';

/**
 * Pulls a DuckDB streaming result one chunk (up to 2048 rows) per next(). Values are never converted
 * here: each batch hands out DuckDB's own vectors, and the session's column codecs read them.
 */
export class LocalQueryCursor implements QueryCursor {
  private result: DuckDBResult | null;
  /** Chunks read ahead when another statement needed the connection (see LocalExecutor.detachActiveCursor). */
  private buffered: DuckDBDataChunk[] = [];
  private failure: PgError | null = null;
  private cancelMessage: string | null = null;
  private returned = 0;
  /** The read-ahead fetch of the next chunk, if one is in flight. */
  private ahead: Promise<DuckDBDataChunk | null> | null = null;

  /**
   * @param result the open stream, or null for a statement that returned no rows.
   * @param changed rows changed by a statement without a result set.
   */
  constructor(
    private readonly executor: LocalExecutor,
    readonly columns: readonly ResultColumn[],
    result: DuckDBResult | null,
    private readonly changed = 0,
  ) {
    this.result = result;
  }

  get rowsChanged(): number {
    return this.columns.length === 0 ? this.changed : this.returned;
  }

  async next(): Promise<ColumnBatch | null> {
    const ready = this.takeBuffered();
    if (ready !== undefined) return ready;
    if (this.ahead) {
      const fetching = this.ahead;
      this.ahead = null;
      const chunk = await fetching;
      if (!chunk) return null;
      const batch = this.toBatch(chunk);
      this.readNext();
      return batch;
    }
    if (!this.result) return null;
    return this.executor.exclusive(async () => {
      // The stream may have been read ahead into the buffer while this call waited its turn.
      const ahead = this.takeBuffered();
      if (ahead !== undefined) return ahead;
      if (!this.result) return null;
      const chunk = await this.fetch();
      if (!chunk) return null;
      // String columns are copied out before the stream is asked for more.
      const batch = this.toBatch(chunk);
      this.readNext();
      return batch;
    });
  }

  /**
   * Starts fetching the following chunk while the caller encodes this one, so DuckDB's work and the
   * socket's overlap. The previous chunk's vectors stay valid: each chunk is its own object.
   */
  private readNext(): void {
    if (!this.result || this.cancelMessage !== null) return;
    const fetching = this.fetch();
    // Surfaced by the next() that takes it; never an unhandled rejection meanwhile.
    fetching.catch(() => undefined);
    this.ahead = fetching;
    this.executor.noteReadAhead(fetching);
  }

  close(): void {
    this.ahead = null;
    this.buffered = [];
    this.failure = null;
    this.release();
  }

  /** Marks the statement cancelled: DuckDB ends an interrupted stream as if it were complete. */
  cancel(message: string): void {
    if (this.result) this.cancelMessage = message;
  }

  /** True while this cursor holds the connection's open DuckDB stream. */
  get streaming(): boolean {
    return this.result !== null;
  }

  /**
   * Reads the rest of the stream into memory so another statement can use the connection: DuckDB keeps
   * one open stream per connection and silently ends the previous one when the next statement starts.
   * Runs inside the executor's exclusive section; a failure is kept for the next() that reaches it.
   */
  async drain(): Promise<void> {
    try {
      if (this.ahead) {
        const fetching = this.ahead;
        this.ahead = null;
        const chunk = await fetching;
        if (!chunk) return;
        this.buffered.push(chunk);
      }
      for (;;) {
        const chunk = await this.fetch();
        if (!chunk) return;
        this.buffered.push(chunk);
      }
    } catch (error) {
      this.failure = mapDuckDBError(error);
    }
  }

  private takeBuffered(): ColumnBatch | null | undefined {
    const chunk = this.buffered.shift();
    if (chunk) return this.toBatch(chunk);
    if (this.failure) {
      const failure = this.failure;
      this.failure = null;
      throw failure;
    }
    return undefined;
  }

  private async fetch(): Promise<DuckDBDataChunk | null> {
    const result = this.result!;
    if (this.cancelMessage === null) {
      let chunk: DuckDBDataChunk | null;
      try {
        chunk = await result.fetchChunk();
      } catch (error) {
        this.release();
        throw mapDuckDBError(error, { cancelMessage: this.cancelMessage ?? undefined });
      }
      if (chunk && chunk.rowCount > 0) return chunk;
    }
    this.release();
    // An interrupted stream ends early without an error: only the cancel flag tells the difference.
    const cancelled = this.cancelMessage as string | null;
    if (cancelled !== null) throw new PgError(SqlState.QueryCanceled, cancelled);
    return null;
  }

  private toBatch(chunk: DuckDBDataChunk): ColumnBatch {
    const rows = chunk.rowCount;
    const columns: Column[] = [];
    for (let i = 0; i < this.columns.length; i++) {
      columns.push(
        this.columns[i]!.type.typeId === DuckDBTypeId.VARCHAR
          ? readUtf8Column(chunk, i, rows)
          : chunk.getColumnVector(i),
      );
    }
    this.returned += rows;
    return { rowCount: rows, columns };
  }

  private release(): void {
    this.result = null;
    this.executor.releaseCursor(this);
  }
}
