import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startNatsServer } from '../cluster/helpers/natsServer.js';
import { freePort } from '../helpers/freePort.js';
import { startMallard } from '../helpers/mallard.js';
import { run } from '../helpers/run.js';
import { logLines, waitFor } from './cliProcesses.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/mallard.js');

test('mallard worker --help lists its flags and their environment variables', async () => {
  const result = await run(process.execPath, [BIN, 'worker', '--help']);
  assert.is(result.code, 0, result.stderr);
  const help = result.stdout;
  const oneLine = help.replace(/\s+/g, ' ');
  for (const [flag, env] of [
    ['--nats <url>', 'MALLARD_NATS'],
    ['--threads <n>', 'MALLARD_THREADS'],
    ['--memory-limit <size>', 'MALLARD_MEMORY_LIMIT'],
    ['--data <dir>', 'MALLARD_DATA'],
    ['--prefix <prefix>', 'MALLARD_CLUSTER_PREFIX'],
    ['--nats-user <user>', 'MALLARD_NATS_USER'],
    ['--nats-pass <password>', 'MALLARD_NATS_PASS'],
    ['--nats-token <token>', 'MALLARD_NATS_TOKEN'],
    ['--nats-tls-ca <file>', 'MALLARD_NATS_TLS_CA'],
    ['--nats-tls-cert <file>', 'MALLARD_NATS_TLS_CERT'],
    ['--nats-tls-key <file>', 'MALLARD_NATS_TLS_KEY'],
    ['--log-level <level>', 'MALLARD_LOG_LEVEL'],
  ] as const) {
    assert.ok(help.includes(flag), `help lacks ${flag}:\n${help}`);
    // Help wraps long lines, so an `(env: X)` note may start on one line and end on the next.
    assert.ok(oneLine.includes(`env: ${env}`), `help lacks ${env}:\n${help}`);
  }
  // Flags meant for the coordinator's front door are not a worker's.
  assert.not.ok(help.includes('--port'), help);
});

test('mallard worker without --nats says it is required', async () => {
  const result = await run(process.execPath, [BIN, 'worker'], {
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'MALLARD_NATS')),
  });
  assert.is(result.code, 1);
  assert.match(result.stderr, '--nats');
});

test('mallard coordinator --nats sees a separately started mallard worker join', async () => {
  const nats = await startNatsServer();
  const workerData = mkdtempSync(join(tmpdir(), 'mallard-worker-data-'));
  const server = await startMallard({ args: ['coordinator', '--nats', nats.url, '--prefix', 'cli.test'] });
  let worker: ChildProcess | undefined;
  try {
    const lines = () => logLines(server.stdout());
    assert.ok(
      lines().some((l) => l.msg === 'connected to NATS'),
      server.stdout(),
    );
    assert.not.ok(
      lines().some((l) => l.msg === 'worker joined'),
      'no worker runs yet',
    );

    let workerOut = '';
    // Configured through the environment only, as a container would run it.
    worker = spawn(process.execPath, [BIN, 'worker'], {
      env: {
        ...process.env,
        MALLARD_NATS: nats.url,
        MALLARD_CLUSTER_PREFIX: 'cli.test',
        MALLARD_THREADS: '1',
        MALLARD_MEMORY_LIMIT: '256MB',
        MALLARD_DATA: workerData,
        MALLARD_WORKER_ID: 'cli-worker-1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout?.on('data', (d: Buffer) => {
      workerOut += d.toString();
    });
    worker.stderr?.on('data', (d: Buffer) => {
      workerOut += d.toString();
    });
    const joined = await waitFor('the coordinator to log the worker joining', () =>
      lines().find((l) => l.msg === 'worker joined'),
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}\n--- coordinator ---\n${server.stdout()}\n--- worker ---\n${workerOut}`,
      );
    });
    assert.is(joined['worker'], 'cli-worker-1');
    assert.is(joined['threads'], 1);

    // SIGTERM drains: the worker says so, stops, and the coordinator sees it leave.
    const exited = new Promise<number | null>((resolve) => worker!.once('exit', (code) => resolve(code)));
    worker.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<string>((resolve) =>
        setTimeout(() => resolve('still running 20 s after SIGTERM'), 20_000).unref(),
      ),
    ]);
    assert.is(code, 0, workerOut);
    assert.ok(
      logLines(workerOut).some((l) => l.msg === 'worker draining'),
      workerOut,
    );
    await waitFor('the coordinator to log the worker leaving', () =>
      lines().find((l) => l.msg === 'worker left'),
    );
  } finally {
    worker?.kill('SIGKILL');
    await server.stop();
    await nats.stop();
    rmSync(workerData, { recursive: true, force: true });
  }
});

test('mallard coordinator with no NATS at the URL fails with a one-line reason', async () => {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'mallard-nonats-'));
  try {
    const args = [BIN, '--port', '0', '--data', dataDir, 'coordinator', '--nats', `nats://127.0.0.1:${port}`];
    const result = await run(process.execPath, args, { timeoutMs: 20_000 });
    assert.is(result.code, 1, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stderr, `mallard: cannot connect to NATS at nats://127.0.0.1:${port}`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the default run (npm start) logs that 2 in-process workers joined, and serves queries', async () => {
  const server = await startMallard();
  try {
    const lines = logLines(server.stdout());
    const joined = lines.filter((l) => l.msg === 'worker joined').map((l) => l['worker']);
    assert.equal(joined.sort(), ['local-1', 'local-2'], server.stdout());
    const summary = lines.find((l) => l.msg === 'in-process workers joined');
    assert.ok(summary, server.stdout());
    assert.is(summary['workers'], 2);
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
  } finally {
    await server.stop();
  }
  const stopped = logLines(server.stdout()).filter((l) => l.msg === 'worker stopped');
  assert.is(stopped.length, 2, server.stdout());
});

test('--workers 3 starts three in-process workers', async () => {
  const server = await startMallard({ args: ['--workers', '3'] });
  try {
    const summary = logLines(server.stdout()).find((l) => l.msg === 'in-process workers joined');
    assert.ok(summary, server.stdout());
    assert.is(summary['workers'], 3);
  } finally {
    await server.stop();
  }
});

test.run();
