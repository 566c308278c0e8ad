// Prepared statements over catalog tables after ALTER TABLE, next to PostgreSQL 15: a re-execution
// gets the new definition, or 0A000 "cached plan must not change result type" when its result would
// change shape, and keeps failing so (PostgreSQL's plan cache compares the whole row type).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type Observed, type Pair, startPair } from './pgDiff.js';

let pair: Pair;

test.before(async () => {
  pair = await startPair();
});

test.after(async () => {
  await pair?.stop();
});

interface Case {
  /** The named statement, prepared and run once before the DDL; `{t}` is the table, `{v}` a view of it. */
  statement: string;
  params?: unknown[];
  /** DDL run between the executions. */
  ddl: string[];
  /** What PostgreSQL 15 answers to the two executions after the DDL: `rows`, or the SQLSTATE. */
  expected: string;
}

const CASES: Case[] = [
  { statement: 'SELECT * FROM {t}', ddl: ['ALTER TABLE {t} ADD COLUMN c int DEFAULT 3'], expected: '0A000' },
  { statement: 'SELECT a FROM {t}', ddl: ['ALTER TABLE {t} ADD COLUMN c int DEFAULT 3'], expected: 'rows' },
  { statement: 'SELECT a FROM {t}', ddl: ['ALTER TABLE {t} ALTER COLUMN a TYPE bigint'], expected: '0A000' },
  { statement: 'SELECT * FROM {t}', ddl: ['ALTER TABLE {t} RENAME COLUMN b TO bb'], expected: '0A000' },
  { statement: 'SELECT a FROM {t}', ddl: ['ALTER TABLE {t} RENAME COLUMN a TO aa'], expected: '42703' },
  { statement: 'SELECT * FROM {t}', ddl: ['ALTER TABLE {t} DROP COLUMN b'], expected: '0A000' },
  { statement: 'SELECT b FROM {t}', ddl: ['ALTER TABLE {t} DROP COLUMN a'], expected: 'rows' },
  { statement: 'SELECT * FROM {t}', ddl: ['DROP TABLE {t}'], expected: '42P01' },
  {
    statement: 'INSERT INTO {t} VALUES ($1)',
    params: [5],
    ddl: ['ALTER TABLE {t} ADD COLUMN c int DEFAULT 5'],
    expected: 'rows',
  },
  {
    statement: 'INSERT INTO {t} (a) VALUES ($1) RETURNING *',
    params: [5],
    ddl: ['ALTER TABLE {t} ADD COLUMN c int DEFAULT 5'],
    expected: '0A000',
  },
  {
    statement: 'INSERT INTO {t} (a) VALUES ($1) RETURNING a',
    params: [5],
    ddl: ['ALTER TABLE {t} ADD COLUMN c int DEFAULT 5'],
    expected: 'rows',
  },
  {
    statement: 'INSERT INTO {t} VALUES ($1, $2)',
    params: [5, 'q'],
    ddl: ['ALTER TABLE {t} DROP COLUMN b'],
    expected: '42601',
  },
  {
    statement: 'UPDATE {t} SET b = $1 WHERE a = $2',
    params: ['z', 1],
    ddl: ['ALTER TABLE {t} DROP COLUMN b'],
    expected: '42703',
  },
  {
    statement: 'UPDATE {t} SET b = $1 WHERE a = $2 RETURNING *',
    params: ['z', 1],
    ddl: ['ALTER TABLE {t} ADD COLUMN c int DEFAULT 7'],
    expected: '0A000',
  },
  {
    statement: 'UPDATE {t} SET b = $1 WHERE a = $2',
    params: ['z', 1],
    ddl: ['ALTER TABLE {t} ADD COLUMN c int DEFAULT 7'],
    expected: 'rows',
  },
  {
    statement: 'DELETE FROM {t} WHERE a = $1',
    params: [99],
    ddl: ['ALTER TABLE {t} ADD COLUMN c int'],
    expected: 'rows',
  },
  {
    statement: 'SELECT * FROM {v}',
    ddl: ['CREATE OR REPLACE VIEW {v} AS SELECT a, b, 1 AS c FROM {t}'],
    expected: '0A000',
  },
  {
    // PostgreSQL refuses to retype a column a view reads: the view is made again over the new type.
    statement: 'SELECT * FROM {v}',
    ddl: [
      'DROP VIEW {v}',
      'ALTER TABLE {t} ALTER COLUMN a TYPE bigint',
      'CREATE VIEW {v} AS SELECT a, b FROM {t}',
    ],
    expected: '0A000',
  },
];

