import { connect, errors, type NatsConnection } from '@nats-io/transport-node';
import { TransportError } from '../protocol/cluster/ClusterError.js';
import type {
  MessageHandler,
  NatsConnectionSettings,
  SubscribeOptions,
  Transport,
  TransportMessage,
  TransportSubscription,
} from '../protocol/cluster/Transport.js';

/**
 * The worker's own NATS adapter. worker/ imports only protocol/, so it cannot share the coordinator's
 * src/transport/NatsTransport; this is the same mapping of protocol/cluster/Transport onto nats.js, kept to
 * what a worker uses.
 */
export async function connectNats(settings: NatsConnectionSettings): Promise<Transport> {
  const connection = await connect({
    servers: settings.servers,
    // A worker outlives a nats-server restart: it keeps reconnecting, and the coordinator retries whatever
    // was in flight.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    ...(settings.name === undefined ? {} : { name: settings.name }),
    ...(settings.user === undefined ? {} : { user: settings.user }),
    ...(settings.pass === undefined ? {} : { pass: settings.pass }),
    ...(settings.token === undefined ? {} : { token: settings.token }),
    ...(settings.tls === undefined ? {} : { tls: { ...settings.tls } }),
  });
  return new WorkerNatsTransport(connection);
}

class WorkerNatsTransport implements Transport {
  private readonly connection: NatsConnection;

  constructor(connection: NatsConnection) {
    this.connection = connection;
  }

  get maxPayload(): number {
    return this.connection.info?.max_payload ?? 1024 * 1024;
  }

  publish(subject: string, data: Uint8Array, reply?: string): void {
    try {
      this.connection.publish(subject, data, reply === undefined ? undefined : { reply });
    } catch (err) {
      throw new TransportError('closed', `publish on ${subject} failed: ${String(err)}`, { cause: err });
    }
  }

  subscribe(subject: string, handler: MessageHandler, options: SubscribeOptions = {}): TransportSubscription {
    const sub = this.connection.subscribe(subject, {
      ...(options.queue === undefined ? {} : { queue: options.queue }),
      callback: (err, msg) => {
        if (!err) handler(msg.reply ? { subject: msg.subject, data: msg.data, reply: msg.reply } : msg);
      },
    });
    return { unsubscribe: () => sub.unsubscribe() };
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<TransportMessage> {
    try {
      const msg = await this.connection.request(subject, data, { timeout: timeoutMs });
      return { subject: msg.subject, data: msg.data };
    } catch (err) {
      const noResponders =
        err instanceof errors.NoRespondersError ||
        (err instanceof errors.RequestError && err.isNoResponders());
      const failure = noResponders
        ? 'no-responders'
        : err instanceof errors.TimeoutError
          ? 'timeout'
          : 'closed';
      throw new TransportError(failure, `request on ${subject} failed: ${String(err)}`, { cause: err });
    }
  }

  flush(): Promise<void> {
    return this.connection.flush();
  }

  async close(): Promise<void> {
    if (this.connection.isClosed()) return;
    await this.connection.drain().catch(() => this.connection.close());
  }
}
