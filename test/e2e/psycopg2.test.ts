// psycopg2 (the Debian python3-psycopg2, run by /usr/bin/python3) against the selected target. The client
// program is test/e2e/clients/psycopg2_client.py; it reports what the driver returned for each step and
// the expectations below are what PostgreSQL 15 makes psycopg2 return.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  PYTHON_TYPES_ROW,
  pythonClientSuite,
  SQLSTATE,
  typeColumnMismatches,
} from './clients/clientSteps.js';

const step = pythonClientSuite(test, 'psycopg2', 'python3-psycopg2', 'psycopg2_client.py');

test('connects; the server reports standard_conforming_strings=on, so quoting stays plain', async () => {
  assert.equal(await step('connect'), {
    one: 1,
    server_version_positive: true,
    encoding: 'UTF8',
    standard_conforming_strings: 'on',
  });
});

test('%s parameters are quoted by the client and read back unchanged', async () => {
  assert.equal(await step('params'), {
    sum: ['int', '5'],
    quote: ['str', "it's"],
    backslash: ['str', 'C:\\path\\n'],
    is_null: ['bool', true],
    // psycopg2 sends bytes as the literal '\x0001ff'::bytea: PostgreSQL's hex format, not DuckDB's.
    bytes: ['bytes', '0001ff'],
    dec: ['Decimal', '-1.25'],
    d: ['date', '2024-02-29'],
    b: ['bool', true],
    utf8: ['str', 'ünï 🦆'],
  });
});

test('every type: description OIDs and Python values', async () => {
  const types = (await step('types')) as { columns: unknown; row: unknown };
  assert.equal(typeColumnMismatches(types.columns), []);
  assert.equal(types.row, PYTHON_TYPES_ROW);
});

test('timestamptz follows SET TimeZone, including DST and half-hour offsets', async () => {
  assert.equal(await step('timezones'), {
    'America/New_York': [
      ['datetime', '2024-07-01T08:00:00-04:00'],
      ['datetime', '2024-01-15T07:00:00.000001-05:00'],
    ],
    'Asia/Kolkata': [
      ['datetime', '2024-07-01T17:30:00+05:30'],
      ['datetime', '2024-01-15T17:30:00.000001+05:30'],
    ],
  });
});

test('a named cursor (DECLARE / FETCH FORWARD / CLOSE) walks 10,000 rows inside the transaction', async () => {
  assert.equal(await step('named cursor'), {
    first: 1,
    next_five: [2, 3, 4, 5, 6],
    count: 10000,
    sum: 50005000,
    last: 10000,
    names: ['i'],
    in_transaction: true,
  });
});

test('statements run inside an implicit BEGIN; rollback and commit decide what others see', async () => {
  assert.equal(await step('transactions'), {
    // psycopg2.extensions.TRANSACTION_STATUS_INTRANS and _IDLE, from ReadyForQuery.
    status_after_insert: 2,
    status_after_rollback: 0,
    rowcount: 1,
    visible_elsewhere: [
      [2, 'committed'],
      [4, 'committed by with'],
    ],
  });
});

test('errors carry pgcode and the exception class; the connection works after rollback', async () => {
  const INERROR = 3;
  assert.equal(await step('errors'), [
    [SQLSTATE.undefinedTable, 'UndefinedTable', 'ERROR', INERROR],
    [SQLSTATE.inFailedTransaction, 'InFailedSqlTransaction', 'ERROR', INERROR],
    ['no error', [[1]]],
    [SQLSTATE.syntaxError, 'SyntaxError', 'ERROR', INERROR],
    [SQLSTATE.uniqueViolation, 'UniqueViolation', 'ERROR', INERROR],
    [SQLSTATE.invalidTextRepresentation, 'InvalidTextRepresentation', 'ERROR', INERROR],
    ['no error', [[1]]],
  ]);
});

test.run();
