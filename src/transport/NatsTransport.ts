import {
  type ConnectionOptions,
  connect,
  errors,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { TransportError } from '../../protocol/cluster/ClusterError.js';
import type {
  MessageHandler,
  NatsConnectionSettings,
  SubscribeOptions,
  Transport,
  TransportMessage,
  TransportSubscription,
} from '../../protocol/cluster/Transport.js';

/** Used until the server's INFO says otherwise; it is NATS's default. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** nats.js options for a cluster connection: credentials and TLS passed through, reconnecting forever. */
export function natsConnectionOptions(settings: NatsConnectionSettings): ConnectionOptions {
  const options: ConnectionOptions = {
    servers: settings.servers,
    // A coordinator or worker outlives a restart of nats-server: it keeps reconnecting instead of exiting.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  };
  if (settings.name !== undefined) options.name = settings.name;
  if (settings.user !== undefined) options.user = settings.user;
  if (settings.pass !== undefined) options.pass = settings.pass;
  if (settings.token !== undefined) options.token = settings.token;
  if (settings.tls !== undefined) options.tls = { ...settings.tls };
  return options;
}

/** Opens a NATS connection for the coordinator. */
export async function connectNatsTransport(settings: NatsConnectionSettings): Promise<NatsTransport> {
  return new NatsTransport(await connect(natsConnectionOptions(settings)));
}

/** The Transport over a nats.js connection (core NATS: no JetStream, at-most-once). */
export class NatsTransport implements Transport {
  readonly connection: NatsConnection;

  constructor(connection: NatsConnection) {
    this.connection = connection;
  }

  /** The current server's max_payload; it can change when a reconnect lands on another server. */
  get maxPayload(): number {
    return this.connection.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  publish(subject: string, data: Uint8Array, reply?: string): void {
    try {
      this.connection.publish(subject, data, reply === undefined ? undefined : { reply });
    } catch (err) {
      throw toTransportError(err, subject);
    }
  }

  subscribe(subject: string, handler: MessageHandler, options: SubscribeOptions = {}): TransportSubscription {
    let sub: Subscription;
    try {
      sub = this.connection.subscribe(subject, {
        ...(options.queue === undefined ? {} : { queue: options.queue }),
        callback: (err, msg) => {
          // Errors here are the subscription ending (permissions, close); there is no message to hand on.
          if (err) return;
          handler(msg.reply ? { subject: msg.subject, data: msg.data, reply: msg.reply } : msg);
        },
      });
    } catch (err) {
      throw toTransportError(err, subject);
    }
    return { unsubscribe: () => sub.unsubscribe() };
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<TransportMessage> {
    try {
      const msg = await this.connection.request(subject, data, { timeout: timeoutMs });
      return { subject: msg.subject, data: msg.data };
    } catch (err) {
      throw toTransportError(err, subject);
    }
  }

  flush(): Promise<void> {
    return this.connection.flush();
  }

  async close(): Promise<void> {
    if (this.connection.isClosed()) return;
    try {
      await this.connection.drain();
    } catch {
      // Draining fails when the connection is already closing; closing is all that was asked.
      await this.connection.close();
    }
  }
}

function toTransportError(err: unknown, subject: string): TransportError {
  if (err instanceof TransportError) return err;
  const options = { cause: err };
  if (err instanceof errors.TimeoutError)
    return new TransportError('timeout', `request on ${subject} timed out`, options);
  if (
    err instanceof errors.NoRespondersError ||
    (err instanceof errors.RequestError && err.isNoResponders())
  ) {
    return new TransportError('no-responders', `no responders on ${subject}`, options);
  }
  if (err instanceof errors.ClosedConnectionError || err instanceof errors.DrainingConnectionError) {
    return new TransportError('closed', `NATS connection closed (${subject})`, options);
  }
  const message = err instanceof Error ? err.message : String(err);
  if (message.toLowerCase().includes('payload')) {
    return new TransportError('payload-too-large', `${subject}: ${message}`, options);
  }
  return new TransportError('closed', `${subject}: ${message}`, options);
}
