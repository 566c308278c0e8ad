import { PgError } from '../PgError.js';
import { SqlState } from '../sqlstate.js';

// byteain: `\x` then hex digit pairs (whitespace allowed between pairs), or the escape format where
// `\\` is a backslash, `\ooo` an octal byte and every other byte stands for itself.

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** The bytes a bytea literal stands for; `raw` is the parameter's bytes as sent. */
export function parseBytea(raw: Uint8Array): Uint8Array {
  if (raw.length >= 2 && raw[0] === 0x5c && raw[1] === 0x78) return parseHex(raw);
  return parseEscape(raw);
}

function parseHex(raw: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe((raw.length - 2) >> 1);
  let n = 0;
  let i = 2;
  while (i < raw.length) {
    const c = raw[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    const hi = hexValue(c);
    if (hi < 0) throw badHexDigit(raw, i);
    if (i + 1 >= raw.length) {
      throw new PgError(SqlState.InvalidParameterValue, 'invalid hexadecimal data: odd number of digits');
    }
    const lo = hexValue(raw[i + 1]!);
    if (lo < 0) throw badHexDigit(raw, i + 1);
    out[n++] = (hi << 4) | lo;
    i += 2;
  }
  return out.subarray(0, n);
}

function badHexDigit(raw: Uint8Array, at: number): PgError {
  // The offending character, whole even when it is multi-byte UTF-8.
  let end = at + 1;
  while (end < raw.length && (raw[end]! & 0xc0) === 0x80) end++;
  const ch = Buffer.from(raw.subarray(at, end)).toString('utf8');
  return new PgError(SqlState.InvalidParameterValue, `invalid hexadecimal digit: "${ch}"`);
}

function isOctal(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x37;
}

function parseEscape(raw: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== 0x5c) {
      out[n++] = c;
      continue;
    }
    if (raw[i + 1] === 0x5c) {
      out[n++] = 0x5c;
      i++;
    } else if (raw[i + 1]! >= 0x30 && raw[i + 1]! <= 0x33 && isOctal(raw[i + 2]) && isOctal(raw[i + 3])) {
      out[n++] = ((raw[i + 1]! - 0x30) << 6) | ((raw[i + 2]! - 0x30) << 3) | (raw[i + 3]! - 0x30);
      i += 3;
    } else {
      throw new PgError(SqlState.InvalidTextRepresentation, 'invalid input syntax for type bytea');
    }
  }
  return out.subarray(0, n);
}
