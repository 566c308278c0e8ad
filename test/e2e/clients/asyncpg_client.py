"""asyncpg against one server. Usage: /usr/bin/python3 asyncpg_client.py <postgres:// url>

asyncpg always prepares (Parse/Describe), sends parameters and reads results in binary, introspects any
type OID it has no codec for through pg_catalog, reads cursors through portals with a row limit and
copies records in with binary COPY FROM STDIN.
"""

import asyncio
import datetime
import decimal
import sys
import uuid

import asyncpg

from common import SERIES_SQL, TYPES_SQL, describe, describe_row, run_steps_async

URL = sys.argv[1]


async def connect():
    return await asyncpg.connect(URL, timeout=10, server_settings={"application_name": "mallard-e2e-asyncpg"})


def attributes(stmt):
    return [[a.name, a.type.oid, a.type.name] for a in stmt.get_attributes()]


async def step_connect():
    conn = await connect()
    try:
        return {
            "one": await conn.fetchval("SELECT 1 AS one"),
            "server_version_major_positive": conn.get_server_version().major > 0,
        }
    finally:
        await conn.close()


async def step_types():
    conn = await connect()
    try:
        await conn.execute("SET TimeZone = 'UTC'")
        stmt = await conn.prepare(TYPES_SQL)
        row = await stmt.fetchrow()
        return {"columns": attributes(stmt), "row": describe_row(list(row.keys()), row.values())}
    finally:
        await conn.close()


async def step_params():
    conn = await connect()
    try:
        row = await conn.fetchrow(
            "SELECT $1::int4 + $2::int4 AS sum, $3::text AS text, $4::int4 IS NULL AS is_null, $5::bytea AS bytes,"
            " $6::numeric(10,2) AS dec, $7::date AS d, $8::timestamptz AS tstz, $9::interval AS iv, $10::uuid AS u,"
            " $11::int4[] AS arr, $12::bool AS b, $13::float8 AS f, $14::int8 AS big, $15::text[] AS texts",
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
            -9223372036854775808,
            ["a", "b c", 'q"uote', None, ""],
        )
        return describe_row(list(row.keys()), row.values())
    finally:
        await conn.close()


async def step_prepared():
    conn = await connect()
    try:
        stmt = await conn.prepare("SELECT $1::int8 * 2 AS doubled, $2::text AS label")
        results = [list(await stmt.fetchrow(i, f"run {i}")) for i in range(10)]
        return {
            "parameters": [t.name for t in stmt.get_parameters()],
            "attributes": attributes(stmt),
            "results": results,
        }
    finally:
        await conn.close()


async def step_cursor():
    # A cursor inside a transaction is a portal read 100 rows per Execute.
    conn = await connect()
    try:
        async with conn.transaction():
            values = [r["i"] async for r in conn.cursor(SERIES_SQL, prefetch=100)]
            cur = await conn.cursor("SELECT i FROM (" + SERIES_SQL + ") AS s WHERE i > $1 ORDER BY i", 9990)
            first_three = [r["i"] for r in await cur.fetch(3)]
            fourth = (await cur.fetchrow())["i"]
        return {"count": len(values), "sum": sum(values), "last": values[-1], "first_three": first_three, "fourth": fourth}
    finally:
        await conn.close()


COPY_RECORDS = [
    (1, "plain", decimal.Decimal("1.50"), datetime.datetime(2024, 7, 1, 12, 0, 0, 1, tzinfo=datetime.timezone.utc), b"\x00\xff", ["x", None]),
    (2, "tab\there,comma", decimal.Decimal("-2.00"), None, b"", []),
    (3, 'quo"te ünï', None, datetime.datetime(1999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc), None, None),
]


async def step_copy_records():
    conn = await connect()
    try:
        await conn.execute("SET TimeZone = 'UTC'")
        await conn.execute(
            "CREATE TABLE a_copy (id int4, name text, amount numeric(10,2), happened_at timestamptz, payload bytea, tags text[])"
        )
        status = await conn.copy_records_to_table(
            "a_copy", records=COPY_RECORDS, columns=["id", "name", "amount", "happened_at", "payload", "tags"]
        )
        rows = await conn.fetch("SELECT id, name, amount, happened_at, payload, tags FROM a_copy ORDER BY id")
        return {"status": status, "rows": [[describe(v) for v in r.values()] for r in rows]}
    finally:
        await conn.close()


