// The server's front door as a user meets it: the `mallard` command line (flags, MALLARD_* variables,
// refusals, logs), then the startup phase over raw sockets (ParameterStatus, startup options, protocol
// negotiation, FATALs, startup timeout, connection limit) and version().
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort } from '../helpers/freePort.js';
import { loudHook } from '../helpers/loudHook.js';
import { type MallardServer, startMallard } from '../helpers/mallard.js';
import { startPostgres } from '../helpers/postgres.js';
import { run } from '../helpers/run.js';
import { errorFields, passwordMessage } from './fixtures/frontendMessages.js';
import { RawConnection } from './fixtures/RawConnection.js';
import {
  cstrings,
  dataRows,
  describeMessages,
  firstError,
  parameterStatuses,
  sleep,
  startupPacket,
  WireSession,
} from './serverWire.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/mallard.js');

let server: MallardServer;

test.before(
  loudHook(async () => {
    server = await startMallard();
  }),
);

test.after(async () => {
  await server?.stop();
});

/** A `mallard` process started with exactly these arguments and environment. */
interface Launched {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code, or 'listening' once a JSON "listening" line appears. */
  outcome: Promise<number | 'listening'>;
  stop(): Promise<void>;
}

function launch(args: string[], env: Record<string, string> = {}): Launched {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(base)) if (k.startsWith('MALLARD_')) delete base[k];
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let exited = false;
  const exit = new Promise<number>((resolve) =>
    child.on('exit', (code) => {
      exited = true;
      resolve(code ?? -1);
    }),
  );
  const outcome = new Promise<number | 'listening'>((resolve) => {
    const timer = setTimeout(() => resolve(-2), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      if (out.includes('"msg":"listening"')) {
        clearTimeout(timer);
        resolve('listening');
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString('utf8');
    });
    void exit.then((code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    outcome,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(t);
      }
    },
  };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mallard-startup-'));
}

/** The JSON "listening" log line of a launched server. */
function listeningLine(l: Launched): Record<string, unknown> {
  const line = l
    .stdout()
    .split('\n')
    .find((x) => x.includes('"msg":"listening"'));
  assert.ok(line, `no listening line in:\n${l.stdout()}`);
  return JSON.parse(line!) as Record<string, unknown>;
}

// ---- command line ----

test('--help lists the host, port, data and log-level flags and their MALLARD_* variables', async () => {
  const r = await run(process.execPath, [BIN, '--help'], { cwd: ROOT });
  assert.is(r.code, 0, r.stderr);
  for (const flag of ['--host', '--port', '--data', '--log-level']) assert.ok(r.stdout.includes(flag), flag);
  for (const env of ['MALLARD_HOST', 'MALLARD_PORT', 'MALLARD_DATA', 'MALLARD_LOG_LEVEL']) {
    assert.ok(r.stdout.includes(env), `${env} missing from --help:\n${r.stdout}`);
  }
});

test('MALLARD_PORT, MALLARD_DATA and MALLARD_LOG_LEVEL configure the server without flags', async () => {
  const port = await freePort();
  const data = tempDir();
  const l = launch([], {
    MALLARD_PORT: String(port),
    MALLARD_DATA: data,
    MALLARD_LOG_LEVEL: 'debug',
  });
  try {
    assert.is(await l.outcome, 'listening', l.stderr());
    const listening = listeningLine(l);
    assert.is(listening.port, port);
    assert.is(listening.dataDir, data);
    const session = await WireSession.open('127.0.0.1', port);
    const rows = dataRows(await session.query('SELECT 41 + 1'));
    assert.equal(rows, [['42']]);
    session.close();
    // An unknown startup parameter is logged at debug level only: seeing it proves the level took effect.
    const probe = await WireSession.open('127.0.0.1', port, {
      user: 'u',
      database: 'd',
      no_such_setting: 'x',
    });
    probe.close();
    await sleep(300);
    const debugLines = l
      .stdout()
      .split('\n')
      .filter((x) => x.startsWith('{') && (JSON.parse(x) as { level: number }).level === 20);
    assert.ok(
      debugLines.length > 0,
      `no debug (level 20) lines with MALLARD_LOG_LEVEL=debug:\n${l.stdout()}`,
    );
  } finally {
    await l.stop();
    rmSync(data, { recursive: true, force: true });
  }
});

test('MALLARD_LOG_LEVEL=warn silences the info-level "listening" line while the server still serves', async () => {
  const port = await freePort();
  const data = tempDir();
  const l = launch(['--port', String(port), '--data', data], { MALLARD_LOG_LEVEL: 'warn' });
  try {
    let session: WireSession | undefined;
    for (let i = 0; i < 40 && !session; i++) {
      session = await WireSession.open('127.0.0.1', port).catch(() => undefined);
      if (!session) await sleep(250);
    }
    assert.ok(session, `server never accepted a connection; stderr: ${l.stderr()}`);
    session!.close();
    assert.not.ok(l.stdout().includes('"msg":"listening"'), l.stdout());
  } finally {
    await l.stop();
    rmSync(data, { recursive: true, force: true });
  }
});

