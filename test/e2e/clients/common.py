"""Shared by the Python client fixtures (psycopg2, psycopg 3, asyncpg).

Each fixture runs a list of named steps against one server and prints one JSON line per step:
{"step": name, "ok": true, "value": ...} or {"step": name, "ok": false, "error": ..., "sqlstate": ...}.
The TypeScript suite asserts on those values, so a failing step never hides the steps after it.
Values are rendered by describe() as [python type name, JSON-safe rendering] so the suite sees exactly
what a user of the driver would get back.
"""

import datetime
import decimal
import json
import sys
import traceback
import uuid

# Every type the suites cover, in SQL that both PostgreSQL and DuckDB accept. Casts are explicit so both
# systems agree on the result types: a bare 1.5 is DECIMAL(2,1) in DuckDB but unconstrained numeric in
# PostgreSQL. BC dates are left out here because Python's datetime cannot hold them; the differential
# suite covers them byte for byte. Bytea is built from one-byte literals because '\x00' is the only hex
# spelling both systems read the same way (PostgreSQL's hex format, DuckDB's per-byte escape).
TYPES_SQL = r"""
SELECT
  true AS bool_t,
  CAST(NULL AS boolean) AS bool_null,
  CAST(-32768 AS int2) AS int2_min,
  CAST(2147483647 AS int4) AS int4_max,
  CAST(-9223372036854775808 AS int8) AS int8_min,
  CAST(0.1 AS float4) AS float4_tenth,
  CAST(1e100 AS float8) AS float8_big,
  CAST('NaN' AS float8) AS float8_nan,
  CAST('-Infinity' AS float4) AS float4_neginf,
  CAST(-123.45 AS numeric(10,3)) AS numeric_scaled,
  CAST(12345678901234567890.123456 AS numeric(38,6)) AS numeric_big,
  CAST('héllo 世界 🦆' AS text) AS text_utf8,
  CAST('abc' AS varchar(10)) AS varchar_v,
  CAST('ab' AS char(2)) AS bpchar_v,
  CAST('\x00' AS bytea) || CAST('ab' AS bytea) || CAST('\xff' AS bytea) AS bytea_v,
  DATE '2024-02-29' AS date_leap,
  TIME '23:59:59.999999' AS time_v,
  TIMESTAMP '2024-01-02 03:04:05.123456' AS ts,
  TIMESTAMPTZ '2024-07-01 12:00:00.5+00' AS tstz,
  INTERVAL '1 year 2 months 3 days 04:05:06.789' AS interval_mixed,
  INTERVAL '-1 days -00:00:00.000001' AS interval_neg,
  CAST('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' AS uuid) AS uuid_v,
  CAST('{"a": [1, 2.5, null], "b": "x"}' AS json) AS json_v,
  CAST(ARRAY[1, NULL, 3] AS int4[]) AS int4_array,
  CAST(ARRAY['a', 'b c', 'q"uote', NULL, ''] AS text[]) AS text_array
"""

# 10,000 rows for the server-side cursor and streaming steps; generate_series is int8 in DuckDB, int4 here.
SERIES_SQL = "SELECT CAST(i AS int4) AS i FROM generate_series(1, 10000) AS t(i) ORDER BY i"


def describe(value):
    """[type name, rendering]: exact enough that a wrong type or a lost digit shows up in the suite."""
    if value is None:
        return ["NoneType", None]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        # As a string: int8 does not fit a JavaScript number.
        return ["int", str(value)]
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, decimal.Decimal):
        return ["Decimal", str(value)]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ["bytes", bytes(value).hex()]
    # datetime is a subclass of date, so it is checked first.
    if isinstance(value, datetime.datetime):
        return ["datetime", value.isoformat()]
    if isinstance(value, datetime.date):
        return ["date", value.isoformat()]
    if isinstance(value, datetime.time):
        return ["time", value.isoformat()]
    if isinstance(value, datetime.timedelta):
        return ["timedelta", f"{value.days}d {value.seconds}s {value.microseconds}us"]
    if isinstance(value, uuid.UUID):
        return ["UUID", str(value)]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [describe(item) for item in value]]
    if isinstance(value, dict):
        return ["dict", json.dumps(value, sort_keys=True)]
    return [type(value).__name__, repr(value)]


def describe_row(names, row):
    """{column name: describe(value)} for one row."""
    return {name: describe(value) for name, value in zip(names, row)}


def sqlstate_of(error):
    """The SQLSTATE a driver attached to an exception, whatever the driver calls it."""
    for attr in ("sqlstate", "pgcode"):
        code = getattr(error, attr, None)
        if isinstance(code, str):
            return code
    return None


def _emit(record):
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _failure(name, error):
    return {
        "step": name,
        "ok": False,
        "error": f"{type(error).__name__}: {error}",
        "sqlstate": sqlstate_of(error),
        "traceback": traceback.format_exc(),
    }


def run_steps(steps):
    """Runs (name, fn) pairs in order; each fn returns a JSON-safe value."""
    for name, fn in steps:
        try:
            _emit({"step": name, "ok": True, "value": fn()})
        except Exception as error:  # report and carry on: one broken step must not hide the others
            _emit(_failure(name, error))


async def run_steps_async(steps):
    """Like run_steps, for coroutine functions."""
    for name, fn in steps:
        try:
            _emit({"step": name, "ok": True, "value": await fn()})
        except Exception as error:
            _emit(_failure(name, error))
