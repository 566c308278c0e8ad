import { stat } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import {
  BIGINT,
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
  VARCHAR,
} from '@duckdb/node-api';
import { loadModule, parseSync } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';
import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import type { Catalog } from '../catalog/Catalog.js';
import type { ColumnDef, TableEntry, ViewDef } from '../catalog/CatalogModel.js';
import type { CatalogTransaction, ColumnSpec } from '../catalog/CatalogTransaction.js';
import { CatalogView } from '../catalog/CatalogView.js';
import { tasksRelationSql, workersRelationSql } from '../cluster/systemViews.js';
import { bindParameters } from '../distributed/bindParameters.js';
import {
  DistributedCursor,
  type MergeSession,
  startDistributedQuery,
} from '../distributed/DistributedQuery.js';
import { type QueryRecord, type SessionPlanner, startedRecord } from '../distributed/DistributedRuntime.js';
import { PhaseClock } from '../distributed/PhaseClock.js';
import { remoteTableWriter } from '../distributed/remoteTableWriter.js';
import { CLUSTER_VIEWS, phasesText, queriesRelationSql } from '../distributed/systemViews.js';
import { coordinatorOnlyReason } from '../distributed/taskSafety.js';
import type { PreparedQuery, QueryCursor, ResultColumn, SessionExecutor } from '../executor/Executor.js';
import { mapDuckDBError } from '../executor/mapDuckDBError.js';
import {
  type ConstantExpr,
  type FunctionExpr,
  forEachTableRef,
  isSelectNode,
  type SelectNode,
  someNode,
  type TableFunctionRef,
} from '../planner/ast.js';
import { explainPlan } from '../planner/explain.js';
import { SqlParseError } from '../planner/SqlParser.js';
import type { CopyOptions } from '../sql/classifyStatement.js';
import { qualifyIntervalLiterals } from '../sql/intervalFields.js';
import type { SqlParser, SqlTree } from '../sql/SqlParser.js';
import { ROW_ID_COLUMN } from '../storage/buildRelation.js';
import { bindArgs, type SqlParams } from '../storage/sqlParams.js';
import { quoteLiteral } from '../storage/sqlText.js';
import type {
  DistributionSpec,
  RemoteTableWriter,
  RemoteWriteTask,
  TableStorage,
} from '../storage/TableStorage.js';
import { CatalogMirror } from './CatalogMirror.js';
import {
  BufferedCursor,
  type CommandOutcome,
  CommandQuery,
  ReleasingCursor,
  readAll,
} from './CommandQuery.js';
import { inferParamTypes } from './inferParamTypes.js';
import { SYSTEM_VIEW_SQL } from './mallardTables.js';
import {
  columnRef,
  constText,
  containsAny,
  expandStar,
  qualifyColumns,
  rangeVar,
  resTarget,
  returningTargets,
  selectStmt,
} from './pgAst.js';
import { RevalidatingQuery, relationNames, type SchemaStamp } from './RevalidatingQuery.js';
import {
  CATALOG_FUNCTIONS,
  callsFunction,
  type ResolvedRelation,
  rewriteSelect,
  type SelectRewriter,
} from './rewriteSelect.js';
import { type CopyLoad, copyableOptions, copyableType, SpooledCopy } from './SpooledCopy.js';
import { type StagePlan, stagePlan } from './stagePlan.js';
import {
  columnSpec,
  duckType,
  exprSql,
  type PgNode,
  strings,
  tableConstraint,
  tableElements,
} from './tableSpecFromAst.js';

await loadModule();

/** Schemas an unqualified name is looked up in, in order (PostgreSQL's `public`, then DuckDB's `main`). */
const SEARCH_PATH = ['public', 'main'];
/** The schema CREATE puts unqualified names in. */
const DEFAULT_SCHEMA = 'public';
/** Buckets of create_distributed_table when the call gives none (Citus's default shard count is 32). */
const DEFAULT_BUCKETS = 16;
/**
 * An INSERT of at least this many rows of bare parameters inside a transaction block (what COPY FROM
 * STDIN sends) is appended to a staging table and written as one Parquet load at the next statement
 * or at COMMIT: a file and a constraint check per 1000-row batch would cost more than the rows.
 */
const STAGE_MIN_ROWS = 100;
/** Attempts of a single-statement transaction that loses to a concurrent commit. */
const AUTOCOMMIT_ATTEMPTS = 5;
/** A staged load this large is written out before more rows are appended, so memory stays bounded. */
const STAGE_MAX_ROWS = 1_000_000;

/** Rows appended to a staging table on the storage's DuckDB, waiting to be loaded into a catalog table. */
interface PendingLoad {
  readonly tableId: number;
  readonly stage: string;
  readonly conn: DuckDBConnection;
  readonly appender: DuckDBAppender;
  /** SQL over the stage that yields the table's columns (defaults filled). */
  readonly select: string;
  rows: number;
}

type Relation =
  | { readonly kind: 'table'; readonly table: TableEntry }
  | { readonly kind: 'view'; readonly view: ViewDef }
  | { readonly kind: 'sequence'; readonly id: number };

/** One cell of a VALUES row: SQL text, or a value to draw from a sequence when the statement runs. */
type ValuePart = { readonly sql: string } | { readonly seq: number; readonly type: string };

/**
 * A session's executor over the transactional catalog: tables are Parquet files in the data directory
 * (TableStorage), not tables inside the coordinator's DuckDB file. DDL and DML on catalog tables are
 * translated from PostgreSQL's own parse (libpg-query) into catalog and storage calls; queries are
 * rewritten on DuckDB's parse so that each catalog table reads its snapshot's files; everything else
 * (and the actual SQL of every query) runs on the session's LocalExecutor.
 *
 * Transactions: `BEGIN` opens a catalog transaction on the first statement that needs one (its
 * snapshot), `COMMIT` publishes its writes atomically (first committer wins, 40001 otherwise) and
 * `ROLLBACK` or close() discards them. Outside a block each statement commits on its own.
 */
export class TableExecutor implements SessionExecutor {
  readonly #inner: SessionExecutor;
  readonly #storage: TableStorage;
  readonly #catalog: Catalog;
  readonly #parser: SqlParser;
  #block = false;
  #txn: CatalogTransaction | null = null;
  /** currval/lastval are per session, as in PostgreSQL. */
  readonly #seqValues = new Map<number, bigint>();
  #lastSeq: number | null = null;
  readonly #castTypes = new Map<string, SqlTree>();
  readonly #duckTypes = new Map<string, DuckDBType>();
  #pending: PendingLoad | null = null;
  #closed = false;
  readonly #mirror: CatalogMirror;
  #mirroring = false;
  /** Plans SELECTs for the cluster; absent: every query runs on the coordinator. */
  /** Directories of external files the workers can read too (see #distributedFileSource). */
  readonly #workerReadableDirs: readonly string[];
  readonly #planner: SessionPlanner | null;
  /** Distributed queries whose rows are being read, cancelled by interrupt(). */
  readonly #distributed = new Set<DistributedCursor>();
  /** The session's TimeZone in DuckDB (null: UTC); workers run in UTC. */
  #timeZone: string | null = null;

  constructor(
    inner: SessionExecutor,
    storage: TableStorage,
    parser: SqlParser,
    planner?: SessionPlanner,
    options: TableExecutorOptions = {},
  ) {
    this.#workerReadableDirs = options.workerReadableDirs ?? [];
    this.#inner = inner;
    this.#storage = storage;
    this.#catalog = storage.catalog;
    this.#parser = parser;
    this.#planner = planner ?? null;
    this.#mirror = CatalogMirror.of(storage.catalog);
  }

  /** True inside BEGIN ... COMMIT. */
  get inTransaction(): boolean {
    return this.#block;
  }

  async prepare(sql: string, paramTypeHints: readonly (DuckDBType | null)[]): Promise<PreparedQuery> {
    await this.#syncMirror();
    let stmts: PgNode[] | null = null;
    try {
      stmts = (parseSync(sql) as { stmts?: { stmt: PgNode }[] }).stmts?.map((s) => s.stmt) ?? [];
      // Queries inside CREATE TABLE AS, INSERT, views and EXPLAIN are written back by pgsql-deparser.
      qualifyIntervalLiterals(stmts);
    } catch {
      stmts = null;
    }
    // Taken before preparing: a DDL committed meanwhile then prepares the statement again, never late.
    const names = await this.#statementNames(sql, stmts);
    const stamp = names.length ? this.#schemaStamp(names) : null;
    const q = await this.#prepareParsed(sql, paramTypeHints, stmts);
    if (!stamp) return q;
    return new RevalidatingQuery(
      q,
      stamp,
      () => this.#schemaStamp(names),
      (types) => this.#prepareParsed(sql, types, stmts),
    );
  }

