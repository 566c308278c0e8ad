// Table storage against a plain DuckDB table running the same statements: bulk and single-row
// writes, merge-on-read deletes and updates, compaction, the inline buffer, ALTER TABLE and scans.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { referencedPaths } from '../../src/catalog/dataPaths.js';
import { listFiles, removeDir, tempDataDir } from '../catalog/dataDirHelpers.js';
import {
  closeFixture,
  committedRows,
  type Fixture,
  openFixture,
  rejectsWith,
  scalar,
  withStorage,
} from './storageHelpers.js';

const T = { schema: 'public', name: 't' };

/** Rows that differ between the table at the newest version and the reference table `ref`, both ways. */
async function diffWithReference(f: Fixture): Promise<number> {
  const snap = f.catalog.snapshot();
  try {
    const rel = f.storage.relation(snap, T);
    const a = Number(
      await scalar(f.conn, `SELECT count(*) FROM ((SELECT * FROM ref) EXCEPT ALL (SELECT * FROM (${rel})))`),
    );
    const b = Number(
      await scalar(f.conn, `SELECT count(*) FROM ((SELECT * FROM (${rel})) EXCEPT ALL (SELECT * FROM ref))`),
    );
    return a + b;
  } finally {
    snap.release();
  }
}

async function createT(f: Fixture): Promise<void> {
  const txn = f.catalog.begin();
  await f.storage.createTable(txn, {
    ...T,
    columns: [
      { name: 'id', type: 'BIGINT' },
      { name: 'g', type: 'INTEGER' },
      { name: 's', type: 'VARCHAR' },
    ],
    constraints: [{ kind: 'primary key', columns: ['id'] }],
  });
  await txn.commit();
}