test('a busy port gives a one-line error naming --port, and exit code 1', async () => {
  const blocker: NetServer = createServer();
  const port = await new Promise<number>((resolve) =>
    blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
  );
  const data = tempDir();
  try {
    const l = launch(['--host', '127.0.0.1', '--port', String(port), '--data', data]);
    assert.is(await l.outcome, 1, `stdout: ${l.stdout()}\nstderr: ${l.stderr()}`);
    const lines = l.stderr().trim().split('\n');
    assert.is(lines.length, 1, `expected one line on stderr:\n${l.stderr()}`);
    assert.ok(lines[0]!.includes('--port'), lines[0]);
    assert.ok(lines[0]!.includes(String(port)), lines[0]);
  } finally {
    blocker.close();
    rmSync(data, { recursive: true, force: true });
  }
});

test('--host 0.0.0.0 without users refuses to start, saying how to fix it', async () => {
  const data = tempDir();
  try {
    const l = launch(['--host', '0.0.0.0', '--port', '0', '--data', data]);
    assert.is(await l.outcome, 1, `stdout: ${l.stdout()}\nstderr: ${l.stderr()}`);
    const text = l.stderr().trim();
    assert.is(text.split('\n').length, 1, text);
    assert.ok(text.includes('0.0.0.0'), text);
    assert.ok(text.includes('--allow-trust-remote'), text);
    assert.ok(text.includes('--user'), text);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test('--host 0.0.0.0 starts with --allow-trust-remote, and with --user', async () => {
  for (const extra of [['--allow-trust-remote'], ['--user', 'alice:secret']]) {
    const data = tempDir();
    const l = launch(['--host', '0.0.0.0', '--port', '0', '--data', data, ...extra]);
    try {
      assert.is(await l.outcome, 'listening', `${extra.join(' ')}: ${l.stderr()}`);
      assert.is(listeningLine(l).host, '0.0.0.0');
      if (extra[0] === '--user') assert.is(listeningLine(l).auth, 'scram-sha-256');
    } finally {
      await l.stop();
      rmSync(data, { recursive: true, force: true });
    }
  }
});

test('with stdout not a TTY every log line is JSON with level, time and msg', async () => {
  // startMallard pipes stdout, so the server's own output decides the format: pino JSON, never pretty text.
  const lines = server
    .stdout()
    .split('\n')
    .filter((x) => x.trim() !== '');
  assert.ok(lines.length > 0, 'the server logged nothing');
  for (const line of lines) {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      assert.unreachable(`not a JSON line: ${line}`);
      return;
    }
    assert.type(entry.level, 'number', line);
    assert.type(entry.time, 'number', line);
    assert.type(entry.msg, 'string', line);
  }
});

// ---- startup over raw sockets ----

test('startup reports every ParameterStatus a driver relies on', async () => {
  const session = await WireSession.open(server.host, server.port, {
    user: 'carol',
    database: 'warehouse',
    application_name: 'startup-suite',
  });
  const params = parameterStatuses(session.startupMessages);
  session.close();
  assert.match(params.server_version ?? '', /^15\.\d+/);
  assert.match(params.server_version_num ?? '', /^150\d\d\d$/);
  assert.is(params.server_encoding, 'UTF8');
  assert.is(params.client_encoding, 'UTF8');
  assert.is(params.DateStyle, 'ISO, MDY');
  assert.is(params.IntervalStyle, 'postgres');
  assert.ok(params.TimeZone, `TimeZone missing: ${JSON.stringify(params)}`);
  assert.is(params.integer_datetimes, 'on');
  assert.is(params.standard_conforming_strings, 'on');
  assert.ok(
    params.is_superuser === 'on' || params.is_superuser === 'off',
    `is_superuser: ${params.is_superuser}`,
  );
  assert.is(params.session_authorization, 'carol');
  assert.is(params.application_name, 'startup-suite');
  // The session order is AuthenticationOk, ParameterStatus..., BackendKeyData, ReadyForQuery 'I'.
  const types = session.startupMessages.map((m) => m.type);
  assert.is(types[0], 'R');
  assert.is(types[types.length - 2], 'K');
  assert.is(types[types.length - 1], 'Z');
  assert.is(session.startupMessages[types.length - 1]!.body.toString(), 'I');
});

test('every ParameterStatus PostgreSQL 15 sends at startup is sent, with the same value where fixed', async () => {
  const pgServer = await startPostgres();
  let reference: Record<string, string>;
  try {
    const pgSession = await WireSession.open(pgServer.host, pgServer.port, {
      user: 'postgres',
      database: 'postgres',
      application_name: 'same',
    });
    reference = parameterStatuses(pgSession.startupMessages);
    pgSession.close();
  } finally {
    await pgServer.stop();
  }
  const session = await WireSession.open(server.host, server.port, {
    user: 'postgres',
    database: 'postgres',
    application_name: 'same',
  });
  const mine = parameterStatuses(session.startupMessages);
  session.close();
  const missing = Object.keys(reference).filter((name) => !(name in mine));
  assert.equal(missing, [], `PostgreSQL sends these, Mallard does not: ${JSON.stringify(reference)}`);
  // Values that do not depend on the installation (TimeZone and the version do).
  for (const name of [
    'application_name',
    'client_encoding',
    'DateStyle',
    'integer_datetimes',
    'IntervalStyle',
    'is_superuser',
    'server_encoding',
    'session_authorization',
    'standard_conforming_strings',
  ]) {
    assert.is(mine[name], reference[name], name);
  }
});

test('startup options -c search_path and -c statement_timeout are honoured (SHOW shows them)', async () => {
  const session = await WireSession.open(server.host, server.port, {
    user: 'u',
    database: 'd',
    options: '-c search_path=x -c statement_timeout=1000',
  });
  const rows = dataRows(await session.query('SHOW search_path; SHOW statement_timeout'));
  session.close();
  assert.equal(rows, [['x'], ['1s']]);
});

test('protocol 3.1 gets NegotiateProtocolVersion (3.0), then a working session', async () => {
  const session = await WireSession.begin(
    server.host,
    server.port,
    { user: 'u', database: 'd' },
    10_000,
    0x00030001,
  );
  const msgs = session.startupMessages;
  const v = msgs.find((m) => m.type === 'v');
  assert.ok(v, `no NegotiateProtocolVersion: ${describeMessages(msgs)}`);
  assert.is(v!.body.readInt32BE(0), 0, 'newest minor version supported');
  assert.is(v!.body.readInt32BE(4), 0, 'unrecognized options');
  assert.ok(
    msgs.some((m) => m.type === 'Z'),
    describeMessages(msgs),
  );
  assert.equal(dataRows(await session.query('SELECT 7')), [['7']]);
  session.close();
});

test('an unknown _pq_ option gets NegotiateProtocolVersion naming it, then a working session', async () => {
  const session = await WireSession.begin(server.host, server.port, {
    user: 'u',
    database: 'd',
    '_pq_.x': 'on',
  });
  const msgs = session.startupMessages;
  const v = msgs.find((m) => m.type === 'v');
  assert.ok(v, `no NegotiateProtocolVersion: ${describeMessages(msgs)}`);
  assert.is(v!.body.readInt32BE(0), 0);
  assert.is(v!.body.readInt32BE(4), 1);
  assert.equal(cstrings(v!.body, 8), ['_pq_.x']);
  assert.equal(dataRows(await session.query('SELECT 8')), [['8']]);
  session.close();
});

test('protocol 2.0 gets a FATAL and the socket closes', async () => {
  const session = await WireSession.begin(
    server.host,
    server.port,
    { user: 'u', database: 'd' },
    10_000,
    0x00020000,
  );
  const err = firstError(session.startupMessages);
  assert.ok(err, describeMessages(session.startupMessages));
  assert.is(err!.S, 'FATAL');
  assert.is(err!.C, '0A000');
  assert.ok(err!.M!.includes('protocol'), err!.M);
  assert.not.ok(session.startupMessages.some((m) => m.type === 'Z'));
  assert.ok(session.raw.closed, 'socket still open');
});

test('a startup packet without a user gets FATAL 28000 and the socket closes', async () => {
  const session = await WireSession.begin(server.host, server.port, { database: 'd' });
  const err = firstError(session.startupMessages);
  assert.ok(err, describeMessages(session.startupMessages));
  assert.is(err!.S, 'FATAL');
  assert.is(err!.C, '28000');
  assert.not.ok(session.startupMessages.some((m) => m.type === 'Z'));
  assert.ok(session.raw.closed, 'socket still open');
});

test('SELECT version() parses with the SQLAlchemy and TypeORM regexes and says Mallard', async () => {
  const session = await WireSession.open(server.host, server.port);
  const [[version]] = dataRows(await session.query('SELECT version()')) as [[string]];
  session.close();
  const sqlalchemy = /PostgreSQL (\d+)\.?(\d+)?/.exec(version);
  assert.ok(sqlalchemy, version);
  assert.is(sqlalchemy![1], '15');
  const typeorm = /^PostgreSQL ([\d.]+) .*$/.exec(version);
  assert.ok(typeorm, version);
  assert.match(typeorm![1]!, /^15(\.\d+)*$/);
  assert.ok(version.includes('Mallard'), version);
});

// ---- limits: startup timeout and connection count ----

test('a client that never finishes startup is disconnected after --startup-timeout', async () => {
  const limited = await startMallard({ args: ['--startup-timeout', '1500'] });
  try {
    // Half a startup packet: the length promises more bytes than ever arrive.
    const stalled = await RawConnection.open(limited.host, limited.port);
    stalled.write(Buffer.from([0, 0, 0, 40, 0, 3, 0, 0]));
    const silent = await RawConnection.open(limited.host, limited.port);
    const started = Date.now();
    await sleep(700);
    assert.not.ok(stalled.closed, 'closed long before the timeout');
    assert.ok(await stalled.closedWithin(6_000), 'the stalled client was never disconnected');
    assert.ok(await silent.closedWithin(3_000), 'the silent client was never disconnected');
    assert.ok(Date.now() - started >= 1_000, `closed after only ${Date.now() - started} ms`);
    // Whatever the server says on the way out is a FATAL.
    for (const m of [...silent.messages(), ...stalled.messages()]) {
      if (m.type === 'E') assert.is(errorFields(m.body).S, 'FATAL');
    }
    // A session that did finish startup is not subject to the timeout.
    const session = await WireSession.open(limited.host, limited.port);
    await sleep(2_000);
    assert.equal(dataRows(await session.query('SELECT 1')), [['1']]);
    session.close();
  } finally {
    await limited.stop();
  }
});

test('--max-connections 2: the third session gets FATAL 53300, and a slot frees when one leaves', async () => {
  const limited = await startMallard({ args: ['--max-connections', '2'] });
  try {
    const a = await WireSession.open(limited.host, limited.port);
    const b = await WireSession.open(limited.host, limited.port);
    const c = await WireSession.begin(limited.host, limited.port, { user: 'third', database: 'd' });
    const err = firstError(c.startupMessages);
    assert.ok(err, `third connection was accepted: ${describeMessages(c.startupMessages)}`);
    assert.is(err!.S, 'FATAL');
    assert.is(err!.C, '53300');
    assert.is(err!.M, 'sorry, too many clients already');
    assert.not.ok(c.startupMessages.some((m) => m.type === 'Z'));
    assert.ok(c.raw.closed, 'third socket still open');
    // The two admitted sessions are unaffected.
    assert.equal(dataRows(await a.query('SELECT 1')), [['1']]);
    assert.equal(dataRows(await b.query('SELECT 2')), [['2']]);
    a.close();
    let d: WireSession | undefined;
    for (let i = 0; i < 20 && !d; i++) {
      await sleep(100);
      d = await WireSession.open(limited.host, limited.port).catch(() => undefined);
    }
    assert.ok(d, 'no slot freed after a session left');
    d!.close();
    b.close();
  } finally {
    await limited.stop();
  }
});

test('--max-connections 2 holds when three clients authenticate at the same time', async () => {
  // PostgreSQL takes the slot before authentication; a server that counts only authenticated sessions
  // lets every client that is mid-authentication through.
  const limited = await startMallard({
    args: ['--max-connections', '2', '--auth', 'password', '--user', 'u:pw'],
  });
  try {
    const raws = await Promise.all([0, 1, 2].map(() => RawConnection.open(limited.host, limited.port)));
    for (const raw of raws) raw.write(startupPacket({ user: 'u', database: 'd' }));
    // Each is either asked for its password (R, code 3) or refused.
    for (const raw of raws) {
      await raw.until(() => raw.messages().some((m) => m.type === 'R' || m.type === 'E'), 10_000);
    }
    for (const raw of raws) {
      if (raw.messages().some((m) => m.type === 'R')) raw.write(passwordMessage('pw'));
    }
    for (const raw of raws) {
      await raw.until(() => raw.messages().some((m) => m.type === 'Z' || m.type === 'E'), 10_000);
    }
    const admitted = raws.filter((raw) => raw.messages().some((m) => m.type === 'Z')).length;
    const refused = raws
      .map((raw) => raw.messages().find((m) => m.type === 'E'))
      .filter((e) => e !== undefined)
      .map((e) => errorFields(e!.body).C);
    for (const raw of raws) raw.destroy();
    assert.is(admitted, 2, `${admitted} sessions admitted with --max-connections 2 (refusals: ${refused})`);
    assert.equal(refused, ['53300']);
  } finally {
    await limited.stop();
  }
});

test.run();
