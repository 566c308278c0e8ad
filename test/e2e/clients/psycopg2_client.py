"""psycopg2 against one server. Usage: /usr/bin/python3 psycopg2_client.py <postgres:// url>

psycopg2 interpolates parameters on the client and sends simple queries; without autocommit it wraps
everything in BEGIN. A named cursor becomes DECLARE ... CURSOR / FETCH FORWARD n / CLOSE.
"""

import datetime
import decimal
import sys

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from common import SERIES_SQL, TYPES_SQL, describe, describe_row, run_steps

URL = sys.argv[1]
psycopg2.extras.register_uuid()


def connect(autocommit=False):
    conn = psycopg2.connect(URL, connect_timeout=10, application_name="mallard-e2e-psycopg2")
    conn.autocommit = autocommit
    return conn


def step_connect():
    conn = connect()
    with conn.cursor() as cur:
        cur.execute("SELECT 1 AS one")
        seen = {
            "one": cur.fetchone()[0],
            "server_version_positive": conn.server_version > 0,
            "encoding": conn.encoding,
            # psycopg2 quotes strings as E'...' when this is off, which DuckDB could not parse.
            "standard_conforming_strings": conn.get_parameter_status("standard_conforming_strings"),
        }
    conn.close()
    return seen


def step_params():
    conn = connect()
    with conn.cursor() as cur:
        cur.execute(
            "SELECT %s::int4 + %s::int4 AS sum, %s::text AS quote, %s::text AS backslash, %s::int4 IS NULL AS is_null,"
            " %s::bytea AS bytes, %s::numeric(10,2) AS dec, %s::date AS d, %s::bool AS b, %s::text AS utf8",
            (
                2,
                3,
                "it's",
                "C:\\path\\n",
                None,
                b"\x00\x01\xff",
                decimal.Decimal("-1.25"),
                datetime.date(2024, 2, 29),
                True,
                "ünï 🦆",
            ),
        )
        names = [d.name for d in cur.description]
        row = describe_row(names, cur.fetchone())
    conn.close()
    return row


def step_types():
    conn = connect()
    with conn.cursor() as cur:
        cur.execute("SET TimeZone = 'UTC'")
        cur.execute(TYPES_SQL)
        columns = [[d.name, d.type_code] for d in cur.description]
        row = describe_row([c[0] for c in columns], cur.fetchone())
    conn.close()
    return {"columns": columns, "row": row}


def step_timezones():
    out = {}
    conn = connect()
    with conn.cursor() as cur:
        for zone in ("America/New_York", "Asia/Kolkata"):
            cur.execute(f"SET TimeZone = '{zone}'")
            cur.execute(
                "SELECT TIMESTAMPTZ '2024-07-01 12:00:00+00' AS summer, TIMESTAMPTZ '2024-01-15 12:00:00.000001+00' AS winter"
            )
            out[zone] = [describe(v) for v in cur.fetchone()]
    conn.close()
    return out


def step_named_cursor():
    conn = connect()
    with conn.cursor(name="p2_named") as cur:
        cur.itersize = 1000
        cur.execute(SERIES_SQL)
        first = cur.fetchone()[0]
        next_five = [r[0] for r in cur.fetchmany(5)]
        count = 1 + len(next_five)
        total = first + sum(next_five)
        last = None
        for (i,) in cur:
            count += 1
            total += i
            last = i
        names = [d.name for d in cur.description]
    status = conn.info.transaction_status
    conn.rollback()
    conn.close()
    return {
        "first": first,
        "next_five": next_five,
        "count": count,
        "sum": total,
        "last": last,
        "names": names,
        "in_transaction": status == psycopg2.extensions.TRANSACTION_STATUS_INTRANS,
    }


def step_transactions():
    setup = connect(autocommit=True)
    with setup.cursor() as cur:
        cur.execute("CREATE TABLE p2_tx (id int4 PRIMARY KEY, v text)")
    conn = connect()
    seen = {}
    with conn.cursor() as cur:
        cur.execute("INSERT INTO p2_tx VALUES (1, 'rolled back')")
        seen["status_after_insert"] = conn.info.transaction_status
        conn.rollback()
        seen["status_after_rollback"] = conn.info.transaction_status
        cur.execute("INSERT INTO p2_tx VALUES (2, 'committed')")
        seen["rowcount"] = cur.rowcount
        conn.commit()
    try:
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO p2_tx VALUES (3, 'undone by with')")
            raise RuntimeError("abort the with block")
    except RuntimeError:
        pass
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO p2_tx VALUES (4, 'committed by with')")
    with setup.cursor() as cur:
        cur.execute("SELECT id, v FROM p2_tx ORDER BY id")
        seen["visible_elsewhere"] = [list(r) for r in cur.fetchall()]
    conn.close()
    setup.close()
    return seen


def step_errors():
    conn = connect()
    seen = []

    def attempt(sql):
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return ["no error", cur.fetchall()]
        except psycopg2.Error as e:
            return [e.pgcode, type(e).__name__, e.diag.severity, conn.info.transaction_status]

    with conn.cursor() as cur:
        cur.execute("CREATE TABLE p2_err (id int4 PRIMARY KEY)")
        cur.execute("INSERT INTO p2_err VALUES (1)")
    conn.commit()
    seen.append(attempt("SELECT * FROM p2_no_such_table"))
    # The failed statement aborted the transaction psycopg2 opened; everything until ROLLBACK fails.
    seen.append(attempt("SELECT 1"))
    conn.rollback()
    seen.append(attempt("SELECT 1 AS ok"))
    conn.rollback()
    seen.append(attempt("SELEC 1"))
    conn.rollback()
    seen.append(attempt("INSERT INTO p2_err VALUES (1)"))
    conn.rollback()
    seen.append(attempt("SELECT CAST('abc' AS int4)"))
    conn.rollback()
    seen.append(attempt("SELECT count(*) AS n FROM p2_err"))
    conn.close()
    return seen


run_steps(
    [
        ("connect", step_connect),
        ("params", step_params),
        ("types", step_types),
        ("timezones", step_timezones),
        ("named cursor", step_named_cursor),
        ("transactions", step_transactions),
        ("errors", step_errors),
    ]
)