  /**
   * The relations a query or DML statement names, whose definitions its prepared form depends on;
   * empty for other statements (DDL, transaction control), which are not kept across DDL.
   */
  async #statementNames(
    sql: string,
    stmts: readonly PgNode[] | null,
  ): Promise<{ schema: string | null; name: string }[]> {
    if (stmts) {
      if (stmts.length !== 1) return [];
      const [kind] = Object.keys(stmts[0]!);
      if (kind !== 'SelectStmt' && kind !== 'InsertStmt' && kind !== 'UpdateStmt' && kind !== 'DeleteStmt')
        return [];
      return relationNames(stmts[0]);
    }
    const tree = await this.#parser.parse(sql).catch(() => null);
    return tree ? relationNames(tree) : [];
  }

  /** What `names` resolve to now, for this session (its block's own DDL included). */
  #schemaStamp(names: readonly { schema: string | null; name: string }[]): SchemaStamp {
    const view = this.#txn?.view ?? new CatalogView(this.#catalog.snapshotState());
    const out: unknown[] = [];
    const addView = (v: ViewDef, depth: number) => {
      out.push(v);
      if (depth > 16) return;
      for (const id of v.dependsOn) {
        const dep = view.state.views.get(id);
        if (dep) addView(dep, depth + 1);
        else out.push(view.state.tables.get(id)?.def ?? null);
      }
    };
    for (const n of names) {
      const r = this.#lookup(view, n.schema, n.name);
      if (!r) out.push(null);
      else if (r.kind === 'table') out.push(r.table.def);
      else if (r.kind === 'view') addView(r.view, 0);
      else out.push(view.sequence(r.id)?.def ?? null);
    }
    return out;
  }

  async #prepareParsed(
    sql: string,
    paramTypeHints: readonly (DuckDBType | null)[],
    stmts: PgNode[] | null,
  ): Promise<PreparedQuery> {
    try {
      if (stmts?.length === 1) {
        const q = await this.#prepareStatement(sql, paramTypeHints, stmts[0]!);
        if (q) return q;
        return this.#inner.prepare(sql, paramTypeHints);
      }
      // Not PostgreSQL syntax (or several statements): a DuckDB query may still read catalog tables.
      const q = await this.#prepareSelect(sql, paramTypeHints);
      if (
        q.tag === 'CREATE TABLE' ||
        q.tag === 'CREATE TABLE AS' ||
        (q.tag === 'SELECT' && !q.columns.length)
      ) {
        // A DuckDB-only CREATE TABLE would make a table inside the coordinator's DuckDB file, outside
        // the catalog that workers read.
        q.close();
        throw new PgError(
          SqlState.FeatureNotSupported,
          'CREATE TABLE must be written in PostgreSQL syntax; write DuckDB-only types as quoted names',
          {
            hint: 'For example: CREATE TABLE t (s "STRUCT(a INTEGER, b VARCHAR)", m "MAP(VARCHAR, INTEGER)")',
          },
        );
      }
      return q;
    } catch (err) {
      throw toPgError(err);
    }
  }

  interrupt(message?: string): void {
    for (const cursor of this.#distributed) cursor.cancel(message);
    this.#inner.interrupt(message);
  }

  async setTimeZone(zone: string | null): Promise<void> {
    await this.#inner.setTimeZone?.(zone);
    this.#timeZone = zone;
  }

  async checkSyntax(sql: string): Promise<void> {
    try {
      parseSync(sql);
      return;
    } catch {
      // DuckDB-only syntax: let DuckDB decide.
    }
    await this.#inner.checkSyntax?.(sql);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#discardPending();
    // A disconnect is a rollback.
    await this.#txn?.rollback().catch(() => {});
    this.#txn = null;
    for (const cursor of this.#distributed) cursor.close();
    await this.#inner.close();
    this.#planner?.close();
  }

  /**
   * Brings the DuckDB mirror of the catalog (what pg_catalog and information_schema list) up to the
   * newest committed schema. Not inside a transaction block: the mirror's DDL would be part of it.
   */
  async #syncMirror(): Promise<void> {
    if (this.#block || this.#mirroring) return;
    const state = this.#catalog.snapshotState();
    if (this.#mirror.isCurrent(state)) return;
    this.#mirroring = true;
    try {
      await this.#mirror.sync(state, {
        run: (sql) => this.#runInner(sql),
        rows: async (sql) => {
          const q = await this.#inner.prepare(sql, []);
          try {
            const out: unknown[][] = [];
            for (const b of await readAll(await q.execute([]))) {
              for (let r = 0; r < b.rowCount; r++) out.push(b.columns.map((c) => c.getItem(r)));
            }
            return out;
          } finally {
            q.close();
          }
        },
        viewColumns: (v) =>
          this.#withView(async (view) => {
            const tree = await this.#parser.parse(v.sql);
            if (!tree) return null;
            const out = await rewriteSelect(this.#parser, tree, this.#resolver(view, { dry: true }));
            const q = await this.#inner.prepare(out.sql, []);
            const columns = q.columns.map((c, i) => ({
              name: v.columns?.[i] ?? c.name,
              type: c.type.toString(),
            }));
            q.close();
            return columns;
          }),
      });
    } catch {
      // The mirror only serves introspection: a statement never fails because of it.
    } finally {
      this.#mirroring = false;
    }
  }

  /**
   * COPY FROM STDIN into a catalog table inside the session's transaction (the session opens one for
   * it): data DuckDB's CSV reader can take is spooled and loaded whole (SpooledCopy); null when the
   * COPY must go row by row (binary format, FORCE_* options, types or defaults it cannot take).
   */
  async openCopy(command: {
    readonly table: string;
    readonly columns: readonly string[] | null;
    readonly options: CopyOptions;
  }): Promise<CopyLoad | null> {
    if (!this.#block || !copyableOptions(command.options)) return null;
    const txn = this.#blockTxn();
    let def: TableEntry['def'];
    try {
      def = txn.view.requireTable(this.#tableRefByText(txn.view, command.table)).def;
    } catch {
      return null;
    }
    const names = command.columns ?? def.columns.map((c) => c.name);
    if (names.some((n) => !def.columns.some((c) => c.name === n))) return null;
    const columns = def.columns.map((column) => ({ column, field: names.indexOf(column.name) }));
    for (const c of columns) {
      // A sequence default draws a value per row from the catalog: the row-by-row path does that.
      if (c.field >= 0 ? !copyableType(c.column.type) : c.column.sequence !== null) return null;
    }
    // Rows an earlier INSERT staged go first, so that the load's constraint check sees them.
    await this.#flushPending();
    // Parts are written by the workers, several at once, unless a default must be computed here.
    const runtime = this.#planner?.runtime;
    const remote =
      runtime && runtime.slots() > 0 && columns.every((c) => c.field >= 0 || !c.column.default)
        ? remoteTableWriter(runtime.client)
        : undefined;
    return new SpooledCopy(
      this.#storage.dataDir,
      command.options,
      columns,
      names.length,
      () => this.#storage.bulkLoad(txn, def.id, remote),
      this.#storage.loadPartBytes,
      remote ? runtime!.slots() : 1,
    );
  }

  /**
   * The load tasks of a large INSERT ... SELECT or CREATE TABLE AS: when the planner distributes the
   * query as a scan whose task results only need concatenating (no order, limit or aggregate), each
   * task's rows go straight into table files on its worker (`shape` turns the query's rows into the
   * table's columns). Null when the rows are to be computed here: no workers, a small or local query,
   * or a merge that needs the coordinator.
   */
  async #distributedSource(
    querySql: string,
    view: CatalogView,
    shape: (rows: string) => string = (rows) => rows,
  ): Promise<DistributedLoad | null> {
    const planner = this.#planner;
    if (!planner || planner.runtime.slots() === 0 || (this.#timeZone !== null && this.#timeZone !== 'UTC'))
      return null;
    try {
      const statements = await planner.parser.parse(querySql);
      if (statements.length !== 1) return null;
      if (coordinatorOnlyReason(statements, (ref) => this.#tableReason(view, ref))) return null;
      const plan = await planner.plan(querySql, view, null);
      const stage = plan.stages[0];
      const m = plan.merge;
      if (plan.mode !== 'distributed' || plan.stages.length !== 1 || !stage || stage.kind === 'shuffle-write')
        return null;
      if (m.kind !== 'concat' || m.limit !== undefined || m.offset !== undefined) return null;
      // The merge of a concatenation is a projection of each row: applied to one task's rows, it gives
      // that task's share of the answer.
      const tasks = stage.tasks.map((t) => ({
        sql: shape(`WITH task_results AS (${t.sql}) ${m.sql}`),
        files: [] as string[],
      }));
      return { tasks, remote: remoteTableWriter(planner.runtime.client) };
    } catch (err) {
      planner.runtime.logger?.debug({ sql: querySql, err: String(err) }, 'the load runs on the coordinator');
      return null;
    }
  }

  /**
   * The load tasks of a large INSERT ... SELECT or CREATE TABLE AS over Parquet files the workers can
   * read too (`workerReadableDirs`): a query that only projects and filters the rows of one
   * `read_parquet(<path, glob or list>)` is run once per group of its files, each group's rows written
   * by a worker. Null when it must run here: other shapes (joins, aggregates, ORDER BY, DISTINCT, window
   * functions, subqueries, union_by_name), a single file, or a file outside those directories.
   */
  async #distributedFileSource(
    querySql: string,
    shape: (rows: string) => string = (rows) => rows,
  ): Promise<DistributedLoad | null> {
    const planner = this.#planner;
    if (!planner || !this.#workerReadableDirs.length || planner.runtime.slots() === 0) return null;
    if (this.#timeZone !== null && this.#timeZone !== 'UTC') return null;
    try {
      const statements = await planner.parser.parse(querySql);
      const stmt = statements[0];
      if (statements.length !== 1 || !stmt || !isSelectNode(stmt.node)) return null;
      const node = stmt.node;
      const from = node.from_table as TableFunctionRef;
      if (from.type !== 'TABLE_FUNCTION') return null;
      const fn = from.function;
      const reader = fn.function_name.toLowerCase();
      if ((reader !== 'read_parquet' && reader !== 'parquet_scan') || fn.schema !== '') return null;
      // Rows pass through one by one: nothing may combine rows across files.
      if (node.modifiers.length || node.group_expressions.length || node.group_sets.length) return null;
      if (node.having || node.qualify || node.sample || node.cte_map.map.length) return null;
      const aggregates = await planner.parser.aggregateFunctions();
      const rest = { select: node.select_list, where: node.where_clause, options: fn.children.slice(1) };
      const combines = someNode(rest, (n) => {
        if (n['class'] === 'WINDOW' || n['class'] === 'SUBQUERY') return true;
        return n['class'] === 'FUNCTION' && aggregates.has(String(n['function_name']).toLowerCase());
      });
      if (combines) return null;
      // Per-file schemas may differ: a task's files must not decide the columns.
      const unionByName = fn.children
        .slice(1)
        .some((o) =>
          someNode(o, (n) => (n['column_names'] as string[] | undefined)?.[0] === 'union_by_name'),
        );
      if (unionByName) return null;
      // No function of the coordinator's session either (the FROM checked above, it is left out here).
      const probe = structuredClone(stmt);
      (probe.node as SelectNode).from_table = { type: 'EMPTY', alias: '', sample: null } as never;
      if (coordinatorOnlyReason([probe], () => null)) return null;

      const arg = fn.children[0];
      const constants =
        arg?.class === 'CONSTANT'
          ? [arg as ConstantExpr]
          : (arg?.class === 'FUNCTION' && (arg as FunctionExpr).function_name === 'list_value') ||
              arg?.type === 'ARRAY_CONSTRUCTOR'
            ? ((arg as FunctionExpr).children as ConstantExpr[])
            : [];
      if (!constants.length || constants.some((c) => c.class !== 'CONSTANT')) return null;
      const files: { path: string; bytes: number }[] = [];
      for (const c of constants) {
        const pattern = (c.value as { value?: unknown }).value;
        if (typeof pattern !== 'string') return null;
        // The coordinator's own sandbox expands the glob: a path outside the readable directories fails
        // here and then, with its 42501, on the coordinator's path.
        for (const [file] of await planner.parser.query(`SELECT file FROM glob(${quoteLiteral(pattern)})`)) {
          const path = String(file);
          const inside = this.#workerReadableDirs.some((d) => {
            const r = relative(d, path);
            return r !== '' && !r.startsWith('..') && !isAbsolute(r);
          });
          if (!inside) return null;
          files.push({ path, bytes: (await stat(path)).size });
        }
      }
      if (files.length < 2) return null;
      // Groups of about equal bytes, a few per worker slot so that stragglers even out.
      const groups: { paths: string[]; bytes: number }[] = Array.from(
        { length: Math.min(files.length, 2 * planner.runtime.slots()) },
        () => ({ paths: [], bytes: 0 }),
      );
      for (const f of [...files].sort((a, b) => b.bytes - a.bytes)) {
        const lightest = groups.reduce((a, b) => (b.bytes < a.bytes ? b : a));
        lightest.paths.push(f.path);
        lightest.bytes += f.bytes;
      }
      const template = constants[0]!;
      const tasks: RemoteWriteTask[] = [];
      for (const g of groups) {
        const copy = structuredClone(stmt);
        const call = ((copy.node as SelectNode).from_table as TableFunctionRef).function;
        call.children[0] = {
          class: 'FUNCTION',
          type: 'FUNCTION',
          alias: '',
          function_name: 'list_value',
          schema: 'main',
          catalog: '',
          children: g.paths.map((p) => ({
            ...structuredClone(template),
            value: { ...(template.value as object), value: p },
          })),
          filter: null,
          order_bys: { type: 'ORDER_MODIFIER', orders: [] },
          distinct: false,
          is_operator: false,
          export_state: false,
        } as FunctionExpr;
        tasks.push({ sql: shape(await planner.parser.deparse(copy)), files: [] });
      }
      return { tasks, remote: remoteTableWriter(planner.runtime.client) };
    } catch (err) {
      planner.runtime.logger?.debug(
        { sql: querySql, err: String(err) },
        'the file load runs on the coordinator',
      );
      return null;
    }
  }

  // ---- dispatch

  async #prepareStatement(
    sql: string,
    hints: readonly (DuckDBType | null)[],
    node: PgNode,
  ): Promise<PreparedQuery | null> {
    const [kind] = Object.keys(node);
    const s = node[kind!] as PgNode;
    switch (kind) {
      case 'TransactionStmt':
        return this.#prepareTransaction(sql, hints, s);
      case 'SelectStmt': {
        const call = this.#distributionCall(s);
        if (call) return call;
        return this.#prepareSelect(sql, hints);
      }
      case 'CreateStmt':
        return this.#prepareCreateTable(s);
      case 'CreateTableAsStmt':
        return this.#prepareCreateTableAs(s, hints);
      case 'DropStmt':
        return this.#prepareDrop(s);
      case 'AlterTableStmt':
        return this.#prepareAlterTable(s);
      case 'RenameStmt':
        return this.#prepareRename(s);
      case 'ViewStmt':
        return this.#prepareCreateView(s);
      case 'IndexStmt':
        return this.#prepareCreateIndex(s);
      case 'CreateSeqStmt':
        return this.#prepareCreateSequence(s);
      case 'CreateSchemaStmt':
        return this.#ddl('CREATE SCHEMA', async (txn) => {
          txn.createSchema(String(s['schemaname']), { ifNotExists: Boolean(s['if_not_exists']) });
        });
      case 'CreateEnumStmt': {
        const parts = strings(s['typeName']);
        const name = {
          schema: parts.length > 1 ? parts[parts.length - 2]! : DEFAULT_SCHEMA,
          name: parts.at(-1)!,
        };
        const labels = strings(s['vals']);
        return this.#ddl('CREATE TYPE', async (txn) => {
          txn.createType(name, labels);
        });
      }
      case 'ExplainStmt':
        return this.#prepareExplain(s);
      case 'TruncateStmt':
        return this.#prepareTruncate(s);
      case 'VacuumStmt':
        return this.#prepareVacuum(s);
      case 'InsertStmt':
        return this.#prepareInsert(hints, s);
      case 'UpdateStmt':
        return this.#prepareUpdate(hints, s);
      case 'DeleteStmt':
        return this.#prepareDelete(hints, s);
      default:
        return null;
    }
  }

  // ---- transactions

  async #prepareTransaction(
    sql: string,
    hints: readonly (DuckDBType | null)[],
    s: PgNode,
  ): Promise<PreparedQuery | null> {
    const kind = String(s['kind']);
    const begin = kind === 'TRANS_STMT_BEGIN' || kind === 'TRANS_STMT_START';
    const commit = kind === 'TRANS_STMT_COMMIT';
    const rollback = kind === 'TRANS_STMT_ROLLBACK';
    if (!begin && !commit && !rollback) return null;
    const inner = await this.#inner.prepare(sql, hints);
    return new CommandQuery(
      inner.tag,
      inner.tagHasCount,
      [],
      [],
      async () => {
        if (begin) {
          await readAll(await inner.execute([]));
          this.#block = true;
          return { rowsChanged: 0 };
        }
        if (commit && !this.#block) {
          await readAll(await inner.execute([]));
          return { rowsChanged: 0 };
        }
        try {
          if (commit) await this.#flushPending();
        } catch (err) {
          await this.#txn?.rollback();
          this.#txn = null;
          this.#block = false;
          await this.#runInner('ROLLBACK').catch(() => {});
          throw toPgError(err);
        }
        this.#discardPending();
        const txn = this.#txn;
        this.#txn = null;
        this.#block = false;
        if (commit && txn) {
          try {
            await txn.commit();
          } catch (err) {
            await this.#runInner('ROLLBACK').catch(() => {});
            throw err;
          }
        } else {
          await txn?.rollback();
        }
        await readAll(await inner.execute([]));
        return { rowsChanged: 0 };
      },
      () => inner.close(),
    );
  }

  /** The block's transaction, begun (and its snapshot taken) by the first statement that needs it. */
  #blockTxn(): CatalogTransaction {
    if (!this.#txn) this.#txn = this.#catalog.begin();
    return this.#txn;
  }

  /** The catalog as this session's next statement sees it; `release` unpins it. */
  #readView(): { view: CatalogView; release: () => void } {
    if (this.#block) return { view: this.#blockTxn().view, release: () => {} };
    const snap = this.#catalog.snapshot();
    return { view: snap, release: () => snap.release() };
  }

  async #withView<T>(fn: (view: CatalogView) => Promise<T>): Promise<T> {
    const { view, release } = this.#readView();
    try {
      return await fn(view);
    } finally {
      release();
    }
  }

  /**
   * Runs a writing statement: in the block's transaction (undone on failure, the transaction kept),
   * or in its own transaction that commits before the statement completes.
   */
  async #write<T>(fn: (txn: CatalogTransaction) => Promise<T>): Promise<T> {
    try {
      await this.#flushPending();
      if (this.#block) {
        const txn = this.#blockTxn();
        const sp = txn.savepoint();
        try {
          return await fn(txn);
        } catch (err) {
          if (txn.status === 'active') await txn.rollbackTo(sp);
          throw err;
        }
      }
      // A statement on its own is retried on a fresh snapshot when a concurrent commit (often the
      // background compaction moving the rows it changes) wins: PostgreSQL's READ COMMITTED would
      // re-check the row and go on, never failing a single statement with 40001.
      for (let attempt = 1; ; attempt++) {
        const txn = this.#catalog.begin();
        try {
          const result = await fn(txn);
          await txn.commit();
          return result;
        } catch (err) {
          await txn.rollback();
          const conflict = err instanceof PgError && err.code === SqlState.SerializationFailure;
          if (!conflict || attempt >= AUTOCOMMIT_ATTEMPTS) throw err;
        }
      }
    } catch (err) {
      throw toPgError(err);
    }
  }

  #ddl(tag: string, fn: (txn: CatalogTransaction) => Promise<void>): CommandQuery {
    return new CommandQuery(tag, false, [], [], async () => {
      await this.#write(fn);
      return { rowsChanged: 0 };
    });
  }

  async #runInner(sql: string): Promise<void> {
    const q = await this.#inner.prepare(sql, []);
    try {
      await readAll(await q.execute([]));
    } finally {
      q.close();
    }
  }

  // ---- names

  /** A table, view or sequence of the catalog; unqualified names go through SEARCH_PATH. */
  #lookup(view: CatalogView, schema: string | null | undefined, name: string): Relation | null {
    const schemas = schema ? [schema] : SEARCH_PATH;
    for (const candidate of name === name.toLowerCase() ? [name] : [name, name.toLowerCase()]) {
      for (const sc of schemas) {
        const q = { schema: sc, name: candidate };
        const kind = view.relationKind(q);
        if (kind === 'table') return { kind, table: view.requireTable(q) };
        if (kind === 'view') return { kind, view: view.view(q)! };
        if (kind === 'sequence') return { kind, id: view.requireSequence(q).def.id };
      }
    }
    return null;
  }

  #lookupRangeVar(view: CatalogView, rv: PgNode): Relation | null {
    return this.#lookup(view, rv['schemaname'] as string | undefined, String(rv['relname']));
  }

  #requireTable(view: CatalogView, rv: PgNode): TableEntry {
    const r = this.#lookupRangeVar(view, rv);
    if (r?.kind === 'table') return r.table;
    throw new PgError(SqlState.UndefinedTable, `relation "${String(rv['relname'])}" does not exist`);
  }

  /** A sequence named by text, as nextval('name') takes it: `s`, `public.s`, `"public"."t_id_seq"`. */
  #sequenceByText(view: CatalogView, text: string): number {
    let rv: PgNode | undefined;
    try {
      rv = (parseSync(`SELECT 1 FROM ${text}`) as PgNode).stmts[0].stmt.SelectStmt.fromClause[0].RangeVar;
    } catch {
      rv = undefined;
    }
    const r = rv ? this.#lookupRangeVar(view, rv) : null;
    if (r?.kind !== 'sequence')
      throw new PgError(SqlState.UndefinedTable, `relation "${text}" does not exist`);
    return r.id;
  }

  /** Resolves table references of a query for `view`; `extra` maps placeholder names to relations. */
  #resolver(
    view: CatalogView,
    options: { dry?: boolean; deps?: Set<number>; extra?: ReadonlyMap<string, string> } = {},
  ): SelectRewriter {
    return {
      relation: async (schema, name): Promise<ResolvedRelation | null> => {
        const extra = options.extra?.get(name);
        if (extra !== undefined) return { sql: extra };
        const cluster = schema ? null : this.#clusterViewSql(name.toLowerCase());
        if (cluster !== null) return { sql: cluster };
        const system = schema ? undefined : SYSTEM_VIEW_SQL.get(name.toLowerCase());
        if (system) return { sql: system(view) };
        const r = this.#lookup(view, schema || null, name);
        if (!r) return null;
        if (r.kind === 'table') {
          options.deps?.add(r.table.def.id);
          return { sql: this.#storage.relation(view, r.table.def.id) };
        }
        if (r.kind === 'view') {
          options.deps?.add(r.view.id);
          const tree = await this.#parser.parse(r.view.sql);
          if (!tree) throw new PgError(SqlState.InternalError, `view "${r.view.name}" cannot be parsed`);
          const out = await rewriteSelect(
            this.#parser,
            tree,
            this.#resolver(view, { ...options, extra: undefined }),
          );
          return { sql: out.sql, columns: r.view.columns };
        }
        return null;
      },
      func: async (name, args) => {
        if (options.dry) return 'CAST(NULL AS BIGINT)';
        return this.#sequenceFunction(view, name, args);
      },
    };
  }

  async #sequenceFunction(view: CatalogView, name: string, args: readonly unknown[]): Promise<string | null> {
    if (name === 'lastval') {
      if (this.#lastSeq === null) {
        throw new PgError(
          SqlState.ObjectNotInPrerequisiteState,
          'lastval is not yet defined in this session',
        );
      }
      return bigintSql(this.#seqValues.get(this.#lastSeq)!);
    }
    if (typeof args[0] !== 'string') return null;
    const id = this.#sequenceByText(view, args[0]);
    if (name === 'nextval') return bigintSql(await this.#nextval(id));
    if (name === 'currval') {
      const v = this.#seqValues.get(id);
      if (v === undefined) {
        throw new PgError(
          SqlState.ObjectNotInPrerequisiteState,
          `currval of sequence "${view.requireSequence(id).def.name}" is not yet defined in this session`,
        );
      }
      return bigintSql(v);
    }
    if (name === 'setval' && args[1] !== undefined && args[1] !== null) {
      const value = BigInt(String(args[1]));
      const called = args[2] === undefined ? true : Boolean(args[2]);
      await this.#catalog.setval(id, value, called);
      if (called) {
        this.#seqValues.set(id, value);
        this.#lastSeq = id;
      }
      return bigintSql(value);
    }
    return null;
  }

  async #nextval(id: number): Promise<bigint> {
    const v = this.#block ? await this.#blockTxn().nextval(id) : await this.#catalog.nextval(id);
    this.#seqValues.set(id, v);
    this.#lastSeq = id;
    return v;
  }

  /** The client's parameter types, completed by PostgreSQL's operand rule (see inferParamTypes). */
  async #inferHints(
    hints: readonly (DuckDBType | null)[],
    nodes: readonly unknown[],
    def: { readonly columns: readonly ColumnDef[] },
  ): Promise<(DuckDBType | null)[]> {
    const found = inferParamTypes(nodes, (name) => def.columns.find((c) => c.name === name)?.type);
    const out = [...hints];
    for (const [i, type] of found) {
      while (out.length <= i) out.push(null);
      out[i] ??= await this.#duckType(type);
    }
    return out;
  }

  /** The DuckDBType of a catalog column type, as the session's DuckDB binds it. */
  async #duckType(type: string): Promise<DuckDBType> {
    const known = this.#duckTypes.get(type);
    if (known) return known;
    const q = await this.#inner.prepare(`SELECT CAST(NULL AS ${type})`, []);
    const t = q.columns[0]!.type;
    q.close();
    this.#duckTypes.set(type, t);
    return t;
  }

  /** The DuckDB tree of `CAST(x AS type)`'s type, for the cast markers of rewriteSelect. */
  async #castType(type: string): Promise<SqlTree> {
    const known = this.#castTypes.get(type);
    if (known) return known;
    const tree = await this.#parser.parse(`SELECT CAST(NULL AS ${type})`);
    const list = (tree?.['node'] as { select_list?: { cast_type?: SqlTree }[] } | undefined)?.select_list;
    const castType = list?.[0]?.cast_type;
    if (!castType) throw new PgError(SqlState.UndefinedObject, `type "${type}" does not exist`);
    this.#castTypes.set(type, castType);
    return castType;
  }

  // ---- queries

  /** A query: if it reads catalog tables (or calls sequence functions), each read is of its snapshot. */
  async #prepareSelect(sql: string, hints: readonly (DuckDBType | null)[]): Promise<PreparedQuery> {
    const tree = await this.#parser.parse(sql);
    if (!tree) return this.#inner.prepare(sql, hints);
    // nextval() and friends give new values each time: such a query is rewritten at every execution.
    // The cluster's system views change from one execution to the next, like nextval().
    let volatile = callsFunction(tree, CATALOG_FUNCTIONS);
    forEachTableRef(tree, (ref, cte) => {
      if (!cte && !ref.schema_name && CLUSTER_VIEWS.has(ref.table_name.toLowerCase())) volatile = true;
    });
    // Prepared while the snapshot is held: DuckDB's bind opens the files the rewrite names, and once
    // the snapshot is released a compaction's garbage collection may remove them.
    const probe = await this.#withView(async (view) => {
      const out = await rewriteSelect(
        this.#parser,
        structuredClone(tree),
        this.#resolver(view, { dry: true }),
      );
      return {
        key: this.#viewKey(view),
        out,
        typed: out.replaced ? await this.#inner.prepare(out.sql, hints) : null,
      };
    });
    if (!probe.typed) return this.#inner.prepare(sql, hints);
    const typed = probe.typed;
    const { tag, tagHasCount, paramTypes, columns } = typed;
    // The statement prepared for the last catalog version it ran on: executing it again on the same
    // version (the common case for an application's prepared queries) skips the rewrite and DuckDB's bind.
    let cache: { key: string; sql: string; q: PreparedQuery; busy: boolean } | null = null;
    if (!volatile && probe.key) cache = { key: probe.key, sql: probe.out.sql, q: typed, busy: false };
    else typed.close();
    return new CommandQuery(
      tag,
      tagHasCount,
      paramTypes,
      columns,
      async (params) => {
        await this.#flushPending().catch((err) => {
          throw toPgError(err);
        });
        const { view, release } = this.#readView();
        try {
          let record: QueryRecord | null = null;
          if (!volatile) {
            const cursor = await this.#distribute(sql, view, columns, params, paramTypes);
            if (cursor && !(cursor instanceof DistributedCursor)) record = cursor;
            else if (cursor) {
              const done = () => {
                this.#distributed.delete(cursor);
                release();
              };
              return { rowsChanged: 0, rows: new ReleasingCursor(cursor, done) };
            }
          }
          const key = volatile ? null : this.#viewKey(view);
          const text =
            key && cache?.key === key
              ? cache.sql
              : (await rewriteSelect(this.#parser, structuredClone(tree), this.#resolver(view))).sql;
          let q: PreparedQuery;
          let shared = false;
          if (cache && cache.sql === text && !cache.busy) {
            q = cache.q;
            shared = true;
          } else {
            q = await this.#inner.prepare(text, paramTypes);
            if (key && !cache?.busy) {
              cache?.q.close();
              cache = { key, sql: text, q, busy: false };
              shared = true;
            }
          }
          const entry = shared ? cache : null;
          if (entry) entry.busy = true;
          const done = () => {
            if (entry) entry.busy = false;
            else q.close();
            release();
          };
          let cursor: QueryCursor;
          try {
            cursor = await q.execute(params);
          } catch (err) {
            done();
            if (record) finishRecord(record, null, err);
            throw err;
          }
          if (record) {
            const r = record;
            const c = cursor;
            return {
              rowsChanged: 0,
              rows: new ReleasingCursor(cursor, () => finishRecord(r, c, null, done)),
            };
          }
          return { rowsChanged: 0, rows: new ReleasingCursor(cursor, done) };
        } catch (err) {
          release();
          throw toPgError(err);
        }
      },
      () => cache?.q.close(),
    );
  }

  /**
   * EXPLAIN [ANALYZE] of a query, with a cluster: the distributed plan (mode and why; per stage the
   * partitioning, the task count and each task's SQL; the merge strategy and SQL). ANALYZE runs the query
   * and adds each task attempt's worker, rows, bytes and times. Without a cluster, null: DuckDB's own.
   */
  async #prepareExplain(s: PgNode): Promise<PreparedQuery | null> {
    if (!this.#planner || !(s['query'] as PgNode | undefined)?.['SelectStmt']) return null;
    const options = ((s['options'] ?? []) as PgNode[]).map((o) => o['DefElem'] as PgNode | undefined);
    const analyze = options.some(
      (d) => d && String(d['defname']).toLowerCase() === 'analyze' && !isFalseOption(d['arg'] as PgNode),
    );
    const sql = deparseSync(s['query'], { pretty: false } as never);
    const column: ResultColumn = { name: 'QUERY PLAN', type: VARCHAR };
    return new CommandQuery('EXPLAIN', false, [], [column], async () => {
      const lines = await this.#explainLines(sql, analyze);
      const values = lines.map((l) => `(${quoteLiteral(l)})`).join(', ');
      const out = await this.#queryAll(`SELECT * FROM (VALUES ${values}) AS t("QUERY PLAN")`, [], []);
      return { rowsChanged: lines.length, rows: new BufferedCursor(out.columns, out.batches, lines.length) };
    });
  }

  async #explainLines(sql: string, analyze: boolean): Promise<string[]> {
    const planner = this.#planner!;
    await this.#flushPending();
    const lines = await this.#withView(async (view) => {
      let statements: Awaited<ReturnType<typeof planner.parser.parse>> = [];
      try {
        statements = await planner.parser.parse(sql);
      } catch (err) {
        if (!(err instanceof SqlParseError)) throw err;
        return ['mode: local', `reason: not a SELECT the planner reads (${err.message})`];
      }
      const reason = coordinatorOnlyReason(statements, (ref) => this.#tableReason(view, ref));
      if (reason) return ['mode: local', `reason: ${reason}`];
      return explainPlan(await planner.plan(sql, view, this.#viewKey(view)));
    });
    if (!analyze) return lines;
    const started = Date.now();
    const q = await this.prepare(sql, []);
    let rows = 0;
    try {
      for (const b of await readAll(await q.execute([]))) rows += b.rowCount;
    } finally {
      q.close();
    }
    const ms = Date.now() - started;
    const runtime = planner.runtime;
    const record = [...runtime.queries()].reverse().find((r) => r.sql === sql && r.startedAt >= started);
    if (record) {
      lines.push(`executed: ${record.mode}, ${record.tasks} tasks on ${record.workers} workers`);
      const attempts = runtime
        .tasks()
        .filter((t) => t.queryId === record.queryId)
        .sort((a, b) => a.taskId - b.taskId || a.attempt - b.attempt);
      for (const t of attempts) {
        lines.push(
          `  task ${t.taskId + 1} attempt ${t.attempt}: worker ${t.workerId}, ${t.status}, rows ${t.rows}, bytes ${t.bytes}, queue ${t.queueMs} ms, exec ${t.execMs} ms${t.error ? `, error: ${t.error.message}` : ''}`,
        );
      }
    } else lines.push('executed: on the coordinator');
    lines.push(`rows: ${rows}, time: ${ms} ms`);
    // Milliseconds from the query's start to the end of each phase (parse, plan, dispatch, merge, ...).
    const phases = record?.phases ? phasesText(record.phases) : undefined;
    if (phases) lines.push(`phases: ${phases}`);
    return lines;
  }

  /** Why a table reference keeps a query on the coordinator, or null when workers can scan it. */
  #tableReason(
    view: CatalogView,
    ref: { table_name: string; schema_name?: string; catalog_name?: string },
  ): string | null {
    const r = ref.catalog_name ? null : this.#lookup(view, ref.schema_name || null, ref.table_name);
    if (r?.kind !== 'table') return `${ref.table_name} is not a catalog table`;
    // DuckDB's SQL writer cannot spell ENUM types back (it quotes the keyword), so task SQL over an ENUM
    // column would not parse on a worker.
    if (r.table.def.columns.some((c) => c.type.toUpperCase().includes('ENUM')))
      return `${ref.table_name} has an ENUM column, which task SQL cannot carry`;
    return null;
  }

  /** SQL for a cluster system view (mallard_workers, mallard_tasks, mallard_queries), or null. */
  #clusterViewSql(name: string): string | null {
    const runtime = this.#planner?.runtime;
    if (!runtime || !CLUSTER_VIEWS.has(name)) return null;
    if (name === 'mallard_workers') return workersRelationSql(runtime.client.workers(), Date.now());
    if (name === 'mallard_tasks') return tasksRelationSql(runtime.tasks());
    return queriesRelationSql(runtime.queries());
  }

  /**
   * Runs a query on the cluster when the planner distributes it over catalog tables; null when it is
   * to run here instead (no cluster, a local or gathered plan, or something only the coordinator has).
   */
  async #distribute(
    text: string,
    view: CatalogView,
    columns: readonly ResultColumn[],
    params: readonly DuckDBValue[],
    paramTypes: readonly DuckDBType[],
  ): Promise<DistributedCursor | QueryRecord | null> {
    const clock = new PhaseClock();
    const planner = this.#planner;
    const inner = this.#inner;
    const withConnection = inner.withConnection?.bind(inner);
    if (!withConnection) return null;
    const session: MergeSession = { prepare: (q, hints) => inner.prepare(q, hints), withConnection };
    if (!planner || (this.#timeZone !== null && this.#timeZone !== 'UTC') || planner.runtime.slots() === 0)
      return null;
    let statements: Awaited<ReturnType<typeof planner.parse>>;
    try {
      statements = await planner.parse(text);
    } catch (err) {
      if (err instanceof SqlParseError) return null;
      throw err;
    }
    // Task SQL cannot carry placeholders: the parameters' values are written into it as typed literals.
    let sql = text;
    if (params.length > 0) {
      const bound = await bindParameters(planner.parser, statements, params, paramTypes);
      if (bound?.length !== 1) return null;
      statements = bound;
      sql = await planner.parser.deparse(bound[0]!);
    }
    const reason = coordinatorOnlyReason(statements, (ref) => this.#tableReason(view, ref));
    if (reason) return null;
    clock.mark('parse');
    let plan: Awaited<ReturnType<typeof planner.plan>>;
    try {
      plan = await planner.plan(sql, view, params.length > 0 ? null : this.#viewKey(view));
    } catch (err) {
      // A planner defect must not fail a query the coordinator can answer: it runs here, whole.
      planner.runtime.logger?.warn({ sql, err: String(err) }, 'planning failed; running on the coordinator');
      return null;
    }
    // A query the coordinator runs itself is still recorded, with why, for mallard_queries.
    const local = (): QueryRecord => {
      const record = startedRecord(planner.runtime.nextQueryId(), sql, plan, 0, clock.startedAt);
      planner.runtime.record(record);
      return record;
    };
    clock.mark('plan');
    if (plan.mode !== 'distributed') return local();
    // When the workers fail it through no fault of its own, the query runs here whole, on the same snapshot.
    const runWhole = async (): Promise<QueryCursor> => {
      const tree = await this.#parser.parse(text);
      if (!tree) throw new Error('the query no longer parses');
      const whole = await rewriteSelect(this.#parser, tree, this.#resolver(view));
      const q = await inner.prepare(whole.sql, paramTypes);
      try {
        return new ReleasingCursor(await q.execute(params), () => q.close());
      } catch (err) {
        q.close();
        throw err;
      }
    };
    const cursor = await startDistributedQuery(plan, { planner, session, sql, columns, clock, runWhole });
    if (!cursor) return local();
    this.#distributed.add(cursor);
    return cursor;
  }

  /** Identifies what a rewrite depends on: a committed version, or null inside a block that has written. */
  #viewKey(view: CatalogView): string | null {
    if (this.#block && this.#txn && this.#txn.ops.length > 0) return null;
    return `v${view.version}`;
  }

  /** Runs a query over catalog relations on the session's DuckDB and reads all its rows. */
  async #queryAll(
    sql: string,
    paramTypes: readonly DuckDBType[],
    params: readonly DuckDBValue[],
  ): Promise<{
    columns: readonly ResultColumn[];
    batches: Awaited<ReturnType<typeof readAll>>;
    rows: number;
  }> {
    const q = await this.#inner.prepare(sql, paramTypes);
    try {
      const cursor = await q.execute(params);
      const batches = await readAll(cursor);
      return { columns: q.columns, batches, rows: batches.reduce((n, b) => n + b.rowCount, 0) };
    } finally {
      q.close();
    }
  }

  // ---- Citus-style distribution

  #distributionCall(s: PgNode): PreparedQuery | null {
    const targets = (s['targetList'] ?? []) as PgNode[];
    if (targets.length !== 1 || s['fromClause'] || s['whereClause']) return null;
    const fc = targets[0]!['ResTarget']?.val?.FuncCall as PgNode | undefined;
    if (!fc) return null;
    const fname = strings(fc['funcname']).at(-1)?.toLowerCase();
    if (
      fname !== 'create_distributed_table' &&
      fname !== 'create_reference_table' &&
      fname !== 'undistribute_table'
    ) {
      return null;
    }
    const positional: string[] = [];
    const named = new Map<string, string>();
    for (const a of (fc['args'] ?? []) as PgNode[]) {
      if (a['NamedArgExpr']) named.set(String(a['NamedArgExpr'].name), constText(a['NamedArgExpr'].arg));
      else positional.push(constText(a));
    }
    const table = positional[0] ?? named.get('table_name');
    if (!table) throw new PgError(SqlState.UndefinedParameter, `${fname} needs a table name`);
    let spec: DistributionSpec;
    if (fname === 'create_reference_table') spec = { kind: 'reference' };
    else if (fname === 'undistribute_table') spec = { kind: 'balanced' };
    else {
      const column = positional[1] ?? named.get('distribution_column');
      if (!column)
        throw new PgError(
          SqlState.UndefinedParameter,
          'create_distributed_table needs a distribution column',
        );
      const colocate = positional[2] ?? named.get('colocate_with');
      const colocateWith =
        colocate === undefined || colocate === 'default'
          ? 'default'
          : colocate === 'none'
            ? 'none'
            : this.#withViewSync((view) => this.#tableRefByText(view, colocate));
      // Colocated with a table and no count given: that table's count, as in Citus.
      const groupBuckets =
        typeof colocateWith === 'number'
          ? this.#withViewSync((view) => {
              const d = view.table(colocateWith)?.def.distribution;
              return d?.kind === 'hash' ? view.colocationGroup(d.group)?.buckets : undefined;
            })
          : undefined;
      const buckets = Number(
        positional[3] ?? named.get('shard_count') ?? named.get('buckets') ?? groupBuckets ?? DEFAULT_BUCKETS,
      );
      if (!Number.isInteger(buckets) || buckets < 1) {
        throw new PgError(SqlState.InvalidParameterValue, `invalid bucket count: ${buckets}`);
      }
      spec = { kind: 'hash', column, buckets, colocateWith };
    }
    const column: ResultColumn = { name: fname, type: VARCHAR };
    return new CommandQuery('SELECT', true, [], [column], async () => {
      await this.#write(async (txn) => {
        const id = this.#tableRefByText(txn.view, table);
        await this.#storage.distribute(txn, id, spec);
      });
      const out = await this.#queryAll(`SELECT CAST('' AS VARCHAR) AS ${fname}`, [], []);
      return { rowsChanged: 1, rows: new BufferedCursor(out.columns, out.batches, 1) };
    });
  }

  #withViewSync<T>(fn: (view: CatalogView) => T): T {
    const { view, release } = this.#readView();
    try {
      return fn(view);
    } finally {
      release();
    }
  }

  #tableRefByText(view: CatalogView, text: string): number {
    let rv: PgNode | undefined;
    try {
      rv = (parseSync(`SELECT 1 FROM ${text}`) as PgNode).stmts[0].stmt.SelectStmt.fromClause[0].RangeVar;
    } catch {
      rv = undefined;
    }
    if (!rv) throw new PgError(SqlState.UndefinedTable, `relation "${text}" does not exist`);
    return this.#requireTable(view, rv).def.id;
  }

  // ---- DDL

  #prepareCreateTable(s: PgNode): PreparedQuery | null {
    const rv = s['relation'] as PgNode;
    if (rv['relpersistence'] === 't') return null; // TEMP tables stay in the session's DuckDB.
    if (s['inhRelations'] || s['partspec'] || s['ofTypename']) {
      throw new PgError(
        SqlState.FeatureNotSupported,
        'inheritance, partitioning and typed tables are not supported',
      );
    }
    const { columns, constraints } = tableElements((s['tableElts'] ?? []) as PgNode[]);
    const schema = (rv['schemaname'] as string | undefined) ?? DEFAULT_SCHEMA;
    const name = String(rv['relname']);
    return this.#ddl('CREATE TABLE', async (txn) => {
      if (!txn.view.schema(schema))
        throw new PgError(SqlState.InvalidSchemaName, `schema "${schema}" does not exist`);
      await this.#storage.createTable(
        txn,
        { schema, name, columns: await this.#checkTypes(this.#namedTypes(txn.view, columns)), constraints },
        { ifNotExists: Boolean(s['if_not_exists']) },
      );
    });
  }

  /** Column types that name a CREATE TYPE enum (or an array of one) spelled as the DuckDB ENUM. */
  #namedTypes(view: CatalogView, columns: readonly ColumnSpec[]): ColumnSpec[] {
    return columns.map((c) => {
      let base = c.type;
      let suffix = '';
      while (base.endsWith('[]')) {
        base = base.slice(0, -2);
        suffix += '[]';
      }
      const dot = base.lastIndexOf('.');
      const schemas = dot >= 0 ? [base.slice(0, dot)] : SEARCH_PATH;
      const name = dot >= 0 ? base.slice(dot + 1) : base;
      for (const schema of schemas) {
        const t = view.type({ schema, name });
        if (t) {
          const labels = t.labels.map((l) => `'${l.replaceAll("'", "''")}'`).join(', ');
          return { ...c, type: `ENUM(${labels})${suffix}` };
        }
      }
      return c;
    });
  }

  async #checkTypes(columns: readonly ColumnSpec[]): Promise<ColumnSpec[]> {
    const out: ColumnSpec[] = [];
    for (const c of columns) {
      try {
        await this.#storage.resolveType(c.type);
      } catch (err) {
        throw new PgError(SqlState.UndefinedObject, `type "${c.type}" does not exist`, {}, { cause: err });
      }
      out.push(c);
    }
    return out;
  }

  async #prepareCreateTableAs(
    s: PgNode,
    hints: readonly (DuckDBType | null)[],
  ): Promise<PreparedQuery | null> {
    const into = s['into'] as PgNode;
    const rv = into['rel'] as PgNode;
    if (s['objtype'] !== 'OBJECT_TABLE' || rv['relpersistence'] === 't') return null;
    const schema = (rv['schemaname'] as string | undefined) ?? DEFAULT_SCHEMA;
    const name = String(rv['relname']);
    const names = strings(into['colNames']);
    const querySql = deparseSync(s['query'], { pretty: false } as never);
    const tree = await this.#parser.parse(querySql);
    if (!tree)
      throw new PgError(SqlState.FeatureNotSupported, 'CREATE TABLE AS needs a query DuckDB can parse');
    const typed = await this.#withView(async (view) => {
      const out = await rewriteSelect(
        this.#parser,
        structuredClone(tree),
        this.#resolver(view, { dry: true }),
      );
      const q = await this.#inner.prepare(out.sql, hints);
      const r = { columns: q.columns, paramTypes: q.paramTypes };
      q.close();
      return r;
    });
    if (names.length > typed.columns.length) {
      throw new PgError(SqlState.SyntaxError, 'CREATE TABLE AS specifies too many column names');
    }
    const columns: ColumnSpec[] = typed.columns.map((c, i) => ({
      name: names[i] ?? c.name,
      type: c.type.toString(),
    }));
    const withData = !into['skipData'];
    return new CommandQuery('SELECT', true, typed.paramTypes, [], async (params) => {
      const rows = await this.#write(async (txn) => {
        if (txn.view.relationKind({ schema, name }) !== undefined && s['if_not_exists']) return 0;
        const def = await this.#storage.createTable(txn, { schema, name, columns });
        if (!def || !withData) return 0;
        const remote =
          params.length === 0
            ? ((await this.#distributedSource(querySql, txn.view)) ??
              (await this.#distributedFileSource(querySql)))
            : null;
        if (remote) return this.#storage.insertRemote(txn, def.id, remote.tasks, remote.remote);
        const out = await rewriteSelect(this.#parser, structuredClone(tree), this.#resolver(txn.view));
        return this.#storage.insertBulk(txn, def.id, out.sql, typedParams(params, typed.paramTypes));
      });
      return { rowsChanged: rows };
    });
  }

  async #prepareDrop(s: PgNode): Promise<PreparedQuery | null> {
    const type = String(s['removeType']);
    const ifExists = Boolean(s['missing_ok']);
    const cascade = s['behavior'] === 'DROP_CASCADE';
    const objects = (s['objects'] ?? []) as PgNode[];
    const tags: Record<string, string> = {
      OBJECT_TABLE: 'DROP TABLE',
      OBJECT_VIEW: 'DROP VIEW',
      OBJECT_SCHEMA: 'DROP SCHEMA',
      OBJECT_SEQUENCE: 'DROP SEQUENCE',
      OBJECT_INDEX: 'DROP INDEX',
      OBJECT_TYPE: 'DROP TYPE',
    };
    const tag = tags[type];
    if (!tag) return null;
    if (type === 'OBJECT_TYPE') {
      const names = objects.map((o) => strings(o['TypeName']?.names));
      return this.#ddl(tag, async (txn) => {
        for (const parts of names) {
          const name = parts.at(-1)!;
          const schema =
            parts.length > 1
              ? parts[parts.length - 2]!
              : SEARCH_PATH.find((sc) => txn.view.type({ schema: sc, name }));
          txn.dropType({ schema: schema ?? DEFAULT_SCHEMA, name }, { ifExists });
        }
      });
    }
    if (type === 'OBJECT_SCHEMA') {
      const names = objects.map((o) => String(o['String']?.sval));
      const known = await this.#withView(async (view) => names.some((n) => view.schema(n)));
      if (!known && !ifExists) return null;
      return this.#ddl(tag, async (txn) => {
        for (const n of names) txn.dropSchema(n, { ifExists, cascade });
      });
    }
    const qualified = objects.map((o) => {
      const parts = strings(o['List']?.items);
      return parts.length > 1
        ? { schema: parts[parts.length - 2]!, name: parts[parts.length - 1]! }
        : { schema: null, name: parts[0]! };
    });
    const owned = await this.#withView(async (view) =>
      qualified.some((q) => this.#lookup(view, q.schema, q.name) !== null || type === 'OBJECT_INDEX'),
    );
    if (!owned && !ifExists) return null;
    return this.#ddl(tag, async (txn) => {
      for (const q of qualified) {
        const r = this.#lookup(txn.view, q.schema, q.name);
        if (type === 'OBJECT_INDEX') {
          const schemas = q.schema ? [q.schema] : SEARCH_PATH;
          let dropped = false;
          for (const sc of schemas) {
            if (txn.dropIndex({ schema: sc, name: q.name }, { ifExists: true })) {
              dropped = true;
              break;
            }
          }
          if (!dropped && !ifExists)
            throw new PgError(SqlState.UndefinedObject, `index "${q.name}" does not exist`);
          continue;
        }
        const want = type === 'OBJECT_TABLE' ? 'table' : type === 'OBJECT_VIEW' ? 'view' : 'sequence';
        if (!r) {
          if (ifExists) continue;
          throw new PgError(SqlState.UndefinedTable, `${want} "${q.name}" does not exist`);
        }
        if (r.kind !== want) {
          throw new PgError(SqlState.WrongObjectType, `"${q.name}" is not a ${want}`);
        }
        if (r.kind === 'table') txn.dropTable(r.table.def.id, { cascade });
        else if (r.kind === 'view') txn.dropView(r.view, { cascade });
        else txn.dropSequence(r.id);
      }
    });
  }

  async #prepareAlterTable(s: PgNode): Promise<PreparedQuery | null> {
    if (s['objtype'] !== 'OBJECT_TABLE') return null;
    const rv = s['relation'] as PgNode;
    const exists = await this.#withView(async (view) => this.#lookupRangeVar(view, rv)?.kind === 'table');
    if (!exists) {
      if (s['missing_ok']) return this.#ddl('ALTER TABLE', async () => {});
      return null;
    }
    const cmds = ((s['cmds'] ?? []) as PgNode[]).map((c) => c['AlterTableCmd'] as PgNode);
    return this.#ddl('ALTER TABLE', async (txn) => {
      for (const cmd of cmds) {
        const id = this.#requireTable(txn.view, rv).def.id;
        const name = cmd['name'] as string | undefined;
        switch (cmd['subtype']) {
          case 'AT_AddColumn': {
            const spec = columnSpec(cmd['def'].ColumnDef);
            const column = this.#namedTypes(txn.view, [spec.column])[0]!;
            const constraints = spec.constraints;
            if (
              cmd['missing_ok'] &&
              txn.view.requireTable(id).def.columns.some((c) => c.name === column.name)
            )
              break;
            // Rows that exist read the default evaluated once, as PostgreSQL fills them at ADD COLUMN.
            const missing = column.default ? await this.#constantDefault(column.default, column.type) : null;
            await this.#storage.addColumn(txn, id, { ...column, missing });
            for (const c of constraints) await this.#storage.addConstraint(txn, id, c);
            break;
          }
          case 'AT_DropColumn':
            txn.dropColumn(id, name!, { ifExists: Boolean(cmd['missing_ok']) });
            break;
          case 'AT_AlterColumnType': {
            const def = cmd['def'].ColumnDef as PgNode;
            const using = def['raw_default'] ? exprSql(def['raw_default']) : undefined;
            const type = this.#namedTypes(txn.view, [
              { name: name!, type: duckType(def['typeName']).type },
            ])[0]!.type;
            await this.#storage.alterColumnType(txn, id, name!, type, using);
            break;
          }
          case 'AT_ColumnDefault':
            txn.setColumnDefault(id, name!, cmd['def'] ? exprSql(cmd['def']) : null);
            break;
          case 'AT_SetNotNull':
            await this.#storage.setNotNull(txn, id, name!);
            break;
          case 'AT_DropNotNull':
            txn.setColumnNotNull(id, name!, false);
            break;
          case 'AT_AddConstraint':
            await this.#storage.addConstraint(txn, id, tableConstraint(cmd['def'].Constraint));
            break;
          case 'AT_DropConstraint':
            txn.dropConstraint(id, name!, { ifExists: Boolean(cmd['missing_ok']) });
            break;
          default:
            throw new PgError(
              SqlState.FeatureNotSupported,
              `ALTER TABLE ${String(cmd['subtype']).slice(3)} is not supported`,
            );
        }
      }
    });
  }

  /** A DEFAULT's value at ADD COLUMN time, as a literal for rows that predate the column. */
  async #constantDefault(expr: string, type: string): Promise<string | null> {
    const conn = await this.#storage.connect();
    try {
      const r = await conn.runAndReadAll(`SELECT CAST(CAST((${expr}) AS ${type}) AS VARCHAR)`);
      const v = r.getRows()[0]![0];
      return v === null ? null : `CAST('${String(v).replaceAll("'", "''")}' AS ${type})`;
    } catch {
      // Not a constant (nextval, a column reference): old rows read NULL.
      return null;
    } finally {
      conn.closeSync();
    }
  }

  async #prepareRename(s: PgNode): Promise<PreparedQuery | null> {
    const type = String(s['renameType']);
    const rv = s['relation'] as PgNode | undefined;
    if (!rv) return null;
    const r = await this.#withView(async (view) => this.#lookupRangeVar(view, rv));
    if (!r) return null;
    const newName = String(s['newname']);
    if (type === 'OBJECT_TABLE' && r.kind === 'table') {
      return this.#ddl('ALTER TABLE', async (txn) => {
        txn.renameTable(this.#requireTable(txn.view, rv).def.id, newName);
      });
    }
    if (type === 'OBJECT_COLUMN' && r.kind === 'table') {
      return this.#ddl('ALTER TABLE', async (txn) => {
        txn.renameColumn(this.#requireTable(txn.view, rv).def.id, String(s['subname']), newName);
      });
    }
    throw new PgError(SqlState.FeatureNotSupported, `renaming this kind of object is not supported`);
  }

  async #prepareCreateView(s: PgNode): Promise<PreparedQuery | null> {
    const rv = s['view'] as PgNode;
    if (rv['relpersistence'] === 't') return null;
    const schema = (rv['schemaname'] as string | undefined) ?? DEFAULT_SCHEMA;
    const name = String(rv['relname']);
    const sql = deparseSync(s['query'], { pretty: false } as never);
    const tree = await this.#parser.parse(sql);
    if (!tree) throw new PgError(SqlState.FeatureNotSupported, 'the view query cannot be parsed by DuckDB');
    const aliases = strings(s['aliases']);
    return this.#ddl('CREATE VIEW', async (txn) => {
      const deps = new Set<number>();
      const out = await rewriteSelect(
        this.#parser,
        structuredClone(tree),
        this.#resolver(txn.view, { dry: true, deps }),
      );
      // Binding checks the query (and its column count) now, as PostgreSQL does at CREATE VIEW.
      const q = await this.#inner.prepare(out.sql, []);
      const width = q.columns.length;
      q.close();
      if (aliases.length > width)
        throw new PgError(SqlState.SyntaxError, 'CREATE VIEW specifies more column names than columns');
      txn.createView(
        { schema, name, sql, columns: aliases.length ? aliases : null, dependsOn: [...deps] },
        { orReplace: Boolean(s['replace']) },
      );
    });
  }

  async #prepareCreateIndex(s: PgNode): Promise<PreparedQuery | null> {
    const rv = s['relation'] as PgNode;
    const r = await this.#withView(async (view) => this.#lookupRangeVar(view, rv));
    if (r?.kind !== 'table') return null;
    const columns = ((s['indexParams'] ?? []) as PgNode[]).map((p) => {
      const e = p['IndexElem'] as PgNode;
      if (!e['name'])
        throw new PgError(SqlState.FeatureNotSupported, 'indexes on expressions are not supported');
      return String(e['name']);
    });
    return this.#ddl('CREATE INDEX', async (txn) => {
      const id = this.#requireTable(txn.view, rv).def.id;
      const unique = Boolean(s['unique']);
      if (unique) {
        // A unique index is a promise about the rows: checked like a UNIQUE constraint.
        await this.#storage.addConstraint(txn, id, {
          kind: 'unique',
          columns,
          name: s['idxname'] ? String(s['idxname']) : undefined,
        });
      }
      txn.createIndex(
        id,
        { name: s['idxname'] ? String(s['idxname']) : undefined, columns, unique },
        { ifNotExists: Boolean(s['if_not_exists']) },
      );
    });
  }

  #prepareCreateSequence(s: PgNode): PreparedQuery | null {
    const rv = s['sequence'] as PgNode;
    if (rv['relpersistence'] === 't') return null;
    const schema = (rv['schemaname'] as string | undefined) ?? DEFAULT_SCHEMA;
    const name = String(rv['relname']);
    const opts: Record<string, bigint | boolean | string> = {};
    for (const o of (s['options'] ?? []) as PgNode[]) {
      const d = o['DefElem'] as PgNode;
      const arg = d['arg'] as PgNode | undefined;
      if (d['defname'] === 'as') opts['as'] = duckType(arg!['TypeName']).type;
      else if (d['defname'] === 'cycle')
        opts['cycle'] = arg?.['Boolean'] ? Boolean(arg['Boolean'].boolval) : true;
      else if (arg?.['Integer']) opts[d['defname']] = BigInt(arg['Integer'].ival ?? 0);
      else if (arg?.['Float']) opts[d['defname']] = BigInt(String(arg['Float'].fval));
    }
    const dataType = opts['as'] === 'SMALLINT' ? 'smallint' : opts['as'] === 'INTEGER' ? 'integer' : 'bigint';
    return this.#ddl('CREATE SEQUENCE', async (txn) => {
      if (s['if_not_exists'] && txn.view.relationKind({ schema, name }) !== undefined) return;
      if (txn.view.relationKind({ schema, name }) !== undefined) {
        throw new PgError(SqlState.DuplicateTable, `relation "${name}" already exists`);
      }
      txn.createSequence({
        schema,
        name,
        dataType,
        start: opts['start'] as bigint | undefined,
        increment: opts['increment'] as bigint | undefined,
        min: opts['minvalue'] as bigint | undefined,
        max: opts['maxvalue'] as bigint | undefined,
        cycle: Boolean(opts['cycle']),
      });
    });
  }

  async #prepareTruncate(s: PgNode): Promise<PreparedQuery | null> {
    const rels = ((s['relations'] ?? []) as PgNode[]).map((r) => r['RangeVar'] as PgNode);
    const owned = await this.#withView(async (view) =>
      rels.every((rv) => this.#lookupRangeVar(view, rv)?.kind === 'table'),
    );
    if (!owned) return null;
    return this.#ddl('TRUNCATE TABLE', async (txn) => {
      for (const rv of rels) this.#storage.truncate(txn, this.#requireTable(txn.view, rv).def.id);
    });
  }

  async #prepareVacuum(s: PgNode): Promise<PreparedQuery | null> {
    const vacuum = Boolean(s['is_vacuumcmd']);
    const rels = ((s['rels'] ?? []) as PgNode[]).map((r) => r['VacuumRelation']?.relation as PgNode);
    const ids = await this.#withView(async (view) =>
      rels.length
        ? rels.map((rv) => this.#lookupRangeVar(view, rv))
        : view.tables().map((t) => ({ kind: 'table' as const, table: t })),
    );
    if (ids.some((r) => r?.kind !== 'table')) return null;
    const full = ((s['options'] ?? []) as PgNode[]).some((o) => o['DefElem']?.defname === 'full');
    const analyze =
      !vacuum || ((s['options'] ?? []) as PgNode[]).some((o) => o['DefElem']?.defname === 'analyze');
    return new CommandQuery(vacuum ? 'VACUUM' : 'ANALYZE', false, [], [], async () => {
      if (vacuum && this.#block) {
        throw new PgError(SqlState.ActiveSqlTransaction, 'VACUUM cannot run inside a transaction block');
      }
      try {
        for (const r of ids) {
          if (r?.kind !== 'table') continue;
          if (vacuum) await this.#storage.vacuum(r.table.def.id, { full });
          if (analyze) await this.#storage.analyze(r.table.def.id);
        }
      } catch (err) {
        throw toPgError(err);
      }
      return { rowsChanged: 0 };
    });
  }

  // ---- DML

  async #prepareInsert(hints: readonly (DuckDBType | null)[], s: PgNode): Promise<PreparedQuery | null> {
    const rv = s['relation'] as PgNode;
    const table = await this.#withView(async (view) => {
      const r = this.#lookupRangeVar(view, rv);
      return r?.kind === 'table' ? r.table : null;
    });
    if (!table) return null;
    const def = table.def;
    // Without a column list, VALUES fill the leading columns and the rest take their defaults, as in
    // PostgreSQL (a prepared INSERT keeps working after ADD COLUMN).
    const lists = s['selectStmt']?.SelectStmt?.valuesLists as PgNode[] | undefined;
    const given = ((lists?.[0]?.['List']?.items ?? []) as PgNode[]).length;
    const leading = lists && given < def.columns.length ? given : def.columns.length;
    const targetNames = s['cols']
      ? (s['cols'] as PgNode[]).map((c) => String(c['ResTarget'].name))
      : def.columns.slice(0, leading).map((c) => c.name);
    for (const n of targetNames) {
      if (!def.columns.some((c) => c.name === n)) {
        throw new PgError(SqlState.UndefinedColumn, `column "${n}" of relation "${def.name}" does not exist`);
      }
    }
    if (new Set(targetNames).size !== targetNames.length) {
      throw new PgError(SqlState.DuplicateColumn, 'column specified more than once');
    }
    const select = s['selectStmt']?.SelectStmt as PgNode | undefined;
    const defaultPart = (c: (typeof def.columns)[number]): ValuePart =>
      c.sequence !== null && (c.default !== null || c.identity !== null)
        ? { seq: c.sequence, type: c.type }
        : { sql: c.default ? `CAST((${c.default}) AS ${c.type})` : `CAST(NULL AS ${c.type})` };

    // A plain INSERT ... SELECT that the workers may compute and write (see #distributedSource).
    let distributable: ((view: CatalogView) => Promise<DistributedLoad | null>) | null = null;
    // The source: SQL of the new rows, one column per table column, built when the statement runs
    // (sequence defaults draw their values then).
    let build: (
      draw: (seq: number) => Promise<string>,
      view: CatalogView,
      dry: boolean,
      params: SqlParams,
    ) => Promise<string>;
    if (!select || select['valuesLists']) {
      const lists = select
        ? (select['valuesLists'] as PgNode[]).map((l) => (l['List'].items ?? []) as PgNode[])
        : [[]];
      const rows: ValuePart[][] = lists.map((cells) => {
        if (select && cells.length !== targetNames.length) {
          throw new PgError(
            SqlState.SyntaxError,
            cells.length > targetNames.length
              ? 'INSERT has more expressions than target columns'
              : 'INSERT has more target columns than expressions',
          );
        }
        return def.columns.map((c) => {
          const i = select ? targetNames.indexOf(c.name) : -1;
          if (i < 0 || cells[i]!['SetToDefault']) return defaultPart(c);
          return { sql: `CAST((${exprSql(cells[i]!)}) AS ${c.type})` };
        });
      });
      const needsParse = containsAny(lists, ['SubLink', 'FuncCall']);
      build = async (draw, view, dry) => {
        const tuples: string[] = [];
        for (const row of rows) {
          const cells: string[] = [];
          for (const p of row)
            cells.push('sql' in p ? p.sql : dry ? `CAST(NULL AS ${p.type})` : await draw(p.seq));
          tuples.push(`(${cells.join(', ')})`);
        }
        const sql = `SELECT * FROM (VALUES ${tuples.join(', ')}) AS v`;
        if (!needsParse) return sql;
        const tree = await this.#parser.parse(sql);
        if (!tree) return sql;
        return (await rewriteSelect(this.#parser, tree, this.#resolver(view, { dry }))).sql;
      };
    } else {
      const selectText = deparseSync(s['selectStmt'], { pretty: false } as never);
      const tree = await this.#parser.parse(selectText);
      if (!tree)
        throw new PgError(SqlState.FeatureNotSupported, 'INSERT ... SELECT needs a query DuckDB can parse');
      const parts = def.columns.map((c) => {
        const i = targetNames.indexOf(c.name);
        return i < 0 ? defaultPart(c) : { sql: `CAST(s.c${i} AS ${c.type})` };
      });
      const seqParts = parts.filter((p) => 'seq' in p).length;
      // Every column given (no default to compute here): the workers may write the rows themselves.
      if (def.columns.every((c) => targetNames.includes(c.name))) {
        const shape = (rows: string) => {
          const cells = parts.map((p) => ('sql' in p ? p.sql : 'NULL'));
          return `SELECT ${cells.join(', ')} FROM (${rows}) AS s(${targetNames.map((_, i) => `c${i}`).join(', ')})`;
        };
        distributable = async (view) =>
          (await this.#distributedSource(selectText, view, shape)) ??
          (await this.#distributedFileSource(selectText, shape));
      }
      build = async (draw, view, dry, params) => {
        const inner = (
          await rewriteSelect(this.#parser, structuredClone(tree), this.#resolver(view, { dry }))
        ).sql;
        const names = targetNames.map((_, i) => `c${i}`).join(', ');
        if (!seqParts || dry) {
          const cells = parts.map((p) => ('sql' in p ? p.sql : `CAST(NULL AS ${p.type})`));
          return `SELECT ${cells.join(', ')} FROM (${inner}) AS s(${names})`;
        }
        // Sequence defaults: one value per source row, drawn now and picked by row number.
        const n = await this.#countRows(inner, params);
        const cells: string[] = [];
        for (const p of parts) {
          if ('sql' in p) {
            cells.push(p.sql);
            continue;
          }
          const values: bigint[] = [];
          for (let i = 0; i < n; i++) values.push(BigInt(await draw(p.seq)));
          cells.push(`CAST(${pickByRow(values, 's.__mallard_rn')} AS ${p.type})`);
        }
        return `SELECT ${cells.join(', ')} FROM (SELECT *, row_number() OVER () FROM (${inner}) AS s0) AS s(${names}, __mallard_rn)`;
      };
    }

    const returning = returningTargets(s);
    const alias = (rv['alias']?.aliasname as string | undefined) ?? def.name;
    const conflict = s['onConflictClause'] as PgNode | undefined;
    // Typing: the source with placeholders for sequence values, bound by DuckDB (parameters included).
    const bare = select?.['valuesLists']
      ? stagePlan(def.columns, targetNames, select['valuesLists'] as PgNode[])
      : null;
    const typing = await this.#withView(async (view) => {
      let paramTypes: readonly DuckDBType[];
      let width = def.columns.length;
      if (bare) {
        // Every cell is a bare parameter: its type is the column's (or the client's), no binding needed.
        const types: DuckDBType[] = [];
        const width = targetNames.length;
        for (let k = 0; k < bare.params.length; k++) {
          const p = bare.params[k]!;
          if (types[p]) continue;
          const column = def.columns.find((c) => c.name === targetNames[k % width])!;
          types[p] = hints[p] ?? (await this.#duckType(column.type));
        }
        for (let i = 0; i < Math.max(types.length, hints.length); i++) types[i] ??= hints[i] ?? VARCHAR;
        paramTypes = types;
      } else {
        const sql = await build(async () => 'NULL', view, true, []);
        const q = await this.#inner.prepare(sql, hints);
        paramTypes = q.paramTypes;
        width = q.columns.length;
        q.close();
      }
      if (width !== def.columns.length) {
        throw new PgError(
          SqlState.SyntaxError,
          width > def.columns.length
            ? 'INSERT has more expressions than target columns'
            : 'INSERT has more target columns than expressions',
        );
      }
      const ret = returning ? await this.#returningColumns(view, def.id, alias, returning) : [];
      return { paramTypes, returning: ret };
    });

    const stageable = !returning && !conflict && bare && bare.rows >= STAGE_MIN_ROWS ? bare : null;
    return new CommandQuery('INSERT 0', true, typing.paramTypes, typing.returning, async (params) => {
      if (stageable && this.#block) {
        try {
          return { rowsChanged: await this.#stage(def.id, stageable, typing.paramTypes, params) };
        } catch (err) {
          this.#discardPending();
          throw toPgError(err);
        }
      }
      return this.#write(async (txn) => {
        const before = rowKeys(txn.view.requireTable(def.id));
        const bound = typedParams(params, typing.paramTypes);
        if (distributable && !conflict && !returning && params.length === 0) {
          const remote = await distributable(txn.view);
          if (remote)
            return {
              rowsChanged: await this.#storage.insertRemote(txn, def.id, remote.tasks, remote.remote),
            };
        }
        const source = await build((seq) => this.#nextvalIn(txn, seq), txn.view, false, bound);
        let count: number;
        if (conflict) count = await this.#upsert(txn, def.id, alias, source, conflict, bound);
        else count = await this.#storage.insert(txn, def.id, source, bound);
        return this.#outcome(txn, def.id, alias, before, returning, count, params);
      });
    });
  }

  /** Appends a COPY-style batch to the table's staging table (see STAGE_MIN_ROWS). */
  async #stage(
    tableId: number,
    plan: StagePlan,
    paramTypes: readonly DuckDBType[],
    params: readonly DuckDBValue[],
  ): Promise<number> {
    if (this.#pending && (this.#pending.tableId !== tableId || this.#pending.rows >= STAGE_MAX_ROWS)) {
      await this.#flushPending();
    }
    const txn = this.#blockTxn();
    if (!this.#pending) {
      const def = txn.view.requireTable(tableId).def;
      const conn = await this.#storage.connect();
      const stage = `__mallard_stage_${Math.random().toString(36).slice(2, 10)}`;
      const width = plan.params.length / plan.rows;
      const cols = plan.params.slice(0, width).map((p, i) => `p${i} ${paramTypes[p]!.toString()}`);
      for (let i = 0; i < plan.sequences.length; i++) cols.push(`s${i} BIGINT`);
      try {
        await conn.run(`CREATE TABLE ${stage} (${cols.join(', ')})`);
        const appender = await conn.createAppender(stage);
        const select = def.columns.map((c) => {
          const i = plan.columns.get(c.name);
          if (i !== undefined) return `CAST(p${i} AS ${c.type})`;
          const k = plan.sequences.findIndex((x) => x.column === c.name);
          if (k >= 0) return `CAST(s${k} AS ${c.type})`;
          return c.default ? `CAST((${c.default}) AS ${c.type})` : `CAST(NULL AS ${c.type})`;
        });
        this.#pending = {
          tableId,
          stage,
          conn,
          appender,
          select: `SELECT ${select.join(', ')} FROM ${stage}`,
          rows: 0,
        };
      } catch (err) {
        conn.closeSync();
        throw err;
      }
    }
    const pending = this.#pending!;
    const width = plan.params.length / plan.rows;
    for (let r = 0; r < plan.rows; r++) {
      for (let i = 0; i < width; i++) {
        const p = plan.params[r * width + i]!;
        pending.appender.appendValue(params[p] ?? null, paramTypes[p]);
      }
      for (const sq of plan.sequences) pending.appender.appendValue(await txn.nextval(sq.seq), BIGINT);
      pending.appender.endRow();
    }
    pending.rows += plan.rows;
    return plan.rows;
  }

  /** Loads the staged rows into their table, in the block's transaction. */
  async #flushPending(): Promise<void> {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = null;
    try {
      pending.appender.flushSync();
      pending.appender.closeSync();
      const txn = this.#blockTxn();
      await this.#storage.insertBulk(txn, pending.tableId, pending.select);
    } finally {
      await pending.conn.run(`DROP TABLE IF EXISTS ${pending.stage}`).catch(() => {});
      pending.conn.closeSync();
    }
  }

  #discardPending(): void {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = null;
    try {
      pending.appender.closeSync();
    } catch {
      // The appender may already have failed; the table goes either way.
    }
    void pending.conn
      .run(`DROP TABLE IF EXISTS ${pending.stage}`)
      .catch(() => {})
      .finally(() => pending.conn.closeSync());
  }

  async #nextvalIn(txn: CatalogTransaction, seq: number): Promise<string> {
    const v = await txn.nextval(seq);
    this.#seqValues.set(seq, v);
    this.#lastSeq = seq;
    return String(v);
  }

  async #countRows(sql: string, params: SqlParams): Promise<number> {
    const conn = await this.#storage.connect();
    try {
      const r = await conn.runAndReadAll(`SELECT count(*) FROM (${sql}) AS s`, ...bindArgs(params));
      return Number(r.getRows()[0]![0]);
    } finally {
      conn.closeSync();
    }
  }

  /** INSERT ... ON CONFLICT: rows whose key exists are skipped (DO NOTHING) or update the existing row. */
  async #upsert(
    txn: CatalogTransaction,
    id: number,
    alias: string,
    source: string,
    conflict: PgNode,
    params: SqlParams,
  ): Promise<number> {
    const t = txn.view.requireTable(id);
    const def = t.def;
    const infer = conflict['infer'] as PgNode | undefined;
    let keys: string[][];
    if (infer?.['conname']) {
      const k = def.constraints.find((c) => c.name === infer['conname']);
      if (!k || k.kind === 'check') {
        throw new PgError(
          SqlState.UndefinedObject,
          `constraint "${infer['conname']}" for table "${def.name}" does not exist`,
        );
      }
      keys = [k.columns.map((cid) => def.columns.find((c) => c.id === cid)!.name)];
    } else if (infer?.['indexElems']) {
      keys = [((infer['indexElems'] ?? []) as PgNode[]).map((e) => String(e['IndexElem'].name))];
      const match = def.constraints.some(
        (k) =>
          k.kind !== 'check' &&
          k.columns.length === keys[0]!.length &&
          k.columns.every((cid) => keys[0]!.includes(def.columns.find((c) => c.id === cid)!.name)),
      );
      if (!match) {
        throw new PgError(
          SqlState.SyntaxErrorOrAccessRuleViolation,
          'there is no unique or exclusion constraint matching the ON CONFLICT specification',
        );
      }
    } else {
      keys = def.constraints
        .filter((k) => k.kind !== 'check')
        .map((k) => k.columns.map((cid) => def.columns.find((c) => c.id === cid)!.name));
    }
    const before = this.#storage.relation(txn.view, id);
    if (!keys.length) return this.#storage.insert(txn, id, source, params);
    // The proposed rows under the table's column names, which the conflict keys and `excluded` use.
    source = `SELECT * FROM (${source}) AS src(${def.columns.map((c) => qi(c.name)).join(', ')})`;
    const match = (a: string, b: string) =>
      keys.map((k) => `(${k.map((c) => `${a}.${qi(c)} = ${b}.${qi(c)}`).join(' AND ')})`).join(' OR ');
    const fresh = `SELECT * FROM (${source}) AS s WHERE NOT EXISTS (SELECT 1 FROM (${before}) AS e WHERE ${match('e', 's')}) QUALIFY row_number() OVER (PARTITION BY ${keys[0]!.map((c) => `s.${qi(c)}`).join(', ')}) = 1`;
    if (conflict['action'] !== 'ONCONFLICT_UPDATE') return this.#storage.insert(txn, id, fresh, params);

    const sets = new Map<string, string>();
    for (const target of (conflict['targetList'] ?? []) as PgNode[]) {
      const rt = target['ResTarget'] as PgNode;
      if (containsAny(rt['val'], ['SubLink'])) {
        throw new PgError(
          SqlState.FeatureNotSupported,
          'subqueries in ON CONFLICT DO UPDATE are not supported',
        );
      }
      sets.set(String(rt['name']), exprSql(qualifyColumns(rt['val'], alias)));
    }
    const where = conflict['whereClause']
      ? ` WHERE ${exprSql(qualifyColumns(conflict['whereClause'], alias))}`
      : '';
    const dup = await this.#storage.connect();
    try {
      const r = await dup.runAndReadAll(
        `SELECT count(*) FROM (SELECT 1 FROM (${source}) AS s GROUP BY ${keys[0]!.map((c) => `s.${qi(c)}`).join(', ')} HAVING count(*) > 1)`,
        ...bindArgs(params),
      );
      if (Number(r.getRows()[0]![0]) > 0) {
        throw new PgError(
          SqlState.CardinalityViolation,
          'ON CONFLICT DO UPDATE command cannot affect row a second time',
          {
            hint: 'Ensure that no rows proposed for insertion within the same command have duplicate constrained values.',
          },
        );
      }
    } finally {
      dup.closeSync();
    }
    const withRowId = this.#storage.relation(txn.view, id, { rowId: true });
    const values = def.columns.map((c) => sets.get(c.name) ?? `${qi(alias)}.${qi(c.name)}`);
    const updateSql = `SELECT ${qi(alias)}.${ROW_ID_COLUMN}, ${values.join(', ')} FROM (${withRowId}) AS ${qi(alias)} JOIN (${source}) AS excluded ON ${match(qi(alias), 'excluded')}${where}`;
    const updated = await this.#storage.replaceRows(txn, id, updateSql, params, {
      changedColumns: [...sets.keys()],
    });
    const notMatched = `SELECT * FROM (${source}) AS s WHERE NOT EXISTS (SELECT 1 FROM (${before}) AS e WHERE ${match('e', 's')})`;
    const inserted = await this.#storage.insert(txn, id, notMatched, params);
    return updated + inserted;
  }

  /** The catalog table a DML statement's target RangeVar names, with the alias it goes by; null if none. */
  async #targetTable(rv: PgNode) {
    const table = await this.#withView(async (view) => {
      const r = this.#lookupRangeVar(view, rv);
      return r?.kind === 'table' ? r.table : null;
    });
    if (!table) return null;
    const def = table.def;
    const alias = (rv['alias']?.aliasname as string | undefined) ?? def.name;
    return { def, alias };
  }

  async #prepareUpdate(hints: readonly (DuckDBType | null)[], s: PgNode): Promise<PreparedQuery | null> {
    const rv = s['relation'] as PgNode;
    const target = await this.#targetTable(rv);
    if (!target) return null;
    const { def, alias } = target;
    const sets = new Map<string, PgNode>();
    for (const target of (s['targetList'] ?? []) as PgNode[]) {
      const rt = target['ResTarget'] as PgNode;
      if (rt['val']?.MultiAssignRef)
        throw new PgError(SqlState.FeatureNotSupported, 'UPDATE SET (a, b) = (...) is not supported');
      const name = String(rt['name']);
      if (!def.columns.some((c) => c.name === name)) {
        throw new PgError(
          SqlState.UndefinedColumn,
          `column "${name}" of relation "${def.name}" does not exist`,
        );
      }
      sets.set(name, rt['val']);
    }
    const token = `__mallard_target_${Math.random().toString(36).slice(2, 10)}`;
    const markers = new Map<string, SqlTree>();
    const targetList: PgNode[] = [resTarget(columnRef([alias, ROW_ID_COLUMN]))];
    for (const c of def.columns) {
      const v = sets.get(c.name);
      if (v) {
        const marker = `__mallard_cast_${markers.size}`;
        markers.set(marker, await this.#castType(c.type));
        targetList.push(
          resTarget({
            FuncCall: {
              funcname: [{ String: { sval: marker } }],
              args: [v],
              funcformat: 'COERCE_EXPLICIT_CALL',
            },
          }),
        );
      } else {
        targetList.push(resTarget(columnRef([alias, c.name])));
      }
    }
    const selectSql = deparseSync(
      selectStmt(
        targetList,
        [rangeVar(token, alias), ...((s['fromClause'] ?? []) as PgNode[])],
        s['whereClause'],
      ),
      { pretty: false } as never,
    );
    const tree = await this.#parser.parse(selectSql);
    if (!tree) throw new PgError(SqlState.FeatureNotSupported, 'this UPDATE cannot be parsed by DuckDB');
    const returning = returningTargets(s);
    const rewrite = (view: CatalogView, dry: boolean) =>
      rewriteSelect(
        this.#parser,
        structuredClone(tree),
        this.#resolver(view, {
          dry,
          extra: new Map([[token, this.#storage.relation(view, def.id, { rowId: true })]]),
        }),
        markers,
      );
    const inferred = await this.#inferHints(hints, [s['targetList'], s['whereClause'], s['fromClause']], def);
    const typing = await this.#withView(async (view) => {
      const q = await this.#inner.prepare((await rewrite(view, true)).sql, inferred);
      const paramTypes = q.paramTypes;
      q.close();
      const ret = returning ? await this.#returningColumns(view, def.id, alias, returning) : [];
      return { paramTypes, returning: ret };
    });
    return new CommandQuery('UPDATE', true, typing.paramTypes, typing.returning, async (params) =>
      this.#write(async (txn) => {
        const before = rowKeys(txn.view.requireTable(def.id));
        const sql = (await rewrite(txn.view, false)).sql;
        const n = await this.#storage.replaceRows(txn, def.id, sql, typedParams(params, typing.paramTypes), {
          changedColumns: [...sets.keys()],
        });
        return this.#outcome(txn, def.id, alias, before, returning, n, params);
      }),
    );
  }

  async #prepareDelete(hints: readonly (DuckDBType | null)[], s: PgNode): Promise<PreparedQuery | null> {
    const rv = s['relation'] as PgNode;
    const target = await this.#targetTable(rv);
    if (!target) return null;
    const { def, alias } = target;
    const token = `__mallard_target_${Math.random().toString(36).slice(2, 10)}`;
    const from = [rangeVar(token, alias), ...((s['usingClause'] ?? []) as PgNode[])];
    const idTree = await this.#parser.parse(
      deparseSync(selectStmt([resTarget(columnRef([alias, ROW_ID_COLUMN]))], from, s['whereClause']), {
        pretty: false,
      } as never),
    );
    if (!idTree) throw new PgError(SqlState.FeatureNotSupported, 'this DELETE cannot be parsed by DuckDB');
    const returning = returningTargets(s);
    const retTree = returning
      ? await this.#parser.parse(
          `${deparseSync(
            selectStmt(
              expandStar(
                returning,
                def.columns.map((c) => c.name),
                alias,
              ),
              from,
              s['whereClause'],
            ),
            { pretty: false } as never,
          )} ORDER BY ${qi(alias)}.${ROW_ID_COLUMN}`,
        )
      : null;
    const rewrite = (tree: SqlTree, view: CatalogView, dry: boolean) =>
      rewriteSelect(
        this.#parser,
        structuredClone(tree),
        this.#resolver(view, {
          dry,
          extra: new Map([[token, this.#storage.relation(view, def.id, { rowId: true })]]),
        }),
      );
    const inferred = await this.#inferHints(hints, [s['whereClause'], s['usingClause']], def);
    const typing = await this.#withView(async (view) => {
      const q = await this.#inner.prepare((await rewrite(idTree, view, true)).sql, inferred);
      const paramTypes = q.paramTypes;
      q.close();
      let columns: readonly ResultColumn[] = [];
      if (retTree) {
        const r = await this.#inner.prepare((await rewrite(retTree, view, true)).sql, paramTypes);
        columns = r.columns;
        r.close();
      }
      return { paramTypes, columns };
    });
    return new CommandQuery('DELETE', true, typing.paramTypes, typing.columns, async (params) =>
      this.#write(async (txn): Promise<CommandOutcome> => {
        // RETURNING describes the rows as they were: read them before they go.
        const ret = retTree
          ? await this.#queryAll((await rewrite(retTree, txn.view, false)).sql, typing.paramTypes, params)
          : null;
        const sql = (await rewrite(idTree, txn.view, false)).sql;
        const n = await this.#storage.deleteRowIds(txn, def.id, sql, typedParams(params, typing.paramTypes));
        return ret
          ? { rowsChanged: n, rows: new BufferedCursor(ret.columns, ret.batches, n) }
          : { rowsChanged: n };
      }),
    );
  }

  /** The rows a write added (RETURNING of INSERT and UPDATE), read before the transaction commits. */
  async #outcome(
    txn: CatalogTransaction,
    id: number,
    alias: string,
    before: { files: Set<number>; inline: Set<number> },
    returning: PgNode[] | null,
    count: number,
    params: readonly DuckDBValue[],
  ): Promise<CommandOutcome> {
    if (!returning) return { rowsChanged: count };
    const after = rowKeys(txn.view.requireTable(id));
    const fileIds = new Set([...after.files].filter((f) => !before.files.has(f)));
    const inlineIds = new Set([...after.inline].filter((r) => !before.inline.has(r)));
    const rel = this.#storage.relation(txn.view, id, { rowId: true, fileIds, inlineIds });
    const sql = await this.#returningSql(txn.view, id, alias, returning, rel);
    const out = await this.#queryAll(sql, [], params);
    return { rowsChanged: count, rows: new BufferedCursor(out.columns, out.batches, count) };
  }

  async #returningSql(
    view: CatalogView,
    id: number,
    alias: string,
    returning: PgNode[],
    rel: string,
  ): Promise<string> {
    const def = view.requireTable(id).def;
    const token = `__mallard_new_${Math.random().toString(36).slice(2, 10)}`;
    const targets = expandStar(
      returning,
      def.columns.map((c) => c.name),
      alias,
    );
    // Inline rows have ids -1, -2, ... in insertion order; file rows count up within their file.
    const text = `${deparseSync(selectStmt(targets, [rangeVar(token, alias)], undefined), { pretty: false } as never)} ORDER BY abs(${qi(alias)}.${ROW_ID_COLUMN})`;
    const tree = await this.#parser.parse(text);
    if (!tree)
      throw new PgError(SqlState.FeatureNotSupported, 'this RETURNING list cannot be parsed by DuckDB');
    return (
      await rewriteSelect(
        this.#parser,
        tree,
        this.#resolver(view, { dry: true, extra: new Map([[token, rel]]) }),
      )
    ).sql;
  }

  async #returningColumns(
    view: CatalogView,
    id: number,
    alias: string,
    returning: PgNode[],
  ): Promise<readonly ResultColumn[]> {
    const sql = await this.#returningSql(
      view,
      id,
      alias,
      returning,
      this.#storage.relation(view, id, { rowId: true }),
    );
    const q = await this.#inner.prepare(sql, []);
    const columns = q.columns;
    q.close();
    return columns;
  }
}

