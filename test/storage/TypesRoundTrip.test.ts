// Every DuckDB type survives a trip into Mallard's storage and back exactly: through Parquet files,
// through the inline buffer, after a restart, and after the inline rows are folded into Parquet.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { removeDir, tempDataDir } from '../catalog/dataDirHelpers.js';
import { closeFixture, type Fixture, openFixture, scalar } from './storageHelpers.js';

const FILES = { schema: 'public', name: 'in_files' };
const INLINE = { schema: 'public', name: 'in_inline' };

// Values that stress text and Parquet encodings beyond test_all_types()'s extremes.
const TRICKY = `
  SELECT * FROM (VALUES
    (1001, 'it''s, "quoted" [x] {y: z} \\ tab\t nl\n é 😀', 'NaN'::DOUBLE, 'infinity'::TIMESTAMPTZ,
     ['a''b', NULL, 'NULL', '', ' sp ']::VARCHAR[], {'k=1': 'v}', 'a''': NULL}::MAP(VARCHAR, VARCHAR),
     {'x y': [INTERVAL 1 microsecond, INTERVAL '3 months 2 days'], 'q"': '12:00:00+05:30'::TIMETZ}::STRUCT("x y" INTERVAL[], "q""" TIMETZ),
     '12345678901234567890123456789.123456789'::DECIMAL(38,9), '170141183460469231731687303715884105727'::HUGEINT,
     '{"a": [1, 2.5, null]}'::JSON, 'b'::ENUM('a', 'b', 'it''s'), -0.0::DOUBLE, '\\x00\\xFF'::BLOB),
    (1002, '', 'inf'::DOUBLE, '-infinity'::TIMESTAMPTZ, []::VARCHAR[], MAP {}, NULL, -0.000000001::DECIMAL(38,9),
     '-170141183460469231731687303715884105728'::HUGEINT, 'null'::JSON, 'it''s'::ENUM('a', 'b', 'it''s'), 1e-320::DOUBLE, ''::BLOB),
    (1003, NULL, NULL, '2024-02-29 23:59:59.999999+00'::TIMESTAMPTZ, NULL, NULL, {'x y': NULL, 'q"': NULL}, NULL, NULL, NULL, NULL, NULL, NULL)
  ) AS v(i, s, d, tz, l, m, st, dec, h, j, e, z, b)`;

async function loadExpected(f: Fixture): Promise<{ name: string; type: string }[]> {
  await f.conn.run(
    'CREATE OR REPLACE TABLE all_types AS SELECT CAST(row_number() OVER () AS BIGINT) AS i, * FROM test_all_types()',
  );
  await f.conn.run(`CREATE OR REPLACE TABLE tricky AS ${TRICKY}`);
  const r = await f.conn.runAndReadAll('DESCRIBE all_types');
  return r
    .getRowObjectsJson()
    .map((c) => ({ name: String(c['column_name']), type: String(c['column_type']) }));
}

/** Columns whose values differ between `expected` and the table, row by row on `i`; [] when exact. */
async function differences(
  f: Fixture,
  expected: string,
  rel: string,
  columns: readonly string[],
): Promise<string[]> {
  const bad: string[] = [];
  const total = Number(await scalar(f.conn, `SELECT count(*) FROM ${expected}`));
  const got = Number(await scalar(f.conn, `SELECT count(*) FROM (${rel})`));
  if (total !== got) bad.push(`row count ${got} != ${total}`);
  for (const c of columns) {
    const q = `"${c}"`;
    const n = Number(
      await scalar(
        f.conn,
        `SELECT count(*) FROM ${expected} AS e FULL JOIN (${rel}) AS g USING (i) WHERE e.${q} IS DISTINCT FROM g.${q} OR typeof(e.${q}) <> typeof(g.${q})`,
      ),
    );
    if (n) bad.push(c);
  }
  return bad;
}

async function assertExact(
  f: Fixture,
  label: string,
  cols: { name: string }[],
  trickyCols: string[],
): Promise<void> {
  const snap = f.catalog.snapshot();
  try {
    for (const [ref, what] of [
      [FILES, 'files'],
      [INLINE, 'inline'],
    ] as const) {
      const rel = f.storage.relation(snap, ref);
      // A UNION's text form drops its tag, so the inline table leaves that column out (see InlineEncoding).
      const checked = cols.filter((c) => ref === FILES || c.name !== 'union').map((c) => c.name);
      const diff = await differences(
        f,
        `(SELECT ${checked.map((c) => `"${c}"`).join(', ')} FROM all_types)`,
        `SELECT * FROM (${rel}) WHERE i < 1000`,
        checked,
      );
      assert.equal(diff, [], `${label}, ${what}: test_all_types columns that changed`);
      const tricky = await differences(
        f,
        'tricky',
        `SELECT i, ${trickyCols.map((c) => `"t_${c}" AS "${c}"`).join(', ')} FROM (${rel}) WHERE i >= 1000`,
        trickyCols,
      );
      assert.equal(tricky, [], `${label}, ${what}: tricky columns that changed`);
    }
  } finally {
    snap.release();
  }
}

