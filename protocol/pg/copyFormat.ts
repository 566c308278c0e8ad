import { isUtf8 } from 'node:buffer';
import { PgError } from './PgError.js';
import { SqlState, type SqlStateCode } from './sqlstate.js';

// The three COPY data formats as PostgreSQL reads and writes them (copyto.c, copyfromparse.c):
// writers turn one row into the bytes of one CopyData message, decoders take CopyData payloads in
// whatever pieces the client sends and call back once per row.

const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const DOT = 0x2e;
const EMPTY = Buffer.alloc(0);
/** PostgreSQL's MAX_COPY_DATA_DISPLAY: how much of a bad line an error context quotes. */
const MAX_DISPLAY = 100;

/** A bad COPY input: a PgError (22P04 bad_copy_file_format, or 22021 for bad UTF-8) with the line it is on. */
export class CopyFormatError extends PgError {
  /** 1-based line (text, CSV) or tuple (binary) number; 0 for the binary header. */
  readonly line: number;

  constructor(code: SqlStateCode, message: string, line: number, hint?: string, where?: string) {
    super(code, message, {
      ...(hint === undefined ? {} : { hint }),
      ...(where === undefined ? {} : { where }),
    });
    this.name = 'CopyFormatError';
    this.line = line;
  }
}

/** Options every COPY decoder takes. */
export interface CopyDecodeOptions {
  /**
   * The target columns. When given, every row must have exactly this many fields, failing with
   * PostgreSQL's `missing data for column "x"` / `extra data after last expected column`
   * (binary: `row field count is N, expected M`); HEADER MATCH compares against these names.
   */
  columns?: readonly string[];
  /** The table name: errors then carry PostgreSQL's context `COPY <relation>, line N[: "<line>"]` in `where`. */
  relation?: string;
}

/** FORMAT text options. */
export interface CopyTextOptions {
  /** One single-byte character; default tab. */
  delimiter?: string;
  /** The string that stands for NULL; default `\N`. */
  null?: string;
  /** A first line of column names: written by `header()`; skipped on input, or checked with 'match'. */
  header?: boolean | 'match';
}

/** FORMAT csv options. */
export interface CopyCsvOptions extends CopyTextOptions {
  /** Default `,`. */
  delimiter?: string;
  /** Default empty: an unquoted empty field is NULL, a quoted one (`""`) the empty string. */
  null?: string;
  /** One single-byte character; default `"`. */
  quote?: string;
  /** One single-byte character written before a quote (or itself) inside quotes; default: the quote. */
  escape?: string;
  /** FORCE_QUOTE: quote every non-null value (true) or those of the flagged columns. */
  forceQuote?: boolean | readonly boolean[];
  /** FORCE_NOT_NULL: in the flagged columns an unquoted null string is read as that string, not NULL. */
  forceNotNull?: readonly boolean[];
  /** FORCE_NULL: in the flagged columns a quoted null string is read as NULL too. */
  forceNull?: readonly boolean[];
}

/** Called once per decoded row with its fields and the line (or tuple) number it ended on. */
export type CopyRowHandler<T> = (fields: T[], line: number) => void;

// ---------------------------------------------------------------------------------------------
// Options

function singleByte(value: string, what: string): number {
  const code = value.charCodeAt(0);
  if (value.length !== 1 || code >= 0x80) {
    throw new PgError(SqlState.FeatureNotSupported, `COPY ${what} must be a single one-byte character`);
  }
  return code;
}

interface Resolved {
  delimiter: string;
  delimiterCode: number;
  nullString: string;
  nullBytes: Buffer;
  header: boolean | 'match';
  quote: string;
  quoteCode: number;
  escape: string;
  escapeCode: number;
}

/** Validates options the way PostgreSQL's ProcessCopyOptions does, with its messages. */
function resolveOptions(csv: boolean, options: CopyCsvOptions): Resolved {
  const delimiter = options.delimiter ?? (csv ? ',' : '\t');
  const nullString = options.null ?? (csv ? '' : '\\N');
  const delimiterCode = singleByte(delimiter, 'delimiter');
  if (delimiter === '\n' || delimiter === '\r') {
    throw new PgError(SqlState.InvalidParameterValue, 'COPY delimiter cannot be newline or carriage return');
  }
  if (nullString.includes('\n') || nullString.includes('\r')) {
    throw new PgError(
      SqlState.InvalidParameterValue,
      'COPY null representation cannot use newline or carriage return',
    );
  }
  // In text format these would be taken for an escape sequence or the end marker.
  if (!csv && '\\.abcdefghijklmnopqrstuvwxyz0123456789'.includes(delimiter)) {
    throw new PgError(SqlState.InvalidParameterValue, `COPY delimiter cannot be "${delimiter}"`);
  }
  let quote = '"';
  let escapeChar = '"';
  if (csv) {
    quote = options.quote ?? '"';
    singleByte(quote, 'quote');
    escapeChar = options.escape ?? quote;
    singleByte(escapeChar, 'escape');
    if (delimiter === quote)
      throw new PgError(SqlState.InvalidParameterValue, 'COPY delimiter and quote must be different');
    if (nullString.includes(quote)) {
      throw new PgError(
        SqlState.InvalidParameterValue,
        'CSV quote character must not appear in the NULL specification',
      );
    }
  }
  if (nullString.includes(delimiter)) {
    throw new PgError(
      SqlState.InvalidParameterValue,
      'COPY delimiter must not appear in the NULL specification',
    );
  }
  return {
    delimiter,
    delimiterCode,
    nullString,
    nullBytes: Buffer.from(nullString, 'utf8'),
    header: options.header ?? false,
    quote,
    quoteCode: quote.charCodeAt(0),
    escape: escapeChar,
    escapeCode: escapeChar.charCodeAt(0),
  };
}

