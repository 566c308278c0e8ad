import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
  VARCHAR,
} from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PgError } from '../../../../protocol/pg/PgError.js';
import { codecFor, decodeParam, duckTypeForOid, Oid } from '../../../../protocol/pg/types/index.js';
import { type OracleSettings, type PgOracle, startPgOracle } from './pgOracle.js';

// Parameter input as PostgreSQL reads it. For each case, `text` is what PostgreSQL 15 prints after
// reading `input` as `pg` (SELECT $1::pg), and `binary` its send format of that value; the oracle tests
// at the end re-check both, and the errors, against a live PostgreSQL. Mallard must read the same
// input into a DuckDB value of type `duck` that its codec then writes identically.

interface Case {
  readonly duck: string;
  readonly pg: string;
  readonly input: string;
  readonly settings?: OracleSettings;
  readonly text: string;
  readonly binary: string;
}

interface ErrorCase {
  readonly duck: string;
  readonly pg: string;
  readonly input: string;
  readonly settings?: OracleSettings;
  readonly code: string;
  readonly message: string;
}

const CASES: readonly Case[] = [
  { duck: 'BOOLEAN', pg: 'bool', input: 't', text: 't', binary: '01' },
  { duck: 'BOOLEAN', pg: 'bool', input: 'TRUE', text: 't', binary: '01' },
  { duck: 'BOOLEAN', pg: 'bool', input: ' yes ', text: 't', binary: '01' },
  { duck: 'BOOLEAN', pg: 'bool', input: 'on', text: 't', binary: '01' },
  { duck: 'BOOLEAN', pg: 'bool', input: '1', text: 't', binary: '01' },
  { duck: 'BOOLEAN', pg: 'bool', input: 'f', text: 'f', binary: '00' },
  { duck: 'BOOLEAN', pg: 'bool', input: 'off', text: 'f', binary: '00' },
  { duck: 'BOOLEAN', pg: 'bool', input: 'No', text: 'f', binary: '00' },
  { duck: 'BOOLEAN', pg: 'bool', input: '0', text: 'f', binary: '00' },
  { duck: 'BOOLEAN', pg: 'bool', input: 'of', text: 'f', binary: '00' },
  { duck: 'BOOLEAN', pg: 'bool', input: 'tr', text: 't', binary: '01' },
  { duck: 'SMALLINT', pg: 'int2', input: '  -32768 ', text: '-32768', binary: '8000' },
  { duck: 'SMALLINT', pg: 'int2', input: '+5', text: '5', binary: '0005' },
  { duck: 'TINYINT', pg: 'int2', input: '-128', text: '-128', binary: 'ff80' },
  { duck: 'INTEGER', pg: 'int4', input: '2147483647', text: '2147483647', binary: '7fffffff' },
  { duck: 'INTEGER', pg: 'int4', input: '-0', text: '0', binary: '00000000' },
  { duck: 'USMALLINT', pg: 'int4', input: '65535', text: '65535', binary: '0000ffff' },
  {
    duck: 'BIGINT',
    pg: 'int8',
    input: '-9223372036854775808',
    text: '-9223372036854775808',
    binary: '8000000000000000',
  },
  { duck: 'UINTEGER', pg: 'oid', input: '4294967295', text: '4294967295', binary: 'ffffffff' },
  {
    duck: 'DECIMAL(10,2)',
    pg: 'numeric(10,2)',
    input: '1.005',
    text: '1.01',
    binary: '000200000000000200010064',
  },
  {
    duck: 'DECIMAL(10,2)',
    pg: 'numeric(10,2)',
    input: '-1.005',
    text: '-1.01',
    binary: '000200004000000200010064',
  },
  {
    duck: 'DECIMAL(10,2)',
    pg: 'numeric(10,2)',
    input: '1e2',
    text: '100.00',
    binary: '00010000000000020064',
  },
  { duck: 'DECIMAL(10,2)', pg: 'numeric(10,2)', input: ' .5 ', text: '0.50', binary: '0001ffff000000021388' },
  {
    duck: 'DECIMAL(10,2)',
    pg: 'numeric(10,2)',
    input: '12345678.994',
    text: '12345678.99',
    binary: '000300010000000204d2162e26ac',
  },
  {
    duck: 'DECIMAL(4,4)',
    pg: 'numeric(4,4)',
    input: '-0.00005',
    text: '-0.0001',
    binary: '0001ffff400000040001',
  },
  {
    duck: 'DECIMAL(38,10)',
    pg: 'numeric(38,10)',
    input: '1234567890123456789012345678.0123456789',
    text: '1234567890123456789012345678.0123456789',
    binary: '000a00060000000a04d2162e23340d801ed204d2162e007b11d722c4',
  },
  {
    duck: 'DECIMAL(18,3)',
    pg: 'numeric(18,3)',
    input: '-5E-3',
    text: '-0.005',
    binary: '0001ffff400000030032',
  },
  {
    duck: 'HUGEINT',
    pg: 'numeric(39,0)',
    input: '170141183460469231731687303715884105727',
    text: '170141183460469231731687303715884105727',
    binary: '000a00090000000000aa0583209a01d5090d0c601c871bf620da165f',
  },
  { duck: 'HUGEINT', pg: 'numeric(39,0)', input: '1.5', text: '2', binary: '00010000000000000002' },
  { duck: 'HUGEINT', pg: 'numeric(39,0)', input: '-2.5', text: '-3', binary: '00010000400000000003' },
  {
    duck: 'UBIGINT',
    pg: 'numeric(20,0)',
    input: '18446744073709551615',
    text: '18446744073709551615',
    binary: '000500040000000007341a5802e103bb064f',
  },
  { duck: 'FLOAT', pg: 'float4', input: '0.1', text: '0.1', binary: '3dcccccd' },
  { duck: 'FLOAT', pg: 'float4', input: '1e-45', text: '1e-45', binary: '00000001' },
  { duck: 'FLOAT', pg: 'float4', input: 'inf', text: 'Infinity', binary: '7f800000' },
  { duck: 'FLOAT', pg: 'float4', input: '-Infinity', text: '-Infinity', binary: 'ff800000' },
  { duck: 'FLOAT', pg: 'float4', input: 'NaN', text: 'NaN', binary: '7fc00000' },
  { duck: 'FLOAT', pg: 'float4', input: ' 3.4e38 ', text: '3.4e+38', binary: '7f7fc99e' },
  { duck: 'DOUBLE', pg: 'float8', input: '1e308', text: '1e+308', binary: '7fe1ccf385ebc8a0' },
  { duck: 'DOUBLE', pg: 'float8', input: '-0', text: '-0', binary: '8000000000000000' },
  { duck: 'DOUBLE', pg: 'float8', input: '.5', text: '0.5', binary: '3fe0000000000000' },
  { duck: 'DOUBLE', pg: 'float8', input: '5.', text: '5', binary: '4014000000000000' },
  { duck: 'DOUBLE', pg: 'float8', input: '1E+2', text: '100', binary: '4059000000000000' },
  { duck: 'DOUBLE', pg: 'float8', input: 'infinity', text: 'Infinity', binary: '7ff0000000000000' },
  { duck: 'DOUBLE', pg: 'float8', input: '4.9e-324', text: '5e-324', binary: '0000000000000001' },
  {
    duck: 'VARCHAR',
    pg: 'text',
    input: 'héllo ✓ 😀',
    text: 'héllo ✓ 😀',
    binary: '68c3a96c6c6f20e29c9320f09f9880',
  },
  { duck: 'VARCHAR', pg: 'text', input: '', text: '', binary: '' },
  { duck: 'VARCHAR', pg: 'text', input: ' padded ', text: ' padded ', binary: '2070616464656420' },
  { duck: 'JSON', pg: 'json', input: '{"a":[1,2]}', text: '{"a":[1,2]}', binary: '7b2261223a5b312c325d7d' },
  { duck: 'JSON', pg: 'json', input: ' [1, 2] ', text: ' [1, 2] ', binary: '205b312c20325d20' },
  { duck: 'BLOB', pg: 'bytea', input: '\\x00ff', text: '\\x00ff', binary: '00ff' },
  { duck: 'BLOB', pg: 'bytea', input: '\\xDE AD be ef', text: '\\xdeadbeef', binary: 'deadbeef' },
  {
    duck: 'BLOB',
    pg: 'bytea',
    input: 'abc\\\\def\\001',
    text: '\\x6162635c64656601',
    binary: '6162635c64656601',
  },
  { duck: 'BLOB', pg: 'bytea', input: 'plain', text: '\\x706c61696e', binary: '706c61696e' },
  { duck: 'BLOB', pg: 'bytea', input: '', text: '\\x', binary: '' },
  { duck: 'DATE', pg: 'date', input: '2020-01-02', text: '2020-01-02', binary: '00001c8a' },
  { duck: 'DATE', pg: 'date', input: '01/02/2020', text: '2020-01-02', binary: '00001c8a' },
  { duck: 'DATE', pg: 'date', input: '20200102', text: '2020-01-02', binary: '00001c8a' },
  { duck: 'DATE', pg: 'date', input: '2020-01-02 BC', text: '2020-01-02 BC', binary: 'ffe999fc' },
  { duck: 'DATE', pg: 'date', input: ' 0044-03-15 BC', text: '0044-03-15 BC', binary: 'fff49d7b' },
  { duck: 'DATE', pg: 'date', input: 'infinity', text: 'infinity', binary: '7fffffff' },
  { duck: 'DATE', pg: 'date', input: '-infinity', text: '-infinity', binary: '80000000' },
  { duck: 'DATE', pg: 'date', input: 'epoch', text: '1970-01-01', binary: 'ffffd533' },
  { duck: 'DATE', pg: 'date', input: '2020-01-02 12:34:56', text: '2020-01-02', binary: '00001c8a' },
  { duck: 'DATE', pg: 'date', input: '1-2-3', text: '2003-01-02', binary: '00000449' },
  { duck: 'DATE', pg: 'date', input: '2020-1-2', text: '2020-01-02', binary: '00001c8a' },
  { duck: 'DATE', pg: 'date', input: '4714-11-24 BC', text: '4714-11-24 BC', binary: 'ffda97a7' },
  { duck: 'DATE', pg: 'date', input: '2000-02-29', text: '2000-02-29', binary: '0000003b' },
  { duck: 'TIME', pg: 'time', input: '12:34', text: '12:34:00', binary: '0000000a88839e00' },
  {
    duck: 'TIME',
    pg: 'time',
    input: '12:34:56.7891234',
    text: '12:34:56.789123',
    binary: '0000000a8be62683',
  },
  { duck: 'TIME', pg: 'time', input: '24:00', text: '24:00:00', binary: '000000141dd76000' },
  { duck: 'TIME', pg: 'time', input: '04:05 PM', text: '16:05:00', binary: '0000000d7b1be300' },
  { duck: 'TIME', pg: 'time', input: '12:00 AM', text: '00:00:00', binary: '0000000000000000' },
  { duck: 'TIME', pg: 'time', input: 'allballs', text: '00:00:00', binary: '0000000000000000' },
  { duck: 'TIME', pg: 'time', input: '23:59:60', text: '24:00:00', binary: '000000141dd76000' },
  { duck: 'TIME', pg: 'time', input: '12:00:00+05', text: '12:00:00', binary: '0000000a0eebb000' },
  { duck: 'TIME', pg: 'time', input: '00:00:00.0000005', text: '00:00:00', binary: '0000000000000000' },
  {
    duck: 'TIME',
    pg: 'time',
    input: '00:00:00.0000015',
    text: '00:00:00.000002',
    binary: '0000000000000002',
  },
  {
    duck: 'TIMETZ',
    pg: 'timetz',
    input: '12:34:56+05:30',
    text: '12:34:56+05:30',
    binary: '0000000a8bda1c00ffffb2a8',
  },
  {
    duck: 'TIMETZ',
    pg: 'timetz',
    input: '12:00-08',
    text: '12:00:00-08',
    binary: '0000000a0eebb00000007080',
  },
  {
    duck: 'TIMETZ',
    pg: 'timetz',
    input: '12:00:00.5Z',
    text: '12:00:00.5+00',
    binary: '0000000a0ef3512000000000',
  },
  {
    duck: 'TIMETZ',
    pg: 'timetz',
    input: '01:02:03-0330',
    text: '01:02:03-03:30',
    binary: '00000000dde878c000003138',
  },
  {
    duck: 'TIMESTAMP',
    pg: 'timestamp',
    input: '2020-01-02 03:04:05.123456',
    text: '2020-01-02 03:04:05.123456',
    binary: '00023e1e36f0f580',
  },
  {
    duck: 'TIMESTAMP',
    pg: 'timestamp',
    input: '2020-01-02T03:04:05Z',
    text: '2020-01-02 03:04:05',
    binary: '00023e1e36ef1340',
  },
  {
    duck: 'TIMESTAMP',
    pg: 'timestamp',
    input: '2020-01-02 03:04:05+05:30',
    text: '2020-01-02 03:04:05',
    binary: '00023e1e36ef1340',
  },
  {
    duck: 'TIMESTAMP',
    pg: 'timestamp',
    input: '0044-03-15 12:00:00 BC',
    text: '0044-03-15 12:00:00 BC',
    binary: 'ff1af9e8fb46d000',
  },
  { duck: 'TIMESTAMP', pg: 'timestamp', input: 'infinity', text: 'infinity', binary: '7fffffffffffffff' },
  {
    duck: 'TIMESTAMP',
    pg: 'timestamp',
    input: '2020-01-02',
    text: '2020-01-02 00:00:00',
    binary: '00023e1ba499c000',
  },
  {
    duck: 'TIMESTAMP',
    pg: 'timestamp',
    input: '1999-12-31 23:59:59.9999995',
    text: '2000-01-01 00:00:00',
    binary: '0000000000000000',
  },
  {
    duck: 'TIMESTAMP',
    pg: 'timestamp',
    input: 'epoch',
    text: '1970-01-01 00:00:00',
    binary: 'fffca2fec4c82000',
  },
  {
    duck: 'TIMESTAMP',
    pg: 'timestamp',
    input: '2020-01-02 04:05:06 PM',
    text: '2020-01-02 16:05:06',
    binary: '00023e2920113080',
  },
  {
    duck: 'TIMESTAMP_S',
    pg: 'timestamp(0)',
    input: '2020-01-02 03:04:05',
    text: '2020-01-02 03:04:05',
    binary: '00023e1e36ef1340',
  },
  {
    duck: 'TIMESTAMP_MS',
    pg: 'timestamp(3)',
    input: '2020-01-02 03:04:05.678',
    text: '2020-01-02 03:04:05.678',
    binary: '00023e1e36f96bb0',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: '2021-03-14 02:30:00',
    settings: { timeZone: 'America/New_York' },
    text: '2021-03-14 03:30:00-04',
    binary: '00026078de93ee00',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: '2021-11-07 01:30:00',
    settings: { timeZone: 'America/New_York' },
    text: '2021-11-07 01:30:00-05',
    binary: '0002732bc63b8a00',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: '2020-06-01 12:00:00',
    settings: { timeZone: 'America/New_York' },
    text: '2020-06-01 12:00:00-04',
    binary: '00024a06a7dda000',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: '2020-06-01 12:00:00+02',
    settings: { timeZone: 'America/New_York' },
    text: '2020-06-01 06:00:00-04',
    binary: '00024a01a067c800',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: '2020-06-01 12:00:00 UTC',
    settings: { timeZone: 'America/New_York' },
    text: '2020-06-01 08:00:00-04',
    binary: '00024a034d8f1000',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: '2020-06-01T12:00:00Z',
    settings: { timeZone: 'America/New_York' },
    text: '2020-06-01 08:00:00-04',
    binary: '00024a034d8f1000',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: '2020-06-01 12:00:00 Asia/Kolkata',
    settings: { timeZone: 'America/New_York' },
    text: '2020-06-01 02:30:00-04',
    binary: '000249feb1630a00',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: '2020-06-01 12:00:00 EST',
    settings: { timeZone: 'America/New_York' },
    text: '2020-06-01 13:00:00-04',
    binary: '00024a077e714400',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: 'infinity',
    settings: { timeZone: 'America/New_York' },
    text: 'infinity',
    binary: '7fffffffffffffff',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: '1800-01-01 00:00:00',
    settings: { timeZone: 'America/New_York' },
    text: '1800-01-01 00:00:00-04:56:02',
    binary: 'ffe993e11ac99c80',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: '2020-06-01 12:00:00-0330',
    settings: { timeZone: 'America/New_York' },
    text: '2020-06-01 11:30:00-04',
    binary: '00024a063c93ce00',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: '2020-01-01 00:00:00',
    settings: { timeZone: 'Asia/Kolkata' },
    text: '2020-01-01 00:00:00+05:30',
    binary: '00023e02ea965a00',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: '2020-01-01 00:00:00',
    settings: { timeZone: '+02:00' },
    text: '2020-01-01 00:00:00-02',
    binary: '00023e0933e9a800',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: '2020-06-01',
    settings: { timeZone: 'America/New_York' },
    text: '2020-06-01 00:00:00-04',
    binary: '000249fc98f1f000',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: '0044-03-15 12:00:00 BC',
    settings: { timeZone: 'America/New_York' },
    text: '0044-03-15 12:00:00-04:56:02 BC',
    binary: 'ff1af9ed1df96c80',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '1 year 2 mons 3 days 04:05:06.789',
    text: '1 year 2 mons 3 days 04:05:06.789',
    binary: '000000036c97ca88000000030000000e',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '-1 days +02:00:00',
    text: '-1 days +02:00:00',
    binary: '00000001ad274800ffffffff00000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '@ 1 day ago',
    text: '-1 days',
    binary: '0000000000000000ffffffff00000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '1.5 years',
    text: '1 year 6 mons',
    binary: '00000000000000000000000000000012',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '1.5 months',
    text: '1 mon 15 days',
    binary: '00000000000000000000000f00000001',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '1.5 days',
    text: '1 day 12:00:00',
    binary: '0000000a0eebb0000000000100000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: 'P1Y2M3DT4H5M6.5S',
    text: '1 year 2 mons 3 days 04:05:06.5',
    binary: '000000036c9361a0000000030000000e',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: 'P1W',
    text: '7 days',
    binary: '00000000000000000000000700000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '1-2',
    text: '1 year 2 mons',
    binary: '0000000000000000000000000000000e',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '3 4:05:06',
    text: '3 days 04:05:06',
    binary: '000000036c8bc0800000000300000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '1:30',
    text: '01:30:00',
    binary: '0000000141dd76000000000000000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '10',
    text: '00:00:10',
    binary: '00000000009896800000000000000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '-1 day -02:00',
    text: '-1 days -02:00:00',
    binary: 'fffffffe52d8b800ffffffff00000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '0.5 weeks',
    text: '3 days 12:00:00',
    binary: '0000000a0eebb0000000000300000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '1 mon 1.5 hours',
    text: '1 mon 01:30:00',
    binary: '0000000141dd76000000000000000001',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: 'P0001-02-03T04:05:06',
    text: '1 year 2 mons 3 days 04:05:06',
    binary: '000000036c8bc080000000030000000e',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '1 day 2',
    text: '1 day 00:00:02',
    binary: '00000000001e84800000000100000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '2 hours 30 minutes',
    text: '02:30:00',
    binary: '0000000218711a000000000000000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '1 millisecond',
    text: '00:00:00.001',
    binary: '00000000000003e80000000000000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '100 microseconds',
    text: '00:00:00.0001',
    binary: '00000000000000640000000000000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '1 decade',
    text: '10 years',
    binary: '00000000000000000000000000000078',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '1 century',
    text: '100 years',
    binary: '000000000000000000000000000004b0',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: 'PT1.5S',
    text: '00:00:01.5',
    binary: '000000000016e3600000000000000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '00:00:00.0000015',
    text: '00:00:00.000002',
    binary: '00000000000000020000000000000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '1 year -1 month',
    text: '11 mons',
    binary: '0000000000000000000000000000000b',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '-1.5 hours',
    text: '-01:30:00',
    binary: 'fffffffebe228a000000000000000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '1 week ago',
    text: '-7 days',
    binary: '0000000000000000fffffff900000000',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '5 secs',
    text: '00:00:05',
    binary: '00000000004c4b400000000000000000',
  },
  {
    duck: 'UUID',
    pg: 'uuid',
    input: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
    text: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    binary: 'a0eebc999c0b4ef8bb6d6bb9bd380a11',
  },
  {
    duck: 'UUID',
    pg: 'uuid',
    input: '{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}',
    text: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    binary: 'a0eebc999c0b4ef8bb6d6bb9bd380a11',
  },
  {
    duck: 'UUID',
    pg: 'uuid',
    input: 'a0eebc999c0b4ef8bb6d6bb9bd380a11',
    text: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    binary: 'a0eebc999c0b4ef8bb6d6bb9bd380a11',
  },
  { duck: 'BIT', pg: 'varbit', input: '1010', text: '1010', binary: '00000004a0' },
  { duck: 'BIT', pg: 'varbit', input: 'b101', text: '101', binary: '00000003a0' },
  { duck: 'BIT', pg: 'varbit', input: 'X1F', text: '00011111', binary: '000000081f' },
  { duck: 'BIT', pg: 'varbit', input: '', text: '', binary: '00000000' },
  {
    duck: 'INTEGER[]',
    pg: 'int4[]',
    input: '{1,2,NULL}',
    text: '{1,2,NULL}',
    binary: '000000010000000100000017000000030000000100000004000000010000000400000002ffffffff',
  },
  { duck: 'INTEGER[]', pg: 'int4[]', input: '{}', text: '{}', binary: '000000000000000000000017' },
  {
    duck: 'INTEGER[]',
    pg: 'int4[]',
    input: ' { 1 , 2 } ',
    text: '{1,2}',
    binary: '000000010000000000000017000000020000000100000004000000010000000400000002',
  },
  {
    duck: 'INTEGER[][]',
    pg: 'int4[]',
    input: '{{1,2},{3,4}}',
    text: '{{1,2},{3,4}}',
    binary:
      '000000020000000000000017000000020000000100000002000000010000000400000001000000040000000200000004000000030000000400000004',
  },
  {
    duck: 'INTEGER[]',
    pg: 'int4[]',
    input: '[1:3]={1,2,3}',
    text: '{1,2,3}',
    binary: '0000000100000000000000170000000300000001000000040000000100000004000000020000000400000003',
  },
  {
    duck: 'VARCHAR[]',
    pg: 'text[]',
    input: '{a,"b c",NULL,"NULL","",\\,,"x\\"y", z z }',
    text: '{a,"b c",NULL,"NULL","",",","x\\"y","z z"}',
    binary:
      '0000000100000001000000190000000800000001000000016100000003622063ffffffff000000044e554c4c00000000000000012c00000003782279000000037a207a',
  },
  {
    duck: 'VARCHAR[]',
    pg: 'text[]',
    input: '{"{}","a,b",null,NuLL}',
    text: '{"{}","a,b",NULL,NULL}',
    binary: '0000000100000001000000190000000400000001000000027b7d00000003612c62ffffffffffffffff',
  },
  {
    duck: 'DOUBLE[]',
    pg: 'float8[]',
    input: '{0.1,NaN,-Infinity}',
    text: '{0.1,NaN,-Infinity}',
    binary:
      '0000000100000000000002bd0000000300000001000000083fb999999999999a000000087ff800000000000000000008fff0000000000000',
  },
  {
    duck: 'TIMESTAMP[]',
    pg: 'timestamp[]',
    input: '{"2020-01-01 00:00:00",NULL}',
    text: '{"2020-01-01 00:00:00",NULL}',
    binary: '00000001000000010000045a00000002000000010000000800023e0786c26000ffffffff',
  },
  {
    duck: 'BLOB[]',
    pg: 'bytea[]',
    input: '{"\\\\x00ff",abc}',
    text: '{"\\\\x00ff","\\\\x616263"}',
    binary: '00000001000000000000001100000002000000010000000200ff00000003616263',
  },
  {
    duck: 'DATE[]',
    pg: 'date[]',
    input: '{2020-01-02,infinity}',
    text: '{2020-01-02,infinity}',
    binary: '00000001000000000000043a00000002000000010000000400001c8a000000047fffffff',
  },
  {
    duck: 'BOOLEAN[]',
    pg: 'bool[]',
    input: '{t,false,yes}',
    text: '{t,f,t}',
    binary: '0000000100000000000000100000000300000001000000010100000001000000000101',
  },
  {
    duck: 'DECIMAL(4,2)[]',
    pg: 'numeric(4,2)[]',
    input: '{1.5,-2}',
    text: '{1.50,-2.00}',
    binary:
      '0000000100000000000006a400000002000000010000000c0002000000000002000113880000000a00010000400000020002',
  },
  {
    duck: 'UUID[]',
    pg: 'uuid[]',
    input: '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}',
    text: '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}',
    binary: '000000010000000000000b86000000010000000100000010a0eebc999c0b4ef8bb6d6bb9bd380a11',
  },
  {
    duck: 'INTERVAL[]',
    pg: 'interval[]',
    input: '{"1 day","-00:00:01"}',
    text: '{"1 day",-00:00:01}',
    binary:
      '0000000100000000000004a20000000200000001000000100000000000000000000000010000000000000010fffffffffff0bdc00000000000000000',
  },
];

