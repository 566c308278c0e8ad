// Authentication as real clients see it: psql (PGPASSWORD), node-postgres, and a raw-socket client that
// answers cleartext, MD5 and SCRAM-SHA-256 itself, so the suite can check that a wrong password gets
// 28P01, never a ReadyForQuery, and a closed socket. Also --users-file and the loopback trust default.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loudHook } from '../helpers/loudHook.js';
import { type MallardServer, startMallard } from '../helpers/mallard.js';
import { type RunResult, run } from '../helpers/run.js';
import { dataRows, describeMessages, firstError, passwordLogin } from './serverWire.js';

const PSQL = '/usr/bin/psql';

interface AuthCase {
  method: 'scram-sha-256' | 'md5' | 'password' | 'users-file';
  /** The authentication request code the server must open with: 10 SASL, 5 MD5, 3 cleartext. */
  request: number;
  server?: MallardServer;
}

const cases: AuthCase[] = [
  { method: 'scram-sha-256', request: 10 },
  { method: 'md5', request: 5 },
  { method: 'password', request: 3 },
  // --users-file with no --auth: users given, so the default method is SCRAM-SHA-256.
  { method: 'users-file', request: 10 },
];
let trustServer: MallardServer;
let usersDir: string;

test.before(
  loudHook(async () => {
    if (!existsSync(PSQL))
      throw new Error(`${PSQL} is missing; install it with: apt-get install -y postgresql-client`);
    usersDir = mkdtempSync(join(tmpdir(), 'mallard-users-'));
    const usersFile = join(usersDir, 'users');
    writeFileSync(usersFile, '# name:password\nalice:secret\n\nbob:pa:ss w0rd\n');
    const starts = cases.map(async (c) => {
      const args =
        c.method === 'users-file'
          ? ['--users-file', usersFile]
          : ['--auth', c.method, '--user', 'alice:secret'];
      c.server = await startMallard({ args });
    });
    await Promise.all([...starts, startMallard().then((s) => (trustServer = s))]);
  }),
);

test.after(async () => {
  await Promise.all([...cases.map((c) => c.server?.stop()), trustServer?.stop()]);
  if (usersDir) rmSync(usersDir, { recursive: true, force: true });
});

function psqlEnv(password?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PAGER: '' };
  for (const name of [
    'PGSSLMODE',
    'PGHOST',
    'PGPORT',
    'PGUSER',
    'PGDATABASE',
    'PGPASSWORD',
    'PGOPTIONS',
    'PGPASSFILE',
  ]) {
    delete env[name];
  }
  env.PGPASSFILE = '/dev/null';
  if (password !== undefined) env.PGPASSWORD = password;
  return env;
}

function psql(
  s: MallardServer,
  user: string,
  password: string | undefined,
  sql: string,
  db = 'db',
): Promise<RunResult> {
  // -w: never prompt; a missing password must fail rather than hang on a terminal.
  return run(PSQL, ['-X', '-w', '-h', s.host, '-p', String(s.port), '-U', user, '-d', db, '-At', '-c', sql], {
    env: psqlEnv(password),
    timeoutMs: 30_000,
  });
}

async function pgConnect(s: MallardServer, user: string, password: string): Promise<pg.Client> {
  const client = new pg.Client({ host: s.host, port: s.port, user, password, database: 'db' });
  await client.connect();
  return client;
}

