import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { TransportError } from '../protocol/cluster/ClusterError.js';
import { decodeControl, encodeControl } from '../protocol/cluster/controlCodec.js';
import {
  CLUSTER_PROTOCOL_VERSION,
  type ExecutionRecord,
  type Heartbeat,
  type TaskAssignment,
} from '../protocol/cluster/messages.js';
import { type ClusterSubjects, clusterSubjects, isSubjectToken } from '../protocol/cluster/subjects.js';
import type { Transport, TransportMessage, TransportSubscription } from '../protocol/cluster/Transport.js';
import { memoryInUse, openSandbox } from './openSandbox.js';
import { StatementCache } from './StatementCache.js';
import { TaskExecution } from './TaskExecution.js';

/** pino's calling convention, so a pino logger fits; the worker logs one line per event, never banners. */
export interface WorkerLogger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

export interface WorkerOptions {
  /** The cluster's transport; the caller owns it and closes it after the worker stopped. */
  transport: Transport;
  /** The cluster's subject prefix, e.g. `mallard.default`. */
  prefix: string;
  /** DuckDB threads, and the number of tasks the worker runs at once (its slots). */
  threads: number;
  /** DuckDB memory limit, e.g. `4GB`; DuckDB's default (80% of RAM) when absent. */
  memoryLimit?: string;
  /** The shared data directory; task SQL can read nothing outside it but `readableDirs`. */
  dataDir: string;
  /** Directories of external files that load tasks may read, as the coordinator's `--readable-dir`. */
  readableDirs?: readonly string[];
  /** A unique id; generated from host and pid when absent. */
  id?: string;
  /** Heartbeat period, 1 s by default. */
  heartbeatIntervalMs?: number;
  /** How long a drain waits for held tasks before handing them back; 0 (default) waits for them all. */
  drainTimeoutMs?: number;
  /** How long a claim waits for the coordinator's reply. */
  claimTimeoutMs?: number;
  /** Where DuckDB may spill; a fresh directory under the OS temp dir by default. */
  tempDir?: string;
  /** The Mallard release reported in heartbeats. */
  workerVersion?: string;
  logger?: WorkerLogger;
}

export type WorkerState = 'ready' | 'draining' | 'stopped';

/** A running worker. */
export interface WorkerHandle {
  readonly id: string;
  readonly state: WorkerState;
  /** Resolves once the worker has stopped, however it stopped. */
  readonly stopped: Promise<void>;
  /** Stops claiming, finishes the tasks it holds (or hands them back after drainTimeoutMs), then stops. */
  drain(): Promise<void>;
  /** Interrupts the tasks it holds, reports them handed back so they are retried at once, then stops. */
  stop(): Promise<void>;
  /**
   * Stops at once and says nothing more to anyone: what a crashed worker looks like to the cluster. The
   * coordinator finds out when its heartbeats stop.
   */
  abort(): Promise<void>;
  /** The final execution records of the attempts it ran, oldest first (the last 10,000). */
  records(): readonly ExecutionRecord[];
  runningTasks(): number;
}

const RECORDS_KEPT = 10_000;
/** How long, and how many, cancels are remembered for tasks whose assignment arrives after them. */
const CANCEL_MEMORY_MS = 10 * 60_000;
const CANCELS_KEPT = 10_000;

const silentLogger: WorkerLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Starts a worker: opens its sandboxed DuckDB, announces itself and takes tasks until stopped. */
export async function runWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const worker = new Worker(options);
  await worker.start();
  return worker;
}

