import { FrontendCode, type FrontendMessage, StartupCode } from './messages.js';
import { ProtocolError } from './PgError.js';

/** PostgreSQL's MAX_STARTUP_PACKET_LENGTH; the smallest packet is a length and a code. */
const STARTUP_MIN_LENGTH = 8;
const STARTUP_MAX_LENGTH = 10000;
/** Default cap on one regular message body. PostgreSQL allows 1 GiB; a Node process should not. */
const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;
/** PostgreSQL's PQ_SMALL_MESSAGE_LIMIT, for messages that carry at most a name. */
const SMALL_MESSAGE_LIMIT = 10000;
/** PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH, for password and SASL messages. */
const AUTH_MESSAGE_LIMIT = 65535;
/** A pending buffer grown past this for one huge message is dropped afterwards, not kept for the connection's life. */
const PENDING_KEEP_LIMIT = 1024 * 1024;
const PENDING_INITIAL_SIZE = 256;
const EMPTY = Buffer.alloc(0);

/**
 * Splits a client's byte stream into {@link FrontendMessage}s.
 *
 * Messages that lie whole inside one pushed chunk are decoded in place: their Buffer payloads
 * (bind parameters, CopyData, password data) are `subarray`s of that chunk, so the caller must not
 * reuse a chunk's memory after pushing it (socket chunks are never reused). A message that straddles
 * chunks is assembled in the parser's one retained buffer; when such a message hands out payloads the
 * buffer goes with them and a fresh one is allocated for the next straddler, so a payload is never
 * overwritten. After `push` throws the parser is unusable: the connection is closing.
 */
export class FrontendParser {
  /**
   * True until the startup packet (or SSLRequest/GSSENCRequest/CancelRequest) is read: those have no
   * type byte. After an SSLRequest/GSSENCRequest the next packet is again untyped, so the caller sets
   * this back to true once it has answered 'N' or 'S'; any byte pushed before that is refused, since a
   * client must wait for the answer (plaintext injected ahead of a TLS handshake, CVE-2021-23214).
   */
  get expectStartup(): boolean {
    return this.startupPhase;
  }

  set expectStartup(value: boolean) {
    this.startupPhase = value;
    if (value) this.awaitingAnswer = null;
  }

  private startupPhase = true;
  /** Set after an SSLRequest/GSSENCRequest until the caller re-arms `expectStartup`: no byte may come first. */
  private awaitingAnswer: 'sslRequest' | 'gssEncRequest' | null = null;
  private readonly maxMessageSize: number;
  private readonly reader = new MessageReader();
  /** The retained buffer: the first `pendingLength` bytes of a message that straddles pushes. */
  private pending: Buffer = EMPTY;
  private pendingLength = 0;
  /** Full frame length of the pending message once its header is in, else 0. */
  private pendingTotal = 0;
  /** Whether the pending message is an untyped startup-phase packet. */
  private pendingStartup = false;

  /**
   * @param options.maxMessageSize largest regular message body accepted (default 64 MiB). Startup
   * packets are limited to 10000 bytes, and messages that carry only names to 10000, as PostgreSQL does.
   */
  constructor(options?: { maxMessageSize?: number }) {
    this.maxMessageSize = options?.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  }

  /**
   * Feeds bytes; calls `onMessage` for every complete message in order. Throws ProtocolError
   * (FATAL 08P01) on malformed or oversized input, as soon as the offending header byte arrives.
   */
  push(chunk: Buffer, onMessage: (message: FrontendMessage) => void): void {
    const end = chunk.length;
    if (this.awaitingAnswer && end > 0) throw unencryptedData(this.awaitingAnswer);
    let pos = 0;
    if (this.pendingLength > 0) {
      pos = this.continuePending(chunk, onMessage);
      if (this.pendingLength > 0) return;
    }
    while (pos < end) {
      const startup = this.startupPhase;
      if (!startup) checkType(chunk[pos]!);
      const headerSize = startup ? 4 : 5;
      if (end - pos < headerSize) {
        this.stash(chunk, pos, end, 0);
        return;
      }
      const total = startup
        ? startupFrameLength(chunk.readInt32BE(pos))
        : this.typedFrameLength(chunk[pos]!, chunk.readInt32BE(pos + 1));
      if (end - pos < total) {
        this.stash(chunk, pos, end, total);
        return;
      }
      const message = startup
        ? decodeStartup(this.reader.reset(chunk, pos + 4, pos + total))
        : decodeTyped(chunk[pos]!, this.reader.reset(chunk, pos + 5, pos + total));
      pos += total;
      this.deliver(message, end - pos, onMessage);
    }
  }

