import { PgError } from '../PgError.js';
import { SqlState } from '../sqlstate.js';
import { invalidDatetime } from './inputErrors.js';

// PostgreSQL's interval text input (DecodeInterval / DecodeISO8601Interval) for the forms clients send:
// postgres style (`1 year 2 mons 3 days 04:05:06.789`, `-1 days +02:00:00`, `@ 1 day ago`, `1.5 hours`,
// `10` = ten seconds), SQL standard (`1-2` years-months, `3 4:05:06` days and time) and ISO 8601
// (`P1Y2M3DT4H5M6.5S`, `P1W`, `P0001-02-03T04:05:06`). Fractions spill downward as PostgreSQL's do:
// a fractional month is 30 days, a fractional day 24 hours, a fractional year rounds to months.

/** An interval's three fields, as DuckDB and PostgreSQL both store them. */
export interface IntervalParts {
  months: number;
  days: number;
  micros: bigint;
}

type Unit = 'us' | 'ms' | 's' | 'min' | 'h' | 'd' | 'w' | 'mon' | 'y' | 'dec' | 'c' | 'mil';

const UNITS: Readonly<Record<string, Unit>> = {};
function units(unit: Unit, ...names: string[]): void {
  for (const n of names) (UNITS as Record<string, Unit>)[n] = unit;
}
units('us', 'microsecond', 'microseconds', 'microsecon', 'us', 'usec', 'usecs', 'usecond', 'useconds');
units('ms', 'millisecond', 'milliseconds', 'millisecon', 'ms', 'msec', 'msecs', 'msecond', 'mseconds');
units('s', 'second', 'seconds', 's', 'sec', 'secs');
units('min', 'minute', 'minutes', 'm', 'min', 'mins');
units('h', 'hour', 'hours', 'h', 'hr', 'hrs');
units('d', 'day', 'days', 'd');
units('w', 'week', 'weeks', 'w');
units('mon', 'month', 'months', 'mon', 'mons');
units('y', 'year', 'years', 'y', 'yr', 'yrs');
units('dec', 'decade', 'decades', 'dec', 'decs');
units('c', 'century', 'centuries', 'c', 'cent');
units('mil', 'millennium', 'millennia', 'mil', 'mils');

const MICROS: Partial<Record<Unit, number>> = { us: 1, ms: 1000, s: 1000000, min: 60000000, h: 3600000000 };
const YEARS: Partial<Record<Unit, number>> = { y: 1, dec: 10, c: 100, mil: 1000 };

/** C's rint(): halves to even, as PostgreSQL rounds fractional fields. */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

class Accumulator {
  months = 0;
  days = 0;
  micros = 0n;

  /** Adds `value` (a decimal string, signed) of `unit`. */
  add(value: string, unit: Unit): void {
    const whole = Math.trunc(Number(value));
    const fraction = Number(value) - whole;
    const micro = MICROS[unit];
    if (micro !== undefined) {
      const [intText] = value.split('.');
      this.micros +=
        BigInt(intText === '' || intText === '-' || intText === '+' ? '0' : intText!) * BigInt(micro);
      this.micros += BigInt(rint(fraction * micro));
      return;
    }
    const years = YEARS[unit];
    if (years !== undefined) {
      this.months += whole * 12 * years + rint(fraction * 12 * years);
      return;
    }
    if (unit === 'mon') {
      this.months += whole;
      this.spillDays(fraction * 30);
      return;
    }
    this.spillDays(unit === 'w' ? Number(value) * 7 : Number(value));
  }

  /** Adds `days` (possibly fractional): whole days, then the fraction as time. */
  private spillDays(days: number): void {
    const whole = Math.trunc(days);
    this.days += whole;
    this.micros += BigInt(rint((days - whole) * 86400000000));
  }

  /** Adds a `[+-]H:M[:S[.f]]` time, its sign applying to every part. */
  addTime(token: string): boolean {
    const m = /^([+-]?)(\d+):(\d+)(?::(\d+(?:\.\d*)?))?$/.exec(token);
    if (m === null) return false;
    const seconds = m[4] === undefined ? '0' : m[4];
    const [whole, fraction] = seconds.split('.');
    let micros =
      (BigInt(m[2]!) * 3600n + BigInt(m[3]!) * 60n + BigInt(whole!)) * 1000000n +
      BigInt(fraction === undefined || fraction === '' ? 0 : rint(Number(`0.${fraction}`) * 1000000));
    if (m[1] === '-') micros = -micros;
    this.micros += micros;
    return true;
  }
}

