import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startMallard } from '../helpers/mallard.js';

const ROWS = 10_000_000;
const RSS_LIMIT_KB = 300 * 1024;

test('a 10,000,000-row result streams from worker processes to a slow client within 300 MB of coordinator RSS', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mallard-stream-'));
  // Worker processes (mallard cluster), so the RSS sampled is the coordinator's alone.
  const args = ['--data', dataDir, '--table-storage', 'parquet', '--local-max-rows', '0'];
  const cluster = ['cluster', '--workers', '2', '--threads', '1'];
  const debug = process.env.MALLARD_MEM_DEBUG ? { env: { NODE_OPTIONS: '--import /tmp/mem.mjs' } } : {};
  // The table is written by one coordinator; a fresh one serves the query, so what the load left in its
  // memory does not count.
  const loader = await startMallard({ args });
  try {
    const load = new pg.Client({ connectionString: loader.url });
    await load.connect();
    await load.query('CREATE TABLE big (id BIGINT, twice BIGINT, label VARCHAR)');
    for (let part = 0; part < 8; part++) {
      const from = (part * ROWS) / 8;
      await load.query(
        `INSERT INTO big SELECT i, i * 2, 'row ' || CAST(i AS VARCHAR) FROM range(${from}, ${from + ROWS / 8}) AS r(i)`,
      );
    }
    await load.end();
  } finally {
    await loader.stop();
  }
  const server = await startMallard({ ...debug, args: [...args, ...cluster] });
  const client = new pg.Client({ connectionString: server.url });
  try {
    await client.connect();
    for (let i = 0; ; i++) {
      const ready = await client.query("SELECT count(*) AS n FROM mallard_workers WHERE state = 'ready'");
      if (Number(ready.rows[0].n) >= 2) break;
      if (i > 150) throw new Error('two workers did not join within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    let peakKb = 0;
    const sample = setInterval(() => {
      peakKb = Math.max(peakKb, server.rssKb());
    }, 50);
    let rows = 0;
    let sum = 0n;
    const started = Date.now();
    try {
      const cursor = client.query(new Cursor('SELECT id, twice, label FROM big'));
      for (;;) {
        const batch = (await cursor.read(20_000)) as { id: string; twice: string; label: string }[];
        if (batch.length === 0) break;
        for (const row of batch) {
          rows++;
          sum += BigInt(row.id);
          if (BigInt(row.twice) !== BigInt(row.id) * 2n || row.label !== `row ${row.id}`) {
            throw new Error(`row ${JSON.stringify(row)} is not what was stored`);
          }
        }
        // Deliberately slow: the workers produce far faster than this client reads.
        await new Promise((r) => setTimeout(r, 10));
      }
      await cursor.close();
    } finally {
      clearInterval(sample);
    }
    const n = BigInt(ROWS);
    assert.is(rows, ROWS);
    assert.is(sum, (n * (n - 1n)) / 2n, 'every id exactly once');
    const mode = await client.query(
      'SELECT mode, workers, rows, status FROM mallard_queries ORDER BY started_at DESC LIMIT 1',
    );
    assert.equal(mode.rows, [{ mode: 'distributed', workers: 2, rows: String(ROWS), status: 'succeeded' }]);
    if (process.env.MALLARD_MEM_DEBUG)
      console.log(
        server
          .stderr()
          .split('\n')
          .filter((l) => l.startsWith('MEM'))
          .join('\n'),
      );
    console.log(
      `10M rows in ${((Date.now() - started) / 1000).toFixed(1)} s; coordinator peak RSS ${(peakKb / 1024).toFixed(0)} MB`,
    );
    assert.ok(peakKb > 0 && peakKb < RSS_LIMIT_KB, `coordinator peak RSS ${peakKb} KiB`);
  } finally {
    await client.end().catch(() => {});
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
