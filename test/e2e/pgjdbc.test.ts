// pgjdbc (the Debian libpostgresql-jdbc-java, /usr/share/java/postgresql.jar) on Java 17 against the
// selected target. test/e2e/clients/JdbcClient.java is compiled with javac into a temp dir, run once, and
// reports what the driver returned for each step; the expectations are what PostgreSQL 15 makes it return.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run } from '../helpers/run.js';
import { type RunningTarget, startTarget } from '../helpers/targets.js';
import { CLIENTS_DIR, type ClientReport, runJavaClient, SQLSTATE } from './clients/clientSteps.js';

const JDBC_JAR = '/usr/share/java/postgresql.jar';
const JDK_HINT = 'install a JDK with: apt-get install -y openjdk-17-jdk-headless';

let target: RunningTarget | undefined;
let classDir: string | undefined;
// Set up once in before(); every test awaits it, so a missing package or a server that will not start
// fails each test with the reason instead of leaving uvu to report nothing.
let report: Promise<ClientReport>;

/** Compiles JdbcClient.java into a fresh temp dir and returns that dir. */
async function compileClient(): Promise<string> {
  if (!existsSync(JDBC_JAR)) {
    throw new Error(`${JDBC_JAR} is missing; install it with: apt-get install -y libpostgresql-jdbc-java`);
  }
  for (const tool of ['javac', 'java']) {
    const probe = await run(tool, ['-version']).catch((e: Error) => ({ code: -1, stderr: e.message }));
    if (probe.code !== 0) throw new Error(`${tool} cannot run (${probe.stderr.trim()}); ${JDK_HINT}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'mallard-jdbc-'));
  classDir = dir;
  const javac = await run('javac', ['-d', dir, '-cp', JDBC_JAR, `${CLIENTS_DIR}JdbcClient.java`], {
    timeoutMs: 120_000,
  });
  if (javac.code !== 0) throw new Error(`javac JdbcClient.java failed:\n${javac.stdout}${javac.stderr}`);
  return dir;
}

test.before(() => {
  report = (async () => {
    const dir = await compileClient();
    target = await startTarget();
    const args = [target.host, String(target.port), target.database, target.user];
    return runJavaClient(`${dir}:${JDBC_JAR}`, 'JdbcClient', args, target);
  })();
  report.catch(() => {});
});

test.after(async () => {
  await target?.stop();
  if (classDir) rmSync(classDir, { recursive: true, force: true });
});

async function step(name: string): Promise<unknown> {
  return (await report).value(name);
}

test('DatabaseMetaData names the product and a version the driver can parse', async () => {
  const md = (await step('metadata')) as Record<string, unknown>;
  assert.is(md['productName'], 'PostgreSQL');
  assert.is(md['one'], 1);
  const version = String(md['productVersion']);
  // pgjdbc gates features on server_version, so it must start with major[.minor].
  const major = Number.parseInt(version, 10);
  assert.ok(major >= 10, `getDatabaseProductVersion() = ${JSON.stringify(version)}`);
  assert.is(md['majorVersion'], major);
});

// What pgjdbc returns for EVERY_TYPE_SQL with the parameters JdbcClient binds, as rendered there.
const EXPECTED_ROW = {
  p_int2: '-32768',
  p_int4: '2147483647',
  p_int8: '9223372036854775807',
  p_float4: '0.1',
  p_float8: '1.0E100',
  p_numeric: '-123.450',
  p_text: "héllo 世界 🦆 'q' \\",
  p_bytea: '0001ff',
  p_bool: 'true',
  p_date: '2024-02-29',
  p_ts: '2024-01-02T03:04:05.123456',
  p_tstz: '2024-07-01T06:30:00.000001Z',
  p_uuid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  p_null: null,
  c_int8_min: '-9223372036854775808',
  c_nan: 'NaN',
  c_float4_neginf: '-Infinity',
  c_numeric: '12345678901234567890.123456',
  c_varchar: 'abc',
  c_bpchar: 'ab',
  c_time: '23:59:59.999999',
  c_ts: '2024-01-02T03:04:05.123456',
  c_tstz: '2024-07-01T12:00:00.500Z',
  c_interval: '1 year 2 mons 3 days 04:05:06.789',
  c_json: '{"a": [1, 2.5, null]}',
  c_int4_array: '[1, null, 3]',
  c_text_array: '[a, b c, q"uote, null, ]',
  c_float8_array: '[1.5, -2.25]',
};

// [label, type name, precision, scale]: precision and scale come from the RowDescription typmod.
const EXPECTED_COLUMNS: [string, string, number, number][] = [
  ['p_int2', 'int2', 5, 0],
  ['p_int4', 'int4', 10, 0],
  ['p_int8', 'int8', 19, 0],
  ['p_float4', 'float4', 8, 8],
  ['p_float8', 'float8', 17, 17],
  ['p_numeric', 'numeric', 12, 3],
  ['p_text', 'text', 2147483647, 0],
  ['p_bytea', 'bytea', 2147483647, 0],
  ['p_bool', 'bool', 1, 0],
  ['p_date', 'date', 13, 0],
  ['p_ts', 'timestamp', 29, 6],
  ['p_tstz', 'timestamptz', 35, 6],
  ['p_uuid', 'uuid', 2147483647, 0],
  ['p_null', 'int4', 10, 0],
  ['c_int8_min', 'int8', 19, 0],
  ['c_nan', 'float8', 17, 17],
  ['c_float4_neginf', 'float4', 8, 8],
  ['c_numeric', 'numeric', 38, 6],
  ['c_varchar', 'varchar', 10, 0],
  ['c_bpchar', 'bpchar', 2, 0],
  ['c_time', 'time', 15, 6],
  ['c_ts', 'timestamp', 29, 6],
  ['c_tstz', 'timestamptz', 35, 6],
  ['c_interval', 'interval', 49, 6],
  ['c_json', 'json', 2147483647, 0],
  ['c_int4_array', '_int4', 10, 0],
  ['c_text_array', '_text', 2147483647, 0],
  ['c_float8_array', '_float8', 17, 17],
];

test('one PreparedStatement executed 10 times: same values before and after the switch to binary', async () => {
  const result = (await step('prepared ten times')) as {
    columns: [string, string, number, number][];
    executions: unknown[];
    serverPrepared: boolean[];
  };
  // From the threshold on, pgjdbc uses a named server statement and asks for binary results.
  assert.equal(result.serverPrepared, [false, false, false, true, true, true, true, true, true, true]);
  assert.is(result.executions.length, 10);
  result.executions.forEach((row, i) => {
    assert.equal(row, EXPECTED_ROW, `execution ${i + 1}`);
  });
  // varchar(10) and char(2) may come back as any string type: DuckDB has one VARCHAR and drops the length.
  const columns = result.columns.map((c) =>
    (c[0] === 'c_varchar' || c[0] === 'c_bpchar') && ['text', 'varchar', 'bpchar'].includes(c[1])
      ? EXPECTED_COLUMNS.find((e) => e[0] === c[0])
      : c,
  );
  assert.equal(columns, EXPECTED_COLUMNS);
});

test('setFetchSize(100) with autocommit off walks 10,000 rows through a suspended portal', async () => {
  assert.equal(await step('fetch size'), { interleaved: 42, count: 10000, sum: 50005000, ordered: true });
});

test('executeBatch inside a transaction; rollback, commit, update and delete counts', async () => {
  assert.equal(await step('batch and transactions'), {
    firstBatch: '[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]',
    uncommittedElsewhere: 0,
    afterRollback: 0,
    secondBatch: '[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]',
    afterCommit: 10,
    updated: 5,
    deleted: 2,
    finalRows: ['15:row 15', '16:changed', '17:changed', '18:changed'],
  });
});

test('errors carry getSQLState(); an aborted transaction recovers after rollback', async () => {
  assert.equal(await step('errors'), [
    [SQLSTATE.undefinedTable],
    [SQLSTATE.inFailedTransaction],
    ['no error', '1'],
    [SQLSTATE.syntaxError],
    [SQLSTATE.uniqueViolation],
    [SQLSTATE.invalidTextRepresentation],
    ['no error', '1'],
  ]);
});

test.run();