  /** Adds bytes of `chunk` to the straddling message; decodes it once complete. Returns bytes consumed. */
  private continuePending(chunk: Buffer, onMessage: (message: FrontendMessage) => void): number {
    let pos = 0;
    if (this.pendingTotal === 0) {
      const headerSize = this.pendingStartup ? 4 : 5;
      const take = Math.min(headerSize - this.pendingLength, chunk.length);
      chunk.copy(this.pending, this.pendingLength, 0, take);
      this.pendingLength += take;
      pos = take;
      if (this.pendingLength < headerSize) return pos;
      this.pendingTotal = this.pendingStartup
        ? startupFrameLength(this.pending.readInt32BE(0))
        : this.typedFrameLength(this.pending[0]!, this.pending.readInt32BE(1));
    }
    const take = Math.min(this.pendingTotal - this.pendingLength, chunk.length - pos);
    this.reserve(this.pendingLength + take);
    chunk.copy(this.pending, this.pendingLength, pos, pos + take);
    this.pendingLength += take;
    pos += take;
    if (this.pendingLength < this.pendingTotal) return pos;

    const buf = this.pending;
    const total = this.pendingTotal;
    this.pendingLength = 0;
    this.pendingTotal = 0;
    const message = this.pendingStartup
      ? decodeStartup(this.reader.reset(buf, 4, total))
      : decodeTyped(buf[0]!, this.reader.reset(buf, 5, total));
    // Payloads handed out alias `buf`: give it away rather than ever writing over them.
    if (message.type === 'bind' || message.type === 'copyData' || message.type === 'password') {
      this.pending = EMPTY;
    } else if (buf.length > PENDING_KEEP_LIMIT) {
      this.pending = EMPTY;
    }
    this.deliver(message, chunk.length - pos, onMessage);
    return pos;
  }

  private deliver(
    message: FrontendMessage,
    bytesLeft: number,
    onMessage: (message: FrontendMessage) => void,
  ): void {
    switch (message.type) {
      case 'sslRequest':
      case 'gssEncRequest':
        // The client must wait for our one-byte answer; plaintext sent before the TLS/GSS handshake
        // would be processed as if it came over the secure channel (CVE-2021-23214).
        if (bytesLeft > 0) throw unencryptedData(message.type);
        this.startupPhase = false;
        this.awaitingAnswer = message.type;
        break;
      case 'startup':
      case 'cancelRequest':
        this.startupPhase = false;
        break;
    }
    onMessage(message);
  }

  /** Copies the unfinished tail of `chunk` into the retained buffer. */
  private stash(chunk: Buffer, from: number, to: number, total: number): void {
    this.pendingStartup = this.startupPhase;
    this.pendingTotal = total;
    this.pendingLength = 0;
    this.reserve(Math.max(to - from, 5));
    chunk.copy(this.pending, 0, from, to);
    this.pendingLength = to - from;
  }

  /** Grows the retained buffer by doubling (capped at the message's size) to hold `size` bytes. */
  private reserve(size: number): void {
    if (this.pending.length >= size) return;
    let capacity = Math.max(this.pending.length * 2, PENDING_INITIAL_SIZE);
    while (capacity < size) capacity *= 2;
    if (this.pendingTotal > 0 && capacity > this.pendingTotal) capacity = Math.max(this.pendingTotal, size);
    const grown = Buffer.allocUnsafe(capacity);
    this.pending.copy(grown, 0, 0, this.pendingLength);
    this.pending = grown;
  }

  /** Validates a typed message's int32 length against its type's limit; returns the frame length. */
  private typedFrameLength(code: number, length: number): number {
    const limit = bodyLimit(code, this.maxMessageSize);
    if (length < 4 || length - 4 > limit) throw new ProtocolError('invalid message length');
    return length + 1;
  }
}

