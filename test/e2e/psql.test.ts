// psql against the selected target (Mallard by default; MALLARD_TEST_TARGET=postgres for the reference).
// Expected output is what psql prints against PostgreSQL 15, written out literally.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loudHook } from '../helpers/loudHook.js';
import { type RunResult, run } from '../helpers/run.js';
import {
  longRunningQuery,
  type RunningTarget,
  selectedTarget,
  startTarget,
  type Target,
} from '../helpers/targets.js';
import { type SelfSignedCert, selfSignedCert } from '../helpers/tls.js';

const PSQL = '/usr/bin/psql';
let target: RunningTarget;

function conninfo(t: Target, extra = ''): string {
  return `host=${t.host} port=${t.port} user=${t.user} dbname=${t.database} connect_timeout=10 ${extra}`.trim();
}

// psql must not pick up anything from the environment of whoever runs the tests.
function psqlEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PGCLIENTENCODING: 'UTF8', PAGER: '', PSQL_PAGER: '' };
  for (const name of ['PGSSLMODE', 'PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGPASSWORD', 'PGOPTIONS']) {
    delete env[name];
  }
  return env;
}

/** psql -X (no psqlrc) against the target with extra arguments and optional stdin. */
function psql(args: string[], input?: string, t: Target = target, extraConninfo = ''): Promise<RunResult> {
  return run(PSQL, ['-X', '-d', conninfo(t, extraConninfo), ...args], {
    input,
    timeoutMs: 60_000,
    env: psqlEnv(),
  });
}

