/**
 * Where distributing starts to pay (issue 5: "do not distribute tables below a threshold that you
 * measure"). For tables of growing size, the median latency of a point query and of `count(*)` plus a sum,
 * run on the coordinator (`--local-max-rows` above the table) and on the workers (`--local-max-rows 0`),
 * in one run over the same data directory with the embedded default (2 in-process workers).
 *
 *   npx tsc -p . && node dist/bench/localThreshold.js [runs]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startMallard } from '../test/helpers/mallard.js';

const RUNS = Number(process.argv[2] ?? 15);
const SIZES = [10_000, 100_000, 1_000_000, 4_000_000];
const FILES = 4;
const QUERIES = {
  point: 'SELECT * FROM t WHERE id = 4321',
  aggregate: 'SELECT count(*), sum(v) FROM t',
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timeQueries(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const out: Record<string, number> = {};
    for (const [name, sql] of Object.entries(QUERIES)) {
      for (let i = 0; i < 3; i++) await client.query(sql);
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = process.hrtime.bigint();
        await client.query(sql);
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      out[name] = median(times);
    }
    return out;
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  console.log(`| rows | query | coordinator ms | workers ms | workers / coordinator |`);
  console.log(`| ---: | --- | ---: | ---: | ---: |`);
  for (const rows of SIZES) {
    const dataDir = mkdtempSync(join(tmpdir(), 'mallard-threshold-'));
    try {
      const load = await startMallard({ args: ['--data', dataDir, '--table-storage', 'parquet'] });
      const client = new pg.Client({ connectionString: load.url });
      await client.connect();
      await client.query('CREATE TABLE t (id BIGINT, v DOUBLE, s VARCHAR)');
      for (let f = 0; f < FILES; f++) {
        const from = (f * rows) / FILES;
        await client.query(
          `INSERT INTO t SELECT i, i * 0.5, 'x' || CAST(i AS VARCHAR) FROM range(${from}, ${from + rows / FILES}) r(i)`,
        );
      }
      await client.end();
      await load.stop();
      const results: Record<string, Record<string, number>> = {};
      for (const [mode, max] of [
        ['coordinator', String(rows * 10)],
        ['workers', '0'],
      ] as const) {
        const server = await startMallard({
          args: ['--data', dataDir, '--table-storage', 'parquet', '--local-max-rows', max],
        });
        try {
          results[mode] = await timeQueries(server.url);
        } finally {
          await server.stop();
        }
      }
      for (const name of Object.keys(QUERIES)) {
        const c = results['coordinator']![name]!;
        const w = results['workers']![name]!;
        console.log(`| ${rows} | ${name} | ${c.toFixed(2)} | ${w.toFixed(2)} | ${(w / c).toFixed(2)} |`);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}

await main();
