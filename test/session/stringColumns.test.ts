import pg from 'pg';
import Cursor from 'pg-cursor';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type MallardServer, startMallard } from '../helpers/mallard.js';

// VARCHAR and BLOB result columns as the client receives them: each value exactly (NULL, '', inline and
// heap strings, multi-byte UTF-8), over several 2048-row chunks, in text and binary format, whole or
// fetched a few hundred rows at a time.

const ROWS = 5000;

/** The value of row i, as the SQL below builds it. */
function expected(i: number): string | null {
  switch (i % 9) {
    case 0:
      return null;
    case 1:
      return '';
    case 2:
      return 'a'.repeat(12);
    case 3:
      return 'b'.repeat(13);
    case 4:
      return 'é'.repeat(6);
    case 5:
      return `r${i}${'ü€😀'.repeat(i % 40)}`;
    case 6:
      return `Brand#${i % 55}`;
    case 7:
      return `long ${String(i).repeat(i % 25)}`;
    default:
      return 'é'.repeat(7);
  }
}

const SQL = `
  SELECT i, v, encode(v) AS b FROM (
    SELECT i, CASE i % 9
      WHEN 0 THEN NULL
      WHEN 1 THEN ''
      WHEN 2 THEN repeat('a', 12)
      WHEN 3 THEN repeat('b', 13)
      WHEN 4 THEN repeat('é', 6)
      WHEN 5 THEN 'r' || i::VARCHAR || repeat('ü€😀', (i % 40)::INTEGER)
      WHEN 6 THEN 'Brand#' || (i % 55)::VARCHAR
      WHEN 7 THEN 'long ' || repeat(i::VARCHAR, (i % 25)::INTEGER)
      ELSE repeat('é', 7)
    END AS v
    FROM range(${ROWS}) t(i)
  ) ORDER BY i`;

let server: MallardServer;
let c: pg.Client;

test.before(async () => {
  server = await startMallard();
  c = new pg.Client({ connectionString: server.url });
  await c.connect();
  // From a table, so the long strings come from DuckDB's storage rather than one expression's heap.
  await c.query(`CREATE TABLE strings AS ${SQL}`);
});

test.after(async () => {
  await c?.end();
  await server?.stop();
});

function check(rows: unknown[][], first = 0): void {
  rows.forEach((row, k) => {
    const i = first + k;
    assert.is(Number(row[0]), i);
    const v = expected(i);
    assert.is(row[1], v, `v of row ${i}`);
    if (v === null) assert.is(row[2], null, `b of row ${i}`);
    else assert.equal([...(row[2] as Buffer)], [...Buffer.from(v, 'utf8')], `b of row ${i}`);
  });
}

for (const source of ['a query', 'a table']) {
  const sql = source === 'a table' ? 'SELECT * FROM strings ORDER BY i' : SQL;
  test(`text format, strings from ${source}`, async () => {
    const r = await c.query({ text: sql, rowMode: 'array' });
    assert.is(r.rows.length, ROWS);
    check(r.rows);
  });

  test(`binary format, strings from ${source}`, async () => {
    const r = await c.query({ text: sql, rowMode: 'array', binary: true } as pg.QueryConfig);
    assert.is(r.rows.length, ROWS);
    // node-postgres has no binary parser for text or bytea: it hands over the field's bytes.
    check(r.rows.map((row) => [row[0], row[1] === null ? null : String(row[1]), row[2]]));
  });
}

test('a portal read 700 rows at a time, so batches end part-way through', async () => {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    const cursor = client.query(new Cursor('SELECT * FROM strings ORDER BY i', [], { rowMode: 'array' }));
    let read = 0;
    for (;;) {
      const rows = (await cursor.read(700)) as unknown[][];
      if (rows.length === 0) break;
      check(rows, read);
      read += rows.length;
    }
    assert.is(read, ROWS);
    await cursor.close();
  } finally {
    await client.end();
  }
});

test('FETCH from a SQL cursor after MOVE skipped rows', async () => {
  await c.query('BEGIN');
  try {
    await c.query('DECLARE t CURSOR FOR SELECT * FROM strings ORDER BY i');
    await c.query('MOVE 1000 FROM t');
    check((await c.query({ text: 'FETCH 3000 FROM t', rowMode: 'array' })).rows, 1000);
    await c.query('MOVE 47 FROM t');
    check((await c.query({ text: 'FETCH ALL FROM t', rowMode: 'array' })).rows, 4047);
  } finally {
    await c.query('COMMIT');
  }
});

test.run();
