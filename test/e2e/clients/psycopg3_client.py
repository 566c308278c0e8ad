"""psycopg 3 against one server. Usage: /usr/bin/python3 psycopg3_client.py <postgres:// url>

psycopg 3 binds parameters on the server (extended protocol), reads text results by default and binary
ones from cursor(binary=True), streams with single-row mode, and speaks COPY in text and binary.
"""

import datetime
import decimal
import sys
import uuid

import psycopg
from psycopg.types.json import Jsonb

from common import SERIES_SQL, TYPES_SQL, describe, describe_row, run_steps

URL = sys.argv[1]

PARAMS_SQL = (
    "SELECT {p}::int4 + {p}::int4 AS sum, {p}::text AS text, {p}::int4 IS NULL AS is_null, {p}::bytea AS bytes,"
    " {p}::numeric(10,2) AS dec, {p}::date AS d, {p}::timestamptz AS tstz, {p}::interval AS iv, {p}::uuid AS u,"
    " {p}::int4[] AS arr, {p}::bool AS b, {p}::float8 AS f"
)
PARAMS = (
    2,
    3,
    "it's \\ \t ünï 🦆",
    None,
    b"\x00\x01\xff",
    decimal.Decimal("-1.25"),
    datetime.date(2024, 2, 29),
    datetime.datetime(2024, 7, 1, 12, 0, 0, 1, tzinfo=datetime.timezone.utc),
    datetime.timedelta(days=-3, seconds=5, microseconds=7),
    uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    [1, None, 3],
    False,
    0.1,
)


def connect(autocommit=False):
    return psycopg.connect(URL, autocommit=autocommit, connect_timeout=10, application_name="mallard-e2e-psycopg3")


def run_row(cur, sql, params=None):
    cur.execute(sql, params)
    names = [d.name for d in cur.description]
    return {"columns": [[d.name, d.type_code] for d in cur.description], "row": describe_row(names, cur.fetchone())}


def step_connect():
    with connect() as conn:
        return {
            "one": conn.execute("SELECT 1 AS one").fetchone()[0],
            "server_version_positive": conn.info.server_version > 0,
            "client_encoding": conn.info.parameter_status("client_encoding"),
        }


def step_params(placeholder):
    def step():
        with connect() as conn, conn.cursor() as cur:
            cur.execute("SET TimeZone = 'UTC'")
            return run_row(cur, PARAMS_SQL.format(p=placeholder), PARAMS)["row"]

    return step


def step_jsonb_param():
    # psycopg 3 sends Jsonb with the jsonb OID (3802); the cast keeps the SQL within what DuckDB parses.
    with connect() as conn:
        row = conn.execute("SELECT CAST(%s AS json) AS j", (Jsonb({"k": [1, "x", None]}),)).fetchone()
        return describe(row[0])


def step_types(binary):
    def step():
        with connect() as conn, conn.cursor(binary=binary) as cur:
            cur.execute("SET TimeZone = 'UTC'")
            return run_row(cur, TYPES_SQL)

    return step


def step_stream():
    with connect() as conn, conn.cursor() as cur:
        values = [row[0] for row in cur.stream(SERIES_SQL)]
        # The connection is usable after the stream is exhausted.
        after = conn.execute("SELECT 2 AS two").fetchone()[0]
        return {"count": len(values), "first": values[0], "last": values[-1], "sum": sum(values), "after": after}


def step_server_cursor():
    with connect() as conn, conn.cursor(name="p3_named") as cur:
        cur.itersize = 500
        cur.execute("SELECT i FROM (" + SERIES_SQL + ") AS s WHERE i > %s ORDER BY i", (9000,))
        values = [row[0] for row in cur]
        return {"count": len(values), "first": values[0], "last": values[-1]}


