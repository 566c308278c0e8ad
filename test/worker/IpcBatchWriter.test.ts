import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  FRAME_HEADER_BYTES,
  ResultFrameAssembler,
  sealSingleFrame,
} from '../../protocol/cluster/resultFrames.js';
import { ArrowChunkEncoder, DUCKDB_TYPE_METADATA, encodeIpcStream } from '../../worker/ArrowChunkEncoder.js';
import { IpcBatchWriter } from '../../worker/IpcBatchWriter.js';

let instance: DuckDBInstance;
let connection: DuckDBConnection;

test.before(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});

test.after(() => {
  connection.closeSync();
  instance.closeSync();
});

/** Every column type ArrowChunkEncoder handles natively, plus two that travel as text; NULLs in most. */
const COLUMNS = `
  i % 5 = 0 AS b,
  CASE WHEN i % 7 = 0 THEN NULL ELSE (i % 100)::TINYINT END AS ti,
  (i * 3)::SMALLINT AS si,
  CASE WHEN i % 3 = 0 THEN NULL ELSE i::INTEGER END AS n,
  (i * 1000003)::BIGINT AS big,
  i::UBIGINT AS ub,
  (i / 4)::FLOAT AS f,
  CASE WHEN i % 11 = 0 THEN NULL ELSE i * 0.5 END::DOUBLE AS d,
  (i % 999 - 500)::DECIMAL(4,1) AS d4,
  (i * 1.25 - 7)::DECIMAL(9,2) AS d9,
  (i * 1.125 - 7)::DECIMAL(18,3) AS d18,
  CASE WHEN i % 13 = 0 THEN NULL ELSE (i * 12345678901.5)::DECIMAL(38,5) END AS d38,
  (i::HUGEINT * 170141183460469231731) AS h,
  DATE '2020-01-01' + i::INTEGER AS dt,
  TIME '01:02:03' + INTERVAL (i) SECOND AS tm,
  TIMESTAMP '2021-06-01 00:00:00' + INTERVAL (i) MINUTE AS ts,
  CASE WHEN i % 17 = 0 THEN NULL ELSE TIMESTAMPTZ '2021-06-01 00:00:00+00' + INTERVAL (i) HOUR END AS tz,
  CASE WHEN i % 2 = 0 THEN 'r' || i WHEN i % 19 = 0 THEN NULL ELSE 'a longer value on the heap #' || i END AS s,
  ('blob' || i)::BLOB AS bl,
  NULL AS nothing,
  INTERVAL (i) DAY AS iv,
  CASE WHEN i % 23 = 0 THEN NULL ELSE [i, i + 1] END AS list`;

/**
 * The per-chunk batches of several queries over consecutive ranges of odd sizes, so the joined batch has
 * parts starting at every bit offset, parts without any NULL next to parts with some.
 */
async function chunkBatches(sizes: readonly number[]): Promise<arrow.RecordBatch[]> {
  const batches: arrow.RecordBatch[] = [];
  let start = 1;
  let schema: arrow.Schema | undefined;
  for (const size of sizes) {
    const result = await connection.run(`SELECT ${COLUMNS} FROM range(${start}, ${start + size}) t(i)`);
    const encoder = new ArrowChunkEncoder(result.deduplicatedColumnNames(), result.columnTypes());
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const { batch } = encoder.encode(chunk);
      // One schema for all the parts, as within one task's result.
      schema ??= batch.schema;
      batches.push(new arrow.RecordBatch(schema, batch.data));
    }
    start += size;
  }
  return batches;
}

/** The batches as one IPC stream from IpcBatchWriter, read back as Arrow does. */
function joined(parts: readonly arrow.RecordBatch[]): arrow.Table {
  return arrow.tableFromIPC(new IpcBatchWriter(parts[0]!.schema).write(parts));
}

/** Every value of a table as text, row by row, through Arrow JS's own accessors. */
function rowsOf(table: arrow.Table): string[] {
  const out: string[] = [];
  for (let r = 0; r < table.numRows; r++) {
    const row = table.schema.fields.map((f) => {
      const value = table.getChild(f.name)!.get(r);
      if (value === null) return 'null';
      if (value instanceof Uint8Array || value instanceof Uint32Array) return `[${[...value].join(',')}]`;
      return String(value);
    });
    out.push(row.join('|'));
  }
  return out;
}

