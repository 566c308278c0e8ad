import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import type { ColumnBatch, PreparedQuery, QueryCursor, ResultColumn } from '../executor/Executor.js';

/** What a CommandQuery's statement did: rows changed, and the cursor of its rows when it returns some. */
export interface CommandOutcome {
  readonly rowsChanged: number;
  readonly rows?: QueryCursor;
}

/**
 * A statement the table layer runs itself (DDL, DML on catalog tables, transaction control): the work
 * happens in `execute`, and its rows (RETURNING) come from a cursor it hands back.
 */
export class CommandQuery implements PreparedQuery {
  constructor(
    readonly tag: string,
    readonly tagHasCount: boolean,
    readonly paramTypes: readonly DuckDBType[],
    readonly columns: readonly ResultColumn[],
    private readonly run: (params: readonly DuckDBValue[]) => Promise<CommandOutcome>,
    private readonly onClose: () => void = () => {},
  ) {}

  async execute(params: readonly DuckDBValue[]): Promise<QueryCursor> {
    const outcome = await this.run(params);
    if (outcome.rows) return outcome.rows;
    return new DoneCursor(outcome.rowsChanged);
  }

  close(): void {
    this.onClose();
  }
}

/** The cursor of a statement without rows. */
export class DoneCursor implements QueryCursor {
  readonly columns: readonly ResultColumn[] = [];
  constructor(readonly rowsChanged: number) {}
  async next(): Promise<ColumnBatch | null> {
    return null;
  }
  close(): void {}
}

/**
 * Wraps a cursor so that `release` runs exactly once when it ends (closed, exhausted or failed):
 * what holds a catalog snapshot for as long as a query reads its files.
 */
export class ReleasingCursor implements QueryCursor {
  #released = false;
  constructor(
    private readonly inner: QueryCursor,
    private readonly release: () => void,
    private readonly changed: number | null = null,
  ) {}

  get columns(): readonly ResultColumn[] {
    return this.inner.columns;
  }

  get rowsChanged(): number {
    return this.changed ?? this.inner.rowsChanged;
  }

  async next(): Promise<ColumnBatch | null> {
    try {
      const batch = await this.inner.next();
      if (batch === null) this.#release();
      return batch;
    } catch (err) {
      this.#release();
      throw err;
    }
  }

  close(): void {
    this.inner.close();
    this.#release();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.release();
  }
}

/** A cursor over batches read in full beforehand (RETURNING rows, read before the write they describe). */
export class BufferedCursor implements QueryCursor {
  #next = 0;
  constructor(
    readonly columns: readonly ResultColumn[],
    private readonly batches: readonly ColumnBatch[],
    readonly rowsChanged: number,
  ) {}

  async next(): Promise<ColumnBatch | null> {
    return this.batches[this.#next++] ?? null;
  }

  close(): void {
    this.#next = this.batches.length;
  }
}

/** Reads a cursor to its end, keeping its batches (DuckDB vectors stay valid once read). */
export async function readAll(cursor: QueryCursor): Promise<ColumnBatch[]> {
  const out: ColumnBatch[] = [];
  try {
    for (let b = await cursor.next(); b; b = await cursor.next()) out.push(b);
  } finally {
    cursor.close();
  }
  return out;
}
