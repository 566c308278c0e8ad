// psycopg 3 (the Debian python3-psycopg, run by /usr/bin/python3) against the selected target. The client
// program is test/e2e/clients/psycopg3_client.py; the expectations are what PostgreSQL 15 makes psycopg
// return. psycopg 3 binds parameters server-side (extended protocol), reads binary results from
// cursor(binary=True), streams rows in single-row mode and speaks COPY in both formats.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  PYTHON_PARAMS_ROW,
  PYTHON_TYPES_ROW,
  pythonClientSuite,
  SQLSTATE,
  typeColumnMismatches,
} from './clients/clientSteps.js';

const step = pythonClientSuite(test, 'psycopg', 'python3-psycopg', 'psycopg3_client.py');

test('connects over the extended protocol', async () => {
  assert.equal(await step('connect'), { one: 1, server_version_positive: true, client_encoding: 'UTF8' });
});

test('%s parameters (text format, typed by psycopg) round-trip every type', async () => {
  assert.equal(await step('params text'), PYTHON_PARAMS_ROW);
});

test('%b parameters (binary format) round-trip every type', async () => {
  assert.equal(await step('params binary'), PYTHON_PARAMS_ROW);
});

test('a Jsonb parameter (OID 3802) is accepted and cast to json', async () => {
  assert.equal(await step('jsonb param'), ['dict', '{"k": [1, "x", null]}']);
});

test('every type read as text: description OIDs and Python values', async () => {
  const types = (await step('types text')) as { columns: unknown; row: unknown };
  assert.equal(typeColumnMismatches(types.columns), []);
  assert.equal(types.row, PYTHON_TYPES_ROW);
});

test('every type read as binary (cursor(binary=True)): the same values', async () => {
  const types = (await step('types binary')) as { columns: unknown; row: unknown };
  assert.equal(typeColumnMismatches(types.columns), []);
  // A binary float4 is the exact single-precision value, which Python widens to a double.
  assert.equal(types.row, { ...PYTHON_TYPES_ROW, float4_tenth: ['float', '0.10000000149011612'] });
});

test('cursor.stream() reads 10,000 rows one at a time and leaves the connection usable', async () => {
  assert.equal(await step('stream'), { count: 10000, first: 1, last: 10000, sum: 50005000, after: 2 });
});

test('a named server-side cursor with a parameter walks its rows', async () => {
  assert.equal(await step('server cursor'), { count: 1000, first: 9001, last: 10000 });
});

test('transactions: implicit BEGIN, rollback, transaction() blocks', async () => {
  assert.equal(await step('transactions'), {
    status_after_insert: 'INTRANS',
    status_after_rollback: 'IDLE',
    visible_elsewhere: [
      [3, 'committed by transaction()'],
      [4, 'committed'],
    ],
  });
});

test('errors carry sqlstate and the exception class; the connection works after rollback', async () => {
  assert.equal(await step('errors'), [
    [SQLSTATE.undefinedTable, 'UndefinedTable', 'ERROR', 'INERROR'],
    [SQLSTATE.inFailedTransaction, 'InFailedSqlTransaction', 'ERROR', 'INERROR'],
    ['no error', [[1]]],
    [SQLSTATE.syntaxError, 'SyntaxError', 'ERROR', 'INERROR'],
    [SQLSTATE.uniqueViolation, 'UniqueViolation', 'ERROR', 'INERROR'],
    [SQLSTATE.invalidTextRepresentation, 'InvalidTextRepresentation', 'ERROR', 'INERROR'],
    ['no error', [[1]]],
  ]);
});

const COPIED_ROWS = [
  [
    ['int', '1'],
    ['str', 'plain'],
    ['Decimal', '1.50'],
    ['NoneType', null],
  ],
  [
    ['int', '2'],
    ['str', 'tab\there'],
    ['Decimal', '-2.00'],
    ['str', 'new\nline'],
  ],
  [
    ['int', '3'],
    ['str', 'back\\slash'],
    ['Decimal', '0.01'],
    ['str', 'ünï 🦆'],
  ],
];

test('COPY FROM STDIN (text) with write_row, then COPY TO STDOUT byte for byte', async () => {
  assert.equal(await step('copy text'), {
    copied_in: 3,
    stored: COPIED_ROWS,
    // Tabs, newlines and backslashes escaped, NULL as \N: PostgreSQL's text COPY format.
    text_out: '1\tplain\t1.50\t\\N\n2\ttab\\there\t-2.00\tnew\\nline\n3\tback\\\\slash\t0.01\tünï 🦆\n',
    copied_out: 3,
  });
});

test('COPY FROM STDIN and TO STDOUT in binary format', async () => {
  assert.equal(await step('copy binary'), { copied_in: 3, rows: COPIED_ROWS });
});

test.run();
