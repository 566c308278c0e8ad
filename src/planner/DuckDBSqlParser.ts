import type { DuckDBConnection } from '@duckdb/node-api';
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
  private aggregates: Promise<ReadonlySet<string>> | undefined;

  constructor(private readonly connection: DuckDBConnection) {}

  async parse(sql: string): Promise<readonly SelectStatement[]> {
    const reader = await this.connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
    const parsed = parseLosslessJson(String(reader.getRows()[0]?.[0])) as SerializedSql;
    if (parsed.error || !parsed.statements) throw new SqlParseError(parsed.error_message ?? 'cannot parse');
    return parsed.statements.map((s) => cloneTree(s, finiteConstant));
  }

  async deparse(statement: SelectStatement): Promise<string> {
    const json = stringifyLosslessJson({ error: false, statements: [statement] });
    const reader = await this.connection.runAndReadAll('SELECT json_deserialize_sql($1::JSON)', [json]);
    return String(reader.getRows()[0]?.[0]);
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

  aggregateFunctions(): Promise<ReadonlySet<string>> {
    this.aggregates ??= this.connection
      .runAndReadAll(
        "SELECT DISTINCT lower(function_name) FROM duckdb_functions() WHERE function_type = 'aggregate'",
      )
      .then((r) => new Set(r.getRows().map((row) => String(row[0]))));
    return this.aggregates;
  }
}

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