// ---------------------------------------------------------------------------------------------
// Writers

/** Writes FORMAT text rows: backslash escapes, NULL as `\N` (or the chosen string), one row a line. */
export class CopyTextWriter {
  private readonly o: Resolved;

  constructor(options: CopyTextOptions = {}) {
    this.o = resolveOptions(false, options);
  }

  /** The HEADER line: column names escaped like values. */
  header(names: readonly string[]): string {
    return this.row(names);
  }

  /** One row, newline-terminated. */
  row(values: readonly (string | null)[]): string {
    const { delimiter, nullString, delimiterCode } = this.o;
    let out = '';
    for (let i = 0; i < values.length; i++) {
      if (i > 0) out += delimiter;
      const v = values[i];
      out += v === null || v === undefined ? nullString : escapeText(v, delimiterCode);
    }
    return out + '\n';
  }
}

/** CopyAttributeOutText: control characters as \b \f \n \r \t \v, backslash and delimiter escaped. */
function escapeText(value: string, delimiter: number): string {
  const n = value.length;
  let i = 0;
  for (; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === BACKSLASH || c === delimiter) break;
  }
  if (i === n) return value;
  let out = value.slice(0, i);
  let from = i;
  for (; i < n; i++) {
    const c = value.charCodeAt(i);
    let replacement: string;
    if (c < 0x20) {
      switch (c) {
        case 0x08:
          replacement = '\\b';
          break;
        case 0x0c:
          replacement = '\\f';
          break;
        case LF:
          replacement = '\\n';
          break;
        case CR:
          replacement = '\\r';
          break;
        case 0x09:
          replacement = '\\t';
          break;
        case 0x0b:
          replacement = '\\v';
          break;
        default:
          // Other control characters pass through, unless one is the delimiter.
          if (c !== delimiter) continue;
          replacement = `\\${value[i]}`;
      }
    } else if (c === BACKSLASH || c === delimiter) {
      replacement = `\\${value[i]}`;
    } else {
      continue;
    }
    out += value.slice(from, i) + replacement;
    from = i + 1;
  }
  return out + value.slice(from);
}

/** Writes FORMAT csv rows: quoted only when needed (or forced), NULL unquoted. */
export class CopyCsvWriter {
  private readonly o: Resolved;
  private readonly forceQuote: boolean | readonly boolean[];

  constructor(options: CopyCsvOptions = {}) {
    this.o = resolveOptions(true, options);
    this.forceQuote = options.forceQuote ?? false;
  }

  /** The HEADER line: column names quoted as needed (never forced). */
  header(names: readonly string[]): string {
    let out = '';
    for (let i = 0; i < names.length; i++) {
      if (i > 0) out += this.o.delimiter;
      out += this.field(names[i]!, false, names.length === 1);
    }
    return out + '\n';
  }

  /** One row, newline-terminated. */
  row(values: readonly (string | null)[]): string {
    const { delimiter, nullString } = this.o;
    const force = this.forceQuote;
    let out = '';
    for (let i = 0; i < values.length; i++) {
      if (i > 0) out += delimiter;
      const v = values[i];
      if (v === null || v === undefined) out += nullString;
      else
        out += this.field(v, force === true || (force !== false && force[i] === true), values.length === 1);
    }
    return out + '\n';
  }

  /** CopyAttributeOutCSV. */
  private field(value: string, quote: boolean, singleColumn: boolean): string {
    const { delimiterCode, quoteCode, escapeCode, nullString, quote: q, escape: esc } = this.o;
    // A value equal to the null string must be quoted to read back as a value; a lone `\.` would be
    // taken for the end-of-data marker by older readers.
    let needs = quote || value === nullString || (singleColumn && value === '\\.');
    if (!needs) {
      for (let i = 0; i < value.length; i++) {
        const c = value.charCodeAt(i);
        if (c === delimiterCode || c === quoteCode || c === LF || c === CR) {
          needs = true;
          break;
        }
      }
    }
    if (!needs) return value;
    let out = q;
    let from = 0;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c === quoteCode || c === escapeCode) {
        out += value.slice(from, i) + esc;
        from = i;
      }
    }
    return out + value.slice(from) + q;
  }
}

const BINARY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Signature, int32 flags (no OIDs), int32 header-extension length 0. */
const BINARY_HEADER = Buffer.concat([BINARY_SIGNATURE, Buffer.alloc(8)]);
const BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/** Writes FORMAT binary: `header()` once, `row()` per tuple, `trailer()` at the end. */
export class CopyBinaryWriter {
  /** The 19-byte file header: signature, flags, empty extension. */
  header(): Buffer {
    return Buffer.from(BINARY_HEADER);
  }

