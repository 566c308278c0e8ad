import * as arrow from 'apache-arrow';
import type { Logger } from 'pino';
import { ClusterProtocolError, QueryCanceledError } from '../../protocol/cluster/ClusterError.js';
import { decodeControl, encodeControl } from '../../protocol/cluster/controlCodec.js';
import {
  CLUSTER_PROTOCOL_VERSION,
  type ExecutionRecord,
  type TaskFailure,
  type TaskStatus,
} from '../../protocol/cluster/messages.js';
import { ResultFrameAssembler } from '../../protocol/cluster/resultFrames.js';
import { type ClusterSubjects, parseResultSubject } from '../../protocol/cluster/subjects.js';
import type { Transport, TransportMessage, TransportSubscription } from '../../protocol/cluster/Transport.js';
import type { ScheduledQuery, Scheduler } from './Scheduler.js';
import type { QueryTask, TaskState } from './TaskState.js';

/** One Arrow record batch of one task's result. */
export interface TaskBatch {
  taskId: number;
  batch: arrow.RecordBatch;
}

/** A running distributed query: iterate it for its batches; cancel() stops it on every worker. */
export interface QueryRun extends AsyncIterable<TaskBatch> {
  readonly queryId: string;
  /** Stops every task of the query on every worker; a pending or later next() rejects with QueryCanceledError. */
  cancel(reason?: string): void;
  /** The execution record of every attempt so far (running ones included), by task then attempt. */
  records(): ExecutionRecord[];
}

export interface FlowControl {
  /** Batches one attempt may have granted and not yet delivered (4 by default). */
  creditWindow: number;
  /** Result bytes this query may buffer (uncommitted plus unread) before credits stop (64 MiB by default). */
  memoryBudgetBytes: number;
  /** Expected size of one batch, for budgeting credits not yet used. */
  batchBytes: number;
}

/** The current attempt of one task, from claim to commit. */
interface AttemptStream {
  readonly attempt: number;
  readonly workerId: string;
  readonly assembler: ResultFrameAssembler;
  /** Complete IPC batches held until the attempt succeeds. */
  staged: Uint8Array[];
  stagedBytes: number;
  /** The attempt's credit limit: batches it may send in all (granted minus received are in flight). */
  granted: number;
  /** Since when the worker has reported sending more batches than arrived; see reconcile(). */
  behindSince: number | undefined;
  /** Batch count from the worker's succeeded status; the attempt commits once that many arrived. */
  expectedBatches: number | undefined;
}

interface ReadyBatch {
  taskId: number;
  bytes: Uint8Array;
}

/** Credits granted and not yet used by a received batch. */
function outstanding(stream: AttemptStream): number {
  return Math.max(0, stream.granted - stream.assembler.batches);
}

/** Frames travel in milliseconds; a worker ahead of what arrived for this long has lost some. */
const FRAMES_LOST_AFTER_MS = 1_500;

/** After the query ends, late task statuses are still collected this long, for its records. */
const LINGER_MS = 2_000;

/**
 * The coordinator's side of one query: collects result frames per task attempt, holds each attempt's
 * batches until that attempt succeeds (so a superseded attempt's rows are discarded, never delivered),
 * and hands committed batches to the consumer. Credits are granted only while the query's buffered bytes
 * are under budget, and unread batches count against it, so a slow consumer stops the workers.
 */
export class QueryExecution implements QueryRun, ScheduledQuery {
  readonly queryId: string;
  readonly tasks: TaskState[];
  private readonly transport: Transport;
  private readonly subjects: ClusterSubjects;
  private readonly scheduler: Scheduler;
  private readonly flow: FlowControl;
  private readonly logger: Logger | undefined;
  private readonly streams = new Map<number, AttemptStream>();
  private readonly ready: ReadyBatch[] = [];
  private readonly recordsByAttempt = new Map<string, ExecutionRecord>();
  private readonly subscriptions: TransportSubscription[] = [];
  private current: { taskId: number; batches: arrow.RecordBatch[]; next: number } | null = null;
  private stagedBytes = 0;
  private readyBytes = 0;
  private committed = 0;
  private error: Error | null = null;
  private ended = false;
  private iterating = false;
  private waiter: (() => void) | null = null;
  private readonly onEnd: (query: QueryExecution) => void;

