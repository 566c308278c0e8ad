// Byte-level differential: every case runs on the selected target and on a throwaway PostgreSQL 15, and
// the RowDescription (names, type OIDs, typlen, typmod) and the DataRow bytes must be identical in text
// format (node-postgres with parsing turned off, simple and extended protocol) and in binary format (the
// small raw-protocol client below, which asks for result format 1). With MALLARD_TEST_TARGET=postgres
// both sides are PostgreSQL, which checks the harness itself; the pinned expectations on some cases keep
// it honest when both sides agree. All SQL is accepted by both PostgreSQL and DuckDB; casts are explicit
// wherever the two would otherwise pick different types (DuckDB's 1.5 is DECIMAL(2,1), its / on integers
// is a double).
import { connect as connectTcp, type Socket } from 'node:net';
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startPostgres } from '../helpers/postgres.js';
import { type RunningTarget, startTarget } from '../helpers/targets.js';

const TIMEOUT_MS = 15_000;

/** One RowDescription field, every attribute the protocol carries. */
interface Field {
  name: string;
  tableOid: number;
  column: number;
  typeOid: number;
  typlen: number;
  typmod: number;
  format: number;
}

/** What a statement produced: columns and rows (text as strings, binary as hex), or the error's SQLSTATE. */
type Outcome = { fields: Field[]; rows: (string | null)[][] } | { error: string };

interface Case {
  name: string;
  sql: string;
  /** Sent as text-format parameters of unspecified type, so the server infers them. */
  params?: string[];
  /** SET TimeZone before the case; UTC when absent. */
  timeZone?: string;
  /**
   * False only where DuckDB cannot represent the PostgreSQL type: it has a single VARCHAR and drops the
   * length, so varchar(n) and char(n) come back as some string type. The bytes must still match.
   */
  compareTypes?: false;
  /** PostgreSQL's answer, pinned: proves the harness reads what it claims even when both sides agree. */
  pin?: { oids?: number[]; text?: (string | null)[]; binary?: (string | null)[]; error?: string };
}

// Pinned binary values are built here from first principles (two's complement, IEEE 754, days and
// microseconds since 2000-01-01), independently of any server.

function twos(bytes: number, value: bigint): string {
  return BigInt.asUintN(bytes * 8, value)
    .toString(16)
    .padStart(bytes * 2, '0');
}
const i16 = (n: number): string => twos(2, BigInt(n));
const i32 = (n: number): string => twos(4, BigInt(n));
const i64 = (n: bigint): string => twos(8, n);

function f32(n: number): string {
  const b = Buffer.alloc(4);
  b.writeFloatBE(n);
  return b.toString('hex');
}

function f64(n: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return b.toString('hex');
}

const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

/** Microseconds since 1970 for a proleptic Gregorian UTC time; year 0 is 1 BC (astronomical numbering). */
function unixMicros(year: number, month: number, day: number, h = 0, m = 0, s = 0, us = 0): bigint {
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(h, m, s, 0);
  return BigInt(d.getTime()) * 1000n + BigInt(us);
}

const PG_EPOCH = unixMicros(2000, 1, 1);
const DAY = 86_400_000_000n;
const date = (year: number, month: number, day: number): string =>
  i32(Number((unixMicros(year, month, day) - PG_EPOCH) / DAY));
const timestamp = (...at: Parameters<typeof unixMicros>): string => i64(unixMicros(...at) - PG_EPOCH);
const time = (h: number, m: number, s: number, us = 0): string =>
  i64(BigInt((h * 60 + m) * 60 + s) * 1_000_000n + BigInt(us));
/** interval send format: microseconds (int8), days (int4), months (int4). */
const interval = (micros: bigint, days: number, months: number): string =>
  i64(micros) + i32(days) + i32(months);
const SECOND = 1_000_000n;
const HOUR = 3600n * SECOND;

/** numeric send format: ndigits, weight, sign (0 or 0x4000), dscale, base-10000 digits. */
function numeric(weight: number, negative: boolean, dscale: number, digits: number[]): string {
  return (
    i16(digits.length) + i16(weight) + i16(negative ? 0x4000 : 0) + i16(dscale) + digits.map(i16).join('')
  );
}

/** One-dimensional array send format with lower bound 1; elements already encoded (null for NULL). */
function array1d(elementOid: number, elements: (string | null)[]): string {
  const header =
    i32(1) + i32(elements.includes(null) ? 1 : 0) + i32(elementOid) + i32(elements.length) + i32(1);
  return header + elements.map((e) => (e === null ? i32(-1) : i32(e.length / 2) + e)).join('');
}

