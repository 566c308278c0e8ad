// Sessions of the table layer side by side on one catalog: snapshot isolation, first committer wins,
// readers see consistent snapshots while writers commit, and a disconnect rolls back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PgError } from '../../protocol/pg/PgError.js';
import { openTables, q, type TablesFixture } from './tablesFixture.js';

let f: TablesFixture;

test.before(async () => {
  f = await openTables();
});
test.after(async () => {
  await f?.dispose();
});

async function fails(promise: Promise<unknown>): Promise<PgError> {
  try {
    await promise;
  } catch (err) {
    assert.instance(err, PgError);
    return err as PgError;
  }
  throw new Error('expected a failure');
}

test('two transactions writing the same table: the second to commit gets 40001', async () => {
  const a = await f.session();
  const b = await f.session();
  await q(a, 'CREATE TABLE acct (id int PRIMARY KEY, balance int)');
  await q(a, 'INSERT INTO acct VALUES (1, 100), (2, 100)');
  await q(a, 'BEGIN TRANSACTION');
  await q(b, 'BEGIN TRANSACTION');
  await q(a, 'UPDATE acct SET balance = balance - 10 WHERE id = 1');
  await q(b, 'UPDATE acct SET balance = balance + 10 WHERE id = 2');
  // Each sees its own write only.
  assert.equal((await q(a, 'SELECT balance FROM acct ORDER BY id')).rows, [[90], [100]]);
  assert.equal((await q(b, 'SELECT balance FROM acct ORDER BY id')).rows, [[100], [110]]);
  await q(a, 'COMMIT');
  const err = await fails(q(b, 'COMMIT'));
  assert.is(err.code, '40001');
  // b's update is gone; a's is there; b is usable again.
  assert.equal((await q(b, 'SELECT id, balance FROM acct ORDER BY id')).rows, [
    [1, 90],
    [2, 100],
  ]);
});

test('writers to different tables both commit', async () => {
  const a = await f.session();
  const b = await f.session();
  await q(a, 'CREATE TABLE left_t (v int)');
  await q(a, 'CREATE TABLE right_t (v int)');
  await q(a, 'BEGIN TRANSACTION');
  await q(b, 'BEGIN TRANSACTION');
  await q(a, 'INSERT INTO left_t VALUES (1)');
  await q(b, 'INSERT INTO right_t VALUES (2)');
  await q(a, 'COMMIT');
  await q(b, 'COMMIT');
  const c = await f.session();
  assert.equal(
    (await q(c, 'SELECT (SELECT sum(v) FROM left_t) AS l, (SELECT sum(v) FROM right_t) AS r')).rows,
    [[1, 2]],
  );
});

test('a reader inside a transaction keeps its snapshot while others commit', async () => {
  const w = await f.session();
  const r = await f.session();
  await q(w, 'CREATE TABLE snap (id int, v int)');
  await q(w, 'INSERT INTO snap SELECT i, 1 FROM range(100) AS t(i)');
  await q(r, 'BEGIN TRANSACTION');
  assert.equal((await q(r, 'SELECT count(*), sum(v) FROM snap')).rows, [[100, 100]]);
  await q(w, 'UPDATE snap SET v = 2');
  await q(w, 'DELETE FROM snap WHERE id < 50');
  assert.equal((await q(r, 'SELECT count(*), sum(v) FROM snap')).rows, [[100, 100]]);
  await q(r, 'COMMIT');
  assert.equal((await q(r, 'SELECT count(*), sum(v) FROM snap')).rows, [[50, 100]]);
});