  constructor(options: {
    queryId: string;
    tasks: readonly QueryTask[];
    transport: Transport;
    subjects: ClusterSubjects;
    scheduler: Scheduler;
    flow: FlowControl;
    logger?: Logger;
    onEnd: (query: QueryExecution) => void;
  }) {
    this.queryId = options.queryId;
    this.transport = options.transport;
    this.subjects = options.subjects;
    this.scheduler = options.scheduler;
    this.flow = options.flow;
    this.logger = options.logger;
    this.onEnd = options.onEnd;
    this.tasks = options.tasks.map((spec, taskId) => ({
      queryId: options.queryId,
      taskId,
      spec,
      attempt: 1,
      phase: 'pending',
      workerId: undefined,
      assignedTo: undefined,
      enqueuedAt: 0,
      claimedAt: 0,
      failures: [],
      triedOn: [],
    }));
  }

  /** Subscribes to the query's subjects, then queues its tasks; subscriptions come first so nothing is missed. */
  start(): void {
    this.subscriptions.push(
      this.transport.subscribe(this.subjects.status(this.queryId), (m) => this.guard(() => this.onStatus(m))),
      this.transport.subscribe(this.subjects.resultsOf(this.queryId), (m) =>
        this.guard(() => this.onResult(m)),
      ),
    );
    if (this.tasks.length === 0) {
      this.end();
      return;
    }
    this.scheduler.submit(this);
  }

  get finished(): boolean {
    return this.ended;
  }

  records(): ExecutionRecord[] {
    return [...this.recordsByAttempt.values()]
      .sort((a, b) => a.taskId - b.taskId || a.attempt - b.attempt)
      .map((r) => ({ ...r }));
  }

  cancel(reason = 'canceling statement due to user request'): void {
    this.fail(new QueryCanceledError(reason));
  }

  fail(error: Error): void {
    if (this.ended) return;
    this.error = error;
    this.scheduler.withdraw(this, error.message);
    this.logger?.debug({ query: this.queryId, error: error.message }, 'query failed');
    this.end();
  }

  onClaimed(task: TaskState): number {
    this.streams.set(task.taskId, {
      attempt: task.attempt,
      workerId: task.workerId!,
      assembler: new ResultFrameAssembler(),
      staged: [],
      stagedBytes: 0,
      granted: this.flow.creditWindow,
      behindSince: undefined,
      expectedBatches: undefined,
    });
    this.recordsByAttempt.set(`${task.taskId}:${task.attempt}`, {
      queryId: this.queryId,
      taskId: task.taskId,
      totalTasks: this.tasks.length,
      workerId: task.workerId!,
      attempt: task.attempt,
      rows: 0,
      bytes: 0,
      batches: 0,
      queueMs: Date.now() - task.enqueuedAt,
      execMs: 0,
      startedAt: 0,
      endedAt: 0,
      status: 'running',
    });
    return this.flow.creditWindow;
  }

  /**
   * Checks a task's current attempt against what its worker's heartbeat says: `sent` batches so far.
   * Frames are at most once, so a worker that sent more than arrived, for longer than frames take to
   * travel, lost some: the attempt is lost. Otherwise the credit limit is sent again, since a grant can be
   * lost too, and a worker waiting on one would wait forever.
   */
  reconcile(task: TaskState, sent: number, now: number): 'ok' | 'lost' {
    const stream = this.streams.get(task.taskId);
    if (!stream || stream.attempt !== task.attempt) return 'ok';
    if (sent > stream.assembler.batches) {
      stream.behindSince ??= now;
      if (now - stream.behindSince > FRAMES_LOST_AFTER_MS) return 'lost';
    } else {
      stream.behindSince = undefined;
    }
    if (stream.granted > stream.assembler.batches) this.sendGrant(task.taskId, stream);
    return 'ok';
  }

  onAttemptEnded(task: TaskState, attempt: number, failure: TaskFailure): void {
    const stream = this.streams.get(task.taskId);
    if (stream && stream.attempt === attempt) {
      this.stagedBytes -= stream.stagedBytes;
      this.streams.delete(task.taskId);
    }
    // The worker may never report this attempt again (it died); the record says how it ended.
    const key = `${task.taskId}:${attempt}`;
    const record = this.recordsByAttempt.get(key);
    if (record && record.status === 'running') {
      record.status = failure.kind === 'canceled' ? 'canceled' : 'failed';
      record.error = failure;
      record.endedAt = Date.now();
    }
    this.pump();
  }

