import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type MallardServer, startMallard } from '../helpers/mallard.js';

// SQL cursors and portals left open while other statements run on the same session.

let server: MallardServer;
let c: pg.Client;

test.before(async () => {
  server = await startMallard();
  c = new pg.Client({ connectionString: server.url });
  await c.connect();
});

test.after(async () => {
  await c?.end();
  await server?.stop();
});

const ids = (r: pg.QueryResult) => r.rows.map((row) => Number(row.i));

async function failsWith(sql: string, message: string): Promise<void> {
  try {
    await c.query(sql);
  } catch (err) {
    assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable(`${sql} succeeded`);
}

test('a WITH HOLD cursor keeps its rows after COMMIT', async () => {
  await c.query('BEGIN');
  await c.query('DECLARE held CURSOR WITH HOLD FOR SELECT i FROM range(10) t(i) ORDER BY i');
  assert.equal(ids(await c.query('FETCH 3 FROM held')), [0, 1, 2]);
  await c.query('COMMIT');
  assert.equal(ids(await c.query('FETCH 4 FROM held')), [3, 4, 5, 6]);
  assert.equal(ids(await c.query('FETCH ALL FROM held')), [7, 8, 9]);
  await c.query('CLOSE held');
});

test('a cursor without HOLD ends with its transaction; DECLARE outside one is refused', async () => {
  await c.query('BEGIN');
  await c.query('DECLARE brief CURSOR FOR SELECT 1');
  await c.query('COMMIT');
  await failsWith('FETCH 1 FROM brief', 'cursor "brief" does not exist');
  await failsWith('DECLARE outside CURSOR FOR SELECT 1', 'can only be used in transaction blocks');
});

test('two cursors read in turns, with other statements in between, each see all their rows', async () => {
  await c.query('BEGIN');
  await c.query('DECLARE a CURSOR FOR SELECT i FROM range(5000) t(i) ORDER BY i');
  await c.query('DECLARE b CURSOR FOR SELECT i * 10 AS i FROM range(5000) t(i) ORDER BY i');
  const seenA: number[] = [];
  const seenB: number[] = [];
  for (let k = 0; k < 5; k++) {
    seenA.push(...ids(await c.query('FETCH 1000 FROM a')));
    await c.query('SELECT 42');
    seenB.push(...ids(await c.query('FETCH 1000 FROM b')));
  }
  await c.query('COMMIT');
  assert.equal(seenA, [...Array(5000).keys()]);
  assert.equal(
    seenB,
    [...Array(5000).keys()].map((i) => i * 10),
  );
});

test.run();