// ---- helpers

/**
 * Parameter values with the types the statement was prepared with, for the storage's DuckDB (which
 * cannot infer a list's type from its value). Text values keep DuckDB's own cast from VARCHAR.
 */
function typedParams(values: readonly DuckDBValue[], types: readonly DuckDBType[]): SqlParams {
  return { values, types: values.map((v, i) => (typeof v === 'string' ? undefined : types[i])) };
}

/** SQL for `values[rn - 1]`: an arithmetic expression when the values step evenly (the usual case). */
function pickByRow(values: readonly bigint[], rn: string): string {
  if (!values.length) return 'NULL';
  const step = values.length > 1 ? values[1]! - values[0]! : 1n;
  if (values.every((v, i) => v === values[0]! + BigInt(i) * step)) {
    return `(CAST(${values[0]} AS BIGINT) + (${rn} - 1) * CAST(${step} AS BIGINT))`;
  }
  return `[${values.join(', ')}][${rn}]`;
}

/** Completes a coordinator-run query's mallard_queries entry once its cursor ends. */
function finishRecord(
  record: QueryRecord,
  cursor: QueryCursor | null,
  err: unknown,
  then?: () => void,
): void {
  record.durationMs = Date.now() - record.startedAt;
  record.rows = cursor?.rowsChanged ?? 0;
  record.status = err ? 'failed' : 'succeeded';
  record.error = err ? String((err as Error).message ?? err) : null;
  then?.();
}

