import type { Logger } from 'pino';
import { NoWorkersError, TaskError } from '../../protocol/cluster/ClusterError.js';
import { decodeControl, encodeControl } from '../../protocol/cluster/controlCodec.js';
import {
  CLUSTER_PROTOCOL_VERSION,
  type ClaimRequest,
  type Heartbeat,
  type TaskAssignment,
  type TaskFailure,
} from '../../protocol/cluster/messages.js';
import type { ClusterSubjects } from '../../protocol/cluster/subjects.js';
import type { Transport, TransportMessage, TransportSubscription } from '../../protocol/cluster/Transport.js';
import type { TaskState } from './TaskState.js';
import type { WorkerInfo, WorkerRegistry } from './WorkerRegistry.js';

/**
 * `pull` (default): a worker takes the next waiting task whenever a slot frees, so faster or idler workers
 * take more. `round-robin`: tasks are dealt to the ready workers in turn up front and a worker only gets
 * the ones dealt to it; kept for comparison.
 */
export type SchedulingMode = 'pull' | 'round-robin';

/** What the scheduler needs from a query it runs tasks for. */
export interface ScheduledQuery {
  readonly queryId: string;
  readonly tasks: readonly TaskState[];
  /** True once the query completed, failed or was canceled. */
  readonly finished: boolean;
  /** A worker claimed the task's current attempt; returns the credits it starts with. */
  onClaimed(task: TaskState): number;
  /** The task's current attempt ended without success; whatever it sent is discarded. */
  onAttemptEnded(task: TaskState, attempt: number, failure: TaskFailure): void;
  /** Checks the current attempt against the `sent` batch count its worker reported. */
  reconcile(task: TaskState, sent: number, now: number): 'ok' | 'lost';
  /** The query cannot complete. */
  fail(error: Error): void;
}

export interface SchedulerOptions {
  transport: Transport;
  subjects: ClusterSubjects;
  registry: WorkerRegistry;
  coordinatorId: string;
  mode?: SchedulingMode;
  /** Attempts a task gets before it fails the query, whatever the reasons (4 by default). */
  maxAttempts?: number;
  /** A task failing with the same SQL error this many times in a row fails the query (2 by default). */
  identicalFailures?: number;
  /** How long a query waits for a live worker before failing with NoWorkersError (10 s by default). */
  noWorkersTimeoutMs?: number;
  /** A claimed attempt the worker has not started within this is retried elsewhere (5 s by default). */
  claimAckTimeoutMs?: number;
  /** Added to a task's deadline before the coordinator gives up on the worker's own deadline check. */
  deadlineGraceMs?: number;
  /** Target bytes of one result batch, told to workers with each assignment. */
  batchBytes?: number;
  /** Used in the no-workers error message. */
  clusterName?: string;
  logger?: Logger;
}

/** Timers (offers, deadlines, lost claims, no-worker waits) are checked on one short tick. */
const TICK_MS = 100;
/** Offers are re-sent this often while tasks wait, in case one was missed. */
const OFFER_REPEAT_MS = 250;
/** Beyond one heartbeat period, how long after a claim a heartbeat must come to be judged against it. */
const HEARTBEAT_SETTLE_MS = 1_000;
/** How many ended queries, and for how long, are remembered to cancel their stragglers. */
const ENDED_QUERIES_KEPT = 1_000;
const ENDED_QUERIES_MS = 10 * 60_000;
/** The most tasks one claim reply carries. */
const MAX_ASSIGNMENTS_PER_CLAIM = 64;

/**
 * Hands tasks to workers and owns retries. Each attempt is given to exactly one claiming worker; a task
 * whose worker dies, drains it back, loses its frames or misses its deadline runs again as attempt + 1,
 * and a task fails the query only when it keeps failing the same way or runs out of attempts.
 */