function unencryptedData(request: 'sslRequest' | 'gssEncRequest'): ProtocolError {
  return new ProtocolError(
    request === 'sslRequest'
      ? 'received unencrypted data after SSL request'
      : 'received unencrypted data after GSSAPI encryption request',
  );
}

function startupFrameLength(length: number): number {
  if (length < STARTUP_MIN_LENGTH || length > STARTUP_MAX_LENGTH) {
    throw new ProtocolError('invalid length of startup packet');
  }
  return length;
}

function checkType(code: number): void {
  if (bodyLimit(code, 0) < 0) throw new ProtocolError(`invalid frontend message type ${code}`);
}

/** Largest body a message type may have, as PostgreSQL's SocketBackend sets it; -1 for an unknown type. */
function bodyLimit(code: number, maxMessageSize: number): number {
  switch (code) {
    case FrontendCode.Query:
    case FrontendCode.Parse:
    case FrontendCode.Bind:
    case FrontendCode.CopyData:
    case FrontendCode.CopyFail:
    case FrontendCode.FunctionCall:
      return maxMessageSize;
    case FrontendCode.Password:
      return Math.min(AUTH_MESSAGE_LIMIT, maxMessageSize);
    case FrontendCode.Describe:
    case FrontendCode.Close:
    case FrontendCode.Execute:
    case FrontendCode.Sync:
    case FrontendCode.Flush:
    case FrontendCode.Terminate:
    case FrontendCode.CopyDone:
      return Math.min(SMALL_MESSAGE_LIMIT, maxMessageSize);
    default:
      return -1;
  }
}

function decodeStartup(r: MessageReader): FrontendMessage {
  const code = r.uint32();
  const length = r.end - r.pos + 8;
  switch (code) {
    case StartupCode.SSLRequest:
      if (length !== 8) throw new ProtocolError('invalid length of startup packet');
      return { type: 'sslRequest' };
    case StartupCode.GSSENCRequest:
      if (length !== 8) throw new ProtocolError('invalid length of startup packet');
      return { type: 'gssEncRequest' };
    case StartupCode.CancelRequest: {
      if (length !== 16) throw new ProtocolError('invalid length of startup packet');
      const pid = r.uint32();
      const secret = r.uint32();
      return { type: 'cancelRequest', pid, secret };
    }
  }
  // A null prototype: a client-chosen key such as `__proto__` must stay an ordinary entry.
  const params: Record<string, string> = Object.create(null);
  // Other major versions have another layout; the connection rejects them by protocolVersion.
  if (code >>> 16 !== 3) return { type: 'startup', protocolVersion: code, params };
  for (;;) {
    if (r.pos >= r.end)
      throw new ProtocolError('invalid startup packet layout: expected terminator as last byte');
    if (r.buf[r.pos] === 0) {
      if (r.pos !== r.end - 1) {
        throw new ProtocolError('invalid startup packet layout: expected terminator as last byte');
      }
      break;
    }
    const name = r.cstring();
    if (r.pos >= r.end)
      throw new ProtocolError('invalid startup packet layout: expected terminator as last byte');
    params[name] = r.cstring();
  }
  return { type: 'startup', protocolVersion: code, params };
}

function decodeTyped(code: number, r: MessageReader): FrontendMessage {
  let message: FrontendMessage;
  switch (code) {
    case FrontendCode.Query:
      message = { type: 'query', sql: r.cstring() };
      break;
    case FrontendCode.Parse: {
      const name = r.cstring();
      const sql = r.cstring();
      const count = r.uint16();
      const paramOids = new Array<number>(count);
      for (let i = 0; i < count; i++) paramOids[i] = r.uint32();
      message = { type: 'parse', name, sql, paramOids };
      break;
    }
    case FrontendCode.Bind:
      message = decodeBind(r);
      break;
    case FrontendCode.Describe:
      message = { type: 'describe', kind: r.subtype('DESCRIBE'), name: r.cstring() };
      break;
    case FrontendCode.Execute: {
      const portal = r.cstring();
      message = { type: 'execute', portal, maxRows: r.int32() };
      break;
    }
    case FrontendCode.Close:
      message = { type: 'close', kind: r.subtype('CLOSE'), name: r.cstring() };
      break;
    case FrontendCode.Sync:
      message = { type: 'sync' };
      break;
    case FrontendCode.Flush:
      message = { type: 'flush' };
      break;
    case FrontendCode.Terminate:
      message = { type: 'terminate' };
      break;
    case FrontendCode.CopyData:
      message = { type: 'copyData', data: r.rest() };
      break;
    case FrontendCode.CopyDone:
      message = { type: 'copyDone' };
      break;
    case FrontendCode.CopyFail:
      message = { type: 'copyFail', message: r.cstring() };
      break;
    case FrontendCode.Password:
      message = { type: 'password', data: r.rest() };
      break;
    case FrontendCode.FunctionCall:
      r.rest();
      message = { type: 'functionCall' };
      break;
    default:
      throw new ProtocolError(`invalid frontend message type ${code}`);
  }
  r.finish();
  return message;
}

