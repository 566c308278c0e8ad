// asyncpg (the Debian python3-asyncpg, run by /usr/bin/python3) against the selected target. The client
// program is test/e2e/clients/asyncpg_client.py; the expectations are what PostgreSQL 15 makes asyncpg
// return. asyncpg prepares every statement, sends parameters and reads results in binary only, and
// introspects any type OID it has no codec for through pg_catalog, so every value here crossed the wire
// in PostgreSQL's binary format.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  isStringOid,
  PYTHON_PARAMS_ROW,
  PYTHON_TYPES_ROW,
  pythonClientSuite,
  SQLSTATE,
  typeColumnMismatches,
} from './clients/clientSteps.js';

const step = pythonClientSuite(test, 'asyncpg', 'python3-asyncpg', 'asyncpg_client.py');

test('connects and runs a query', async () => {
  assert.equal(await step('connect'), { one: 1, server_version_major_positive: true });
});

test('every type in binary: attribute OIDs and type names, Python values', async () => {
  const types = (await step('types')) as { columns: [string, number, string][]; row: unknown };
  assert.equal(typeColumnMismatches(types.columns), []);
  // asyncpg names each type from its codec table (or pg_catalog): the names must match the OIDs.
  // varchar_v and bpchar_v may be any string type (see TYPE_COLUMN_OIDS).
  const loose = new Set(['varchar_v', 'bpchar_v']);
  const names = Object.fromEntries(
    types.columns.map(([column, oid, name]) => [
      column,
      loose.has(column) && isStringOid(oid) ? 'string' : name,
    ]),
  );
  assert.equal(names, {
    bool_t: 'bool',
    bool_null: 'bool',
    int2_min: 'int2',
    int4_max: 'int4',
    int8_min: 'int8',
    float4_tenth: 'float4',
    float8_big: 'float8',
    float8_nan: 'float8',
    float4_neginf: 'float4',
    numeric_scaled: 'numeric',
    numeric_big: 'numeric',
    text_utf8: 'text',
    varchar_v: 'string',
    bpchar_v: 'string',
    bytea_v: 'bytea',
    date_leap: 'date',
    time_v: 'time',
    ts: 'timestamp',
    tstz: 'timestamptz',
    interval_mixed: 'interval',
    interval_neg: 'interval',
    uuid_v: 'uuid',
    json_v: 'json',
    int4_array: 'int4[]',
    text_array: 'text[]',
  });
  assert.equal(types.row, {
    ...PYTHON_TYPES_ROW,
    // Binary float4 is the exact single-precision value; asyncpg leaves json undecoded.
    float4_tenth: ['float', '0.10000000149011612'],
    json_v: ['str', '{"a": [1, 2.5, null], "b": "x"}'],
  });
});

test('binary parameters of every type round-trip', async () => {
  assert.equal(await step('params'), {
    ...PYTHON_PARAMS_ROW,
    big: ['int', '-9223372036854775808'],
    texts: [
      'list',
      [
        ['str', 'a'],
        ['str', 'b c'],
        ['str', 'q"uote'],
        ['NoneType', null],
        ['str', ''],
      ],
    ],
  });
});

test('a prepared statement describes its parameters and columns and runs ten times', async () => {
  assert.equal(await step('prepared'), {
    parameters: ['int8', 'text'],
    attributes: [
      ['doubled', 20, 'int8'],
      ['label', 25, 'text'],
    ],
    results: Array.from({ length: 10 }, (_, i) => [i * 2, `run ${i}`]),
  });
});

test('cursors in a transaction read through portals with a row limit', async () => {
  assert.equal(await step('cursor'), {
    count: 10000,
    sum: 50005000,
    last: 10000,
    first_three: [9991, 9992, 9993],
    fourth: 9994,
  });
});

test('copy_records_to_table: binary COPY FROM STDIN of several types', async () => {
  assert.equal(await step('copy records'), {
    status: 'COPY 3',
    rows: [
      [
        ['int', '1'],
        ['str', 'plain'],
        ['Decimal', '1.50'],
        ['datetime', '2024-07-01T12:00:00.000001+00:00'],
        ['bytes', '00ff'],
        [
          'list',
          [
            ['str', 'x'],
            ['NoneType', null],
          ],
        ],
      ],
      [
        ['int', '2'],
        ['str', 'tab\there,comma'],
        ['Decimal', '-2.00'],
        ['NoneType', null],
        ['bytes', ''],
        ['list', []],
      ],
      [
        ['int', '3'],
        ['str', 'quo"te ünï'],
        ['NoneType', null],
        ['datetime', '1999-12-31T23:59:59+00:00'],
        ['NoneType', null],
        ['NoneType', null],
      ],
    ],
  });
});

test('copy_from_query: COPY (query) TO STDOUT as CSV and as text, byte for byte', async () => {
  assert.equal(await step('copy from query'), {
    csv_status: 'COPY 3',
    csv: '1,plain,1.50\n2,"with, comma",\n3,"quo""te",-0.25\n',
    text_status: 'COPY 3',
    text: '1\tplain\t1.50\n2\twith, comma\t\\N\n3\tquo"te\t-0.25\n',
  });
});

test('transactions: blocks commit or roll back, uncommitted rows stay invisible', async () => {
  assert.equal(await step('transactions'), {
    in_transaction_before: false,
    in_transaction_inside: true,
    invisible_elsewhere: 0,
    in_transaction_after: false,
    visible_elsewhere: [[2, 'committed']],
  });
});

test('errors carry sqlstate and the exception class; the connection stays usable', async () => {
  assert.equal(await step('errors'), [
    [SQLSTATE.undefinedTable, 'UndefinedTableError', 'ERROR', false],
    [SQLSTATE.syntaxError, 'PostgresSyntaxError', 'ERROR', false],
    [SQLSTATE.uniqueViolation, 'UniqueViolationError', 'ERROR', false],
    [SQLSTATE.invalidTextRepresentation, 'InvalidTextRepresentationError', 'ERROR', false],
    ['no error', [[1]]],
    // Inside a transaction the error aborts it until the rollback.
    [SQLSTATE.undefinedTable, 'UndefinedTableError', 'ERROR', true],
    [SQLSTATE.inFailedTransaction, 'InFailedSQLTransactionError', 'ERROR', true],
    ['no error', [[2]]],
  ]);
});

test.run();
