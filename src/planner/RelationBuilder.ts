import {
  type BaseTableRef,
  baseTable,
  type ConstantExpr,
  columnRef,
  comparison,
  type Expr,
  functionCall,
  type QueryNode,
  type SelectNode,
  type SubqueryRef,
  selectNode,
  star,
  type TableRef,
} from './ast.js';
import type { SqlParser } from './SqlParser.js';
import type { ScanShare } from './splitFiles.js';
import { quoteIdent, quoteLiteral } from './sqlText.js';
import type { LayoutColumn, LayoutFile, TableLayout } from './types.js';

/**
 * SQL (a SELECT) reading exactly `files` of `table` with the table's column names and types, for
 * storage whose files need more than `read_parquet` (renamed physical columns, deletes, inline rows).
 * A file carrying `rowRange` (only with PlanContext.scanSqlRowRanges) contributes only the rows at
 * those positions (`file_row_number`), deleted ones excepted.
 */
export type ScanSql = (table: TableLayout, files: readonly LayoutFile[]) => string;

/** The column shuffle files carry each row's bucket in. */
export const BUCKET_COLUMN = '__mallard_bucket';

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

  /** The relation for `files` of the table `ref` names (only their `rowRange` rows where set). */
  async scan(ref: BaseTableRef, layout: TableLayout, files: readonly LayoutFile[]): Promise<TableRef> {
    if (files.length === 0) return this.empty(ref, layout);
    if (this.scanSql) {
      const [statement] = await this.parser.parse(this.scanSql(layout, files));
      return this.derived(ref, statement!.node);
    }
    if (!files.some((f) => f.rowRange)) {
      return readParquet(
        files.map((f) => f.path),
        aliasOf(ref),
        ref.column_name_alias ?? [],
      );
    }
    // Whole files in one read_parquet; each range of a file in its own, filtered by position, which
    // DuckDB answers by reading only the row groups the range covers.
    const select = selectList(layout.columns);
    const whole = files.filter((f) => !f.rowRange);
    const parts = whole.length
      ? [`SELECT ${select} FROM read_parquet(${pathList(whole)}, hive_partitioning = false)`]
      : [];
    for (const f of files) {
      if (!f.rowRange) continue;
      parts.push(
        `SELECT ${select} FROM read_parquet(${pathList([f])}, hive_partitioning = false, file_row_number = true) ` +
          `WHERE file_row_number >= ${f.rowRange.start} AND file_row_number < ${f.rowRange.end}`,
      );
    }
    const [statement] = await this.parser.parse(parts.join(' UNION ALL '));
    return this.derived(ref, statement!.node);
  }

  /** The relation for one task's share of a split table (a ScanShare of splitFiles). */
  async scanShare(ref: BaseTableRef, layout: TableLayout, share: ScanShare): Promise<TableRef> {
    if (!share.filter || share.files.length === 0) return this.scan(ref, layout, share.files);
    if (share.filter.positional) {
      const sql =
        `SELECT ${selectList(layout.columns)} FROM read_parquet(${pathList(share.files)}, ` +
        `hive_partitioning = false, file_row_number = true) WHERE ${share.filter.sql}`;
      const [statement] = await this.parser.parse(sql);
      return this.derived(ref, statement!.node);
    }
    const inner = await this.scan(baseTable(layout.name, '__mallard_share'), layout, share.files);
    const [parsed] = await this.parser.parse(`SELECT * FROM __mallard_share WHERE ${share.filter.sql}`);
    const where = (parsed!.node as SelectNode).where_clause;
    return this.derived(ref, selectNode({ select: [star()], from: inner, where }));
  }

  /**
   * The rows of `buckets` in shuffle files (written by a shuffle-write stage with `columns` and the
   * bucket column), under the reference's alias and column aliases.
   */
  async shuffled(
    ref: BaseTableRef,
    layout: TableLayout,
    columns: readonly LayoutColumn[],
    paths: readonly string[],
    buckets: readonly number[],
  ): Promise<TableRef> {
    if (paths.length === 0 || buckets.length === 0) return this.empty(ref, layout);
    const list = `[${paths.map(quoteLiteral).join(', ')}]`;
    const which =
      buckets.length === 1
        ? `${quoteIdent(BUCKET_COLUMN)} = ${buckets[0]}`
        : `${quoteIdent(BUCKET_COLUMN)} IN (${buckets.join(', ')})`;
    const sql = `SELECT ${selectList(columns)} FROM read_parquet(${list}, hive_partitioning = false) WHERE ${which}`;
    const [statement] = await this.parser.parse(sql);
    return this.derived(ref, statement!.node);
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

  private derived(ref: BaseTableRef, node: QueryNode): SubqueryRef {
    return {
      type: 'SUBQUERY',
      alias: aliasOf(ref),
      sample: null,
      subquery: { node, named_param_map: [] },
      column_name_alias: ref.column_name_alias ?? [],
    };
  }
}

function selectList(columns: readonly LayoutColumn[]): string {
  return columns.map((c) => quoteIdent(c.name)).join(', ');
}

function pathList(files: readonly LayoutFile[]): string {
  return `[${files.map((f) => quoteLiteral(f.path)).join(', ')}]`;
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
