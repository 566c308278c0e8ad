import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';

/** Statements one connection keeps prepared (its most recently used). */
const STATEMENTS_KEPT = 32;

/**
 * The task statements one DuckDB connection keeps prepared, by SQL text. A query run again sends the
 * same task SQL (the files it names never change once written), and preparing it again (parsing, binding,
 * planning and opening every file's footer) cost 2–7 ms per task of a TPC-H query. A statement is handed
 * to one task at a time: take() removes it and give() puts it back.
 */
export class StatementCache {
  readonly #connection: DuckDBConnection;
  readonly #statements = new Map<string, DuckDBPreparedStatement>();

  constructor(connection: DuckDBConnection) {
    this.#connection = connection;
  }

  /** The statement for `sql`, prepared now unless one was kept. */
  async take(sql: string): Promise<DuckDBPreparedStatement> {
    const kept = this.#statements.get(sql);
    if (kept) {
      this.#statements.delete(sql);
      return kept;
    }
    return this.#connection.prepare(sql);
  }

  /** Keeps `statement` for the next take(sql); the least recently used one beyond the limit is destroyed. */
  give(sql: string, statement: DuckDBPreparedStatement): void {
    this.#statements.get(sql)?.destroySync();
    this.#statements.set(sql, statement);
    if (this.#statements.size > STATEMENTS_KEPT) {
      const [oldest, dropped] = this.#statements.entries().next().value!;
      this.#statements.delete(oldest);
      dropped.destroySync();
    }
  }

  /** Destroys every kept statement (before the connection closes). */
  clear(): void {
    for (const statement of this.#statements.values()) statement.destroySync();
    this.#statements.clear();
  }
}
