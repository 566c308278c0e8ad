import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PgError } from '../../protocol/pg/PgError.js';
import { SessionSettings } from '../../src/sql/SessionSettings.js';

function fails(fn: () => unknown, code: string, message: string, hint?: string): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, PgError);
    assert.is((err as PgError).code, code);
    assert.is((err as PgError).message, message);
    if (hint !== undefined) assert.is((err as PgError).fields.hint, hint);
    return;
  }
  assert.unreachable(`expected ${code} ${message}`);
}

test('defaults a client sees, with PostgreSQL spellings', () => {
  const s = new SessionSettings({ session_authorization: 'alice' });
  assert.is(s.get('server_version'), '15.0');
  assert.is(s.get('server_version_num'), '150000');
  assert.is(s.get('server_encoding'), 'UTF8');
  assert.is(s.get('client_encoding'), 'UTF8');
  assert.is(s.get('DateStyle'), 'ISO, MDY');
  assert.is(s.get('datestyle'), 'ISO, MDY');
  assert.is(s.get('IntervalStyle'), 'postgres');
  assert.is(s.get('TimeZone'), 'UTC');
  assert.is(s.get('integer_datetimes'), 'on');
  assert.is(s.get('standard_conforming_strings'), 'on');
  assert.is(s.get('is_superuser'), 'on');
  assert.is(s.get('session_authorization'), 'alice');
  assert.is(s.get('search_path'), '"$user", public');
  assert.is(s.get('transaction_isolation'), 'repeatable read');
  assert.is(s.get('max_identifier_length'), '63');
  assert.is(s.get('bytea_output'), 'hex');
  assert.is(s.extraFloatDigits, 1);
  assert.is(s.statementTimeoutMs, 0);
  assert.is(s.canonicalName('timezone'), 'TimeZone');
  assert.is(s.canonicalName('DATESTYLE'), 'DateStyle');
});

test('unknown parameters are 42704; custom dotted ones are accepted', () => {
  const s = new SessionSettings();
  fails(() => s.get('nope'), '42704', 'unrecognized configuration parameter "nope"');
  fails(() => s.set('nope', '1'), '42704', 'unrecognized configuration parameter "nope"');
  fails(() => new SessionSettings({ nope: '1' }), '42704', 'unrecognized configuration parameter "nope"');
  assert.is(s.find('myapp.user_id'), undefined);
  s.set('myapp.user_id', '42');
  assert.is(s.get('MyApp.User_Id'), '42');
  s.resetAll();
  assert.is(s.get('myapp.user_id'), '');
});

test('read-only parameters cannot be changed', () => {
  const s = new SessionSettings();
  fails(() => s.set('server_version', '16'), '55P02', 'parameter "server_version" cannot be changed');
  fails(() => s.set('integer_datetimes', 'off'), '55P02', 'parameter "integer_datetimes" cannot be changed');
});

test('TimeZone: IANA names any case, numeric offsets, POSIX offsets, invalid names', () => {
  const s = new SessionSettings();
  assert.equal(s.set('timezone', 'europe/berlin'), { reported: ['TimeZone', 'Europe/Berlin'] });
  assert.is(s.timeZone, 'Europe/Berlin');
  assert.is(s.duckdbTimeZone, 'Europe/Berlin');
  s.set('TimeZone', 'utc');
  assert.is(s.get('TimeZone'), 'UTC');
  // SET TIME ZONE -5: hours east, shown as PostgreSQL shows it.
  s.set('timezone', '-5');
  assert.is(s.get('TimeZone'), '<-05>+05');
  assert.is(s.duckdbTimeZone, 'Etc/GMT+5');
  s.set('timezone', '5.5');
  assert.is(s.get('TimeZone'), '<+05:30>-05:30');
  assert.is(s.duckdbTimeZone, null);
  // POSIX strings count hours west, as PostgreSQL (and pgjdbc, which inverts the sign) expects.
  s.set('timezone', 'UTC+3');
  assert.is(s.get('TimeZone'), 'UTC+3');
  assert.is(s.duckdbTimeZone, 'Etc/GMT+3');
  s.set('timezone', '+02:00');
  assert.is(s.timeZone, '+02:00');
  assert.is(s.duckdbTimeZone, 'Etc/GMT+2');
  fails(() => s.set('TimeZone', 'Mars/Base'), '22023', 'invalid value for parameter "TimeZone": "Mars/Base"');
  fails(() => s.set('TimeZone', 'UTC+99'), '22023', 'invalid value for parameter "TimeZone": "UTC+99"');
  assert.is(s.get('TimeZone'), '+02:00');
  s.set('timezone', null);
  assert.is(s.get('TimeZone'), 'UTC');
});

