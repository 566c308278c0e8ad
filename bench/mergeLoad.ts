/**
 * Merge-load benchmark: a 2,000,000-row stage result (int, bigint, double, varchar, date, decimal(15,2)),
 * encoded by the worker's ArrowChunkEncoder and framed as Arrow IPC as workers send it, then loaded into
 * the coordinator's DuckDB by ArrowBatchLoader. Prints the loader's rows/s next to DuckDB copying the same
 * rows table to table (INSERT ... SELECT, the native ceiling) and the ratio. Encoding and IPC decoding are
 * not timed.
 *
 *   npm run build && node dist/bench/mergeLoad.js [rows]
 */
import { DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import { ArrowBatchLoader } from '../src/merge/ArrowBatchLoader.js';
import { ArrowChunkEncoder, encodeIpcStream } from '../worker/ArrowChunkEncoder.js';

const ROWS = Number(process.argv[2] ?? 2_000_000);
const RUNS = 3;

const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
const connection = await instance.connect();
await connection.run(`
  CREATE TABLE source AS
  SELECT i::INTEGER AS a, i * 1000003 AS b, i / 7 AS c, 'row ' || i AS d,
         DATE '1990-01-01' + (i % 20000)::INTEGER AS e, (i % 1000000) * 1.25::DECIMAL(15,2) AS f
  FROM range(${ROWS}) t(i)`);

// What the coordinator holds after receiving a worker's frames: IPC messages of ~1 MiB of batches each.
const result = await connection.run('SELECT * FROM source');
const encoder = new ArrowChunkEncoder(result.deduplicatedColumnNames(), result.columnTypes());
const batches: arrow.RecordBatch[] = [];
let pending: arrow.RecordBatch[] = [];
let pendingBytes = 0;
for (;;) {
  const chunk = await result.fetchChunk();
  if (!chunk || chunk.rowCount === 0) break;
  const { batch, bytes } = encoder.encode(chunk);
  pending.push(batch);
  pendingBytes += bytes;
  if (pendingBytes >= 1 << 20) {
    batches.push(...arrow.tableFromIPC(encodeIpcStream(pending)).batches);
    pending = [];
    pendingBytes = 0;
  }
}
if (pending.length > 0) batches.push(...arrow.tableFromIPC(encodeIpcStream(pending)).batches);

const columns = (await connection.runAndReadAll('DESCRIBE source'))
  .getRows()
  .map((r) => ({ name: String(r[0]), type: String(r[1]) }));

function rate(rows: number, ns: bigint): number {
  return rows / (Number(ns) / 1e9);
}

/** Loads every batch with `load`, checks the count, and returns rows/s. */
async function timeLoader(load: (loader: ArrowBatchLoader) => void): Promise<number> {
  const loader = await ArrowBatchLoader.create(connection, 'task_results', columns);
  const start = process.hrtime.bigint();
  load(loader);
  const rowsPerSecond = rate(loader.rows, process.hrtime.bigint() - start);
  const count = (await connection.runAndReadAll('SELECT count(*) FROM task_results')).getRows()[0]![0];
  if (count !== BigInt(ROWS)) throw new Error(`loaded ${count} rows, expected ${ROWS}`);
  await loader.drop();
  return rowsPerSecond;
}

let perBatch = 0;
let together = 0;
let native = 0;
for (let run = 0; run < RUNS; run++) {
  perBatch = Math.max(
    perBatch,
    await timeLoader((loader) => {
      for (const batch of batches) loader.append(batch);
    }),
  );
  together = Math.max(
    together,
    await timeLoader((loader) => {
      // As a consumer would with each IPC message's batches: ~1 MiB, a few hundred thousand rows... or all.
      loader.appendAll(batches);
    }),
  );
  await connection.run('CREATE TEMP TABLE copy AS SELECT * FROM source LIMIT 0');
  const start = process.hrtime.bigint();
  await connection.run('INSERT INTO copy SELECT * FROM source');
  native = Math.max(native, rate(ROWS, process.hrtime.bigint() - start));
  await connection.run('DROP TABLE copy');
}

const fmt = (n: number) => `${(n / 1e6).toFixed(2).padStart(6)}M rows/s`;
console.log(`rows: ${ROWS} in ${batches.length} Arrow batches; best of ${RUNS}; DuckDB threads=1`);
console.log(
  `ArrowBatchLoader.append, per batch  ${fmt(perBatch)}  ratio to DuckDB ${(perBatch / native).toFixed(2)}`,
);
console.log(
  `ArrowBatchLoader.appendAll          ${fmt(together)}  ratio to DuckDB ${(together / native).toFixed(2)}`,
);
console.log(`DuckDB INSERT INTO ... SELECT       ${fmt(native)}`);
connection.closeSync();
