import { PgError } from '../PgError.js';
import { SqlState } from '../sqlstate.js';
import {
  DATE_NEG_INF,
  DATE_POS_INF,
  INT64_MAX,
  INT64_MIN,
  PG_EPOCH_DAYS,
  PG_EPOCH_MICROS,
  TIMESTAMP_NEG_INF,
  TIMESTAMP_POS_INF,
} from './calendar.js';

// PostgreSQL's binary send formats (the typsend functions), all big-endian. Each call returns fresh
// bytes the caller may keep.

export function int2Send(value: number): Uint8Array {
  const b = Buffer.allocUnsafe(2);
  b.writeInt16BE(value, 0);
  return b;
}

export function int4Send(value: number): Uint8Array {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(value, 0);
  return b;
}

/** oid: an unsigned 32-bit integer (a DuckDB UINTEGER). */
export function oidSend(value: number): Uint8Array {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(value, 0);
  return b;
}

/** int8 from a JS number (an exact integer). */
export function int8SendNumber(value: number): Uint8Array {
  const b = Buffer.allocUnsafe(8);
  const high = Math.floor(value / 4294967296);
  b.writeInt32BE(high, 0);
  b.writeUInt32BE(value - high * 4294967296, 4);
  return b;
}

export function int8Send(value: bigint): Uint8Array {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(value, 0);
  return b;
}

export function float4Send(value: number): Uint8Array {
  const b = Buffer.allocUnsafe(4);
  b.writeFloatBE(value, 0);
  return b;
}

export function float8Send(value: number): Uint8Array {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleBE(value, 0);
  return b;
}

const TRUE_BYTE = 1;
const FALSE_BYTE = 0;

export function boolSend(value: boolean): Uint8Array {
  const b = Buffer.allocUnsafe(1);
  b[0] = value ? TRUE_BYTE : FALSE_BYTE;
  return b;
}

export function textSend(value: string): Uint8Array {
  return Buffer.from(value, 'utf8');
}

const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;

/**
 * numeric's send format for `unscaled / 10^scale`: ndigits, weight, sign, dscale, then base-10000
 * digits with leading and trailing zero digits stripped, as PostgreSQL stores them.
 */
export function numericSend(unscaled: bigint, scale: number): Uint8Array {
  const negative = unscaled < 0n;
  const digits = String(negative ? -unscaled : unscaled);
  // Align the decimal point to a base-10000 boundary: pad the integer part on the left and the
  // fraction on the right to multiples of four decimal digits.
  const intLength = digits.length - scale;
  const intPad = intLength > 0 ? (4 - (intLength % 4)) % 4 : 0;
  const fracPad = (4 - (scale % 4)) % 4;
  let padded: string;
  let intGroups: number;
  if (intLength > 0) {
    padded = '0'.repeat(intPad) + digits + '0'.repeat(fracPad);
    intGroups = (intLength + intPad) / 4;
  } else {
    padded = '0'.repeat(-intLength) + digits + '0'.repeat(fracPad);
    intGroups = 0;
  }
  const groups: number[] = [];
  for (let i = 0; i < padded.length; i += 4) groups.push(Number(padded.slice(i, i + 4)));
  let first = 0;
  while (first < groups.length && groups[first] === 0) first++;
  let last = groups.length;
  while (last > first && groups[last - 1] === 0) last--;
  const ndigits = last - first;
  const weight = ndigits === 0 ? 0 : intGroups - 1 - first;
  const b = Buffer.allocUnsafe(8 + ndigits * 2);
  b.writeInt16BE(ndigits, 0);
  b.writeInt16BE(weight, 2);
  b.writeUInt16BE(ndigits === 0 ? NUMERIC_POS : negative ? NUMERIC_NEG : NUMERIC_POS, 4);
  b.writeInt16BE(scale, 6);
  for (let i = 0; i < ndigits; i++) b.writeInt16BE(groups[first + i]!, 8 + i * 2);
  return b;
}