  /** int16 field count, then per field an int32 length (-1 for NULL) and the value's binary send form. */
  row(values: readonly (Uint8Array | null)[]): Buffer {
    let size = 2;
    for (const v of values) size += v === null ? 4 : 4 + v.length;
    const out = Buffer.allocUnsafe(size);
    out.writeInt16BE(values.length, 0);
    let o = 2;
    for (const v of values) {
      if (v === null) {
        out.writeInt32BE(-1, o);
        o += 4;
      } else {
        out.writeInt32BE(v.length, o);
        out.set(v, o + 4);
        o += 4 + v.length;
      }
    }
    return out;
  }

  /** The int16 -1 that ends the data. */
  trailer(): Buffer {
    return Buffer.from(BINARY_TRAILER);
  }
}

// ---------------------------------------------------------------------------------------------
// Text and CSV decoders

// biome-ignore lint/suspicious/noConstEnum: module-private and inlined by tsc (no isolatedModules); no runtime object needed
const enum Eol {
  Unknown,
  NL,
  CR,
  CRNL,
}

/**
 * Splits CopyData payloads into lines the way CopyReadLineText does: the first line fixes the
 * newline style (\n, \r or \r\n) and a different one later is an error. Lines that lie inside one
 * payload are decoded in place; one that straddles payloads is assembled in a retained buffer
 * (grown by doubling, reused: decoded fields are strings, so nothing aliases it).
 */
abstract class LineDecoder {
  protected readonly o: Resolved;
  protected readonly columns: readonly string[] | undefined;
  private readonly relation: string | undefined;
  protected eol = Eol.Unknown;
  protected lineNo = 0;
  /** Set by `scan`: where the line's content ends (before its terminator). */
  protected lineEnd = 0;
  /** Set by `scan` when it stops for lack of look-ahead: where to resume. */
  protected resumeAt = 0;
  /** Set by `scan`: the line held a byte >= 0x80, so it needs UTF-8 validation. */
  protected highBit = false;
  /** Set by `scan`: the line was the end-of-data marker. */
  protected marker = false;
  private finished = false;
  private headerPending: boolean;
  private pending = EMPTY;
  private pendingLength = 0;
  private resume = 0;
  /** Reused output for fields that need unescaping; strings are decoded out of it at once. */
  protected scratch = Buffer.allocUnsafe(256);

  constructor(csv: boolean, options: CopyCsvOptions & CopyDecodeOptions) {
    this.o = resolveOptions(csv, options);
    this.columns = options.columns;
    this.relation = options.relation;
    this.headerPending = this.o.header !== false;
    if (this.o.header === 'match' && !this.columns)
      throw new TypeError('HEADER MATCH needs the column names');
  }

  /** The number of the line last read (1-based; 0 before the first). */
  get line(): number {
    return this.lineNo;
  }

  /** True once the data ended (the `\.` marker in text format, or `end()`); later data is ignored. */
  get ended(): boolean {
    return this.finished;
  }

  /** Decodes one CopyData payload, calling `onRow` for every row completed by it. */
  push(chunk: Buffer, onRow: CopyRowHandler<string | null>): void {
    if (this.finished) return;
    const end = chunk.length;
    let pos = 0;
    if (this.pendingLength > 0) {
      pos = this.continuePending(chunk, onRow);
      if (pos < 0) return;
    }
    while (pos < end && !this.finished) {
      this.startLine();
      const next = this.scan(chunk, pos, pos, end, false);
      if (next < 0) {
        this.reserve(end - pos);
        chunk.copy(this.pending, 0, pos, end);
        this.pendingLength = end - pos;
        this.resume = this.resumeAt - pos;
        return;
      }
      this.emit(chunk, pos, onRow);
      pos = next;
    }
  }

  /** CopyDone: decodes a last line that has no newline; throws if the data stops mid-field. */
  end(onRow: CopyRowHandler<string | null>): void {
    if (this.finished) return;
    const buf = this.pending;
    const length = this.pendingLength;
    this.pendingLength = 0;
    let pos = 0;
    let resume = this.resume;
    while (pos < length && !this.finished) {
      if (pos > 0) {
        this.startLine();
        resume = pos;
      }
      const next = this.scan(buf, pos, resume, length, true);
      this.emit(buf, pos, onRow);
      pos = next;
    }
    this.finished = true;
  }

  /** Appends the chunk piece by piece (to each next CR/LF) until the pending line completes. */
  private continuePending(chunk: Buffer, onRow: CopyRowHandler<string | null>): number {
    let pos = 0;
    const end = chunk.length;
    for (;;) {
      let cut = pos;
      while (cut < end && chunk[cut] !== LF && chunk[cut] !== CR) cut++;
      const pieceEnd = cut < end ? cut + 1 : end;
      this.reserve(this.pendingLength + pieceEnd - pos);
      chunk.copy(this.pending, this.pendingLength, pos, pieceEnd);
      this.pendingLength += pieceEnd - pos;
      pos = pieceEnd;
      const next = this.scan(this.pending, 0, this.resume, this.pendingLength, false);
      if (next < 0) {
        this.resume = this.resumeAt;
        if (pos >= end) return -1;
        continue;
      }
      // Bytes appended past the line's end belong to the next line: hand them back to the chunk.
      const unused = this.pendingLength - next;
      this.pendingLength = 0;
      this.resume = 0;
      this.emit(this.pending, 0, onRow);
      return pos - unused;
    }
  }

