import {
  type BaseTableRef,
  type ConstantExpr,
  columnRef,
  comparison,
  type Expr,
  functionCall,
  type SelectNode,
  type SubqueryRef,
  type TableRef,
} from './ast.js';
import type { SqlParser } from './SqlParser.js';
import { quoteIdent } from './sqlText.js';
import type { LayoutFile, TableLayout } from './types.js';

/**
 * SQL (a SELECT) reading exactly `files` of `table` with the table's column names and types, for
 * storage whose files need more than `read_parquet` (renamed physical columns, deletes, inline rows).
 */
export type ScanSql = (table: TableLayout, files: readonly LayoutFile[]) => string;

/**
 * Builds what replaces a catalog table reference in task and coordinator SQL: a scan of some of the
 * table's files under the reference's own alias, or an empty relation of the table's schema (for binding
 * without data, and for a task that holds no file of the table).
 */
export class RelationBuilder {
  private readonly empties = new Map<TableLayout, Promise<SelectNode>>();

  constructor(
    private readonly parser: SqlParser,
    private readonly scanSql?: ScanSql,
  ) {}

  /** The relation for `files` of the table `ref` names. */
  async scan(ref: BaseTableRef, layout: TableLayout, files: readonly LayoutFile[]): Promise<TableRef> {
    if (files.length === 0) return this.empty(ref, layout);
    if (this.scanSql) {
      const [statement] = await this.parser.parse(this.scanSql(layout, files));
      return this.derived(ref, statement!.node as SelectNode);
    }
    return readParquet(
      files.map((f) => f.path),
      aliasOf(ref),
      ref.column_name_alias ?? [],
    );
  }

  /** An empty relation with the table's columns, under the reference's alias. */
  async empty(ref: BaseTableRef, layout: TableLayout): Promise<TableRef> {
    let node = this.empties.get(layout);
    if (!node) {
      const columns = layout.columns.map((c) => `CAST(NULL AS ${c.type}) AS ${quoteIdent(c.name)}`);
      const sql = `SELECT ${columns.length ? columns.join(', ') : 'NULL'} LIMIT 0`;
      node = this.parser.parse(sql).then((s) => s[0]!.node as SelectNode);
      this.empties.set(layout, node);
    }
    return this.derived(ref, await node);
  }

  private derived(ref: BaseTableRef, node: SelectNode): SubqueryRef {
    return {
      type: 'SUBQUERY',
      alias: aliasOf(ref),
      sample: null,
      subquery: { node, named_param_map: [] },
      column_name_alias: ref.column_name_alias ?? [],
    };
  }
}

/** The name a table reference binds: its alias, else the table name. */
export function aliasOf(ref: BaseTableRef): string {
  return ref.alias || ref.table_name;
}

function varchar(value: string): ConstantExpr {
  return {
    class: 'CONSTANT',
    type: 'VALUE_CONSTANT',
    alias: '',
    value: { type: { id: 'VARCHAR', type_info: null }, is_null: false, value },
  };
}

function boolean(value: boolean): ConstantExpr {
  return {
    class: 'CONSTANT',
    type: 'VALUE_CONSTANT',
    alias: '',
    value: { type: { id: 'BOOLEAN', type_info: null }, is_null: false, value },
  };
}

/**
 * `read_parquet([paths], hive_partitioning = false) AS alias(columns)`. Hive partitioning is off so a
 * directory named `key=value` never adds a column.
 */
export function readParquet(
  paths: readonly string[],
  alias: string,
  columnAlias: readonly string[],
): TableRef {
  const args: Expr[] = [
    functionCall('list_value', paths.map(varchar)),
    comparison('COMPARE_EQUAL', columnRef('hive_partitioning'), boolean(false)),
  ];
  return {
    type: 'TABLE_FUNCTION',
    alias,
    sample: null,
    function: functionCall('read_parquet', args),
    column_name_alias: [...columnAlias],
    with_ordinality: 'WITHOUT_ORDINALITY',
  };
}
