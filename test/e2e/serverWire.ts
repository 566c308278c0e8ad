// Shared by the server*.test.ts suites: a raw-socket PostgreSQL session built on RawConnection, so the
// suites see exactly the bytes a server sends (ParameterStatus, BackendKeyData, ErrorResponse fields),
// plus a SCRAM-SHA-256 client written from RFC 5802/7677 with node:crypto, and process CPU readings.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  type BackendMessage,
  cstring,
  errorFields,
  int32,
  message,
  PROTOCOL_3_0,
  packet,
  query,
} from './fixtures/frontendMessages.js';
import { RawConnection } from './fixtures/RawConnection.js';

/** A startup packet with any protocol version (3.0 unless given), for negotiation tests. */
export function startupPacket(params: Record<string, string>, version = PROTOCOL_3_0): Buffer {
  const pairs = Object.entries(params).map(([k, v]) => Buffer.concat([cstring(k), cstring(v)]));
  return packet(Buffer.concat([int32(version), ...pairs, Buffer.from([0])]));
}

/** The C strings in a message body, in order (ParameterStatus, NegotiateProtocolVersion option names). */
export function cstrings(body: Buffer, from = 0): string[] {
  const out: string[] = [];
  let at = from;
  while (at < body.length) {
    const end = body.indexOf(0, at);
    if (end < 0) break;
    out.push(body.toString('utf8', at, end));
    at = end + 1;
  }
  return out;
}

/** Every ParameterStatus ('S') among the messages, by name. */
export function parameterStatuses(messages: BackendMessage[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of messages) {
    if (m.type !== 'S') continue;
    const [name, value] = cstrings(m.body);
    if (name !== undefined) out[name] = value ?? '';
  }
  return out;
}

/** The fields of the first ErrorResponse among the messages, or undefined when there is none. */
export function firstError(messages: BackendMessage[]): Record<string, string> | undefined {
  const e = messages.find((m) => m.type === 'E');
  return e ? errorFields(e.body) : undefined;
}

/** The text values of every DataRow among the messages (null for SQL NULL). */
export function dataRows(messages: BackendMessage[]): (string | null)[][] {
  const rows: (string | null)[][] = [];
  for (const m of messages) {
    if (m.type !== 'D') continue;
    const n = m.body.readInt16BE(0);
    const row: (string | null)[] = [];
    let at = 2;
    for (let i = 0; i < n; i++) {
      const len = m.body.readInt32BE(at);
      at += 4;
      if (len < 0) row.push(null);
      else {
        row.push(m.body.toString('utf8', at, at + len));
        at += len;
      }
    }
    rows.push(row);
  }
  return rows;
}

/** CommandComplete tags among the messages, in order. */
export function commandTags(messages: BackendMessage[]): string[] {
  return messages.filter((m) => m.type === 'C').map((m) => cstrings(m.body)[0] ?? '');
}

/** A compact transcript of message types and error codes, for assertion messages. */
export function describeMessages(messages: BackendMessage[]): string {
  return messages
    .map((m) =>
      m.type === 'E' || m.type === 'N'
        ? `${m.type}(${errorFields(m.body).C} ${errorFields(m.body).M})`
        : m.type,
    )
    .join(' ');
}

/**
 * A raw protocol-3.0 session: startup, then simple queries whose replies are collected up to
 * ReadyForQuery. Every byte the server sent stays available through `raw`.
 */
export class WireSession {
  /** The messages of the startup phase, up to the first ReadyForQuery or error. */
  startupMessages: BackendMessage[] = [];
  private seen = 0;

  private constructor(readonly raw: RawConnection) {}

  /** Connects and completes a trust startup; throws with the transcript when no ReadyForQuery comes. */
  static async open(
    host: string,
    port: number,
    params: Record<string, string> = { user: 'wire', database: 'wire' },
    timeoutMs = 10_000,
  ): Promise<WireSession> {
    const session = await WireSession.begin(host, port, params, timeoutMs);
    if (!session.startupMessages.some((m) => m.type === 'Z')) {
      session.raw.destroy();
      throw new Error(`startup did not finish: ${describeMessages(session.startupMessages)}`);
    }
    return session;
  }

  /** Connects and sends the startup packet; resolves after ReadyForQuery, an error, or the socket closing. */
  static async begin(
    host: string,
    port: number,
    params: Record<string, string>,
    timeoutMs = 10_000,
    version = PROTOCOL_3_0,
  ): Promise<WireSession> {
    const raw = await RawConnection.open(host, port);
    const session = new WireSession(raw);
    raw.write(startupPacket(params, version));
    await raw.until(() => raw.messages().some((m) => m.type === 'Z' || m.type === 'E'), timeoutMs);
    // An ErrorResponse is followed by the close; give it a moment so `closed` is settled.
    if (raw.messages().some((m) => m.type === 'E')) await raw.closedWithin(2_000);
    session.startupMessages = raw.messages();
    session.seen = session.startupMessages.length;
    return session;
  }

  /** Wraps a connection whose startup the caller has driven itself (password logins). */
  static adopt(raw: RawConnection): WireSession {
    const session = new WireSession(raw);
    session.startupMessages = raw.messages();
    session.seen = session.startupMessages.length;
    return session;
  }

