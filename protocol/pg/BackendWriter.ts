import { AuthenticationCode, BackendCode } from './messages.js';
import type { PgError } from './PgError.js';

/** One RowDescription column, as PostgreSQL lays it out. */
export interface FieldDescription {
  name: string;
  /** pg_class oid of the source table, or 0. */
  tableOid: number;
  /** Attribute number within that table, or 0. */
  columnAttr: number;
  typeOid: number;
  /** pg_type.typlen: -1 varlena, -2 cstring. */
  typeSize: number;
  /** atttypmod, -1 when none. */
  typeModifier: number;
  /** 0 text, 1 binary. */
  format: 0 | 1;
}

/** Node's undocumented but long-stable fast path; `write(s, o, 'utf8')` parses its arguments first. */
type WritableBuffer = Buffer & { utf8Write(value: string, offset: number, length?: number): number };

const INITIAL_CAPACITY = 16 * 1024;
const RETAIN_LIMIT = 1024 * 1024;
/** Below this many UTF-16 units a JS byte loop beats the native call. */
const SHORT_STRING = 16;
/** Up to this many units we reserve the UTF-8 worst case (3 bytes a unit) instead of measuring first. */
const RESERVE_WORST_CASE = 64 * 1024;

function fixed(bytes: number[]): Buffer {
  return Buffer.from(bytes);
}

// Messages whose bytes never vary, built once; writing them is a 5–9 byte copy.
const READY_IDLE = fixed([BackendCode.ReadyForQuery, 0, 0, 0, 5, 0x49 /* I */]);
const READY_IN_TRANSACTION = fixed([BackendCode.ReadyForQuery, 0, 0, 0, 5, 0x54 /* T */]);
const READY_FAILED = fixed([BackendCode.ReadyForQuery, 0, 0, 0, 5, 0x45 /* E */]);
const PARSE_COMPLETE = fixed([BackendCode.ParseComplete, 0, 0, 0, 4]);
const BIND_COMPLETE = fixed([BackendCode.BindComplete, 0, 0, 0, 4]);
const CLOSE_COMPLETE = fixed([BackendCode.CloseComplete, 0, 0, 0, 4]);
const NO_DATA = fixed([BackendCode.NoData, 0, 0, 0, 4]);
const EMPTY_QUERY_RESPONSE = fixed([BackendCode.EmptyQueryResponse, 0, 0, 0, 4]);
const PORTAL_SUSPENDED = fixed([BackendCode.PortalSuspended, 0, 0, 0, 4]);
const COPY_DONE = fixed([BackendCode.CopyDone, 0, 0, 0, 4]);
const AUTHENTICATION_OK = fixed([BackendCode.Authentication, 0, 0, 0, 8, 0, 0, 0, AuthenticationCode.Ok]);
const AUTHENTICATION_CLEARTEXT = fixed([
  BackendCode.Authentication,
  0,
  0,
  0,
  8,
  0,
  0,
  0,
  AuthenticationCode.CleartextPassword,
]);

/**
 * Serializes backend messages into one growing buffer per connection. Each message reserves its
 * 5-byte header and backfills the length when done. `take()` hands the pending bytes out without
 * copying; later messages are written after them, or into a fresh buffer when full, so bytes already
 * handed to `socket.write` are never overwritten.
 */
export class BackendWriter {
  private buf = Buffer.allocUnsafe(INITIAL_CAPACITY) as WritableBuffer;
  /** First byte not yet taken. */
  private start = 0;
  /** Next byte to write. */
  private offset = 0;
  /** Where the message being written begins (its type byte). */
  private messageStart = 0;
  /** DataRow fields still expected; -1 outside a row. */
  private fieldsLeft = -1;

  /** Bytes pending. */
  get length(): number {
    return this.offset - this.start;
  }

  /** Returns the pending bytes (safe to hand to socket.write: never written again) and resets. */
  take(): Buffer {
    const out = this.buf.subarray(this.start, this.offset);
    this.start = this.offset;
    // A buffer grown for one huge message is not kept for the rest of the connection.
    if (this.buf.length > RETAIN_LIMIT) {
      this.buf = Buffer.allocUnsafe(INITIAL_CAPACITY) as WritableBuffer;
      this.start = 0;
      this.offset = 0;
    }
    return out;
  }

