// Shared fixture of the planner suites: Parquet tables written by DuckDB into a temp directory, their
// layouts (with per-file min/max statistics as the catalog keeps them), and a check that plans a query,
// runs the plan with runLocally and compares the answer with single-node DuckDB over the same files.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBResultReader } from '@duckdb/node-api';
import { DuckDBSqlParser } from '../../src/planner/DuckDBSqlParser.js';
import { type PlanContext, planQuery } from '../../src/planner/planQuery.js';
import { runLocally } from '../../src/planner/runLocally.js';
import { quoteIdent, quoteLiteral } from '../../src/planner/sqlText.js';
import type {
  ColumnStat,
  DistributedPlan,
  LayoutFile,
  LayoutRowGroup,
  PlanMode,
  TableLayout,
} from '../../src/planner/types.js';

export interface TableSpec {
  /** A SELECT producing the table's rows (materialized once, so random values stay put). */
  readonly rows: string;
  /** `count` files; `fileOf` is an SQL expression giving each row's file number (0 .. count-1). */
  readonly files?: { readonly count: number; readonly fileOf: string };
  /** Hash-bucketed on `column` into `buckets` files (bucket = hash(column) % buckets). */
  readonly hash?: { readonly column: string; readonly buckets: number; readonly group: string };
  readonly reference?: boolean;
  /** Rows per Parquet row group; the layout then lists each file's row groups with their statistics. */
  readonly rowGroupSize?: number;
}

export interface CheckOptions {
  readonly mode?: PlanMode;
  /** Expected task count of the (single) stage. */
  readonly tasks?: number;
  /** Compare rows in order (the query's ORDER BY decides every position). */
  readonly ordered?: boolean;
}

/** Relative tolerance for DOUBLE/FLOAT results; values within 1e-12 of each other also match (near 0). */
export const FLOAT_TOLERANCE = 1e-9;

export class PlannerHarness {
  readonly tables = new Map<string, TableLayout>();
  private files = 0;
  private shuffles = 0;

  private constructor(
    readonly dir: string,
    readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
    readonly parser: DuckDBSqlParser,
  ) {}

  static async create(): Promise<PlannerHarness> {
    const dir = mkdtempSync(join(tmpdir(), 'mallard-planner-'));
    const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
    const conn = await instance.connect();
    const parser = new DuckDBSqlParser(await instance.connect());
    return new PlannerHarness(dir, instance, conn, parser);
  }

  /** A new directory name for one query's shuffle files (never reused: see PlanContext.shuffleDir). */
  shuffleDir(): string {
    return join(this.dir, `shuffle-${++this.shuffles}`);
  }

  /** Planner context over the tables written so far; thresholds as the suites choose them. */
  context(overrides: Partial<PlanContext> = {}): PlanContext {
    return { tables: this.tables, workerSlots: 4, parser: this.parser, localMaxRows: 0, ...overrides };
  }

  /** Writes a table's Parquet files, registers its layout, and a view of the same name for DuckDB. */
  async writeTable(name: string, spec: TableSpec): Promise<TableLayout> {
    try {
      return await this.write(name, spec);
    } catch (e) {
      // uvu does not report an error thrown by a `before` hook; say which fixture failed.
      console.error(`writing table ${name} failed: ${(e as Error).message}`);
      throw e;
    }
  }

