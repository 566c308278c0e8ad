// Measures the storage layer on this machine (not a test: no assertion, nothing timed in a suite).
//   npx tsc -p . && node dist/test/storage/measureStorage.js [rows]
// Prints bulk-write throughput next to DuckDB writing the same rows to one Parquet file and to its own
// table, then commit, single-row INSERT and single-row UPDATE-by-key latencies.
import { DuckDBInstance } from '@duckdb/node-api';
import { removeDir, tempDataDir } from '../catalog/dataDirHelpers.js';
import { closeFixture, openFixture } from './storageHelpers.js';

const ROWS = Number(process.argv[2] ?? 6_000_000);
// lineitem-shaped rows (TPC-H column types), generated rather than read so that generation is cheap.
const LINEITEM = `
  SELECT range // 4 AS l_orderkey, CAST(range % 200000 AS BIGINT) AS l_partkey, CAST(range % 10000 AS BIGINT) AS l_suppkey,
         CAST(range % 4 + 1 AS INTEGER) AS l_linenumber, CAST(range % 50 + 1 AS DECIMAL(15,2)) AS l_quantity,
         CAST((range % 100000) / 7.0 AS DECIMAL(15,2)) AS l_extendedprice, CAST((range % 11) / 100 AS DECIMAL(15,2)) AS l_discount,
         CAST((range % 9) / 100 AS DECIMAL(15,2)) AS l_tax, ['N', 'R', 'A'][range % 3 + 1] AS l_returnflag, ['O', 'F'][range % 2 + 1] AS l_linestatus,
         DATE '1992-01-01' + CAST(range % 2500 AS INTEGER) AS l_shipdate, DATE '1992-01-31' + CAST(range % 2500 AS INTEGER) AS l_commitdate,
         DATE '1992-01-15' + CAST(range % 2500 AS INTEGER) AS l_receiptdate, ['DELIVER IN PERSON', 'COLLECT COD', 'NONE', 'TAKE BACK RETURN'][range % 4 + 1] AS l_shipinstruct,
         ['AIR', 'MAIL', 'SHIP', 'TRUCK', 'RAIL', 'FOB', 'REG AIR'][range % 7 + 1] AS l_shipmode, 'comment ' || (range % 100003) AS l_comment
  FROM range(${ROWS})`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function latency(label: string, ms: number[]): void {
  const s = [...ms].sort((a, b) => a - b);
  console.log(
    `${label}: p50 ${percentile(s, 50).toFixed(2)} ms, p99 ${percentile(s, 99).toFixed(2)} ms (${s.length} runs)`,
  );
}

async function main(): Promise<void> {
  const dir = await tempDataDir('mallard-measure-');
  const f = await openFixture(dir, { threads: 2 });
  try {
    const columns = (await f.conn.runAndReadAll(`DESCRIBE ${LINEITEM} LIMIT 0`))
      .getRowObjectsJson()
      .map((c) => ({
        name: String(c['column_name']),
        type: String(c['column_type']),
      }));
    let txn = f.catalog.begin();
    await f.storage.createTable(txn, { schema: 'public', name: 'lineitem', columns });
    await txn.commit();

    // Reference: the same DuckDB (2 threads) writing one Parquet file and a native table.
    const ref = await DuckDBInstance.create(':memory:', { threads: '2' });
    const rc = await ref.connect();
    let t0 = performance.now();
    await rc.run(`COPY (${LINEITEM}) TO '${dir}/reference.parquet' (FORMAT parquet, COMPRESSION zstd)`);
    const copyMs = performance.now() - t0;
    t0 = performance.now();
    await rc.run(`CREATE TABLE native AS ${LINEITEM}`);
    const nativeMs = performance.now() - t0;
    rc.closeSync();
    ref.closeSync();

    t0 = performance.now();
    txn = f.catalog.begin();
    await f.storage.insertBulk(txn, { schema: 'public', name: 'lineitem' }, LINEITEM);
    await txn.commit();
    const mallardMs = performance.now() - t0;
    const snap = f.catalog.snapshot();
    const t = snap.requireTable({ schema: 'public', name: 'lineitem' });
    const bytes = t.files.reduce((n, x) => n + x.bytes, 0);
    snap.release();
    const rate = (ms: number) => `${Math.round(ROWS / (ms / 1000)).toLocaleString('en-US')} rows/s`;
    console.log(`rows: ${ROWS.toLocaleString('en-US')}, threads: 2`);
    console.log(
      `TableStorage.insertBulk (balanced files + stats + fsync + commit): ${rate(mallardMs)}, ${t.files.length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB`,
    );
    console.log(
      `DuckDB COPY to one Parquet file (reference):                    ${rate(copyMs)}  (ratio ${(copyMs / mallardMs).toFixed(2)})`,
    );
    console.log(
      `DuckDB CREATE TABLE AS in memory (reference):                   ${rate(nativeMs)}  (ratio ${(nativeMs / mallardMs).toFixed(2)})`,
    );

    // Single-row writes against a PRIMARY KEY table of 1M rows.
    txn = f.catalog.begin();
    await f.storage.createTable(txn, {
      schema: 'public',
      name: 'kv',
      columns: [
        { name: 'id', type: 'BIGINT' },
        { name: 'v', type: 'VARCHAR' },
      ],
      constraints: [{ kind: 'primary key', columns: ['id'] }],
    });
    await f.storage.insertBulk(
      txn,
      { schema: 'public', name: 'kv' },
      "SELECT range, 'v' || range FROM range(1000000)",
    );
    await txn.commit();
    f.storage.startMaintenance({ intervalMs: 200 });

    const empty: number[] = [];
    for (let i = 0; i < 200; i++) {
      const s = performance.now();
      const x = f.catalog.begin();
      x.createIndex({ schema: 'public', name: 'kv' }, { name: `i${i}`, columns: ['v'] });
      await x.commit();
      empty.push(performance.now() - s);
    }
    latency('catalog commit (one small op: temp file, fsync, rename, fsync dir)', empty);

    const inserts: number[] = [];
    for (let i = 0; i < 500; i++) {
      const s = performance.now();
      const x = f.catalog.begin();
      await f.storage.insert(x, { schema: 'public', name: 'kv' }, 'SELECT $1, $2', [
        2_000_000 + i,
        `new ${i}`,
      ]);
      await x.commit();
      inserts.push(performance.now() - s);
    }
    latency('single-row INSERT + COMMIT (PK checked, inline buffer)', inserts);

    const updates: number[] = [];
    for (let i = 0; i < 500; i++) {
      const id = (i * 7919) % 1_000_000;
      const s = performance.now();
      const x = f.catalog.begin();
      await f.storage.update(x, { schema: 'public', name: 'kv' }, { v: "'updated'" }, 'id = $1', [id]);
      await x.commit();
      updates.push(performance.now() - s);
    }
    latency('single-row UPDATE ... WHERE id = $1 + COMMIT (1M rows, delete record + inline row)', updates);
    await f.storage.stopMaintenance();
  } finally {
    await closeFixture(f);
    await removeDir(dir);
  }
}

await main();