/** `EXPLAIN (ANALYZE false)` / `off` / `0`. */
function isFalseOption(arg: PgNode | undefined): boolean {
  if (!arg) return false;
  const text = String(
    arg['String']?.sval ?? arg['Boolean']?.boolval ?? arg['Integer']?.ival ?? '',
  ).toLowerCase();
  return text === 'false' || text === 'off' || text === '0' || arg['Boolean']?.boolval === false;
}

function toPgError(err: unknown): PgError {
  return err instanceof PgError ? err : mapDuckDBError(err);
}

function bigintSql(v: bigint): string {
  return `CAST(${v} AS BIGINT)`;
}

function qi(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Ids of a table's data files and inline rows: what a statement added is the difference. */
function rowKeys(t: TableEntry): { files: Set<number>; inline: Set<number> } {
  const inline = new Set<number>();
  for (const b of t.inline) for (const r of b.rows) inline.add(r.id);
  return { files: new Set(t.files.map((f) => f.id)), inline };
}

/** A load the workers write: its tasks and the writer that sends them (see #distributedSource). */
interface DistributedLoad {
  readonly tasks: RemoteWriteTask[];
  readonly remote: RemoteTableWriter;
}

export interface TableExecutorOptions {
  /**
   * Directories of external files every worker can read as well (the coordinator's readable directories
   * when the workers are in-process or started by `mallard cluster`): loads from Parquet files there
   * are written by the workers.
   */
  readonly workerReadableDirs?: readonly string[];
}