  private async write(name: string, spec: TableSpec): Promise<TableLayout> {
    const source = quoteIdent(`__source_${name}`);
    await this.conn.run(`CREATE OR REPLACE TEMP TABLE ${source} AS ${spec.rows}`);
    const count = spec.hash?.buckets ?? spec.files?.count ?? 1;
    const fileOf = spec.hash
      ? `hash(${spec.hash.column}) % ${spec.hash.buckets}`
      : (spec.files?.fileOf ?? '0');
    const columns = (await this.conn.runAndReadAll(`DESCRIBE ${source}`))
      .getRows()
      .map((r) => ({ name: String(r[0]), type: String(r[1]) }));
    const files: LayoutFile[] = [];
    for (let i = 0; i < count; i++) {
      const path = join(this.dir, `table_${this.files++}.parquet`);
      const groupSize = spec.rowGroupSize ? `, ROW_GROUP_SIZE ${spec.rowGroupSize}` : '';
      await this.conn.run(
        `COPY (SELECT * FROM ${source} WHERE (${fileOf}) = ${i}) TO ${quoteLiteral(path)} (FORMAT parquet${groupSize})`,
      );
      files.push({
        path,
        ...(await this.fileFacts(path, columns)),
        ...(spec.hash ? { bucket: i } : {}),
        ...(spec.rowGroupSize ? { rowGroups: await this.rowGroups(path, columns) } : {}),
      });
    }
    const layout: TableLayout = {
      name,
      columns,
      files,
      distribution: spec.hash
        ? {
            kind: 'hash',
            column: spec.hash.column,
            buckets: spec.hash.buckets,
            colocationGroup: spec.hash.group,
          }
        : spec.reference
          ? { kind: 'reference' }
          : { kind: 'balanced' },
    };
    this.tables.set(name, layout);
    const list = files.map((f) => quoteLiteral(f.path)).join(', ');
    await this.conn.run(
      `CREATE OR REPLACE VIEW ${quoteIdent(name)} AS SELECT * FROM read_parquet([${list}])`,
    );
    await this.conn.run(`DROP TABLE ${source}`);
    return layout;
  }

  /** The file's row groups as parquet_metadata lists them, each with min/max/NULL statistics. */
  private async rowGroups(
    path: string,
    columns: readonly { name: string; type: string }[],
  ): Promise<LayoutRowGroup[]> {
    const meta = await this.conn.runAndReadAll(
      `SELECT row_group_id, any_value(row_group_num_rows), sum(total_compressed_size)
       FROM parquet_metadata(${quoteLiteral(path)}) GROUP BY row_group_id ORDER BY row_group_id`,
    );
    const out: LayoutRowGroup[] = [];
    let start = 0;
    for (const [, rows, bytes] of meta.getRows()) {
      const n = Number(rows);
      const where = `file_row_number >= ${start} AND file_row_number < ${start + n}`;
      const stats = await this.stats(
        `(SELECT * FROM read_parquet(${quoteLiteral(path)}, file_row_number = true) WHERE ${where})`,
        columns,
      );
      out.push({ rows: n, bytes: Number(bytes), stats });
      start += n;
    }
    return out;
  }

  private async stats(
    relation: string,
    columns: readonly { name: string; type: string }[],
  ): Promise<Record<string, ColumnStat>> {
    const stats: Record<string, ColumnStat> = {};
    for (const c of columns) {
      if (c.type.endsWith(']') || c.type.startsWith('STRUCT') || c.type.startsWith('MAP')) continue;
      const col = quoteIdent(c.name);
      const q = `SELECT CAST(min(${col}) AS VARCHAR), CAST(max(${col}) AS VARCHAR), count(*) - count(${col}) FROM ${relation}`;
      const [min, max, nulls] = (await this.conn.runAndReadAll(q)).getRows()[0]!;
      stats[c.name] = {
        min: min === null ? null : String(min),
        max: max === null ? null : String(max),
        nulls: Number(nulls),
      };
    }
    return stats;
  }

  private async fileFacts(
    path: string,
    columns: readonly { name: string; type: string }[],
  ): Promise<{ rows: number; bytes: number; stats: Record<string, ColumnStat> }> {
    const size = await this.conn.runAndReadAll(`SELECT count(*) FROM read_parquet(${quoteLiteral(path)})`);
    const rows = Number(size.getRows()[0]![0]);
    const stats = await this.stats(`read_parquet(${quoteLiteral(path)})`, columns);
    const bytes = await this.conn.runAndReadAll(
      `SELECT sum(total_compressed_size) FROM parquet_metadata(${quoteLiteral(path)})`,
    );
    return { rows, bytes: Number(bytes.getRows()[0]![0] ?? 0), stats };
  }