  authenticationOk(): void {
    this.append(AUTHENTICATION_OK);
  }

  authenticationCleartextPassword(): void {
    this.append(AUTHENTICATION_CLEARTEXT);
  }

  /** `salt` is the 4 random bytes the client mixes into its MD5 hash. */
  authenticationMD5Password(salt: Buffer): void {
    if (salt.length !== 4) throw new RangeError(`MD5 salt must be 4 bytes, got ${salt.length}`);
    this.begin(BackendCode.Authentication, 8);
    this.int32(AuthenticationCode.MD5Password);
    this.raw(salt);
    this.finish();
  }

  authenticationSASL(mechanisms: string[]): void {
    this.begin(BackendCode.Authentication, 5);
    this.int32(AuthenticationCode.SASL);
    for (const m of mechanisms) this.cstring(m);
    this.byte(0);
    this.finish();
  }

  authenticationSASLContinue(data: Buffer | string): void {
    this.authenticationData(AuthenticationCode.SASLContinue, data);
  }

  authenticationSASLFinal(data: Buffer | string): void {
    this.authenticationData(AuthenticationCode.SASLFinal, data);
  }

  private authenticationData(code: number, data: Buffer | string): void {
    this.begin(BackendCode.Authentication, 4);
    this.int32(code);
    if (typeof data === 'string') this.text(data);
    else this.raw(data);
    this.finish();
  }

  parameterStatus(name: string, value: string): void {
    this.begin(BackendCode.ParameterStatus, 0);
    this.cstring(name);
    this.cstring(value);
    this.finish();
  }

  /** Both values are written as unsigned 32-bit; FrontendParser reads CancelRequest the same way. */
  backendKeyData(pid: number, secret: number): void {
    this.begin(BackendCode.BackendKeyData, 8);
    this.int32(pid);
    this.int32(secret);
    this.finish();
  }

  readyForQuery(status: 'I' | 'T' | 'E'): void {
    this.append(status === 'I' ? READY_IDLE : status === 'T' ? READY_IN_TRANSACTION : READY_FAILED);
  }

  /** Tells a client that asked for 3.x (x > newestMinor) or `_pq_.` options what this server speaks. */
  negotiateProtocolVersion(newestMinor: number, unrecognizedOptions: string[]): void {
    this.begin(BackendCode.NegotiateProtocolVersion, 8);
    this.int32(newestMinor);
    this.int32(unrecognizedOptions.length);
    for (const o of unrecognizedOptions) this.cstring(o);
    this.finish();
  }

  rowDescription(fields: readonly FieldDescription[]): void {
    this.begin(BackendCode.RowDescription, 2);
    this.int16(count16(fields.length));
    for (const f of fields) {
      this.cstring(f.name);
      this.ensure(18);
      this.int32(f.tableOid);
      this.int16(f.columnAttr);
      this.int32(f.typeOid);
      this.int16(f.typeSize);
      this.int32(f.typeModifier);
      this.int16(f.format);
    }
    this.finish();
  }

  /** Starts a DataRow; exactly `fieldCount` field calls and then endDataRow must follow. */
  beginDataRow(fieldCount: number): void {
    this.begin(BackendCode.DataRow, 2);
    this.int16(count16(fieldCount));
    this.fieldsLeft = fieldCount;
  }

  fieldNull(): void {
    this.ensure(4);
    const b = this.buf;
    const o = this.offset;
    b[o] = 0xff;
    b[o + 1] = 0xff;
    b[o + 2] = 0xff;
    b[o + 3] = 0xff;
    this.offset = o + 4;
    this.fieldsLeft--;
  }

  /** A text value; its length prefix counts UTF-8 bytes. */
  fieldText(value: string): void {
    this.reserveUtf8(value, 4);
    const lengthAt = this.offset;
    this.offset += 4;
    const n = this.utf8(value);
    this.int32At(lengthAt, n);
    this.fieldsLeft--;
  }

  // Binary fields of fixed width, written in place: no per-value Buffer on the hot path.

  fieldInt16(value: number): void {
    this.ensure(6);
    this.int32(2);
    this.int16(value);
    this.fieldsLeft--;
  }

  fieldInt32(value: number): void {
    this.ensure(8);
    this.int32(4);
    this.int32(value);
    this.fieldsLeft--;
  }

