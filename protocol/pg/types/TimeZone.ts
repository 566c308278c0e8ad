import { PgError } from '../PgError.js';
import { SqlState } from '../sqlstate.js';

// Intl is slow (microseconds per call), and timestamptz columns run to millions of values, so offsets
// are cached per hour of UTC time. A bucket holding a transition remembers the exact second it happens.
const SECONDS_PER_HOUR = 3600;
// Date's range is ±8.64e15 ms; beyond it a zone's rules are stable: LMT in the past, the final
// recurring rule in the future, which repeats every 400 Gregorian years (146097 days).
// A day inside Date's range, so the local wall time Intl reports is also a valid Date.
const DATE_MIN_SECONDS = -8.64e12 + 86400;
const DATE_MAX_SECONDS = 8.64e12 - 86400;
const FOUR_CENTURIES_SECONDS = 146097 * 86400;
const MAX_CACHED_HOURS = 1 << 16;

interface Transition {
  readonly before: number;
  readonly at: number;
  readonly after: number;
}

type Bucket = number | Transition;

/**
 * A session time zone as PostgreSQL's TimeZone setting names it: an IANA name (`America/New_York`,
 * `UTC`) or a POSIX-style fixed offset (`+02:00`, `UTC+3`, `<+02>-02`). Like PostgreSQL, a POSIX offset
 * counts hours WEST of Greenwich: `+02:00` is two hours behind UTC and renders as `-02`.
 */
export class TimeZone {
  readonly name: string;
  private readonly fixedOffset: number | null;
  private readonly format: Intl.DateTimeFormat | null;
  private readonly buckets = new Map<number, Bucket>();
  private lastHour = Number.NaN;
  private lastBucket: Bucket = 0;

  private constructor(name: string, fixedOffset: number | null, format: Intl.DateTimeFormat | null) {
    this.name = name;
    this.fixedOffset = fixedOffset;
    this.format = format;
  }

  /** A zone at a constant offset, in seconds east of UTC. */
  static fixed(name: string, offsetSeconds: number): TimeZone {
    return new TimeZone(name, offsetSeconds, null);
  }

  /** An IANA zone, or null when Intl does not know the name. */
  static iana(name: string): TimeZone | null {
    try {
      const format = new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
      return new TimeZone(name, null, format);
    } catch {
      return null;
    }
  }

  /** The UTC offset, in seconds east of Greenwich, in force at `utcSeconds` since 1970-01-01 UTC. */
  offsetAt(utcSeconds: number): number {
    if (this.fixedOffset !== null) return this.fixedOffset;
    const hour = Math.floor(utcSeconds / SECONDS_PER_HOUR);
    let bucket: Bucket | undefined;
    if (hour === this.lastHour) bucket = this.lastBucket;
    else {
      bucket = this.buckets.get(hour);
      if (bucket === undefined) {
        bucket = this.computeBucket(hour * SECONDS_PER_HOUR);
        if (this.buckets.size >= MAX_CACHED_HOURS) this.buckets.clear();
        this.buckets.set(hour, bucket);
      }
      this.lastHour = hour;
      this.lastBucket = bucket;
    }
    if (typeof bucket === 'number') return bucket;
    return utcSeconds < bucket.at ? bucket.before : bucket.after;
  }

  /**
   * The UTC instant (seconds) of a wall-clock time in this zone, resolved as PostgreSQL does: a time
   * skipped by a spring-forward transition takes the offset from before it, a time repeated by a
   * fall-back transition takes the offset from after it.
   */
  localToUtc(localSeconds: number): number {
    if (this.fixedOffset !== null) return localSeconds - this.fixedOffset;
    const before = this.offsetAt(localSeconds - 86400);
    const after = this.offsetAt(localSeconds + 86400);
    if (before === after) {
      const guess = localSeconds - before;
      const actual = this.offsetAt(guess);
      return actual === before ? guess : localSeconds - actual;
    }
    const asBefore = localSeconds - before;
    const asAfter = localSeconds - after;
    const beforeValid = this.offsetAt(asBefore) === before;
    const afterValid = this.offsetAt(asAfter) === after;
    if (afterValid) return asAfter;
    if (beforeValid) return asBefore;
    return asBefore;
  }