def step_transactions():
    seen = {}
    with connect(autocommit=True) as setup:
        setup.execute("CREATE TABLE p3_tx (id int4 PRIMARY KEY, v text)")
        with connect() as conn:
            conn.execute("INSERT INTO p3_tx VALUES (1, 'rolled back')")
            seen["status_after_insert"] = conn.info.transaction_status.name
            conn.rollback()
            seen["status_after_rollback"] = conn.info.transaction_status.name
            try:
                with conn.transaction():
                    conn.execute("INSERT INTO p3_tx VALUES (2, 'undone by transaction()')")
                    raise RuntimeError("abort the block")
            except RuntimeError:
                pass
            with conn.transaction():
                conn.execute("INSERT INTO p3_tx VALUES (3, 'committed by transaction()')")
            conn.execute("INSERT INTO p3_tx VALUES (4, 'committed')")
            conn.commit()
        seen["visible_elsewhere"] = [list(r) for r in setup.execute("SELECT id, v FROM p3_tx ORDER BY id").fetchall()]
    return seen


def step_errors():
    seen = []
    with connect() as conn:
        conn.execute("CREATE TABLE p3_err (id int4 PRIMARY KEY)")
        conn.execute("INSERT INTO p3_err VALUES (1)")
        conn.commit()

        def attempt(sql, params=None):
            try:
                return ["no error", [list(r) for r in conn.execute(sql, params).fetchall()]]
            except psycopg.Error as e:
                return [e.sqlstate, type(e).__name__, e.diag.severity, conn.info.transaction_status.name]

        seen.append(attempt("SELECT * FROM p3_no_such_table"))
        seen.append(attempt("SELECT 1"))
        conn.rollback()
        seen.append(attempt("SELECT 1 AS ok"))
        conn.rollback()
        seen.append(attempt("SELEC 1"))
        conn.rollback()
        seen.append(attempt("INSERT INTO p3_err VALUES (%s)", (1,)))
        conn.rollback()
        seen.append(attempt("SELECT CAST(%s AS int4)", ("abc",)))
        conn.rollback()
        seen.append(attempt("SELECT count(*) AS n FROM p3_err"))
    return seen


COPY_ROWS = [
    (1, "plain", decimal.Decimal("1.50"), None),
    (2, "tab\there", decimal.Decimal("-2.00"), "new\nline"),
    (3, "back\\slash", decimal.Decimal("0.01"), "ünï 🦆"),
]


def step_copy_text():
    with connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE p3_copy (id int4, name text, amount numeric(10,2), note text)")
        with cur.copy("COPY p3_copy FROM STDIN") as copy:
            for row in COPY_ROWS:
                copy.write_row(row)
        copied_in = cur.rowcount
        cur.execute("SELECT id, name, amount, note FROM p3_copy ORDER BY id")
        stored = [[describe(v) for v in row] for row in cur.fetchall()]
        with cur.copy("COPY (SELECT id, name, amount, note FROM p3_copy ORDER BY id) TO STDOUT") as copy:
            out = b"".join(bytes(block) for block in copy)
        copied_out = cur.rowcount
        conn.commit()
        return {"copied_in": copied_in, "stored": stored, "text_out": out.decode("utf-8"), "copied_out": copied_out}


def step_copy_binary():
    types = ["int4", "text", "numeric", "text"]
    with connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE p3_copy_bin (id int4, name text, amount numeric(10,2), note text)")
        with cur.copy("COPY p3_copy_bin FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in COPY_ROWS:
                copy.write_row(row)
        copied_in = cur.rowcount
        with cur.copy("COPY (SELECT id, name, amount, note FROM p3_copy_bin ORDER BY id) TO STDOUT (FORMAT BINARY)") as copy:
            copy.set_types(types)
            rows = [[describe(v) for v in row] for row in copy.rows()]
        conn.commit()
        return {"copied_in": copied_in, "rows": rows}


run_steps(
    [
        ("connect", step_connect),
        ("params text", step_params("%s")),
        ("params binary", step_params("%b")),
        ("jsonb param", step_jsonb_param),
        ("types text", step_types(False)),
        ("types binary", step_types(True)),
        ("stream", step_stream),
        ("server cursor", step_server_cursor),
        ("transactions", step_transactions),
        ("errors", step_errors),
        ("copy text", step_copy_text),
        ("copy binary", step_copy_binary),
    ]
)