test('one record batch that reads back exactly as the chunk batches it joins', async () => {
  const sizes = [1, 3, 2048, 5, 17, 1000, 7, 4096, 2, 9];
  const parts = await chunkBatches(sizes);
  assert.ok(parts.length > sizes.length, 'some queries gave several chunks');
  const total = sizes.reduce((a, b) => a + b, 0);
  const separate = arrow.tableFromIPC(encodeIpcStream(parts));
  const together = joined(parts);
  assert.is(together.batches.length, 1, 'one record batch on the wire');
  assert.is(together.numRows, total);
  const expected = rowsOf(separate);
  const got = rowsOf(together);
  for (let r = 0; r < total; r++) assert.is(got[r], expected[r], `row ${r}`);
  // The null counts add up, column by column, and the DuckDB types ride along.
  for (const field of separate.schema.fields) {
    const nulls = (t: arrow.Table) => t.getChild(field.name)!.nullCount;
    assert.is(nulls(together), nulls(separate), `${field.name} nulls`);
    const metadata = together.schema.fields.find((f) => f.name === field.name)!.metadata;
    assert.is(metadata.get(DUCKDB_TYPE_METADATA), field.metadata.get(DUCKDB_TYPE_METADATA));
  }
  assert.ok(together.getChild('n')!.nullCount > 0);
  assert.is(together.getChild('nothing')!.nullCount, total);
});

test('booleans and validity bits land at every offset', async () => {
  // Parts of 1..9 rows: each starts at a different bit offset of the joined bitmaps.
  const parts = await chunkBatches([1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1]);
  const together = joined(parts);
  const separate = arrow.tableFromIPC(encodeIpcStream(parts));
  assert.is(together.numRows, 48);
  for (const column of ['b', 'ti', 'n', 'd', 's', 'list']) {
    const a = together.getChild(column)!;
    const b = separate.getChild(column)!;
    for (let r = 0; r < together.numRows; r++) assert.is(a.get(r), b.get(r), `${column} row ${r}`);
  }
});

test('a single chunk, and a chunk without a single NULL, write valid streams', async () => {
  const [only] = await chunkBatches([10]);
  assert.equal(rowsOf(joined([only!])), rowsOf(arrow.tableFromIPC(encodeIpcStream([only!]))));
  const result = await connection.run('SELECT i, i::VARCHAR AS s FROM range(5) t(i)');
  const encoder = new ArrowChunkEncoder(result.deduplicatedColumnNames(), result.columnTypes());
  const chunk = await result.fetchChunk();
  const table = joined([encoder.encode(chunk!).batch]);
  assert.equal(rowsOf(table), ['0|0', '1|1', '2|2', '3|3', '4|4']);
  assert.is(table.getChild('i')!.nullCount, 0);
});

test('written after frame headroom, the message is sealed in place as one frame', async () => {
  const parts = await chunkBatches([3000]);
  const writer = new IpcBatchWriter(parts[0]!.schema);
  const message = writer.write(parts, FRAME_HEADER_BYTES);
  const ipc = message.subarray(FRAME_HEADER_BYTES);
  assert.is(sealSingleFrame(message, 0, message.byteLength - 1), null, 'too large for one frame');
  const frame = sealSingleFrame(message, 0, 1024 * 1024)!;
  assert.is(frame.byteLength, FRAME_HEADER_BYTES + ipc.byteLength);
  const assembler = new ResultFrameAssembler();
  const batch = assembler.push(frame)!;
  assert.ok(batch, 'a whole batch from one frame');
  assert.equal(rowsOf(arrow.tableFromIPC(batch)), rowsOf(arrow.tableFromIPC(encodeIpcStream(parts))));
  // The next batch of the attempt follows on as batch 1.
  const second = writer.write(parts, FRAME_HEADER_BYTES);
  assert.ok(assembler.push(sealSingleFrame(second, 1, 1024 * 1024)!));
  assert.is(assembler.batches, 2);
});

test.run();