  private reserve(size: number): void {
    if (this.pending.length >= size) return;
    let capacity = Math.max(this.pending.length * 2, 256);
    while (capacity < size) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.pending.copy(grown, 0, 0, this.pendingLength);
    this.pending = grown;
  }

  /** A new line begins: PostgreSQL counts it before reading it. */
  protected startLine(): void {
    this.lineNo++;
    this.highBit = false;
    this.marker = false;
    this.resetQuoteState();
  }

  protected resetQuoteState(): void {}

  /** Decodes the line [start, lineEnd) that `scan` just found. */
  private emit(buf: Buffer, start: number, onRow: CopyRowHandler<string | null>): void {
    if (this.marker) {
      this.finished = true;
      return;
    }
    const end = this.lineEnd;
    if (this.highBit && !isUtf8(buf.subarray(start, end))) throw this.badEncoding(buf, start, end, false);
    const fields = this.splitFields(buf, start, end);
    if (this.headerPending) {
      this.headerPending = false;
      if (this.o.header === 'match') this.matchHeader(fields, buf, start, end);
      return;
    }
    const columns = this.columns;
    if (columns && columns.length > 0 && fields.length !== columns.length) {
      if (fields.length > columns.length) {
        throw this.error('extra data after last expected column', undefined, buf, start, end);
      }
      throw this.error(`missing data for column "${columns[fields.length]}"`, undefined, buf, start, end);
    }
    onRow(fields, this.lineNo);
  }

  private matchHeader(fields: (string | null)[], buf: Buffer, start: number, end: number): void {
    const columns = this.columns!;
    if (fields.length !== columns.length) {
      throw this.error(
        `wrong number of fields in header line: got ${fields.length}, expected ${columns.length}`,
        undefined,
        buf,
        start,
        end,
      );
    }
    for (let i = 0; i < columns.length; i++) {
      const got = fields[i];
      if (got === null) {
        throw this.error(
          `column name mismatch in header line field ${i + 1}: got null value ("${this.o.nullString}"), expected "${columns[i]}"`,
          undefined,
          buf,
          start,
          end,
        );
      }
      if (got !== columns[i]) {
        throw this.error(
          `column name mismatch in header line field ${i + 1}: got "${got}", expected "${columns[i]}"`,
          undefined,
          buf,
          start,
          end,
        );
      }
    }
  }

  /**
   * Finds the end of the line starting at `start`, resuming at `from`. Returns the index after its
   * terminator and sets `lineEnd`, or -1 (setting `resumeAt`) when a look-ahead byte is not here
   * yet. With `final`, the data ends at `end` (PostgreSQL reads NUL there).
   */
  protected abstract scan(buf: Buffer, start: number, from: number, end: number, final: boolean): number;

  protected abstract splitFields(buf: Buffer, start: number, end: number): (string | null)[];

  /** A bare CR or LF in the wrong place: the messages differ between text and CSV. */
  protected abstract strayNewline(cr: boolean): CopyFormatError;

  /** Handles an unescaped CR at `i` (outside quotes). Returns the next index, or -1 for more data. */
  protected carriageReturn(buf: Buffer, i: number, end: number, final: boolean): number {
    if (this.eol === Eol.NL) throw this.strayNewline(true);
    if (this.eol === Eol.CR) {
      this.lineEnd = i;
      return i + 1;
    }
    if (i + 1 >= end && !final) {
      this.resumeAt = i;
      return -1;
    }
    if (i + 1 < end && buf[i + 1] === LF) {
      this.eol = Eol.CRNL;
      this.lineEnd = i;
      return i + 2;
    }
    if (this.eol === Eol.CRNL) throw this.strayNewline(true);
    this.eol = Eol.CR;
    this.lineEnd = i;
    return i + 1;
  }

  protected lineFeed(i: number): number {
    if (this.eol === Eol.CR || this.eol === Eol.CRNL) throw this.strayNewline(false);
    this.eol = Eol.NL;
    this.lineEnd = i;
    return i + 1;
  }

  /** Raw NUL is never valid text in PostgreSQL. */
  protected nul(): CopyFormatError {
    return new CopyFormatError(
      SqlState.CharacterNotInRepertoire,
      'invalid byte sequence for encoding "UTF8": 0x00',
      this.lineNo,
      undefined,
      this.where(),
    );
  }

  protected badEncoding(buf: Buffer, start: number, end: number, showLine: boolean): CopyFormatError {
    return new CopyFormatError(
      SqlState.CharacterNotInRepertoire,
      `invalid byte sequence for encoding "UTF8": ${describeInvalidUtf8(buf, start, end)}`,
      this.lineNo,
      undefined,
      showLine ? this.where(buf, start, end) : this.where(),
    );
  }

  /** A 22P04 on the current line; with the line's bytes, the context quotes it as PostgreSQL does. */
  protected error(message: string, hint?: string, buf?: Buffer, start = 0, end = 0): CopyFormatError {
    return new CopyFormatError(
      SqlState.BadCopyFileFormat,
      message,
      this.lineNo,
      hint,
      this.where(buf, start, end),
    );
  }

  protected where(buf?: Buffer, start = 0, end = 0): string | undefined {
    if (this.relation === undefined) return undefined;
    const at = `COPY ${this.relation}, line ${this.lineNo}`;
    return buf ? `${at}: "${displayLine(buf, start, end)}"` : at;
  }