const show = (r: RunResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

for (const c of cases) {
  test(`${c.method}: psql with the right PGPASSWORD runs a query`, async () => {
    const r = await psql(c.server!, 'alice', 'secret', 'SELECT 40 + 2');
    assert.is(r.code, 0, show(r));
    assert.is(r.stdout, '42\n', show(r));
  });

  test(`${c.method}: psql with a wrong password prints the 28P01 message and exits 2`, async () => {
    const r = await psql(c.server!, 'alice', 'wrong', 'SELECT 1');
    assert.is(r.code, 2, show(r));
    assert.ok(r.stderr.includes('password authentication failed for user "alice"'), show(r));
  });

  test(`${c.method}: node-postgres logs in with the right password and gets 28P01 with a wrong one`, async () => {
    const ok = await pgConnect(c.server!, 'alice', 'secret');
    const r = await ok.query('SELECT 1 AS one');
    assert.equal(r.rows, [{ one: 1 }]);
    await ok.end();
    const err = await pgConnect(c.server!, 'alice', 'nope').then(
      async (cl) => {
        await cl.end();
        return undefined;
      },
      (e: unknown) => e as { code?: string; message?: string },
    );
    assert.ok(err, 'logged in with a wrong password');
    assert.is(err!.code, '28P01');
    assert.is(err!.message, 'password authentication failed for user "alice"');
  });

  test(`${c.method}: raw client — right password gets AuthenticationOk and a session`, async () => {
    const login = await passwordLogin(c.server!.host, c.server!.port, 'alice', 'secret');
    assert.is(login.authCodes[0], c.request, `auth requests ${login.authCodes}`);
    assert.is(login.authCodes[login.authCodes.length - 1], 0, `auth requests ${login.authCodes}`);
    assert.ok(
      login.messages.some((m) => m.type === 'Z'),
      describeMessages(login.messages),
    );
    assert.equal(dataRows(await login.session.query('SELECT 5')), [['5']]);
    login.session.close();
  });

  test(`${c.method}: raw client — a wrong password gets FATAL 28P01, no ReadyForQuery, and the socket closes`, async () => {
    for (const [user, password] of [
      ['alice', 'Secret'],
      ['mallory', 'secret'], // an unknown user fails the same way
    ] as const) {
      const login = await passwordLogin(c.server!.host, c.server!.port, user, password);
      assert.is(login.authCodes[0], c.request, `auth requests ${login.authCodes}`);
      const err = firstError(login.messages);
      assert.ok(err, `no error for ${user}: ${describeMessages(login.messages)}`);
      assert.is(err!.S, 'FATAL');
      assert.is(err!.C, '28P01');
      assert.is(err!.M, `password authentication failed for user "${user}"`);
      assert.not.ok(
        login.messages.some((m) => m.type === 'Z' || (m.type === 'R' && m.body.readInt32BE(0) === 0)),
        `AuthenticationOk or ReadyForQuery after a wrong password: ${describeMessages(login.messages)}`,
      );
      assert.ok(login.closed, 'the socket stayed open after a failed login');
    }
  });
}

test('users-file: every user in the file can log in, passwords with colons and spaces included', async () => {
  const s = cases.find((c) => c.method === 'users-file')!.server!;
  const r = await psql(s, 'bob', 'pa:ss w0rd', 'SELECT 1');
  assert.is(r.code, 0, show(r));
  // A comment line is not a user.
  const comment = await psql(s, '# name', 'password', 'SELECT 1');
  assert.is(comment.code, 2, show(comment));
});

test('trust on loopback (the default) accepts any user and database name, bare psql included', async () => {
  for (const [user, db] of [
    ['anyone', 'anything'],
    ['postgres', 'postgres'],
    ['Ünïcode user', 'weird-db.name'],
  ]) {
    const r = await psql(trustServer, user!, undefined, 'SELECT 1', db);
    assert.is(r.code, 0, show(r));
    assert.is(r.stdout, '1\n', show(r));
  }
  // Bare `psql -h 127.0.0.1 -p PORT`: user and database default to the OS user name.
  const bare = await run(
    PSQL,
    ['-X', '-w', '-h', '127.0.0.1', '-p', String(trustServer.port), '-At', '-c', 'SELECT 2'],
    {
      env: psqlEnv(),
    },
  );
  assert.is(bare.code, 0, show(bare));
  assert.is(bare.stdout, '2\n', show(bare));
  // And the raw client is never asked for a password.
  const login = await passwordLogin(trustServer.host, trustServer.port, 'x', 'ignored');
  assert.equal(login.authCodes, [0]);
  login.session.close();
});

test.run();