  private computeBucket(start: number): Bucket {
    const first = this.rawOffset(start);
    const last = this.rawOffset(start + SECONDS_PER_HOUR - 1);
    if (first === last) return first;
    // One transition inside this hour: find its first second by bisection (12 Intl calls, once).
    let lo = start;
    let hi = start + SECONDS_PER_HOUR - 1;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.rawOffset(mid) === first) lo = mid;
      else hi = mid;
    }
    return { before: first, at: hi, after: last };
  }

  private rawOffset(utcSeconds: number): number {
    let t = utcSeconds;
    if (t < DATE_MIN_SECONDS) t = DATE_MIN_SECONDS;
    while (t > DATE_MAX_SECONDS)
      t -= FOUR_CENTURIES_SECONDS * Math.ceil((t - DATE_MAX_SECONDS) / FOUR_CENTURIES_SECONDS);
    let year = 0;
    let month = 0;
    let day = 0;
    let hour = 0;
    let minute = 0;
    let second = 0;
    let bc = false;
    for (const part of this.format!.formatToParts(new Date(t * 1000))) {
      switch (part.type) {
        case 'year':
          year = Number(part.value);
          break;
        case 'month':
          month = Number(part.value);
          break;
        case 'day':
          day = Number(part.value);
          break;
        case 'hour':
          hour = Number(part.value);
          break;
        case 'minute':
          minute = Number(part.value);
          break;
        case 'second':
          second = Number(part.value);
          break;
        case 'era':
          bc = part.value === 'BC' || part.value === 'B';
          break;
        default:
          break;
      }
    }
    const date = new Date(0);
    date.setUTCFullYear(bc ? 1 - year : year, month - 1, day);
    date.setUTCHours(hour, minute, second, 0);
    return date.getTime() / 1000 - t;
  }
}

// POSIX-style offsets: an optional zone abbreviation (`UTC`, `<+02>`), then [+-]hh[:mm[:ss]], west-positive.
const POSIX_OFFSET = /^(?:<[^<>]*>|[A-Za-z]{3,})?([+-]?)(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/;

const zones = new Map<string, TimeZone>();

/**
 * The TimeZone for a PostgreSQL TimeZone setting, cached by name (its offset cache is shared by every
 * session using the zone). Throws PgError 22023 for a name neither Intl nor the POSIX syntax accepts.
 */
export function timeZoneFor(name: string): TimeZone {
  const cached = zones.get(name);
  if (cached !== undefined) return cached;
  const zone = parseTimeZone(name);
  if (zone === null) {
    throw new PgError(SqlState.InvalidParameterValue, `time zone "${name}" not recognized`);
  }
  zones.set(name, zone);
  return zone;
}

function parseTimeZone(name: string): TimeZone | null {
  const trimmed = name.trim();
  // Offsets go before Intl: newer ICU reads `+02:00` as ISO (east-positive), PostgreSQL as POSIX (west).
  const startsNumeric = /^[+-]?\d/.test(trimmed);
  if (!startsNumeric) {
    const iana = TimeZone.iana(trimmed);
    if (iana !== null) return iana;
  }
  const m = POSIX_OFFSET.exec(trimmed);
  if (m === null) return null;
  const hours = Number(m[2]);
  const minutes = m[3] === undefined ? 0 : Number(m[3]);
  const seconds = m[4] === undefined ? 0 : Number(m[4]);
  if (hours > 15 || minutes > 59 || seconds > 59) return null;
  const west = hours * 3600 + minutes * 60 + seconds;
  return TimeZone.fixed(name, m[1] === '-' ? west : -west);
}