async def step_copy_from_query():
    conn = await connect()
    try:
        await conn.execute("CREATE TABLE a_out (id int4, name text, amount numeric(10,2))")
        await conn.execute(
            "INSERT INTO a_out VALUES (1, 'plain', 1.5), (2, 'with, comma', NULL), (3, 'quo\"te', -0.25)"
        )
        chunks = []

        async def sink(data):
            chunks.append(bytes(data))

        csv_status = await conn.copy_from_query(
            "SELECT id, name, amount FROM a_out ORDER BY id", output=sink, format="csv"
        )
        csv = b"".join(chunks).decode("utf-8")
        chunks.clear()
        text_status = await conn.copy_from_query("SELECT id, name, amount FROM a_out ORDER BY id", output=sink)
        text = b"".join(chunks).decode("utf-8")
        return {"csv_status": csv_status, "csv": csv, "text_status": text_status, "text": text}
    finally:
        await conn.close()


async def step_transactions():
    conn = await connect()
    other = await connect()
    try:
        await conn.execute("CREATE TABLE a_tx (id int4 PRIMARY KEY, v text)")
        seen = {"in_transaction_before": conn.is_in_transaction()}
        try:
            async with conn.transaction():
                await conn.execute("INSERT INTO a_tx VALUES (1, 'rolled back')")
                seen["in_transaction_inside"] = conn.is_in_transaction()
                seen["invisible_elsewhere"] = await other.fetchval("SELECT count(*) FROM a_tx")
                raise RuntimeError("abort the block")
        except RuntimeError:
            pass
        async with conn.transaction():
            await conn.execute("INSERT INTO a_tx VALUES (2, 'committed')")
        tx = conn.transaction()
        await tx.start()
        await conn.execute("INSERT INTO a_tx VALUES (3, 'rolled back explicitly')")
        await tx.rollback()
        seen["in_transaction_after"] = conn.is_in_transaction()
        seen["visible_elsewhere"] = [list(r) for r in await other.fetch("SELECT id, v FROM a_tx ORDER BY id")]
        return seen
    finally:
        await conn.close()
        await other.close()


async def step_errors():
    conn = await connect()
    seen = []

    async def attempt(sql, *args):
        try:
            return ["no error", [list(r) for r in await conn.fetch(sql, *args)]]
        except asyncpg.PostgresError as e:
            return [e.sqlstate, type(e).__name__, e.severity, conn.is_in_transaction()]

    try:
        await conn.execute("CREATE TABLE a_err (id int4 PRIMARY KEY)")
        await conn.execute("INSERT INTO a_err VALUES (1)")
        seen.append(await attempt("SELECT * FROM a_no_such_table"))
        seen.append(await attempt("SELEC 1"))
        seen.append(await attempt("INSERT INTO a_err VALUES ($1)", 1))
        seen.append(await attempt("SELECT CAST('abc' AS int4)"))
        # Outside a transaction an error leaves nothing behind.
        seen.append(await attempt("SELECT count(*) AS n FROM a_err"))
        tx = conn.transaction()
        await tx.start()
        seen.append(await attempt("SELECT * FROM a_no_such_table"))
        seen.append(await attempt("SELECT 1"))
        await tx.rollback()
        seen.append(await attempt("SELECT 2 AS ok"))
        return seen
    finally:
        await conn.close()


asyncio.run(
    run_steps_async(
        [
            ("connect", step_connect),
            ("types", step_types),
            ("params", step_params),
            ("prepared", step_prepared),
            ("cursor", step_cursor),
            ("copy records", step_copy_records),
            ("copy from query", step_copy_from_query),
            ("transactions", step_transactions),
            ("errors", step_errors),
        ]
    )
)
