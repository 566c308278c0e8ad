import { PgError } from '../PgError.js';
import { SqlState } from '../sqlstate.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The byte length pg_utf_mblen assigns a lead byte; used to show the bad sequence as PostgreSQL does. */
function mblen(lead: number): number {
  if ((lead & 0x80) === 0) return 1;
  if ((lead & 0xe0) === 0xc0) return 2;
  if ((lead & 0xf0) === 0xe0) return 3;
  if ((lead & 0xf8) === 0xf0) return 4;
  return 1;
}

/** Offset of the first invalid UTF-8 sequence (or NUL, which PostgreSQL text cannot hold), or -1. */
function firstInvalid(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      if (c === 0) return i;
      i++;
      continue;
    }
    let len: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    if (i + len > b.length) return i;
    const second = b[i + 1]!;
    if (second < lo || second > hi) return i;
    for (let k = 2; k < len; k++) {
      const x = b[i + k]!;
      if (x < 0x80 || x > 0xbf) return i;
    }
    i += len;
  }
  return -1;
}

/**
 * A parameter's bytes as text. Invalid UTF-8 and NUL bytes raise 22021
 * `invalid byte sequence for encoding "UTF8": 0xc3 0x28`, as PostgreSQL's input verification does.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  // Pure ASCII without NUL is the common case and needs no validation pass beyond this scan.
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0 || c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const bad = firstInvalid(bytes);
  if (bad >= 0) {
    const n = Math.min(mblen(bytes[bad]!), bytes.length - bad);
    const shown: string[] = [];
    for (let k = 0; k < n; k++) shown.push(`0x${bytes[bad + k]!.toString(16).padStart(2, '0')}`);
    throw new PgError(
      SqlState.CharacterNotInRepertoire,
      `invalid byte sequence for encoding "UTF8": ${shown.join(' ')}`,
    );
  }
  return decoder.decode(bytes);
}
