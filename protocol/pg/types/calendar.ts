// Proleptic Gregorian calendar arithmetic on day numbers, shared by the date/time formatters and parsers.
// DuckDB counts days and microseconds from 1970-01-01; PostgreSQL's binary formats count from 2000-01-01.
// Years are astronomical: year 0 is 1 BC, year -43 is 44 BC.

/** Days from 1970-01-01 to 2000-01-01. */
export const PG_EPOCH_DAYS = 10957;
/** Microseconds from 1970-01-01 to 2000-01-01. */
export const PG_EPOCH_MICROS = 946684800000000n;
export const MICROS_PER_DAY = 86400000000;
export const MICROS_PER_DAY_N = 86400000000n;

/** DuckDB's `infinity` and `-infinity` dates, in days. */
export const DATE_POS_INF = 2147483647;
export const DATE_NEG_INF = -2147483647;
/** DuckDB's `infinity` and `-infinity` timestamps, in any unit. */
export const TIMESTAMP_POS_INF = 9223372036854775807n;
export const TIMESTAMP_NEG_INF = -9223372036854775807n;
export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

/** A calendar date; `year` is astronomical. */
interface CivilDate {
  year: number;
  month: number;
  day: number;
}

/** The calendar date `days` days after 1970-01-01 (Howard Hinnant's civil_from_days). */
export function civilFromDays(days: number): CivilDate {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** Days from 1970-01-01 to the given date (Howard Hinnant's days_from_civil); no range checks. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : MONTH_DAYS[month - 1]!;
}
