import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { encodeControl } from '../../protocol/cluster/controlCodec.js';
import { CLUSTER_PROTOCOL_VERSION, type ExecutionRecord } from '../../protocol/cluster/messages.js';
import { type ClusterSubjects, clusterSubjects, isSubjectToken } from '../../protocol/cluster/subjects.js';
import type { Transport } from '../../protocol/cluster/Transport.js';
import { type FlowControl, QueryExecution, type QueryRun } from './QueryExecution.js';
import { Scheduler, type SchedulingMode } from './Scheduler.js';
import type { QueryTask } from './TaskState.js';
import { type WorkerInfo, WorkerRegistry } from './WorkerRegistry.js';

export interface ClusterClientOptions {
  transport: Transport;
  /** The cluster's subject prefix, e.g. `mallard.default`. */
  prefix: string;
  /** `pull` (default) or `round-robin`. */
  mode?: SchedulingMode;
  /** This coordinator's id on the cluster; generated when absent. */
  coordinatorId?: string;
  /** Heartbeats a worker may miss before it is declared dead (3). */
  missedHeartbeats?: number;
  /** How long a query waits for a live worker before failing (10 s). */
  noWorkersTimeoutMs?: number;
  /** Attempts per task (4). */
  maxAttempts?: number;
  /** Identical SQL failures of one task that fail the query (2). */
  identicalFailures?: number;
  /** A claimed attempt not started within this is retried elsewhere (5 s). */
  claimAckTimeoutMs?: number;
  /** Batches an attempt may have in flight (4). */
  creditWindow?: number;
  /** Result bytes one query may buffer before its workers wait (64 MiB). */
  memoryBudgetBytes?: number;
  /** Target size of one result batch (1 MiB). */
  batchBytes?: number;
  /** Executions kept for tasks() after their query ended (the last 200 queries). */
  queryHistory?: number;
  logger?: Logger;
}

/**
 * The coordinator's handle on a cluster: which workers are alive (registry), running a query's tasks on
 * them (runQuery), and stopping them (cancel, drainWorker).
 */
export class ClusterClient {
  readonly registry: WorkerRegistry;
  readonly coordinatorId: string;
  private readonly transport: Transport;
  private readonly subjects: ClusterSubjects;
  private readonly scheduler: Scheduler;
  private readonly flow: FlowControl;
  private readonly logger: Logger | undefined;
  private readonly running = new Map<string, QueryExecution>();
  private readonly history: QueryExecution[] = [];
  private readonly historySize: number;

  constructor(options: ClusterClientOptions) {
    this.transport = options.transport;
    this.subjects = clusterSubjects(options.prefix);
    this.coordinatorId = options.coordinatorId ?? `c-${randomUUID().slice(0, 8)}`;
    this.logger = options.logger;
    this.historySize = options.queryHistory ?? 200;
    const batchBytes = options.batchBytes ?? 1024 * 1024;
    this.flow = {
      creditWindow: options.creditWindow ?? 4,
      memoryBudgetBytes: options.memoryBudgetBytes ?? 64 * 1024 * 1024,
      batchBytes,
    };
    this.registry = new WorkerRegistry({
      transport: this.transport,
      subjects: this.subjects,
      ...(options.missedHeartbeats === undefined ? {} : { missedHeartbeats: options.missedHeartbeats }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    this.scheduler = new Scheduler({
      transport: this.transport,
      subjects: this.subjects,
      registry: this.registry,
      coordinatorId: this.coordinatorId,
      batchBytes,
      clusterName: options.prefix,
      ...(options.mode === undefined ? {} : { mode: options.mode }),
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      ...(options.identicalFailures === undefined ? {} : { identicalFailures: options.identicalFailures }),
      ...(options.noWorkersTimeoutMs === undefined ? {} : { noWorkersTimeoutMs: options.noWorkersTimeoutMs }),
      ...(options.claimAckTimeoutMs === undefined ? {} : { claimAckTimeoutMs: options.claimAckTimeoutMs }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }

  /**
   * Runs one query's tasks on the cluster. Iterating the result yields every task's Arrow batches exactly
   * once, from the attempt that succeeded, in no particular order across tasks. Workers only get credit to
   * send more as the iteration frees buffer space, so a slow reader slows the workers down. Breaking out of
   * the iteration cancels the query.
   */
  runQuery(tasks: readonly QueryTask[], options: { queryId?: string } = {}): QueryRun {
    const queryId = options.queryId ?? randomUUID();
    if (!isSubjectToken(queryId)) throw new RangeError(`query id "${queryId}" is not a valid subject token`);
    if (this.running.has(queryId)) throw new RangeError(`query ${queryId} is already running`);
    const execution = new QueryExecution({
      queryId,
      tasks,
      transport: this.transport,
      subjects: this.subjects,
      scheduler: this.scheduler,
      flow: this.flow,
      onEnd: (query) => this.onQueryEnd(query),
      ...(this.logger === undefined ? {} : { logger: this.logger }),
    });
    this.running.set(queryId, execution);
    execution.start();
    return execution;
  }

  /** Cancels a running query on every worker; false when no such query runs. */
  cancel(queryId: string, reason?: string): boolean {
    const execution = this.running.get(queryId);
    if (!execution) return false;
    execution.cancel(reason);
    return true;
  }

  /** Asks one worker (or every worker) to drain: stop taking tasks, finish those it holds, then exit. */
  drainWorker(workerId?: string): void {
    this.transport.publish(
      this.subjects.drain,
      encodeControl<'drain'>({
        version: CLUSTER_PROTOCOL_VERSION,
        kind: 'drain',
        ...(workerId === undefined ? {} : { workerId }),
      }),
    );
  }

  /** The workers the registry knows, for mallard_workers. */
  workers(): WorkerInfo[] {
    return this.registry.workers();
  }

  /** Execution records of running and recent queries, for mallard_tasks. */
  tasks(): ExecutionRecord[] {
    const seen = new Set<QueryExecution>([...this.history, ...this.running.values()]);
    return [...seen].flatMap((q) => q.records());
  }

  /** Cancels what still runs and stops listening; the transport stays open for its owner to close. */
  async close(): Promise<void> {
    for (const execution of [...this.running.values()]) execution.cancel('the coordinator is shutting down');
    this.scheduler.close();
    this.registry.close();
    await this.transport.flush().catch(() => {});
  }

  private onQueryEnd(query: QueryExecution): void {
    this.running.delete(query.queryId);
    this.history.push(query);
    if (this.history.length > this.historySize) this.history.shift();
  }
}
