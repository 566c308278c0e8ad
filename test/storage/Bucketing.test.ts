// Hash distribution: every row sits in bucket hash(key) % buckets, whichever path wrote it (files,
// inline buffer, update, compaction, a later process), and co-located tables put equal keys in equal
// buckets, so a bucket-by-bucket join equals the whole join.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TableRef } from '../../src/catalog/CatalogModel.js';
import { removeDir, tempDataDir } from '../catalog/dataDirHelpers.js';
import { closeFixture, type Fixture, openFixture, rejectsWith, scalar } from './storageHelpers.js';

const ORDERS = { schema: 'public', name: 'orders' };
const LINEITEM = { schema: 'public', name: 'lineitem' };
const BUCKETS = 8;

/** (key, bucket) of every row, by reading each bucket's task on its own, into a DuckDB table. */
async function placements(f: Fixture, ref: TableRef, key: string, into: string): Promise<void> {
  const snap = f.catalog.snapshot();
  try {
    const tasks = f.storage.scanTasks(snap, ref);
    assert.is(tasks.length, BUCKETS);
    const parts = tasks.map((t) => `SELECT ${key} AS k, ${t.bucket} AS b FROM (${t.sql})`);
    await f.conn.run(`CREATE OR REPLACE TABLE ${into} AS ${parts.join(' UNION ALL ')}`);
  } finally {
    snap.release();
  }
}

async function assertPlacedByHash(f: Fixture, placed: string, label: string): Promise<void> {
  const wrong = await scalar(
    f.conn,
    `SELECT count(*) FROM ${placed} WHERE b <> CAST(hash(k) % ${BUCKETS} AS INTEGER)`,
  );
  assert.is(Number(wrong), 0, `${label}: rows outside their bucket`);
}

test('hash buckets are deterministic, kept by every write path, and shared by co-located tables', async () => {
  const dir = await tempDataDir('mallard-buckets-');
  let f = await openFixture(dir, { rowGroupSize: 2048 });
  try {
    let txn = f.catalog.begin();
    const orders = await f.storage.createTable(txn, {
      ...ORDERS,
      columns: [
        { name: 'o_orderkey', type: 'BIGINT' },
        { name: 'o_total', type: 'DECIMAL(12,2)' },
      ],
      constraints: [{ kind: 'primary key', columns: ['o_orderkey'] }],
      distribution: { kind: 'hash', column: 'o_orderkey', buckets: BUCKETS },
    });
    const lineitem = await f.storage.createTable(txn, {
      ...LINEITEM,
      columns: [
        { name: 'l_orderkey', type: 'BIGINT' },
        { name: 'l_line', type: 'INTEGER' },
      ],
      distribution: { kind: 'hash', column: 'l_orderkey', buckets: BUCKETS, colocateWith: ORDERS },
    });
    assert.equal(orders!.distribution.kind, 'hash');
    assert.equal(
      (orders!.distribution as { group: number }).group,
      (lineitem!.distribution as { group: number }).group,
      'one colocation group',
    );
    // orders: bulk files plus single-row inserts; lineitem: other batches, in another order.
    await f.storage.insertBulk(txn, ORDERS, 'SELECT range, range / 100 FROM range(30000)');
    for (const k of [90001, 90002, 90003]) await f.storage.insert(txn, ORDERS, `SELECT ${k}, 1`);
    await f.storage.insertBulk(txn, LINEITEM, 'SELECT 29999 - range // 3, range % 3 FROM range(60000)');
    await f.storage.insertBulk(txn, LINEITEM, 'SELECT unnest([90003, 90001, 90002]), 0');
    await txn.commit();

    const snap = f.catalog.snapshot();
    const t = snap.requireTable(ORDERS);
    assert.ok(
      t.files.every((x) => x.bucket !== null && x.bucket < BUCKETS),
      'every file has one bucket',
    );
    assert.ok(
      t.inline.every((b) => b.rows.every((r) => r.bucket !== null)),
      'inline rows have their bucket',
    );
    snap.release();

    await placements(f, ORDERS, 'o_orderkey', 'po');
    await placements(f, LINEITEM, 'l_orderkey', 'pl');
    await assertPlacedByHash(f, 'po', 'orders');
    await assertPlacedByHash(f, 'pl', 'lineitem');
    const mismatched = await scalar(f.conn, 'SELECT count(*) FROM po JOIN pl USING (k) WHERE po.b <> pl.b');
    assert.is(Number(mismatched), 0, 'equal keys, equal buckets');

    // Bucket i of orders joined with bucket i of lineitem, summed, is the whole join.
    const s2 = f.catalog.snapshot();
    const ot = f.storage.scanTasks(s2, ORDERS);
    const lt = f.storage.scanTasks(s2, LINEITEM);
    let bucketwise = 0;
    for (let b = 0; b < BUCKETS; b++) {
      bucketwise += Number(
        await scalar(
          f.conn,
          `SELECT count(*) FROM (${ot[b]!.sql}) AS o JOIN (${lt[b]!.sql}) AS l ON o.o_orderkey = l.l_orderkey`,
        ),
      );
    }
    const whole = Number(
      await scalar(
        f.conn,
        `SELECT count(*) FROM (${f.storage.relation(s2, ORDERS)}) AS o JOIN (${f.storage.relation(s2, LINEITEM)}) AS l ON o.o_orderkey = l.l_orderkey`,
      ),
    );
    assert.is(whole, 60003);
    assert.is(bucketwise, whole);
    s2.release();

    // Updates (new row versions), compaction and a new process keep the placement.
    txn = f.catalog.begin();
    await f.storage.update(txn, ORDERS, { o_total: 'o_total + 1' }, 'o_orderkey % 1000 = 0');
    await txn.commit();
    await f.storage.vacuum(ORDERS, { full: true });
    await closeFixture(f);
    f = await openFixture(dir, { rowGroupSize: 2048 });
    txn = f.catalog.begin();
    await f.storage.createTable(txn, {
      schema: 'public',
      name: 'later',
      columns: [{ name: 'k', type: 'BIGINT' }],
      distribution: { kind: 'hash', column: 'k', buckets: BUCKETS, colocateWith: 'default' },
    });
    await f.storage.insertBulk(txn, { schema: 'public', name: 'later' }, 'SELECT range * 7 FROM range(5000)');
    await txn.commit();
    assert.is(
      (
        f.catalog.snapshot().requireTable({ schema: 'public', name: 'later' }).def.distribution as {
          group: number;
        }
      ).group,
      (orders!.distribution as { group: number }).group,
      'the default colocation joins the group of the same key type and bucket count',
    );
    await placements(f, ORDERS, 'o_orderkey', 'po2');
    await placements(f, { schema: 'public', name: 'later' }, 'k', 'pk');
    await assertPlacedByHash(f, 'po2', 'orders after update, vacuum and restart');
    await assertPlacedByHash(f, 'pk', 'a table created by a later process');
    const later = await scalar(f.conn, 'SELECT count(*) FROM po2 JOIN pk USING (k) WHERE po2.b <> pk.b');
    assert.is(Number(later), 0);
    assert.is(Number(await scalar(f.conn, 'SELECT count(*) FROM po2 JOIN pk USING (k)')), 4286);
  } finally {
    await closeFixture(f);
    await removeDir(dir);
  }
});