/** A worker id made of safe subject characters, recognisable in logs and in mallard_workers. */
function defaultWorkerId(): string {
  const host = [...hostname()].map((ch) => (isSubjectToken(ch) ? ch : '_')).join('');
  return `${host}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

class Worker implements WorkerHandle {
  readonly id: string;
  state: WorkerState = 'ready';
  readonly stopped: Promise<void>;
  private resolveStopped!: () => void;
  private readonly options: WorkerOptions;
  private readonly transport: Transport;
  private readonly subjects: ClusterSubjects;
  private readonly threads: number;
  private readonly heartbeatMs: number;
  private readonly log: WorkerLogger;
  private instance: DuckDBInstance | undefined;
  private monitor: DuckDBConnection | undefined;
  /** The heartbeat's memory probe on the monitor connection, while it runs. */
  private measuring: Promise<void> | undefined;
  private readonly idle: DuckDBConnection[] = [];
  /** The statements each task connection keeps prepared. */
  private readonly statements = new Map<DuckDBConnection, StatementCache>();
  private readonly executions = new Map<TaskExecution, Promise<ExecutionRecord>>();
  private readonly finished: ExecutionRecord[] = [];
  private readonly subscriptions: TransportSubscription[] = [];
  /** Coordinators by id, and whether their last word was that they have tasks waiting. */
  private readonly coordinators = new Map<string, boolean>();
  private readonly claiming = new Set<string>();
  /** Slots promised in claims still waiting for their reply. */
  private reserved = 0;
  private tasksDone = 0;
  private memoryUsed = 0;
  private memoryLimit = 0;
  /**
   * Cancels seen recently, by `queryId` or `queryId/taskId/attempt`. A claim reply and a cancel can cross,
   * and the cancel can be handled first; a task of a canceled query must then not start at all.
   */
  private readonly canceled = new Map<string, number>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private aborted = false;
  private shuttingDown: Promise<void> | null = null;
  private ownTempDir: string | undefined;

  constructor(options: WorkerOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) {
      throw new RangeError(`threads must be a positive integer, got ${options.threads}`);
    }
    this.options = options;
    this.id = options.id ?? defaultWorkerId();
    if (!isSubjectToken(this.id)) throw new RangeError(`worker id "${this.id}" is not a valid subject token`);
    this.transport = options.transport;
    this.subjects = clusterSubjects(options.prefix);
    this.threads = options.threads;
    this.heartbeatMs = options.heartbeatIntervalMs ?? 1000;
    this.log = options.logger ?? silentLogger;
    this.stopped = new Promise((r) => {
      this.resolveStopped = r;
    });
  }

  async start(): Promise<void> {
    const dataDir = resolve(this.options.dataDir);
    if (!statSync(dataDir, { throwIfNoEntry: false })?.isDirectory()) {
      throw new Error(`data directory ${dataDir} does not exist or is not a directory`);
    }
    try {
      const sandbox = await openSandbox({
        dataDir,
        tempDir: this.tempDir(),
        threads: this.threads,
        ...(this.options.readableDirs ? { readableDirs: this.options.readableDirs } : {}),
        ...(this.options.memoryLimit ? { memoryLimit: this.options.memoryLimit } : {}),
      });
      this.instance = sandbox.instance;
      this.memoryLimit = sandbox.memoryLimitBytes;
      for (let i = 0; i < this.threads; i++) this.idle.push(await sandbox.instance.connect());
      this.monitor = await sandbox.instance.connect();
    } catch (err) {
      // A bad memory limit, say: leave nothing behind.
      for (const connection of this.idle.splice(0)) connection.closeSync();
      this.instance?.closeSync();
      if (this.ownTempDir) rmSync(this.ownTempDir, { recursive: true, force: true });
      throw err;
    }
    this.listen(this.subjects.offer, (m) => this.onOffer(m));
    this.listen(this.subjects.credit(this.id), (m) => this.onCredit(m));
    this.listen(this.subjects.cancel, (m) => this.onCancel(m));
    this.listen(this.subjects.drain, (m) => this.onDrain(m));
    this.heartbeat();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.heartbeatMs);
    this.log.info(
      { worker: this.id, threads: this.threads, dataDir, prefix: this.subjects.prefix },
      'worker started',
    );
  }

  /** The spill directory: the caller's, or a fresh one of its own that the worker removes when it stops. */
  private tempDir(): string {
    if (this.options.tempDir) return this.options.tempDir;
    this.ownTempDir = mkdtempSync(join(tmpdir(), `mallard-worker-${this.id}-`));
    return this.ownTempDir;
  }

  records(): readonly ExecutionRecord[] {
    return this.finished;
  }

  runningTasks(): number {
    return this.executions.size;
  }

  drain(): Promise<void> {
    if (this.state !== 'ready') return this.stopped;
    this.state = 'draining';
    this.heartbeat();
    this.log.info({ worker: this.id, held: this.executions.size }, 'worker draining');
    const timeout = this.options.drainTimeoutMs ?? 0;
    const timer =
      timeout > 0
        ? setTimeout(
            () => this.haltAll('handed-back', `worker ${this.id} drained with tasks unfinished`),
            timeout,
          )
        : undefined;
    return this.shutdown().finally(() => clearTimeout(timer));
  }

  stop(): Promise<void> {
    if (this.state === 'stopped' || this.aborted) return this.stopped;
    this.state = 'draining';
    this.haltAll('handed-back', `worker ${this.id} is stopping`);
    return this.shutdown();
  }

  abort(): Promise<void> {
    if (this.aborted) return this.stopped;
    this.aborted = true;
    clearInterval(this.heartbeatTimer);
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    this.haltAll('handed-back', `worker ${this.id} aborted`);
    return this.shutdown();
  }

  private listen(subject: string, handler: (message: TransportMessage) => void): void {
    this.subscriptions.push(
      this.transport.subscribe(subject, (message) => {
        try {
          handler(message);
        } catch (err) {
          this.log.warn({ worker: this.id, subject, err: String(err) }, 'dropped a malformed message');
        }
      }),
    );
  }

  /** Everything a worker says goes through here, so an aborted worker says nothing. */
  private publish(subject: string, data: Uint8Array): void {
    if (this.aborted) return;
    try {
      this.transport.publish(subject, data);
    } catch (err) {
      // A closed or reconnecting connection: the coordinator notices the silence and retries elsewhere.
      this.log.warn({ worker: this.id, subject, err: String(err) }, 'publish failed');
    }
  }

  private heartbeat(): void {
    if (this.monitor && this.state !== 'stopped' && !this.measuring) {
      this.measuring = memoryInUse(this.monitor).then(
        (bytes) => {
          this.memoryUsed = bytes;
        },
        () => {},
      );
      const done = this.measuring;
      done.finally(() => {
        if (this.measuring === done) this.measuring = undefined;
      });
    }
    const beat: Heartbeat = {
      version: CLUSTER_PROTOCOL_VERSION,
      kind: 'heartbeat',
      id: this.id,
      host: hostname(),
      pid: process.pid,
      workerVersion: this.options.workerVersion ?? 'unknown',
      state: this.state,
      threads: this.threads,
      memoryUsed: this.memoryUsed,
      memoryLimit: this.memoryLimit,
      runningTasks: this.executions.size,
      tasksDone: this.tasksDone,
      tasks: [...this.executions.keys()].map(({ task, record }) => ({
        queryId: task.queryId,
        taskId: task.taskId,
        attempt: task.attempt,
        batches: record.batches,
      })),
      intervalMs: this.heartbeatMs,
    };
    this.publish(this.subjects.heartbeat, encodeControl<'heartbeat'>(beat));
  }

  private freeSlots(): number {
    return this.threads - this.executions.size - this.reserved;
  }

  private onOffer(message: TransportMessage): void {
    const offer = decodeControl(message.data, 'offer');
    this.coordinators.set(offer.coordinatorId, offer.pending > 0);
    this.claimFrom(offer.coordinatorId);
  }

  /**
   * Pull: ask a coordinator with waiting tasks for as many as there are free slots. The coordinator hands
   * each attempt to exactly one claimant, so two workers never run the same attempt.
   */
  private claimFrom(coordinatorId: string): void {
    if (this.state !== 'ready' || this.aborted || this.claiming.has(coordinatorId)) return;
    if (!this.coordinators.get(coordinatorId)) return;
    const slots = this.freeSlots();
    if (slots <= 0) return;
    this.claiming.add(coordinatorId);
    this.reserved += slots;
    const request = encodeControl<'claim'>({
      version: CLUSTER_PROTOCOL_VERSION,
      kind: 'claim',
      workerId: this.id,
      slots,
    });
    let claimed = 0;
    this.transport
      .request(this.subjects.claim(coordinatorId), request, this.options.claimTimeoutMs ?? 2000)
      .then(
        (reply) => {
          this.reserved -= slots;
          const { assignments } = decodeControl(reply.data, 'claim-reply');
          claimed = assignments.length;
          if (claimed === 0) this.coordinators.set(coordinatorId, false);
          assignments.forEach((a, i) => {
            if (i < slots) this.startTask(a);
            else this.handBack(a, 'the coordinator assigned more tasks than the worker claimed');
          });
        },
        (err) => {
          this.reserved -= slots;
          if (err instanceof TransportError && err.failure === 'no-responders')
            this.coordinators.delete(coordinatorId);
          this.log.debug({ worker: this.id, coordinator: coordinatorId, err: String(err) }, 'claim failed');
        },
      )
      .finally(() => {
        this.claiming.delete(coordinatorId);
        if (claimed > 0) this.claimFrom(coordinatorId);
      });
  }

  private startTask(assignment: TaskAssignment): void {
    if (this.aborted) return;
    const { task } = assignment;
    const cancelReason =
      this.canceled.has(task.queryId) || this.canceled.has(`${task.queryId}/${task.taskId}/${task.attempt}`);
    if (cancelReason) {
      this.handBack(assignment, 'canceled before it started', 'canceled');
      return;
    }
    const connection = this.idle.pop();
    if (!connection) {
      this.handBack(assignment, 'no free DuckDB connection');
      return;
    }
    const execution = new TaskExecution(
      {
        workerId: this.id,
        dataDir: resolve(this.options.dataDir),
        subjects: this.subjects,
        publish: (subject, data) => this.publish(subject, data),
        maxPayload: () => this.transport.maxPayload,
        statements: this.statementsOf(connection),
      },
      connection,
      assignment,
    );
    this.log.debug(
      {
        worker: this.id,
        query: task.queryId,
        task: task.taskId,
        attempt: task.attempt,
        total: task.totalTasks,
      },
      'task started',
    );
    const done = execution.run().then((record) => {
      this.executions.delete(execution);
      this.idle.push(connection);
      this.tasksDone++;
      this.finished.push({ ...record });
      if (this.finished.length > RECORDS_KEPT) this.finished.shift();
      this.log.debug(
        {
          worker: this.id,
          query: record.queryId,
          task: record.taskId,
          attempt: record.attempt,
          status: record.status,
          rows: record.rows,
          bytes: record.bytes,
          execMs: record.execMs,
          ...(record.error ? { error: record.error.message } : {}),
        },
        'task ended',
      );
      // A slot is free: go back to every coordinator that last said it had work.
      for (const [coordinatorId, hasWork] of this.coordinators) if (hasWork) this.claimFrom(coordinatorId);
      return record;
    });
    this.executions.set(execution, done);
  }

  private statementsOf(connection: DuckDBConnection): StatementCache {
    let cache = this.statements.get(connection);
    if (!cache) {
      cache = new StatementCache(connection);
      this.statements.set(connection, cache);
    }
    return cache;
  }

  /** Reports an assignment as not run (handed back, or canceled before it started). */
  private handBack(
    assignment: TaskAssignment,
    message: string,
    kind: 'handed-back' | 'canceled' = 'handed-back',
  ): void {
    const now = Date.now();
    const { task } = assignment;
    const record: ExecutionRecord = {
      queryId: task.queryId,
      taskId: task.taskId,
      totalTasks: task.totalTasks,
      workerId: this.id,
      attempt: task.attempt,
      rows: 0,
      bytes: 0,
      batches: 0,
      queueMs: assignment.queuedMs,
      execMs: 0,
      startedAt: now,
      endedAt: now,
      status: kind === 'canceled' ? 'canceled' : 'failed',
      error: { kind, message },
    };
    this.publish(
      this.subjects.status(task.queryId),
      encodeControl<'status'>({ version: CLUSTER_PROTOCOL_VERSION, kind: 'status', state: 'failed', record }),
    );
  }

  private onCredit(message: TransportMessage): void {
    const grant = decodeControl(message.data, 'credit');
    for (const execution of this.executions.keys()) {
      if (execution.is(grant.queryId, grant.taskId, grant.attempt)) execution.grant(grant.limit);
    }
  }

  private onCancel(message: TransportMessage): void {
    const cancel = decodeControl(message.data, 'cancel');
    const now = Date.now();
    const key =
      cancel.taskId === undefined
        ? cancel.queryId
        : `${cancel.queryId}/${cancel.taskId}/${cancel.attempt ?? ''}`;
    this.canceled.set(key, now);
    for (const [k, at] of this.canceled) {
      if (now - at < CANCEL_MEMORY_MS && this.canceled.size <= CANCELS_KEPT) break;
      this.canceled.delete(k);
    }
    for (const execution of this.executions.keys()) {
      if (execution.is(cancel.queryId, cancel.taskId, cancel.attempt))
        execution.halt('canceled', cancel.reason);
    }
  }

  private onDrain(message: TransportMessage): void {
    const drain = decodeControl(message.data, 'drain');
    if (drain.workerId === undefined || drain.workerId === this.id) void this.drain();
  }

  private haltAll(kind: 'handed-back', message: string): void {
    for (const execution of this.executions.keys()) execution.halt(kind, message);
  }

  /** Waits for the held tasks, says a last `stopped` heartbeat and releases DuckDB. Runs once. */
  private shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      while (this.executions.size > 0) await Promise.all([...this.executions.values()]);
      clearInterval(this.heartbeatTimer);
      this.state = 'stopped';
      this.heartbeat();
      for (const s of this.subscriptions.splice(0)) s.unsubscribe();
      if (!this.aborted) await this.transport.flush().catch(() => {});
      // Closing a connection while a query runs on it deadlocks DuckDB (the query's thread then waits
      // for its own context lock, and the process never exits): let the memory probe finish first.
      await this.measuring;
      for (const cache of this.statements.values()) cache.clear();
      for (const connection of this.idle.splice(0)) connection.closeSync();
      this.monitor?.closeSync();
      this.instance?.closeSync();
      if (this.ownTempDir) rmSync(this.ownTempDir, { recursive: true, force: true });
      this.log.info({ worker: this.id, tasksDone: this.tasksDone }, 'worker stopped');
      this.resolveStopped();
    })();
    return this.shuttingDown;
  }
}
