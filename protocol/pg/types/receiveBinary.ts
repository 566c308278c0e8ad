import {
  DATE_NEG_INF,
  DATE_POS_INF,
  PG_EPOCH_DAYS,
  PG_EPOCH_MICROS,
  TIMESTAMP_NEG_INF,
  TIMESTAMP_POS_INF,
} from './calendar.js';
import type { NumericInput } from './parseNumber.js';

// PostgreSQL's binary receive formats (the typreceive functions), read into plain JS values. Each
// returns null when the bytes do not have the format's shape; the caller raises 22P03.

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** int2, int4 or int8 by length (clients pick the width they declared). */
export function receiveInteger(b: Uint8Array, unsigned32 = false): bigint | null {
  const v = view(b);
  switch (b.length) {
    case 2:
      return BigInt(v.getInt16(0));
    case 4:
      return BigInt(unsigned32 ? v.getUint32(0) : v.getInt32(0));
    case 8:
      return v.getBigInt64(0);
    default:
      return null;
  }
}

/** float4 or float8 by length. */
export function receiveFloat(b: Uint8Array): number | null {
  if (b.length === 4) return view(b).getFloat32(0);
  if (b.length === 8) return view(b).getFloat64(0);
  return null;
}

/**
 * numeric_recv: ndigits, weight, sign, dscale, base-10000 digits. Digits below dscale are truncated
 * away as PostgreSQL does.
 */
export function receiveNumeric(b: Uint8Array): NumericInput | null {
  if (b.length < 8) return null;
  const v = view(b);
  const ndigits = v.getInt16(0);
  const weight = v.getInt16(2);
  const sign = v.getUint16(4);
  const dscale = v.getInt16(6);
  if (ndigits < 0 || b.length !== 8 + ndigits * 2 || dscale < 0 || dscale > 0x3fff) return null;
  if (sign === 0xc000) return { kind: 'nan' };
  if (sign === 0xd000) return { kind: 'infinity' };
  if (sign === 0xf000) return { kind: '-infinity' };
  if (sign !== 0x0000 && sign !== 0x4000) return null;
  let n = 0n;
  for (let i = 0; i < ndigits; i++) {
    const d = v.getInt16(8 + i * 2);
    if (d < 0 || d > 9999) return null;
    n = n * 10000n + BigInt(d);
  }
  // value = n * 10^exponent
  const exponent = 4 * (weight - ndigits + 1);
  let unscaled: bigint;
  if (exponent >= 0) unscaled = n * 10n ** BigInt(exponent + dscale);
  else if (-exponent <= dscale) unscaled = n * 10n ** BigInt(dscale + exponent);
  else unscaled = n / 10n ** BigInt(-exponent - dscale);
  return { kind: 'finite', unscaled: sign === 0x4000 ? -unscaled : unscaled, scale: dscale };
}

/** date_recv → days since 1970-01-01 (DuckDB's ±infinity for INT32_MAX / INT32_MIN). */
export function receiveDate(b: Uint8Array): number | null {
  if (b.length !== 4) return null;
  const pg = view(b).getInt32(0);
  if (pg === 2147483647) return DATE_POS_INF;
  if (pg === -2147483648) return DATE_NEG_INF;
  return pg + PG_EPOCH_DAYS;
}

/** time_recv → microseconds since midnight. */
export function receiveTime(b: Uint8Array): number | null {
  if (b.length !== 8) return null;
  const micros = view(b).getBigInt64(0);
  if (micros < 0n || micros > 86400000000n) return null;
  return Number(micros);
}

/** timetz_recv → microseconds since midnight and the offset in seconds EAST of Greenwich. */
export function receiveTimetz(b: Uint8Array): { micros: number; offset: number } | null {
  if (b.length !== 12) return null;
  const v = view(b);
  const micros = v.getBigInt64(0);
  const west = v.getInt32(8);
  if (micros < 0n || micros > 86400000000n || west < -57599 || west > 57599) return null;
  return { micros: Number(micros), offset: west === 0 ? 0 : -west };
}

/** timestamp_recv / timestamptz_recv → microseconds since 1970-01-01 (UTC for timestamptz). */
export function receiveTimestamp(b: Uint8Array): bigint | null {
  if (b.length !== 8) return null;
  const pg = view(b).getBigInt64(0);
  if (pg === 9223372036854775807n) return TIMESTAMP_POS_INF;
  if (pg === -9223372036854775808n) return TIMESTAMP_NEG_INF;
  return pg + PG_EPOCH_MICROS;
}

/** interval_recv → months, days, microseconds. */
export function receiveInterval(b: Uint8Array): { months: number; days: number; micros: bigint } | null {
  if (b.length !== 16) return null;
  const v = view(b);
  return { micros: v.getBigInt64(0), days: v.getInt32(8), months: v.getInt32(12) };
}

/** uuid_recv → the UUID as an unsigned 128-bit integer. */
export function receiveUuid(b: Uint8Array): bigint | null {
  if (b.length !== 16) return null;
  const v = view(b);
  return (v.getBigUint64(0) << 64n) | v.getBigUint64(8);
}

/** varbit_recv / bit_recv → the bits, most significant first. */
export function receiveVarbit(b: Uint8Array): number[] | null {
  if (b.length < 4) return null;
  const length = view(b).getInt32(0);
  if (length < 0 || b.length !== 4 + Math.ceil(length / 8)) return null;
  const bits: number[] = [];
  for (let i = 0; i < length; i++) bits.push((b[4 + (i >> 3)]! >> (7 - (i & 7))) & 1);
  return bits;
}

/** An array's send format, unpacked: dimensions and element bytes (null for NULL), row-major. */
export interface ReceivedArray {
  readonly elementOid: number;
  readonly dims: readonly number[];
  readonly elements: readonly (Uint8Array | null)[];
}

/** array_recv's framing: ndim, flags, element OID, (length, lower bound) per dimension, elements. */
export function receiveArray(b: Uint8Array): ReceivedArray | null {
  if (b.length < 12) return null;
  const v = view(b);
  const ndim = v.getInt32(0);
  const flags = v.getInt32(4);
  const elementOid = v.getUint32(8);
  if (ndim < 0 || ndim > 6 || (flags !== 0 && flags !== 1)) return null;
  let at = 12;
  const dims: number[] = [];
  let count = ndim === 0 ? 0 : 1;
  for (let i = 0; i < ndim; i++) {
    if (at + 8 > b.length) return null;
    const n = v.getInt32(at);
    if (n < 0) return null;
    dims.push(n);
    count *= n;
    at += 8;
  }
  const elements: (Uint8Array | null)[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 4 > b.length) return null;
    const len = v.getInt32(at);
    at += 4;
    if (len === -1) {
      elements.push(null);
      continue;
    }
    if (len < 0 || at + len > b.length) return null;
    elements.push(b.subarray(at, at + len));
    at += len;
  }
  if (at !== b.length) return null;
  return { elementOid, dims, elements };
}