/** date: int32 days since 2000-01-01; ±infinity as INT32_MAX / INT32_MIN. */
export function dateSend(days: number): Uint8Array {
  const b = Buffer.allocUnsafe(4);
  if (days === DATE_POS_INF) b.writeInt32BE(2147483647, 0);
  else if (days === DATE_NEG_INF) b.writeInt32BE(-2147483648, 0);
  else {
    const pg = days - PG_EPOCH_DAYS;
    if (pg < -2147483648) throw outOfRange('date');
    b.writeInt32BE(pg, 0);
  }
  return b;
}

/** time: int64 microseconds since midnight. */
export function timeSend(micros: number): Uint8Array {
  return int8SendNumber(micros);
}

/** timetz: int64 microseconds since midnight, then the zone as int32 seconds WEST of Greenwich. */
export function timetzSend(micros: number, offsetSecondsEast: number): Uint8Array {
  const b = Buffer.allocUnsafe(12);
  const high = Math.floor(micros / 4294967296);
  b.writeInt32BE(high, 0);
  b.writeUInt32BE(micros - high * 4294967296, 4);
  b.writeInt32BE(offsetSecondsEast === 0 ? 0 : -offsetSecondsEast, 8);
  return b;
}

/** timestamp/timestamptz: int64 microseconds since 2000-01-01 (UTC); ±infinity as INT64_MAX / INT64_MIN. */
export function timestampSend(micros: bigint): Uint8Array {
  let pg: bigint;
  if (micros === TIMESTAMP_POS_INF) pg = INT64_MAX;
  else if (micros === TIMESTAMP_NEG_INF) pg = INT64_MIN;
  else {
    pg = micros - PG_EPOCH_MICROS;
    if (pg <= INT64_MIN) throw outOfRange('timestamp');
  }
  return int8Send(pg);
}

/** interval: int64 microseconds, int32 days, int32 months. */
export function intervalSend(months: number, days: number, micros: bigint): Uint8Array {
  const b = Buffer.allocUnsafe(16);
  b.writeBigInt64BE(micros, 0);
  b.writeInt32BE(days, 8);
  b.writeInt32BE(months, 12);
  return b;
}

/** uuid: the 16 bytes, most significant first. */
export function uuidSend(uint128: bigint): Uint8Array {
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(uint128 >> 64n, 0);
  b.writeBigUInt64BE(uint128 & 0xffffffffffffffffn, 8);
  return b;
}

/** varbit: int32 bit count, then the bits packed most significant first, zero-padded to a byte. */
export function varbitSend(bits: readonly number[]): Uint8Array {
  const b = Buffer.alloc(4 + Math.ceil(bits.length / 8));
  b.writeInt32BE(bits.length, 0);
  for (let i = 0; i < bits.length; i++) {
    if (bits[i]) b[4 + (i >> 3)]! |= 0x80 >> (i & 7);
  }
  return b;
}

/**
 * An array's send format: ndim, has-null flag, element OID, then per dimension its length and lower
 * bound (1), then each element as int32 length (-1 for NULL) and bytes. An empty array has ndim 0.
 */
export function arraySend(
  elementOid: number,
  dims: readonly number[],
  elements: readonly (Uint8Array | null)[],
): Uint8Array {
  const empty = elements.length === 0;
  const ndim = empty ? 0 : dims.length;
  let size = 12 + ndim * 8;
  let hasNull = 0;
  for (const e of elements) {
    size += 4;
    if (e === null) hasNull = 1;
    else size += e.length;
  }
  const b = Buffer.allocUnsafe(size);
  b.writeInt32BE(ndim, 0);
  b.writeInt32BE(hasNull, 4);
  b.writeUInt32BE(elementOid, 8);
  let at = 12;
  for (let i = 0; i < ndim; i++) {
    b.writeInt32BE(dims[i]!, at);
    b.writeInt32BE(1, at + 4);
    at += 8;
  }
  for (const e of elements) {
    if (e === null) {
      b.writeInt32BE(-1, at);
      at += 4;
    } else {
      b.writeInt32BE(e.length, at);
      b.set(e, at + 4);
      at += 4 + e.length;
    }
  }
  return b;
}

function outOfRange(type: string): PgError {
  return new PgError(SqlState.DatetimeFieldOverflow, `${type} out of range`);
}
