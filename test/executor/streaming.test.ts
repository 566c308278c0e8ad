import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PgError } from '../../protocol/pg/PgError.js';
import type { QueryCursor } from '../../src/executor/Executor.js';
import type { LocalExecutor } from '../../src/executor/LocalExecutor.js';
import { type EngineFixture, openEngine, run } from './engineFixture.js';

let fx: EngineFixture;
let session: LocalExecutor;

test.before(async () => {
  fx = await openEngine({ threads: 2 });
  session = await fx.engine.createSession();
});

test.after(async () => {
  await fx.dispose();
});

const ROWS = 5_000_000;
// int, bigint, text, double: about 300 MB once materialized.
const WIDE = `SELECT i::INTEGER AS a, i * 3 AS b, 'row number ' || i || ' with some padding text' AS c, i / 7.0 AS d
  FROM range(${ROWS}) t(i)`;

/** Rejects with the PgError the cursor fails with, or throws if it ends normally. */
async function drainExpectingError(cursor: QueryCursor): Promise<PgError> {
  try {
    while (await cursor.next());
  } catch (error) {
    assert.instance(error, PgError);
    return error as PgError;
  }
  assert.unreachable('the cursor ended without an error');
  throw new Error('unreachable');
}

test('5M rows stream through in bounded memory, pulled slowly, every value read', async () => {
  const query = await session.prepare(WIDE, []);
  assert.equal(
    query.columns.map((c) => String(c.type)),
    ['INTEGER', 'BIGINT', 'VARCHAR', 'DOUBLE'],
  );
  const cursor = await query.execute([]);
  const before = process.memoryUsage().rss;
  let peak = before;
  let rows = 0;
  let batches = 0;
  let lastText: unknown;
  for (let batch = await cursor.next(); batch; batch = await cursor.next()) {
    for (const column of batch.columns) {
      for (let r = 0; r < batch.rowCount; r++) lastText = column.getItem(r);
    }
    rows += batch.rowCount;
    if (++batches % 25 === 0) {
      // A slow client: the next chunk is only asked for once the socket would have drained.
      await sleep(1);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
  }
  cursor.close();
  query.close();
  assert.is(rows, ROWS);
  assert.is(lastText, (ROWS - 1) / 7);
  const growthMb = (peak - before) / 1e6;
  assert.ok(growthMb < 150, `RSS grew ${growthMb.toFixed(0)} MB while streaming`);
});

test('a batch hands out DuckDB vectors, not converted rows', async () => {
  const query = await session.prepare('SELECT range AS n, range::VARCHAR AS s FROM range(5000)', []);
  const cursor = await query.execute([]);
  const batch = await cursor.next();
  assert.is(batch?.rowCount, 2048);
  assert.is(batch?.columns[0].itemCount, 2048);
  assert.is(batch?.columns[0].getItem(2047), 2047n);
  assert.is(batch?.columns[1].getItem(5), '5');
  cursor.close();
  query.close();
});

test('interrupt() during a long query rejects with 57014 within 200 ms', async () => {
  const query = await session.prepare('SELECT count(*) FROM range(100000000000) a, range(10) b', []);
  let interruptedAt = 0;
  const timer = setTimeout(() => {
    interruptedAt = performance.now();
    session.interrupt();
  }, 300);
  // The count runs before the first chunk exists, so either execute() or next() rejects.
  let error: unknown;
  try {
    const cursor = await query.execute([]);
    while (await cursor.next());
  } catch (caught) {
    error = caught;
  }
  const latency = performance.now() - interruptedAt;
  clearTimeout(timer);
  query.close();
  assert.ok(interruptedAt > 0, 'the query finished before the interrupt');
  assert.instance(error, PgError);
  assert.is((error as PgError).code, '57014');
  assert.is((error as PgError).message, 'canceling statement due to user request');
  assert.ok(latency < 200, `rejected ${latency.toFixed(0)} ms after interrupt()`);
  assert.equal((await run(session, 'SELECT 42 AS answer')).rows, [[42]]);
});

test('interrupt() between two batches of a stream fails the stream, with the reason given', async () => {
  const query = await session.prepare(
    'SELECT a.range AS x, b.range AS y FROM range(1000000) a, range(1000000) b',
    [],
  );
  const cursor = await query.execute([]);
  assert.ok(await cursor.next());
  // DuckDB ends an interrupted stream as if it were complete; the executor must not report success.
  session.interrupt('canceling statement due to statement timeout');
  const error = await drainExpectingError(cursor);
  assert.is(error.code, '57014');
  assert.is(error.message, 'canceling statement due to statement timeout');
  cursor.close();
  query.close();
  assert.equal((await run(session, 'SELECT 1 AS ok')).rows, [[1]]);
});

test('interrupt() while the client is pulling a stream', async () => {
  const query = await session.prepare(
    'SELECT a.range AS x, b.range AS y FROM range(1000000) a, range(1000000) b',
    [],
  );
  const cursor = await query.execute([]);
  const timer = setTimeout(() => session.interrupt(), 100);
  const error = await drainExpectingError(cursor);
  clearTimeout(timer);
  assert.is(error.code, '57014');
  assert.ok(cursor.rowsChanged > 0, 'some rows were returned before the interrupt');
  cursor.close();
  query.close();
});

test('an interrupt while idle does not cancel the next statement', async () => {
  session.interrupt();
  assert.equal((await run(session, 'SELECT 7 AS n')).rows, [[7]]);
});

test('closing a half-read cursor frees the connection for the next statement', async () => {
  const query = await session.prepare(WIDE, []);
  const cursor = await query.execute([]);
  await cursor.next();
  cursor.close();
  assert.is(await cursor.next(), null);
  query.close();
  assert.equal((await run(session, 'SELECT 8 AS n')).rows, [[8]]);
});

test.run();