test('DateStyle: ISO only, field order accepted, aliases canonicalised', () => {
  const s = new SessionSettings();
  assert.equal(s.set('datestyle', 'iso, dmy'), { reported: ['DateStyle', 'ISO, DMY'] });
  s.set('DateStyle', 'ymd');
  assert.is(s.get('DateStyle'), 'ISO, YMD');
  s.set('DateStyle', 'European');
  assert.is(s.get('DateStyle'), 'ISO, DMY');
  s.set('DateStyle', 'ISO, US');
  assert.is(s.get('DateStyle'), 'ISO, MDY');
  fails(
    () => s.set('DateStyle', 'SQL, DMY'),
    '0A000',
    'DateStyle "SQL" is not supported',
    'Mallard writes dates in ISO style only.',
  );
  fails(() => s.set('DateStyle', 'German'), '0A000', 'DateStyle "German" is not supported');
  try {
    s.set('DateStyle', 'ISO, foo');
    assert.unreachable();
  } catch (err) {
    assert.is((err as PgError).code, '22023');
    assert.is((err as PgError).message, 'invalid value for parameter "DateStyle": "ISO, foo"');
    assert.is((err as PgError).fields.detail, 'Unrecognized key word: "foo".');
  }
  fails(() => s.set('DateStyle', 'DMY, MDY'), '22023', 'invalid value for parameter "DateStyle": "DMY, MDY"');
});

test('IntervalStyle, bytea_output, standard_conforming_strings: unsupported values are 0A000', () => {
  const s = new SessionSettings();
  fails(() => s.set('IntervalStyle', 'iso_8601'), '0A000', 'IntervalStyle "iso_8601" is not supported');
  fails(
    () => s.set('IntervalStyle', 'weird'),
    '22023',
    'invalid value for parameter "IntervalStyle": "weird"',
    'Available values: postgres, postgres_verbose, sql_standard, iso_8601.',
  );
  s.takeReports();
  assert.equal(s.set('IntervalStyle', 'POSTGRES'), {}, 'unchanged: nothing to report');
  fails(() => s.set('bytea_output', 'escape'), '0A000', 'bytea_output "escape" is not supported');
  fails(
    () => s.set('standard_conforming_strings', 'off'),
    '0A000',
    'standard_conforming_strings = off is not supported',
  );
  fails(
    () => s.set('standard_conforming_strings', 'maybe'),
    '22023',
    'parameter "standard_conforming_strings" requires a Boolean value',
  );
});

test('client_encoding: UTF8 aliases and SQL_ASCII accepted, other encodings refused', () => {
  const s = new SessionSettings();
  s.set('client_encoding', 'utf-8');
  assert.is(s.get('client_encoding'), 'UTF8');
  s.set('client_encoding', 'unicode');
  assert.is(s.get('client_encoding'), 'UTF8');
  assert.equal(s.set('client_encoding', 'sql_ascii'), { reported: ['client_encoding', 'SQL_ASCII'] });
  fails(
    () => s.set('client_encoding', 'LATIN1'),
    '0A000',
    'conversion between LATIN1 and UTF8 is not supported',
  );
  fails(
    () => s.set('client_encoding', 'klingon'),
    '22023',
    'invalid value for parameter "client_encoding": "klingon"',
  );
});

