import { mkdirSync, rmSync } from 'node:fs';
import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { QueryCanceledError, type TaskError } from '../../protocol/cluster/ClusterError.js';
import type { QueryRun, TaskBatch } from '../cluster/QueryExecution.js';
import type { QueryTask } from '../cluster/TaskState.js';
import type { ColumnBatch, PreparedQuery, QueryCursor, ResultColumn } from '../executor/Executor.js';
import { ArrowBatchLoader } from '../merge/ArrowBatchLoader.js';
import { forEachTableRef } from '../planner/ast.js';
import { TASK_RESULTS } from '../planner/planQuery.js';
import type { DistributedPlan } from '../planner/types.js';
import { readAll } from '../tables/CommandQuery.js';
import { type QueryRecord, type SessionPlanner, startedRecord } from './DistributedRuntime.js';
import { PhaseClock } from './PhaseClock.js';
import { workerFault } from './workerFault.js';

/** The session side a distributed query merges on: its DuckDB connection and its statements. */
export interface MergeSession {
  prepare(sql: string, paramTypeHints: readonly (DuckDBType | null)[]): Promise<PreparedQuery>;
  withConnection<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T>;
}

/**
 * What the coordinator learnt about a plan's merge, kept with the plan (plans are cached per session):
 * its SQL over each staging name it ran with, and the result columns it was found to yield.
 */
interface MergeFacts {
  readonly sql: Map<string, string>;
  readonly checked: Set<string>;
}

const MERGE_FACTS = new WeakMap<DistributedPlan, MergeFacts>();

function mergeFacts(plan: DistributedPlan): MergeFacts {
  let facts = MERGE_FACTS.get(plan);
  if (!facts) {
    facts = { sql: new Map(), checked: new Set() };
    MERGE_FACTS.set(plan, facts);
  }
  return facts;
}

/**
 * Starts a `distributed` plan: stages the task results in a TEMP table of the session's DuckDB
 * (ArrowBatchLoader), prepares the merge SQL over it, and checks that the merge yields exactly
 * `columns` (the result the client was promised when the statement was described). Resolves to null,
 * having started nothing, when it does not: the caller then runs the query on the coordinator.
 *
 * The returned cursor runs the tasks on the cluster. A `concat` merge without LIMIT/OFFSET streams: each
 * Arrow batch is loaded alone and the merge SQL (a projection) runs over it, so memory stays bounded by
 * the cluster's credits however large the result. Every other merge loads every task's rows first.
 */