function show(r: RunResult): string {
  return `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** Runs psql and asserts it succeeded with nothing on stderr; returns stdout. */
async function psqlOk(args: string[], input?: string): Promise<string> {
  const r = await psql(args, input);
  assert.is(r.code, 0, show(r));
  assert.is(r.stderr, '', show(r));
  return r.stdout;
}

test.before(
  loudHook(async () => {
    if (!existsSync(PSQL))
      throw new Error(`${PSQL} is missing; install it with: apt-get install -y postgresql-client`);
    target = await startTarget();
  }),
);

test.after(
  loudHook(async () => {
    await target?.stop();
  }),
);

test('connects with the default sslmode (prefer): the server declines TLS and plaintext works', async () => {
  const out = await psqlOk(['-At', '-c', 'SELECT 1']);
  assert.is(out, '1\n');
  const info = await psqlOk(['-c', '\\conninfo']);
  assert.ok(info.includes(`at port "${target.port}"`), info);
  assert.not.ok(info.includes('SSL connection'), info);
});

test('-At prints each type the way PostgreSQL does', async () => {
  const out = await psqlOk([
    '-At',
    '-c',
    "SELECT true, false, 42, -7::smallint, 9000000000::bigint, 12.50::numeric(10,2), 'hi'::text, " +
      "DATE '2024-02-29', NULL, 1.5::float8, TIMESTAMP '2024-01-02 03:04:05', INTERVAL '1 day 02:03:04', " +
      "ARRAY[1,2,3], 'a b'::varchar, TIME '12:34:56'",
  ]);
  assert.is(
    out,
    't|f|42|-7|9000000000|12.50|hi|2024-02-29||1.5|2024-01-02 03:04:05|1 day 02:03:04|{1,2,3}|a b|12:34:56\n',
  );
});

test('-At prints one line per row, in order', async () => {
  const out = await psqlOk([
    '-At',
    '-c',
    'SELECT generate_series FROM generate_series(1, 5) ORDER BY 1 DESC',
  ]);
  assert.is(out, '5\n4\n3\n2\n1\n');
});

test('aligned output shows the column names and the row count', async () => {
  const out = await psqlOk(['-c', "SELECT 1 AS a, 'xy' AS bee"]);
  assert.is(out, ' a | bee \n---+-----\n 1 | xy\n(1 row)\n\n');
});

test('a multi-statement -c string prints every result', async () => {
  const out = await psqlOk(['-At', '-c', "SELECT 1; SELECT 'two'; SELECT 3"]);
  assert.is(out, '1\ntwo\n3\n');
});

test('a script on stdin prints command tags and results', async () => {
  const script = [
    'CREATE TABLE script_t (a integer, b varchar);',
    "INSERT INTO script_t VALUES (1, 'x'), (2, 'y'), (3, 'z');",
    "UPDATE script_t SET b = 'w' WHERE a = 2;",
    'DELETE FROM script_t WHERE a = 3;',
    'SELECT a, b FROM script_t ORDER BY a;',
    'DROP TABLE script_t;',
    '',
  ].join('\n');
  const out = await psqlOk(['-At'], script);
  assert.is(out, 'CREATE TABLE\nINSERT 0 3\nUPDATE 1\nDELETE 1\n1|x\n2|w\nDROP TABLE\n');
});

test('\\copy from stdin and to stdout in CSV keeps quotes, commas, newlines and NULLs', async () => {
  await psqlOk(['-q', '-c', 'CREATE TABLE copy_csv (id integer, name varchar, note varchar)']);
  const csv = '1,plain,\n2,"with, comma","quote "" and\nnewline"\n3,,""\n';
  const load = await psqlOk(['-c', '\\copy copy_csv from pstdin with (format csv)'], csv);
  assert.is(load, 'COPY 3\n');
  const back = await psqlOk([
    '-c',
    '\\copy (SELECT * FROM copy_csv ORDER BY id) to stdout with (format csv)',
  ]);
  assert.is(back, csv);
  // NULL and the empty string stay distinct after the round trip.
  const nulls = await psqlOk([
    '-At',
    '-c',
    'SELECT id, name IS NULL, note IS NULL FROM copy_csv ORDER BY id',
  ]);
  assert.is(nulls, '1|f|t\n2|f|f\n3|t|f\n');
});

test('\\copy in text format escapes tabs, backslashes and newlines and writes \\N for NULL', async () => {
  await psqlOk(['-q', '-c', 'CREATE TABLE copy_text (id integer, name varchar)']);
  const text = '1\ttab\\there\n2\tback\\\\slash\n3\t\\N\n4\tline\\nbreak\n';
  const load = await psqlOk(['-c', '\\copy copy_text from pstdin'], text);
  assert.is(load, 'COPY 4\n');
  const values = await psqlOk(['-At', '-c', 'SELECT id, length(name) FROM copy_text ORDER BY id']);
  assert.is(values, '1|8\n2|10\n3|\n4|10\n');
  const back = await psqlOk(['-c', '\\copy copy_text to stdout']);
  // Row order of a plain table copy is not guaranteed, so compare as a set of lines.
  assert.equal(back.split('\n').sort(), text.split('\n').sort());
});

test('a bad row in \\copy names its line and leaves the table unchanged', async () => {
  await psqlOk(['-q', '-c', 'CREATE TABLE copy_bad (id integer, name varchar)']);
  await psqlOk(['-q', '-c', "INSERT INTO copy_bad VALUES (0, 'kept')"]);
  const r = await psql(['-c', '\\copy copy_bad from pstdin'], '1\tone\n2\ttwo\nthree\t3\n4\tfour\n');
  assert.is(r.code, 1, show(r));
  assert.ok(r.stderr.includes('ERROR:  invalid input syntax for type integer: "three"'), show(r));
  assert.ok(r.stderr.includes('COPY copy_bad, line 3, column id: "three"'), show(r));
  const rows = await psqlOk(['-At', '-c', 'SELECT id, name FROM copy_bad ORDER BY id']);
  assert.is(rows, '0|kept\n');
});

test('a syntax error prints ERROR: and psql exits 1', async () => {
  const r = await psql(['-At', '-c', 'SELEC 1']);
  assert.is(r.code, 1, show(r));
  assert.is(r.stdout, '', show(r));
  assert.ok(r.stderr.startsWith('ERROR:  '), show(r));
  assert.ok(r.stderr.includes('SELEC'), show(r));
});

test('a missing table prints ERROR: naming it and psql exits 1', async () => {
  const r = await psql(['-At', '-c', 'SELECT * FROM no_such_table_here']);
  assert.is(r.code, 1, show(r));
  assert.ok(r.stderr.startsWith('ERROR:  '), show(r));
  assert.ok(r.stderr.includes('no_such_table_here'), show(r));
});

test('a script goes on after an error, or stops with exit 3 under ON_ERROR_STOP', async () => {
  const script = "SELECT 'before';\nSELECT * FROM no_such_table_here;\nSELECT 'after';\n";
  const goOn = await psql(['-At'], script);
  assert.is(goOn.code, 0, show(goOn));
  assert.is(goOn.stdout, 'before\nafter\n', show(goOn));
  assert.ok(goOn.stderr.startsWith('ERROR:  '), show(goOn));
  const stop = await psql(['-At', '-v', 'ON_ERROR_STOP=1'], script);
  assert.is(stop.code, 3, show(stop));
  assert.is(stop.stdout, 'before\n', show(stop));
  assert.ok(stop.stderr.startsWith('ERROR:  '), show(stop));
});

test('Ctrl-C cancels a running query and the server keeps serving', async () => {
  const child = spawn(PSQL, ['-X', '-At', '-d', conninfo(target)], { env: psqlEnv(), stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
  });
  let sentSigint = false;
  // psql prints (and flushes) 'started' once the session is up; the long query is sent right after it.
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
    if (stdout.includes('started') && !sentSigint) {
      sentSigint = true;
      setTimeout(() => child.kill('SIGINT'), 1000);
    }
  });
  child.stdin.end(`SELECT 'started';\n${longRunningQuery(target.name)};\n`);
  const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(killer);
  const report = `exit ${code}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
  assert.ok(sentSigint, report);
  assert.ok(stderr.includes('Cancel request sent\n'), report);
  assert.ok(stderr.includes('ERROR:  canceling statement due to user request\n'), report);
  assert.is.not(code, 0, report);
  assert.is(stdout, 'started\n', report);
  assert.is(await psqlOk(['-At', '-c', "SELECT 'still serving'"]), 'still serving\n');
});

