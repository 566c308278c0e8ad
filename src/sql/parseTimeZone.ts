/** A TimeZone setting as PostgreSQL shows it and as Mallard's codecs and DuckDB use it. */
export interface ParsedTimeZone {
  /** What SHOW TimeZone and ParameterStatus say, PostgreSQL's spelling. */
  setting: string;
  /** An IANA name, or a fixed ISO-8601 offset east of UTC such as `+02:00` or `-05:30`. */
  zone: string;
  /** Seconds east of UTC for a fixed offset; null for a named zone. */
  offsetSeconds: number | null;
}

let zoneNames: Map<string, string> | undefined;

/** Canonical IANA spellings keyed by lower case, built once: TimeZone names are case-insensitive. */
function canonicalZoneNames(): Map<string, string> {
  if (zoneNames) return zoneNames;
  zoneNames = new Map();
  // Intl lists only canonical zones; these common links and legacy names are accepted by Intl too.
  const extra = [
    'UTC',
    'GMT',
    'Etc/UTC',
    'Etc/GMT',
    'UCT',
    'Zulu',
    'Universal',
    'Greenwich',
    'EST',
    'MST',
    'HST',
  ];
  for (const name of [...Intl.supportedValuesOf('timeZone'), ...extra])
    zoneNames.set(name.toLowerCase(), name);
  return zoneNames;
}

function intlAccepts(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `+02:00`, `-05:30`, `+01:02:03`: ISO-8601 sign (east positive). */
function isoOffset(secondsEast: number): string {
  const abs = Math.abs(secondsEast);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const s = abs % 60;
  return `${secondsEast < 0 ? '-' : '+'}${two(h)}:${two(m)}${s ? `:${two(s)}` : ''}`;
}

/** PostgreSQL's name for a numeric offset (pg_tzset_offset): `SET TIME ZONE -5` shows `<-05>+05`. */
function pgOffsetName(secondsEast: number): string {
  let abs = Math.abs(secondsEast);
  let text = two(Math.floor(abs / 3600));
  abs %= 3600;
  if (abs !== 0) {
    text += `:${two(Math.floor(abs / 60))}`;
    abs %= 60;
    if (abs !== 0) text += `:${two(abs)}`;
  }
  return secondsEast < 0 ? `<-${text}>+${text}` : `<+${text}>-${text}`;
}

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isLetterCode(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** A decimal number of hours, `-5` or `5.5`: PostgreSQL reads it with ISO sign (east positive). */
function parseHours(v: string): number | null {
  let i = 0;
  if (v[i] === '+' || v[i] === '-') i++;
  let digits = 0;
  let dot = false;
  for (; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (isDigitCode(c)) digits++;
    else if (c === 46 && !dot) dot = true;
    else return null;
  }
  return digits === 0 ? null : Number(v);
}

/** `hh[:mm[:ss]]` with optional sign, returning seconds (sign as written) and where it stopped. */
function parseClock(v: string, start: number): { seconds: number; end: number } | null {
  let i = start;
  let sign = 1;
  if (v[i] === '+' || v[i] === '-') {
    if (v[i] === '-') sign = -1;
    i++;
  }
  const parts: number[] = [];
  for (;;) {
    const from = i;
    while (i < v.length && isDigitCode(v.charCodeAt(i))) i++;
    if (i === from || i - from > 2) return null;
    parts.push(Number(v.slice(from, i)));
    if (parts.length < 3 && v[i] === ':') i++;
    else break;
  }
  const [h = 0, m = 0, s = 0] = parts;
  if (m > 59 || s > 59 || h > 15) return null;
  return { seconds: sign * (h * 3600 + m * 60 + s), end: i };
}

/**
 * A POSIX zone without daylight rules: `UTC+3`, `<+02>-02`, or a bare `+02:00`. POSIX counts hours
 * west of Greenwich, so `UTC+3` is three hours behind UTC, exactly as in PostgreSQL; pgjdbc relies on
 * this when it sends `GMT-02:00` for a zone two hours ahead.
 */
function parsePosix(v: string): number | null {
  let i = 0;
  if (v[0] === '<') {
    const close = v.indexOf('>');
    if (close < 2) return null;
    i = close + 1;
  } else {
    while (i < v.length && isLetterCode(v.charCodeAt(i))) i++;
    if (i > 0 && i < 3) return null;
  }
  const clock = parseClock(v, i);
  if (!clock || clock.end !== v.length) return null;
  return -clock.seconds;
}

/**
 * Parses a TimeZone value the way PostgreSQL's check_timezone does: a number of hours (ISO sign),
 * an IANA name (case-insensitive, validated with Intl), or a POSIX offset (POSIX sign). Returns null
 * when the value is not a time zone. Daylight-saving POSIX rules (`EST5EDT,M3.2.0,...`) are only
 * accepted when the tz database knows the whole name.
 */
export function parseTimeZone(value: string): ParsedTimeZone | null {
  const v = value.trim();
  if (v === '') return null;
  const hours = parseHours(v);
  if (hours !== null) {
    const seconds = Math.round(hours * 3600);
    if (Math.abs(seconds) > 15 * 3600) return null;
    return { setting: pgOffsetName(seconds), zone: isoOffset(seconds), offsetSeconds: seconds };
  }
  const known = canonicalZoneNames().get(v.toLowerCase());
  if (known && intlAccepts(known)) return { setting: known, zone: known, offsetSeconds: null };
  // Intl accepts only letters, digits and `/_+-` in names; anything with `:` or `<` is POSIX.
  if (isLetterCode(v.charCodeAt(0)) && intlAccepts(v)) return { setting: v, zone: v, offsetSeconds: null };
  const east = parsePosix(v);
  if (east === null) return null;
  return { setting: v, zone: isoOffset(east), offsetSeconds: east };
}

/**
 * The DuckDB (ICU) spelling of a zone, or null when ICU has none: ICU knows IANA names and whole-hour
 * `Etc/GMT±h` zones (whose sign is POSIX), but no other fixed offsets.
 */
export function duckdbTimeZone(tz: ParsedTimeZone): string | null {
  if (tz.offsetSeconds === null) return tz.zone;
  if (tz.offsetSeconds === 0) return 'UTC';
  if (tz.offsetSeconds % 3600 !== 0) return null;
  const h = tz.offsetSeconds / 3600;
  if (h > 14 || h < -12) return null;
  return h > 0 ? `Etc/GMT-${h}` : `Etc/GMT+${-h}`;
}