export async function startDistributedQuery(
  plan: DistributedPlan,
  options: {
    planner: SessionPlanner;
    session: MergeSession;
    sql: string;
    columns: readonly ResultColumn[];
    clock?: PhaseClock;
    /**
     * Runs the query whole on the coordinator, over the same snapshot, with its parameters: what the
     * cursor does instead when the workers fail it through no fault of the query (see workerFault),
     * provided no row was returned yet.
     */
    runWhole?: () => Promise<QueryCursor>;
  },
): Promise<DistributedCursor | null> {
  const clock = options.clock ?? new PhaseClock();
  const stage = plan.stages.at(-1);
  const writes = plan.stages.slice(0, -1);
  // Supported shapes: one stage of SELECT tasks, optionally after shuffle-write stages.
  if (plan.mode !== 'distributed' || !stage || stage.kind === 'shuffle-write') return null;
  if (writes.some((s) => s.kind !== 'shuffle-write') || (writes.length > 0 && !plan.shuffleDir)) return null;
  const { planner, session } = options;
  const facts = mergeFacts(plan);
  const name = planner.stagingName();
  let mergeSql = facts.sql.get(name);
  let loader: ArrowBatchLoader;
  try {
    if (mergeSql === undefined) {
      mergeSql = await renameTaskResults(planner, plan.merge.sql, name);
      facts.sql.set(name, mergeSql);
    }
    loader = await session.withConnection((conn) => ArrowBatchLoader.create(conn, name, stage.columns));
  } catch (err) {
    planner.releaseStagingName(name);
    throw err;
  }
  // The name is free again only once its relation is gone.
  const drop = () => session.withConnection(() => loader.drop()).then(() => planner.releaseStagingName(name));
  const signature = columnsSignature(options.columns);
  if (!facts.checked.has(signature)) {
    let columns: readonly ResultColumn[];
    try {
      // Prepared over the empty staging table only to learn its columns: see DistributedCursor.#runMerge.
      const merge = await session.prepare(mergeSql, []);
      columns = merge.columns;
      merge.close();
    } catch (err) {
      await drop().catch(() => {});
      throw err;
    }
    if (!sameColumns(columns, options.columns)) {
      planner.runtime.logger?.warn(
        { sql: options.sql, merge: mergeSql },
        "the merge does not yield the statement's columns; running it on the coordinator",
      );
      await drop();
      return null;
    }
    // The staging relation's columns come from the plan, so the merge yields these columns every time.
    facts.checked.add(signature);
  }
  const runtime = planner.runtime;
  const queryId = runtime.nextQueryId();
  const tasks: QueryTask[] = stage.tasks.map((t) => ({ sql: t.sql, partition: { files: [] } }));
  const shuffles: QueryTask[][] = writes.map((w) =>
    w.tasks.map((t) => ({ sql: t.sql, partition: { files: [] }, writes: t.writes! })),
  );
  const record = startedRecord(
    queryId,
    options.sql,
    plan,
    tasks.length + shuffles.reduce((n, w) => n + w.length, 0),
    clock.startedAt,
  );
  runtime.record(record);
  clock.mark('staging');
  record.phases = clock.phases;
  const streaming =
    plan.merge.kind === 'concat' && plan.merge.limit === undefined && plan.merge.offset === undefined;
  runtime.logger?.debug(
    { queryId, tasks: tasks.length, merge: plan.merge.kind, streaming },
    'distributing query',
  );
  const stages: Stages = {
    shuffles,
    tasks,
    queryId,
    logger: runtime.logger,
    start: (t, id) => runtime.client.runQuery(t, { queryId: id }),
    ...(plan.shuffleDir ? { shuffleDir: plan.shuffleDir } : {}),
  };
  if (plan.shuffleDir) mkdirSync(plan.shuffleDir, { recursive: true });
  const fallback = options.runWhole
    ? {
        run: options.runWhole,
        faulted: (reason: string) => planner.markWorkerFault(plan, options.sql, reason),
      }
    : undefined;
  return new DistributedCursor(stages, options.columns, session, loader, mergeSql, streaming, record, clock, {
    dropped: () => planner.releaseStagingName(name),
    ...(fallback ? { fallback } : {}),
  });
}

/** Task result bytes a merge holds before appending them to its staging table in one go. */
const MERGE_APPEND_BYTES = 16 * 1024 * 1024;

/** What a DistributedCursor runs: shuffle-write stages one after the other, then the tasks it reads. */
interface Stages {
  readonly shuffles: readonly (readonly QueryTask[])[];
  readonly tasks: readonly QueryTask[];
  readonly queryId: string;
  readonly shuffleDir?: string;
  readonly logger?: Logger | undefined;
  start(tasks: readonly QueryTask[], queryId: string): QueryRun;
}

/**
 * The rows of a distributed query, merged on the coordinator. Pulling is the backpressure: a batch is
 * taken from the cluster only when the session asks for the next one, and the cluster grants workers
 * credit only as batches are taken.
 */
export class DistributedCursor implements QueryCursor {
  #returned = 0;
  #pending: ColumnBatch[] = [];
  #final: QueryCursor | null = null;
  #iterator: AsyncIterator<TaskBatch> | null = null;
  #done = false;
  #loaded = false;
  #current: PreparedQuery | null = null;
  /** The query run whole on the coordinator, after the workers failed it (see #fallBack). */
  #whole: QueryCursor | null = null;

  /** The stage running now; the final one once the shuffle writes are done. */
  #run: QueryRun | null = null;
  #runs: QueryRun[] = [];
  #canceled: string | undefined;

