import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { type ExecutionRecord, SHUFFLE_DIR } from '../../protocol/cluster/messages.js';
import type { CatalogView } from '../catalog/CatalogView.js';
import type { ClusterClient } from '../cluster/ClusterClient.js';
import type { SelectStatement } from '../planner/ast.js';
import { DuckDBSqlParser } from '../planner/DuckDBSqlParser.js';
import { DEFAULT_MIN_TASK_ROWS, planQuery } from '../planner/planQuery.js';
import type { DistributedPlan, LayoutRowGroup, TableLayout } from '../planner/types.js';
import { quoteLiteral } from '../storage/sqlText.js';
import { catalogLayouts } from './catalogLayouts.js';

/** One query as `mallard_queries` shows it. */
export interface QueryRecord {
  readonly queryId: string;
  readonly sql: string;
  /** How it ran: `gathered` also when it was distributed and the workers failed it (see workerFault). */
  mode: DistributedPlan['mode'];
  readonly merge: string;
  reason: string | null;
  readonly startedAt: number;
  durationMs: number | null;
  workers: number;
  tasks: number;
  rows: number;
  status: 'running' | 'succeeded' | 'failed' | 'canceled';
  error: string | null;
  /**
   * Milliseconds from the start of execution to each phase's end, in order (`plan`, `stage`, `first
   * batch`, `tasks done`, `merge`, ...): what a distributed query's fixed cost is made of.
   */
  phases?: Record<string, number>;
}

/**
 * The record of a query under `plan`, with `tasks` tasks, still `running`, which started at `startedAt`
 * (epoch ms; before its planning, so that duration_ms counts it).
 */
export function startedRecord(
  queryId: string,
  sql: string,
  plan: DistributedPlan,
  tasks: number,
  startedAt: number = Date.now(),
): QueryRecord {
  return {
    queryId,
    sql,
    mode: plan.mode,
    merge: plan.merge.kind,
    reason: plan.reason ?? null,
    startedAt,
    durationMs: null,
    workers: 0,
    tasks,
    rows: 0,
    status: 'running',
    error: null,
  };
}

export interface DistributedRuntimeOptions {
  readonly client: ClusterClient;
  /** Opens connections on the coordinator's DuckDB: the planner binds task SQL there. */
  readonly connect: () => Promise<DuckDBConnection>;
  /** The data directory, absolute, as the workers see it. */
  readonly dataDir: string;
  readonly logger?: Logger;
  /** Overrides the planner's coordinator-local threshold (rows of the tables a query reads). */
  readonly localMaxRows?: number;
  /** Queries kept for mallard_queries (500). */
  readonly history?: number;
  /** When the planner may shuffle two large tables for a join instead of gathering (`auto`). */
  readonly shuffle?: ShufflePolicy;
}

/**
 * `on`: shuffle whenever the planner finds a repartition. `off`: never; such queries run gathered on the
 * coordinator. `auto` (the default): only when the workers' slots outnumber this machine's cores. A
 * shuffle writes and reads both sides once more as Parquet, which pays only when the cluster brings more
 * cores than the coordinator has (workers on other machines); with workers on the coordinator's own
 * cores, gathering costs less.
 */
export type ShufflePolicy = 'auto' | 'on' | 'off';

/**
 * The coordinator's side of distributed execution, shared by every session: the cluster client, the
 * planner's settings, and the history of queries for `mallard_queries`.
 */
export class DistributedRuntime {
  readonly client: ClusterClient;
  readonly dataDir: string;
  readonly logger: Logger | undefined;
  readonly localMaxRows: number | undefined;
  readonly shuffle: ShufflePolicy;
  readonly #connect: () => Promise<DuckDBConnection>;
  readonly #history: QueryRecord[] = [];
  readonly #historySize: number;
  #queries = 0;

  constructor(options: DistributedRuntimeOptions) {
    this.client = options.client;
    this.dataDir = options.dataDir;
    this.logger = options.logger;
    this.localMaxRows = options.localMaxRows;
    this.shuffle = options.shuffle ?? 'auto';
    this.#connect = options.connect;
    this.#historySize = options.history ?? 500;
    // Shuffle files of queries a previous coordinator process left unfinished.
    rmSync(join(this.dataDir, SHUFFLE_DIR), { recursive: true, force: true });
  }

  /** Task slots across the live workers (each worker runs one task per thread). */
  slots(): number {
    let slots = 0;
    for (const w of this.client.workers()) if (w.state === 'ready') slots += Math.max(1, w.threads);
    return slots;
  }

