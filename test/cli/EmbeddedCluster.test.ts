import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster } from '../../src/cluster/startCluster.js';
import { InProcessBus } from '../../src/transport/InProcessTransport.js';
import { type LogLine, logLines } from './cliProcesses.js';

test('startCluster runs tasks on its in-process workers and logs their distribution and completions at debug', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mallard-embedded-'));
  let output = '';
  const logger = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        output += line;
      },
    },
  );
  const cluster = await startCluster({ workers: 2, threads: 1, dataDir, logger });
  try {
    assert.equal(
      cluster.client
        .workers()
        .map((w) => [w.id, w.state])
        .sort(),
      [
        ['local-1', 'ready'],
        ['local-2', 'ready'],
      ],
    );
    const tasks = Array.from({ length: 8 }, (_, i) => ({
      sql: `SELECT ${i + 1} AS n`,
      partition: { files: [] },
    }));
    const run = cluster.client.runQuery(tasks, { queryId: 'embedded-q1' });
    const values: number[] = [];
    for await (const { batch } of run) {
      for (const row of batch.toArray()) values.push(Number(row.n));
    }
    assert.equal(
      values.sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );

    const lines = logLines(output).filter((l: LogLine) => l['query'] === 'embedded-q1');
    const distribution = lines.filter((l) => l.msg === 'query task distribution');
    assert.is(distribution.length, 1, output);
    const perWorker = distribution[0]!['perWorker'] as Record<string, number>;
    assert.is(
      Object.values(perWorker).reduce((a, b) => a + b, 0),
      8,
      JSON.stringify(perWorker),
    );
    for (const id of Object.keys(perWorker)) assert.ok(['local-1', 'local-2'].includes(id), id);
    const committed = lines.filter((l) => l.msg === 'task committed');
    assert.equal(
      committed.map((l) => l['task']).sort((a, b) => Number(a) - Number(b)),
      [0, 1, 2, 3, 4, 5, 6, 7],
      output,
    );
  } finally {
    await cluster.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  assert.ok(cluster.localWorkers.every((w) => w.state === 'stopped'));
});

test('startCluster with a transport starts no workers of its own', async () => {
  const bus = new InProcessBus();
  const cluster = await startCluster({ transport: bus.connect(), dataDir: tmpdir() });
  try {
    assert.is(cluster.localWorkers.length, 0);
    assert.is(cluster.prefix, 'mallard.default');
  } finally {
    await cluster.close();
  }
});

test('startCluster refuses in-process workers on a shared transport', async () => {
  const bus = new InProcessBus();
  try {
    await startCluster({ transport: bus.connect(), workers: 2, dataDir: tmpdir() });
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, RangeError);
    assert.match((err as Error).message, 'mallard worker');
  }
});

test.run();
