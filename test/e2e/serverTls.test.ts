// TLS and the pre-startup requests: psql with sslmode=require against a server with --tls-cert/--tls-key,
// sslmode=require failing cleanly and the default sslmode (prefer) working without them, and the one-byte
// answers to SSLRequest and GSSENCRequest seen over raw sockets.
import { existsSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loudHook } from '../helpers/loudHook.js';
import { type MallardServer, startMallard } from '../helpers/mallard.js';
import { type RunResult, run } from '../helpers/run.js';
import { type SelfSignedCert, selfSignedCert } from '../helpers/tls.js';
import { gssEncRequest, sslRequest, startupMessage } from './fixtures/frontendMessages.js';
import { RawConnection } from './fixtures/RawConnection.js';
import { dataRows, describeMessages, WireSession } from './serverWire.js';

const PSQL = '/usr/bin/psql';
let cert: SelfSignedCert;
let secure: MallardServer;
let plain: MallardServer;
/** TLS and SCRAM-SHA-256 together, as a server reachable from other machines would run. */
let secureScram: MallardServer;

test.before(
  loudHook(async () => {
    if (!existsSync(PSQL))
      throw new Error(`${PSQL} is missing; install it with: apt-get install -y postgresql-client`);
    cert = await selfSignedCert();
    const tls = ['--tls-cert', cert.cert, '--tls-key', cert.key];
    [secure, plain, secureScram] = await Promise.all([
      startMallard({ args: tls }),
      startMallard(),
      startMallard({ args: [...tls, '--user', 'alice:secret'] }),
    ]);
  }),
);

test.after(async () => {
  await Promise.all([secure?.stop(), plain?.stop(), secureScram?.stop()]);
  cert?.remove();
});

function psql(s: MallardServer, conninfo: string, args: string[], password?: string): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, PAGER: '', PGPASSFILE: '/dev/null' };
  for (const name of [
    'PGSSLMODE',
    'PGHOST',
    'PGPORT',
    'PGUSER',
    'PGDATABASE',
    'PGPASSWORD',
    'PGGSSENCMODE',
  ]) {
    delete env[name];
  }
  if (password !== undefined) env.PGPASSWORD = password;
  const user = password === undefined ? 'u' : 'alice';
  const dsn = `host=${s.host} port=${s.port} user=${user} dbname=d connect_timeout=10 ${conninfo}`;
  return run(PSQL, ['-X', '-w', '-d', dsn, ...args], { env, timeoutMs: 30_000 });
}