  fieldInt64(value: bigint): void {
    this.ensure(12);
    this.int32(8);
    this.buf.writeBigInt64BE(value, this.offset);
    this.offset += 8;
    this.fieldsLeft--;
  }

  fieldFloat32(value: number): void {
    this.ensure(8);
    this.int32(4);
    this.buf.writeFloatBE(value, this.offset);
    this.offset += 4;
    this.fieldsLeft--;
  }

  fieldFloat64(value: number): void {
    this.ensure(12);
    this.int32(8);
    this.buf.writeDoubleBE(value, this.offset);
    this.offset += 8;
    this.fieldsLeft--;
  }

  fieldBytes(value: Uint8Array): void {
    this.ensure(4 + value.length);
    this.int32(value.length);
    this.raw(value);
    this.fieldsLeft--;
  }

  /** A field whose bytes are `bytes[start .. end)` as they are (a text value's UTF-8, either format). */
  fieldSlice(bytes: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.ensure(4 + n);
    this.int32(n);
    const b = this.buf;
    let o = this.offset;
    if (n < 32) {
      for (let i = start; i < end; i++) b[o++] = bytes[i]!;
    } else {
      b.set(bytes.subarray(start, end), o);
      o += n;
    }
    this.offset = o;
    this.fieldsLeft--;
  }

  endDataRow(): void {
    if (this.fieldsLeft !== 0) {
      throw new Error(
        `DataRow is ${this.fieldsLeft > 0 ? 'missing' : 'over by'} ${Math.abs(this.fieldsLeft)} fields`,
      );
    }
    this.fieldsLeft = -1;
    this.finish();
  }

  /** e.g. `SELECT 3`, `INSERT 0 1`. */
  commandComplete(tag: string): void {
    this.begin(BackendCode.CommandComplete, 0);
    this.cstring(tag);
    this.finish();
  }

  emptyQueryResponse(): void {
    this.append(EMPTY_QUERY_RESPONSE);
  }

  errorResponse(error: PgError): void {
    this.errorFields(BackendCode.ErrorResponse, error);
  }

  noticeResponse(error: PgError): void {
    this.errorFields(BackendCode.NoticeResponse, error);
  }

  /** Fields in the order PostgreSQL sends them; absent optional fields are left out. */
  private errorFields(code: number, error: PgError): void {
    const f = error.fields;
    this.begin(code, 0);
    // S is the localized severity; Mallard does not localize, so it equals V.
    this.errorField(0x53 /* S */, error.severity);
    this.errorField(0x56 /* V */, error.severity);
    this.errorField(0x43 /* C */, error.code);
    this.errorField(0x4d /* M */, error.message);
    if (f.detail !== undefined) this.errorField(0x44 /* D */, f.detail);
    if (f.hint !== undefined) this.errorField(0x48 /* H */, f.hint);
    if (f.position !== undefined) this.errorField(0x50 /* P */, String(f.position));
    if (f.where !== undefined) this.errorField(0x57 /* W */, f.where);
    if (f.schema !== undefined) this.errorField(0x73 /* s */, f.schema);
    if (f.table !== undefined) this.errorField(0x74 /* t */, f.table);
    if (f.column !== undefined) this.errorField(0x63 /* c */, f.column);
    if (f.constraint !== undefined) this.errorField(0x6e /* n */, f.constraint);
    this.byte(0);
    this.finish();
  }

  private errorField(type: number, value: string): void {
    this.byte(type);
    this.cstring(value);
  }

  parseComplete(): void {
    this.append(PARSE_COMPLETE);
  }

  bindComplete(): void {
    this.append(BIND_COMPLETE);
  }

  closeComplete(): void {
    this.append(CLOSE_COMPLETE);
  }

  noData(): void {
    this.append(NO_DATA);
  }

  portalSuspended(): void {
    this.append(PORTAL_SUSPENDED);
  }

  parameterDescription(oids: readonly number[]): void {
    this.begin(BackendCode.ParameterDescription, 2 + 4 * oids.length);
    this.int16(count16(oids.length));
    for (const oid of oids) this.int32(oid);
    this.finish();
  }

  copyInResponse(format: 0 | 1, columnFormats: readonly number[]): void {
    this.copyResponse(BackendCode.CopyInResponse, format, columnFormats);
  }

