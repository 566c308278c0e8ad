import { fractionText, pad2 } from './formatDateTime.js';

// PostgreSQL's interval text with IntervalStyle = postgres (EncodeInterval, INTSTYLE_POSTGRES): each
// non-zero field with its own sign, a `+` on a positive field that follows a negative one, and the
// time part as [-+]HH:MM:SS[.ffffff] when non-zero or when nothing else was written.

/** PostgreSQL's text for an interval of `months`, `days` and `micros`. */
export function intervalText(months: number, days: number, micros: bigint): string {
  let out = '';
  let before = false;
  const years = Math.trunc(months / 12);
  const mons = months - years * 12;
  if (years !== 0) {
    out = `${years} ${years === 1 ? 'year' : 'years'}`;
    before = years < 0;
  }
  if (mons !== 0) {
    out += `${out === '' ? '' : ' '}${before && mons > 0 ? '+' : ''}${mons} ${mons === 1 ? 'mon' : 'mons'}`;
    before = mons < 0;
  }
  if (days !== 0) {
    out += `${out === '' ? '' : ' '}${before && days > 0 ? '+' : ''}${days} ${days === 1 ? 'day' : 'days'}`;
    before = days < 0;
  }
  if (out === '' || micros !== 0n) {
    const negative = micros < 0n;
    const sign = negative ? '-' : before ? '+' : '';
    out += `${out === '' ? '' : ' '}${sign}${timeText(negative ? -micros : micros)}`;
  }
  return out;
}

/** `HH:MM:SS[.ffffff]` for a non-negative duration; hours may exceed 24 (`100:00:00`). */
function timeText(micros: bigint): string {
  const n = Number(micros);
  let hours: number | bigint;
  let rest: number;
  if (n < 9007199254740991) {
    hours = Math.floor(n / 3600000000);
    rest = n - hours * 3600000000;
  } else {
    hours = micros / 3600000000n;
    rest = Number(micros - hours * 3600000000n);
  }
  const seconds = Math.floor(rest / 1000000);
  const minute = Math.floor(seconds / 60);
  const second = seconds - minute * 60;
  const hh = typeof hours === 'number' && hours < 100 ? pad2(hours) : String(hours);
  return `${hh}:${pad2(minute)}:${pad2(second)}${fractionText(rest - seconds * 1000000)}`;
}