/** interval_in: `{ months, days, micros }`. */
export function parseInterval(text: string): IntervalParts {
  const s = text.trim().toLowerCase();
  if (s === '') throw invalidDatetime('interval', text);
  const acc = new Accumulator();
  const ok = s.startsWith('p') || s.startsWith('-p') ? parseIso(s, acc) : parsePostgres(s, acc);
  if (!ok) throw invalidDatetime('interval', text);
  if (
    Math.abs(acc.months) > 2147483647 ||
    Math.abs(acc.days) > 2147483647 ||
    acc.micros > 9223372036854775807n ||
    acc.micros < -9223372036854775808n
  ) {
    throw new PgError(SqlState.DatetimeFieldOverflow, `interval field value out of range: "${text}"`);
  }
  return { months: acc.months, days: acc.days, micros: acc.micros };
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

function parsePostgres(s: string, acc: Accumulator): boolean {
  let body = s.startsWith('@') ? s.slice(1).trim() : s;
  let ago = false;
  if (body.endsWith(' ago') || body === 'ago') {
    ago = true;
    body = body.slice(0, -3).trim();
  }
  // Split "1day" and "1.5hours" into number and unit, keep "4:05:06" and "1-2" whole.
  const tokens = body.match(/[+-]?\d*\.?\d+(?::\d+)*(?:\.\d*)?(?:-\d+)?|[a-z]+|\S/g) ?? [];
  if (tokens.length === 0) return false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.includes(':')) {
      if (!acc.addTime(t)) return false;
      continue;
    }
    const yearMonth = /^([+-]?)(\d+)-(\d+)$/.exec(t);
    if (yearMonth !== null) {
      const sign = yearMonth[1] === '-' ? -1 : 1;
      acc.add(String(sign * Number(yearMonth[2])), 'y');
      acc.add(String(sign * Number(yearMonth[3])), 'mon');
      continue;
    }
    if (!NUMBER.test(t)) return false;
    const next = tokens[i + 1];
    const unit = next === undefined ? undefined : UNITS[next];
    if (unit !== undefined) {
      acc.add(t, unit);
      i++;
    } else if (next?.includes(':')) {
      // SQL standard "3 4:05:06": a bare number before a time is days.
      acc.add(t, 'd');
    } else if (next === undefined) {
      // A trailing bare number is seconds.
      acc.add(t, 's');
    } else return false;
  }
  if (ago) {
    acc.months = -acc.months;
    acc.days = -acc.days;
    acc.micros = -acc.micros;
  }
  return true;
}

function parseIso(s: string, acc: Accumulator): boolean {
  const negative = s.startsWith('-');
  const body = negative ? s.slice(2) : s.slice(1);
  // Alternative format: P0001-02-03T04:05:06.
  const alt = /^(\d+)-(\d+)-(\d+)(?:t(\d+):(\d+):(\d+(?:\.\d*)?))?$/.exec(body);
  if (alt !== null) {
    acc.add(alt[1]!, 'y');
    acc.add(alt[2]!, 'mon');
    acc.add(alt[3]!, 'd');
    if (alt[4] !== undefined) {
      acc.add(alt[4], 'h');
      acc.add(alt[5]!, 'min');
      acc.add(alt[6]!, 's');
    }
  } else {
    let inTime = false;
    let rest = body;
    if (rest === '') return false;
    while (rest !== '') {
      if (rest[0] === 't') {
        if (inTime) return false;
        inTime = true;
        rest = rest.slice(1);
        continue;
      }
      const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))([ymwdhs])/.exec(rest);
      if (m === null) return false;
      const designator = m[2]!;
      let unit: Unit;
      if (inTime) {
        if (designator === 'h') unit = 'h';
        else if (designator === 'm') unit = 'min';
        else if (designator === 's') unit = 's';
        else return false;
      } else if (designator === 'y') unit = 'y';
      else if (designator === 'm') unit = 'mon';
      else if (designator === 'w') unit = 'w';
      else if (designator === 'd') unit = 'd';
      else return false;
      acc.add(m[1]!, unit);
      rest = rest.slice(m[0].length);
    }
  }
  if (negative) {
    acc.months = -acc.months;
    acc.days = -acc.days;
    acc.micros = -acc.micros;
  }
  return true;
}