function decodeBind(r: MessageReader): FrontendMessage {
  const portal = r.cstring();
  const statement = r.cstring();
  const formatCount = r.uint16();
  const paramFormats = new Array<number>(formatCount);
  for (let i = 0; i < formatCount; i++) paramFormats[i] = r.formatCode();
  const paramCount = r.uint16();
  if (formatCount > 1 && formatCount !== paramCount) {
    throw new ProtocolError(`bind message has ${formatCount} parameter formats but ${paramCount} parameters`);
  }
  const params = new Array<Buffer | null>(paramCount);
  for (let i = 0; i < paramCount; i++) {
    const length = r.int32();
    params[i] = length === -1 ? null : r.bytes(length);
  }
  const resultCount = r.uint16();
  const resultFormats = new Array<number>(resultCount);
  for (let i = 0; i < resultCount; i++) resultFormats[i] = r.formatCode();
  return { type: 'bind', portal, statement, paramFormats, params, resultFormats };
}

/** A bounds-checked cursor over one message body; every overrun is a ProtocolError. */
class MessageReader {
  buf: Buffer = EMPTY;
  pos = 0;
  end = 0;

  reset(buf: Buffer, pos: number, end: number): this {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    return this;
  }

  private need(n: number): void {
    if (n < 0 || this.end - this.pos < n) throw new ProtocolError('insufficient data left in message');
  }

  uint16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A NUL-terminated UTF-8 string that must end inside the message. */
  cstring(): string {
    const nul = this.buf.indexOf(0, this.pos);
    if (nul < 0 || nul >= this.end) throw new ProtocolError('invalid string in message');
    const s = nul === this.pos ? '' : this.buf.toString('utf8', this.pos, nul);
    this.pos = nul + 1;
    return s;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  rest(): Buffer {
    return this.bytes(this.end - this.pos);
  }

  formatCode(): number {
    const f = this.int16();
    if (f !== 0 && f !== 1) throw new ProtocolError(`unsupported format code: ${f}`);
    return f;
  }

  /** Describe/Close target: 'S' statement or 'P' portal. */
  subtype(message: 'DESCRIBE' | 'CLOSE'): 'S' | 'P' {
    this.need(1);
    const b = this.buf[this.pos++]!;
    if (b === 0x53) return 'S';
    if (b === 0x50) return 'P';
    throw new ProtocolError(`invalid ${message} message subtype ${b}`);
  }

  /** Trailing bytes mean the client and we disagree about the message's layout. */
  finish(): void {
    if (this.pos !== this.end) throw new ProtocolError('invalid message format');
  }
}

/** Decodes a PasswordMessage body: one NUL-terminated string filling the whole message. */
export function parsePasswordMessage(data: Buffer): string {
  const nul = data.indexOf(0);
  if (nul < 0 || nul !== data.length - 1) throw new ProtocolError('invalid password packet size');
  return data.toString('utf8', 0, nul);
}

/**
 * Decodes a SASLInitialResponse body: the mechanism name, then an int32 length and that many bytes of
 * client-first-message (-1: none). `initialResponse` aliases `data`.
 */
export function parseSaslInitialResponse(data: Buffer): {
  mechanism: string;
  initialResponse: Buffer | null;
} {
  const r = new MessageReader().reset(data, 0, data.length);
  const mechanism = r.cstring();
  const length = r.int32();
  const initialResponse = length === -1 ? null : r.bytes(length);
  r.finish();
  return { mechanism, initialResponse };
}
