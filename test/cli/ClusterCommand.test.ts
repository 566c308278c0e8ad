import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClusterClient } from '../../src/cluster/ClusterClient.js';
import { connectNatsTransport } from '../../src/transport/NatsTransport.js';
import { startMallard } from '../helpers/mallard.js';
import { run } from '../helpers/run.js';
import { descendants, isAlive, logLines, waitFor } from './cliProcesses.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/mallard.js');

test('mallard cluster --workers 2 runs nats-server, two heartbeating workers and a coordinator, and stops them all', async () => {
  const server = await startMallard({ args: ['cluster', '--workers', '2', '--threads', '1'] });
  let client: ClusterClient | undefined;
  let transport: Awaited<ReturnType<typeof connectNatsTransport>> | undefined;
  try {
    const started = logLines(server.stdout()).find((l) => l.msg === 'nats-server started');
    assert.ok(started, `no "nats-server started" line in:\n${server.stdout()}`);
    const natsUrl = String(started['nats']);
    assert.match(natsUrl, /^nats:\/\/127\.0\.0\.1:\d+$/);

    // Watch the cluster from outside, as another coordinator would: both workers must keep heartbeating.
    transport = await connectNatsTransport({ servers: natsUrl });
    client = new ClusterClient({ transport, prefix: 'mallard.default' });
    const beats = new Map<string, number>();
    client.registry.on('heartbeat', (worker) => beats.set(worker.id, (beats.get(worker.id) ?? 0) + 1));
    await waitFor(
      'two workers with two heartbeats each',
      () => ([...beats.values()].filter((n) => n >= 2).length >= 2 ? true : undefined),
      15_000,
    );
    const workers = client.workers();
    assert.is(workers.length, 2, JSON.stringify(workers));
    for (const w of workers) {
      assert.is(w.state, 'ready');
      assert.is(w.threads, 1);
    }

    const children = descendants(server.pid);
    const nats = children.filter((c) => c.cmdline.includes('nats-server'));
    const workerProcesses = children.filter((c) => c.cmdline.includes(' worker '));
    assert.is(nats.length, 1, JSON.stringify(children));
    assert.is(workerProcesses.length, 2, JSON.stringify(children));
    assert.equal(
      workers.map((w) => w.pid).sort(),
      workerProcesses.map((c) => c.pid).sort(),
      'the workers heartbeating are the ones mallard cluster started',
    );

    await waitFor('the coordinator to log that the cluster is ready', () =>
      logLines(server.stdout()).find((l) => l.msg === 'cluster ready' && l['workers'] === 2),
    );

    const psql = await run('psql', [
      '-X',
      '-h',
      '127.0.0.1',
      '-p',
      String(server.port),
      '-U',
      'mallard',
      '-d',
      'mallard',
      '-tAc',
      'SELECT 1',
    ]);
    assert.is(psql.code, 0, psql.stderr);
    assert.is(psql.stdout.trim(), '1');

    await client.close();
    client = undefined;
    await transport.close();
    transport = undefined;
    await server.stop();
    const left = children.filter((c) => isAlive(c.pid));
    assert.equal(left, [], 'no child process outlives mallard cluster');
    const out = server.stdout();
    assert.ok(
      logLines(out).some((l) => l.msg === 'cluster processes stopped'),
      out,
    );
  } finally {
    await client?.close();
    await transport?.close();
    await server.stop();
  }
});

test('mallard cluster without nats-server on PATH fails with the install command', async () => {
  const path = (process.env['PATH'] ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '/usr/sbin' && dir !== '/sbin')
    .join(delimiter);
  const result = await run(
    process.execPath,
    [BIN, '--port', '0', '--data', '/tmp/mallard-never-created', 'cluster'],
    {
      env: { ...process.env, PATH: path },
      timeoutMs: 20_000,
    },
  );
  assert.is(result.code, 1, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stderr, 'nats-server');
  assert.match(result.stderr, 'apt-get install -y nats-server');
});

test.run();
