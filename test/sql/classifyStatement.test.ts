import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PgError } from '../../protocol/pg/PgError.js';
import { classifyStatement, type SessionCommand } from '../../src/sql/classifyStatement.js';

function throwsPg(sql: string, code: string, message: string): void {
  try {
    classifyStatement(sql);
  } catch (err) {
    assert.instance(err, PgError, sql);
    assert.is((err as PgError).code, code, sql);
    assert.is((err as PgError).message, message, sql);
    return;
  }
  assert.unreachable(`${sql} should throw`);
}

function is(sql: string, expected: SessionCommand): void {
  assert.equal(classifyStatement(sql), expected, sql);
}

test('queries go to DuckDB unchanged, including DuckDB-only syntax', () => {
  for (const sql of [
    'SELECT 1',
    'with a as (select 1) select * from a',
    "INSERT INTO t VALUES (1, 'SET x = 1')",
    'UPDATE t SET a = 1',
    'DELETE FROM t',
    'VALUES (1)',
    'FROM t',
    'SELECT * EXCLUDE (a) FROM t',
    'DESCRIBE t',
    'PRAGMA table_info(t)',
    'SUMMARIZE t',
    'SHOW TABLES',
    'SHOW ALL TABLES',
    'CREATE TABLE t (a int)',
    '(SELECT 1)',
    '/* set */ SELECT 1',
    'PREPARE p AS SELECT 1',
    "COPY t FROM '/tmp/data.csv' (FORMAT csv)",
    "COPY t TO '/tmp/out.parquet' (FORMAT parquet)",
    "COPY (SELECT 1) TO '/tmp/out.csv'",
    'SET GLOBAL threads = 4',
  ]) {
    is(sql, { kind: 'query', sql });
  }
});

test('SET in all its spellings', () => {
  is('SET search_path = a', { kind: 'set', name: 'search_path', value: 'a', local: false });
  is('set search_path to "$user", public, "My Schema"', {
    kind: 'set',
    name: 'search_path',
    value: '"$user", public, "My Schema"',
    local: false,
  });
  is("SET SESSION DateStyle TO 'ISO', 'DMY'", {
    kind: 'set',
    name: 'datestyle',
    value: 'ISO, DMY',
    local: false,
  });
  is("SET LOCAL statement_timeout = '5s'", {
    kind: 'set',
    name: 'statement_timeout',
    value: '5s',
    local: true,
  });
  is('SET extra_float_digits = 3', { kind: 'set', name: 'extra_float_digits', value: '3', local: false });
  is('SET extra_float_digits = 0', { kind: 'set', name: 'extra_float_digits', value: '0', local: false });
  is('SET extra_float_digits = -15', { kind: 'set', name: 'extra_float_digits', value: '-15', local: false });
  is('SET x.y = 1.5', { kind: 'set', name: 'x.y', value: '1.5', local: false });
  is('SET jit = off', { kind: 'set', name: 'jit', value: 'off', local: false });
  is('SET jit = true', { kind: 'set', name: 'jit', value: 'true', local: false });
  is("SET TIME ZONE 'Europe/Berlin'", {
    kind: 'set',
    name: 'timezone',
    value: 'Europe/Berlin',
    local: false,
  });
  is('SET TIME ZONE -5', { kind: 'set', name: 'timezone', value: '-5', local: false });
  is("SET TIME ZONE INTERVAL '+05:30' HOUR TO MINUTE", {
    kind: 'set',
    name: 'timezone',
    value: '5.5',
    local: false,
  });
  is('SET TIME ZONE LOCAL', { kind: 'set', name: 'timezone', value: null, local: false });
  is('SET TIME ZONE DEFAULT', { kind: 'set', name: 'timezone', value: null, local: false });
  is('SET application_name TO DEFAULT', { kind: 'set', name: 'application_name', value: null, local: false });
  is("SET NAMES 'UTF8'", { kind: 'set', name: 'client_encoding', value: 'UTF8', local: false });
  is("SET SCHEMA 'app'", { kind: 'set', name: 'search_path', value: 'app', local: false });
  is('SET XML OPTION DOCUMENT', { kind: 'set', name: 'xmloption', value: 'DOCUMENT', local: false });
});

test('SET errors are syntax errors PostgreSQL would raise', () => {
  throwsPg('SET statement_timeout = 1, 2', '42601', 'SET statement_timeout takes only one argument');
  throwsPg('SET x FROM CURRENT', '0A000', 'SET ... FROM CURRENT is not supported');
  throwsPg("SET TRANSACTION SNAPSHOT '0001'", '0A000', 'SET TRANSACTION SNAPSHOT is not supported');
});