const ERRORS: readonly ErrorCase[] = [
  {
    duck: 'INTEGER',
    pg: 'int4',
    input: 'abc',
    code: '22P02',
    message: 'invalid input syntax for type integer: "abc"',
  },
  {
    duck: 'INTEGER',
    pg: 'int4',
    input: '99999999999',
    code: '22003',
    message: 'value "99999999999" is out of range for type integer',
  },
  {
    duck: 'SMALLINT',
    pg: 'int2',
    input: '40000',
    code: '22003',
    message: 'value "40000" is out of range for type smallint',
  },
  {
    duck: 'BIGINT',
    pg: 'int8',
    input: '1.5',
    code: '22P02',
    message: 'invalid input syntax for type bigint: "1.5"',
  },
  {
    duck: 'INTEGER',
    pg: 'int4',
    input: '',
    code: '22P02',
    message: 'invalid input syntax for type integer: ""',
  },
  {
    duck: 'INTEGER',
    pg: 'int4',
    input: ' - 1',
    code: '22P02',
    message: 'invalid input syntax for type integer: " - 1"',
  },
  {
    duck: 'BOOLEAN',
    pg: 'bool',
    input: 'maybe',
    code: '22P02',
    message: 'invalid input syntax for type boolean: "maybe"',
  },
  {
    duck: 'BOOLEAN',
    pg: 'bool',
    input: 'o',
    code: '22P02',
    message: 'invalid input syntax for type boolean: "o"',
  },
  {
    duck: 'DOUBLE',
    pg: 'float8',
    input: '1e400',
    code: '22003',
    message: '"1e400" is out of range for type double precision',
  },
  {
    duck: 'DOUBLE',
    pg: 'float8',
    input: '1e-400',
    code: '22003',
    message: '"1e-400" is out of range for type double precision',
  },
  {
    duck: 'FLOAT',
    pg: 'float4',
    input: '1e40',
    code: '22003',
    message: '"1e40" is out of range for type real',
  },
  {
    duck: 'DOUBLE',
    pg: 'float8',
    input: 'abc',
    code: '22P02',
    message: 'invalid input syntax for type double precision: "abc"',
  },
  {
    duck: 'FLOAT',
    pg: 'float4',
    input: '1.2.3',
    code: '22P02',
    message: 'invalid input syntax for type real: "1.2.3"',
  },
  {
    duck: 'DECIMAL(5,2)',
    pg: 'numeric(5,2)',
    input: '12345.678',
    code: '22003',
    message: 'numeric field overflow',
  },
  {
    duck: 'DECIMAL(10,2)',
    pg: 'numeric(10,2)',
    input: 'Infinity',
    code: '22003',
    message: 'numeric field overflow',
  },
  {
    duck: 'DECIMAL(10,2)',
    pg: 'numeric(10,2)',
    input: 'x',
    code: '22P02',
    message: 'invalid input syntax for type numeric: "x"',
  },
  { duck: 'DECIMAL(4,4)', pg: 'numeric(4,4)', input: '1', code: '22003', message: 'numeric field overflow' },
  { duck: 'DATE', pg: 'date', input: 'x', code: '22007', message: 'invalid input syntax for type date: "x"' },
  {
    duck: 'DATE',
    pg: 'date',
    input: '2020-13-01',
    code: '22008',
    message: 'date/time field value out of range: "2020-13-01"',
  },
  {
    duck: 'DATE',
    pg: 'date',
    input: '2020-02-30',
    code: '22008',
    message: 'date/time field value out of range: "2020-02-30"',
  },
  {
    duck: 'DATE',
    pg: 'date',
    input: '0000-01-01',
    code: '22008',
    message: 'date/time field value out of range: "0000-01-01"',
  },
  {
    duck: 'DATE',
    pg: 'date',
    input: '4714-11-23 BC',
    code: '22008',
    message: 'date out of range: "4714-11-23 BC"',
  },
  {
    duck: 'TIME',
    pg: 'time',
    input: '25:00:00',
    code: '22008',
    message: 'date/time field value out of range: "25:00:00"',
  },
  { duck: 'TIME', pg: 'time', input: 'x', code: '22007', message: 'invalid input syntax for type time: "x"' },
  {
    duck: 'TIME',
    pg: 'time',
    input: '12:60',
    code: '22008',
    message: 'date/time field value out of range: "12:60"',
  },
  {
    duck: 'TIMETZ',
    pg: 'timetz',
    input: 'x',
    code: '22007',
    message: 'invalid input syntax for type time with time zone: "x"',
  },
  {
    duck: 'TIMESTAMP',
    pg: 'timestamp',
    input: 'x',
    code: '22007',
    message: 'invalid input syntax for type timestamp: "x"',
  },
  {
    duck: 'TIMESTAMP',
    pg: 'timestamp',
    input: '294277-01-01',
    code: '22008',
    message: 'timestamp out of range: "294277-01-01"',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: 'x',
    code: '22007',
    message: 'invalid input syntax for type timestamp with time zone: "x"',
  },
  {
    duck: 'TIMESTAMPTZ',
    pg: 'timestamptz',
    input: '2020-01-01 00:00 Mars/Base',
    code: '22023',
    message: 'time zone "mars/base" not recognized',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: '1 fortnight',
    code: '22007',
    message: 'invalid input syntax for type interval: "1 fortnight"',
  },
  {
    duck: 'INTERVAL',
    pg: 'interval',
    input: 'x',
    code: '22007',
    message: 'invalid input syntax for type interval: "x"',
  },
  { duck: 'UUID', pg: 'uuid', input: 'x', code: '22P02', message: 'invalid input syntax for type uuid: "x"' },
  {
    duck: 'UUID',
    pg: 'uuid',
    input: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1',
    code: '22P02',
    message: 'invalid input syntax for type uuid: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1"',
  },
  {
    duck: 'UUID',
    pg: 'uuid',
    input: 'a0ee-bc99-9c0b-4ef8-bb6d-6bb9bd380a11-',
    code: '22P02',
    message: 'invalid input syntax for type uuid: "a0ee-bc99-9c0b-4ef8-bb6d-6bb9bd380a11-"',
  },
  { duck: 'BLOB', pg: 'bytea', input: '\\xzz', code: '22023', message: 'invalid hexadecimal digit: "z"' },
  {
    duck: 'BLOB',
    pg: 'bytea',
    input: '\\x1',
    code: '22023',
    message: 'invalid hexadecimal data: odd number of digits',
  },
  { duck: 'BLOB', pg: 'bytea', input: 'a\\q', code: '22P02', message: 'invalid input syntax for type bytea' },
  { duck: 'BLOB', pg: 'bytea', input: '\\xé0', code: '22023', message: 'invalid hexadecimal digit: "é"' },
  {
    duck: 'INTEGER[]',
    pg: 'int4[]',
    input: '{1,2',
    code: '22P02',
    message: 'malformed array literal: "{1,2"',
  },
  {
    duck: 'INTEGER[][]',
    pg: 'int4[]',
    input: '{{1,2},{3}}',
    code: '22P02',
    message: 'malformed array literal: "{{1,2},{3}}"',
  },
  {
    duck: 'INTEGER[]',
    pg: 'int4[]',
    input: '{1,,2}',
    code: '22P02',
    message: 'malformed array literal: "{1,,2}"',
  },
  { duck: 'INTEGER[]', pg: 'int4[]', input: '1,2', code: '22P02', message: 'malformed array literal: "1,2"' },
  {
    duck: 'INTEGER[]',
    pg: 'int4[]',
    input: '{1,abc}',
    code: '22P02',
    message: 'invalid input syntax for type integer: "abc"',
  },
  {
    duck: 'INTEGER[]',
    pg: 'int4[]',
    input: '{1,2}x',
    code: '22P02',
    message: 'malformed array literal: "{1,2}x"',
  },
  {
    duck: 'INTEGER[]',
    pg: 'int4[]',
    input: '[1:2]={1,2,3}',
    code: '22P02',
    message: 'malformed array literal: "[1:2]={1,2,3}"',
  },
  { duck: 'JSON', pg: 'json', input: '{"a":', code: '22P02', message: 'invalid input syntax for type json' },
  { duck: 'BIT', pg: 'varbit', input: '102', code: '22P02', message: '"2" is not a valid binary digit' },
  { duck: 'BIT', pg: 'varbit', input: 'xg', code: '22P02', message: '"g" is not a valid hexadecimal digit' },
];