test('distributing a table with rows rewrites them into buckets; mismatched colocation is refused', async () => {
  const dir = await tempDataDir('mallard-buckets-');
  const f = await openFixture(dir);
  try {
    const txn = f.catalog.begin();
    await f.storage.createTable(txn, { ...ORDERS, columns: [{ name: 'o_orderkey', type: 'INTEGER' }] });
    await f.storage.insertBulk(txn, ORDERS, 'SELECT range FROM range(1000)');
    await f.storage.insert(txn, ORDERS, 'SELECT 5000');
    await f.storage.distribute(txn, ORDERS, { kind: 'hash', column: 'o_orderkey', buckets: BUCKETS });
    await f.storage.createTable(txn, { ...LINEITEM, columns: [{ name: 'l_orderkey', type: 'INTEGER' }] });
    await rejectsWith(
      f.storage.distribute(txn, LINEITEM, {
        kind: 'hash',
        column: 'l_orderkey',
        buckets: 4,
        colocateWith: ORDERS,
      }),
      '22023',
    );
    await f.storage.createTable(txn, {
      schema: 'public',
      name: 'nation',
      columns: [{ name: 'n', type: 'INTEGER' }],
    });
    await f.storage.insertBulk(txn, { schema: 'public', name: 'nation' }, 'SELECT range FROM range(25)');
    await f.storage.distribute(txn, { schema: 'public', name: 'nation' }, { kind: 'reference' });
    await txn.commit();
    await placements(f, ORDERS, 'o_orderkey', 'p');
    await assertPlacedByHash(f, 'p', 'redistributed');
    assert.is(Number(await scalar(f.conn, 'SELECT count(*) FROM p')), 1001);
    const snap = f.catalog.snapshot();
    assert.is(
      f.storage.scanTasks(snap, { schema: 'public', name: 'nation' }).length,
      1,
      'a reference table is one task',
    );
    snap.release();
  } finally {
    await closeFixture(f);
    await removeDir(dir);
  }
});

test.run();