test('RESET and SHOW', () => {
  is('RESET search_path', { kind: 'reset', name: 'search_path' });
  is('RESET ALL', { kind: 'reset', name: 'all' });
  is('RESET TIME ZONE', { kind: 'reset', name: 'timezone' });
  is('SHOW DateStyle', { kind: 'show', name: 'datestyle' });
  is('SHOW ALL', { kind: 'show', name: 'all' });
  is('SHOW TIME ZONE', { kind: 'show', name: 'timezone' });
  is('SHOW TRANSACTION ISOLATION LEVEL', { kind: 'show', name: 'transaction_isolation' });
  is('show server_version', { kind: 'show', name: 'server_version' });
});

test('transaction control', () => {
  is('BEGIN', { kind: 'begin' });
  is('begin transaction', { kind: 'begin' });
  is('START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY', {
    kind: 'begin',
    isolation: 'repeatable read',
    readOnly: true,
  });
  is('BEGIN READ WRITE', { kind: 'begin', readOnly: false });
  is('COMMIT', { kind: 'commit' });
  is('END', { kind: 'commit' });
  is('ROLLBACK', { kind: 'rollback' });
  is('ABORT', { kind: 'rollback' });
  is('SET TRANSACTION ISOLATION LEVEL READ COMMITTED', {
    kind: 'setTransaction',
    isolation: 'read committed',
    session: false,
  });
  is('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY', {
    kind: 'setTransaction',
    readOnly: true,
    session: true,
  });
  is('SAVEPOINT s1', { kind: 'savepoint', name: 's1' });
  is('RELEASE SAVEPOINT s1', { kind: 'releaseSavepoint', name: 's1' });
  is('RELEASE s1', { kind: 'releaseSavepoint', name: 's1' });
  is('ROLLBACK TO SAVEPOINT s1', { kind: 'rollbackToSavepoint', name: 's1' });
  throwsPg('COMMIT AND CHAIN', '0A000', 'COMMIT AND CHAIN is not supported');
  throwsPg("PREPARE TRANSACTION 'x'", '0A000', 'prepared transactions (two-phase commit) are not supported');
  throwsPg("COMMIT PREPARED 'x'", '0A000', 'prepared transactions (two-phase commit) are not supported');
});

test('DISCARD, LISTEN, UNLISTEN, NOTIFY, DEALLOCATE', () => {
  is('DISCARD ALL', { kind: 'discard', what: 'all' });
  is('DISCARD PLANS', { kind: 'discard', what: 'plans' });
  is('DISCARD SEQUENCES', { kind: 'discard', what: 'sequences' });
  is('DISCARD TEMP', { kind: 'discard', what: 'temp' });
  is('LISTEN ch', { kind: 'listen' });
  is('UNLISTEN *', { kind: 'unlisten' });
  is("NOTIFY ch, 'payload'", { kind: 'notify' });
  is('DEALLOCATE s1', { kind: 'deallocate', name: 's1' });
  is('DEALLOCATE PREPARE s1', { kind: 'deallocate', name: 's1' });
  is('DEALLOCATE ALL', { kind: 'deallocate', name: 'all' });
});

test('DECLARE CURSOR: name, options and the query text after FOR', () => {
  // psycopg2's named cursor, as it sends it.
  is('DECLARE "mycur" CURSOR WITHOUT HOLD FOR SELECT id, name FROM users WHERE name <> \'for\'', {
    kind: 'declareCursor',
    name: 'mycur',
    query: "SELECT id, name FROM users WHERE name <> 'for'",
    binary: false,
    hold: false,
    scroll: false,
  });
  is('declare C binary no scroll cursor with hold for\n  select 1 -- the end\n;', {
    kind: 'declareCursor',
    name: 'c',
    query: 'select 1',
    binary: true,
    hold: true,
    scroll: false,
  });
  is('DECLARE "Mixed" SCROLL CURSOR FOR /* FOR */ (SELECT 1) UNION ALL (SELECT 2)', {
    kind: 'declareCursor',
    name: 'Mixed',
    query: '(SELECT 1) UNION ALL (SELECT 2)',
    binary: false,
    hold: false,
    scroll: true,
  });
  // A quoted cursor name may be a keyword; DuckDB-only syntax in the query is left for DuckDB.
  is('DECLARE "for" INSENSITIVE CURSOR FOR FROM t SELECT * EXCLUDE (a)', {
    kind: 'declareCursor',
    name: 'for',
    query: 'FROM t SELECT * EXCLUDE (a)',
    binary: false,
    hold: false,
    scroll: false,
  });
});

