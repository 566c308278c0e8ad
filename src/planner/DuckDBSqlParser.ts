import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import { type AstObject, type ConstantExpr, cloneTree, type SelectStatement } from './ast.js';
import { JsonNumber, parseLosslessJson, stringifyLosslessJson } from './losslessJson.js';
import { SqlParseError, type SqlParser } from './SqlParser.js';
import type { PlanColumn } from './types.js';

interface SerializedSql {
  error: boolean;
  error_message?: string;
  statements?: SelectStatement[];
}

/**
 * SqlParser over one DuckDB connection. Parsing and writing SQL run DuckDB's own code
 * (`json_serialize_sql`, `json_deserialize_sql`); describing prepares the statement, which binds it
 * without reading any data. The connection should be the coordinator's, so that the functions and
 * settings binding sees are the ones queries run with.
 */
export class DuckDBSqlParser implements SqlParser {
  private serializer: Promise<DuckDBPreparedStatement> | undefined;
  private deserializer: Promise<DuckDBPreparedStatement> | undefined;
  /** The calls on the two prepared statements, one after another (a call binds, then runs). */
  private calls: Promise<unknown> = Promise.resolve();

  constructor(private readonly connection: DuckDBConnection) {}

  async parse(sql: string): Promise<readonly SelectStatement[]> {
    this.serializer ??= this.connection.prepare('SELECT json_serialize_sql($1::VARCHAR)');
    const text = await this.call(this.serializer, sql);
    const parsed = parseLosslessJson(text) as SerializedSql;
    if (parsed.error || !parsed.statements) throw new SqlParseError(parsed.error_message ?? 'cannot parse');
    return parsed.statements.map((s) => cloneTree(s, finiteConstant));
  }

  async deparse(statement: SelectStatement): Promise<string> {
    const json = stringifyLosslessJson({ error: false, statements: [statement] });
    this.deserializer ??= this.connection.prepare('SELECT json_deserialize_sql($1::JSON)');
    return this.call(this.deserializer, json);
  }

  /**
   * Runs one of the connection's prepared conversions on `text`: preparing them once saves about half of
   * each call's cost (0.9 against 0.4 ms a parse, measured), and a planning makes a few dozen calls.
   */
  private call(statement: Promise<DuckDBPreparedStatement>, text: string): Promise<string> {
    const run = async () => {
      const prepared = await statement;
      prepared.bindVarchar(1, text);
      const reader = await prepared.runAndReadAll();
      return String(reader.getRows()[0]?.[0]);
    };
    const result = this.calls.then(run, run);
    this.calls = result.catch(() => undefined);
    return result;
  }

  async describe(sql: string): Promise<readonly PlanColumn[]> {
    const prepared = await this.connection.prepare(sql);
    const columns: PlanColumn[] = [];
    for (let i = 0; i < prepared.columnCount; i++) {
      columns.push({ name: prepared.columnName(i), type: prepared.columnType(i).toString() });
    }
    return columns;
  }

  async query(sql: string): Promise<readonly (readonly unknown[])[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowsJson() as unknown[][];
  }

  /**
   * DuckDB's aggregate function names, read once per process (15-20 ms, which each session's first
   * planning used to pay): SQL cannot add aggregate functions, and extensions cannot be loaded.
   */
  aggregateFunctions(): Promise<ReadonlySet<string>> {
    if (!aggregates) {
      const reading = this.connection
        .runAndReadAll(
          "SELECT DISTINCT lower(function_name) FROM duckdb_functions() WHERE function_type = 'aggregate'",
        )
        .then((r): ReadonlySet<string> => new Set(r.getRows().map((row) => String(row[0]))));
      aggregates = reading;
      reading.catch(() => {
        if (aggregates === reading) aggregates = undefined;
      });
    }
    return aggregates;
  }
}

let aggregates: Promise<ReadonlySet<string>> | undefined;

/**
 * DuckDB writes an infinite or NaN DOUBLE constant (`1e400`) as a bare Infinity/NaN, which its own JSON
 * reader then refuses; such a constant becomes `CAST('inf' AS DOUBLE)` (same value, same type), named
 * as DuckDB names the constant (`1e1000`) when it has no alias.
 */
function finiteConstant(node: AstObject): AstObject | undefined {
  if (node['class'] !== 'CONSTANT') return undefined;
  const value = (node as ConstantExpr).value;
  if (!(value.value instanceof JsonNumber) || Number.isFinite(Number(value.value))) return undefined;
  const n = Number(value.value);
  const text = Number.isNaN(n) ? 'nan' : n > 0 ? 'inf' : '-inf';
  return {
    class: 'CAST',
    type: 'OPERATOR_CAST',
    alias: node['alias'] || (Number.isNaN(n) ? '' : n > 0 ? '1e1000' : '-1e1000'),
    child: {
      class: 'CONSTANT',
      type: 'VALUE_CONSTANT',
      alias: '',
      value: { type: { id: 'VARCHAR', type_info: null }, is_null: false, value: text },
    },
    cast_type: value.type,
    try_cast: false,
  };
}