const CASES: Case[] = [
  {
    name: 'bool',
    sql: 'SELECT true AS t, false AS f, CAST(NULL AS boolean) AS n',
    pin: { oids: [16, 16, 16], text: ['t', 'f', null], binary: ['01', '00', null] },
  },
  {
    name: 'int2',
    sql: 'SELECT CAST(-32768 AS int2) AS lo, CAST(32767 AS int2) AS hi, CAST(-1 AS int2) AS neg, CAST(NULL AS int2) AS n',
    pin: {
      oids: [21, 21, 21, 21],
      text: ['-32768', '32767', '-1', null],
      binary: [i16(-32768), i16(32767), i16(-1), null],
    },
  },
  {
    name: 'int4',
    sql: 'SELECT CAST(-2147483648 AS int4) AS lo, CAST(2147483647 AS int4) AS hi, CAST(0 AS int4) AS zero',
    pin: {
      oids: [23, 23, 23],
      text: ['-2147483648', '2147483647', '0'],
      binary: [i32(-2147483648), i32(2147483647), i32(0)],
    },
  },
  {
    name: 'int8',
    sql: 'SELECT CAST(-9223372036854775808 AS int8) AS lo, CAST(9223372036854775807 AS int8) AS hi, CAST(-42 AS int8) AS neg',
    pin: {
      oids: [20, 20, 20],
      text: ['-9223372036854775808', '9223372036854775807', '-42'],
      binary: [i64(-(2n ** 63n)), i64(2n ** 63n - 1n), i64(-42n)],
    },
  },
  {
    name: 'float4: shortest round trip and specials',
    sql:
      "SELECT CAST(0.1 AS float4) AS tenth, CAST(-1.5 AS float4) AS neg, CAST('NaN' AS float4) AS nan," +
      " CAST('Infinity' AS float4) AS inf, CAST('-Infinity' AS float4) AS ninf, CAST('-0' AS float4) AS nzero," +
      ' CAST(3.4028235e38 AS float4) AS max, CAST(1e-45 AS float4) AS tiny, CAST(16777217 AS float4) AS rounded',
    pin: {
      oids: [700, 700, 700, 700, 700, 700, 700, 700, 700],
      text: ['0.1', '-1.5', 'NaN', 'Infinity', '-Infinity', '-0', '3.4028235e+38', '1e-45', '1.6777216e+07'],
      binary: [0.1, -1.5, Number.NaN, Infinity, -Infinity, -0, 3.4028235e38, 1e-45, 16777216].map(f32),
    },
  },
  {
    name: 'float8: shortest round trip and specials',
    sql:
      "SELECT CAST(0.1 AS float8) AS tenth, CAST(1e100 AS float8) AS big, CAST(-1e-300 AS float8) AS small, CAST('NaN' AS float8) AS nan," +
      " CAST('Infinity' AS float8) AS inf, CAST('-Infinity' AS float8) AS ninf, CAST('-0' AS float8) AS nzero," +
      ' CAST(1.7976931348623157e308 AS float8) AS max, CAST(5e-324 AS float8) AS denorm,' +
      ' CAST(1 AS float8) / CAST(3 AS float8) AS third, CAST(123456789.125 AS float8) AS exact, CAST(1e15 AS float8) AS e15, CAST(1e16 AS float8) AS e16',
    pin: {
      oids: [701, 701, 701, 701, 701, 701, 701, 701, 701, 701, 701, 701, 701],
      text: [
        '0.1',
        '1e+100',
        '-1e-300',
        'NaN',
        'Infinity',
        '-Infinity',
        '-0',
        '1.7976931348623157e+308',
        '5e-324',
        '0.3333333333333333',
        '123456789.125',
        '1e+15',
        '1e+16',
      ],
      binary: [
        0.1,
        1e100,
        -1e-300,
        Number.NaN,
        Infinity,
        -Infinity,
        -0,
        Number.MAX_VALUE,
        5e-324,
        1 / 3,
        123456789.125,
        1e15,
        1e16,
      ].map(f64),
    },
  },
  {
    name: 'numeric: scales, zero, rounding, 38 digits',
    sql:
      'SELECT CAST(-123.45 AS numeric(10,3)) AS scaled, CAST(0 AS numeric(10,2)) AS zero, CAST(0.0001 AS numeric(10,4)) AS frac,' +
      ' CAST(10000 AS numeric(10,0)) AS tenk, CAST(12345678901234567890.123456 AS numeric(38,6)) AS big,' +
      ' CAST(99999999999999999999999999999999999999 AS numeric(38,0)) AS max38, CAST(-0.5 AS numeric(3,1)) AS half,' +
      ' CAST(1.5 AS numeric(18,0)) AS rounded, CAST(NULL AS numeric(5,2)) AS n',
    pin: {
      oids: [1700, 1700, 1700, 1700, 1700, 1700, 1700, 1700, 1700],
      text: [
        '-123.450',
        '0.00',
        '0.0001',
        '10000',
        '12345678901234567890.123456',
        '99999999999999999999999999999999999999',
        '-0.5',
        '2',
        null,
      ],
      // Trailing zero base-10000 digits are not sent; dscale keeps the declared scale.
      binary: [
        numeric(0, true, 3, [123, 4500]),
        numeric(0, false, 2, []),
        numeric(-1, false, 4, [1]),
        numeric(1, false, 0, [1]),
        numeric(4, false, 6, [1234, 5678, 9012, 3456, 7890, 1234, 5600]),
        numeric(9, false, 0, [99, 9999, 9999, 9999, 9999, 9999, 9999, 9999, 9999, 9999]),
        numeric(-1, true, 1, [5000]),
        numeric(0, false, 0, [2]),
        null,
      ],
    },
  },
  {
    name: 'text: multibyte UTF-8, tab, backslash, empty',
    sql: "SELECT CAST('héllo 世界 🦆' AS text) AS utf8, 'a' || chr(9) || 'b' AS tab, CAST('back\\slash' AS text) AS bs, CAST('' AS text) AS empty, CAST(NULL AS text) AS n",
    pin: {
      oids: [25, 25, 25, 25, 25],
      text: ['héllo 世界 🦆', 'a\tb', 'back\\slash', '', null],
      binary: [utf8('héllo 世界 🦆'), utf8('a\tb'), utf8('back\\slash'), '', null],
    },
  },
  {
    name: 'varchar(n) and char(n): values only',
    sql: "SELECT CAST('abc' AS varchar(10)) AS v, CAST('ab' AS char(2)) AS c",
    compareTypes: false,
    pin: { oids: [1043, 1042], text: ['abc', 'ab'], binary: [utf8('abc'), utf8('ab')] },
  },
  {
    name: 'bytea with zero bytes',
    sql: "SELECT CAST('\\x00' AS bytea) || CAST('ab' AS bytea) || CAST('\\xff' AS bytea) AS mixed, CAST('' AS bytea) AS empty, CAST('\\x00' AS bytea) AS zero",
    pin: { oids: [17, 17, 17], text: ['\\x006162ff', '\\x', '\\x00'], binary: ['006162ff', '', '00'] },
  },
  {
    name: 'date: BC and infinity',
    sql:
      "SELECT DATE '2024-02-29' AS leap, DATE '1970-01-01' AS epoch, DATE '2000-01-01' AS pg_epoch, DATE '0001-01-01' - 1 AS one_bc," +
      " DATE '2000-01-01' - 800000 AS bc192, DATE '9999-12-31' AS last, CAST('infinity' AS date) AS inf, CAST('-infinity' AS date) AS ninf",
    pin: {
      oids: [1082, 1082, 1082, 1082, 1082, 1082, 1082, 1082],
      text: [
        '2024-02-29',
        '1970-01-01',
        '2000-01-01',
        '0001-12-31 BC',
        '0192-09-04 BC',
        '9999-12-31',
        'infinity',
        '-infinity',
      ],
      binary: [
        date(2024, 2, 29),
        date(1970, 1, 1),
        date(2000, 1, 1),
        date(0, 12, 31),
        i32(-800000),
        date(9999, 12, 31),
        i32(2147483647),
        i32(-2147483648),
      ],
    },
  },
  {
    name: 'time with microseconds',
    sql: "SELECT TIME '00:00:00' AS midnight, TIME '23:59:59.999999' AS last, TIME '12:34:56.5' AS half",
    pin: {
      oids: [1083, 1083, 1083],
      text: ['00:00:00', '23:59:59.999999', '12:34:56.5'],
      binary: [time(0, 0, 0), time(23, 59, 59, 999999), time(12, 34, 56, 500000)],
    },
  },
  {
    name: 'timestamp: microseconds, before 1970 and 2000, BC, infinity',
    sql:
      "SELECT TIMESTAMP '2024-01-02 03:04:05.123456' AS micro, TIMESTAMP '1969-12-31 23:59:59.999999' AS pre_epoch," +
      " TIMESTAMP '2000-01-01 00:00:00' AS pg_epoch, TIMESTAMP '2000-01-01 00:00:00.000001' AS one_us," +
      " TIMESTAMP '0001-01-01 00:00:00' - INTERVAL '1 day' AS one_bc, TIMESTAMP '0001-01-01 00:00:00' - INTERVAL '400 years' AS bc400," +
      " CAST('infinity' AS timestamp) AS inf",
    pin: {
      oids: [1114, 1114, 1114, 1114, 1114, 1114, 1114],
      text: [
        '2024-01-02 03:04:05.123456',
        '1969-12-31 23:59:59.999999',
        '2000-01-01 00:00:00',
        '2000-01-01 00:00:00.000001',
        '0001-12-31 00:00:00 BC',
        '0400-01-01 00:00:00 BC',
        'infinity',
      ],
      binary: [
        timestamp(2024, 1, 2, 3, 4, 5, 123456),
        timestamp(1969, 12, 31, 23, 59, 59, 999999),
        timestamp(2000, 1, 1),
        timestamp(2000, 1, 1, 0, 0, 0, 1),
        timestamp(0, 12, 31),
        timestamp(-399, 1, 1),
        i64(2n ** 63n - 1n),
      ],
    },
  },
  {
    name: 'timestamptz in UTC',
    sql: "SELECT TIMESTAMPTZ '2024-07-01 12:00:00.123456+00' AS utc, TIMESTAMPTZ '2024-07-01 12:00:00+05:30' AS offset_in, CAST('-infinity' AS timestamptz) AS ninf",
    pin: {
      oids: [1184, 1184, 1184],
      text: ['2024-07-01 12:00:00.123456+00', '2024-07-01 06:30:00+00', '-infinity'],
      binary: [timestamp(2024, 7, 1, 12, 0, 0, 123456), timestamp(2024, 7, 1, 6, 30), i64(-(2n ** 63n))],
    },
  },
  {
    name: 'timestamptz in America/New_York: DST, standard time, local mean time',
    sql:
      "SELECT TIMESTAMPTZ '2024-07-01 12:00:00+00' AS summer, TIMESTAMPTZ '2024-01-15 12:00:00.5+00' AS winter," +
      " TIMESTAMPTZ '1883-11-18 12:00:00+00' AS lmt, TIMESTAMPTZ '2024-03-10 07:00:00+00' AS dst_start",
    timeZone: 'America/New_York',
    pin: {
      text: [
        '2024-07-01 08:00:00-04',
        '2024-01-15 07:00:00.5-05',
        '1883-11-18 07:03:58-04:56:02',
        '2024-03-10 03:00:00-04',
      ],
      // Binary timestamptz is UTC whatever the session time zone.
      binary: [
        timestamp(2024, 7, 1, 12),
        timestamp(2024, 1, 15, 12, 0, 0, 500000),
        timestamp(1883, 11, 18, 12),
        timestamp(2024, 3, 10, 7),
      ],
    },
  },
  {
    name: 'timestamptz in Asia/Kolkata: half-hour offset',
    sql: "SELECT TIMESTAMPTZ '2024-07-01 12:00:00+00' AS t, TIMESTAMPTZ '1999-12-31 20:00:00.000001+00' AS y2k",
    timeZone: 'Asia/Kolkata',
    pin: {
      text: ['2024-07-01 17:30:00+05:30', '2000-01-01 01:30:00.000001+05:30'],
      binary: [timestamp(2024, 7, 1, 12), timestamp(1999, 12, 31, 20, 0, 0, 1)],
    },
  },
  {
    name: 'interval: months, days and time mixed, negatives',
    sql:
      "SELECT INTERVAL '1 year 2 months 3 days 04:05:06.789' AS mixed, INTERVAL '-1 months 2 days -03:00:00' AS signs," +
      " INTERVAL '-1 days -00:00:00.000001' AS neg_us, INTERVAL '0 seconds' AS zero, INTERVAL '1 year' * -1 AS neg_year," +
      " INTERVAL '27 hours' AS hours, INTERVAL '1.5 days' AS frac_days, INTERVAL '-2 years -3 months' AS neg_ym",
    pin: {
      oids: [1186, 1186, 1186, 1186, 1186, 1186, 1186, 1186],
      text: [
        '1 year 2 mons 3 days 04:05:06.789',
        '-1 mons +2 days -03:00:00',
        '-1 days -00:00:00.000001',
        '00:00:00',
        '-1 years',
        '27:00:00',
        '1 day 12:00:00',
        '-2 years -3 mons',
      ],
      binary: [
        interval(4n * HOUR + 5n * 60n * SECOND + 6_789_000n, 3, 14),
        interval(-3n * HOUR, 2, -1),
        interval(-1n, -1, 0),
        interval(0n, 0, 0),
        interval(0n, 0, -12),
        interval(27n * HOUR, 0, 0),
        interval(12n * HOUR, 1, 0),
        interval(0n, 0, -27),
      ],
    },
  },
  {
    name: 'uuid, including the extremes DuckDB stores with a flipped sign bit',
    sql:
      "SELECT CAST('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' AS uuid) AS u, CAST('00000000-0000-0000-0000-000000000000' AS uuid) AS lo," +
      " CAST('ffffffff-ffff-ffff-ffff-ffffffffffff' AS uuid) AS hi, CAST('7fffffff-0000-0000-0000-000000000001' AS uuid) AS mid",
    pin: {
      oids: [2950, 2950, 2950, 2950],
      text: [
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        '00000000-0000-0000-0000-000000000000',
        'ffffffff-ffff-ffff-ffff-ffffffffffff',
        '7fffffff-0000-0000-0000-000000000001',
      ],
      binary: [
        'a0eebc999c0b4ef8bb6d6bb9bd380a11',
        '00000000000000000000000000000000',
        'ffffffffffffffffffffffffffffffff',
        '7fffffff000000000000000000000001',
      ],
    },
  },
  {
    name: 'json',
    sql: 'SELECT CAST(\'{"a": [1, 2.5, null], "b": "x"}\' AS json) AS obj, CAST(\'[]\' AS json) AS arr, CAST(\'"ünï"\' AS json) AS str',
    pin: {
      oids: [114, 114, 114],
      text: ['{"a": [1, 2.5, null], "b": "x"}', '[]', '"ünï"'],
      binary: [utf8('{"a": [1, 2.5, null], "b": "x"}'), utf8('[]'), utf8('"ünï"')],
    },
  },
  {
    name: 'arrays: NULL elements and elements that need quoting',
    sql:
      "SELECT CAST(ARRAY[1, NULL, 3] AS int4[]) AS ints, CAST(ARRAY['a', 'b c', 'a,b', '{x}', ' lead', 'NULL', 'back\\slash', '', 'q\"uote', NULL] AS text[]) AS texts," +
      ' CAST(ARRAY[] AS int4[]) AS empty, CAST(ARRAY[true, NULL] AS bool[]) AS bools, CAST(ARRAY[-9223372036854775808, 0] AS int8[]) AS bigs',
    pin: {
      oids: [1007, 1009, 1007, 1000, 1016],
      text: [
        '{1,NULL,3}',
        '{a,"b c","a,b","{x}"," lead","NULL","back\\\\slash","","q\\"uote",NULL}',
        '{}',
        '{t,NULL}',
        '{-9223372036854775808,0}',
      ],
      binary: [
        array1d(23, [i32(1), null, i32(3)]),
        array1d(25, [
          ...['a', 'b c', 'a,b', '{x}', ' lead', 'NULL', 'back\\slash', '', 'q"uote'].map(utf8),
          null,
        ]),
        // An empty array has no dimensions at all.
        i32(0) + i32(0) + i32(23),
        array1d(16, ['01', null]),
        array1d(20, [i64(-(2n ** 63n)), i64(0n)]),
      ],
    },
  },
  {
    name: 'arrays of numeric, float8, date, timestamp and uuid',
    sql:
      "SELECT CAST(ARRAY[1.5, NULL, -0.25] AS numeric(10,2)[]) AS nums, CAST(ARRAY['NaN', '1.5', '-Infinity'] AS float8[]) AS floats," +
      " CAST(ARRAY[DATE '2024-01-01', DATE '0001-01-01' - 1] AS date[]) AS dates," +
      " CAST(ARRAY[TIMESTAMP '2024-01-02 03:04:05.000001'] AS timestamp[]) AS stamps," +
      " CAST(ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'] AS uuid[]) AS uuids",
    pin: {
      oids: [1231, 1022, 1182, 1115, 2951],
      text: [
        '{1.50,NULL,-0.25}',
        '{NaN,1.5,-Infinity}',
        '{2024-01-01,"0001-12-31 BC"}',
        '{"2024-01-02 03:04:05.000001"}',
        '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}',
      ],
      binary: [
        array1d(1700, [numeric(0, false, 2, [1, 5000]), null, numeric(-1, true, 2, [2500])]),
        array1d(701, [f64(Number.NaN), f64(1.5), f64(-Infinity)]),
        array1d(1082, [date(2024, 1, 1), date(0, 12, 31)]),
        array1d(1114, [timestamp(2024, 1, 2, 3, 4, 5, 1)]),
        array1d(2950, ['a0eebc999c0b4ef8bb6d6bb9bd380a11']),
      ],
    },
  },
  {
    name: 'text parameters of every type, typed by the server',
    sql:
      'SELECT CAST($1 AS int8) AS i8, CAST($2 AS numeric(10,2)) AS num, CAST($3 AS date) AS d, CAST($4 AS timestamptz) AS tstz,' +
      ' CAST($5 AS bytea) AS b, CAST($6 AS text) AS t, CAST($7 AS bool) AS bo, CAST($8 AS interval) AS iv, CAST($9 AS uuid) AS u,' +
      ' CAST($10 AS int4[]) AS arr, CAST($11 AS float8) AS f, CAST($12 AS float4) AS f4, CAST($13 AS timestamp) AS ts, CAST($14 AS time) AS ti',
    params: [
      '-9223372036854775808',
      '1.005',
      '0044-03-15 BC',
      '2024-07-01 12:00:00.000001+05:30',
      '\\x00ff10',
      'ünï 🦆 \\ "',
      't',
      '1 mon -2 days 03:00:00',
      'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
      '{1,NULL,3}',
      'NaN',
      '0.1',
      '2024-01-02 03:04:05.123456',
      '23:59:59.999999',
    ],
    pin: {
      oids: [20, 1700, 1082, 1184, 17, 25, 16, 1186, 2950, 1007, 701, 700, 1114, 1083],
      text: [
        '-9223372036854775808',
        '1.01',
        '0044-03-15 BC',
        '2024-07-01 06:30:00.000001+00',
        '\\x00ff10',
        'ünï 🦆 \\ "',
        't',
        '1 mon -2 days +03:00:00',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        '{1,NULL,3}',
        'NaN',
        '0.1',
        '2024-01-02 03:04:05.123456',
        '23:59:59.999999',
      ],
      binary: [
        i64(-(2n ** 63n)),
        numeric(0, false, 2, [1, 100]),
        date(-43, 3, 15),
        timestamp(2024, 7, 1, 6, 30, 0, 1),
        '00ff10',
        utf8('ünï 🦆 \\ "'),
        '01',
        interval(3n * HOUR, -2, 1),
        'a0eebc999c0b4ef8bb6d6bb9bd380a11',
        array1d(23, [i32(1), null, i32(3)]),
        f64(Number.NaN),
        f32(0.1),
        timestamp(2024, 1, 2, 3, 4, 5, 123456),
        time(23, 59, 59, 999999),
      ],
    },
  },
  {
    name: 'error: undefined table',
    sql: 'SELECT * FROM differential_no_such_table',
    pin: { error: '42P01' },
  },
  {
    name: 'error: invalid integer text',
    sql: "SELECT CAST('abc' AS int4) AS v",
    pin: { error: '22P02' },
  },
  {
    name: 'error: integer out of range',
    sql: 'SELECT CAST(2147483648 AS int4) AS v',
    pin: { error: '22003' },
  },
];

