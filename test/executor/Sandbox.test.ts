import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../src/executor/Engine.js';
import type { LocalExecutor } from '../../src/executor/LocalExecutor.js';
import { type EngineFixture, failure, openEngine, run } from './engineFixture.js';

let fx: EngineFixture;
let session: LocalExecutor;

test.before(async () => {
  fx = await openEngine();
  session = await fx.engine.createSession();
  writeFileSync(join(fx.readableDir, 'ok.csv'), 'a,b\n1,2\n');
  writeFileSync(join(fx.dataDir, 'stray.csv'), 'a,b\n3,4\n');
  await run(session, 'CREATE TABLE t (a INTEGER, b INTEGER)');
  await run(session, 'INSERT INTO t VALUES (1, 2)');
});

test.after(async () => {
  await fx.dispose();
});

/** The statement is refused with 42501, and the session still answers afterwards. */
async function refused(sql: string): Promise<string> {
  const error = await failure(session, sql);
  assert.is(error.code, '42501', `${sql}: ${error.code} ${error.message}`);
  assert.equal((await run(session, 'SELECT 1 AS ok')).rows, [[1]], `session unusable after: ${sql}`);
  return error.message;
}

test('files in the readable directories can be read (the control case)', async () => {
  const out = await run(session, `SELECT * FROM read_csv('${join(fx.readableDir, 'ok.csv')}')`);
  assert.equal(out.rows, [[1n, 2n]]);
  const copy = await run(session, `COPY t FROM '${join(fx.readableDir, 'ok.csv')}' (HEADER)`);
  assert.is(copy.commandTag, 'COPY 1');
});

test('files outside the readable directories are refused by DuckDB', async () => {
  for (const reader of ['read_csv', 'read_text', 'read_blob', 'read_parquet', 'read_json', 'sniff_csv']) {
    await refused(`SELECT * FROM ${reader}('/etc/passwd')`);
  }
  await refused("SELECT * FROM glob('/etc/*')");
  await refused("COPY t FROM '/etc/passwd'");
  await refused("SELECT * FROM read_csv('https://example.com/data.csv')");
});

test('.. cannot escape a readable directory', async () => {
  const outside = `${fx.readableDir}/../../../../../../../../etc/passwd`;
  await refused(`SELECT * FROM read_text('${outside}')`);
  await refused(`SELECT * FROM read_text('${fx.readableDir}/../data/stray.csv')`);
});

test('the data directory is not readable: no listing, no stray files', async () => {
  await refused(`SELECT * FROM glob('${fx.dataDir}/*')`);
  await refused(`SELECT * FROM read_blob('${fx.dataDir}/*')`);
  await refused(`SELECT * FROM read_csv('${join(fx.dataDir, 'stray.csv')}')`);
});

test('the database file, its WAL and its temp directory cannot be named', async () => {
  // DuckDB always lets SQL read the files of an attached database; the executor refuses naming them.
  const db = fx.engine.databasePath;
  const statements = [
    `SELECT count(*) FROM read_blob('${db}')`,
    `SELECT * FROM read_blob('${db}.wal')`,
    `SELECT * FROM read_blob('file://${db}')`,
    `SELECT * FROM read_blob('${dirname(db)}/./mallard.duckdb')`,
    `SELECT * FROM read_text(E'${db.replace('.duckdb', '\\x2educkdb')}')`,
    `SELECT * FROM read_blob('${dirname(db)}/mallard.' \n 'duckdb')`,
    `SELECT * FROM read_blob($$${db}$$)`,
    `SELECT * FROM glob('${db}.tmp/*')`,
    `COPY t FROM '${db}'`,
  ];
  for (const sql of statements) {
    assert.is(await refused(sql), 'permission denied: access to the database files is not allowed', sql);
  }
  // Text that only mentions the name is data, not a path.
  const note = await run(session, "SELECT 'Mallard keeps its data in mallard.duckdb' AS note", []);
  assert.equal(note.rows, [['Mallard keeps its data in mallard.duckdb']]);
  const param = await run(session, 'SELECT $1 AS note', ['backups of mallard.duckdb run nightly']);
  assert.equal(param.rows, [['backups of mallard.duckdb run nightly']]);
});

test('COPY ... TO a file is refused wherever it points, and writes nothing', async () => {
  await refused("COPY t TO '/tmp/mallard-should-not-exist.csv'");
  await refused(`COPY t TO '${join(fx.dataDir, 'out.csv')}'`);
  await refused(`COPY t TO '${join(fx.readableDir, 'out.csv')}'`);
  await refused(`COPY (SELECT * FROM t) TO '${join(fx.readableDir, 'out.parquet')}' (FORMAT parquet)`);
  await refused(`EXPLAIN ANALYZE COPY t TO '${join(fx.readableDir, 'out2.csv')}'`);
  await refused(`PREPARE sneaky AS COPY t TO '${join(fx.readableDir, 'out3.csv')}'`);
  assert.equal(readdirSync(fx.readableDir).sort(), ['ok.csv']);
  assert.not.ok(existsSync('/tmp/mallard-should-not-exist.csv'));
});