test('extra_float_digits and timeouts: ranges and units', () => {
  const s = new SessionSettings();
  s.set('extra_float_digits', '3');
  assert.is(s.extraFloatDigits, 3);
  s.set('extra_float_digits', '-15');
  assert.is(s.extraFloatDigits, -15);
  fails(
    () => s.set('extra_float_digits', '4'),
    '22023',
    '4 is outside the valid range for parameter "extra_float_digits" (-15 .. 3)',
  );
  fails(
    () => s.set('extra_float_digits', 'x'),
    '22023',
    'invalid value for parameter "extra_float_digits": "x"',
  );
  s.set('statement_timeout', '5s');
  assert.is(s.get('statement_timeout'), '5s');
  assert.is(s.statementTimeoutMs, 5000);
  s.set('statement_timeout', '100ms');
  assert.is(s.statementTimeoutMs, 100);
  s.set('statement_timeout', '1min');
  assert.is(s.get('statement_timeout'), '1min');
  assert.is(s.statementTimeoutMs, 60000);
  s.set('statement_timeout', '1500');
  assert.is(s.get('statement_timeout'), '1500ms');
  s.set('statement_timeout', '0');
  assert.is(s.get('statement_timeout'), '0');
  assert.is(s.statementTimeoutMs, 0);
  fails(
    () => s.set('statement_timeout', '5 parsecs'),
    '22023',
    'invalid value for parameter "statement_timeout": "5 parsecs"',
    'Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".',
  );
  fails(
    () => s.set('statement_timeout', '-1'),
    '22023',
    '-1 ms is outside the valid range for parameter "statement_timeout" (0 ms .. 2147483647 ms)',
  );
  s.set('lock_timeout', '2h');
  assert.is(s.get('lock_timeout'), '2h');
  s.set('work_mem', '64MB');
  assert.is(s.get('work_mem'), '64MB');
  s.set('work_mem', '2048');
  assert.is(s.get('work_mem'), '2MB');
});

test('booleans take every PostgreSQL spelling', () => {
  const s = new SessionSettings();
  for (const [v, want] of [
    ['on', 'on'],
    ['OFF', 'off'],
    ['true', 'on'],
    ['f', 'off'],
    ['yes', 'on'],
    ['n', 'off'],
    ['1', 'on'],
    ['0', 'off'],
  ]) {
    s.set('jit', v!);
    assert.is(s.get('jit'), want);
  }
  fails(() => s.set('jit', 'o'), '22023', 'parameter "jit" requires a Boolean value');
});

test('application_name is cleaned to printable ASCII and 63 characters', () => {
  const s = new SessionSettings();
  assert.equal(s.set('application_name', 'psql'), { reported: ['application_name', 'psql'] });
  s.set('application_name', 'caf\u00e9\n');
  assert.is(s.get('application_name'), 'caf??');
  s.set('application_name', 'x'.repeat(100));
  assert.is(s.get('application_name').length, 63);
});

test('isolation: snapshot isolation is repeatable read; serializable is refused', () => {
  const s = new SessionSettings();
  s.set('default_transaction_isolation', 'read committed');
  assert.is(s.get('transaction_isolation'), 'read committed');
  fails(
    () => s.set('default_transaction_isolation', 'serializable'),
    '0A000',
    'default_transaction_isolation "serializable" is not supported',
  );
  fails(
    () => s.set('default_transaction_isolation', 'chaos'),
    '22023',
    'invalid value for parameter "default_transaction_isolation": "chaos"',
  );
  s.beginTransaction({ isolation: 'repeatable read', readOnly: true });
  assert.is(s.get('transaction_isolation'), 'repeatable read');
  assert.is(s.get('transaction_read_only'), 'on');
  s.endTransaction(true);
  assert.is(s.get('transaction_isolation'), 'read committed');
  assert.is(s.get('transaction_read_only'), 'off');
  // Outside a block SET TRANSACTION changes nothing and warns, as in PostgreSQL.
  const r = s.set('transaction_read_only', 'on');
  assert.is(r.warning?.code, '25P01');
  assert.is(r.warning?.severity, 'WARNING');
  assert.is(s.get('transaction_read_only'), 'off');
});