  [Symbol.asyncIterator](): AsyncIterator<TaskBatch> {
    if (this.iterating) throw new Error(`query ${this.queryId} is already being read`);
    this.iterating = true;
    return {
      next: () => this.next(),
      return: async () => {
        // The consumer stopped reading (client gone, LIMIT satisfied): nothing more of this query is needed.
        if (!this.ended) this.cancel('the query result was closed before it was read to the end');
        return { done: true, value: undefined };
      },
    };
  }

  private async next(): Promise<IteratorResult<TaskBatch>> {
    for (;;) {
      if (this.error) throw this.error;
      const current = this.current;
      if (current && current.next < current.batches.length) {
        const batch = current.batches[current.next]!;
        current.batches[current.next++] = undefined as unknown as arrow.RecordBatch;
        return { done: false, value: { taskId: current.taskId, batch } };
      }
      this.current = null;
      const ready = this.ready.shift();
      if (ready) {
        this.readyBytes -= ready.bytes.byteLength;
        // Reading a batch frees budget: this is where a consumer's pace turns into workers' credit.
        this.pump();
        this.current = { taskId: ready.taskId, batches: arrow.tableFromIPC(ready.bytes).batches, next: 0 };
        continue;
      }
      if (this.committed === this.tasks.length) {
        this.end();
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        this.pump();
      });
    }
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  private guard(handle: () => void): void {
    try {
      handle();
    } catch (err) {
      this.logger?.warn({ query: this.queryId, err: String(err) }, 'dropped a malformed cluster message');
    }
  }

  private onStatus(message: TransportMessage): void {
    const status: TaskStatus = decodeControl(message.data, 'status');
    const record = status.record;
    const task = this.tasks[record.taskId];
    if (!task || record.queryId !== this.queryId) return;
    this.recordsByAttempt.set(`${record.taskId}:${record.attempt}`, record);
    if (this.ended || record.attempt !== task.attempt) return;
    if (status.state === 'running') {
      this.scheduler.started(task, record.attempt, record.workerId);
      return;
    }
    if (status.state === 'failed') {
      this.scheduler.attemptFailed(
        task,
        record.attempt,
        record.error ?? { kind: 'internal', message: 'the worker reported a failure without an error' },
      );
      return;
    }
    const stream = this.streams.get(task.taskId);
    if (!stream || stream.attempt !== record.attempt) return;
    stream.expectedBatches = record.batches;
    this.commitIfComplete(task, stream);
  }

  private onResult(message: TransportMessage): void {
    if (this.ended) return;
    const where = parseResultSubject(this.subjects.prefix, message.subject);
    if (!where || where.queryId !== this.queryId) return;
    const task = this.tasks[where.taskId];
    const stream = this.streams.get(where.taskId);
    // Frames of a superseded attempt, or of one that already committed, are dropped here.
    if (!task || !stream || stream.attempt !== where.attempt || task.attempt !== where.attempt) return;
    this.scheduler.started(task, where.attempt, stream.workerId);
    let batch: Uint8Array | null;
    try {
      batch = stream.assembler.push(message.data);
    } catch (err) {
      this.scheduler.attemptFailed(task, where.attempt, {
        kind: 'lost',
        message: `result frames of attempt ${where.attempt} were lost: ${err instanceof Error ? err.message : err}`,
      });
      return;
    }
    if (!batch) return;
    // nats.js hands out a payload that spanned socket reads as a view into a buffer it grew by doubling,
    // up to twice the payload's size. Held until commit, such a view would keep all of it: it is copied out,
    // so what the budget counts is what the query holds.
    if (batch.buffer.byteLength > batch.byteLength + (batch.byteLength >> 2)) {
      const own = Buffer.allocUnsafeSlow(batch.byteLength);
      own.set(batch);
      batch = own;
    }
    stream.staged.push(batch);
    stream.stagedBytes += batch.byteLength;
    this.stagedBytes += batch.byteLength;
    this.commitIfComplete(task, stream);
    this.pump();
  }

