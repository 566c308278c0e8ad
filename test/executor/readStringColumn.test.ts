import { type DuckDBConnection, type DuckDBDataChunk, DuckDBInstance } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readStringColumn } from '../../src/executor/readStringColumn.js';

// readStringColumn against @duckdb/node-api's own per-value read (getItem / getItemBytes), chunk by chunk.

let instance: DuckDBInstance;
let conn: DuckDBConnection;

test.before(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  // 7,000 rows: four chunks of 2048. Lengths 0, 1, 12 (the last inline), 13 (the first on the heap),
  // multi-byte UTF-8 straddling 12 bytes, NUL bytes, long strings, NULLs, runs of each.
  await conn.run(`
    CREATE TABLE s AS
    SELECT i, CASE
      WHEN i % 11 = 0 THEN NULL
      WHEN i % 11 = 1 THEN ''
      WHEN i % 11 = 2 THEN repeat('a', 12)
      WHEN i % 11 = 3 THEN repeat('b', 13)
      WHEN i % 11 = 4 THEN repeat('é', 6)
      WHEN i % 11 = 5 THEN repeat('€', 4) || 'x'
      WHEN i % 11 = 6 THEN 'nul' || chr(0) || 'in' || chr(0) || 'side' || i::VARCHAR
      WHEN i % 11 = 7 THEN 'r' || i::VARCHAR || repeat('ü€😀', (i % 40)::INTEGER)
      WHEN i % 11 = 8 THEN chr(0)
      WHEN i % 503 < 30 THEN NULL
      ELSE 'long ' || repeat(i::VARCHAR, (i % 25)::INTEGER)
    END AS v
    FROM range(7000) t(i)`);
});

test.after(async () => {
  conn?.closeSync();
  instance?.closeSync();
});

async function chunksOf(sql: string, streamed: boolean): Promise<DuckDBDataChunk[]> {
  const result = streamed ? await conn.stream(sql) : await conn.run(sql);
  const chunks: DuckDBDataChunk[] = [];
  for (
    let chunk = await result.fetchChunk();
    chunk && chunk.rowCount > 0;
    chunk = await result.fetchChunk()
  ) {
    chunks.push(chunk);
  }
  return chunks;
}

const decoder = new TextDecoder();

/** Rows from..to of column 0 as the bulk read gives them: strings, or byte arrays for BLOB. */
function bulkRows(chunk: DuckDBDataChunk, from: number, to: number, blob: boolean): unknown[] {
  const read = readStringColumn(chunk.getColumnVector(0), from, to);
  assert.ok(read, 'a DuckDB string vector is read in bulk');
  const out: unknown[] = [];
  for (let i = 0; i < to - from; i++) {
    const row = from + i;
    const valid = read.validity === null || (read.validity[row >> 3]! & (1 << (row & 7))) !== 0;
    if (!valid) {
      out.push(null);
      continue;
    }
    const bytes = read.bytes.subarray(read.offsets[i]!, read.offsets[i + 1]!);
    out.push(blob ? [...bytes] : decoder.decode(bytes));
  }
  return out;
}

function itemRows(chunk: DuckDBDataChunk, from: number, to: number, blob: boolean): unknown[] {
  const column = chunk.getColumnVector(0);
  const out: unknown[] = [];
  for (let r = from; r < to; r++) {
    const v = column.getItem(r) as { bytes: Uint8Array } | string | null;
    out.push(v === null ? null : blob ? [...(v as { bytes: Uint8Array }).bytes] : v);
  }
  return out;
}

for (const streamed of [false, true]) {
  for (const blob of [false, true]) {
    test(`${blob ? 'BLOB' : 'VARCHAR'} of a ${streamed ? 'streamed' : 'materialized'} result reads as getItem does`, async () => {
      const sql = `SELECT ${blob ? 'encode(v)' : 'v'} FROM s ORDER BY i`;
      const chunks = await chunksOf(sql, streamed);
      assert.ok(chunks.length >= 4, `${chunks.length} chunks`);
      let rows = 0;
      for (const chunk of chunks) {
        const n = chunk.rowCount;
        rows += n;
        // The whole chunk, then ranges cut at odd places (a portal suspended part-way through a batch).
        for (const [from, to] of [
          [0, n],
          [0, 1],
          [1, 14],
          [13, Math.min(n, 1000)],
          [Math.min(n, 999), n],
          [n, n],
        ] as const) {
          assert.equal(
            bulkRows(chunk, from, to, blob),
            itemRows(chunk, from, to, blob),
            `rows ${from}..${to}`,
          );
        }
      }
      assert.is(rows, 7000);
    });
  }
}

test('the bulk read keeps NUL bytes and multi-byte characters', async () => {
  const [chunk] = await chunksOf(
    `SELECT * FROM (VALUES ('a' || chr(0) || 'b'), (NULL), (''), ('😀😀😀😀'), (repeat('ж', 40))) t(v)`,
    false,
  );
  assert.equal(bulkRows(chunk!, 0, 5, false), ['a\0b', null, '', '😀😀😀😀', 'ж'.repeat(40)]);
});

test('a column that is not a DuckDB string vector is left to getItem', async () => {
  const [chunk] = await chunksOf('SELECT 42::INTEGER', false);
  assert.is(readStringColumn(chunk!.getColumnVector(0), 0, 1), null);
  assert.is(readStringColumn({ itemCount: 1, getItem: () => 'x' }, 0, 1), null);
});

test.run();