  protected isNull(buf: Buffer, start: number, end: number): boolean {
    const marker = this.o.nullBytes;
    if (end - start !== marker.length) return false;
    for (let i = 0; i < marker.length; i++) if (buf[start + i] !== marker[i]) return false;
    return true;
  }

  protected ensureScratch(size: number): Buffer {
    if (this.scratch.length < size) {
      let capacity = this.scratch.length * 2;
      while (capacity < size) capacity *= 2;
      this.scratch = Buffer.allocUnsafe(capacity);
    }
    return this.scratch;
  }
}

/** Bytes the text line scanner must look at: NUL, LF, CR, backslash and non-ASCII. */
const TEXT_SPECIAL = new Uint8Array(256);
for (const c of [0, LF, CR, BACKSLASH]) TEXT_SPECIAL[c] = 1;
TEXT_SPECIAL.fill(1, 0x80);

/**
 * Decodes FORMAT text: fields split on the (unescaped) delimiter, escapes \b \f \n \r \t \v,
 * \ooo octal, \xhh hex, any other escaped character taken literally; a field whose raw text equals
 * the null string (`\N`) is NULL; a line that is just `\.` ends the data.
 */
export class CopyTextDecoder extends LineDecoder {
  constructor(options: CopyTextOptions & CopyDecodeOptions = {}) {
    super(false, options);
  }

  protected scan(buf: Buffer, start: number, from: number, end: number, final: boolean): number {
    for (let i = from; i < end; i++) {
      const c = buf[i]!;
      if (TEXT_SPECIAL[c] === 0) continue;
      if (c >= 0x80) {
        this.highBit = true;
        continue;
      }
      switch (c) {
        case LF:
          return this.lineFeed(i);
        case CR:
          return this.carriageReturn(buf, i, end, final);
        case 0:
          throw this.nul();
        case BACKSLASH: {
          if (i + 1 >= end) {
            if (!final) {
              this.resumeAt = i;
              return -1;
            }
            // A backslash ending the data is dropped, as PostgreSQL does.
            continue;
          }
          const c2 = buf[i + 1]!;
          if (c2 === DOT) return this.endMarker(buf, start, i, end, final);
          // The escaped byte is data, even a newline; only its validity matters here.
          if (c2 >= 0x80) this.highBit = true;
          else if (c2 === 0) throw this.nul();
          i++;
        }
      }
    }
    if (!final) {
      this.resumeAt = end;
      return -1;
    }
    this.lineEnd = end;
    return end;
  }

  /** `\.` at `i`: it must be alone on its line, ended in the line style seen so far (PostgreSQL 18). */
  private endMarker(buf: Buffer, start: number, i: number, end: number, final: boolean): number {
    let k = i + 2;
    if (this.eol === Eol.CRNL) {
      if (k >= end && !final) {
        this.resumeAt = i;
        return -1;
      }
      const c = k < end ? buf[k]! : 0;
      k++;
      if (c === LF) throw this.error('end-of-copy marker does not match previous newline style');
      if (c !== CR) throw this.error('end-of-copy marker is not alone on its line');
    }
    if (k >= end && !final) {
      this.resumeAt = i;
      return -1;
    }
    const c = k < end ? buf[k]! : 0;
    k++;
    if (c !== CR && c !== LF) throw this.error('end-of-copy marker is not alone on its line');
    if (
      (this.eol === Eol.NL && c !== LF) ||
      (this.eol === Eol.CRNL && c !== LF) ||
      (this.eol === Eol.CR && c !== CR)
    ) {
      throw this.error('end-of-copy marker does not match previous newline style');
    }
    if (i > start) throw this.error('end-of-copy marker is not alone on its line');
    this.marker = true;
    this.lineEnd = i;
    return k;
  }

  protected strayNewline(cr: boolean): CopyFormatError {
    return cr
      ? this.error('literal carriage return found in data', 'Use "\\r" to represent carriage return.')
      : this.error('literal newline found in data', 'Use "\\n" to represent newline.');
  }

  protected splitFields(buf: Buffer, start: number, end: number): (string | null)[] {
    const delimiter = this.o.delimiterCode;
    const fields: (string | null)[] = [];
    let s = start;
    for (;;) {
      let i = s;
      let escaped = false;
      while (i < end) {
        const c = buf[i]!;
        if (c === delimiter) break;
        if (c === BACKSLASH) {
          escaped = true;
          i += 2;
        } else i++;
      }
      if (i > end) i = end;
      if (this.isNull(buf, s, i)) fields.push(null);
      else if (!escaped) fields.push(s === i ? '' : buf.toString('utf8', s, i));
      else fields.push(this.unescape(buf, s, i, start, end));
      if (i >= end) return fields;
      s = i + 1;
    }
  }

