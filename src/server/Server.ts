import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { ServerConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { SessionFactory } from '../session/Session.js';
import { Connection } from './Connection.js';

/** A registered backend, reachable by CancelRequest through its pid and secret. */
interface Backend {
  secret: number;
  connection: Connection;
}

/**
 * The TCP listener: accepts sockets, enforces the connection limit, keeps the cancel registry.
 * Everything per client lives in Connection; nothing thrown there can reach this process's event loop.
 */
export class Server {
  private readonly net: NetServer;
  private readonly backends = new Map<number, Backend>();
  private readonly connections = new Set<Connection>();
  private nextPid = 10_000 + randomInt(50_000);
  readonly tls: SecureContext | undefined;

  constructor(
    readonly config: ServerConfig,
    readonly log: Logger,
    readonly sessions: SessionFactory,
  ) {
    this.tls =
      config.tlsCert && config.tlsKey
        ? createSecureContext({ cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) })
        : undefined;
    // A larger socket buffer lets a fast reader take whole 64 KiB flushes without waiting on 'drain' each time;
    // a slow reader still stops the session at this bound.
    this.net = createServer({ noDelay: true, highWaterMark: 256 * 1024 }, (socket) => this.onSocket(socket));
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.net.once('error', reject);
      this.net.listen(this.config.port, this.config.host, () => {
        this.net.off('error', reject);
        this.net.on('error', (err) => this.log.error({ err }, 'listener error'));
        const addr = this.net.address();
        const port = typeof addr === 'object' && addr ? addr.port : this.config.port;
        resolve({ host: this.config.host, port });
      });
    });
  }

  private onSocket(socket: Socket): void {
    const connection = new Connection(socket, this);
    this.connections.add(connection);
    socket.once('close', () => this.connections.delete(connection));
    connection.run();
  }

  /** Counts connections that have finished startup, for the max-connections check. */
  get activeSessions(): number {
    return this.backends.size;
  }

  register(connection: Connection): { pid: number; secret: number } {
    const pid = this.nextPid++;
    const secret = randomInt(0x7fffffff);
    this.backends.set(pid, { secret, connection });
    return { pid, secret };
  }

  unregister(pid: number): void {
    this.backends.delete(pid);
  }

  /** CancelRequest: a wrong pid or secret is silently ignored, as PostgreSQL does. */
  cancel(pid: number, secret: number): void {
    const backend = this.backends.get(pid);
    if (backend && backend.secret === secret) {
      this.log.info({ pid }, 'cancel request');
      backend.connection.cancelRunningStatement();
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.net.close(() => resolve()));
    for (const c of this.connections) c.destroy();
  }
}