  /** BackendKeyData: the pid and secret a CancelRequest must quote. */
  backendKey(): { pid: number; secret: number } {
    const k = this.startupMessages.find((m) => m.type === 'K');
    if (!k) throw new Error(`no BackendKeyData in ${describeMessages(this.startupMessages)}`);
    return { pid: k.body.readInt32BE(0), secret: k.body.readInt32BE(4) };
  }

  /** Sends a Query message without waiting. */
  send(sql: string): void {
    this.raw.write(query(sql));
  }

  /** Sends arbitrary bytes. */
  write(bytes: Buffer): void {
    this.raw.write(bytes);
  }

  /**
   * The messages received since the last call, up to and including the next ReadyForQuery. Throws
   * with the transcript when none arrives within `timeoutMs` (or the socket closes first).
   */
  async reply(timeoutMs = 30_000): Promise<BackendMessage[]> {
    const from = this.seen;
    const ok = await this.raw.until(
      () =>
        this.raw
          .messages()
          .slice(from)
          .some((m) => m.type === 'Z'),
      timeoutMs,
    );
    const all = this.raw.messages();
    const z = all.findIndex((m, i) => i >= from && m.type === 'Z');
    if (!ok || z < 0) {
      throw new Error(
        `no ReadyForQuery within ${timeoutMs} ms (closed: ${this.raw.closed}): ${describeMessages(all.slice(from))}`,
      );
    }
    this.seen = z + 1;
    return all.slice(from, z + 1);
  }

  /** True when a ReadyForQuery has arrived that `reply()` has not returned yet. */
  hasReply(): boolean {
    return this.raw
      .messages()
      .slice(this.seen)
      .some((m) => m.type === 'Z');
  }

  /** Runs one simple Query and returns its messages up to ReadyForQuery. */
  async query(sql: string, timeoutMs = 30_000): Promise<BackendMessage[]> {
    this.send(sql);
    return this.reply(timeoutMs);
  }

  close(): void {
    this.raw.write(message('X'));
    this.raw.destroy();
  }
}

/** User CPU plus system CPU of a process so far, in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime and stime are fields 14 and 15
  return ticks / 100; // USER_HZ is 100 on Linux
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export { sleep };

/** The outcome of a password login by {@link passwordLogin}. */
export interface LoginResult {
  /** Every message the server sent, from the first authentication request on. */
  messages: BackendMessage[];
  /** The authentication request codes seen (3 cleartext, 5 md5, 10 SASL, 11 continue, 12 final, 0 ok). */
  authCodes: number[];
  /** Whether the server closed the socket after answering. */
  closed: boolean;
  session: WireSession;
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/**
 * Logs in over a raw socket, answering whatever the server asks for: cleartext, MD5 or SCRAM-SHA-256
 * (client side per RFC 5802 and 7677). Waits until ReadyForQuery, or an error and the close.
 */
export async function passwordLogin(
  host: string,
  port: number,
  user: string,
  password: string,
): Promise<LoginResult> {
  const raw = await RawConnection.open(host, port);
  raw.write(startupPacket({ user, database: 'db' }));
  const authCodes: number[] = [];
  let handled = 0;
  let clientFirstBare = '';
  let clientNonce = '';
  const finished = () => raw.messages().some((m) => m.type === 'Z' || m.type === 'E');
  for (;;) {
    await raw.until(() => finished() || raw.messages().length > handled, 10_000);
    const messages = raw.messages();
    if (messages.length === handled) break;
    for (; handled < messages.length; handled++) {
      const m = messages[handled]!;
      if (m.type !== 'R') continue;
      const code = m.body.readInt32BE(0);
      authCodes.push(code);
      if (code === 3) raw.write(message('p', cstring(password)));
      else if (code === 5) {
        const salt = m.body.subarray(4, 8);
        const inner = createHash('md5')
          .update(password + user)
          .digest('hex');
        const outer = createHash('md5')
          .update(Buffer.concat([Buffer.from(inner), salt]))
          .digest('hex');
        raw.write(message('p', cstring(`md5${outer}`)));
      } else if (code === 10) {
        clientNonce = randomBytes(18).toString('base64');
        clientFirstBare = `n=*,r=${clientNonce}`;
        const first = Buffer.from(`n,,${clientFirstBare}`);
        raw.write(message('p', Buffer.concat([cstring('SCRAM-SHA-256'), int32(first.length), first])));
      } else if (code === 11) {
        const serverFirst = m.body.toString('utf8', 4);
        const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
        const salt = Buffer.from(attrs.s!, 'base64');
        const salted = pbkdf2Sync(password, salt, Number(attrs.i), 32, 'sha256');
        const clientKey = createHmac('sha256', salted).update('Client Key').digest();
        const storedKey = createHash('sha256').update(clientKey).digest();
        const withoutProof = `c=biws,r=${attrs.r}`;
        const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
        const signature = createHmac('sha256', storedKey).update(authMessage).digest();
        const proof = xor(clientKey, signature).toString('base64');
        raw.write(message('p', Buffer.from(`${withoutProof},p=${proof}`)));
      }
    }
    if (finished()) break;
  }
  if (raw.messages().some((m) => m.type === 'E')) await raw.closedWithin(3_000);
  else await raw.idle(100);
  return { messages: raw.messages(), authCodes, closed: raw.closed, session: WireSession.adopt(raw) };
}