test('every DuckDB type round-trips exactly through Parquet files and the inline buffer', async () => {
  const dir = await tempDataDir('mallard-types-');
  let f = await openFixture(dir);
  try {
    const cols = await loadExpected(f);
    const tricky = (await f.conn.runAndReadAll('DESCRIBE tricky')).getRowObjectsJson().map((c) => ({
      name: String(c['column_name']),
      type: String(c['column_type']),
    }));
    const trickyCols = tricky.filter((c) => c.name !== 'i').map((c) => c.name);
    // One table holds both sets of columns; rows of one set leave the other's NULL.
    const columns = [
      ...cols.map((c) => ({ name: c.name, type: c.type })),
      ...tricky.filter((c) => c.name !== 'i').map((c) => ({ name: `t_${c.name}`, type: c.type })),
    ];
    const source = `
      SELECT a.*, ${trickyCols.map((c) => `NULL AS "t_${c}"`).join(', ')} FROM all_types AS a
      UNION ALL BY NAME
      SELECT i, ${trickyCols.map((c) => `"${c}" AS "t_${c}"`).join(', ')} FROM tricky`;
    const order = columns.map((c) => `"${c.name}"`).join(', ');

    const inlineColumns = columns.filter((c) => c.name !== 'union');
    const inlineOrder = inlineColumns.map((c) => `"${c.name}"`).join(', ');

    const txn = f.catalog.begin();
    await f.storage.createTable(txn, { ...FILES, columns });
    await f.storage.createTable(txn, { ...INLINE, columns: inlineColumns });
    const filed = await f.storage.insertBulk(txn, FILES, `SELECT ${order} FROM (${source})`);
    assert.is(filed, 6);
    // Row by row, as an application would insert them: each goes to the inline buffer.
    for (const i of [1, 2, 3, 1001, 1002, 1003]) {
      await f.storage.insert(txn, INLINE, `SELECT ${inlineOrder} FROM (${source}) WHERE i = ${i}`);
    }
    await txn.commit();

    const snap = f.catalog.snapshot();
    assert.is(snap.requireTable(INLINE).files.length, 0, 'single-row inserts wrote no file');
    assert.is(snap.requireTable(FILES).inline.length, 0);
    const encodings = snap
      .requireTable(FILES)
      .def.columns.filter((c) => c.fileEncoding === 'text')
      .map((c) => c.name);
    assert.equal(encodings.sort(), ['hugeint', 'interval', 't_h', 't_st', 'time_tz', 'uhugeint'].sort());
    snap.release();
    await assertExact(f, 'fresh', cols, trickyCols);

    await closeFixture(f);
    f = await openFixture(dir);
    await loadExpected(f);
    await assertExact(f, 'after restart', cols, trickyCols);

    const folded = await f.storage.foldInline(INLINE);
    assert.is(folded.inlineRowsFolded, 6);
    await assertExact(f, 'after folding into Parquet', cols, trickyCols);
    const after = f.catalog.snapshot();
    assert.is(after.requireTable(INLINE).inline.length, 0);
    assert.is(after.requireTable(INLINE).files.length, 1);
    after.release();
  } finally {
    await closeFixture(f);
    await removeDir(dir);
  }
});

test('declared types come back as declared, including DECIMAL(p,s), ENUM, LIST, STRUCT and MAP', async () => {
  const dir = await tempDataDir('mallard-types-');
  const f = await openFixture(dir);
  try {
    const types = [
      'DECIMAL(4,1)',
      'DECIMAL(18,3)',
      'DECIMAL(38,0)',
      'NUMERIC',
      "ENUM('sad', 'ok', 'happy')",
      'INTEGER[]',
      'VARCHAR[][]',
      'INTEGER[3]',
      'STRUCT(a INTEGER, "b c" VARCHAR[])',
      'MAP(VARCHAR, DOUBLE[])',
      'UNION(num INTEGER, str VARCHAR)',
    ];
    const txn = f.catalog.begin();
    const def = await f.storage.createTable(txn, {
      schema: 'public',
      name: 't',
      columns: types.map((type, i) => ({ name: `c${i}`, type })),
    });
    await txn.commit();
    const snap = f.catalog.snapshot();
    const described = (
      await f.conn.runAndReadAll(`DESCRIBE ${f.storage.relation(snap, def!.id)}`)
    ).getRowObjectsJson();
    snap.release();
    assert.equal(
      described.map((c) => c['column_type']),
      def!.columns.map((c) => c.type),
    );
    assert.is(def!.columns[3]!.type, 'DECIMAL(18,3)', 'NUMERIC gets DuckDB default precision');
    assert.is(
      def!.columns[10]!.inlineEncoding,
      'none',
      "a UNION's text form loses its tag, so it is never inline",
    );
  } finally {
    await closeFixture(f);
    await removeDir(dir);
  }
});

test.run();