  /** Whether plans may shuffle now (see ShufflePolicy). */
  shuffles(): boolean {
    if (this.shuffle === 'auto') return this.slots() > availableParallelism();
    return this.shuffle === 'on';
  }

  /** A planner for one session, on a connection of its own. */
  async openPlanner(): Promise<SessionPlanner> {
    return new SessionPlanner(this, await this.#connect());
  }

  /** A fresh query id (a NATS subject token). */
  nextQueryId(): string {
    return `q${process.pid}x${(++this.#queries).toString(36)}x${Date.now().toString(36)}`;
  }

  record(entry: QueryRecord): void {
    this.#history.push(entry);
    if (this.#history.length > this.#historySize) this.#history.shift();
  }

  /** Recent queries, oldest first. */
  queries(): readonly QueryRecord[] {
    return this.#history;
  }

  /** Execution records of the cluster's recent tasks. */
  tasks(): ExecutionRecord[] {
    return this.client.tasks();
  }
}

/** Input rows per task of a plan whose output is as large as its input; see SessionPlanner.plan. */
const STREAMED_TASK_ROWS = 500_000;

/** The most rows one task of the plan's first stage reads from the files listed for it. */
function largestTask(plan: DistributedPlan, tables: ReadonlyMap<string, TableLayout>): number {
  const rows = new Map<string, number>();
  for (const t of tables.values()) for (const f of t.files) rows.set(f.path, f.rows);
  let largest = 0;
  for (const task of plan.stages[0]?.tasks ?? []) {
    let n = 0;
    for (const paths of Object.values(task.files)) for (const p of paths) n += rows.get(p) ?? 0;
    largest = Math.max(largest, n);
  }
  return largest;
}

/** Plans a session keeps for re-execution on the same snapshot. */
const PLAN_CACHE_SIZE = 64;

/** Plans a session's SELECTs over a catalog snapshot with DuckDB's parser, on the session's planner connection. */
export class SessionPlanner {
  readonly parser: DuckDBSqlParser;
  readonly #connection: DuckDBConnection;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #plans = new Map<string, Promise<DistributedPlan>>();
  readonly #statements = new Map<string, Promise<readonly SelectStatement[]>>();
  /** Plans the workers failed through no fault of the query, and the gathered plans that replace them. */
  readonly #faulted = new WeakMap<DistributedPlan, DistributedPlan>();
  /** Staging names of this session's queries that ended, for the next ones (see stagingName). */
  readonly #freeStagingNames: string[] = [];
  #stagingNames = 0;

  constructor(
    readonly runtime: DistributedRuntime,
    connection: DuckDBConnection,
  ) {
    this.#connection = connection;
    this.parser = new DuckDBSqlParser(connection);
  }

  /**
   * The plan of `sql` (one SELECT with no parameters) over `view`. With a `cacheKey` (the snapshot's
   * committed version), the plan is reused while the key and the cluster's slot count stay the same.
   */
  plan(sql: string, view: CatalogView, cacheKey: string | null = null): Promise<DistributedPlan> {
    const key =
      cacheKey === null ? null : `${cacheKey}|${this.runtime.slots()}|${this.runtime.shuffles()}|${sql}`;
    const cached = key === null ? undefined : this.#plans.get(key);
    if (cached) return cached.then((plan) => this.#faulted.get(plan) ?? plan);
    // One planning at a time per connection: the parser's calls must not interleave.
    const run = async () => {
      await this.#learnRowGroups(view);
      const layouts = catalogLayouts(view, this.runtime.dataDir, (path) => ROW_GROUPS.get(path));
      const context = {
        tables: layouts.tables,
        workerSlots: Math.max(1, this.runtime.slots()),
        parser: this.parser,
        scanSql: layouts.scanSql,
        scanSqlRowRanges: true,
        minTaskRows: DEFAULT_MIN_TASK_ROWS,
        // Unique per planning: a plan with a shuffle is never reused (see below).
        ...(this.runtime.shuffles()
          ? { shuffleDir: join(this.runtime.dataDir, SHUFFLE_DIR, this.runtime.nextQueryId()) }
          : {}),
        ...(this.runtime.localMaxRows === undefined ? {} : { localMaxRows: this.runtime.localMaxRows }),
      };
      const plan = await planQuery(sql, context);
      // The coordinator holds each task's output until the task succeeds (a retry must not duplicate
      // rows). Where the output is as large as the input (a scan, or a sort without LIMIT), tasks are cut
      // to STREAMED_TASK_ROWS input rows so that stays a few tens of MB; aggregates keep fewer, larger
      // tasks, which read replicated tables fewer times.
      const large = plan.merge.kind !== 'aggregate' && plan.merge.limit === undefined;
      if (plan.mode !== 'distributed' || !large || largestTask(plan, layouts.tables) <= STREAMED_TASK_ROWS)
        return plan;
      return planQuery(sql, { ...context, maxTaskRows: STREAMED_TASK_ROWS });
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    if (key !== null) {
      this.#plans.set(key, next);
      // A plan that shuffles names its own folder for its files: the next execution plans afresh.
      next.then(
        (plan) => plan.shuffleDir !== undefined && this.#plans.delete(key),
        () => this.#plans.delete(key),
      );
      if (this.#plans.size > PLAN_CACHE_SIZE) this.#plans.delete(this.#plans.keys().next().value!);
    }
    return next;
  }

  /**
   * DuckDB's parse of `sql`, remembered for the texts the session runs again (a parse is a DuckDB round
   * trip). The trees are shared: callers must not change them. Rejects with SqlParseError as the parser does.
   */
  parse(sql: string): Promise<readonly SelectStatement[]> {
    const known = this.#statements.get(sql);
    if (known) {
      // Most recently used last, so the oldest is the one let go.
      this.#statements.delete(sql);
      this.#statements.set(sql, known);
      return known;
    }
    const parsed = this.parser.parse(sql);
    this.#statements.set(sql, parsed);
    parsed.catch(() => this.#statements.delete(sql));
    if (this.#statements.size > PLAN_CACHE_SIZE)
      this.#statements.delete(this.#statements.keys().next().value!);
    return parsed;
  }

  /**
   * A name for one query's staging relation on the session's connection, free until releaseStagingName.
   * Names are reused, so the merge SQL written for a plan and a name serves the plan's next executions.
   */
  stagingName(): string {
    return this.#freeStagingNames.pop() ?? `mallard_task_results_${++this.#stagingNames}`;
  }

  releaseStagingName(name: string): void {
    this.#freeStagingNames.push(name);
  }

  /**
   * Records that the workers failed `plan` through no fault of the query (see workerFault): while the
   * plan is cached, plan() returns a gathered plan saying why, so the query runs on the coordinator and
   * EXPLAIN says so.
   */
  markWorkerFault(plan: DistributedPlan, sql: string, reason: string): void {
    this.#faulted.set(plan, { mode: 'gathered', reason, stages: [], merge: { kind: 'sql', sql } });
  }

  close(): void {
    this.#connection.closeSync();
  }

  /**
   * Reads the row groups of the snapshot's data files the planner has not seen yet, from their Parquet
   * footers (one parquet_metadata call for all of them). Data files never change once written, so what is
   * learnt is kept for the process's life, keyed by path.
   */
  async #learnRowGroups(view: CatalogView): Promise<void> {
    const unknown = view
      .tables()
      .flatMap((t) => t.files.map((f) => f.path))
      .filter((path) => !ROW_GROUPS.has(path));
    if (unknown.length === 0) return;
    const absolute = new Map(unknown.map((p) => [join(this.runtime.dataDir, p), p]));
    const list = [...absolute.keys()].map(quoteLiteral).join(', ');
    const reader = await this.#connection.runAndReadAll(
      `SELECT file_name, row_group_id, any_value(row_group_num_rows), sum(total_compressed_size)
       FROM parquet_metadata([${list}]) GROUP BY file_name, row_group_id ORDER BY file_name, row_group_id`,
    );
    const found = new Map<string, LayoutRowGroup[]>();
    for (const [file, , rows, bytes] of reader.getRows()) {
      const path = absolute.get(String(file));
      if (path === undefined) continue;
      const groups = found.get(path) ?? [];
      groups.push({ rows: Number(rows), bytes: Number(bytes) });
      found.set(path, groups);
    }
    for (const [path, groups] of found) ROW_GROUPS.set(path, groups);
    while (ROW_GROUPS.size > ROW_GROUP_CACHE_FILES) ROW_GROUPS.delete(ROW_GROUPS.keys().next().value!);
  }
}

/** Row groups of data files by catalog path (files are immutable), for every session. */
const ROW_GROUPS = new Map<string, readonly LayoutRowGroup[]>();
const ROW_GROUP_CACHE_FILES = 100_000;