test('EXPORT and IMPORT DATABASE are refused before DuckDB prepares them', async () => {
  // Preparing EXPORT DATABASE would already create its directory.
  await refused(`EXPORT DATABASE '${join(fx.readableDir, 'export')}'`);
  assert.not.ok(existsSync(join(fx.readableDir, 'export')));
  await refused(`IMPORT DATABASE '${fx.readableDir}'`);
  await refused('COPY FROM DATABASE mallard TO memory');
});

test('ATTACH, DETACH, INSTALL, LOAD and extension updates are refused', async () => {
  await refused("ATTACH ':memory:' AS other");
  await refused(`ATTACH '${join(fx.readableDir, 'other.duckdb')}' AS other`);
  await refused('DETACH mallard');
  await refused('INSTALL httpfs');
  await refused('FORCE INSTALL httpfs');
  await refused('LOAD httpfs');
  await refused('UPDATE EXTENSIONS');
  assert.not.ok(existsSync(join(fx.readableDir, 'other.duckdb')));
});

test('no DuckDB setting can be changed from SQL, and PRAGMAs with side effects are refused', async () => {
  assert.is(await refused('SET threads = 1'), 'permission denied to set parameter "threads"');
  await refused("SET memory_limit = '100GB'");
  await refused('SET enable_external_access = true');
  await refused('SET GLOBAL enable_external_access = true');
  await refused("SET allowed_directories = ['/']");
  await refused("SET allowed_paths = ['/etc/passwd']");
  await refused('RESET memory_limit');
  await refused('SET lock_configuration = true');
  // One statement would otherwise disable the local file system for every session, for good.
  await refused("SET disabled_filesystems = 'LocalFileSystem'");
  await refused("SET profiling_output = '/tmp/profile.json'");
  await refused("SET GLOBAL search_path = 'main'");
  await refused('PRAGMA threads = 1');
  await refused('PRAGMA enable_profiling');
  await refused('CALL enable_profiling()');
  await refused('CALL system.main.enable_profiling()');
  // Query-only PRAGMAs still answer.
  assert.equal((await run(session, "PRAGMA table_info('t')")).rows.length, 2);
  // The session's own search path and variables stay open.
  assert.is((await run(session, 'SET search_path = main')).commandTag, 'SET');
  await run(session, 'SET VARIABLE answer = 42');
  assert.equal((await run(session, "SELECT getvariable('answer')")).rows, [[42]]);
  // The sandbox settings are what the engine set.
  const settings = await run(
    session,
    "SELECT value FROM duckdb_settings() WHERE name = 'enable_external_access'",
  );
  assert.equal(settings.rows, [['false']]);
});

test('functions with engine-wide side effects are refused however they are called', async () => {
  // Accepted even by a locked DuckDB configuration: afterwards every query fails and shutdown aborts.
  const logToFile = "enable_logging('QueryLog', storage = 'file', storage_path = '/tmp/mallard-logs')";
  assert.is(await refused(`CALL ${logToFile}`), 'permission denied: enable_logging() is not allowed');
  await refused(`SELECT * FROM ${logToFile}`);
  await refused('CREATE MACRO sneaky() AS TABLE SELECT * FROM enable_logging()');
  await refused('CALL disable_logging()');
  await refused('SELECT * FROM "ENABLE_PROFILING"()');
  await refused('CALL disable_peg_parser()');
  assert.not.ok(existsSync('/tmp/mallard-logs'));
});

test("a session's TimeZone is its own; SQL cannot change it, setTimeZone can", async () => {
  assert.equal((await run(session, "SELECT current_setting('TimeZone')")).rows, [['UTC']]);
  assert.is(await refused("SET TimeZone = 'Europe/Paris'"), 'permission denied to set parameter "timezone"');
  await refused("SET SESSION TimeZone = 'Europe/Paris'");
  const other = await fx.engine.createSession();
  try {
    await other.setTimeZone('America/New_York');
    const local = "SELECT TIMESTAMPTZ '2024-01-01 12:00:00+00'::VARCHAR AS t";
    assert.equal((await run(other, local)).rows, [['2024-01-01 07:00:00-05']]);
    assert.equal((await run(session, local)).rows, [['2024-01-01 12:00:00+00']]);
    // A time without offset is read in the session's zone, as PostgreSQL does.
    const parsed = await run(other, "SELECT epoch(TIMESTAMPTZ '2024-01-01 00:00:00') AS e");
    assert.equal(parsed.rows, [[1704085200]]);
    await other.setTimeZone(null);
    assert.equal((await run(other, local)).rows, [['2024-01-01 12:00:00+00']]);
    try {
      await other.setTimeZone('Mars/Olympus_Mons');
      assert.unreachable('should reject');
    } catch (error) {
      assert.is((error as { code: string }).code, '22023');
    }
  } finally {
    await other.close();
  }
});

test('a readable directory that contains the data directory is refused at start-up', async () => {
  try {
    await Engine.open({ dataDir: join(fx.root, 'nested', 'data'), readableDirs: [fx.root] });
    assert.unreachable('should refuse');
  } catch (error) {
    assert.match(String(error), /contains the data directory/);
  }
});

test.run();
