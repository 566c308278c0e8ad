import { PgError } from '../PgError.js';
import { SqlState } from '../sqlstate.js';
import {
  DATE_NEG_INF,
  DATE_POS_INF,
  daysFromCivil,
  daysInMonth,
  MICROS_PER_DAY,
  MICROS_PER_DAY_N,
  TIMESTAMP_NEG_INF,
  TIMESTAMP_POS_INF,
} from './calendar.js';
import { datetimeOutOfRange, invalidDatetime } from './inputErrors.js';
import { type TimeZone, timeZoneFor } from './TimeZone.js';

// PostgreSQL's date/time text input for the forms clients send (DateStyle ISO, MDY): ISO dates and
// timestamps with ` ` or `T`, `MM/DD/YYYY`, `YYYYMMDD`, `BC`/`AD`, `AM`/`PM`, zone offsets (`Z`,
// `+05`, `-05:30`, `+0530`), zone names (`UTC`, `America/New_York`, a few abbreviations such as
// `EST`), and the special words infinity, -infinity, epoch, now, today, tomorrow, yesterday, allballs.
// An offset inside a timestamp literal is ISO-signed: `+05` is east of Greenwich.

type Kind = 'date' | 'time' | 'time with time zone' | 'timestamp' | 'timestamp with time zone';

/** The session state date/time input depends on. */
export interface DateTimeContext {
  /** The session TimeZone, for timestamptz and timetz literals that name no zone. */
  readonly zone: TimeZone;
  /** The current time, for `now`, `today` and friends; defaults to the clock. */
  readonly nowMicros?: bigint;
}

// Abbreviations PostgreSQL's default timezone_abbreviations set resolves to fixed offsets (hours east).
const ABBREVIATIONS: Readonly<Record<string, number>> = {
  z: 0,
  zulu: 0,
  utc: 0,
  ut: 0,
  gmt: 0,
  est: -5 * 3600,
  edt: -4 * 3600,
  cst: -6 * 3600,
  cdt: -5 * 3600,
  mst: -7 * 3600,
  mdt: -6 * 3600,
  pst: -8 * 3600,
  pdt: -7 * 3600,
  akst: -9 * 3600,
  akdt: -8 * 3600,
  hst: -10 * 3600,
  wet: 0,
  west: 3600,
  cet: 3600,
  cest: 2 * 3600,
  met: 3600,
  mest: 2 * 3600,
  eet: 2 * 3600,
  eest: 3 * 3600,
  msk: 3 * 3600,
  jst: 9 * 3600,
  aest: 10 * 3600,
  aedt: 11 * 3600,
  nzst: 12 * 3600,
  nzdt: 13 * 3600,
};

// Julian day 0 (4714-11-24 BC) to the end of 5874897 AD for dates; timestamps end at 294277-01-01.
const MIN_DAYS = daysFromCivil(-4713, 11, 24);
const MAX_DATE_DAYS = daysFromCivil(5874898, 1, 1) - 1;
const END_TIMESTAMP_DAYS = daysFromCivil(294277, 1, 1);

interface Fields {
  year?: number;
  month?: number;
  day?: number;
  bc: boolean;
  hour?: number;
  minute?: number;
  second?: number;
  micros?: number;
  pm?: boolean;
  offset?: number;
  zone?: TimeZone;
  special?: 'infinity' | '-infinity' | 'epoch' | 'now' | 'today' | 'tomorrow' | 'yesterday' | 'allballs';
}