test('DECLARE errors are PostgreSQL syntax errors', () => {
  throwsPg('DECLARE c CURSOR FOR', '42601', 'syntax error at end of input');
  throwsPg('DECLARE c CURSOR FOR ;', '42601', 'syntax error at end of input');
  throwsPg('DECLARE c CURSOR', '42601', 'syntax error at end of input');
  throwsPg('DECLARE c BOGUS CURSOR FOR SELECT 1', '42601', 'syntax error at or near "BOGUS"');
  throwsPg('DECLARE c CURSOR FOR INSERT INTO t VALUES (1)', '42601', 'syntax error at or near "INSERT"');
});

test('FETCH and MOVE forward, in every spelling', () => {
  const fetch = (count: number, move = false): SessionCommand => ({ kind: 'fetch', name: 'c', count, move });
  is('FETCH c', fetch(1));
  is('FETCH NEXT FROM c', fetch(1));
  is('FETCH FORWARD FROM c', fetch(1));
  is('FETCH 10 c', fetch(10));
  is('FETCH FORWARD 2000 FROM "c"', fetch(2000));
  is('FETCH ALL IN c', fetch(Number.POSITIVE_INFINITY));
  is('FETCH FORWARD ALL FROM c;', fetch(Number.POSITIVE_INFINITY));
  is('FETCH BACKWARD -3 FROM c', fetch(3));
  is('MOVE 5 FROM c', fetch(5, true));
  is('MOVE FORWARD ALL IN c', fetch(Number.POSITIVE_INFINITY, true));
  is('MOVE 0 FROM c', fetch(0, true));
  is('FETCH 1 FROM "Mixed"', { kind: 'fetch', name: 'Mixed', count: 1, move: false });
});

test('backward and absolute positioning is refused with 0A000', () => {
  for (const sql of [
    'FETCH PRIOR FROM c',
    'FETCH BACKWARD FROM c',
    'FETCH BACKWARD 2 FROM c',
    'FETCH BACKWARD ALL FROM c',
    'FETCH -1 FROM c',
    'FETCH FORWARD -5 FROM c',
    'FETCH FIRST FROM c',
    'FETCH LAST FROM c',
    'FETCH ABSOLUTE 3 FROM c',
    'FETCH RELATIVE -1 FROM c',
    'FETCH RELATIVE 2 FROM c',
    'FETCH 0 FROM c',
    'MOVE -1 FROM c',
    'MOVE ABSOLUTE 0 FROM c',
  ]) {
    throwsPg(sql, '0A000', 'backward scan is not supported');
  }
});

test('CLOSE a cursor or all of them', () => {
  is('CLOSE c', { kind: 'closeCursor', name: 'c' });
  is('close "MyCur"', { kind: 'closeCursor', name: 'MyCur' });
  is('CLOSE ALL', { kind: 'closeCursor', name: 'all' });
});

const TEXT = { format: 'text', delimiter: '\t', null: '\\N', header: false } as const;
const CSV = { format: 'csv', delimiter: ',', null: '', header: false, quote: '"', escape: '"' } as const;

