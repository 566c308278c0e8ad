import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { decodeControl } from '../../protocol/cluster/controlCodec.js';
import type { Heartbeat } from '../../protocol/cluster/messages.js';
import type { ClusterSubjects } from '../../protocol/cluster/subjects.js';
import type { Transport, TransportSubscription } from '../../protocol/cluster/Transport.js';

/** What the coordinator knows of one worker; the rows of `mallard_workers`. */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  workerVersion: string;
  /** `dead` after missed heartbeats, `stopped` after its last heartbeat said so. */
  state: 'ready' | 'draining' | 'dead' | 'stopped';
  threads: number;
  memoryUsed: number;
  memoryLimit: number;
  runningTasks: number;
  tasksDone: number;
  /** Epoch milliseconds. */
  joinedAt: number;
  lastHeartbeat: number;
  intervalMs: number;
}

export interface WorkerRegistryOptions {
  transport: Transport;
  subjects: ClusterSubjects;
  /** Heartbeats a worker may miss before it is declared dead (3 by default). */
  missedHeartbeats?: number;
  /** How long dead and stopped workers stay listed, for mallard_workers (60 s by default). */
  forgetAfterMs?: number;
  logger?: Logger;
}

export interface WorkerRegistryEvents {
  /** A worker's first heartbeat (or its first after it was declared dead). */
  join: [worker: WorkerInfo];
  /** A live worker's heartbeat changed its state to draining. */
  draining: [worker: WorkerInfo];
  /** Every heartbeat of a live worker, after the registry took it in. */
  heartbeat: [worker: WorkerInfo, beat: Heartbeat];
  /** The worker is gone: it missed its heartbeats or said it stopped. */
  leave: [worker: WorkerInfo, reason: 'dead' | 'stopped'];
}

/**
 * Workers by id, learnt from their heartbeats: a worker joins with its first heartbeat and is declared dead
 * once it has been silent for `missedHeartbeats` of its own heartbeat periods.
 */
export class WorkerRegistry extends EventEmitter<WorkerRegistryEvents> {
  private readonly byId = new Map<string, WorkerInfo>();
  private readonly missed: number;
  private readonly forgetAfterMs: number;
  private readonly logger: Logger | undefined;
  private readonly subscription: TransportSubscription;
  private readonly timer: NodeJS.Timeout;

  constructor(options: WorkerRegistryOptions) {
    super();
    this.missed = options.missedHeartbeats ?? 3;
    this.forgetAfterMs = options.forgetAfterMs ?? 60_000;
    this.logger = options.logger;
    this.subscription = options.transport.subscribe(options.subjects.heartbeat, (message) => {
      let beat: Heartbeat;
      try {
        beat = decodeControl(message.data, 'heartbeat');
      } catch (err) {
        this.logger?.warn({ err: String(err) }, 'ignored a heartbeat');
        return;
      }
      this.onHeartbeat(beat);
    });
    this.timer = setInterval(() => this.sweep(), 100);
    this.timer.unref();
  }

  /** Every known worker, live or recently gone, by id. */
  workers(): WorkerInfo[] {
    return [...this.byId.values()].map((w) => ({ ...w }));
  }

  /** Workers taking tasks. */
  ready(): WorkerInfo[] {
    return [...this.byId.values()].filter((w) => w.state === 'ready');
  }

  /** Workers that are alive: taking tasks or finishing theirs. */
  live(): WorkerInfo[] {
    return [...this.byId.values()].filter((w) => w.state === 'ready' || w.state === 'draining');
  }

  get(id: string): WorkerInfo | undefined {
    return this.byId.get(id);
  }

  close(): void {
    clearInterval(this.timer);
    this.subscription.unsubscribe();
  }

  private onHeartbeat(beat: Heartbeat): void {
    const now = Date.now();
    const known = this.byId.get(beat.id);
    const wasLive = known !== undefined && (known.state === 'ready' || known.state === 'draining');
    const info: WorkerInfo = {
      id: beat.id,
      host: beat.host,
      pid: beat.pid,
      workerVersion: beat.workerVersion,
      state: beat.state === 'stopped' ? 'stopped' : beat.state,
      threads: beat.threads,
      memoryUsed: beat.memoryUsed,
      memoryLimit: beat.memoryLimit,
      runningTasks: beat.runningTasks,
      tasksDone: beat.tasksDone,
      joinedAt: wasLive ? known.joinedAt : now,
      lastHeartbeat: now,
      intervalMs: beat.intervalMs > 0 ? beat.intervalMs : 1000,
    };
    if (info.state === 'stopped') {
      // A stopped worker's heartbeat arriving after it was already declared gone changes nothing.
      if (!wasLive) return;
      this.byId.set(info.id, info);
      this.logger?.info({ worker: info.id, tasksDone: info.tasksDone }, 'worker left');
      this.emit('leave', info, 'stopped');
      return;
    }
    this.byId.set(info.id, info);
    if (!wasLive) {
      this.logger?.info({ worker: info.id, host: info.host, threads: info.threads }, 'worker joined');
      this.emit('join', info);
    } else if (info.state === 'draining' && known.state !== 'draining') {
      this.logger?.info({ worker: info.id }, 'worker draining');
      this.emit('draining', info);
    }
    this.emit('heartbeat', info, beat);
  }

  private sweep(): void {
    const now = Date.now();
    for (const w of this.byId.values()) {
      if (w.state === 'ready' || w.state === 'draining') {
        if (now - w.lastHeartbeat > this.missed * w.intervalMs) {
          w.state = 'dead';
          this.logger?.warn({ worker: w.id, silentMs: now - w.lastHeartbeat }, 'worker declared dead');
          this.emit('leave', { ...w }, 'dead');
        }
      } else if (now - w.lastHeartbeat > this.forgetAfterMs) {
        this.byId.delete(w.id);
      }
    }
  }
}
