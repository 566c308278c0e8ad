// The transactional catalog on a real data directory: snapshot isolation, atomic and durable commits,
// first-committer-wins, sequences, DDL rules, recovery and file reclamation.
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PgError } from '../../protocol/pg/PgError.js';
import { Catalog } from '../../src/catalog/Catalog.js';
import type { DataFile } from '../../src/catalog/CatalogModel.js';
import type { CatalogTransaction } from '../../src/catalog/CatalogTransaction.js';
import { listFiles, removeDir, tempDataDir } from './dataDirHelpers.js';

const T = { schema: 'public', name: 't' };
const U = { schema: 'public', name: 'u' };

/** A file on disk under a fresh write directory of the table, as TableStorage would write it. */
async function fakeFile(
  dataDir: string,
  txn: CatalogTransaction,
  table: number,
  rows = 10,
): Promise<DataFile> {
  const dir = `tables/${table}/w${Math.random().toString(36).slice(2)}`;
  txn.trackWrite(dir);
  await mkdir(join(dataDir, dir), { recursive: true });
  await writeFile(join(dataDir, dir, 'part_0.parquet'), 'not really parquet');
  return {
    id: txn.catalog.allocateIds(),
    path: `${dir}/part_0.parquet`,
    rows,
    bytes: 18,
    bucket: null,
    columns: [],
    stats: {},
  };
}

async function rejects(p: Promise<unknown>, code: string): Promise<PgError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, PgError);
    assert.is((err as PgError).code, code, (err as Error).message);
    return err as PgError;
  }
  assert.unreachable(`expected SQLSTATE ${code}`);
  throw new Error('unreachable');
}

function throws(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, PgError);
    assert.is((err as PgError).code, code, (err as Error).message);
    return;
  }
  assert.unreachable(`expected SQLSTATE ${code}`);
}