test('sslmode=require fails against a server without TLS', async () => {
  const r = await psql(['-At', '-c', 'SELECT 1'], undefined, target, 'sslmode=require');
  assert.is(r.code, 2, show(r));
  assert.ok(r.stderr.includes('server does not support SSL, but SSL was required'), show(r));
});

test('sslmode=require and verify-ca work against a server started with a certificate', async () => {
  let cert: SelfSignedCert | undefined;
  let tlsTarget: RunningTarget | undefined;
  try {
    cert = await selfSignedCert();
    tlsTarget = await startTarget(selectedTarget(), { tls: { cert: cert.cert, key: cert.key } });
    const required = await psql(['-At', '-c', 'SELECT 40 + 2'], undefined, tlsTarget, 'sslmode=require');
    assert.is(required.code, 0, show(required));
    assert.is(required.stdout, '42\n', show(required));
    const info = await psql(['-c', '\\conninfo'], undefined, tlsTarget, 'sslmode=require');
    assert.is(info.code, 0, show(info));
    assert.ok(info.stdout.includes('SSL connection (protocol: TLSv1.'), show(info));
    const verified = await psql(
      ['-At', '-c', "SELECT 'verified'"],
      undefined,
      tlsTarget,
      `sslmode=verify-ca sslrootcert=${cert.cert}`,
    );
    assert.is(verified.code, 0, show(verified));
    assert.is(verified.stdout, 'verified\n', show(verified));
    // The default (prefer) upgrades to TLS when the server offers it.
    const preferred = await psql(['-c', '\\conninfo'], undefined, tlsTarget);
    assert.ok(preferred.stdout.includes('SSL connection'), show(preferred));
  } finally {
    await tlsTarget?.stop();
    cert?.remove();
  }
});

test.run();