  copyOutResponse(format: 0 | 1, columnFormats: readonly number[]): void {
    this.copyResponse(BackendCode.CopyOutResponse, format, columnFormats);
  }

  private copyResponse(code: number, format: 0 | 1, columnFormats: readonly number[]): void {
    this.begin(code, 3 + 2 * columnFormats.length);
    this.byte(format);
    this.int16(count16(columnFormats.length));
    for (const f of columnFormats) this.int16(f);
    this.finish();
  }

  /** A string is written as UTF-8. */
  copyData(data: Uint8Array | string): void {
    this.begin(BackendCode.CopyData, 0);
    if (typeof data === 'string') this.text(data);
    else {
      this.ensure(data.length);
      this.raw(data);
    }
    this.finish();
  }

  copyDone(): void {
    this.append(COPY_DONE);
  }

  // ---- primitives: every writer below assumes `ensure` already made room, except where noted ----

  /** Makes room for `n` more bytes, moving the untaken bytes to a fresh buffer when full. */
  private ensure(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    const pending = this.offset - this.start;
    let capacity = INITIAL_CAPACITY;
    while (capacity < pending + n) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity) as WritableBuffer;
    this.buf.copy(grown, 0, this.start, this.offset);
    this.messageStart -= this.start;
    this.offset = pending;
    this.start = 0;
    this.buf = grown;
  }

  /** Type byte, a length placeholder, and room for `body` more bytes. */
  private begin(code: number, body: number): void {
    this.ensure(5 + body);
    this.messageStart = this.offset;
    this.buf[this.offset] = code;
    this.offset += 5;
  }

  private finish(): void {
    this.int32At(this.messageStart + 1, this.offset - this.messageStart - 1);
  }

  private append(message: Buffer): void {
    this.ensure(message.length);
    const b = this.buf;
    let o = this.offset;
    for (let i = 0; i < message.length; i++) b[o++] = message[i]!;
    this.offset = o;
  }

  /** Ensures room itself. */
  private byte(v: number): void {
    this.ensure(1);
    this.buf[this.offset++] = v;
  }

  private int16(v: number): void {
    const b = this.buf;
    const o = this.offset;
    b[o] = v >>> 8;
    b[o + 1] = v;
    this.offset = o + 2;
  }

  private int32(v: number): void {
    this.int32At(this.offset, v);
    this.offset += 4;
  }

  /** Signed or unsigned input: typed-array stores keep the low 8 bits of each shift. */
  private int32At(o: number, v: number): void {
    const b = this.buf;
    b[o] = v >>> 24;
    b[o + 1] = v >>> 16;
    b[o + 2] = v >>> 8;
    b[o + 3] = v;
  }

  private raw(bytes: Uint8Array): void {
    this.buf.set(bytes, this.offset);
    this.offset += bytes.length;
  }

  /** Ensures room for `extra` bytes plus the UTF-8 form of `value`. */
  private reserveUtf8(value: string, extra: number): void {
    const n = value.length;
    this.ensure(extra + (n <= RESERVE_WORST_CASE ? n * 3 : Buffer.byteLength(value)));
  }

  /** Writes `value` as UTF-8 into reserved room; returns the byte count. */
  private utf8(value: string): number {
    const n = value.length;
    const b = this.buf;
    const start = this.offset;
    if (n < SHORT_STRING) {
      let o = start;
      for (let i = 0; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) {
          o += b.utf8Write(i === 0 ? value : value.slice(i), o);
          break;
        }
        b[o++] = c;
      }
      this.offset = o;
      return o - start;
    }
    const written = b.utf8Write(value, start);
    this.offset = start + written;
    return written;
  }

  /** Ensures room itself. */
  private text(value: string): void {
    this.reserveUtf8(value, 0);
    this.utf8(value);
  }

  /** Ensures room itself. A NUL inside would end the string early on the client and misalign every later field. */
  private cstring(value: string): void {
    const clean = value.includes('\0') ? value.replaceAll('\0', '') : value;
    this.reserveUtf8(clean, 1);
    this.utf8(clean);
    this.buf[this.offset++] = 0;
  }
}

function count16(n: number): number {
  if (n > 0xffff) throw new RangeError(`${n} exceeds the protocol's 16-bit count`);
  return n;
}