let duck: DuckDBConnection;
let oracle: PgOracle | null = null;
let oracleProblem: string | null = null;
const types = new Map<string, DuckDBType>();

test.before(async () => {
  duck = await (await DuckDBInstance.create(':memory:')).connect();
  await duck.run(`CREATE TYPE mood AS ENUM ('sad', 'happy')`);
  const started = await startPgOracle();
  oracle = started.oracle;
  oracleProblem = started.problem;
});

test.after(async () => {
  await oracle?.close();
  duck?.closeSync();
});

async function duckType(sql: string): Promise<DuckDBType> {
  let type = types.get(sql);
  if (type === undefined) {
    type = (await duck.run(`SELECT NULL::${sql}`)).columnType(0);
    types.set(sql, type);
  }
  return type;
}

function zoneOf(settings?: OracleSettings): string {
  return settings?.timeZone ?? 'UTC';
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function errorOf(f: () => unknown): { code: string; message: string } | null {
  try {
    f();
    return null;
  } catch (e) {
    if (!(e instanceof PgError)) throw e;
    return { code: e.code, message: e.message };
  }
}

for (const c of CASES) {
  test(`${c.pg} text input ${JSON.stringify(c.input)} reads as PostgreSQL reads it`, async () => {
    const type = await duckType(c.duck);
    const codec = codecFor(type);
    const options = { timeZone: zoneOf(c.settings), extraFloatDigits: 1 };
    const value = decodeParam(type, 0, Buffer.from(c.input, 'utf8'), { timeZone: zoneOf(c.settings) });
    assert.is(codec.text(value, options), c.text, 'read as text');
    assert.is(hex(codec.binary(value, options)), c.binary, 'sent back in binary');
    const fromBinary = decodeParam(type, 1, Buffer.from(c.binary, 'hex'));
    assert.is(codec.text(fromBinary, options), c.text, 'read from binary');
  });
}

for (const c of ERRORS) {
  test(`${c.pg} text input ${JSON.stringify(c.input)} fails as in PostgreSQL`, async () => {
    const type = await duckType(c.duck);
    const error = errorOf(() =>
      decodeParam(type, 0, Buffer.from(c.input, 'utf8'), { timeZone: zoneOf(c.settings) }),
    );
    assert.equal(error, { code: c.code, message: c.message });
  });
}

test('interval overflow is 22008 (PostgreSQL says 22015, which the SQLSTATE registry lacks)', async () => {
  const error = errorOf(() =>
    decodeParam(duckTypeForOid(Oid.interval)!, 0, Buffer.from('99999999999999999 years')),
  );
  assert.equal(error, {
    code: '22008',
    message: 'interval field value out of range: "99999999999999999 years"',
  });
});

test('invalid UTF-8 and NUL are 22021 with the offending bytes, as PostgreSQL reports them', () => {
  const text = duckTypeForOid(Oid.text)!;
  assert.equal(
    errorOf(() => decodeParam(text, 0, Buffer.from([0x61, 0xc3, 0x28]))),
    {
      code: '22021',
      message: 'invalid byte sequence for encoding "UTF8": 0xc3 0x28',
    },
  );
  assert.equal(
    errorOf(() => decodeParam(text, 1, Buffer.from([0x61, 0x00]))),
    {
      code: '22021',
      message: 'invalid byte sequence for encoding "UTF8": 0x00',
    },
  );
  assert.equal(
    errorOf(() => decodeParam(text, 0, Buffer.from([0xe2, 0x82]))),
    {
      code: '22021',
      message: 'invalid byte sequence for encoding "UTF8": 0xe2 0x82',
    },
  );
});

test('binary input of the wrong size is 22P03 naming the parameter', () => {
  const int4 = duckTypeForOid(Oid.int4)!;
  const error = errorOf(() => decodeParam(int4, 1, Buffer.from([0, 0, 1]), { parameterNumber: 2 }));
  assert.equal(error, { code: '22P03', message: 'incorrect binary data format in bind parameter 2' });
  for (const oid of [
    Oid.bool,
    Oid.float8,
    Oid.date,
    Oid.timestamp,
    Oid.interval,
    Oid.uuid,
    Oid.numeric,
    Oid._int4,
  ]) {
    assert.is(
      errorOf(() => decodeParam(duckTypeForOid(oid)!, 1, Buffer.from([1, 2, 3])))?.code,
      '22P03',
      `oid ${oid}`,
    );
  }
});

test('integers arrive in whichever width the client sends', () => {
  const int8 = duckTypeForOid(Oid.int8)!;
  assert.is(decodeParam(int8, 1, Buffer.from('fffe', 'hex')), -2n);
  assert.is(decodeParam(int8, 1, Buffer.from('fffffffe', 'hex')), -2n);
  const int2 = duckTypeForOid(Oid.int2)!;
  assert.is(decodeParam(int2, 1, Buffer.from('0000000000000007', 'hex')), 7);
  assert.is(errorOf(() => decodeParam(int2, 1, Buffer.from('00010000', 'hex')))?.code, '22003');
});

test('json accepts jsonb’s binary format (version byte 1) and rejects malformed JSON', () => {
  const json = duckTypeForOid(Oid.jsonb)!;
  assert.is(decodeParam(json, 1, Buffer.from('\x01{"a": 1}')), '{"a": 1}');
  assert.is(decodeParam(json, 1, Buffer.from('{"a": 1}')), '{"a": 1}');
  assert.is(errorOf(() => decodeParam(json, 0, Buffer.from('{"a":')))?.code, '22P02');
});

test('DECIMAL cannot hold NaN: 0A000 with a hint', () => {
  const error = errorOf(() => decodeParam(duckTypeForOid(Oid.numeric)!, 0, Buffer.from('NaN')));
  assert.equal(error, { code: '0A000', message: 'DuckDB DECIMAL cannot hold NaN' });
});

test('an ENUM parameter must be one of its members', async () => {
  const mood = await duckType('mood');
  assert.is(decodeParam(mood, 0, Buffer.from('happy')), 'happy');
  assert.equal(
    errorOf(() => decodeParam(mood, 0, Buffer.from('meh'))),
    {
      code: '22P02',
      message: `invalid input value for enum ENUM('sad', 'happy'): "meh"`,
    },
  );
});

test('an array literal must have as many dimensions as the parameter’s list type', async () => {
  const error = errorOf(() => decodeParam(duckTypeForOid(Oid._int4)!, 0, Buffer.from('{{1,2},{3,4}}')));
  assert.equal(error, { code: '22P02', message: 'malformed array literal: "{{1,2},{3,4}}"' });
});

test('STRUCT, MAP and UNION parameters come back as DuckDB literal text', async () => {
  const struct = await duckType('STRUCT(a INTEGER, b VARCHAR)');
  assert.is(decodeParam(struct, 0, Buffer.from("{'a': 1, 'b': x}")), "{'a': 1, 'b': x}");
  assert.is(decodeParam(struct, 1, Buffer.from("{'a': 1, 'b': x}")), "{'a': 1, 'b': x}");
});

test('decoded values bind to DuckDB prepared statements of their type', async () => {
  const cases: [string, string, string][] = [
    ['BOOLEAN', 'yes', 'true'],
    ['TINYINT', '-7', '-7'],
    ['UINTEGER', '4294967295', '4294967295'],
    ['HUGEINT', '-170141183460469231731687303715884105727', '-170141183460469231731687303715884105727'],
    ['DECIMAL(10,2)', '1.005', '1.01'],
    ['FLOAT', '0.1', '0.1'],
    ['BLOB', '\\x00ff', '\\x00\\xFF'],
    ['DATE', '0044-03-15 BC', '0044-03-15 (BC)'],
    ['TIME', '24:00', '24:00:00'],
    ['TIME_NS', '12:00:00.123456', '12:00:00.123456'],
    ['TIMETZ', '12:00-08', '12:00:00-08'],
    ['TIMESTAMP', '2020-01-02 03:04:05.123456', '2020-01-02 03:04:05.123456'],
    ['TIMESTAMP_S', '2020-01-02 03:04:05.9', '2020-01-02 03:04:05'],
    ['TIMESTAMP_MS', '2020-01-02 03:04:05.123456', '2020-01-02 03:04:05.123'],
    ['TIMESTAMP_NS', '2020-01-02 03:04:05.123456', '2020-01-02 03:04:05.123456'],
    ['TIMESTAMPTZ', '2020-01-02 03:04:05+01', '2020-01-02 02:04:05+00'],
    ['INTERVAL', '1 year 2 mons -3 days 04:05:06', '1 year 2 months -3 days 04:05:06'],
    ['UUID', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
    ['BIT', '1010', '1010'],
    ['mood', 'sad', 'sad'],
    ['INTEGER[]', '{1,NULL,3}', '[1, NULL, 3]'],
    ['VARCHAR[][]', '{{a,"b c"},{NULL,d}}', '[[a, b c], [NULL, d]]'],
    ['INTEGER[2]', '{1,2}', '[1, 2]'],
  ];
  for (const [sqlType, input, expected] of cases) {
    const type = await duckType(sqlType);
    const value = decodeParam(type, 0, Buffer.from(input));
    const statement = await duck.prepare(`SELECT CAST($1::${sqlType} AS VARCHAR)`);
    statement.bind([value], [type]);
    const rows = (await statement.runAndReadAll()).getRows();
    assert.is(rows[0]![0], expected, `${sqlType} ${input}`);
  }
  // Types without a PostgreSQL counterpart come back as text that DuckDB casts when bound as VARCHAR.
  const statement = await duck.prepare('SELECT CAST($1::STRUCT(a INTEGER, b VARCHAR) AS VARCHAR)');
  const struct = decodeParam(
    await duckType('STRUCT(a INTEGER, b VARCHAR)'),
    0,
    Buffer.from("{'a': 1, 'b': x}"),
  );
  statement.bind([struct as DuckDBValue], [VARCHAR]);
  assert.is((await statement.runAndReadAll()).getRows()[0]![0], "{'a': 1, 'b': x}");
});

test('PostgreSQL 15 is available as the reference for the expected values', () => {
  if (oracle === null) assert.unreachable(oracleProblem ?? 'no oracle');
});

test('the expected values are PostgreSQL 15’s own', async () => {
  if (oracle === null) assert.unreachable(oracleProblem ?? 'no oracle');
  const mismatches: string[] = [];
  for (const c of CASES) {
    const text = (await oracle!.rows(`SELECT $1::${c.pg}`, [c.input], c.settings))[0]![0];
    const send = (
      await oracle!.rows(`SELECT typsend::regproc::text FROM pg_type WHERE oid = '${c.pg}'::regtype`)
    )[0]![0];
    const binary = (
      await oracle!.rows(`SELECT encode(${send}($1::${c.pg}), 'hex')`, [c.input], c.settings)
    )[0]![0];
    if (text !== c.text || binary !== c.binary)
      mismatches.push(`${c.pg} ${JSON.stringify(c.input)}: ${text} ${binary}`);
  }
  for (const c of ERRORS) {
    const error = await oracle!.error(`SELECT '${c.input.replaceAll("'", "''")}'::${c.pg}`, c.settings);
    if (error?.code !== c.code || error?.message !== c.message) {
      mismatches.push(`${c.pg} ${JSON.stringify(c.input)}: ${JSON.stringify(error)}`);
    }
  }
  assert.equal(mismatches, []);
});

test.run();