test('delete records and compaction keep exactly the right rows, and DML rewrites no file', () =>
  withStorage(
    async (f) => {
      await createT(f);
      const source =
        "SELECT range AS id, CAST(range % 100 AS INTEGER) AS g, 's' || range AS s FROM range(50000)";
      await f.conn.run(`CREATE TABLE ref AS ${source}`);
      let txn = f.catalog.begin();
      assert.is(await f.storage.insertBulk(txn, T, source), 50000);
      await txn.commit();
      const before = f.catalog.snapshot();
      const original = new Set(before.requireTable(T).files.map((x) => x.path));
      assert.ok(original.size >= 10, `balanced files of 4096 rows (${original.size})`);
      // Per-file statistics recorded at write time match the file's contents.
      const idColumn = before.requireTable(T).def.columns[0]!.id;
      for (const file of before.requireTable(T).files) {
        const actual = (
          await f.conn.runAndReadAll(
            `SELECT CAST(min(c${idColumn}) AS VARCHAR), CAST(max(c${idColumn}) AS VARCHAR), count(*) FROM '${f.dir}/${file.path}'`,
          )
        ).getRows()[0]!;
        assert.equal(
          [
            file.stats[String(idColumn)]!.min,
            file.stats[String(idColumn)]!.max,
            file.stats[String(idColumn)]!.nullCount,
          ],
          [actual[0], actual[1], 0],
        );
        assert.is(file.rows, Number(actual[2]));
      }

      type Step = [
        string,
        (txn: import('../../src/catalog/CatalogTransaction.js').CatalogTransaction) => Promise<number>,
      ];
      const steps: Step[] = [
        ['DELETE FROM ref WHERE id % 7 = 0', (t) => f.storage.delete(t, T, 'id % 7 = 0')],
        ['DELETE FROM ref WHERE id = 12345', (t) => f.storage.delete(t, T, 'id = $1', [12345])],
        [
          "UPDATE ref SET s = 'u' || id WHERE id % 1000 = 1",
          (t) => f.storage.update(t, T, { s: "'u' || id" }, 'id % 1000 = 1'),
        ],
        [
          'UPDATE ref SET g = g + 1 WHERE id BETWEEN 20000 AND 20010',
          (t) => f.storage.update(t, T, { g: 'g + 1' }, 'id BETWEEN 20000 AND 20010'),
        ],
        [
          "INSERT INTO ref SELECT range, 7, 'new' FROM range(100000, 100010)",
          async (t) => {
            for (let i = 100000; i < 100010; i++)
              await f.storage.insert(t, T, 'SELECT $1, 7, $2', [i, 'new']);
            return 10;
          },
        ],
        ['DELETE FROM ref WHERE id = 100003', (t) => f.storage.delete(t, T, 'id = 100003')],
        [
          "UPDATE ref SET s = 'again' WHERE id = 100004",
          (t) => f.storage.update(t, T, { s: "'again'" }, 'id = 100004'),
        ],
      ];
      txn = f.catalog.begin();
      for (const [i, [refSql, step]] of steps.entries()) {
        const expected = (await f.conn.run(refSql)).rowsChanged;
        assert.is(await step(txn), expected, refSql);
        // Commit part-way: the rest runs in a transaction that reads its own writes.
        if (i === 2) {
          await txn.commit();
          assert.is(await diffWithReference(f), 0, `after ${refSql}`);
          txn = f.catalog.begin();
        }
      }
      await txn.commit();
      assert.is(await diffWithReference(f), 0, 'after all DML');

      const dml = f.catalog.snapshot();
      const t = dml.requireTable(T);
      for (const p of original)
        assert.ok(
          t.files.some((x) => x.path === p),
          'no original file was rewritten',
        );
      assert.ok(
        [...t.deletes.values()].some((d) => d.files.length > 0),
        'large deletes went to delete files',
      );
      assert.ok(
        [...t.deletes.values()].some((d) => d.positions.length > 0),
        'small deletes stayed in the catalog',
      );
      assert.ok(t.inline.length > 0, 'updated and inserted rows are buffered inline');
      let fileRowsDeleted = 0;
      for (const d of t.deletes.values()) fileRowsDeleted += d.count;
      dml.release();
      before.release();

      const result = await f.storage.vacuum(T);
      assert.ok(result.version !== null);
      assert.is(result.deletesApplied, fileRowsDeleted);
      assert.is(await diffWithReference(f), 0, 'after VACUUM');
      const after = f.catalog.snapshot();
      const v = after.requireTable(T);
      assert.is(v.deletes.size, 0);
      assert.is(v.inline.length, 0);
      assert.ok(v.files.length < original.size, `${v.files.length} files after compaction`);
      await f.catalog.collectGarbage();
      assert.equal(
        (await listFiles(f.dir, 'tables')).sort(),
        [...referencedPaths(after.state)].sort(),
        'replaced files are reclaimed',
      );
      after.release();

      const stats = await f.storage.analyze(T);
      const expected = (
        await f.conn.runAndReadAll(
          'SELECT count(*), CAST(min(id) AS VARCHAR), CAST(max(id) AS VARCHAR), CAST(min(s) AS VARCHAR), CAST(max(s) AS VARCHAR), count(*) - count(s), count(DISTINCT g) FROM ref',
        )
      ).getRows()[0]!;
      const [, , sCol] = f.catalog.snapshot().requireTable(T).def.columns;
      assert.is(stats.rows, Number(expected[0]));
      assert.equal(
        [stats.columns[String(idColumn)]!.min, stats.columns[String(idColumn)]!.max],
        [expected[1], expected[2]],
      );
      assert.equal(
        [stats.columns[String(sCol!.id)]!.min, stats.columns[String(sCol!.id)]!.max],
        [expected[3], expected[4]],
      );
      assert.is(stats.columns[String(sCol!.id)]!.nullCount, Number(expected[5]));
      const distinctG = Object.values(stats.columns)[1]!.distinct!;
      assert.ok(Math.abs(distinctG - Number(expected[6])) <= 5, `approximate distinct count ${distinctG}`);
      assert.equal(f.catalog.snapshot().requireTable(T).stats, stats, 'ANALYZE committed its statistics');
    },
    { rowGroupSize: 2048, rowGroupsPerFile: 2, inlineDeleteMax: 100 },
  ));

test('single-row inserts are buffered inline: visible at once, durable, folded in the background', async () => {
  const dir = await tempDataDir('mallard-inline-');
  let f = await openFixture(dir);
  try {
    await createT(f);
    for (let i = 0; i < 200; i++) {
      const txn = f.catalog.begin();
      await f.storage.insert(txn, T, 'SELECT $1, $2, $3', [i, i % 3, `row ${i}`]);
      await txn.commit();
      if (i % 50 === 0) {
        const snap = f.catalog.snapshot();
        assert.is(snap.rowCount(T), i + 1, 'the next snapshot sees the committed row');
        snap.release();
      }
    }
    assert.equal(await listFiles(dir, 'tables'), [], 'no data file per row');
    const expected = await committedRows(f, T, 'id');
    assert.is(expected.length, 200);

    await closeFixture(f);
    f = await openFixture(dir);
    assert.equal(await committedRows(f, T, 'id'), expected, 'buffered rows are durable');

    f.storage.startMaintenance({ intervalMs: 20, foldAgeMs: 0 });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const snap = f.catalog.snapshot();
      const pending = snap.requireTable(T).inline.length;
      snap.release();
      if (!pending) break;
      if (Date.now() > deadline) assert.unreachable('the inline rows were never folded');
      await new Promise((r) => setTimeout(r, 20));
    }
    await f.storage.stopMaintenance();
    const snap = f.catalog.snapshot();
    assert.is(snap.requireTable(T).files.length, 1);
    snap.release();
    assert.equal(await committedRows(f, T, 'id'), expected, 'folding changes no row');
  } finally {
    await closeFixture(f);
    await removeDir(dir);
  }
});