// ---------------------------------------------------------------------------------------------------
// A minimal PostgreSQL v3 client for binary results: startup with trust authentication, then
// Parse/Bind (result format 1)/Describe/Execute/Sync on the unnamed statement and portal.

function cstring(s: string): Buffer {
  return Buffer.from(`${s}\0`, 'utf8');
}

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

/** A frontend message: type byte, Int32 length (including itself), body. */
function message(type: string, ...body: Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  return Buffer.concat([Buffer.from(type, 'latin1'), int32(payload.length + 4), payload]);
}

interface BackendMessage {
  type: string;
  body: Buffer;
}

/** The SQLSTATE ('C' field) of an ErrorResponse body. */
function sqlstateOf(body: Buffer): string {
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const code = String.fromCharCode(body[at]!);
    const end = body.indexOf(0, at + 1);
    const value = body.toString('utf8', at + 1, end);
    if (code === 'C') return value;
    at = end + 1;
  }
  return 'no SQLSTATE';
}

function parseRowDescription(body: Buffer): Field[] {
  const fields: Field[] = [];
  let at = 2;
  for (let i = 0; i < body.readInt16BE(0); i++) {
    const end = body.indexOf(0, at);
    const name = body.toString('utf8', at, end);
    at = end + 1;
    fields.push({
      name,
      tableOid: body.readUInt32BE(at),
      column: body.readInt16BE(at + 4),
      typeOid: body.readUInt32BE(at + 6),
      typlen: body.readInt16BE(at + 10),
      typmod: body.readInt32BE(at + 12),
      format: body.readInt16BE(at + 16),
    });
    at += 18;
  }
  return fields;
}

