// NOT NULL, CHECK, PRIMARY KEY and UNIQUE are enforced across every file and the inline buffer, and a
// violating statement changes nothing: not the rows, not the catalog, not the files on disk.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TableRef } from '../../src/catalog/CatalogModel.js';
import type { CatalogTransaction } from '../../src/catalog/CatalogTransaction.js';
import { listFiles } from '../catalog/dataDirHelpers.js';
import { type Fixture, rejectsWith, scalar, withStorage } from './storageHelpers.js';

const C = { schema: 'public', name: 'c' };

async function setup(f: Fixture): Promise<void> {
  const txn = f.catalog.begin();
  await f.storage.createTable(txn, {
    ...C,
    columns: [
      { name: 'id', type: 'INTEGER' },
      { name: 'email', type: 'VARCHAR' },
      { name: 'qty', type: 'INTEGER', notNull: true },
      { name: 'code', type: 'VARCHAR' },
    ],
    constraints: [
      { kind: 'primary key', columns: ['id'] },
      { kind: 'unique', columns: ['email'] },
      { kind: 'check', columns: ['qty'], expression: 'qty >= 0' },
      { kind: 'check', name: 'code_shape', columns: ['code'], expression: "code LIKE 'C%'" },
    ],
  });
  // Several files (old rows) plus a few inline rows.
  await f.storage.insertBulk(
    txn,
    C,
    "SELECT range, 'e' || range, range % 10, 'C' || range FROM range(10000)",
  );
  await f.storage.insertBulk(txn, C, "SELECT range, 'e' || range, 1, NULL FROM range(10000, 20000)");
  for (const id of [50000, 50001, 50002])
    await f.storage.insert(txn, C, `SELECT ${id}, 'inline${id}', 1, 'C'`);
  await txn.commit();
}

/** Everything a user or the disk could observe about the table. */
async function observe(f: Fixture, txn: CatalogTransaction, ref: TableRef): Promise<string> {
  const rel = f.storage.relation(txn.view, ref);
  const digest = await scalar(f.conn, `SELECT count(*) || ':' || sum(hash(t)) FROM (${rel}) AS t`);
  const t = txn.view.requireTable(ref);
  return JSON.stringify({
    digest,
    files: t.files.map((x) => x.path),
    inline: t.inline.length,
    deletes: [...t.deletes],
  });
}

async function unchangedAfter(
  f: Fixture,
  code: string,
  statement: (txn: CatalogTransaction) => Promise<unknown>,
  ref: TableRef = C,
): Promise<string> {
  const txn = f.catalog.begin();
  const before = await observe(f, txn, ref);
  const onDisk = await listFiles(f.dir, 'tables');
  const version = f.catalog.version;
  const err = await rejectsWith(statement(txn), code);
  assert.is(await observe(f, txn, ref), before, `${code}: the transaction's view is unchanged`);
  await txn.commit();
  assert.is(f.catalog.version, version, 'nothing to commit');
  await f.catalog.collectGarbage();
  assert.equal(await listFiles(f.dir, 'tables'), onDisk, 'no file left behind');
  return err.fields.detail ?? err.message;
}

test('NOT NULL and CHECK: 23502 and 23514, inline or bulk, table unchanged', () =>
  withStorage(async (f) => {
    await setup(f);
    await unchangedAfter(f, '23502', (t) => f.storage.insert(t, C, "SELECT 1000000, 'x', NULL, 'C'"));
    await unchangedAfter(f, '23502', (t) =>
      f.storage.insertBulk(
        t,
        C,
        "SELECT range + 100000, NULL, CASE WHEN range = 4999 THEN NULL ELSE 1 END, 'C' FROM range(5000)",
      ),
    );
    await unchangedAfter(f, '23514', (t) => f.storage.insert(t, C, "SELECT 1000000, 'x', -1, 'C'"));
    await unchangedAfter(f, '23514', (t) =>
      f.storage.insertBulk(t, C, "SELECT range + 100000, NULL, 1, 'X' FROM range(3000)"),
    );
    await unchangedAfter(f, '23514', (t) =>
      f.storage.update(t, C, { qty: 'qty - 5' }, 'id BETWEEN 10 AND 20'),
    );
    // NULL passes a CHECK, as in SQL.
    const txn = f.catalog.begin();
    await f.storage.insert(txn, C, "SELECT 1000000, 'x', 1, NULL");
    await txn.commit();
  }));