  private commitIfComplete(task: TaskState, stream: AttemptStream): void {
    if (stream.expectedBatches === undefined) return;
    const received = stream.assembler.batches;
    if (received < stream.expectedBatches) return;
    if (received > stream.expectedBatches) {
      const err = new ClusterProtocolError(
        `attempt sent ${received} batches, reported ${stream.expectedBatches}`,
      );
      this.scheduler.attemptFailed(task, stream.attempt, { kind: 'lost', message: err.message });
      return;
    }
    this.streams.delete(task.taskId);
    this.stagedBytes -= stream.stagedBytes;
    for (const bytes of stream.staged) {
      this.ready.push({ taskId: task.taskId, bytes });
      this.readyBytes += bytes.byteLength;
    }
    this.committed++;
    this.scheduler.succeeded(task, stream.attempt);
    if (this.committed === this.tasks.length) this.scheduler.completed(this);
    const record = this.recordsByAttempt.get(`${task.taskId}:${stream.attempt}`);
    this.logger?.debug(
      {
        query: this.queryId,
        task: task.taskId,
        attempt: stream.attempt,
        worker: stream.workerId,
        rows: record?.rows,
        bytes: record?.bytes,
        execMs: record?.execMs,
        done: this.committed,
        total: this.tasks.length,
      },
      'task committed',
    );
    this.wake();
  }

  /**
   * Grants credits while the query's buffered bytes (staged, unread, and those granted but not yet sent)
   * stay under budget. When the consumer waits with nothing to read, the oldest attempt gets its full window
   * regardless: it can then always finish and commit, so the budget never deadlocks.
   */
  private pump(): void {
    if (this.ended) return;
    let inFlight = 0;
    for (const s of this.streams.values()) inFlight += outstanding(s);
    let room =
      this.flow.memoryBudgetBytes - this.stagedBytes - this.readyBytes - inFlight * this.flow.batchBytes;
    for (const [taskId, stream] of this.streams) {
      let credits = 0;
      while (outstanding(stream) + credits < this.flow.creditWindow && room >= this.flow.batchBytes) {
        credits++;
        room -= this.flow.batchBytes;
      }
      if (credits > 0) this.grant(taskId, stream, credits);
    }
    if (this.waiter && this.ready.length === 0 && this.current === null && this.streams.size > 0) {
      // Nothing can be read until an attempt commits, so the oldest one keeps a full window whatever the
      // budget: with one credit at a time its worker would wait a round trip per batch.
      const [taskId, oldest] = this.streams.entries().next().value!;
      const missing = this.flow.creditWindow - outstanding(oldest);
      if (missing > 0) this.grant(taskId, oldest, missing);
    }
  }

  private grant(taskId: number, stream: AttemptStream, credits: number): void {
    stream.granted += credits;
    this.sendGrant(taskId, stream);
  }

  private sendGrant(taskId: number, stream: AttemptStream): void {
    try {
      this.transport.publish(
        this.subjects.credit(stream.workerId),
        encodeControl<'credit'>({
          version: CLUSTER_PROTOCOL_VERSION,
          kind: 'credit',
          queryId: this.queryId,
          taskId,
          attempt: stream.attempt,
          limit: stream.granted,
        }),
      );
    } catch (err) {
      this.logger?.warn({ query: this.queryId, task: taskId, err: String(err) }, 'could not grant credit');
    }
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.error) {
      this.scheduler.completed(this);
      this.logTaskDistribution();
    }
    this.streams.clear();
    this.stagedBytes = 0;
    if (this.error) {
      this.ready.length = 0;
      this.readyBytes = 0;
      this.current = null;
    }
    this.wake();
    // Results are no longer wanted, but the statuses of attempts still stopping complete the records.
    this.subscriptions[1]?.unsubscribe();
    const linger = setTimeout(() => this.subscriptions[0]?.unsubscribe(), LINGER_MS);
    linger.unref();
    this.onEnd(this);
  }

  private logTaskDistribution(): void {
    if (!this.logger?.isLevelEnabled('debug')) return;
    const perWorker: Record<string, number> = {};
    for (const r of this.recordsByAttempt.values()) {
      if (r.status === 'succeeded') perWorker[r.workerId] = (perWorker[r.workerId] ?? 0) + 1;
    }
    this.logger.debug(
      { query: this.queryId, tasks: this.tasks.length, perWorker },
      'query task distribution',
    );
  }
}