function parseDataRow(body: Buffer): (string | null)[] {
  const values: (string | null)[] = [];
  let at = 2;
  for (let i = 0; i < body.readInt16BE(0); i++) {
    const length = body.readInt32BE(at);
    at += 4;
    if (length < 0) {
      values.push(null);
    } else {
      values.push(body.toString('hex', at, at + length));
      at += length;
    }
  }
  return values;
}

class RawClient {
  private pending = Buffer.alloc(0);
  private readonly inbox: BackendMessage[] = [];
  private wake: (() => void) | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 5) {
        const length = this.pending.readInt32BE(1);
        if (this.pending.length < length + 1) break;
        this.inbox.push({
          type: String.fromCharCode(this.pending[0]!),
          body: this.pending.subarray(5, length + 1),
        });
        this.pending = this.pending.subarray(length + 1);
      }
      this.wake?.();
    });
    const fail = (e: Error): void => {
      this.failure ??= e;
      this.wake?.();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('server closed the connection')));
  }

  static async connect(host: string, port: number, user: string, database: string): Promise<RawClient> {
    const socket = connectTcp({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawClient(socket);
    const params = [
      'user',
      user,
      'database',
      database,
      'client_encoding',
      'UTF8',
      'application_name',
      'mallard-e2e-raw',
    ];
    const body = Buffer.concat([int32(196608), ...params.map(cstring), Buffer.from([0])]);
    socket.write(Buffer.concat([int32(body.length + 4), body]));
    for (;;) {
      const m = await client.next();
      if (m.type === 'R' && m.body.readInt32BE(0) !== 0) {
        throw new Error(
          `raw client: authentication method ${m.body.readInt32BE(0)} requested; only trust is supported`,
        );
      }
      if (m.type === 'E') throw new Error(`raw client: startup failed with SQLSTATE ${sqlstateOf(m.body)}`);
      if (m.type === 'Z') return client;
    }
  }

  private async next(): Promise<BackendMessage> {
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      const m = this.inbox.shift();
      if (m) return m;
      if (this.failure) throw this.failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`raw client: no message from the server within ${TIMEOUT_MS} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Runs a statement with the simple protocol and throws on an ErrorResponse. */
  async simple(sql: string): Promise<void> {
    this.socket.write(message('Q', cstring(sql)));
    let error: string | undefined;
    for (;;) {
      const m = await this.next();
      if (m.type === 'E') error = sqlstateOf(m.body);
      if (m.type === 'Z') break;
    }
    if (error) throw new Error(`raw client: ${sql} failed with SQLSTATE ${error}`);
  }

  /** Parse/Bind/Describe/Execute/Sync with text parameters and every result column in binary. */
  async binary(sql: string, params: readonly string[]): Promise<Outcome> {
    const values = params.map((p) => {
      const bytes = Buffer.from(p, 'utf8');
      return Buffer.concat([int32(bytes.length), bytes]);
    });
    this.socket.write(
      Buffer.concat([
        message('P', cstring(''), cstring(sql), int16(0)),
        message('B', cstring(''), cstring(''), int16(0), int16(params.length), ...values, int16(1), int16(1)),
        message('D', Buffer.from('P'), cstring('')),
        message('E', cstring(''), int32(0)),
        message('S'),
      ]),
    );
    let fields: Field[] = [];
    const rows: (string | null)[][] = [];
    let error: string | undefined;
    for (;;) {
      const m = await this.next();
      if (m.type === 'T') fields = parseRowDescription(m.body);
      else if (m.type === 'D') rows.push(parseDataRow(m.body));
      else if (m.type === 'E') error = sqlstateOf(m.body);
      else if (m.type === 'Z') break;
    }
    return error === undefined ? { fields, rows } : { error };
  }

  close(): void {
    this.socket.end(message('X'));
  }
}

// ---------------------------------------------------------------------------------------------------

/** Both connections to one server: node-postgres for text, the raw client for binary. */
interface Side {
  label: string;
  text: pg.Client;
  raw: RawClient;
}

// node-postgres hands every column to the type parser; returning the string untouched keeps the bytes.
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

async function openSide(
  label: string,
  host: string,
  port: number,
  user: string,
  database: string,
): Promise<Side> {
  const text = new pg.Client({
    host,
    port,
    user,
    database,
    types: RAW_TEXT,
    query_timeout: TIMEOUT_MS,
    connectionTimeoutMillis: TIMEOUT_MS,
  });
  // Without a listener an 'error' event would crash the process rather than fail one test.
  text.on('error', () => {});
  await text.connect();
  const raw = await RawClient.connect(host, port, user, database);
  return { label, text, raw };
}

type Mode = 'text, simple protocol' | 'text, extended protocol' | 'binary, extended protocol';

async function observe(side: Side, c: Case, mode: Mode): Promise<Outcome> {
  const timeZone = `SET TimeZone = '${c.timeZone ?? 'UTC'}'`;
  if (mode === 'binary, extended protocol') {
    await side.raw.simple(timeZone);
    return side.raw.binary(c.sql, c.params ?? []);
  }
  await side.text.query(timeZone);
  const config = {
    text: c.sql,
    values: c.params,
    rowMode: 'array' as const,
    ...(mode === 'text, extended protocol' ? { queryMode: 'extended' } : {}),
  };
  try {
    const result = await side.text.query(config);
    return {
      fields: result.fields.map((f) => ({
        name: f.name,
        tableOid: f.tableID,
        column: f.columnID,
        typeOid: f.dataTypeID,
        typlen: f.dataTypeSize,
        typmod: f.dataTypeModifier,
        format: f.format === 'binary' ? 1 : 0,
      })),
      rows: result.rows as (string | null)[][],
    };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return { error: code };
    throw e;
  }
}

/** The outcome without the type attributes, for cases whose types DuckDB cannot express. */
function withoutTypes(outcome: Outcome): Outcome {
  if ('error' in outcome) return outcome;
  return {
    fields: outcome.fields.map((f) => ({ ...f, typeOid: 0, typlen: 0, typmod: 0 })),
    rows: outcome.rows,
  };
}

let target: RunningTarget | undefined;
let stopReference: (() => Promise<void>) | undefined;
// Set up once in before(); every test awaits it, so a server that will not start fails each test with
// the reason instead of leaving uvu to report nothing.
let sides: Promise<{ subject: Side; reference: Side }>;

test.before(() => {
  sides = (async () => {
    // allSettled: when one fails to start, the other is still recorded so that after() stops it.
    const [started, referenceStarted] = await Promise.allSettled([startTarget(), startPostgres()]);
    if (started.status === 'fulfilled') target = started.value;
    if (referenceStarted.status === 'fulfilled') stopReference = () => referenceStarted.value.stop();
    if (started.status === 'rejected') throw started.reason;
    if (referenceStarted.status === 'rejected') throw referenceStarted.reason;
    const t = started.value;
    const ref = referenceStarted.value;
    const subject = await openSide(t.name, t.host, t.port, t.user, t.database);
    const reference = await openSide('postgres (reference)', ref.host, ref.port, ref.user, ref.database);
    return { subject, reference };
  })();
  sides.catch(() => {});
});

test.after(async () => {
  const opened = await sides.catch(() => undefined);
  for (const side of opened ? [opened.subject, opened.reference] : []) {
    side.raw.close();
    await side.text.end().catch(() => {});
  }
  await target?.stop();
  await stopReference?.();
});

for (const c of CASES) {
  test(c.name, async () => {
    const { subject, reference } = await sides;
    const modes: Mode[] = ['text, extended protocol', 'binary, extended protocol'];
    // node-postgres sends parameters only with the extended protocol.
    if (!c.params) modes.unshift('text, simple protocol');
    for (const mode of modes) {
      const expected = await observe(reference, c, mode);
      const actual = await observe(subject, c, mode);
      const pin = c.pin ?? {};
      if (pin.error !== undefined) {
        assert.equal(expected, { error: pin.error }, `PostgreSQL, ${mode}`);
      } else {
        if ('error' in expected)
          throw new Error(`PostgreSQL rejected the case (${mode}): SQLSTATE ${expected.error}`);
        assert.ok(
          expected.rows.length === 1 && expected.fields.length > 0,
          `PostgreSQL returned no row (${mode})`,
        );
        if (pin.oids)
          assert.equal(
            expected.fields.map((f) => f.typeOid),
            pin.oids,
            `PostgreSQL OIDs (${mode})`,
          );
        const pinned = mode.startsWith('binary') ? pin.binary : pin.text;
        if (pinned) assert.equal(expected.rows[0], pinned, `PostgreSQL values (${mode})`);
      }
      if (c.compareTypes === false)
        assert.equal(withoutTypes(actual), withoutTypes(expected), `${subject.label}, ${mode}`);
      else assert.equal(actual, expected, `${subject.label}, ${mode}`);
    }
  });
}

test.run();