  /** CopyReadAttributesText's de-escaping of one field [s, e). */
  private unescape(buf: Buffer, s: number, e: number, lineStart: number, lineEnd: number): string {
    const out = this.ensureScratch(e - s);
    let o = 0;
    let sawNonAscii = false;
    let i = s;
    while (i < e) {
      let c = buf[i++]!;
      if (c === BACKSLASH) {
        if (i >= e) break;
        c = buf[i++]!;
        if (c >= 0x30 && c <= 0x37) {
          let v = c - 0x30;
          if (i < e && buf[i]! >= 0x30 && buf[i]! <= 0x37) {
            v = (v << 3) + buf[i++]! - 0x30;
            if (i < e && buf[i]! >= 0x30 && buf[i]! <= 0x37) v = (v << 3) + buf[i++]! - 0x30;
          }
          c = v & 0xff;
          if (c === 0 || c >= 0x80) sawNonAscii = true;
        } else if (c === 0x78 /* x */) {
          const h1 = i < e ? hexValue(buf[i]!) : -1;
          if (h1 >= 0) {
            i++;
            let v = h1;
            const h2 = i < e ? hexValue(buf[i]!) : -1;
            if (h2 >= 0) {
              i++;
              v = (v << 4) + h2;
            }
            c = v;
            if (c === 0 || c >= 0x80) sawNonAscii = true;
          }
        } else {
          switch (c) {
            case 0x62 /* b */:
              c = 0x08;
              break;
            case 0x66 /* f */:
              c = 0x0c;
              break;
            case 0x6e /* n */:
              c = LF;
              break;
            case 0x72 /* r */:
              c = CR;
              break;
            case 0x74 /* t */:
              c = 0x09;
              break;
            case 0x76 /* v */:
              c = 0x0b;
              break;
          }
        }
      }
      out[o++] = c;
    }
    // Escapes can spell any byte; the result must still be valid UTF-8 without NUL.
    if (sawNonAscii) {
      const bytes = out.subarray(0, o);
      if (bytes.indexOf(0) >= 0 || !isUtf8(bytes)) {
        throw new CopyFormatError(
          SqlState.CharacterNotInRepertoire,
          `invalid byte sequence for encoding "UTF8": ${describeInvalidUtf8(out, 0, o)}`,
          this.lineNo,
          undefined,
          this.where(buf, lineStart, lineEnd),
        );
      }
    }
    return out.toString('utf8', 0, o);
  }
}

/**
 * Decodes FORMAT csv: fields quoted with the quote character, quote or escape doubled inside quotes
 * (`""`), newlines allowed inside quotes; an unquoted field equal to the null string (by default the
 * empty one) is NULL, while a quoted one never is (unless FORCE_NULL).
 */
export class CopyCsvDecoder extends LineDecoder {
  private inQuote = false;
  private lastWasEscape = false;
  private readonly forceNotNull: readonly boolean[] | undefined;
  private readonly forceNull: readonly boolean[] | undefined;

  constructor(options: CopyCsvOptions & CopyDecodeOptions = {}) {
    super(true, options);
    this.forceNotNull = options.forceNotNull;
    this.forceNull = options.forceNull;
  }

  protected override resetQuoteState(): void {
    this.inQuote = false;
    this.lastWasEscape = false;
  }