const DATE_YMD = /^(\d+)-(\d{1,2})-(\d{1,2})$/;
const DATE_MDY = /^(\d{1,2})[-/](\d{1,2})[-/](\d+)$/;
const DATE_YMD_SLASH = /^(\d{3,})\/(\d{1,2})\/(\d{1,2})$/;
const DATE_COMPACT = /^(\d{4,})(\d{2})(\d{2})$/;
const TIME = /^(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d*))?)?(.*)$/;
const OFFSET = /^([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/;
const ISO_T = /^(\d+-\d{1,2}-\d{1,2})t(.+)$/;

/** C's rint(): halves to even. PostgreSQL rounds fractional seconds with it. */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function twoDigitYear(text: string, year: number): number {
  // PostgreSQL reads a one- or two-digit year as 1970–2069.
  if (text.length > 2) return year;
  return year < 70 ? 2000 + year : 1900 + year;
}

function parseOffset(token: string): number | null {
  const m = OFFSET.exec(token);
  if (m === null) return null;
  const hours = Number(m[2]);
  const minutes = m[3] === undefined ? 0 : Number(m[3]);
  const seconds = m[4] === undefined ? 0 : Number(m[4]);
  if (hours > 15 || minutes > 59 || seconds > 59) return null;
  const east = hours * 3600 + minutes * 60 + seconds;
  return m[1] === '-' ? -east : east;
}

function parseFields(text: string, kind: Kind): Fields {
  const s = text.trim().toLowerCase();
  const f: Fields = { bc: false };
  if (s === '') throw invalidDatetime(kind, text);
  const tokens: string[] = [];
  for (const raw of s.split(/\s+/)) {
    const iso = ISO_T.exec(raw);
    if (iso !== null) tokens.push(iso[1]!, iso[2]!);
    else tokens.push(raw);
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    switch (t) {
      case 'infinity':
      case '+infinity':
        f.special = 'infinity';
        continue;
      case '-infinity':
      case 'epoch':
      case 'now':
      case 'today':
      case 'tomorrow':
      case 'yesterday':
      case 'allballs':
        f.special = t;
        continue;
      case 'bc':
        f.bc = true;
        continue;
      case 'ad':
        continue;
      case 'am':
      case 'a.m.':
        f.pm = false;
        continue;
      case 'pm':
      case 'p.m.':
        f.pm = true;
        continue;
      default:
        break;
    }
    let m = DATE_YMD.exec(t);
    if (m !== null && f.year === undefined && m[1]!.length >= 3) {
      f.year = Number(m[1]);
      f.month = Number(m[2]);
      f.day = Number(m[3]);
      continue;
    }
    m = DATE_MDY.exec(t);
    if (m !== null && f.year === undefined) {
      f.month = Number(m[1]);
      f.day = Number(m[2]);
      f.year = twoDigitYear(m[3]!, Number(m[3]));
      continue;
    }
    m =
      DATE_YMD_SLASH.exec(t) ?? (f.year === undefined && f.hour === undefined ? DATE_COMPACT.exec(t) : null);
    if (m !== null && f.year === undefined) {
      f.year = Number(m[1]);
      f.month = Number(m[2]);
      f.day = Number(m[3]);
      continue;
    }
    m = TIME.exec(t);
    if (m !== null && f.hour === undefined) {
      f.hour = Number(m[1]);
      f.minute = Number(m[2]);
      f.second = m[3] === undefined ? 0 : Number(m[3]);
      f.micros = m[4] === undefined || m[4] === '' ? 0 : rint(Number(`0.${m[4]}`) * 1000000);
      const rest = m[5]!;
      if (rest !== '') {
        const offset = rest === 'z' ? 0 : parseOffset(rest);
        if (offset === null) throw invalidDatetime(kind, text);
        f.offset = offset;
      }
      continue;
    }
    const offset = parseOffset(t);
    if (offset !== null && f.offset === undefined && f.zone === undefined) {
      f.offset = offset;
      continue;
    }
    if (/^[a-z]/.test(t) && f.offset === undefined && f.zone === undefined) {
      const abbreviation = ABBREVIATIONS[t];
      if (abbreviation !== undefined) {
        f.offset = abbreviation;
        continue;
      }
      // A zone name: keep the original spelling's case for Intl's sake. PostgreSQL treats an unknown
      // word as bad syntax, but an unknown Area/Location name as an unknown zone (reported lowercased).
      const original =
        text
          .trim()
          .split(/\s+/)
          .find((w) => w.toLowerCase() === t) ?? t;
      try {
        f.zone = timeZoneFor(original);
      } catch (e) {
        if (!(e instanceof PgError)) throw e;
        if (!t.includes('/')) throw invalidDatetime(kind, text);
        throw new PgError(SqlState.InvalidParameterValue, `time zone "${t}" not recognized`);
      }
      continue;
    }
    throw invalidDatetime(kind, text);
  }
  return f;
}

function nowMicros(context: DateTimeContext): bigint {
  return context.nowMicros ?? BigInt(Date.now()) * 1000n;
}

/** Days since 1970-01-01 of the fields' date, range-checked like PostgreSQL. */
function dateDays(f: Fields, text: string, kind: Kind): number {
  if (f.year === undefined) throw invalidDatetime(kind, text);
  const { year, month, day } = f as Required<Pick<Fields, 'year' | 'month' | 'day'>>;
  if (year === 0 || month < 1 || month > 12) throw datetimeOutOfRange(text);
  const astronomical = f.bc ? 1 - year : year;
  if (day < 1 || day > daysInMonth(astronomical, month)) throw datetimeOutOfRange(text);
  return daysFromCivil(astronomical, month, day);
}

/** Microseconds into the day of the fields' time of day (0 when there is none). */
function timeMicros(f: Fields, text: string): number {
  if (f.hour === undefined) return 0;
  let hour = f.hour;
  if (f.pm !== undefined) {
    if (hour < 1 || hour > 12) throw datetimeOutOfRange(text);
    if (f.pm && hour !== 12) hour += 12;
    else if (!f.pm && hour === 12) hour = 0;
  }
  const minute = f.minute!;
  const second = f.second!;
  const micros = f.micros!;
  if (hour > 24 || minute > 59 || second > 60 || (hour === 24 && (minute > 0 || second > 0 || micros > 0))) {
    throw datetimeOutOfRange(text);
  }
  const total = ((hour * 60 + minute) * 60 + second) * 1000000 + micros;
  if (total > MICROS_PER_DAY) throw datetimeOutOfRange(text);
  return total;
}

function localDayOf(context: DateTimeContext): number {
  const now = Number(nowMicros(context) / 1000000n);
  const local = now + context.zone.offsetAt(now);
  return Math.floor(local / 86400);
}

/** date_in: days since 1970-01-01, or DuckDB's ±infinity sentinels. */
export function parseDate(text: string, context: DateTimeContext): number {
  const f = parseFields(text, 'date');
  switch (f.special) {
    case 'infinity':
      return DATE_POS_INF;
    case '-infinity':
      return DATE_NEG_INF;
    case 'epoch':
      return 0;
    case 'now':
    case 'today':
      return localDayOf(context);
    case 'tomorrow':
      return localDayOf(context) + 1;
    case 'yesterday':
      return localDayOf(context) - 1;
    default:
      break;
  }
  const days = dateDays(f, text, 'date');
  if (days < MIN_DAYS || days > MAX_DATE_DAYS) {
    throw new PgError(SqlState.DatetimeFieldOverflow, `date out of range: "${text}"`);
  }
  return days;
}

/** time_in: microseconds since midnight; a zone, if given, is ignored as PostgreSQL ignores it. */
export function parseTime(text: string, context: DateTimeContext): number {
  const f = parseFields(text, 'time');
  if (f.special === 'allballs') return 0;
  if (f.special === 'now') {
    const now = nowMicros(context);
    const local = now + BigInt(context.zone.offsetAt(Number(now / 1000000n))) * 1000000n;
    return Number(((local % MICROS_PER_DAY_N) + MICROS_PER_DAY_N) % MICROS_PER_DAY_N);
  }
  if (f.special !== undefined || f.hour === undefined) throw invalidDatetime('time', text);
  return timeMicros(f, text);
}

/** timetz_in: microseconds since midnight and the zone offset in seconds east of Greenwich. */
export function parseTimetz(text: string, context: DateTimeContext): { micros: number; offset: number } {
  const f = parseFields(text, 'time with time zone');
  if (f.special === 'allballs') return { micros: 0, offset: 0 };
  if (f.special !== undefined || f.hour === undefined) throw invalidDatetime('time with time zone', text);
  const micros = timeMicros(f, text);
  if (f.offset !== undefined) return { micros, offset: f.offset };
  // No offset: the zone's offset on the given date, or today.
  const zone = f.zone ?? context.zone;
  const days = f.year !== undefined ? dateDays(f, text, 'time with time zone') : localDayOf(context);
  const utc = zone.localToUtc(days * 86400 + Math.floor(micros / 1000000));
  return { micros, offset: zone.offsetAt(utc) };
}

function timestampLocal(f: Fields, text: string, kind: Kind, context: DateTimeContext): bigint {
  switch (f.special) {
    case 'epoch':
      return 0n;
    case 'today':
      return BigInt(localDayOf(context)) * MICROS_PER_DAY_N;
    case 'tomorrow':
      return BigInt(localDayOf(context) + 1) * MICROS_PER_DAY_N;
    case 'yesterday':
      return BigInt(localDayOf(context) - 1) * MICROS_PER_DAY_N;
    default:
      break;
  }
  if (f.special !== undefined) throw invalidDatetime(kind, text);
  const days = dateDays(f, text, kind);
  if (days < MIN_DAYS || days >= END_TIMESTAMP_DAYS) {
    throw new PgError(SqlState.DatetimeFieldOverflow, `timestamp out of range: "${text}"`);
  }
  return BigInt(days) * MICROS_PER_DAY_N + BigInt(timeMicros(f, text));
}

/** timestamp_in: microseconds since 1970-01-01; a zone, if given, is ignored as PostgreSQL ignores it. */
export function parseTimestamp(text: string, context: DateTimeContext): bigint {
  const f = parseFields(text, 'timestamp');
  if (f.special === 'infinity') return TIMESTAMP_POS_INF;
  if (f.special === '-infinity') return TIMESTAMP_NEG_INF;
  if (f.special === 'now') {
    const now = nowMicros(context);
    return now + BigInt(context.zone.offsetAt(Number(now / 1000000n))) * 1000000n;
  }
  return timestampLocal(f, text, 'timestamp', context);
}

/**
 * timestamptz_in: UTC microseconds since 1970-01-01. A literal without a zone is local time in the
 * session zone; a named zone is resolved at that local time (DST gaps and overlaps as PostgreSQL does).
 */
export function parseTimestamptz(text: string, context: DateTimeContext): bigint {
  const kind = 'timestamp with time zone';
  const f = parseFields(text, kind);
  if (f.special === 'infinity') return TIMESTAMP_POS_INF;
  if (f.special === '-infinity') return TIMESTAMP_NEG_INF;
  if (f.special === 'now') return nowMicros(context);
  if (f.special === 'epoch') return 0n;
  const local = timestampLocal(f, text, kind, context);
  if (f.offset !== undefined) return local - BigInt(f.offset) * 1000000n;
  const zone = f.zone ?? context.zone;
  const seconds = local / 1000000n - (local % 1000000n < 0n ? 1n : 0n);
  const fraction = local - seconds * 1000000n;
  const utcSeconds = zone.localToUtc(Number(seconds));
  return BigInt(utcSeconds) * 1000000n + fraction;
}