export class Scheduler {
  private readonly transport: Transport;
  private readonly subjects: ClusterSubjects;
  private readonly registry: WorkerRegistry;
  private readonly coordinatorId: string;
  private readonly mode: SchedulingMode;
  private readonly maxAttempts: number;
  private readonly identicalFailures: number;
  private readonly noWorkersTimeoutMs: number;
  private readonly claimAckTimeoutMs: number;
  private readonly deadlineGraceMs: number;
  private readonly batchBytes: number;
  private readonly clusterName: string;
  private readonly logger: Logger | undefined;
  /** Waiting attempts, in the order they are handed out; retries go to the front. */
  private queue: TaskState[] = [];
  /** Claimed attempts, assigned or running. */
  private readonly inFlight = new Set<TaskState>();
  private readonly queries = new Map<string, { query: ScheduledQuery; noWorkersSince: number | undefined }>();
  private readonly owners = new Map<TaskState, ScheduledQuery>();
  private readonly subscription: TransportSubscription;
  private readonly timer: NodeJS.Timeout;
  /** Queries that ended recently, by id, with when; a worker still running their tasks is told to stop. */
  private readonly ended = new Map<string, number>();
  private lastOffer = 0;
  private offerScheduled = false;
  private roundRobinNext = 0;

  constructor(options: SchedulerOptions) {
    this.transport = options.transport;
    this.subjects = options.subjects;
    this.registry = options.registry;
    this.coordinatorId = options.coordinatorId;
    this.mode = options.mode ?? 'pull';
    this.maxAttempts = options.maxAttempts ?? 4;
    this.identicalFailures = options.identicalFailures ?? 2;
    this.noWorkersTimeoutMs = options.noWorkersTimeoutMs ?? 10_000;
    this.claimAckTimeoutMs = options.claimAckTimeoutMs ?? 5_000;
    this.deadlineGraceMs = options.deadlineGraceMs ?? 1_000;
    this.batchBytes = options.batchBytes ?? 1024 * 1024;
    this.clusterName = options.clusterName ?? options.subjects.prefix;
    this.logger = options.logger;
    this.subscription = this.transport.subscribe(this.subjects.claim(this.coordinatorId), (m) =>
      this.onClaim(m),
    );
    this.registry.on('join', this.onJoin);
    this.registry.on('draining', this.onDraining);
    this.registry.on('leave', this.onLeave);
    this.registry.on('heartbeat', this.onHeartbeat);
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** Queues every task of a new query. */
  submit(query: ScheduledQuery): void {
    this.queries.set(query.queryId, { query, noWorkersSince: undefined });
    // A query waiting on workers is work in progress: it keeps the process alive, as a pending request would.
    this.timer.ref();
    const now = Date.now();
    for (const task of query.tasks) {
      task.enqueuedAt = now;
      this.owners.set(task, query);
      this.queue.push(task);
    }
    this.offerSoon();
  }

  /** The worker reported the attempt running (or its first result frame arrived). */
  started(task: TaskState, attempt: number, workerId: string): void {
    if (task.attempt !== attempt || task.phase !== 'assigned' || task.workerId !== workerId) return;
    task.phase = 'running';
  }

  /** The attempt's results are all in and committed. */
  succeeded(task: TaskState, attempt: number): void {
    if (task.attempt !== attempt) return;
    task.phase = 'succeeded';
    this.inFlight.delete(task);
  }

  /**
   * The current attempt ended without success: retried as attempt + 1, or the query fails when the task
   * failed the same way `identicalFailures` times or has used all its attempts.
   */
  attemptFailed(task: TaskState, attempt: number, failure: TaskFailure): void {
    if (task.attempt !== attempt || (task.phase !== 'assigned' && task.phase !== 'running')) return;
    const query = this.owners.get(task);
    if (!query || query.finished) return;
    this.inFlight.delete(task);
    task.failures.push(failure);
    query.onAttemptEnded(task, attempt, failure);
    if (failure.kind === 'lost' || failure.kind === 'deadline') {
      // The worker may still be running it (a claim reply that arrived late, a worker cut off from NATS):
      // tell it to stop, since its results will be discarded.
      this.publishCancel(
        task.queryId,
        `attempt ${attempt} superseded: ${failure.message}`,
        task.taskId,
        attempt,
      );
    }
    this.logger?.debug(
      {
        query: task.queryId,
        task: task.taskId,
        attempt,
        worker: task.workerId,
        kind: failure.kind,
        error: failure.message,
      },
      'task attempt failed',
    );
    if (this.failsQuery(task)) {
      task.phase = 'failed';
      query.fail(new TaskError(task.queryId, task.taskId, [...task.failures]));
      return;
    }
    if (task.workerId !== undefined) task.triedOn.push(task.workerId);
    task.attempt++;
    task.phase = 'pending';
    task.workerId = undefined;
    task.assignedTo = undefined;
    task.enqueuedAt = Date.now();
    this.queue.unshift(task);
    this.offerSoon();
  }

  /** Stops scheduling a query's tasks and cancels whatever of it runs on any worker. */
  withdraw(query: ScheduledQuery, reason: string): void {
    if (!this.queries.delete(query.queryId)) return;
    this.queue = this.queue.filter((t) => this.owners.get(t) !== query);
    for (const task of query.tasks) {
      this.inFlight.delete(task);
      this.owners.delete(task);
    }
    this.publishCancel(query.queryId, reason);
    this.remember(query.queryId);
    if (this.queries.size === 0) this.timer.unref();
  }

  /** Forgets a query that completed: nothing of it runs anywhere any more. */
  completed(query: ScheduledQuery): void {
    this.queries.delete(query.queryId);
    for (const task of query.tasks) {
      this.inFlight.delete(task);
      this.owners.delete(task);
    }
    this.remember(query.queryId);
    if (this.queries.size === 0) this.timer.unref();
  }

  private remember(queryId: string): void {
    const now = Date.now();
    this.ended.set(queryId, now);
    for (const [id, at] of this.ended) {
      if (this.ended.size <= ENDED_QUERIES_KEPT && now - at < ENDED_QUERIES_MS) break;
      this.ended.delete(id);
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.subscription.unsubscribe();
    this.registry.off('join', this.onJoin);
    this.registry.off('draining', this.onDraining);
    this.registry.off('leave', this.onLeave);
    this.registry.off('heartbeat', this.onHeartbeat);
  }

  private failsQuery(task: TaskState): boolean {
    if (task.attempt >= this.maxAttempts) return true;
    const recent = task.failures.slice(-this.identicalFailures);
    if (recent.length < this.identicalFailures) return false;
    const first = recent[0]!;
    // Only a failure the statement itself causes can repeat identically; losing a worker says nothing about
    // the task.
    return (
      (first.kind === 'sql' || first.kind === 'rejected') &&
      recent.every((f) => f.kind === first.kind && f.message === first.message)
    );
  }

  private publishCancel(queryId: string, reason: string, taskId?: number, attempt?: number): void {
    try {
      this.transport.publish(
        this.subjects.cancel,
        encodeControl<'cancel'>({
          version: CLUSTER_PROTOCOL_VERSION,
          kind: 'cancel',
          queryId,
          reason,
          ...(taskId === undefined ? {} : { taskId }),
          ...(attempt === undefined ? {} : { attempt }),
        }),
      );
    } catch (err) {
      this.logger?.warn({ query: queryId, err: String(err) }, 'could not publish cancel');
    }
  }

  private onClaim(message: TransportMessage): void {
    if (!message.reply) return;
    let claim: ClaimRequest;
    try {
      claim = decodeControl(message.data, 'claim');
    } catch (err) {
      this.logger?.warn({ err: String(err) }, 'ignored a claim');
      return;
    }
    const worker = this.registry.get(claim.workerId);
    const assignments: TaskAssignment[] = [];
    // Only a worker the registry has seen alive gets work: otherwise its death could go unnoticed.
    if (worker?.state === 'ready') {
      const now = Date.now();
      // The reply is one message: it must fit max_payload, with room for its envelope.
      let room = this.transport.maxPayload - 256;
      const picked = this.pick(claim.workerId, Math.min(claim.slots, MAX_ASSIGNMENTS_PER_CLAIM));
      for (let i = 0; i < picked.length; i++) {
        const task = picked[i]!;
        const query = this.owners.get(task);
        // A task whose query failed earlier in this loop (an oversized sibling) is dropped.
        if (!query) continue;
        const assignment: TaskAssignment = {
          task: {
            version: CLUSTER_PROTOCOL_VERSION,
            kind: 'task',
            queryId: task.queryId,
            taskId: task.taskId,
            attempt: task.attempt,
            totalTasks: query.tasks.length,
            sql: task.spec.sql,
            partition: task.spec.partition,
            deadlineMs: task.spec.deadlineMs ?? 0,
            ...(task.spec.writes === undefined ? {} : { writes: task.spec.writes }),
            ...(task.spec.load === undefined ? {} : { load: task.spec.load }),
          },
          credits: 0,
          batchBytes: this.batchBytes,
          queuedMs: now - task.enqueuedAt,
        };
        const size = Buffer.byteLength(JSON.stringify(assignment)) + 16;
        if (size > this.transport.maxPayload - 256) {
          query.fail(
            new TaskError(task.queryId, task.taskId, [
              { kind: 'rejected', message: `task definition of ${size} bytes exceeds max_payload` },
            ]),
          );
          continue;
        }
        if (size > room) {
          // No room left in this reply: the rest go back to the front of the queue, in order.
          this.queue.unshift(...picked.slice(i).filter((t) => this.owners.has(t)));
          break;
        }
        room -= size;
        task.phase = 'assigned';
        task.workerId = claim.workerId;
        task.claimedAt = now;
        this.inFlight.add(task);
        assignment.credits = query.onClaimed(task);
        assignments.push(assignment);
        this.logger?.debug(
          { query: task.queryId, task: task.taskId, attempt: task.attempt, worker: claim.workerId },
          'task assigned',
        );
      }
    }
    try {
      this.transport.publish(
        message.reply,
        encodeControl<'claim-reply'>({ version: CLUSTER_PROTOCOL_VERSION, kind: 'claim-reply', assignments }),
      );
    } catch (err) {
      // The reply is lost with the connection; the claim-ack timeout retries these attempts.
      this.logger?.warn({ worker: claim.workerId, err: String(err) }, 'could not answer a claim');
    }
    if (this.queue.length > 0) this.offerSoon();
  }

  /** Takes up to `n` waiting attempts for a worker, by the scheduling mode. */
  private pick(workerId: string, n: number): TaskState[] {
    if (n <= 0 || this.queue.length === 0) return [];
    if (this.mode === 'round-robin') this.dealRoundRobin();
    const ready = this.registry.ready();
    const picked: TaskState[] = [];
    const rest: TaskState[] = [];
    for (const task of this.queue) {
      const eligible =
        picked.length < n &&
        (this.mode === 'pull' ? this.mayRetryOn(task, workerId, ready) : task.assignedTo === workerId);
      (eligible ? picked : rest).push(task);
    }
    this.queue = rest;
    return picked;
  }

  /** A retry avoids the workers it already failed on, unless those are the only ones ready. */
  private mayRetryOn(task: TaskState, workerId: string, ready: readonly WorkerInfo[]): boolean {
    if (!task.triedOn.includes(workerId)) return true;
    return ready.every((w) => task.triedOn.includes(w.id));
  }

  /** Round-robin: deals every waiting attempt not dealt to a ready worker to the next ready worker in turn. */
  private dealRoundRobin(): void {
    const ready = this.registry
      .ready()
      .map((w) => w.id)
      .sort();
    if (ready.length === 0) return;
    const readySet = new Set(ready);
    for (const task of this.queue) {
      if (task.assignedTo !== undefined && readySet.has(task.assignedTo)) continue;
      let choice = ready[this.roundRobinNext++ % ready.length]!;
      // A retry skips the workers it failed on, while there are others.
      for (let i = 1; i < ready.length && task.triedOn.includes(choice); i++) {
        choice = ready[this.roundRobinNext++ % ready.length]!;
      }
      task.assignedTo = choice;
    }
  }

  private offerSoon(): void {
    if (this.offerScheduled) return;
    this.offerScheduled = true;
    setImmediate(() => {
      this.offerScheduled = false;
      this.offer();
    });
  }

  private offer(): void {
    if (this.queue.length === 0) return;
    this.lastOffer = Date.now();
    try {
      this.transport.publish(
        this.subjects.offer,
        encodeControl<'offer'>({
          version: CLUSTER_PROTOCOL_VERSION,
          kind: 'offer',
          coordinatorId: this.coordinatorId,
          pending: this.queue.length,
        }),
      );
    } catch (err) {
      this.logger?.warn({ err: String(err) }, 'could not publish an offer');
    }
  }

  private tick(): void {
    const now = Date.now();
    if (this.queue.length > 0 && now - this.lastOffer >= OFFER_REPEAT_MS) this.offer();
    for (const task of [...this.inFlight]) {
      if (task.phase === 'assigned' && now - task.claimedAt > this.claimAckTimeoutMs) {
        this.attemptFailed(task, task.attempt, {
          kind: 'lost',
          message: `worker ${task.workerId} did not start attempt ${task.attempt} within ${this.claimAckTimeoutMs} ms`,
        });
        continue;
      }
      const deadline = task.spec.deadlineMs ?? 0;
      if (deadline > 0 && now - task.claimedAt > deadline + this.deadlineGraceMs) {
        this.attemptFailed(task, task.attempt, {
          kind: 'deadline',
          message: `task ran past its deadline of ${deadline} ms on worker ${task.workerId}`,
        });
      }
    }
    // A query waits for workers while it has tasks queued and no worker takes tasks; tasks still held by
    // draining workers are being worked on, and those of dead workers come back to the queue.
    const anyReady = this.registry.ready().length > 0;
    const waiting = new Set<ScheduledQuery>();
    if (!anyReady) for (const task of this.queue) waiting.add(this.owners.get(task)!);
    for (const entry of [...this.queries.values()]) {
      if (!waiting.has(entry.query) || entry.query.finished) {
        entry.noWorkersSince = undefined;
        continue;
      }
      entry.noWorkersSince ??= now;
      if (now - entry.noWorkersSince >= this.noWorkersTimeoutMs) {
        entry.query.fail(new NoWorkersError(this.clusterName, this.noWorkersTimeoutMs));
      }
    }
  }

  private readonly onJoin = (): void => {
    this.offerSoon();
  };

  private readonly onDraining = (worker: WorkerInfo): void => {
    // Round-robin: what was dealt to a draining worker and not yet claimed is dealt again.
    for (const task of this.queue) if (task.assignedTo === worker.id) task.assignedTo = undefined;
    this.offerSoon();
  };

  /**
   * Reconciles what this coordinator believes a worker runs with what the worker says it holds, because
   * any single message can be lost (core NATS is at most once, e.g. across a server restart):
   * - an open attempt the worker no longer holds had its final report lost: it is retried;
   * - a held attempt whose worker sent more batches than arrived lost frames: it is retried;
   * - a held attempt gets its credit limit again, in case a grant was lost;
   * - a held attempt that was superseded, or whose query is over, is canceled again.
   * Only attempts claimed well before the heartbeat count as missing, so a claim in flight is not mistaken.
   */
  private readonly onHeartbeat = (worker: WorkerInfo, beat: Heartbeat): void => {
    const now = Date.now();
    const held = new Set<string>();
    for (const h of beat.tasks) {
      held.add(`${h.queryId}/${h.taskId}/${h.attempt}`);
      const entry = this.queries.get(h.queryId);
      const task = entry?.query.tasks[h.taskId];
      if (!entry || !task) {
        if (this.ended.has(h.queryId))
          this.publishCancel(h.queryId, 'the query is over', h.taskId, h.attempt);
        continue;
      }
      if (h.attempt < task.attempt || (h.attempt === task.attempt && task.workerId !== worker.id)) {
        this.publishCancel(h.queryId, `attempt ${h.attempt} was superseded`, h.taskId, h.attempt);
        continue;
      }
      if (task.attempt !== h.attempt || (task.phase !== 'assigned' && task.phase !== 'running')) continue;
      this.started(task, h.attempt, worker.id);
      if (entry.query.reconcile(task, h.batches, now) === 'lost') {
        this.attemptFailed(task, h.attempt, {
          kind: 'lost',
          message: `result frames of attempt ${h.attempt} on worker ${worker.id} were lost`,
        });
      }
    }
    const settled = Math.max(worker.intervalMs, 1000) + HEARTBEAT_SETTLE_MS;
    for (const task of [...this.inFlight]) {
      if (task.workerId !== worker.id || now - task.claimedAt < settled) continue;
      if (held.has(`${task.queryId}/${task.taskId}/${task.attempt}`)) continue;
      this.attemptFailed(task, task.attempt, {
        kind: 'lost',
        message: `worker ${worker.id} no longer holds attempt ${task.attempt}; its final report was lost`,
      });
    }
  };

  private readonly onLeave = (worker: WorkerInfo, reason: 'dead' | 'stopped'): void => {
    for (const task of [...this.inFlight]) {
      if (task.workerId !== worker.id) continue;
      this.attemptFailed(task, task.attempt, {
        kind: 'lost',
        message: reason === 'dead' ? `worker ${worker.id} died` : `worker ${worker.id} stopped`,
      });
    }
    for (const task of this.queue) if (task.assignedTo === worker.id) task.assignedTo = undefined;
  };
}
