import {
  civilFromDays,
  DATE_NEG_INF,
  DATE_POS_INF,
  MICROS_PER_DAY,
  MICROS_PER_DAY_N,
  TIMESTAMP_NEG_INF,
  TIMESTAMP_POS_INF,
} from './calendar.js';
import type { TimeZone } from './TimeZone.js';

// PostgreSQL's date/time text output with DateStyle ISO: `YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM[:SS]]][ BC]`.

const TWO_DIGITS: string[] = [];
for (let i = 0; i < 100; i++) TWO_DIGITS.push(i < 10 ? `0${i}` : String(i));

/** Zero-pads 0..99 to two digits without allocating. */
export function pad2(n: number): string {
  return TWO_DIGITS[n]!;
}

function pad4(n: number): string {
  if (n >= 1000) return String(n);
  if (n >= 100) return `0${n}`;
  if (n >= 10) return `00${n}`;
  return `000${n}`;
}

/** `.ffffff` with trailing zeros trimmed, or '' for a whole second. */
export function fractionText(micros: number): string {
  if (micros === 0) return '';
  let s = String(micros + 1000000).slice(1);
  let end = 6;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (end < 6) s = s.slice(0, end);
  return `.${s}`;
}

/** `HH:MM:SS[.ffffff]` for microseconds into a day (0 to 24:00:00 inclusive). */
export function timeOfDayText(micros: number): string {
  const seconds = Math.floor(micros / 1000000);
  const fraction = micros - seconds * 1000000;
  const hour = Math.floor(seconds / 3600);
  const minute = Math.floor((seconds - hour * 3600) / 60);
  const second = seconds - hour * 3600 - minute * 60;
  const hh = hour < 100 ? pad2(hour) : String(hour);
  return `${hh}:${pad2(minute)}:${pad2(second)}${fractionText(fraction)}`;
}

let lastDays = Number.NaN;
let lastYmd = '';
let lastBc = false;

/** `YYYY-MM-DD` for a day number; `bc` is set when the year is before 1 AD. Memoizes the last day. */
function ymd(days: number): string {
  if (days === lastDays) return lastYmd;
  const { year, month, day } = civilFromDays(days);
  const bc = year <= 0;
  lastDays = days;
  lastBc = bc;
  lastYmd = `${pad4(bc ? 1 - year : year)}-${pad2(month)}-${pad2(day)}`;
  return lastYmd;
}

/** PostgreSQL's text for a DuckDB DATE (days since 1970-01-01). */
export function dateText(days: number): string {
  if (days === DATE_POS_INF) return 'infinity';
  if (days === DATE_NEG_INF) return '-infinity';
  const s = ymd(days);
  return lastBc ? `${s} BC` : s;
}

/** PostgreSQL's text for a TIME (microseconds since midnight). */
export function timeText(micros: number): string {
  return timeOfDayText(micros);
}

/**
 * The `+HH[:MM[:SS]]` suffix PostgreSQL writes for a UTC offset given in seconds east of Greenwich.
 * Cached: a column sees only a handful of distinct offsets.
 */
export function offsetText(offsetSeconds: number): string {
  let s = offsetCache.get(offsetSeconds);
  if (s === undefined) {
    const abs = Math.abs(offsetSeconds);
    const hours = Math.floor(abs / 3600);
    const minutes = Math.floor((abs % 3600) / 60);
    const seconds = abs % 60;
    s = `${offsetSeconds < 0 ? '-' : '+'}${pad2(hours)}`;
    if (minutes !== 0 || seconds !== 0) s += `:${pad2(minutes)}`;
    if (seconds !== 0) s += `:${pad2(seconds)}`;
    offsetCache.set(offsetSeconds, s);
  }
  return s;
}
const offsetCache = new Map<number, string>();

/** PostgreSQL's text for a TIMETZ: time of day and the offset, seconds east of Greenwich. */
export function timetzText(micros: number, offsetSeconds: number): string {
  return timeOfDayText(micros) + offsetText(offsetSeconds);
}

/**
 * Text of a timestamp given as microseconds since 1970-01-01 in local time, with `suffix` (the zone
 * offset, or '') placed before the era as PostgreSQL does: `0044-03-15 07:03:58-04:56:02 BC`.
 */
function localTimestampText(micros: bigint | number, suffix: string): string {
  let days: number;
  let rest: number;
  const n = typeof micros === 'number' ? micros : Number(micros);
  if (n > -9007199254740991 && n < 9007199254740991) {
    days = Math.floor(n / MICROS_PER_DAY);
    rest = n - days * MICROS_PER_DAY;
  } else {
    const m = BigInt(micros);
    let d = m / MICROS_PER_DAY_N;
    let r = m - d * MICROS_PER_DAY_N;
    if (r < 0n) {
      d -= 1n;
      r += MICROS_PER_DAY_N;
    }
    days = Number(d);
    rest = Number(r);
  }
  const date = ymd(days);
  const text = `${date} ${timeOfDayText(rest)}${suffix}`;
  return lastBc ? `${text} BC` : text;
}

/** PostgreSQL's text for a TIMESTAMP (microseconds since 1970-01-01). */
export function timestampText(micros: bigint): string {
  if (micros === TIMESTAMP_POS_INF) return 'infinity';
  if (micros === TIMESTAMP_NEG_INF) return '-infinity';
  return localTimestampText(micros, '');
}

/** PostgreSQL's text for a TIMESTAMPTZ (UTC microseconds since 1970-01-01), shown in `zone`. */
export function timestamptzText(micros: bigint, zone: TimeZone): string {
  if (micros === TIMESTAMP_POS_INF) return 'infinity';
  if (micros === TIMESTAMP_NEG_INF) return '-infinity';
  const n = Number(micros);
  const offset = zone.offsetAt(Math.floor(n / 1000000));
  // Leave room for the offset so the local time stays an exact number.
  if (n > -9007000000000000 && n < 9007000000000000) {
    return localTimestampText(n + offset * 1000000, offsetText(offset));
  }
  return localTimestampText(micros + BigInt(offset) * 1000000n, offsetText(offset));
}