test('SET LOCAL lasts until the transaction ends; ROLLBACK undoes SET', () => {
  const s = new SessionSettings();
  s.set('search_path', 'a');

  s.beginTransaction();
  s.set('search_path', 'b', { local: true });
  assert.is(s.get('search_path'), 'b');
  s.endTransaction(true);
  assert.is(s.get('search_path'), 'a', 'SET LOCAL ends with COMMIT');

  s.beginTransaction();
  s.set('search_path', 'c');
  s.endTransaction(false);
  assert.is(s.get('search_path'), 'a', 'ROLLBACK undoes SET');

  s.beginTransaction();
  s.set('search_path', 'd');
  s.endTransaction(true);
  assert.is(s.get('search_path'), 'd', 'COMMIT keeps SET');

  s.beginTransaction();
  s.set('search_path', 'e');
  s.set('search_path', 'f', { local: true });
  assert.is(s.get('search_path'), 'f');
  s.endTransaction(true);
  assert.is(s.get('search_path'), 'e', 'SET then SET LOCAL: COMMIT keeps the SET');

  s.beginTransaction();
  s.set('search_path', 'g', { local: true });
  s.set('search_path', 'h');
  s.endTransaction(true);
  assert.is(s.get('search_path'), 'h', 'SET LOCAL then SET: COMMIT keeps the SET');

  const outside = s.set('search_path', 'z', { local: true });
  assert.is(outside.warning?.message, 'SET LOCAL can only be used in transaction blocks');
  assert.is(s.get('search_path'), 'h');
});

test('reported parameters: each change handed out once, including reverts at transaction end', () => {
  const s = new SessionSettings({ application_name: 'app', session_authorization: 'bob' });
  const startup = new Map(s.takeReports());
  assert.equal([...startup.keys()].sort(), [
    'DateStyle',
    'IntervalStyle',
    'TimeZone',
    'application_name',
    'client_encoding',
    'default_transaction_read_only',
    'in_hot_standby',
    'integer_datetimes',
    'is_superuser',
    'server_encoding',
    'server_version',
    // Not GUC_REPORT in PostgreSQL 15, but issue 2 asks for it at startup.
    'server_version_num',
    'session_authorization',
    'standard_conforming_strings',
  ]);
  assert.is(startup.get('application_name'), 'app');
  assert.equal(s.takeReports(), []);
  assert.equal(s.set('search_path', 'x'), {}, 'search_path is not reported');
  assert.ok(s.isReported('timezone'));
  assert.not.ok(s.isReported('search_path'));

  s.beginTransaction();
  assert.equal(s.set('TimeZone', 'Asia/Tokyo', { local: true }), { reported: ['TimeZone', 'Asia/Tokyo'] });
  assert.equal(s.endTransaction(true), [['TimeZone', 'UTC']]);
  assert.equal(s.takeReports(), []);

  s.setConfig('application_name', 'other', false);
  assert.equal(s.takeReports(), [['application_name', 'other']]);
});

test('RESET returns to the startup value; setStartup makes one', () => {
  const s = new SessionSettings({ TimeZone: 'Europe/Paris' });
  s.setStartup('extra_float_digits', '3');
  s.set('TimeZone', 'Asia/Tokyo');
  s.set('extra_float_digits', '0');
  s.reset('timezone');
  s.reset('extra_float_digits');
  assert.is(s.get('TimeZone'), 'Europe/Paris');
  assert.is(s.extraFloatDigits, 3);
  s.set('DateStyle', 'ISO, DMY');
  s.reset('all');
  assert.is(s.get('DateStyle'), 'ISO, MDY');
  fails(() => new SessionSettings({ DateStyle: 'SQL' }), '0A000', 'DateStyle "SQL" is not supported');
});

test('SHOW ALL lists every parameter, sorted, with descriptions', () => {
  const rows = new SessionSettings().all();
  const names = rows.map((r) => r.name);
  assert.equal(
    names,
    [...names].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)),
  );
  const tz = rows.find((r) => r.name === 'TimeZone');
  assert.equal(tz, {
    name: 'TimeZone',
    setting: 'UTC',
    description: 'Sets the time zone for displaying and interpreting time stamps.',
  });
  assert.ok(rows.every((r) => r.description.length > 0));
});

test.run();