  protected scan(buf: Buffer, _start: number, from: number, end: number, final: boolean): number {
    const quote = this.o.quoteCode;
    // When quote and escape are the same character it only toggles the quoted state (CopyReadLineText).
    const esc = this.o.escapeCode === quote ? -1 : this.o.escapeCode;
    for (let i = from; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) {
        this.highBit = true;
        this.lastWasEscape = false;
        continue;
      }
      if (this.inQuote && c === esc) this.lastWasEscape = !this.lastWasEscape;
      if (c === quote && !this.lastWasEscape) this.inQuote = !this.inQuote;
      if (c !== esc) this.lastWasEscape = false;
      if (c === 0) throw this.nul();
      if (this.inQuote) {
        // PostgreSQL counts physical lines inside quoted fields, by the newline style known so far.
        if (c === (this.eol === Eol.NL ? LF : CR)) this.lineNo++;
        continue;
      }
      if (c === LF) return this.lineFeed(i);
      if (c === CR) return this.carriageReturn(buf, i, end, final);
    }
    if (!final) {
      this.resumeAt = end;
      return -1;
    }
    this.lineEnd = end;
    return end;
  }

  protected strayNewline(cr: boolean): CopyFormatError {
    return cr
      ? this.error(
          'unquoted carriage return found in data',
          'Use quoted CSV field to represent carriage return.',
        )
      : this.error('unquoted newline found in data', 'Use quoted CSV field to represent newline.');
  }

  /** CopyReadAttributesCSV. */
  protected splitFields(buf: Buffer, start: number, end: number): (string | null)[] {
    const { delimiterCode: delimiter, quoteCode: quote, escapeCode: esc } = this.o;
    const fields: (string | null)[] = [];
    let s = start;
    for (;;) {
      let i = s;
      while (i < end && buf[i] !== delimiter && buf[i] !== quote) i++;
      let value: string | null;
      let quoted = false;
      let foundDelimiter: boolean;
      if (i >= end || buf[i] === delimiter) {
        // The common case: no quotes at all, decoded straight from the input.
        foundDelimiter = i < end;
        value = this.isNull(buf, s, i) ? null : s === i ? '' : buf.toString('utf8', s, i);
      } else {
        quoted = true;
        const out = this.ensureScratch(end - s);
        buf.copy(out, 0, s, i);
        let o = i - s;
        foundDelimiter = false;
        // Alternate quoted and unquoted pieces until a delimiter outside quotes or the line's end.
        outer: for (;;) {
          i++; // past the opening quote
          for (;;) {
            if (i >= end) throw this.error('unterminated CSV quoted field', undefined, buf, start, end);
            const c = buf[i++]!;
            if (c === esc && i < end && (buf[i] === esc || buf[i] === quote)) {
              out[o++] = buf[i++]!;
              continue;
            }
            if (c === quote) break;
            out[o++] = c;
          }
          for (;;) {
            if (i >= end) break outer;
            const c = buf[i]!;
            if (c === delimiter) {
              foundDelimiter = true;
              break outer;
            }
            if (c === quote) continue outer;
            out[o++] = c;
            i++;
          }
        }
        value = out.toString('utf8', 0, o);
      }
      const column = fields.length;
      if (value === null) {
        if (this.forceNotNull?.[column]) value = this.o.nullString;
      } else if (quoted && this.forceNull?.[column] && value === this.o.nullString) {
        value = null;
      }
      fields.push(value);
      if (!foundDelimiter) return fields;
      s = i + 1;
    }
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** PostgreSQL's limit_printout_length: at most 100 bytes, cut on a character boundary, then "...". */
function displayLine(buf: Buffer, start: number, end: number): string {
  if (end - start <= MAX_DISPLAY) return buf.toString('utf8', start, end);
  let cut = start + MAX_DISPLAY;
  while (cut > start && (buf[cut]! & 0xc0) === 0x80) cut--;
  return `${buf.toString('utf8', start, cut)}...`;
}

/** The bytes of the first invalid UTF-8 sequence, as report_invalid_encoding prints them. */
function describeInvalidUtf8(buf: Buffer, start: number, end: number): string {
  let i = start;
  while (i < end) {
    const c = buf[i]!;
    const length =
      c < 0x80 ? 1 : (c & 0xe0) === 0xc0 ? 2 : (c & 0xf0) === 0xe0 ? 3 : (c & 0xf8) === 0xf0 ? 4 : 1;
    if (c === 0 || !isUtf8(buf.subarray(i, Math.min(i + length, end))) || i + length > end) {
      const shown: string[] = [];
      for (let k = i; k < Math.min(i + length, end); k++)
        shown.push(`0x${buf[k]!.toString(16).padStart(2, '0')}`);
      return shown.join(' ');
    }
    i += length;
  }
  return '';
}

// ---------------------------------------------------------------------------------------------
// Binary decoder

// biome-ignore lint/suspicious/noConstEnum: module-private and inlined by tsc (no isolatedModules); no runtime object needed
const enum BinaryState {
  Header,
  Extension,
  Count,
  Length,
  Data,
  Done,
}

/**
 * Decodes FORMAT binary: the `PGCOPY\n\377\r\n\0` signature, flags and header extension, then
 * tuples (int16 field count, per field int32 length or -1 for NULL, then the bytes) up to the int16
 * -1 trailer. A field lying inside one payload is a `subarray` of it; one that straddles payloads is
 * assembled in a buffer that is then handed over with the row, so fields stay valid.
 */
export class CopyBinaryDecoder {
  private readonly columns: readonly string[] | undefined;
  private readonly relation: string | undefined;
  private state = BinaryState.Header;
  /** Header, count and length bytes that straddle payloads. */
  private readonly head = Buffer.allocUnsafe(19);
  private headLength = 0;
  private extensionLeft = 0;
  private rowNo = 0;
  private fields: (Buffer | null)[] = [];
  private fieldCount = 0;
  private fieldLength = 0;
  /** The part of a straddling field received so far. */
  private partial = EMPTY;
  private partialLength = 0;

  constructor(options: CopyDecodeOptions = {}) {
    this.columns = options.columns;
    this.relation = options.relation;
  }

  /** The number of the tuple last read (1-based; the trailer counts); 0 while in the header. */
  get line(): number {
    return this.rowNo;
  }

  /** True once the -1 trailer was read. */
  get ended(): boolean {
    return this.state === BinaryState.Done;
  }

  /** Decodes one CopyData payload, calling `onRow` for every tuple completed by it. */
  push(chunk: Buffer, onRow: CopyRowHandler<Buffer | null>): void {
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      switch (this.state) {
        case BinaryState.Header: {
          pos = this.fill(chunk, pos, 19);
          if (this.headLength >= 11 && this.head.compare(BINARY_SIGNATURE, 0, 11, 0, 11) !== 0) {
            throw this.error('COPY file signature not recognized');
          }
          if (this.headLength < 19) break;
          this.headLength = 0;
          const flags = this.head.readInt32BE(11);
          if (flags & (1 << 16)) throw this.error('invalid COPY file header (WITH OIDS)');
          if ((flags & ~(1 << 16)) >>> 16 !== 0)
            throw this.error('unrecognized critical flags in COPY file header');
          const extension = this.head.readInt32BE(15);
          if (extension < 0) throw this.error('invalid COPY file header (missing length)');
          this.extensionLeft = extension;
          this.state = BinaryState.Extension;
          break;
        }
        case BinaryState.Extension: {
          const skip = Math.min(this.extensionLeft, end - pos);
          pos += skip;
          this.extensionLeft -= skip;
          if (this.extensionLeft === 0) this.state = BinaryState.Count;
          break;
        }
        case BinaryState.Count: {
          if (this.headLength === 0) this.rowNo++;
          let count: number;
          if (this.headLength === 0 && end - pos >= 2) {
            count = chunk.readInt16BE(pos);
            pos += 2;
          } else {
            pos = this.fill(chunk, pos, 2);
            if (this.headLength < 2) break;
            this.headLength = 0;
            count = this.head.readInt16BE(0);
          }
          this.startTuple(count, end - pos, onRow);
          break;
        }
        case BinaryState.Length: {
          let length: number;
          if (this.headLength === 0 && end - pos >= 4) {
            length = chunk.readInt32BE(pos);
            pos += 4;
          } else {
            pos = this.fill(chunk, pos, 4);
            if (this.headLength < 4) break;
            this.headLength = 0;
            length = this.head.readInt32BE(0);
          }
          if (length === -1) this.addField(null, onRow);
          else if (length < 0) throw this.error('invalid field size');
          else if (length === 0) this.addField(EMPTY, onRow);
          else {
            this.fieldLength = length;
            this.state = BinaryState.Data;
          }
          break;
        }
        case BinaryState.Data: {
          const length = this.fieldLength;
          if (this.partialLength === 0 && end - pos >= length) {
            pos += length;
            this.addField(chunk.subarray(pos - length, pos), onRow);
            break;
          }
          const take = Math.min(length - this.partialLength, end - pos);
          this.reservePartial(this.partialLength + take);
          chunk.copy(this.partial, this.partialLength, pos, pos + take);
          this.partialLength += take;
          pos += take;
          if (this.partialLength === length) {
            // The row keeps this buffer; the next straddler gets a new one.
            const field = this.partial.subarray(0, length);
            this.partial = EMPTY;
            this.partialLength = 0;
            this.addField(field, onRow);
          }
          break;
        }
        case BinaryState.Done:
          // PostgreSQL waits for CopyDone right after the trailer, so it can still see a CopyFail.
          throw this.error('received copy data after EOF marker');
      }
    }
  }

  /** CopyDone: the data may end after the trailer, or between tuples; anywhere else it is cut short. */
  end(): void {
    switch (this.state) {
      case BinaryState.Done:
        return;
      case BinaryState.Header:
        if (this.headLength < 11) throw this.error('COPY file signature not recognized');
        if (this.headLength < 15) throw this.error('invalid COPY file header (missing flags)');
        throw this.error('invalid COPY file header (missing length)');
      case BinaryState.Extension:
        throw this.error('invalid COPY file header (wrong length)');
      case BinaryState.Count:
        if (this.headLength === 0) {
          this.state = BinaryState.Done;
          return;
        }
        throw this.error('unexpected EOF in COPY data');
      default:
        throw this.error('unexpected EOF in COPY data');
    }
  }

  private startTuple(count: number, bytesLeft: number, onRow: CopyRowHandler<Buffer | null>): void {
    if (count === -1) {
      this.state = BinaryState.Done;
      if (bytesLeft > 0) throw this.error('received copy data after EOF marker');
      return;
    }
    const expected = this.columns?.length;
    if (expected !== undefined && count !== expected) {
      throw this.error(`row field count is ${count}, expected ${expected}`);
    }
    if (count < 0) throw this.error(`row field count is ${count}, expected a count of fields`);
    this.fields = new Array<Buffer | null>(count);
    this.fieldCount = 0;
    if (count === 0) this.finishTuple(onRow);
    else this.state = BinaryState.Length;
  }

  private addField(field: Buffer | null, onRow: CopyRowHandler<Buffer | null>): void {
    this.fields[this.fieldCount++] = field;
    if (this.fieldCount === this.fields.length) this.finishTuple(onRow);
    else this.state = BinaryState.Length;
  }

  private finishTuple(onRow: CopyRowHandler<Buffer | null>): void {
    this.state = BinaryState.Count;
    const fields = this.fields;
    this.fields = [];
    onRow(fields, this.rowNo);
  }

  /** Copies up to `want` header bytes into `head`; returns the new position. */
  private fill(chunk: Buffer, pos: number, want: number): number {
    const take = Math.min(want - this.headLength, chunk.length - pos);
    chunk.copy(this.head, this.headLength, pos, pos + take);
    this.headLength += take;
    return pos + take;
  }

  private reservePartial(size: number): void {
    if (this.partial.length >= size) return;
    let capacity = Math.max(this.partial.length * 2, 256);
    while (capacity < size) capacity *= 2;
    if (capacity > this.fieldLength) capacity = Math.max(this.fieldLength, size);
    const grown = Buffer.allocUnsafe(capacity);
    this.partial.copy(grown, 0, 0, this.partialLength);
    this.partial = grown;
  }

  /**
   * PostgreSQL reads the header before it installs its error context, so header errors have none;
   * an error inside a field names the field's column, as its cur_attname does.
   */
  private error(message: string): CopyFormatError {
    let where: string | undefined;
    if (
      this.relation !== undefined &&
      this.state !== BinaryState.Header &&
      this.state !== BinaryState.Extension
    ) {
      where = `COPY ${this.relation}, line ${this.rowNo}`;
      const inField = this.state === BinaryState.Length || this.state === BinaryState.Data;
      if (inField && this.columns?.[this.fieldCount] !== undefined)
        where += `, column ${this.columns[this.fieldCount]}`;
    }
    return new CopyFormatError(SqlState.BadCopyFileFormat, message, this.rowNo, undefined, where);
  }
}