async function withCatalog(fn: (catalog: Catalog, dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDataDir();
  const catalog = await Catalog.open(dir);
  try {
    await fn(catalog, dir);
  } finally {
    await catalog.close();
    await removeDir(dir);
  }
}

function createT(txn: CatalogTransaction, name = 't'): number {
  return txn.createTable({ schema: 'public', name, columns: [{ name: 'a', type: 'INTEGER' }] })!.id;
}

test('a commit is visible to later snapshots only; earlier snapshots keep their version', () =>
  withCatalog(async (catalog, dir) => {
    const before = catalog.snapshot();
    const txn = catalog.begin();
    const id = createT(txn);
    const f = await fakeFile(dir, txn, id, 7);
    txn.addFiles(id, [f]);
    // The transaction sees its own writes; nobody else does yet.
    assert.is(txn.view.rowCount(T), 7);
    assert.is(catalog.snapshot().table(T), undefined);
    const v = await txn.commit();
    assert.is(v, before.version + 1);
    assert.is(before.table(T), undefined, 'an old snapshot never changes');
    const after = catalog.snapshot();
    assert.is(after.rowCount(T), 7);
    assert.equal(after.requireTable(T).files[0]!.path, f.path);
    before.release();
    after.release();
  }));

test('rollback discards the changes and the files written for them', () =>
  withCatalog(async (catalog, dir) => {
    const setup = catalog.begin();
    const id = createT(setup);
    await setup.commit();
    const txn = catalog.begin();
    const f = await fakeFile(dir, txn, id);
    txn.addFiles(id, [f]);
    const version = catalog.version;
    await txn.rollback();
    assert.is(catalog.version, version);
    const s = catalog.snapshot();
    assert.is(s.rowCount(T), 0);
    s.release();
    assert.equal(await listFiles(dir, 'tables'), []);
  }));

test('first committer wins: a second writer of the same table gets 40001, other tables commit', () =>
  withCatalog(async (catalog, dir) => {
    const setup = catalog.begin();
    const t = createT(setup, 't');
    const u = createT(setup, 'u');
    await setup.commit();

    const a = catalog.begin();
    const b = catalog.begin();
    const c = catalog.begin();
    a.addFiles(t, [await fakeFile(dir, a, t, 1)]);
    b.addFiles(t, [await fakeFile(dir, b, t, 2)]);
    c.addFiles(u, [await fakeFile(dir, c, u, 3)]);
    await a.commit();
    const err = await rejects(b.commit(), '40001');
    assert.match(err.message, 'could not serialize access');
    await c.commit();
    const s = catalog.snapshot();
    assert.is(s.rowCount(T), 1, "the loser's rows are not there");
    assert.is(s.rowCount(U), 3);
    s.release();
    await catalog.collectGarbage();
    // The loser's write directory is gone; the winners' files stay.
    assert.is((await listFiles(dir, 'tables')).length, 2);
  }));

test('readers never block writers, and files a pinned snapshot reads outlive their removal', () =>
  withCatalog(async (catalog, dir) => {
    const setup = catalog.begin();
    const t = createT(setup);
    const f = await fakeFile(dir, setup, t);
    setup.addFiles(t, [f]);
    await setup.commit();

    const reader = catalog.snapshot();
    const truncate = catalog.begin();
    truncate.removeFiles(t, [f.id]);
    await truncate.commit(); // does not wait for the reader
    await catalog.collectGarbage();
    assert.ok((await listFiles(dir)).includes(f.path), 'still readable by the pinned snapshot');
    assert.is(reader.rowCount(T), 10);
    reader.release();
    await catalog.collectGarbage();
    assert.not.ok((await listFiles(dir)).includes(f.path), 'reclaimed once nobody reads it');
  }));

test('maintenance yields to user writes, and appends do not conflict with maintenance', () =>
  withCatalog(async (catalog, dir) => {
    const setup = catalog.begin();
    const t = createT(setup);
    const f1 = await fakeFile(dir, setup, t);
    setup.addFiles(t, [f1]);
    await setup.commit();

    // A compaction that started before a user DELETE loses, whoever commits first.
    const vacuum = catalog.begin({ maintenance: true });
    const user = catalog.begin();
    user.addDeletes(t, f1.id, [1, 2]);
    await user.commit();
    vacuum.removeFiles(t, [f1.id]);
    vacuum.addFiles(t, [await fakeFile(dir, vacuum, t, 10)]);
    await rejects(vacuum.commit(), '40001');

    // An INSERT (append) and a compaction commit in either order.
    const fold = catalog.begin({ maintenance: true });
    const insert = catalog.begin();
    insert.addFiles(t, [await fakeFile(dir, insert, t, 5)]);
    fold.removeFiles(t, [f1.id]);
    fold.addFiles(t, [await fakeFile(dir, fold, t, 8)]);
    await fold.commit();
    await insert.commit();
    const s = catalog.snapshot();
    assert.is(s.rowCount(T), 13);
    s.release();
  }));

test('commits are durable: a reopened catalog has every schema, table, view, sequence and file', async () => {
  const dir = await tempDataDir();
  try {
    let catalog = await Catalog.open(dir, { checkpointEvery: 3 });
    for (let i = 0; i < 10; i++) {
      const txn = catalog.begin();
      const id = createT(txn, `t${i}`);
      txn.addFiles(id, [await fakeFile(dir, txn, id, i + 1)]);
      await txn.commit();
    }
    const ddl = catalog.begin();
    ddl.createSchema('s2');
    ddl.createView({ schema: 's2', name: 'v', sql: 'SELECT 1' });
    ddl.createSequence({ schema: 's2', name: 'seq', start: 100n });
    await ddl.commit();
    const version = catalog.version;
    await catalog.close();

    catalog = await Catalog.open(dir, { checkpointEvery: 3 });
    assert.is(catalog.version, version);
    assert.ok(catalog.recovery.replayed < 4, 'most of the history comes from a checkpoint');
    const s = catalog.snapshot();
    for (let i = 0; i < 10; i++) assert.is(s.rowCount({ schema: 'public', name: `t${i}` }), i + 1);
    assert.ok(s.view({ schema: 's2', name: 'v' }));
    assert.is(await catalog.nextval({ schema: 's2', name: 'seq' }), 100n);
    s.release();
    const names = await readdir(join(dir, 'catalog'));
    assert.ok(names.length <= 5, `old logs are dropped after a checkpoint: ${names}`);
    await catalog.close();
  } finally {
    await removeDir(dir);
  }
});

test('one owner at a time: a second open of a data directory in use is refused', async () => {
  const dir = await tempDataDir();
  try {
    const first = await Catalog.open(dir);
    try {
      await Catalog.open(dir);
      assert.unreachable('the second open must fail');
    } catch (err) {
      assert.match((err as Error).message, `in use by process ${process.pid}`);
    }
    await first.close();
    await (await Catalog.open(dir)).close();
  } finally {
    await removeDir(dir);
  }
});

test('recovery removes files that no committed version references', async () => {
  const dir = await tempDataDir();
  try {
    let catalog = await Catalog.open(dir);
    const txn = catalog.begin();
    const t = createT(txn);
    const kept = await fakeFile(dir, txn, t);
    txn.addFiles(t, [kept]);
    await txn.commit();
    // What a crash in the middle of a write leaves: a file nobody committed, and a catalog temporary.
    const open = catalog.begin();
    const orphan = await fakeFile(dir, open, t);
    await writeFile(join(dir, 'catalog', '.abc.tmp'), '{');
    await catalog.close();

    catalog = await Catalog.open(dir);
    assert.ok(catalog.recovery.removed.some((p) => p.endsWith(orphan.path)));
    assert.equal(await listFiles(dir, 'tables'), [kept.path]);
    assert.not.ok((await readdir(join(dir, 'catalog'))).some((n) => n.endsWith('.tmp')));
    await catalog.close();
  } finally {
    await removeDir(dir);
  }
});

test('sequences: nextval never repeats a value, even across a restart; setval; SERIAL columns', async () => {
  const dir = await tempDataDir();
  try {
    let catalog = await Catalog.open(dir, { sequenceReserve: 4 });
    const txn = catalog.begin();
    const def = txn.createTable({
      schema: 'public',
      name: 'items',
      columns: [
        { name: 'id', type: 'INTEGER', serial: true },
        { name: 'x', type: 'BIGINT', identity: 'by default' },
      ],
    })!;
    const idCol = def.columns[0]!;
    assert.is(idCol.default, `nextval('"public"."items_id_seq"')`);
    assert.ok(idCol.notNull);
    // A sequence created in the transaction hands out values locally until commit.
    assert.is(await txn.nextval(idCol.sequence!), 1n);
    assert.is(await txn.nextval(idCol.sequence!), 2n);
    await txn.commit();
    const seq = { schema: 'public', name: 'items_id_seq' };
    assert.is(await catalog.nextval(seq), 3n);
    assert.is(await catalog.nextval(seq), 4n);
    assert.is(await catalog.nextval(seq), 5n);
    await catalog.close();

    catalog = await Catalog.open(dir, { sequenceReserve: 4 });
    const after = await catalog.nextval(seq);
    assert.ok(after > 5n, `no value is handed out twice (${after})`);
    await catalog.setval(seq, 42n);
    assert.is(await catalog.nextval(seq), 43n);
    await catalog.setval(seq, 7n, false);
    assert.is(await catalog.nextval(seq), 7n);
    assert.is(catalog.lastValue(seq), 7n);
    const s = catalog.snapshot().sequence({ schema: 'public', name: 'items_x_seq' });
    assert.is(s?.def.max, '9223372036854775807');
    await rejects(catalog.setval(seq, 3_000_000_000n), '22003');
    // Dropping the table drops its owned sequences.
    const drop = catalog.begin();
    drop.dropTable({ schema: 'public', name: 'items' });
    await drop.commit();
    assert.is(catalog.snapshot().sequence(seq), undefined);
    await catalog.close();
  } finally {
    await removeDir(dir);
  }
});

test('DDL keeps PostgreSQL rules: duplicates, dependencies, CASCADE, constraint names', () =>
  withCatalog(async (catalog) => {
    const txn = catalog.begin();
    throws(() => txn.createSchema('public'), '42P06');
    assert.is(txn.createSchema('public', { ifNotExists: true }), null);
    const def = txn.createTable({
      schema: 'public',
      name: 't',
      columns: [
        { name: 'a', type: 'INTEGER' },
        { name: 'b', type: 'VARCHAR' },
      ],
      constraints: [
        { kind: 'primary key', columns: ['a'] },
        { kind: 'unique', columns: ['b'] },
        { kind: 'check', columns: ['a'], expression: 'a > 0' },
        { kind: 'check', columns: ['a', 'b'], expression: 'a < length(b)' },
      ],
    })!;
    assert.equal(
      def.constraints.map((k) => k.name),
      ['t_pkey', 't_b_key', 't_a_check', 't_check'],
    );
    throws(
      () => txn.createTable({ schema: 'public', name: 't', columns: [{ name: 'x', type: 'INTEGER' }] }),
      '42P07',
    );
    assert.is(txn.createTable({ schema: 'public', name: 't', columns: [] }, { ifNotExists: true }), null);
    throws(
      () => txn.createTable({ schema: 'nope', name: 'x', columns: [{ name: 'x', type: 'INTEGER' }] }),
      '3F000',
    );
    txn.createView({ schema: 'public', name: 'v', sql: 'SELECT a FROM t', dependsOn: [def.id] });
    throws(() => txn.createView({ schema: 'public', name: 't', sql: 'SELECT 1' }), '42P07');
    throws(() => txn.dropTable(T), '2BP01');
    txn.renameColumn(T, 'b', 'c');
    throws(() => txn.renameColumn(T, 'zz', 'y'), '42703');
    txn.dropColumn(T, 'c');
    assert.equal(
      txn.view.requireTable(T).def.constraints.map((k) => k.name),
      ['t_pkey', 't_a_check'],
      'constraints on a dropped column go with it',
    );
    txn.createIndex(T, { columns: ['a'] });
    throws(() => txn.createIndex(T, { name: 't_a_idx', columns: ['a'] }), '42P07');
    txn.dropTable(T, { cascade: true });
    assert.is(txn.view.view({ schema: 'public', name: 'v' }), undefined);
    txn.createSchema('s');
    txn.createTable({ schema: 's', name: 'x', columns: [{ name: 'x', type: 'INTEGER' }] });
    throws(() => txn.dropSchema('s'), '2BP01');
    txn.dropSchema('s', { cascade: true });
    assert.is(txn.view.schema('s'), undefined);
    await txn.commit();
  }));

test('conflicting DDL: concurrent CREATE TABLE of one name, and ALTER against DELETE', () =>
  withCatalog(async (catalog, dir) => {
    const a = catalog.begin();
    const b = catalog.begin();
    createT(a, 'same');
    createT(b, 'same');
    await a.commit();
    await rejects(b.commit(), '40001');

    const setup = catalog.begin();
    const t = createT(setup);
    const f = await fakeFile(dir, setup, t);
    setup.addFiles(t, [f]);
    await setup.commit();
    const alter = catalog.begin();
    const del = catalog.begin();
    alter.renameTable(t, 'renamed');
    del.addDeletes(t, f.id, [0]);
    await del.commit();
    await rejects(alter.commit(), '40001');
    const s = catalog.snapshot();
    assert.ok(s.table(T));
    assert.is(s.rowCount(T), 9);
    s.release();
  }));

test('a savepoint undoes one statement and keeps the transaction', () =>
  withCatalog(async (catalog, dir) => {
    const txn = catalog.begin();
    const t = createT(txn);
    txn.addFiles(t, [await fakeFile(dir, txn, t, 3)]);
    const sp = txn.savepoint();
    const undone = await fakeFile(dir, txn, t, 4);
    txn.addFiles(t, [undone]);
    await txn.rollbackTo(sp);
    assert.is(txn.view.rowCount(t), 3);
    assert.not.ok((await listFiles(dir)).includes(undone.path), 'the undone statement left no file');
    await txn.commit();
    const s = catalog.snapshot();
    assert.is(s.rowCount(T), 3);
    s.release();
  }));

test('the orphan sweep removes only old files nothing accounts for', async () => {
  await withCatalog(async (catalog, dir) => {
    const setup = catalog.begin();
    const t = createT(setup);
    const kept = await fakeFile(dir, setup, t);
    setup.addFiles(t, [kept]);
    await setup.commit();
    // What a worker declared dead left after its attempt folder was cleaned up, written long ago...
    const zombie = `tables/${t}/wload/t0a1/part_0.parquet`;
    await mkdir(join(dir, 'tables', String(t), 'wload', 't0a1'), { recursive: true });
    await writeFile(join(dir, zombie), 'late');
    const longAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(dir, zombie), longAgo, longAgo);
    // ...one written just now, and an old file in the write directory of a transaction in progress.
    const fresh = `tables/${t}/wfresh/part_0.parquet`;
    await mkdir(join(dir, 'tables', String(t), 'wfresh'), { recursive: true });
    await writeFile(join(dir, fresh), 'new');
    const open = catalog.begin();
    const pending = await fakeFile(dir, open, t);
    await utimes(join(dir, pending.path), longAgo, longAgo);
    await utimes(join(dir, kept.path), longAgo, longAgo);

    assert.equal(await catalog.sweepOrphans(60_000), [zombie]);
    const files = await listFiles(dir, 'tables');
    assert.equal(files, [kept.path, pending.path, fresh].sort());
    assert.not.ok(
      files.some((f) => f.includes('wload')),
      'the emptied folders went too',
    );

    // Once its transaction rolls back the pending file is gone anyway; a later sweep finds the fresh one.
    await open.rollback();
    assert.equal(await catalog.sweepOrphans(0), [fresh]);
    assert.equal(await listFiles(dir, 'tables'), [kept.path]);
  });
});

test.run();