test('uncommitted writes are seen by their own transaction only, and ROLLBACK leaves nothing behind', () =>
  withStorage(async (f) => {
    await createT(f);
    const txn = f.catalog.begin();
    await f.storage.insertBulk(txn, T, "SELECT range, 1, 'x' FROM range(5000)");
    await f.storage.insert(txn, T, "SELECT 99999, 2, 'y'");
    const own = Number(await scalar(f.conn, `SELECT count(*) FROM (${f.storage.relation(txn.view, T)})`));
    assert.is(own, 5001);
    assert.equal(await committedRows(f, T, 'id'), []);
    await txn.rollback();
    assert.equal(await committedRows(f, T, 'id'), []);
    assert.equal(await listFiles(f.dir, 'tables'), []);
  }));

test('ALTER TABLE: ADD COLUMN reads its missing value, RENAME touches no file, ALTER TYPE rewrites', () =>
  withStorage(async (f) => {
    await createT(f);
    let txn = f.catalog.begin();
    await f.storage.insertBulk(txn, T, "SELECT range, 1, 'x' || range FROM range(3)");
    await f.storage.insert(txn, T, 'SELECT 10, 2, NULL');
    await txn.commit();
    const files = f.catalog
      .snapshot()
      .requireTable(T)
      .files.map((x) => x.path);

    txn = f.catalog.begin();
    await f.storage.addColumn(txn, T, { name: 'flag', type: 'BOOLEAN', default: 'true', missing: 'true' });
    await f.storage.addColumn(txn, T, { name: 'note', type: 'VARCHAR' });
    txn.renameColumn(T, 's', 'label');
    await f.storage.insert(txn, T, "SELECT 11, 3, 'new', false, 'n'");
    await rejectsWith(f.storage.addColumn(txn, T, { name: 'must', type: 'INTEGER', notNull: true }), '23502');
    await txn.commit();
    assert.equal(
      f.catalog
        .snapshot()
        .requireTable(T)
        .files.map((x) => x.path),
      files,
      'no file rewritten',
    );
    assert.equal(await committedRows(f, T, 'id'), [
      { id: '0', g: 1, label: 'x0', flag: true, note: null },
      { id: '1', g: 1, label: 'x1', flag: true, note: null },
      { id: '2', g: 1, label: 'x2', flag: true, note: null },
      { id: '10', g: 2, label: null, flag: true, note: null },
      { id: '11', g: 3, label: 'new', flag: false, note: 'n' },
    ]);

    txn = f.catalog.begin();
    await f.storage.alterColumnType(txn, T, 'g', 'VARCHAR', "'#' || g");
    txn.dropColumn(T, 'note');
    await rejectsWith(f.storage.setNotNull(txn, T, 'label'), '23502');
    await f.storage.setNotNull(txn, T, 'flag');
    await txn.commit();
    const after = f.catalog.snapshot().requireTable(T);
    assert.not.ok(
      after.files.some((x) => files.includes(x.path)),
      'ALTER TYPE rewrote the files',
    );
    assert.is(after.def.columns.find((c) => c.name === 'g')!.type, 'VARCHAR');
    assert.equal(await committedRows(f, T, 'id'), [
      { id: '0', g: '#1', label: 'x0', flag: true },
      { id: '1', g: '#1', label: 'x1', flag: true },
      { id: '2', g: '#1', label: 'x2', flag: true },
      { id: '10', g: '#2', label: null, flag: true },
      { id: '11', g: '#3', label: 'new', flag: false },
    ]);
  }));

test('scan tasks of a balanced table cover every row exactly once', () =>
  withStorage(
    async (f) => {
      await createT(f);
      const txn = f.catalog.begin();
      await f.storage.insertBulk(txn, T, "SELECT range, 0, '' FROM range(20000)");
      await f.storage.delete(txn, T, 'id % 3 = 0');
      await f.storage.insert(txn, T, "SELECT -1, 0, 'inline'");
      await txn.commit();
      const snap = f.catalog.snapshot();
      const tasks = f.storage.scanTasks(snap, T);
      assert.is(tasks.length, snap.requireTable(T).files.length);
      assert.ok(tasks.length > 1);
      const union = tasks.map((t) => `(${t.sql})`).join(' UNION ALL ');
      assert.is(Number(await scalar(f.conn, `SELECT count(*) FROM (${union})`)), snap.rowCount(T));
      assert.is(Number(await scalar(f.conn, `SELECT count(DISTINCT id) FROM (${union})`)), 20000 - 6667 + 1);
      assert.is(
        tasks.reduce((n, t) => n + t.rows, 0),
        snap.rowCount(T),
      );
      snap.release();
    },
    { rowGroupSize: 2048, rowGroupsPerFile: 2 },
  ));

test.run();