  constructor(
    private readonly stages: Stages,
    readonly columns: readonly ResultColumn[],
    private readonly session: MergeSession,
    private loader: ArrowBatchLoader,
    private readonly mergeSql: string,
    private readonly streaming: boolean,
    private readonly record: QueryRecord,
    private readonly clock: PhaseClock,
    private readonly hooks: {
      /** Called once the staging relation is dropped. */
      dropped: () => void;
      /** Runs the query whole on the coordinator, and tells the planner why it had to. */
      fallback?: { run: () => Promise<QueryCursor>; faulted: (reason: string) => void };
    },
  ) {}

  get rowsChanged(): number {
    return this.#returned;
  }

  get queryId(): string {
    return this.stages.queryId;
  }

  /**
   * Runs every shuffle-write stage to its end (their Count rows are dropped), then starts the final stage.
   * Called once per cursor.
   */
  async #finalRun(): Promise<QueryRun> {
    for (const [i, tasks] of this.stages.shuffles.entries()) {
      const run = this.#startRun(tasks, `${this.stages.queryId}x${i + 1}`);
      for await (const _ of run) {
        // Each write task returns its one Count row; the files are what the next stage reads.
      }
    }
    const run = this.#startRun(this.stages.tasks, this.stages.queryId);
    this.clock.mark('dispatch');
    return run;
  }

  #startRun(tasks: readonly QueryTask[], queryId: string): QueryRun {
    if (this.#canceled !== undefined) throw new QueryCanceledError(this.#canceled);
    const run = this.stages.start(tasks, queryId);
    this.#run = run;
    this.#runs.push(run);
    return run;
  }

  async next(): Promise<ColumnBatch | null> {
    if (this.#done) return null;
    try {
      let batch: ColumnBatch | null;
      try {
        batch = this.#whole
          ? await this.#whole.next()
          : this.streaming
            ? await this.#nextStreamed()
            : await this.#nextMerged();
      } catch (err) {
        if (!(await this.#fallBack(err))) throw err;
        batch = await this.#whole!.next();
      }
      if (batch === null) {
        this.#finish('succeeded', null);
        return null;
      }
      this.#returned += batch.rowCount;
      return batch;
    } catch (err) {
      const canceled = (err as { code?: string }).code === '57014';
      this.#finish(canceled ? 'canceled' : 'failed', err);
      throw err;
    }
  }

  /**
   * When the workers failed the query through no fault of its own (a DuckDB internal error in a task, say)
   * and the client has no row of it yet, runs it whole on the coordinator instead; mallard_queries then
   * shows it gathered, with why, and later executions of the plan run there from the start. False when
   * the error stands.
   */
  async #fallBack(err: unknown): Promise<boolean> {
    const fallback = this.hooks.fallback;
    const fault = workerFault(err);
    if (!fallback || !fault || this.#whole || this.#returned > 0 || this.#canceled !== undefined)
      return false;
    const task = (err as TaskError).taskId + 1;
    const reason = `the workers failed it (task ${task}: ${fault.message}); it runs whole on the coordinator`;
    this.stages.logger?.warn(
      { queryId: this.queryId, error: fault.message },
      'a task failed with an internal error; running the query on the coordinator',
    );
    this.#run?.cancel('the query runs on the coordinator instead');
    this.#final?.close();
    this.#final = null;
    this.#pending = [];
    this.record.mode = 'gathered';
    this.record.reason = reason;
    fallback.faulted(reason);
    this.#whole = await fallback.run();
    return true;
  }

  /** Stops the query's tasks on every worker; the pending or next next() rejects with 57014 `message`. */
  cancel(message?: string): void {
    if (this.#done) return;
    this.#canceled = message ?? 'canceling statement due to user request';
    this.#run?.cancel(message);
  }

  close(): void {
    if (this.#done) return;
    this.#run?.cancel('the statement was closed');
    this.#finish('canceled', null);
  }

  async #nextStreamed(): Promise<ColumnBatch | null> {
    while (this.#pending.length === 0) {
      this.#iterator ??= (await this.#finalRun())[Symbol.asyncIterator]();
      const step = await this.#iterator.next();
      if (step.done) return null;
      if (this.clock.phases['first batch'] === undefined) this.clock.mark('first batch');
      await this.session.withConnection(async (conn) => {
        // A fresh staging table per batch: DuckDB keeps deleted rows' memory until the table is dropped.
        const { name, columns } = this.loader;
        await this.loader.drop();
        this.loader = await ArrowBatchLoader.create(conn, name, columns);
        this.loader.append(step.value.batch);
      });
      this.#pending = await this.#runMerge(async (q) => readAll(await q.execute([])));
    }
    return this.#pending.shift() ?? null;
  }

  async #nextMerged(): Promise<ColumnBatch | null> {
    if (!this.#loaded) {
      // Batches are appended a few MiB at a time: each append ends with a flush, a DuckDB commit done on
      // the event loop (118k rows of TPC-H Q16 in 64 appends: 67 ms, in one: 25 ms).
      let held: TaskBatch['batch'][] = [];
      let heldBytes = 0;
      const append = async () => {
        const batches = held;
        held = [];
        heldBytes = 0;
        await this.session.withConnection(async () => this.loader.appendAll(batches));
      };
      for await (const { batch } of await this.#finalRun()) {
        if (this.clock.phases['first batch'] === undefined) this.clock.mark('first batch');
        held.push(batch);
        heldBytes += batch.data.byteLength;
        if (heldBytes >= MERGE_APPEND_BYTES) await append();
      }
      if (held.length > 0) await append();
      this.clock.mark('tasks done');
      this.#loaded = true;
      this.#final = await this.#runMerge((q) => q.execute([]));
      this.clock.mark('merged');
    }
    return (await this.#final?.next()) ?? null;
  }

  /**
   * Runs the merge over what is staged now. It is prepared afresh each time: DuckDB plans with the
   * staged table's statistics (string lengths, value ranges), so a statement prepared over other rows
   * (or none) may read these wrongly.
   */
  async #runMerge<T>(run: (q: PreparedQuery) => Promise<T>): Promise<T> {
    const q = await this.session.prepare(this.mergeSql, []);
    if (!this.streaming) this.clock.mark('merge prepared');
    this.#current = q;
    try {
      return await run(q);
    } finally {
      if (this.streaming) {
        q.close();
        this.#current = null;
      }
    }
  }

  #finish(status: QueryRecord['status'], err: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#final?.close();
    this.#pending = [];
    this.#current?.close();
    const loader = this.loader;
    this.session.withConnection(() => loader.drop()).then(this.hooks.dropped, () => {});
    this.#whole?.close();
    const r = this.record;
    r.status = status;
    r.error = err ? (err as Error).message : null;
    r.durationMs = Date.now() - r.startedAt;
    r.rows = this.#returned;
    r.workers = new Set(this.#runs.flatMap((run) => run.records().map((x) => x.workerId))).size;
    this.clock.mark('end');
    this.stages.logger?.debug({ queryId: r.queryId, phases: this.clock.phases }, 'query phases');
    if (this.stages.shuffleDir) {
      // A canceled write may still be finishing on its worker: the folder goes once nothing writes to it.
      const dir = this.stages.shuffleDir;
      setTimeout(() => rmSync(dir, { recursive: true, force: true }), this.#canceled ? 2_000 : 0).unref();
    }
  }
}

/** The merge SQL with its `task_results` relation renamed to this query's staging view. */
async function renameTaskResults(planner: SessionPlanner, sql: string, name: string): Promise<string> {
  const statements = await planner.parser.parse(sql);
  for (const stmt of statements) {
    forEachTableRef(stmt, (ref, cte) => {
      if (cte || ref.schema_name || ref.catalog_name || ref.table_name !== TASK_RESULTS) return;
      // Keep the old name as the alias: the merge may qualify columns with it (task_results.__w).
      ref.table_name = name;
      if (!ref.alias) ref.alias = TASK_RESULTS;
    });
  }
  if (statements.length !== 1) throw new Error(`merge SQL is ${statements.length} statements`);
  return planner.parser.deparse(statements[0]!);
}

function columnsSignature(columns: readonly ResultColumn[]): string {
  return JSON.stringify(columns.map((c) => [c.name, c.type.toString()]));
}

function sameColumns(a: readonly ResultColumn[], b: readonly ResultColumn[]): boolean {
  return (
    a.length === b.length &&
    a.every((c, i) => c.name === b[i]!.name && c.type.toString() === b[i]!.type.toString())
  );
}