test('concurrent transfers: no lost update, no torn read', async () => {
  const setup = await f.session();
  await q(setup, 'CREATE TABLE bank (id int PRIMARY KEY, balance bigint)');
  await q(setup, 'INSERT INTO bank SELECT i, 1000 FROM range(10) AS t(i)');
  const writers = await Promise.all([f.session(), f.session(), f.session()]);
  const reader = await f.session();
  let stop = false;
  let committed = 0;
  let conflicts = 0;
  const sums: number[] = [];
  const readLoop = (async () => {
    while (!stop) {
      const { rows } = await q(reader, 'SELECT sum(balance) FROM bank');
      sums.push(rows[0]![0] as number);
    }
  })();
  await Promise.all(
    writers.map(async (w, k) => {
      for (let i = 0; i < 15; i++) {
        const from = (k * 3 + i) % 10;
        const to = (from + 1 + k) % 10;
        try {
          await q(w, 'BEGIN TRANSACTION');
          await q(w, `UPDATE bank SET balance = balance - 7 WHERE id = ${from}`);
          await q(w, `UPDATE bank SET balance = balance + 7 WHERE id = ${to}`);
          await q(w, 'COMMIT');
          committed++;
        } catch (err) {
          assert.is((err as PgError).code, '40001');
          conflicts++;
          await q(w, 'ROLLBACK').catch(() => {});
        }
      }
    }),
  );
  stop = true;
  await readLoop;
  assert.ok(committed > 0, 'some transfers committed');
  assert.ok(sums.length > 0, 'the reader ran');
  for (const s of sums) assert.is(s, 10_000, 'every read sees a whole number of transfers');
  assert.equal((await q(reader, 'SELECT sum(balance) FROM bank')).rows, [[10_000]]);
  // Not a tautology: the conflicts counted here were real first-committer-wins failures.
  assert.is(committed + conflicts, 45);
});

test('a disconnect rolls back the open transaction', async () => {
  const a = await f.session();
  await q(a, 'CREATE TABLE gone (v int)');
  await q(a, 'BEGIN TRANSACTION');
  await q(a, 'INSERT INTO gone VALUES (1), (2)');
  await a.close();
  const b = await f.session();
  assert.equal((await q(b, 'SELECT count(*) FROM gone')).rows, [[0]]);
});

test('a running query keeps its files: compaction waits for the cursor to close', async () => {
  const s = await f.session();
  await q(s, 'CREATE TABLE held (v int)');
  for (let i = 0; i < 5; i++)
    await q(s, `INSERT INTO held SELECT j FROM range(${i * 1000}, ${(i + 1) * 1000}) AS t(j)`);
  const query = await s.prepare('SELECT v FROM held', []);
  const cursor = await query.execute([]);
  // Compact to one file and collect garbage while the cursor is open: the old files must survive.
  const result = await f.storage.vacuum({ schema: 'public', name: 'held' }, { full: true });
  assert.ok(result.filesRemoved >= 5, 'the vacuum replaced the files');
  await f.catalog.collectGarbage();
  let rows = 0;
  for (let b = await cursor.next(); b; b = await cursor.next()) rows += b.rowCount;
  cursor.close();
  query.close();
  assert.is(rows, 5000);
});

test('statements prepared while compaction replaces the files bind to files that exist', async () => {
  const s = await f.session();
  await q(s, 'CREATE TABLE churned (v int)');
  for (let i = 0; i < 5; i++)
    await q(s, `INSERT INTO churned SELECT j FROM range(${i * 1000}, ${(i + 1) * 1000}) AS t(j)`);
  // Full vacuums back to back: each replaces every file, and the old ones go once no snapshot reads them.
  let stop = false;
  let vacuums = 0;
  const churn = (async () => {
    while (!stop) {
      await f.storage.vacuum({ schema: 'public', name: 'churned' }, { full: true });
      vacuums++;
    }
  })();
  const failures: string[] = [];
  try {
    for (let i = 0; i < 300; i++) {
      try {
        const query = await s.prepare('SELECT count(*) FROM churned', []);
        try {
          const cursor = await query.execute([]);
          const batch = await cursor.next();
          cursor.close();
          assert.is(Number(batch?.columns[0]?.getItem(0)), 5000);
        } finally {
          query.close();
        }
      } catch (err) {
        failures.push(String(err));
      }
    }
  } finally {
    stop = true;
    await churn;
  }
  assert.ok(vacuums >= 10, `${vacuums} vacuums ran alongside`);
  assert.equal(failures.slice(0, 3), [], `${failures.length} of 300 statements failed`);
});

test.run();