test('PRIMARY KEY and UNIQUE: 23505 against old files, inline rows and the statement itself', () =>
  withStorage(async (f) => {
    await setup(f);
    let detail = await unchangedAfter(f, '23505', (t) =>
      f.storage.insert(t, C, "SELECT 1234, 'fresh', 1, 'C'"),
    );
    assert.is(detail, 'Key (id)=(1234) already exists.');
    detail = await unchangedAfter(f, '23505', (t) =>
      f.storage.insertBulk(t, C, "SELECT range + 19000, 'new' || range, 1, 'C' FROM range(5000)"),
    );
    assert.match(detail, /^Key \(id\)=\(19\d\d\d\) already exists\.$/);
    detail = await unchangedAfter(f, '23505', (t) => f.storage.insert(t, C, "SELECT 50001, 'fresh', 1, 'C'"));
    assert.is(detail, 'Key (id)=(50001) already exists.', 'an inline row is checked too');
    await unchangedAfter(f, '23505', (t) =>
      f.storage.insert(t, C, "VALUES (60000, 'a', 1, 'C'), (60000, 'b', 1, 'C')"),
    );
    detail = await unchangedAfter(f, '23505', (t) => f.storage.insert(t, C, "SELECT 60000, 'e77', 1, 'C'"));
    assert.is(detail, 'Key (email)=(e77) already exists.');
    await unchangedAfter(f, '23505', (t) => f.storage.update(t, C, { email: "'e5'" }, 'id = 6'));
    await unchangedAfter(f, '23505', (t) =>
      f.storage.update(t, C, { id: 'id + 1' }, 'id BETWEEN 100 AND 105'),
    );
    // Earlier statements of the transaction count: a key it inserted is taken.
    await unchangedAfter(f, '23505', async (t) => {
      const sp = t.savepoint();
      await f.storage.insert(t, C, "SELECT 70000, NULL, 1, 'C'");
      try {
        await f.storage.insert(t, C, "SELECT 70000, NULL, 2, 'C'");
      } finally {
        await t.rollbackTo(sp);
      }
    });
  }));

test('keys whose text is not canonical (DOUBLE: -0.0 = 0.0) are compared by value, inline rows too', () =>
  withStorage(async (f) => {
    const D = { schema: 'public', name: 'd' };
    const txn = f.catalog.begin();
    await f.storage.createTable(txn, {
      ...D,
      columns: [{ name: 'k', type: 'DOUBLE' }],
      constraints: [{ kind: 'primary key', columns: ['k'] }],
    });
    await f.storage.insert(txn, D, 'SELECT 0.0');
    await f.storage.insert(txn, D, 'SELECT 1.5');
    await txn.commit();
    await unchangedAfter(f, '23505', (t) => f.storage.insert(t, D, 'SELECT -0.0'), D);
    await unchangedAfter(f, '23505', (t) => f.storage.insert(t, D, "SELECT '1.50'::DOUBLE"), D);
  }));

test('what UNIQUE allows: NULLs, an update that keeps its own key, a key freed in the same statement', () =>
  withStorage(async (f) => {
    await setup(f);
    const txn = f.catalog.begin();
    await f.storage.insert(txn, C, "VALUES (70001, NULL, 1, 'C'), (70002, NULL, 1, 'C')");
    assert.is(await f.storage.update(txn, C, { qty: 'qty + 1' }, 'id = 5'), 1);
    assert.is(await f.storage.update(txn, C, { id: 'id + 100000' }, 'id < 100'), 100);
    assert.is(await f.storage.delete(txn, C, 'id = 100007'), 1);
    await f.storage.insert(txn, C, "SELECT 7, 'e7', 1, 'C'");
    await txn.commit();
    const snap = f.catalog.snapshot();
    const rel = f.storage.relation(snap, C);
    assert.is(Number(await scalar(f.conn, `SELECT count(*) FROM (${rel})`)), 20000 + 3 + 2);
    assert.is(Number(await scalar(f.conn, `SELECT count(*) FROM (${rel}) WHERE email IS NULL`)), 2);
    snap.release();
  }));

test('ADD CONSTRAINT and SET NOT NULL check every existing row', () =>
  withStorage(async (f) => {
    await setup(f);
    await unchangedAfter(f, '23505', (t) =>
      f.storage.addConstraint(t, C, { kind: 'unique', columns: ['qty'] }),
    );
    await unchangedAfter(f, '23514', (t) =>
      f.storage.addConstraint(t, C, { kind: 'check', columns: ['id'], expression: 'id < 50001' }),
    );
    await unchangedAfter(f, '23502', (t) => f.storage.setNotNull(t, C, 'code'));
    const txn = f.catalog.begin();
    await f.storage.addConstraint(txn, C, { kind: 'check', columns: ['id'], expression: 'id < 60000' });
    await txn.commit();
    const names = f.catalog
      .snapshot()
      .requireTable(C)
      .def.constraints.map((k) => k.name);
    assert.ok(names.includes('c_id_check'));
    await unchangedAfter(f, '23514', (t) => f.storage.insert(t, C, "SELECT 60001, NULL, 1, 'C'"));
  }));

test.run();
