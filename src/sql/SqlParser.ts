import { type DuckDBConnection, DuckDBInstance, type DuckDBPreparedStatement } from '@duckdb/node-api';

/** A DuckDB statement tree as json_serialize_sql writes it; edited in place by rewriteQuery. */
export type SqlTree = Record<string, unknown>;

/**
 * DuckDB's own parser, reached through json_serialize_sql / json_deserialize_sql on a private
 * in-memory DuckDB that holds no data. One per process is enough: calls are queued, because one
 * DuckDB connection runs one statement at a time.
 */
export class SqlParser {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly serializeStatement: DuckDBPreparedStatement,
    private readonly deserializeStatement: DuckDBPreparedStatement,
  ) {}

  static async open(): Promise<SqlParser> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const serialize = await connection.prepare('SELECT json_serialize_sql($1::VARCHAR)');
    const deserialize = await connection.prepare('SELECT json_deserialize_sql($1::VARCHAR)');
    return new SqlParser(instance, connection, serialize, deserialize);
  }

  /**
   * The statement tree of one SELECT, or null when DuckDB cannot serialize it: any other statement
   * kind, a syntax error, or more than one statement.
   */
  parse(sql: string): Promise<SqlTree | null> {
    return this.run(async () => {
      this.serializeStatement.bindVarchar(1, sql);
      const reader = await this.serializeStatement.runAndReadAll();
      const json = reader.getRows()[0]?.[0];
      if (typeof json !== 'string') return null;
      const result = JSON.parse(protectNumbers(json)) as { error?: boolean; statements?: SqlTree[] };
      if (result.error || result.statements?.length !== 1) return null;
      return result.statements[0]!;
    });
  }

  /** SQL text for a statement tree that `parse` returned (possibly edited). */
  print(tree: SqlTree): Promise<string> {
    const json = restoreNumbers(JSON.stringify({ error: false, statements: [tree] }));
    return this.run(async () => {
      this.deserializeStatement.bindVarchar(1, json);
      const reader = await this.deserializeStatement.runAndReadAll();
      return String(reader.getRows()[0]?.[0] ?? '');
    });
  }

  close(): void {
    this.serializeStatement.destroySync();
    this.deserializeStatement.destroySync();
    this.connection.closeSync();
    this.instance.closeSync();
  }

  private run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task, task);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/**
 * The JSON text that starts a string standing for a number kept as its text. It begins with NUL,
 * which a Query message (a C string) cannot carry, so no string constant of a client's SQL looks so.
 */
const NUMBER_MARK = '"\\u0000#';

/**
 * JSON numbers a JS number would change, turned into marked strings holding their text: BIGINT
 * and HUGEINT constants (`-9223372036854775808`) and DuckDB's "no location", 2^64 - 1. Only text
 * outside JSON strings is looked at.
 */
function protectNumbers(json: string): string {
  let out = '';
  let copied = 0;
  const n = json.length;
  for (let i = 0; i < n; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < n; i++) {
        const d = json.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let end = i + 1;
      while (end < n && isNumberChar(json.charCodeAt(end))) end++;
      const text = json.slice(i, end);
      if (String(Number(text)) !== text) {
        out += `${json.slice(copied, i)}${NUMBER_MARK}${text}"`;
        copied = end;
      }
      i = end - 1;
    }
  }
  return copied === 0 ? json : out + json.slice(copied);
}

function isNumberChar(c: number): boolean {
  // Digits, `.`, `e`, `E`, `+`, `-`.
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

/** protectNumbers undone on JSON.stringify's output: each marked string back to its number. */
function restoreNumbers(json: string): string {
  let at = json.indexOf(NUMBER_MARK);
  if (at < 0) return json;
  let out = '';
  let copied = 0;
  while (at >= 0) {
    const start = at + NUMBER_MARK.length;
    let end = start;
    while (end < json.length && isNumberChar(json.charCodeAt(end))) end++;
    if (end > start && json.charCodeAt(end) === 0x22) {
      out += json.slice(copied, at) + json.slice(start, end);
      copied = end + 1;
    }
    at = json.indexOf(NUMBER_MARK, end);
  }
  return out + json.slice(copied);
}
