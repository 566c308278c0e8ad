// COPY FROM STDIN into catalog tables: data spooled and read by DuckDB's CSV reader into Parquet
// (SpooledCopy), and the row-by-row decoder it hands anything else back to. The same data goes to
// PostgreSQL 15 through psql; rows, NULLs and errors (SQLSTATE, line, column) must be the same.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { STAGING_DIR } from '../../src/catalog/dataPaths.js';
import type { CopyOptions } from '../../src/sql/classifyStatement.js';
import { type CopyOutcome, SpooledCopy } from '../../src/tables/SpooledCopy.js';
import { type RunResult, run } from '../helpers/run.js';
import { type Pair, startPair } from './pgDiff.js';
import { openTables, q, type TablesFixture } from './tablesFixture.js';

let pair: Pair;
let f: TablesFixture;
let dir: string;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mallard-copy-'));
  [pair, f] = await Promise.all([startPair(), openTables(join(dir, 'data'))]);
});

test.after(async () => {
  await pair?.stop();
  await f?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function psql(url: string, command: string, input: string): Promise<RunResult> {
  return run('/usr/bin/psql', ['-X', '-d', url, '-c', command], {
    input,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C.UTF-8' },
  });
}

/** The same \copy on both servers: psql's output and exit code must be the same, and the table's rows. */
async function sameCopy(table: string, command: string, input: string): Promise<string> {
  const [m, p] = await Promise.all([
    psql(pair.mallard.url, command, input),
    psql(pair.postgres.url, command, input),
  ]);
  assert.is(m.stdout, p.stdout, `${command}: stdout`);
  assert.is(m.stderr, p.stderr, `${command}: stderr`);
  assert.is(m.code, p.code, `${command}: exit code`);
  const select = `SELECT * FROM ${table} ORDER BY 1`;
  const [mr, pr] = await Promise.all([pair.m.query(select), pair.p.query(select)]);
  assert.equal(mr.rows, pr.rows, `${command}: rows`);
  return m.stdout + m.stderr;
}

async function onBoth(sql: string): Promise<void> {
  await Promise.all([pair.m.query(sql), pair.p.query(sql)]);
}

test('CSV: quotes, delimiters and newlines in quotes, NULL and the empty string, header, column lists', async () => {
  await onBoth(
    `CREATE TABLE csv_mix (id bigint PRIMARY KEY, name text, price numeric(12,3), d date, ok boolean, ts timestamp, f double precision, note text DEFAULT 'none')`,
  );
  const rows = [
    'id,name,price,d,ok,ts,f',
    '1,plain,1.5,2024-01-02,t,2024-01-02 03:04:05,1.25',
    '2,"with, comma","12.345",2024-02-29,false,2024-02-29 23:59:59.123456,-0',
    '3,"quote "" and',
    'newline",-7,1999-12-31,yes,2000-01-01 00:00:00,1e300',
    '4,,,,,,',
    '5,"",0,2024-01-01,1,2024-01-01,Infinity',
    '-6,ünïcödé ✓,99999.999,0001-01-01,n,1970-01-01 00:00:00,NaN',
  ];
  await sameCopy(
    'csv_mix',
    '\\copy csv_mix (id, name, price, d, ok, ts, f) from pstdin with (format csv, header)',
    `${rows.join('\n')}\n`,
  );
  // Another delimiter and quote, and the default of the unlisted column.
  const out = await sameCopy(
    'csv_mix',
    "\\copy csv_mix (id, name) from pstdin with (format csv, delimiter ';', quote '''')",
    "10;'a;b'\n11;'it''s'\n",
  );
  assert.is(out, 'COPY 2\n');
});

test('text format: \\N for NULL takes the fast path; escapes go row by row with the same result', async () => {
  await onBoth('CREATE TABLE text_mix (id int PRIMARY KEY, name text, n int)');
  await sameCopy('text_mix', '\\copy text_mix from pstdin', '1\ta\t\\N\n2\t\\N\t3\n3\t\t4\n');
  await sameCopy('text_mix', '\\copy text_mix from pstdin', '4\ttab\\there\t1\n5\tback\\\\slash\t\\N\n');
});

test('a bad value fails with the line and column PostgreSQL names, and the table is unchanged', async () => {
  await onBoth('CREATE TABLE bad_rows (id int PRIMARY KEY, d date, n numeric(5,1))');
  await onBoth("INSERT INTO bad_rows VALUES (0, '2000-01-01', 1)");
  const cases: [string, string][] = [
    ['\\copy bad_rows from pstdin with (format csv)', '1,2024-01-01,1\n2,not a date,2\n'],
    ['\\copy bad_rows from pstdin with (format csv)', '1,2024-01-01,1\n2.5,2024-01-01,2\n'],
    ['\\copy bad_rows from pstdin with (format csv)', '1,2024-01-01,1\n1e3,2024-01-01,2\n'],
    ['\\copy bad_rows from pstdin with (format csv)', '1,2024-01-01,123456\n'],
    ['\\copy bad_rows from pstdin with (format csv)', '1,2024-01-01\n'],
    ['\\copy bad_rows from pstdin with (format csv)', '1,2024-01-01,1,extra\n'],
    ['\\copy bad_rows from pstdin with (format csv)', '1,2024-01-01,1\n\n2,2024-01-01,1\n'],
    ['\\copy bad_rows from pstdin with (format csv)', '1,"2024-01-01,1\n'],
    ['\\copy bad_rows from pstdin', '1\t2024-01-01\tx\n'],
  ];
  for (const [command, input] of cases) {
    const out = await sameCopy('bad_rows', command, input);
    assert.match(out, 'ERROR:', `${JSON.stringify(input)} fails`);
  }
});

test('key, NOT NULL and CHECK violations fail as in PostgreSQL and load nothing', async () => {
  await onBoth('CREATE TABLE keyed (a int, b int NOT NULL, c int CHECK (c > 0), PRIMARY KEY (a, b))');
  await onBoth('INSERT INTO keyed VALUES (1, 1, 1)');
  const fails = async (input: string) => {
    const [m, p] = await Promise.all([
      psql(pair.mallard.url, '\\copy keyed from pstdin with (format csv)', input),
      psql(pair.postgres.url, '\\copy keyed from pstdin with (format csv)', input),
    ]);
    assert.is(m.code, 1);
    assert.is(p.code, 1);
    // PostgreSQL names the failing row in DETAIL and CONTEXT; the SQLSTATE's message is the same.
    assert.is(m.stderr.split('\n')[0], p.stderr.split('\n')[0], input);
  };
  await fails('2,1,1\n2,1,5\n');
  await fails('1,1,3\n');
  await fails('3,,1\n');
  await fails('4,4,0\n');
  const [mr, pr] = await Promise.all([
    pair.m.query('SELECT * FROM keyed'),
    pair.p.query('SELECT * FROM keyed'),
  ]);
  assert.equal(mr.rows, pr.rows);
});

test('COPY inside a transaction block is undone by ROLLBACK and kept by COMMIT', async () => {
  await onBoth('CREATE TABLE in_block (id int, v text)');
  const file = join(dir, 'in_block.csv');
  writeFileSync(file, '1,a\n2,b\n');
  for (const [end, expected] of [
    ['ROLLBACK', '0'],
    ['COMMIT', '2'],
  ]) {
    const commands = [
      'BEGIN',
      `\\copy in_block from '${file}' with (format csv)`,
      end!,
      'SELECT count(*) FROM in_block',
    ];
    const args = [
      '-X',
      '-At',
      '-v',
      'ON_ERROR_STOP=1',
      '-d',
      pair.mallard.url,
      ...commands.flatMap((c) => ['-c', c]),
    ];
    const r = await run('/usr/bin/psql', args);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout.trim().split('\n').at(-1), expected, r.stdout);
  }
});

// ---- SpooledCopy on its own: where the data is cut into parts, and when it goes row by row

async function spooled(
  table: string,
  options: CopyOptions,
  chunks: readonly string[],
  partBytes: number,
): Promise<{ outcome: CopyOutcome; copy: SpooledCopy; rows: unknown[][] }> {
  const txn = f.catalog.begin();
  const def = txn.view.requireTable({ schema: 'public', name: table }).def;
  const copy = new SpooledCopy(
    f.dataDir,
    options,
    def.columns.map((column, field) => ({ column, field })),
    def.columns.length,
    () => f.storage.bulkLoad(txn, def.id),
    partBytes,
  );
  try {
    for (const c of chunks) await copy.push(Buffer.from(c));
    const outcome = await copy.finish();
    await txn.commit();
    const s = await f.session();
    const rows = (await q(s, `SELECT * FROM ${table} ORDER BY 1`)).rows;
    return { outcome, copy, rows };
  } finally {
    if (txn.status === 'active') await txn.rollback();
    await copy.close();
  }
}

test('parts are cut at row ends outside quoted fields, whatever the payload boundaries', async () => {
  const s = await f.session();
  await q(s, 'CREATE TABLE parts (id int, a text, b text)');
  const lines: string[] = [];
  const expected: unknown[][] = [];
  for (let i = 0; i < 200; i++) {
    const a = i % 3 === 0 ? `"x\n""${i}"",\ny"` : `v${i}`;
    const b = i % 5 === 0 ? '""' : i % 7 === 0 ? '' : `"${'q'.repeat(i % 11)}\n"`;
    lines.push(`${i},${a},${b}`);
    expected.push([
      i,
      i % 3 === 0 ? `x\n"${i}",\ny` : `v${i}`,
      i % 5 === 0 ? '' : i % 7 === 0 ? null : `${'q'.repeat(i % 11)}\n`,
    ]);
  }
  const data = `${lines.join('\n')}\n`;
  // Payloads of odd sizes, so cuts fall inside quotes, between quote pairs and right after line ends.
  const chunks: string[] = [];
  for (let i = 0, n = 1; i < data.length; i += n, n = (n * 7 + 3) % 97) chunks.push(data.slice(i, i + n));
  const { outcome, copy, rows } = await spooled('parts', { format: 'csv', header: false }, chunks, 300);
  assert.equal(outcome, { rows: 200 });
  assert.is(copy.unfit, null);
  assert.ok(copy.partsLoaded > 5, `parts loaded: ${copy.partsLoaded}`);
  assert.equal(rows, expected);
  assert.equal(readdirSync(join(f.dataDir, STAGING_DIR)), [], 'the spool is removed');
});

test('text with a backslash escape, and an integer with a fraction, go back row by row', async () => {
  const s = await f.session();
  await q(s, 'CREATE TABLE back_text (id int, a text)');
  const escaped = await spooled('back_text', { format: 'text', header: false }, ['1\ta\\tb\n'], 1 << 20);
  assert.ok('replay' in escaped.outcome);
  assert.is(escaped.copy.unfit, 'a backslash escape');
  const fraction = await spooled(
    'back_text',
    { format: 'csv', header: false },
    ['1,a\n', '2.5,b\n'],
    1 << 20,
  );
  assert.ok('replay' in fraction.outcome);
  assert.match(String(fraction.copy.unfit), 'DuckDB refused the data');
  const plain = await spooled(
    'back_text',
    { format: 'text', header: false },
    ['1\t\\N\n', '2\tb\n'],
    1 << 20,
  );
  assert.equal(plain.outcome, { rows: 2 });
  assert.equal(plain.rows, [
    [1, null],
    [2, 'b'],
  ]);
});

test.run();
