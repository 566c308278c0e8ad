import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { BackendWriter } from '../../protocol/pg/BackendWriter.js';
import {
  FrontendParser,
  parsePasswordMessage,
  parseSaslInitialResponse,
} from '../../protocol/pg/FrontendParser.js';
import type { FrontendMessage } from '../../protocol/pg/messages.js';
import { PgError, ProtocolError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import type { ClientChannel, Session } from '../session/Session.js';
import { md5Matches } from './auth/md5.js';
import { makeVerifier, ScramError, ScramExchange } from './auth/scram.js';
import type { Server } from './Server.js';

/** Raised inside the connection when the client has gone; never sent. */
class ClientGone extends Error {}

const SSL_NO = Buffer.from('N');
const SSL_YES = Buffer.from('S');
/** Past this many unprocessed messages we stop reading the socket until the session catches up. */
const INBOX_HIGH_WATER = 1024;

/**
 * One client socket: framing, startup, authentication, then hands every message to its Session.
 * All handling is one async loop per connection, so messages are processed strictly in order while
 * the socket keeps being read (and paused when the inbox grows).
 */
export class Connection implements ClientChannel {
  private socket: Socket;
  private parser = new FrontendParser();
  readonly writer = new BackendWriter();
  private readonly inbox: FrontendMessage[] = [];
  private waiting: { resolve: (m: FrontendMessage) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private session: Session | null = null;
  private pid = 0;
  private secret = 0;
  private paused = false;
  closed = false;

  constructor(
    socket: Socket,
    private readonly server: Server,
  ) {
    this.socket = socket;
    this.attach(socket);
  }

  private attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.server.log.debug({ err: err.message }, 'socket error'));
    socket.on('close', () => this.onClose());
  }

  private onData(chunk: Buffer): void {
    try {
      this.parser.push(chunk, (m) => this.deliver(m));
    } catch (err) {
      this.fail(err instanceof PgError ? err : new ProtocolError('invalid message', { cause: err }));
    }
  }

  private deliver(message: FrontendMessage): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.resolve(message);
      return;
    }
    this.inbox.push(message);
    if (this.inbox.length > INBOX_HIGH_WATER && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /** Ends the message stream with an error that the run loop reports (FATAL) and closes on. */
  private fail(error: Error): void {
    this.failure = error;
    this.socket.pause();
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.reject(error);
    }
  }

  private onClose(): void {
    this.closed = true;
    if (!this.failure) this.fail(new ClientGone('client disconnected'));
    // A client that goes away mid-query has its query cancelled.
    this.session?.cancel('client disconnected');
  }

  next(): Promise<FrontendMessage> {
    const m = this.inbox.shift();
    if (m) {
      if (this.paused && this.inbox.length < INBOX_HIGH_WATER / 2) {
        this.paused = false;
        this.socket.resume();
      }
      return Promise.resolve(m);
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  /** True when messages are already queued: the session may delay flushing to batch the replies. */
  get hasPending(): boolean {
    return this.inbox.length > 0;
  }

  flush(): void {
    if (this.writer.length === 0 || this.closed) return;
    this.socket.write(this.writer.take());
  }

  /** Resolves once the socket has room again: this is what bounds memory under a slow reader. */
  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  cancelRunningStatement(): void {
    this.session?.cancel('user request');
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** The whole life of the connection. Never throws: every failure ends in a FATAL or a close. */
  async run(): Promise<void> {
    const timer = setTimeout(() => {
      this.fail(
        new PgError(SqlState.ProtocolViolation, 'canceling authentication due to timeout', {
          severity: 'FATAL',
        }),
      );
    }, this.server.config.startupTimeoutMs);
    try {
      const startup = await this.readStartup();
      if (!startup) return;
      await this.authenticate(startup.params.user!);
      clearTimeout(timer);
      await this.serve(startup.params);
    } catch (err) {
      clearTimeout(timer);
      if (!(err instanceof ClientGone)) {
        const pgErr =
          err instanceof PgError
            ? err
            : new PgError(SqlState.InternalError, 'internal error', { severity: 'FATAL' }, { cause: err });
        if (!(err instanceof PgError)) this.server.log.error({ err }, 'connection failed');
        if (pgErr.severity !== 'FATAL') {
          this.writer.errorResponse(
            new PgError(pgErr.code, pgErr.message, { ...pgErr.fields, severity: 'FATAL' }),
          );
        } else {
          this.writer.errorResponse(pgErr);
        }
        this.flush();
      }
    } finally {
      clearTimeout(timer);
      if (this.pid) this.server.unregister(this.pid);
      await this.session?.close().catch(() => {});
      if (!this.closed) {
        this.socket.end();
        // A peer that never reads (or never starts the TLS handshake it asked for) must not keep the
        // socket: end() only half-closes, so destroy it shortly after.
        setTimeout(() => this.socket.destroy(), 1000).unref();
      }
    }
  }

  /** SSLRequest and GSSENCRequest come before the startup packet; CancelRequest instead of it. */
  private async readStartup(): Promise<Extract<FrontendMessage, { type: 'startup' }> | null> {
    for (;;) {
      const m = await this.next();
      switch (m.type) {
        case 'sslRequest':
          if (this.server.tls && !(this.socket instanceof TLSSocket)) {
            await this.upgradeToTls();
          } else {
            this.socket.write(SSL_NO);
            this.parser.expectStartup = true;
          }
          continue;
        case 'gssEncRequest':
          this.socket.write(SSL_NO);
          this.parser.expectStartup = true;
          continue;
        case 'cancelRequest':
          this.server.cancel(m.pid, m.secret);
          return null;
        case 'startup':
          return this.checkStartup(m);
        default:
          throw new ProtocolError(`unexpected message before startup: ${m.type}`);
      }
    }
  }

  private async upgradeToTls(): Promise<void> {
    const raw = this.socket;
    // Bytes sent before the handshake would be a buffer-stuffing attack (CVE-2021-23214): refuse them.
    if (this.inbox.length > 0) throw new ProtocolError('received unencrypted data after SSL request');
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    raw.write(SSL_YES);
    const secure = new TLSSocket(raw, { isServer: true, secureContext: this.server.tls! });
    this.socket = secure;
    this.parser = new FrontendParser();
    this.attach(secure);
  }

  private checkStartup(m: Extract<FrontendMessage, { type: 'startup' }>) {
    const major = m.protocolVersion >>> 16;
    const minor = m.protocolVersion & 0xffff;
    if (major !== 3) {
      throw new PgError(
        SqlState.FeatureNotSupported,
        `unsupported frontend protocol ${major}.${minor}: server supports 3.0 to 3.0`,
        { severity: 'FATAL' },
      );
    }
    const unknownOptions = Object.keys(m.params).filter((k) => k.startsWith('_pq_.'));
    if (minor > 0 || unknownOptions.length > 0) this.writer.negotiateProtocolVersion(0, unknownOptions);
    if (!m.params.user) {
      throw new PgError(
        SqlState.InvalidAuthorizationSpecification,
        'no PostgreSQL user name specified in startup packet',
        {
          severity: 'FATAL',
        },
      );
    }
    if (this.server.activeSessions >= this.server.config.maxConnections) {
      throw new PgError(SqlState.TooManyConnections, 'sorry, too many clients already', {
        severity: 'FATAL',
      });
    }
    // Take the slot now, before authenticating, so simultaneous logins cannot overshoot the limit.
    const { pid, secret } = this.server.register(this);
    this.pid = pid;
    this.secret = secret;
    return m;
  }

  private authFailed(user: string): PgError {
    return new PgError(SqlState.InvalidPassword, `password authentication failed for user "${user}"`, {
      severity: 'FATAL',
    });
  }

  private async readPassword(): Promise<Buffer> {
    const m = await this.next();
    if (m.type !== 'password') throw new ProtocolError(`expected password response, got ${m.type}`);
    return m.data;
  }

  private async authenticate(user: string): Promise<void> {
    const { auth, users } = this.server.config;
    const password = users.get(user);
    switch (auth) {
      case 'trust':
        break;
      case 'password': {
        this.writer.authenticationCleartextPassword();
        this.flush();
        const given = parsePasswordMessage(await this.readPassword());
        if (password === undefined || given !== password) throw this.authFailed(user);
        break;
      }
      case 'md5': {
        const salt = randomBytes(4);
        this.writer.authenticationMD5Password(salt);
        this.flush();
        const given = parsePasswordMessage(await this.readPassword());
        if (password === undefined || !md5Matches(user, password, salt, given)) throw this.authFailed(user);
        break;
      }
      case 'scram-sha-256': {
        this.writer.authenticationSASL(['SCRAM-SHA-256']);
        this.flush();
        const first = parseSaslInitialResponse(await this.readPassword());
        if (first.mechanism !== 'SCRAM-SHA-256' || !first.initialResponse) {
          throw new PgError(
            SqlState.ProtocolViolation,
            'client selected an invalid SASL authentication mechanism',
            {
              severity: 'FATAL',
            },
          );
        }
        // An unknown user still runs the exchange against a throwaway verifier, so timing reveals nothing.
        const exchange = new ScramExchange(makeVerifier(password ?? `\0${Math.random()}`));
        try {
          this.writer.authenticationSASLContinue(exchange.start(first.initialResponse.toString('utf8')));
          this.flush();
          const final = exchange.finish((await this.readPassword()).toString('utf8'));
          if (password === undefined) throw this.authFailed(user);
          this.writer.authenticationSASLFinal(final);
        } catch (err) {
          if (err instanceof ScramError) throw this.authFailed(user);
          throw err;
        }
        break;
      }
    }
    this.writer.authenticationOk();
  }

  private async serve(params: Record<string, string>): Promise<void> {
    const { pid, secret } = this;
    const session = await this.server.sessions.create({
      user: params.user!,
      database: params.database || params.user!,
      params,
      pid,
      channel: this,
      log: this.server.log.child({ pid }),
    });
    this.session = session;
    for (const [name, value] of session.reportedParameters()) this.writer.parameterStatus(name, value);
    this.writer.backendKeyData(pid, secret);
    this.writer.readyForQuery('I');
    this.flush();
    for (;;) {
      const m = await this.next();
      if (m.type === 'terminate') return;
      await session.handle(m);
      if (!this.hasPending) this.flush();
    }
  }
}