  async plan(sql: string, overrides: Partial<PlanContext> = {}): Promise<DistributedPlan> {
    return planQuery(sql, this.context(overrides));
  }

  /** Plans `sql`, runs it with runLocally and asserts DuckDB's single-node answer; returns the plan. */
  async check(
    sql: string,
    options: CheckOptions = {},
    overrides: Partial<PlanContext> = {},
  ): Promise<DistributedPlan> {
    const plan = await this.plan(sql, overrides);
    const label = `${sql}\n(plan: ${plan.mode}${plan.reason ? `, ${plan.reason}` : ''})`;
    if (plan.reason?.includes('planner error')) throw new Error(`the planner failed on ${label}`);
    if (options.mode && plan.mode !== options.mode) {
      throw new Error(`expected a ${options.mode} plan for ${label}`);
    }
    if (options.tasks !== undefined && plan.stages[0]?.tasks.length !== options.tasks) {
      throw new Error(
        `expected ${options.tasks} tasks, got ${plan.stages[0]?.tasks.length ?? 0} for ${label}`,
      );
    }
    const expected = await this.conn.runAndReadAll(sql);
    let actual: DuckDBResultReader;
    try {
      actual = await runLocally(plan, this.instance);
    } catch (e) {
      throw new Error(
        `running the plan failed for ${label}: ${(e as Error).message}\n${JSON.stringify(plan, null, 1)}`,
      );
    }
    const diff = compareResults(expected, actual, options.ordered ?? false);
    if (diff)
      throw new Error(
        `${diff}\nfor ${label}\nmerge: ${plan.merge.sql}\ntask: ${plan.stages[0]?.tasks[0]?.sql}`,
      );
    return plan;
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function isFloat(type: string): boolean {
  return type === 'DOUBLE' || type === 'FLOAT';
}

/** Why two results differ (names, types, row count, values), or undefined when they match. */
export function compareResults(
  expected: DuckDBResultReader,
  actual: DuckDBResultReader,
  ordered: boolean,
): string | undefined {
  const names = [JSON.stringify(expected.columnNames()), JSON.stringify(actual.columnNames())];
  if (names[0] !== names[1]) return `column names differ: expected ${names[0]}, got ${names[1]}`;
  const types = [expected.columnTypes().map(String), actual.columnTypes().map(String)];
  if (JSON.stringify(types[0]) !== JSON.stringify(types[1])) {
    return `column types differ: expected ${types[0]!.join(', ')}, got ${types[1]!.join(', ')}`;
  }
  const floats = types[0]!.map(isFloat);
  let exp = expected.getRowsJson() as unknown[][];
  let act = actual.getRowsJson() as unknown[][];
  if (exp.length !== act.length) return `expected ${exp.length} rows, got ${act.length}`;
  if (!ordered) {
    // Sort by the exact columns first, then by floats rounded well above the tolerance.
    const key = (row: unknown[]) =>
      JSON.stringify([
        ...row.filter((_, i) => !floats[i]),
        ...row.filter((_, i) => floats[i]).map((v) => (typeof v === 'number' ? Number(v.toPrecision(6)) : v)),
      ]);
    const sorted = (rows: unknown[][]) =>
      rows
        .map((row) => ({ row, key: key(row) }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
        .map((x) => x.row);
    exp = sorted(exp);
    act = sorted(act);
  }
  for (let r = 0; r < exp.length; r++) {
    for (let c = 0; c < floats.length; c++) {
      const e = exp[r]![c];
      const a = act[r]![c];
      if (floats[c] && typeof e === 'number' && typeof a === 'number') {
        const scale = Math.max(Math.abs(e), Math.abs(a));
        if (
          Math.abs(e - a) <= Math.max(FLOAT_TOLERANCE * scale, 1e-12) ||
          (Number.isNaN(e) && Number.isNaN(a))
        ) {
          continue;
        }
      }
      if (JSON.stringify(e) !== JSON.stringify(a)) {
        return `row ${r}, column ${c}: expected ${JSON.stringify(exp[r])}, got ${JSON.stringify(act[r])}`;
      }
    }
  }
  return undefined;
}
