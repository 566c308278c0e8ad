// Stopping statements: CancelRequest with the pid and secret from BackendKeyData (and with wrong ones),
// psql's Ctrl-C, statement_timeout, and a client that disconnects mid-query. DuckDB has no pg_sleep, so
// the long statement hashes a billion generated rows: CPU-bound, minutes long unless interrupted.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loudHook } from '../helpers/loudHook.js';
import { type MallardServer, startMallard } from '../helpers/mallard.js';
import { longRunningQuery } from '../helpers/targets.js';
import { cancelRequest } from './fixtures/frontendMessages.js';
import { RawConnection } from './fixtures/RawConnection.js';
import {
  commandTags,
  cpuSeconds,
  dataRows,
  describeMessages,
  firstError,
  sleep,
  WireSession,
} from './serverWire.js';

const PSQL = '/usr/bin/psql';
const LONG = longRunningQuery('mallard');
let server: MallardServer;

test.before(
  loudHook(async () => {
    if (!existsSync(PSQL))
      throw new Error(`${PSQL} is missing; install it with: apt-get install -y postgresql-client`);
    server = await startMallard();
  }),
);

test.after(async () => {
  await server?.stop();
});

/** Sends a CancelRequest on a fresh socket, as libpq does; the server answers nothing and closes it. */
async function sendCancel(pid: number, secret: number): Promise<RawConnection> {
  const raw = await RawConnection.open(server.host, server.port);
  raw.write(cancelRequest(pid, secret));
  return raw;
}

test('CancelRequest: a wrong secret cancels nothing; the right one cancels only that session (57014)', async () => {
  const a = await WireSession.open(server.host, server.port);
  const b = await WireSession.open(server.host, server.port);
  try {
    const key = a.backendKey();
    a.send(LONG);
    await sleep(1_000);
    assert.not.ok(a.hasReply(), 'the long query finished by itself; it is too short for this test');

    // Wrong secret, then wrong pid: both ignored, and the cancel sockets are closed without an answer.
    const wrongSecret = await sendCancel(key.pid, (key.secret + 1) | 0);
    const wrongPid = await sendCancel(key.pid + 1, key.secret);
    assert.ok(await wrongSecret.closedWithin(5_000), 'cancel socket left open');
    assert.ok(await wrongPid.closedWithin(5_000), 'cancel socket left open');
    assert.is(wrongSecret.received.length, 0);
    await sleep(1_500);
    assert.not.ok(a.hasReply(), 'a CancelRequest with a wrong secret or pid stopped the query');

    // Session b runs its own query while a is cancelled; its result must be complete and correct.
    b.send('SELECT count(DISTINCT md5(i::varchar)) AS n FROM range(2000000) t(i)');
    const right = await sendCancel(key.pid, key.secret);
    const started = Date.now();
    const reply = await a.reply(20_000);
    const err = firstError(reply);
    assert.ok(err, `no error after cancel: ${describeMessages(reply)}`);
    assert.is(err!.S, 'ERROR');
    assert.is(err!.C, '57014');
    assert.is(err!.M, 'canceling statement due to user request');
    assert.ok(Date.now() - started < 10_000, `cancel took ${Date.now() - started} ms`);
    assert.is(reply[reply.length - 1]!.body.toString(), 'I');
    assert.ok(await right.closedWithin(5_000), 'cancel socket left open');

    const other = await b.reply(60_000);
    assert.is(firstError(other), undefined, describeMessages(other));
    assert.equal(dataRows(other), [['2000000']]);

    // The cancelled session goes on.
    assert.equal(dataRows(await a.query('SELECT 1')), [['1']]);
  } finally {
    a.close();
    b.close();
  }
});

test('CancelRequest while the session is idle does nothing to its next query', async () => {
  const a = await WireSession.open(server.host, server.port);
  const key = a.backendKey();
  const c = await sendCancel(key.pid, key.secret);
  assert.ok(await c.closedWithin(5_000));
  await sleep(200);
  const reply = await a.query('SELECT 11');
  assert.is(firstError(reply), undefined, describeMessages(reply));
  assert.equal(dataRows(reply), [['11']]);
  a.close();
});

test('psql: Ctrl-C (SIGINT) during a long query prints the cancel error', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, PAGER: '' };
  for (const name of ['PGSSLMODE', 'PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGPASSWORD', 'PGOPTIONS']) {
    delete env[name];
  }
  const child = spawn(
    PSQL,
    ['-X', '-h', server.host, '-p', String(server.port), '-U', 'u', '-d', 'd', '-c', LONG],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await sleep(2_000);
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await exited;
  clearTimeout(timer);
  assert.ok(
    stderr.includes('ERROR:  canceling statement due to user request'),
    `exit ${code}\n${stdout}\n${stderr}`,
  );
  assert.is(code, 1, stderr);
});

test('SET statement_timeout = 200 cancels a long query with 57014 and the session goes on', async () => {
  const s = await WireSession.open(server.host, server.port);
  try {
    assert.equal(commandTags(await s.query('SET statement_timeout = 200')), ['SET']);
    const started = Date.now();
    const reply = await s.query(LONG, 20_000);
    const elapsed = Date.now() - started;
    const err = firstError(reply);
    assert.ok(err, describeMessages(reply));
    assert.is(err!.C, '57014');
    assert.is(err!.M, 'canceling statement due to statement timeout');
    assert.ok(elapsed >= 200 && elapsed < 10_000, `timed out after ${elapsed} ms`);
    // A short statement is not affected by the timeout.
    assert.equal(dataRows(await s.query('SELECT 12')), [['12']]);
  } finally {
    s.close();
  }
});

test('statement_timeout from the startup options (-c statement_timeout=1000) is enforced', async () => {
  const s = await WireSession.open(server.host, server.port, {
    user: 'u',
    database: 'd',
    options: '-c statement_timeout=1000',
  });
  try {
    const started = Date.now();
    const reply = await s.query(LONG, 20_000);
    const elapsed = Date.now() - started;
    const err = firstError(reply);
    assert.ok(err, describeMessages(reply));
    assert.is(err!.C, '57014');
    assert.is(err!.M, 'canceling statement due to statement timeout');
    assert.ok(elapsed >= 1_000 && elapsed < 10_000, `timed out after ${elapsed} ms`);
  } finally {
    s.close();
  }
});

test('a client that disconnects mid-query has its query cancelled: the server stops burning CPU', async () => {
  const s = await WireSession.open(server.host, server.port);
  s.send(LONG);
  await sleep(1_000);
  const busyFrom = cpuSeconds(server.pid);
  await sleep(2_000);
  const busy = cpuSeconds(server.pid) - busyFrom;
  // Sanity check that the measurement means something: the query was using the CPU.
  assert.ok(busy > 0.3, `the long query used only ${busy.toFixed(2)} s of CPU in 2 s`);
  s.raw.destroy();
  await sleep(1_500);
  const idleFrom = cpuSeconds(server.pid);
  await sleep(2_000);
  const idle = cpuSeconds(server.pid) - idleFrom;
  assert.ok(
    idle < 0.2,
    `after the client left the server still used ${idle.toFixed(2)} s of CPU in 2 s (${busy.toFixed(2)} s while it was connected)`,
  );
  // And a new connection is served promptly.
  const next = await WireSession.open(server.host, server.port);
  const started = Date.now();
  assert.equal(dataRows(await next.query('SELECT 13')), [['13']]);
  assert.ok(Date.now() - started < 2_000, `SELECT 13 took ${Date.now() - started} ms`);
  next.close();
});

test.run();