async function runCase(c: Case, i: number, client: Pair['m']): Promise<Observed[]> {
  const t = `stale_${i}`;
  const sql = (text: string) => text.replaceAll('{t}', t).replaceAll('{v}', `${t}_v`);
  await client.query(`CREATE TABLE ${t} (a int, b text)`);
  await client.query(`INSERT INTO ${t} VALUES (1, 'x')`);
  if (c.statement.includes('{v}')) await client.query(sql('CREATE VIEW {v} AS SELECT a, b FROM {t}'));
  const name = `stale_${i}`;
  const exec = async (): Promise<Observed> => {
    try {
      const r = await client.query({ name, text: sql(c.statement), values: c.params ?? [] });
      return { command: r.command, rows: r.rows };
    } catch (err) {
      return { error: (err as { code?: string }).code ?? String(err) };
    }
  };
  const first = await exec();
  assert.ok(!first.error, `${c.statement} before the DDL: ${first.error}`);
  for (const ddl of c.ddl) await client.query(sql(ddl));
  return [await exec(), await exec()];
}

test('named statements after DDL: new definition, or the error PostgreSQL gives', async () => {
  for (const [i, c] of CASES.entries()) {
    const [mine, theirs] = await Promise.all([runCase(c, i, pair.m), runCase(c, i, pair.p)]);
    const label = `${c.statement} after ${c.ddl}`;
    assert.equal(mine, theirs, label);
    const seen = theirs[0]!.error ?? 'rows';
    assert.is(seen, c.expected, `${label}: PostgreSQL's answer`);
  }
});

test('a statement that failed with 0A000 works again once the table has its old shape', async () => {
  await pair.m.query('CREATE TABLE back (a int)');
  await pair.m.query('INSERT INTO back VALUES (1)');
  const q = { name: 'back_all', text: 'SELECT * FROM back' };
  assert.equal((await pair.m.query(q)).rows, [{ a: 1 }]);
  await pair.m.query('ALTER TABLE back ADD COLUMN extra int');
  const err = await pair.m.query(q).then(
    () => null,
    (e: { code?: string; message: string }) => e,
  );
  assert.is(err?.code, '0A000');
  assert.match(err!.message, 'cached plan must not change result type');
  await pair.m.query('ALTER TABLE back DROP COLUMN extra');
  assert.equal((await pair.m.query(q)).rows, [{ a: 1 }]);
});

test('a DuckDB-syntax statement follows the table too', async () => {
  await pair.m.query('CREATE TABLE duck (a int)');
  await pair.m.query('INSERT INTO duck VALUES (1)');
  const q = { name: 'duck_from', text: 'FROM duck' };
  assert.equal((await pair.m.query(q)).rows, [{ a: 1 }]);
  await pair.m.query('ALTER TABLE duck ADD COLUMN b int DEFAULT 2');
  const err = await pair.m.query(q).then(
    () => null,
    (e: { code?: string }) => e,
  );
  assert.is(err?.code, '0A000');
  // Another statement of the same text, prepared now, sees the new shape.
  assert.equal((await pair.m.query({ name: 'duck_from_2', text: 'FROM duck' })).rows, [{ a: 1, b: 2 }]);
});

test('a statement prepared in another session follows DDL committed by this one', async () => {
  await pair.m.query('CREATE TABLE shared (a int)');
  await pair.m.query('INSERT INTO shared VALUES (1)');
  const other = await connect(pair.mallard.url);
  try {
    const ins = { name: 'shared_ins', text: 'INSERT INTO shared VALUES ($1)', values: [2] };
    await other.query(ins);
    await pair.m.query('ALTER TABLE shared ADD COLUMN b text DEFAULT $$d$$');
    await other.query({ ...ins, values: [3] });
    await pair.m.query('ALTER TABLE shared RENAME COLUMN a TO n');
    await other.query({ ...ins, values: [4] });
    const rows = await pair.m.query('SELECT n, b FROM shared ORDER BY n');
    assert.equal(rows.rows, [
      { n: 1, b: 'd' },
      { n: 2, b: 'd' },
      { n: 3, b: 'd' },
      { n: 4, b: 'd' },
    ]);
  } finally {
    await other.end();
  }
});

test.run();
