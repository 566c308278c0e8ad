/**
 * The messaging seam between coordinator and workers: publish, subscribe, request, close, and the largest
 * payload one message may carry.
 *
 * Why the interface lives here and the implementations do not: worker/ may import only protocol/, and
 * protocol/ is pure (no sockets). So this file holds the type alone. The coordinator's implementations,
 * NatsTransport and InProcessTransport, live in src/transport/. A worker is handed an instance by whoever
 * starts it: in the embedded default that is the coordinator process passing an InProcessTransport, and a
 * standalone `mallard worker` process builds its own small NATS adapter in worker/ (worker/connectNats.ts),
 * so the worker never depends on coordinator code. Both adapters accept the same NatsConnectionSettings.
 *
 * Semantics follow core NATS: subjects are dot-separated tokens; `*` matches one token and `>` the rest;
 * delivery is at most once and in publish order per publisher and subscriber; a request goes to one
 * responder and fails at once when there is none.
 */

export interface TransportMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Where to send the response, when the sender used request(). */
  readonly reply?: string;
}

export type MessageHandler = (message: TransportMessage) => void;

export interface TransportSubscription {
  unsubscribe(): void;
}

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group instead of to all. */
  queue?: string;
}

export interface Transport {
  /** The largest payload one publish may carry (the server's max_payload). */
  readonly maxPayload: number;
  /**
   * Sends `data` to every subscriber of `subject`. The transport may keep a reference to `data`, so the
   * caller must not change it afterwards. Throws TransportError when closed or when data is too large.
   */
  publish(subject: string, data: Uint8Array, reply?: string): void;
  /** Delivers every message on `subject` (wildcards allowed) to `handler`, one at a time, in order. */
  subscribe(subject: string, handler: MessageHandler, options?: SubscribeOptions): TransportSubscription;
  /** Sends `data` and waits for the first response; rejects with TransportError on timeout or no responders. */
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<TransportMessage>;
  /** Resolves once everything published so far has left this client. */
  flush(): Promise<void>;
  /** Flushes, drops every subscription and closes; idempotent. */
  close(): Promise<void>;
}

/** How to reach a NATS server; every connection of a cluster, coordinator or worker, takes these. */
export interface NatsConnectionSettings {
  /** One URL or several, e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  user?: string;
  pass?: string;
  token?: string;
  /** TLS with PEM files; `{}` enables TLS with the system's trust store. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** Shown by the server's monitoring endpoints. */
  name?: string;
}
