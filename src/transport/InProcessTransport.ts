import { TransportError } from '../../protocol/cluster/ClusterError.js';
import type {
  MessageHandler,
  SubscribeOptions,
  Transport,
  TransportMessage,
  TransportSubscription,
} from '../../protocol/cluster/Transport.js';

/** NATS's default max_payload; the in-process bus enforces the same limit so framing bugs show up here too. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** Messages delivered per event-loop turn before yielding, so timers and sockets keep running under load. */
const DELIVERIES_PER_TURN = 1024;

interface Subscriber {
  readonly tokens: readonly string[];
  readonly handler: MessageHandler;
  readonly queue: string | undefined;
  active: boolean;
}

interface Delivery {
  subscriber: Subscriber;
  message: TransportMessage;
}

/** True when `subject` (concrete tokens) matches `pattern` (`*` one token, `>` one or more trailing ones). */
export function subjectMatches(pattern: readonly string[], subject: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === '>') return subject.length > i;
    if (i >= subject.length) return false;
    if (p !== '*' && p !== subject[i]) return false;
  }
  return pattern.length === subject.length;
}

/**
 * The in-memory message bus of one process: the embedded default runs its coordinator and workers over one
 * bus, each with its own connection (connect()), so closing a worker's connection drops exactly its
 * subscriptions, as a dead socket would on NATS.
 */
export class InProcessBus {
  readonly maxPayload: number;
  private readonly subscribers: Subscriber[] = [];
  /** Deliveries not yet made, from `head` on; consumed by index so a long queue costs O(1) per message. */
  private queue: Delivery[] = [];
  private head = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(options: { maxPayload?: number } = {}) {
    this.maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** A new client connection on this bus. */
  connect(): InProcessTransport {
    return new InProcessTransport(this);
  }

  /** @internal */
  add(subscriber: Subscriber): void {
    this.subscribers.push(subscriber);
  }

  /** @internal */
  remove(subscriber: Subscriber): void {
    subscriber.active = false;
    const i = this.subscribers.indexOf(subscriber);
    if (i >= 0) this.subscribers.splice(i, 1);
  }

  /** @internal Routes one message; returns how many subscribers will receive it. */
  route(message: TransportMessage): number {
    const tokens = message.subject.split('.');
    const groups = new Map<string, Subscriber[]>();
    let receivers = 0;
    for (const s of this.subscribers) {
      if (!subjectMatches(s.tokens, tokens)) continue;
      if (s.queue === undefined) {
        this.queue.push({ subscriber: s, message });
        receivers++;
      } else {
        const members = groups.get(s.queue);
        if (members) members.push(s);
        else groups.set(s.queue, [s]);
      }
    }
    for (const members of groups.values()) {
      // A queue group gets each message once, at a random member, as NATS does.
      this.queue.push({ subscriber: members[Math.floor(Math.random() * members.length)]!, message });
      receivers++;
    }
    if (receivers > 0) this.schedule();
    return receivers;
  }

  /** @internal Resolves once every message routed so far has been delivered. */
  idle(): Promise<void> {
    if (this.head === this.queue.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate, not a microtask: delivery is asynchronous as on a network, and timers and I/O get a turn.
    setImmediate(() => this.deliver());
  }

  private deliver(): void {
    this.scheduled = false;
    let n = 0;
    while (this.head < this.queue.length && n < DELIVERIES_PER_TURN) {
      const { subscriber, message } = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as Delivery;
      n++;
      if (!subscriber.active) continue;
      try {
        subscriber.handler(message);
      } catch (err) {
        // A failing handler must not stop delivery to everyone else; it is a bug in that handler.
        console.error('in-process transport: message handler threw', err);
      }
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      // Under steady traffic the queue never empties; drop the delivered front now and then.
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.head < this.queue.length) this.schedule();
    else {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}

let inboxCounter = 0;

/** One connection to an InProcessBus; the Transport the embedded default hands its coordinator and workers. */
export class InProcessTransport implements Transport {
  private readonly bus: InProcessBus;
  private readonly owned = new Set<Subscriber>();
  private readonly pending = new Set<(err: TransportError) => void>();
  private closed = false;

  /** A connection on `bus`, or on a bus of its own when none is given. */
  constructor(bus: InProcessBus = new InProcessBus()) {
    this.bus = bus;
  }

  get maxPayload(): number {
    return this.bus.maxPayload;
  }

  /** Another connection on the same bus. */
  connect(): InProcessTransport {
    return this.bus.connect();
  }

  publish(subject: string, data: Uint8Array, reply?: string): void {
    if (this.closed) throw new TransportError('closed', 'in-process transport is closed');
    if (data.byteLength > this.bus.maxPayload) {
      throw new TransportError(
        'payload-too-large',
        `payload of ${data.byteLength} bytes exceeds max_payload ${this.bus.maxPayload}`,
      );
    }
    this.bus.route(reply === undefined ? { subject, data } : { subject, data, reply });
  }

  subscribe(subject: string, handler: MessageHandler, options: SubscribeOptions = {}): TransportSubscription {
    if (this.closed) throw new TransportError('closed', 'in-process transport is closed');
    const subscriber: Subscriber = {
      tokens: subject.split('.'),
      handler,
      queue: options.queue,
      active: true,
    };
    this.owned.add(subscriber);
    this.bus.add(subscriber);
    return {
      unsubscribe: () => {
        this.owned.delete(subscriber);
        this.bus.remove(subscriber);
      },
    };
  }

  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<TransportMessage> {
    if (this.closed) return Promise.reject(new TransportError('closed', 'in-process transport is closed'));
    const inbox = `_INBOX.inproc.${++inboxCounter}`;
    return new Promise<TransportMessage>((resolve, reject) => {
      let sub: TransportSubscription | undefined;
      const finish = (err: TransportError | null, message?: TransportMessage) => {
        clearTimeout(timer);
        this.pending.delete(onClose);
        sub?.unsubscribe();
        if (err) reject(err);
        else resolve(message!);
      };
      const onClose = (err: TransportError) => finish(err);
      const timer = setTimeout(
        () => finish(new TransportError('timeout', `request on ${subject} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.pending.add(onClose);
      sub = this.subscribe(inbox, (message) => finish(null, message));
      if (data.byteLength > this.bus.maxPayload) {
        finish(new TransportError('payload-too-large', `payload exceeds max_payload ${this.bus.maxPayload}`));
        return;
      }
      if (this.bus.route({ subject, data, reply: inbox }) === 0) {
        finish(new TransportError('no-responders', `no responders on ${subject}`));
      }
    });
  }

  flush(): Promise<void> {
    return this.bus.idle();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.owned) this.bus.remove(s);
    this.owned.clear();
    for (const fail of [...this.pending]) fail(new TransportError('closed', 'in-process transport closed'));
  }
}