const show = (r: RunResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** Sends one pre-startup request and resolves with the single byte answered. */
async function answerTo(s: MallardServer, request: Buffer): Promise<{ raw: RawConnection; answer: string }> {
  const raw = await RawConnection.open(s.host, s.port);
  raw.write(request);
  await raw.until(() => raw.received.length >= 1, 5_000);
  return { raw, answer: raw.received.subarray(0, 1).toString('latin1') };
}

test('with a certificate, psql sslmode=require connects over TLS and SELECT 1 returns', async () => {
  const r = await psql(secure, 'sslmode=require', ['-At', '-c', 'SELECT 1', '-c', '\\conninfo']);
  assert.is(r.code, 0, show(r));
  assert.is(r.stdout.split('\n')[0], '1', show(r));
  assert.ok(r.stdout.includes('SSL connection (protocol: TLSv1.'), show(r));
});

test('with a certificate, psql sslmode=verify-ca trusts the self-signed root', async () => {
  const r = await psql(secure, `sslmode=verify-ca sslrootcert=${cert.cert}`, ['-At', '-c', 'SELECT 2']);
  assert.is(r.code, 0, show(r));
  assert.is(r.stdout, '2\n');
});

test('TLS with SCRAM-SHA-256: psql sslmode=require logs in (libpq offers channel binding, y,,)', async () => {
  const r = await psql(
    secureScram,
    'sslmode=require',
    ['-At', '-c', 'SELECT 6', '-c', '\\conninfo'],
    'secret',
  );
  assert.is(r.code, 0, show(r));
  assert.is(r.stdout.split('\n')[0], '6', show(r));
  assert.ok(r.stdout.includes('SSL connection'), show(r));
  const wrong = await psql(secureScram, 'sslmode=require', ['-At', '-c', 'SELECT 6'], 'Secret');
  assert.is(wrong.code, 2, show(wrong));
  assert.ok(wrong.stderr.includes('password authentication failed for user "alice"'), show(wrong));
});

test('with a certificate, node-postgres (ssl) runs queries over TLS', async () => {
  const client = new pg.Client({
    host: secure.host,
    port: secure.port,
    user: 'u',
    database: 'd',
    ssl: { rejectUnauthorized: false },
  });
  await client.connect();
  const r = await client.query("SELECT 'over tls' AS t");
  await client.end();
  assert.equal(r.rows, [{ t: 'over tls' }]);
});

test('with a certificate, SSLRequest is answered S', async () => {
  const { raw, answer } = await answerTo(secure, sslRequest());
  raw.destroy();
  assert.is(answer, 'S');
});

test('without TLS, psql sslmode=require fails cleanly with the libpq message', async () => {
  const r = await psql(plain, 'sslmode=require', ['-At', '-c', 'SELECT 1']);
  assert.is(r.code, 2, show(r));
  assert.ok(r.stderr.includes('server does not support SSL, but SSL was required'), show(r));
  assert.is(r.stdout, '');
  assert.ok(plain.alive(), 'the server died');
});

test('without TLS, the default sslmode (prefer) falls back to plaintext and works', async () => {
  const r = await psql(plain, '', ['-At', '-c', 'SELECT 3', '-c', '\\conninfo']);
  assert.is(r.code, 0, show(r));
  assert.is(r.stdout.split('\n')[0], '3', show(r));
  assert.ok(r.stdout.includes('You are connected'), show(r));
  assert.not.ok(r.stdout.includes('SSL connection'), show(r));
});

test('without TLS, SSLRequest is answered N and a plaintext startup follows on the same socket', async () => {
  const { raw, answer } = await answerTo(plain, sslRequest());
  assert.is(answer, 'N');
  raw.skip = 1;
  raw.write(startupMessage({ user: 'u', database: 'd' }));
  await raw.until(() => raw.messages().some((m) => m.type === 'Z' || m.type === 'E'), 10_000);
  assert.ok(
    raw.messages().some((m) => m.type === 'Z'),
    describeMessages(raw.messages()),
  );
  raw.destroy();
});

for (const [name, server] of [
  ['without TLS', () => plain],
  ['with a certificate', () => secure],
] as const) {
  test(`${name}, GSSENCRequest is answered N and a plaintext session follows`, async () => {
    const { raw, answer } = await answerTo(server(), gssEncRequest());
    assert.is(answer, 'N');
    raw.skip = 1;
    raw.write(startupMessage({ user: 'u', database: 'd' }));
    await raw.until(() => raw.messages().some((m) => m.type === 'Z' || m.type === 'E'), 10_000);
    assert.ok(
      raw.messages().some((m) => m.type === 'Z'),
      describeMessages(raw.messages()),
    );
    const session = WireSession.adopt(raw);
    assert.equal(dataRows(await session.query('SELECT 4')), [['4']]);
    session.close();
  });
}

test('a client that gets S to its SSLRequest but never starts the handshake is dropped at --startup-timeout', async () => {
  // Otherwise one idle socket per attacker connection stays open for ever (a slowloris on the TLS path).
  const s = await startMallard({
    args: ['--tls-cert', cert.cert, '--tls-key', cert.key, '--startup-timeout', '1000'],
  });
  try {
    const { raw, answer } = await answerTo(s, sslRequest());
    assert.is(answer, 'S');
    const started = Date.now();
    const closed = await raw.closedWithin(6_000);
    raw.destroy();
    assert.ok(closed, `still connected ${Date.now() - started} ms after S with a 1000 ms startup timeout`);
  } finally {
    await s.stop();
  }
});

test('a client that completes the TLS handshake but sends no startup packet is dropped at --startup-timeout', async () => {
  const s = await startMallard({
    args: ['--tls-cert', cert.cert, '--tls-key', cert.key, '--startup-timeout', '1000'],
  });
  try {
    const { raw, answer } = await answerTo(s, sslRequest());
    assert.is(answer, 'S');
    const secureSocket = tlsConnect({ socket: raw.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secureSocket.once('secureConnect', resolve);
      secureSocket.once('error', reject);
    });
    const closed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 6_000);
      secureSocket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
      secureSocket.on('error', () => {});
      secureSocket.resume();
    });
    secureSocket.destroy();
    assert.ok(closed, 'the TLS connection was not closed after the startup timeout');
  } finally {
    await s.stop();
  }
});

test('psql gssencmode=prefer (the default when libpq has GSSAPI) still connects', async () => {
  const r = await psql(plain, 'gssencmode=prefer', ['-At', '-c', 'SELECT 5']);
  assert.is(r.code, 0, show(r));
  assert.is(r.stdout, '5\n');
});

test.run();