test('COPY FROM STDIN, old and new option syntax', () => {
  is('COPY t FROM STDIN', {
    kind: 'copyFromStdin',
    table: '"t"',
    relation: 't',
    columns: null,
    options: TEXT,
  });
  is('copy s."My T" (a, "B") from stdin', {
    kind: 'copyFromStdin',
    table: '"s"."My T"',
    relation: 'My T',
    columns: ['a', 'B'],
    options: TEXT,
  });
  const csvHeader = { ...CSV, header: true };
  is('COPY t FROM STDIN WITH CSV HEADER', {
    kind: 'copyFromStdin',
    table: '"t"',
    relation: 't',
    columns: null,
    options: csvHeader,
  });
  is('COPY t FROM STDIN (FORMAT csv, HEADER true)', {
    kind: 'copyFromStdin',
    table: '"t"',
    relation: 't',
    columns: null,
    options: csvHeader,
  });
  is('COPY t FROM STDIN (FORMAT csv, HEADER)', {
    kind: 'copyFromStdin',
    table: '"t"',
    relation: 't',
    columns: null,
    options: csvHeader,
  });
  is("COPY t FROM STDIN WITH DELIMITER '|' NULL 'nil' CSV QUOTE '''' ESCAPE '\\' FORCE NOT NULL a, b", {
    kind: 'copyFromStdin',
    table: '"t"',
    relation: 't',
    columns: null,
    options: { ...CSV, delimiter: '|', null: 'nil', quote: "'", escape: '\\', forceNotNull: ['a', 'b'] },
  });
  is("COPY t FROM STDIN (FORMAT csv, FORCE_NULL (a), ENCODING 'UTF8')", {
    kind: 'copyFromStdin',
    table: '"t"',
    relation: 't',
    columns: null,
    options: { ...CSV, forceNull: ['a'], encoding: 'UTF8' },
  });
  is("COPY t FROM STDIN (DELIMITER ',')", {
    kind: 'copyFromStdin',
    table: '"t"',
    relation: 't',
    columns: null,
    options: { ...TEXT, delimiter: ',' },
  });
  is('COPY t FROM STDIN WITH BINARY', {
    kind: 'copyFromStdin',
    table: '"t"',
    relation: 't',
    columns: null,
    options: { format: 'binary', header: false },
  });
  is('COPY BINARY t FROM STDIN', {
    kind: 'copyFromStdin',
    table: '"t"',
    relation: 't',
    columns: null,
    options: { format: 'binary', header: false },
  });
});

test('COPY TO STDOUT of a table, a column list or a query', () => {
  is('COPY t TO STDOUT', { kind: 'copyToStdout', query: 'SELECT * FROM "t"', options: TEXT });
  is('COPY public.t (a, "Weird""Col") TO STDOUT WITH CSV HEADER FORCE QUOTE *', {
    kind: 'copyToStdout',
    query: 'SELECT "a", "Weird""Col" FROM "public"."t"',
    options: { ...CSV, header: true, forceQuote: '*' },
  });
  is("COPY (SELECT ')' AS p, (1 + 2) FROM t WHERE a = ';') TO STDOUT (FORMAT csv, FORCE_QUOTE (p))", {
    kind: 'copyToStdout',
    query: "SELECT ')' AS p, (1 + 2) FROM t WHERE a = ';'",
    options: { ...CSV, forceQuote: ['p'] },
  });
  is('COPY (VALUES (1)) TO STDOUT (FORMAT binary)', {
    kind: 'copyToStdout',
    query: 'VALUES (1)',
    options: { format: 'binary', header: false },
  });
});

test('COPY option errors, as PostgreSQL reports them', () => {
  throwsPg('COPY t FROM STDIN (FORMAT xml)', '22023', 'COPY format "xml" not recognized');
  throwsPg('COPY t FROM STDIN (FORMAT csv, FORMAT text)', '42601', 'conflicting or redundant options');
  throwsPg(
    "COPY t FROM STDIN (FORMAT binary, DELIMITER ',')",
    '42601',
    'cannot specify DELIMITER in BINARY mode',
  );
  throwsPg("COPY t FROM STDIN (QUOTE '\"')", '0A000', 'COPY quote available only in CSV mode');
  throwsPg(
    "COPY t FROM STDIN (DELIMITER '::')",
    '0A000',
    'COPY delimiter must be a single one-byte character',
  );
  throwsPg(
    "COPY t FROM STDIN (FORMAT csv, DELIMITER '\"')",
    '22023',
    'COPY delimiter and quote must be different',
  );
  throwsPg(
    'COPY t FROM STDIN (FORMAT csv, FORCE_QUOTE *)',
    '0A000',
    'COPY force quote only available using COPY TO',
  );
  throwsPg(
    'COPY t TO STDOUT (FORMAT csv, FORCE_NOT_NULL (a))',
    '0A000',
    'COPY force not null only available using COPY FROM',
  );
  throwsPg('COPY t FROM STDIN (FORMAT csv, HEADER match)', '0A000', 'COPY HEADER MATCH is not supported');
  throwsPg('COPY t FROM STDIN WHERE a > 1', '0A000', 'COPY FROM ... WHERE is not supported');
  throwsPg('COPY t FROM STDIN (BOGUS 1)', '42601', 'option "bogus" not recognized');
  throwsPg("COPY t FROM STDIN (DELIMITER 'a')", '22023', 'COPY delimiter cannot be "a"');
});

test.run();
