import { type DuckDBConnection, DuckDBInstance, type DuckDBType } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PgError } from '../../../../protocol/pg/PgError.js';
import { codecFor, type EncodeOptions, pgTypeByOid } from '../../../../protocol/pg/types/index.js';
import { type OracleSettings, type PgOracle, startPgOracle } from './pgOracle.js';

// Every expected text and byte string below is PostgreSQL 15's own output for the `pg` expression
// (its type's output and send functions); the last tests re-check them against a live PostgreSQL.
// The `duck` expression is the same value computed by DuckDB, which the codec must render identically.

interface Case {
  readonly duck: string;
  readonly pg: string;
  readonly settings?: OracleSettings;
  readonly oid: number;
  readonly text: string;
  readonly binary: string;
}

const CASES: readonly Case[] = [
  { duck: 'true', pg: 'true', oid: 16, text: 't', binary: '01' },
  { duck: 'false', pg: 'false', oid: 16, text: 'f', binary: '00' },
  { duck: '(-32768)::SMALLINT', pg: '(-32768)::int2', oid: 21, text: '-32768', binary: '8000' },
  { duck: '0::SMALLINT', pg: '0::int2', oid: 21, text: '0', binary: '0000' },
  { duck: '(-128)::TINYINT', pg: '(-128)::int2', oid: 21, text: '-128', binary: 'ff80' },
  { duck: '255::UTINYINT', pg: '255::int2', oid: 21, text: '255', binary: '00ff' },
  {
    duck: '(-2147483648)::INTEGER',
    pg: '(-2147483648)::int4',
    oid: 23,
    text: '-2147483648',
    binary: '80000000',
  },
  { duck: '65535::USMALLINT', pg: '65535::int4', oid: 23, text: '65535', binary: '0000ffff' },
  {
    duck: '(-9223372036854775808)::BIGINT',
    pg: '(-9223372036854775808)::int8',
    oid: 20,
    text: '-9223372036854775808',
    binary: '8000000000000000',
  },
  {
    duck: '4294967295::UINTEGER',
    pg: '4294967295::oid',
    oid: 26,
    text: '4294967295',
    binary: 'ffffffff',
  },
  {
    duck: '18446744073709551615::UBIGINT',
    pg: '18446744073709551615::numeric',
    oid: 1700,
    text: '18446744073709551615',
    binary: '000500040000000007341a5802e103bb064f',
  },
  {
    duck: '(-170141183460469231731687303715884105727)::HUGEINT',
    pg: '(-170141183460469231731687303715884105727)::numeric',
    oid: 1700,
    text: '-170141183460469231731687303715884105727',
    binary: '000a00094000000000aa0583209a01d5090d0c601c871bf620da165f',
  },
  {
    duck: '340282366920938463463374607431768211455::UHUGEINT',
    pg: '340282366920938463463374607431768211455::numeric',
    oid: 1700,
    text: '340282366920938463463374607431768211455',
    binary: '000a00090000000001540b071a2403aa121a18c111ff10dd1aa505af',
  },
  {
    duck: "'-10000000000000000000000000000000000000000'::BIGNUM",
    pg: "'-10000000000000000000000000000000000000000'::numeric",
    oid: 1700,
    text: '-10000000000000000000000000000000000000000',
    binary: '0001000a400000000001',
  },
  {
    duck: '1.5::DECIMAL(10,2)',
    pg: '1.5::numeric(10,2)',
    oid: 1700,
    text: '1.50',
    binary: '000200000000000200011388',
  },
  {
    duck: '(-0.0001)::DECIMAL(4,4)',
    pg: '(-0.0001)::numeric(4,4)',
    oid: 1700,
    text: '-0.0001',
    binary: '0001ffff400000040001',
  },
  { duck: '0::DECIMAL(5,2)', pg: '0::numeric(5,2)', oid: 1700, text: '0.00', binary: '0000000000000002' },
  {
    duck: '123456.0001::DECIMAL(18,6)',
    pg: '123456.0001::numeric(18,6)',
    oid: 1700,
    text: '123456.000100',
    binary: '0003000100000006000c0d800001',
  },
  {
    duck: '100000000000000000000::DECIMAL(38,10)',
    pg: '1e20::numeric(38,10)',
    oid: 1700,
    text: '100000000000000000000.0000000000',
    binary: '000100050000000a0001',
  },
  {
    duck: '(-12345678901234567890.1234567891)::DECIMAL(38,10)',
    pg: '(-12345678901234567890.1234567891)::numeric(38,10)',
    oid: 1700,
    text: '-12345678901234567890.1234567891',
    binary: '000800044000000a04d2162e23340d801ed204d2162e238c',
  },
  {
    duck: '10000::DECIMAL(9,0)',
    pg: '10000::numeric(9,0)',
    oid: 1700,
    text: '10000',
    binary: '00010001000000000001',
  },
  { duck: '0.1::FLOAT', pg: '0.1::float4', oid: 700, text: '0.1', binary: '3dcccccd' },
  { duck: '1e6::FLOAT', pg: '1e6::float4', oid: 700, text: '1e+06', binary: '49742400' },
  { duck: '100000::FLOAT', pg: '100000::float4', oid: 700, text: '100000', binary: '47c35000' },
  { duck: '1.5e-7::FLOAT', pg: '1.5e-7::float4', oid: 700, text: '1.5e-07', binary: '34210fb0' },
  { duck: "'-0'::FLOAT", pg: "'-0'::float4", oid: 700, text: '-0', binary: '80000000' },
  { duck: "'nan'::FLOAT", pg: "'NaN'::float4", oid: 700, text: 'NaN', binary: '7fc00000' },
  { duck: "'inf'::FLOAT", pg: "'Infinity'::float4", oid: 700, text: 'Infinity', binary: '7f800000' },
  { duck: "'-inf'::FLOAT", pg: "'-Infinity'::float4", oid: 700, text: '-Infinity', binary: 'ff800000' },
  {
    duck: '3.4028235e38::FLOAT',
    pg: '3.4028235e38::float4',
    oid: 700,
    text: '3.4028235e+38',
    binary: '7f7fffff',
  },
  { duck: '1.4e-45::FLOAT', pg: "'1.4e-45'::float4", oid: 700, text: '1e-45', binary: '00000001' },
  { duck: '16777217::FLOAT', pg: '16777217::float4', oid: 700, text: '1.6777216e+07', binary: '4b800000' },
  { duck: '(-123.456)::FLOAT', pg: '(-123.456)::float4', oid: 700, text: '-123.456', binary: 'c2f6e979' },
  {
    duck: '0.1::FLOAT',
    pg: '0.1::float4',
    settings: { extraFloatDigits: 0 },
    oid: 700,
    text: '0.1',
    binary: '3dcccccd',
  },
  {
    duck: '1234567::FLOAT',
    pg: '1234567::float4',
    settings: { extraFloatDigits: 0 },
    oid: 700,
    text: '1.23457e+06',
    binary: '4996b438',
  },
  {
    duck: '(1.0/3)::FLOAT',
    pg: '(1.0/3)::float4',
    settings: { extraFloatDigits: -3 },
    oid: 700,
    text: '0.333',
    binary: '3eaaaaab',
  },
  { duck: '0.1::DOUBLE', pg: '0.1::float8', oid: 701, text: '0.1', binary: '3fb999999999999a' },
  { duck: '1e15::DOUBLE', pg: '1e15::float8', oid: 701, text: '1e+15', binary: '430c6bf526340000' },
  { duck: '1e14::DOUBLE', pg: '1e14::float8', oid: 701, text: '100000000000000', binary: '42d6bcc41e900000' },
  { duck: '0.0001::DOUBLE', pg: '0.0001::float8', oid: 701, text: '0.0001', binary: '3f1a36e2eb1c432d' },
  { duck: '0.00001::DOUBLE', pg: '0.00001::float8', oid: 701, text: '1e-05', binary: '3ee4f8b588e368f1' },
  {
    duck: '123456789012345680::DOUBLE',
    pg: '123456789012345680::float8',
    oid: 701,
    text: '1.2345678901234568e+17',
    binary: '437b69b4ba630f35',
  },
  { duck: '1e100::DOUBLE', pg: '1e100::float8', oid: 701, text: '1e+100', binary: '54b249ad2594c37d' },
  { duck: "'5e-324'::DOUBLE", pg: "'5e-324'::float8", oid: 701, text: '5e-324', binary: '0000000000000001' },
  {
    duck: '1.7976931348623157e308::DOUBLE',
    pg: '1.7976931348623157e308::float8',
    oid: 701,
    text: '1.7976931348623157e+308',
    binary: '7fefffffffffffff',
  },
  { duck: "'-0'::DOUBLE", pg: "'-0'::float8", oid: 701, text: '-0', binary: '8000000000000000' },
  { duck: "'nan'::DOUBLE", pg: "'NaN'::float8", oid: 701, text: 'NaN', binary: '7ff8000000000000' },
  {
    duck: "'-inf'::DOUBLE",
    pg: "'-Infinity'::float8",
    oid: 701,
    text: '-Infinity',
    binary: 'fff0000000000000',
  },
  {
    duck: '(1.0/3)::DOUBLE',
    pg: '(1.0/3)::float8',
    oid: 701,
    text: '0.3333333333333333',
    binary: '3fd5555555555555',
  },
  {
    duck: '(-1.5e-7)::DOUBLE',
    pg: '(-1.5e-7)::float8',
    oid: 701,
    text: '-1.5e-07',
    binary: 'be8421f5f40d8376',
  },
  {
    duck: '(1.0/3)::DOUBLE',
    pg: '(1.0/3)::float8',
    settings: { extraFloatDigits: 0 },
    oid: 701,
    text: '0.333333333333333',
    binary: '3fd5555555555555',
  },
  {
    duck: '1e15::DOUBLE',
    pg: '1e15::float8',
    settings: { extraFloatDigits: 0 },
    oid: 701,
    text: '1e+15',
    binary: '430c6bf526340000',
  },
  {
    duck: '0.1::DOUBLE',
    pg: '0.1::float8',
    settings: { extraFloatDigits: -3 },
    oid: 701,
    text: '0.1',
    binary: '3fb999999999999a',
  },
  {
    duck: '100::DOUBLE',
    pg: '100::float8',
    settings: { extraFloatDigits: 0 },
    oid: 701,
    text: '100',
    binary: '4059000000000000',
  },
  {
    duck: '55807310255803056::DOUBLE',
    pg: '55807310255803056::float8',
    oid: 701,
    text: '5.5807310255803056e+16',
    binary: '4368c88e7ef55956',
  },
  {
    duck: "'-1.2345e21'::DOUBLE",
    pg: "'-1.2345e21'::float8",
    oid: 701,
    text: '-1.2344999999999999e+21',
    binary: 'c450bb084255acee',
  },
  {
    duck: '1320940.25::FLOAT',
    pg: '1320940.25::float4',
    oid: 700,
    text: '1.3209402e+06',
    binary: '49a13f62',
  },
  {
    duck: '0.000244140625::FLOAT',
    pg: '0.000244140625::float4',
    oid: 700,
    text: '0.00024414062',
    binary: '39800000',
  },
  {
    duck: '0.25::DOUBLE',
    pg: '0.25::float8',
    settings: { extraFloatDigits: -15 },
    oid: 701,
    text: '0.2',
    binary: '3fd0000000000000',
  },
  {
    duck: "'2.384185791015625e-7'::DOUBLE",
    pg: "'2.384185791015625e-7'::float8",
    settings: { extraFloatDigits: 0 },
    oid: 701,
    text: '2.38418579101562e-07',
    binary: '3e90000000000000',
  },
  {
    duck: '87585435064895.25::DOUBLE',
    pg: '87585435064895.25::float8',
    settings: { extraFloatDigits: 0 },
    oid: 701,
    text: '87585435064895.2',
    binary: '42d3ea24afa68fd0',
  },
  { duck: "''", pg: "''::text", oid: 25, text: '', binary: '' },
  {
    duck: "'héllo wörld ✓ 😀'",
    pg: "'héllo wörld ✓ 😀'::text",
    oid: 25,
    text: 'héllo wörld ✓ 😀',
    binary: '68c3a96c6c6f2077c3b6726c6420e29c9320f09f9880',
  },
  { duck: "'tab\there'", pg: "E'tab\\there'::text", oid: 25, text: 'tab\there', binary: '7461620968657265' },
  {
    duck: '\'{"a": [1, 2]}\'::JSON',
    pg: '\'{"a": [1, 2]}\'::json',
    oid: 114,
    text: '{"a": [1, 2]}',
    binary: '7b2261223a205b312c20325d7d',
  },
  {
    duck: "'happy'::ENUM('sad', 'happy')",
    pg: "'happy'::text",
    oid: 25,
    text: 'happy',
    binary: '6861707079',
  },
  {
    duck: "'\\x00\\xFF\\x10a'::BLOB",
    pg: "'\\x00ff1061'::bytea",
    oid: 17,
    text: '\\x00ff1061',
    binary: '00ff1061',
  },
  { duck: "''::BLOB", pg: "''::bytea", oid: 17, text: '\\x', binary: '' },
  { duck: "DATE '2020-01-02'", pg: "DATE '2020-01-02'", oid: 1082, text: '2020-01-02', binary: '00001c8a' },
  {
    duck: "DATE '0044-03-15 (BC)'",
    pg: "DATE '0044-03-15 BC'",
    oid: 1082,
    text: '0044-03-15 BC',
    binary: 'fff49d7b',
  },
  { duck: "DATE '0001-01-01'", pg: "DATE '0001-01-01'", oid: 1082, text: '0001-01-01', binary: 'fff4dbf9' },
  {
    duck: "DATE '0001-12-31 (BC)'",
    pg: "DATE '0001-12-31 BC'",
    oid: 1082,
    text: '0001-12-31 BC',
    binary: 'fff4dbf8',
  },
  {
    duck: "DATE '12345-06-07'",
    pg: "DATE '12345-06-07'",
    oid: 1082,
    text: '12345-06-07',
    binary: '0039a81f',
  },
  { duck: "'infinity'::DATE", pg: "'infinity'::date", oid: 1082, text: 'infinity', binary: '7fffffff' },
  { duck: "'-infinity'::DATE", pg: "'-infinity'::date", oid: 1082, text: '-infinity', binary: '80000000' },
  { duck: "DATE '1970-01-01'", pg: "DATE '1970-01-01'", oid: 1082, text: '1970-01-01', binary: 'ffffd533' },
  { duck: "DATE '2000-01-01'", pg: "DATE '2000-01-01'", oid: 1082, text: '2000-01-01', binary: '00000000' },
  { duck: "DATE '1900-02-28'", pg: "DATE '1900-02-28'", oid: 1082, text: '1900-02-28', binary: 'ffff718e' },
  { duck: "DATE '2000-02-29'", pg: "DATE '2000-02-29'", oid: 1082, text: '2000-02-29', binary: '0000003b' },
  { duck: "TIME '00:00:00'", pg: "TIME '00:00:00'", oid: 1083, text: '00:00:00', binary: '0000000000000000' },
  {
    duck: "TIME '23:59:59.999999'",
    pg: "TIME '23:59:59.999999'",
    oid: 1083,
    text: '23:59:59.999999',
    binary: '000000141dd75fff',
  },
  { duck: "TIME '24:00:00'", pg: "TIME '24:00:00'", oid: 1083, text: '24:00:00', binary: '000000141dd76000' },
  {
    duck: "TIME '12:34:56.789'",
    pg: "TIME '12:34:56.789'",
    oid: 1083,
    text: '12:34:56.789',
    binary: '0000000a8be62608',
  },
  {
    duck: "TIME '00:00:00.000001'",
    pg: "TIME '00:00:00.000001'",
    oid: 1083,
    text: '00:00:00.000001',
    binary: '0000000000000001',
  },
  {
    duck: "'12:34:56.1234567'::TIME_NS",
    pg: "TIME '12:34:56.1234567'",
    oid: 1083,
    text: '12:34:56.123457',
    binary: '0000000a8bdbfe41',
  },
  {
    duck: "'12:34:56+05:30'::TIMETZ",
    pg: "'12:34:56+05:30'::timetz",
    oid: 1266,
    text: '12:34:56+05:30',
    binary: '0000000a8bda1c00ffffb2a8',
  },
  {
    duck: "'00:00:00-05:30:15'::TIMETZ",
    pg: "'00:00:00-05:30:15'::timetz",
    oid: 1266,
    text: '00:00:00-05:30:15',
    binary: '000000000000000000004d67',
  },
  {
    duck: "'23:59:59.5+00'::TIMETZ",
    pg: "'23:59:59.5+00'::timetz",
    oid: 1266,
    text: '23:59:59.5+00',
    binary: '000000141dcfbee000000000',
  },
  {
    duck: "'01:02:03-08'::TIMETZ",
    pg: "'01:02:03-08'::timetz",
    oid: 1266,
    text: '01:02:03-08',
    binary: '00000000dde878c000007080',
  },
  {
    duck: "TIMESTAMP '2020-01-02 03:04:05.123456'",
    pg: "TIMESTAMP '2020-01-02 03:04:05.123456'",
    oid: 1114,
    text: '2020-01-02 03:04:05.123456',
    binary: '00023e1e36f0f580',
  },
  {
    duck: "TIMESTAMP '0044-03-15 (BC) 12:00:00'",
    pg: "TIMESTAMP '0044-03-15 12:00:00 BC'",
    oid: 1114,
    text: '0044-03-15 12:00:00 BC',
    binary: 'ff1af9e8fb46d000',
  },
  {
    duck: "'infinity'::TIMESTAMP",
    pg: "'infinity'::timestamp",
    oid: 1114,
    text: 'infinity',
    binary: '7fffffffffffffff',
  },
  {
    duck: "'-infinity'::TIMESTAMP",
    pg: "'-infinity'::timestamp",
    oid: 1114,
    text: '-infinity',
    binary: '8000000000000000',
  },
  {
    duck: "TIMESTAMP '1999-12-31 23:59:59.999999'",
    pg: "TIMESTAMP '1999-12-31 23:59:59.999999'",
    oid: 1114,
    text: '1999-12-31 23:59:59.999999',
    binary: 'ffffffffffffffff',
  },
  {
    duck: "TIMESTAMP '1970-01-01 00:00:00'",
    pg: "TIMESTAMP '1970-01-01 00:00:00'",
    oid: 1114,
    text: '1970-01-01 00:00:00',
    binary: 'fffca2fec4c82000',
  },
  {
    duck: "TIMESTAMP '200000-01-01 00:00:00'",
    pg: "TIMESTAMP '200000-01-01 00:00:00'",
    oid: 1114,
    text: '200000-01-01 00:00:00',
    binary: '56b6565e4a80a000',
  },
  {
    duck: "TIMESTAMP '1600-02-29 23:59:59.5'",
    pg: "TIMESTAMP '1600-02-29 23:59:59.5'",
    oid: 1114,
    text: '1600-02-29 23:59:59.5',
    binary: 'ffd32c5cd0c97ee0',
  },
  {
    duck: "'2020-01-02 03:04:05'::TIMESTAMP_S",
    pg: "TIMESTAMP '2020-01-02 03:04:05'",
    oid: 1114,
    text: '2020-01-02 03:04:05',
    binary: '00023e1e36ef1340',
  },
  {
    duck: "'2020-01-02 03:04:05.678'::TIMESTAMP_MS",
    pg: "TIMESTAMP '2020-01-02 03:04:05.678'",
    oid: 1114,
    text: '2020-01-02 03:04:05.678',
    binary: '00023e1e36f96bb0',
  },
  {
    duck: "'2020-01-02 03:04:05.1234567'::TIMESTAMP_NS",
    pg: "TIMESTAMP '2020-01-02 03:04:05.123457'",
    oid: 1114,
    text: '2020-01-02 03:04:05.123457',
    binary: '00023e1e36f0f581',
  },
  {
    duck: "'1960-01-01 00:00:00.0000015'::TIMESTAMP_NS",
    pg: "TIMESTAMP '1960-01-01 00:00:00.000002'",
    oid: 1114,
    text: '1960-01-01 00:00:00.000002',
    binary: 'fffb83f0f27b4002',
  },
  {
    duck: "'infinity'::TIMESTAMP_MS",
    pg: "'infinity'::timestamp",
    oid: 1114,
    text: 'infinity',
    binary: '7fffffffffffffff',
  },
  {
    duck: "TIMESTAMPTZ '2020-01-02 03:04:05.5+00'",
    pg: "TIMESTAMPTZ '2020-01-02 03:04:05.5+00'",
    oid: 1184,
    text: '2020-01-02 03:04:05.5+00',
    binary: '00023e1e36f6b460',
  },
  {
    duck: "TIMESTAMPTZ '2021-03-14 06:59:59+00'",
    pg: "TIMESTAMPTZ '2021-03-14 06:59:59+00'",
    settings: { timeZone: 'America/New_York' },
    oid: 1184,
    text: '2021-03-14 01:59:59-05',
    binary: '00026078733ad9c0',
  },
  {
    duck: "TIMESTAMPTZ '2021-03-14 07:00:00+00'",
    pg: "TIMESTAMPTZ '2021-03-14 07:00:00+00'",
    settings: { timeZone: 'America/New_York' },
    oid: 1184,
    text: '2021-03-14 03:00:00-04',
    binary: '00026078734a1c00',
  },
  {
    duck: "TIMESTAMPTZ '2021-11-07 05:59:59+00'",
    pg: "TIMESTAMPTZ '2021-11-07 05:59:59+00'",
    settings: { timeZone: 'America/New_York' },
    oid: 1184,
    text: '2021-11-07 01:59:59-04',
    binary: '0002732b5ae275c0',
  },
  {
    duck: "TIMESTAMPTZ '2021-11-07 06:00:00+00'",
    pg: "TIMESTAMPTZ '2021-11-07 06:00:00+00'",
    settings: { timeZone: 'America/New_York' },
    oid: 1184,
    text: '2021-11-07 01:00:00-05',
    binary: '0002732b5af1b800',
  },
  {
    duck: "TIMESTAMPTZ '1800-01-01 00:00:00+00'",
    pg: "TIMESTAMPTZ '1800-01-01 00:00:00+00'",
    settings: { timeZone: 'America/New_York' },
    oid: 1184,
    text: '1799-12-31 19:03:58-04:56:02',
    binary: 'ffe993dcf8170000',
  },
  {
    duck: "TIMESTAMPTZ '0044-03-15 (BC) 12:00:00+00'",
    pg: "TIMESTAMPTZ '0044-03-15 12:00:00+00 BC'",
    settings: { timeZone: 'America/New_York' },
    oid: 1184,
    text: '0044-03-15 07:03:58-04:56:02 BC',
    binary: 'ff1af9e8fb46d000',
  },
  {
    duck: "TIMESTAMPTZ '2020-01-01 00:00:00+00'",
    pg: "TIMESTAMPTZ '2020-01-01 00:00:00+00'",
    settings: { timeZone: 'Asia/Kolkata' },
    oid: 1184,
    text: '2020-01-01 05:30:00+05:30',
    binary: '00023e0786c26000',
  },
  {
    duck: "TIMESTAMPTZ '1900-01-01 00:00:00+00'",
    pg: "TIMESTAMPTZ '1900-01-01 00:00:00+00'",
    settings: { timeZone: 'Asia/Kolkata' },
    oid: 1184,
    text: '1900-01-01 05:21:10+05:21:10',
    binary: 'fff4c9ee7c0b8000',
  },
  {
    duck: "TIMESTAMPTZ '1942-05-15 00:00:00+00'",
    pg: "TIMESTAMPTZ '1942-05-15 00:00:00+00'",
    settings: { timeZone: 'Asia/Kolkata' },
    oid: 1184,
    text: '1942-05-15 05:30:00+05:30',
    binary: 'fff989e240744000',
  },
  {
    duck: "TIMESTAMPTZ '2020-01-01 00:00:00+00'",
    pg: "TIMESTAMPTZ '2020-01-01 00:00:00+00'",
    settings: { timeZone: '+02:00' },
    oid: 1184,
    text: '2019-12-31 22:00:00-02',
    binary: '00023e0786c26000',
  },
  {
    duck: "TIMESTAMPTZ '2020-01-01 00:00:00+00'",
    pg: "TIMESTAMPTZ '2020-01-01 00:00:00+00'",
    settings: { timeZone: 'UTC+3' },
    oid: 1184,
    text: '2019-12-31 21:00:00-03',
    binary: '00023e0786c26000',
  },
  {
    duck: "TIMESTAMPTZ '2020-01-01 00:00:00+00'",
    pg: "TIMESTAMPTZ '2020-01-01 00:00:00+00'",
    settings: { timeZone: '<+02>-02' },
    oid: 1184,
    text: '2020-01-01 02:00:00+02',
    binary: '00023e0786c26000',
  },
  {
    duck: "TIMESTAMPTZ '2020-06-01 12:00:00+00'",
    pg: "TIMESTAMPTZ '2020-06-01 12:00:00+00'",
    settings: { timeZone: 'Europe/London' },
    oid: 1184,
    text: '2020-06-01 13:00:00+01',
    binary: '00024a034d8f1000',
  },
  {
    duck: "TIMESTAMPTZ '2020-06-01 12:00:00+00'",
    pg: "TIMESTAMPTZ '2020-06-01 12:00:00+00'",
    settings: { timeZone: 'Australia/Lord_Howe' },
    oid: 1184,
    text: '2020-06-01 22:30:00+10:30',
    binary: '00024a034d8f1000',
  },
  {
    duck: "'infinity'::TIMESTAMPTZ",
    pg: "'infinity'::timestamptz",
    settings: { timeZone: 'America/New_York' },
    oid: 1184,
    text: 'infinity',
    binary: '7fffffffffffffff',
  },
  {
    duck: "TIMESTAMPTZ '2200-07-01 00:00:00+00'",
    pg: "TIMESTAMPTZ '2200-07-01 00:00:00+00'",
    settings: { timeZone: 'America/New_York' },
    oid: 1184,
    text: '2200-06-30 20:00:00-04',
    binary: '00167a703f074000',
  },
  {
    duck: "INTERVAL '1 year 2 months 3 days 04:05:06.789'",
    pg: "INTERVAL '1 year 2 mons 3 days 04:05:06.789'",
    oid: 1186,
    text: '1 year 2 mons 3 days 04:05:06.789',
    binary: '000000036c97ca88000000030000000e',
  },
  {
    duck: "INTERVAL '-1 day' + INTERVAL '2 hours'",
    pg: "INTERVAL '-1 day +02:00:00'",
    oid: 1186,
    text: '-1 days +02:00:00',
    binary: '00000001ad274800ffffffff00000000',
  },
  {
    duck: "INTERVAL '-1 second'",
    pg: "INTERVAL '-00:00:01'",
    oid: 1186,
    text: '-00:00:01',
    binary: 'fffffffffff0bdc00000000000000000',
  },
  {
    duck: "INTERVAL '0 seconds'",
    pg: "INTERVAL '0'",
    oid: 1186,
    text: '00:00:00',
    binary: '00000000000000000000000000000000',
  },
  {
    duck: "INTERVAL '100 hours'",
    pg: "INTERVAL '100 hours'",
    oid: 1186,
    text: '100:00:00',
    binary: '00000053d1ac10000000000000000000',
  },
  {
    duck: "INTERVAL '-1 year'",
    pg: "INTERVAL '-1 year'",
    oid: 1186,
    text: '-1 years',
    binary: '000000000000000000000000fffffff4',
  },
  {
    duck: "INTERVAL '1 month' - INTERVAL '1 second'",
    pg: "INTERVAL '1 mon -00:00:01'",
    oid: 1186,
    text: '1 mon -00:00:01',
    binary: 'fffffffffff0bdc00000000000000001',
  },
  {
    duck: "INTERVAL '-0.5 seconds'",
    pg: "INTERVAL '-0.5 sec'",
    oid: 1186,
    text: '-00:00:00.5',
    binary: 'fffffffffff85ee00000000000000000',
  },
  {
    duck: "INTERVAL '-1 month' - INTERVAL '1 day' - INTERVAL '1 second'",
    pg: "INTERVAL '-1 mons -1 days -00:00:01'",
    oid: 1186,
    text: '-1 mons -1 days -00:00:01',
    binary: 'fffffffffff0bdc0ffffffffffffffff',
  },
  {
    duck: "INTERVAL '1 year' - INTERVAL '2 months'",
    pg: "INTERVAL '1 year -2 mons'",
    oid: 1186,
    text: '10 mons',
    binary: '0000000000000000000000000000000a',
  },
  {
    duck: 'to_months(-13) + to_days(5)',
    pg: "INTERVAL '-1 year -1 mon +5 days'",
    oid: 1186,
    text: '-1 years -1 mons +5 days',
    binary: '000000000000000000000005fffffff3',
  },
  {
    duck: 'to_microseconds(9223372036854775807)',
    pg: "INTERVAL '2562047788:00:54.775807'",
    oid: 1186,
    text: '2562047788:00:54.775807',
    binary: '7fffffffffffffff0000000000000000',
  },
  {
    duck: "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::UUID",
    pg: "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid",
    oid: 2950,
    text: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    binary: 'a0eebc999c0b4ef8bb6d6bb9bd380a11',
  },
  {
    duck: "'00000000-0000-0000-0000-000000000000'::UUID",
    pg: "'00000000-0000-0000-0000-000000000000'::uuid",
    oid: 2950,
    text: '00000000-0000-0000-0000-000000000000',
    binary: '00000000000000000000000000000000',
  },
  {
    duck: "'ffffffff-ffff-ffff-ffff-ffffffffffff'::UUID",
    pg: "'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid",
    oid: 2950,
    text: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
    binary: 'ffffffffffffffffffffffffffffffff',
  },
  { duck: "'1010'::BIT", pg: "B'1010'::varbit", oid: 1562, text: '1010', binary: '00000004a0' },
  {
    duck: "'111111111'::BIT",
    pg: "B'111111111'::varbit",
    oid: 1562,
    text: '111111111',
    binary: '00000009ff80',
  },
  { duck: "'0'::BIT", pg: "B'0'::varbit", oid: 1562, text: '0', binary: '0000000100' },
  {
    duck: '[1, 2, NULL]',
    pg: 'ARRAY[1, 2, NULL]::int4[]',
    oid: 1007,
    text: '{1,2,NULL}',
    binary: '000000010000000100000017000000030000000100000004000000010000000400000002ffffffff',
  },
  { duck: '[]::INTEGER[]', pg: "'{}'::int4[]", oid: 1007, text: '{}', binary: '000000000000000000000017' },
  {
    duck: "['a', 'b c', NULL, '', 'NULL', 'null', 'x\"y\\z', '{}', ',', ' lead', 'é', 'tab\tx']",
    pg: "ARRAY['a', 'b c', NULL, '', 'NULL', 'null', 'x\"y\\z', '{}', ',', ' lead', 'é', E'tab\\tx']::text[]",
    oid: 1009,
    text: '{a,"b c",NULL,"","NULL","null","x\\"y\\\\z","{}",","," lead",é,"tab\tx"}',
    binary:
      '0000000100000001000000190000000c00000001000000016100000003622063ffffffff00000000000000044e554c4c000000046e756c6c000000057822795c7a000000027b7d000000012c00000005206c65616400000002c3a9000000057461620978',
  },
  {
    duck: '[[1, 2], [3, 4]]',
    pg: 'ARRAY[[1, 2], [3, 4]]::int4[]',
    oid: 1007,
    text: '{{1,2},{3,4}}',
    binary:
      '000000020000000000000017000000020000000100000002000000010000000400000001000000040000000200000004000000030000000400000004',
  },
  {
    duck: '[[1, NULL]]::BIGINT[][]',
    pg: 'ARRAY[[1, NULL]]::int8[]',
    oid: 1016,
    text: '{{1,NULL}}',
    binary: '00000002000000010000001400000001000000010000000200000001000000080000000000000001ffffffff',
  },
  {
    duck: "[TIMESTAMP '2020-01-01 00:00:00', NULL]",
    pg: "ARRAY[TIMESTAMP '2020-01-01 00:00:00', NULL]",
    oid: 1115,
    text: '{"2020-01-01 00:00:00",NULL}',
    binary: '00000001000000010000045a00000002000000010000000800023e0786c26000ffffffff',
  },
  {
    duck: "[TIMESTAMPTZ '2021-03-14 07:00:00+00']",
    pg: "ARRAY[TIMESTAMPTZ '2021-03-14 07:00:00+00']",
    settings: { timeZone: 'America/New_York' },
    oid: 1185,
    text: '{"2021-03-14 03:00:00-04"}',
    binary: '0000000100000000000004a000000001000000010000000800026078734a1c00',
  },
  {
    duck: "['\\x00\\x5C'::BLOB]",
    pg: "ARRAY['\\x005c'::bytea]",
    oid: 1001,
    text: '{"\\\\x005c"}',
    binary: '000000010000000000000011000000010000000100000002005c',
  },
  {
    duck: "[0.1::DOUBLE, 'nan'::DOUBLE, '-inf'::DOUBLE, 1e100]",
    pg: "ARRAY[0.1, 'NaN', '-Infinity', 1e100]::float8[]",
    oid: 1022,
    text: '{0.1,NaN,-Infinity,1e+100}',
    binary:
      '0000000100000000000002bd0000000400000001000000083fb999999999999a000000087ff800000000000000000008fff00000000000000000000854b249ad2594c37d',
  },
  {
    duck: '[0.1::FLOAT, 1e6::FLOAT]',
    pg: 'ARRAY[0.1, 1e6]::float4[]',
    oid: 1021,
    text: '{0.1,1e+06}',
    binary: '0000000100000000000002bc0000000200000001000000043dcccccd0000000449742400',
  },
  {
    duck: '[1.5::DECIMAL(4,2), -2::DECIMAL(4,2)]',
    pg: 'ARRAY[1.5, -2]::numeric(4,2)[]',
    oid: 1231,
    text: '{1.50,-2.00}',
    binary:
      '0000000100000000000006a400000002000000010000000c0002000000000002000113880000000a00010000400000020002',
  },
  {
    duck: '[true, false, NULL]',
    pg: 'ARRAY[true, false, NULL]',
    oid: 1000,
    text: '{t,f,NULL}',
    binary: '000000010000000100000010000000030000000100000001010000000100ffffffff',
  },
  {
    duck: "[DATE '2020-01-02', DATE '0044-03-15 (BC)']",
    pg: "ARRAY[DATE '2020-01-02', DATE '0044-03-15 BC']",
    oid: 1182,
    text: '{2020-01-02,"0044-03-15 BC"}',
    binary: '00000001000000000000043a00000002000000010000000400001c8a00000004fff49d7b',
  },
  {
    duck: "[INTERVAL '1 day', INTERVAL '-1 second']",
    pg: "ARRAY[INTERVAL '1 day', INTERVAL '-00:00:01']",
    oid: 1187,
    text: '{"1 day",-00:00:01}',
    binary:
      '0000000100000000000004a20000000200000001000000100000000000000000000000010000000000000010fffffffffff0bdc00000000000000000',
  },
  {
    duck: "['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::UUID]",
    pg: "ARRAY['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid]",
    oid: 2951,
    text: '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}',
    binary: '000000010000000000000b86000000010000000100000010a0eebc999c0b4ef8bb6d6bb9bd380a11',
  },
  {
    duck: "['{\"a\": 1}'::JSON, '[]'::JSON]",
    pg: "ARRAY['{\"a\": 1}'::json, '[]'::json]",
    oid: 199,
    text: '{"{\\"a\\": 1}",[]}',
    binary: '0000000100000000000000720000000200000001000000087b2261223a20317d000000025b5d',
  },
  {
    duck: "[TIME '12:00:00', TIME '00:00:00.5']",
    pg: "ARRAY[TIME '12:00:00', TIME '00:00:00.5']",
    oid: 1183,
    text: '{12:00:00,00:00:00.5}',
    binary: '00000001000000000000043b0000000200000001000000080000000a0eebb00000000008000000000007a120',
  },
  {
    duck: "['12:00:00+05:30'::TIMETZ]",
    pg: "ARRAY['12:00:00+05:30'::timetz]",
    oid: 1270,
    text: '{12:00:00+05:30}',
    binary: '0000000100000000000004f200000001000000010000000c0000000a0eebb000ffffb2a8',
  },
  {
    duck: "['101'::BIT]",
    pg: "ARRAY[B'101'::varbit]",
    oid: 1563,
    text: '{101}',
    binary: '00000001000000000000061a00000001000000010000000500000003a0',
  },
  {
    duck: '[18446744073709551615::UBIGINT]',
    pg: 'ARRAY[18446744073709551615::numeric]',
    oid: 1231,
    text: '{18446744073709551615}',
    binary: '0000000100000000000006a4000000010000000100000012000500040000000007341a5802e103bb064f',
  },
  {
    duck: '[1, 2]::INTEGER[2]',
    pg: 'ARRAY[1, 2]::int4[]',
    oid: 1007,
    text: '{1,2}',
    binary: '000000010000000000000017000000020000000100000004000000010000000400000002',
  },
  {
    duck: '[[[1], [2]], [[3], [4]]]',
    pg: 'ARRAY[[[1], [2]], [[3], [4]]]::int4[]',
    oid: 1007,
    text: '{{{1},{2}},{{3},{4}}}',
    binary:
      '0000000300000000000000170000000200000001000000020000000100000001000000010000000400000001000000040000000200000004000000030000000400000004',
  },
];

let duck: DuckDBConnection;
let oracle: PgOracle | null = null;
let oracleProblem: string | null = null;

test.before(async () => {
  duck = await (await DuckDBInstance.create(':memory:')).connect();
  const started = await startPgOracle();
  oracle = started.oracle;
  oracleProblem = started.problem;
});

test.after(async () => {
  await oracle?.close();
  duck?.closeSync();
});

function options(settings?: OracleSettings): EncodeOptions {
  return { timeZone: settings?.timeZone ?? 'UTC', extraFloatDigits: settings?.extraFloatDigits ?? 1 };
}

async function duckValue(expr: string): Promise<{ type: DuckDBType; value: unknown }> {
  const result = await duck.run(`SELECT ${expr}`);
  const chunk = await result.fetchChunk();
  return { type: result.columnType(0), value: chunk!.getColumnVector(0).getItem(0) };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

for (const c of CASES) {
  const zone = c.settings ? ` (${JSON.stringify(c.settings)})` : '';
  test(`${c.duck}${zone} is written as PostgreSQL writes ${c.pg}`, async () => {
    const { type, value } = await duckValue(c.duck);
    const codec = codecFor(type);
    assert.is(codec.type.oid, c.oid, 'type OID');
    assert.is(codec.text(value, options(c.settings)), c.text, 'text format');
    assert.is(hex(codec.binary(value, options(c.settings))), c.binary, 'binary format');
  });
}

test('DECIMAL columns carry numeric typmod ((p << 16) | s) + 4, also as array elements', async () => {
  assert.is(codecFor((await duckValue('1.5::DECIMAL(10,2)')).type).type.typmod, 655366);
  assert.is(codecFor((await duckValue('[1.5::DECIMAL(4,2)]')).type).type.typmod, 262150);
  assert.is(codecFor((await duckValue('1.5::DOUBLE')).type).type.typmod, -1);
});

test('a list of lists of unequal lengths is written as text but refused in binary', async () => {
  const { type, value } = await duckValue('[[1], [2, 3], NULL]');
  const codec = codecFor(type);
  assert.is(codec.text(value, options()), '{{1},{2,3},NULL}');
  try {
    codec.binary(value, options());
    assert.unreachable('binary accepted a ragged array');
  } catch (e) {
    assert.instance(e, PgError);
    assert.is((e as PgError).code, '22000');
  }
});

test('empty inner lists make an empty binary array, as PostgreSQL has no empty sub-arrays', async () => {
  const { type, value } = await duckValue('[[], []]::INTEGER[][]');
  const codec = codecFor(type);
  assert.is(codec.text(value, options()), '{{},{}}');
  assert.is(hex(codec.binary(value, options())), '000000000000000000000017');
});

test('STRUCT, MAP and UNION are text in DuckDB’s own form', async () => {
  const cases: [string, string][] = [
    ["{'a': 1, 'b': 'x y', 'c': NULL}", "{'a': 1, 'b': x y, 'c': NULL}"],
    ["MAP {'k': [1, 2], 'it''s': NULL}", "{k=[1, 2], 'it\\'s'=NULL}"],
    ['union_value(num := 2)::UNION(num INTEGER, s VARCHAR)', '2'],
  ];
  for (const [expr, expected] of cases) {
    const { type, value } = await duckValue(expr);
    const codec = codecFor(type);
    assert.is(codec.type.oid, 25, expr);
    assert.is(codec.text(value, options()), expected, expr);
    assert.is(Buffer.from(codec.binary(value, options())).toString('utf8'), expected, `${expr} (binary)`);
  }
});

test('a list of STRUCTs is a text[] whose elements are DuckDB’s text', async () => {
  const { type, value } = await duckValue("[{'a': 1}, NULL]");
  const codec = codecFor(type);
  assert.is(codec.type.oid, 1009);
  assert.is(codec.text(value, options()), `{"{'a': 1}",NULL}`);
  // ndim 1, has nulls, element text (25), 2 elements from 1, then "{'a': 1}" and NULL.
  assert.is(
    hex(codec.binary(value, options())),
    `000000010000000100000019000000020000000100000008${Buffer.from("{'a': 1}").toString('hex')}ffffffff`,
  );
});

test('the session time zone is read on every call, so SET TimeZone takes effect mid-stream', async () => {
  const { type, value } = await duckValue("TIMESTAMPTZ '2020-01-01 00:00:00+00'");
  const codec = codecFor(type);
  assert.is(codec.text(value, { timeZone: 'UTC', extraFloatDigits: 1 }), '2020-01-01 00:00:00+00');
  assert.is(
    codec.text(value, { timeZone: 'Asia/Kolkata', extraFloatDigits: 1 }),
    '2020-01-01 05:30:00+05:30',
  );
  assert.is(codec.text(value, { timeZone: 'UTC', extraFloatDigits: 1 }), '2020-01-01 00:00:00+00');
});

test('an unknown time zone is PostgreSQL’s 22023 error', async () => {
  const { type, value } = await duckValue("TIMESTAMPTZ '2020-01-01 00:00:00+00'");
  try {
    codecFor(type).text(value, { timeZone: 'Mars/Olympus_Mons', extraFloatDigits: 1 });
    assert.unreachable('accepted an unknown zone');
  } catch (e) {
    assert.is((e as PgError).code, '22023');
    assert.is((e as PgError).message, 'time zone "Mars/Olympus_Mons" not recognized');
  }
});

test('PostgreSQL 15 is available as the reference for the expected values', () => {
  if (oracle === null) assert.unreachable(oracleProblem ?? 'no oracle');
});

test('the expected values are PostgreSQL 15’s own output', async () => {
  if (oracle === null) assert.unreachable(oracleProblem ?? 'no oracle');
  const mismatches: string[] = [];
  for (const c of CASES) {
    const text = await oracle!.text(c.pg, c.settings);
    const binary = (await oracle!.binary(c.pg, c.settings)).toString('hex');
    const oid = Number((await oracle!.rows(`SELECT pg_typeof(${c.pg})::oid::int`))[0]![0]);
    if (text !== c.text || binary !== c.binary || oid !== c.oid) {
      mismatches.push(`${c.pg}: PostgreSQL says ${oid} ${JSON.stringify(text)} ${binary}`);
    }
  }
  assert.equal(mismatches, []);
});

test('float4 and float8 text matches PostgreSQL for thousands of values at every extra_float_digits', async () => {
  if (oracle === null) assert.unreachable(oracleProblem ?? 'no oracle');
  const float4 = codecFor((await duckValue('1::FLOAT')).type);
  const float8 = codecFor((await duckValue('1::DOUBLE')).type);
  // Deterministic bit patterns (an LCG), so a failure reproduces.
  let seed = 12345;
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  const view = new DataView(new ArrayBuffer(8));
  const doubles: number[] = [];
  const floats: number[] = [];
  for (let i = 0; i < 4000; i++) {
    view.setUint32(0, next());
    view.setUint32(4, next());
    const d = view.getFloat64(0);
    if (Number.isFinite(d)) doubles.push(d);
    const f = view.getFloat32(0);
    if (Number.isFinite(f)) floats.push(f);
    doubles.push((next() / 4294967296) * 10 ** ((next() % 40) - 20));
    floats.push(Math.fround((next() / 4294967296) * 10 ** ((next() % 20) - 10)));
  }
  for (let e = -320; e <= 308; e++) doubles.push(10 ** e, 2 ** e);
  for (let e = -45; e <= 38; e++) floats.push(Math.fround(10 ** e), Math.fround(2 ** e));
  for (const digits of [1, 0, -3, 3]) {
    const o = { timeZone: 'UTC', extraFloatDigits: digits };
    const pg8 = await oracle!.rows('SELECT unnest($1::float8[])', [doubles], { extraFloatDigits: digits });
    const bad8 = doubles.filter((d, i) => float8.text(d, o) !== pg8[i]![0]);
    assert.equal(bad8.slice(0, 5), [], `float8, extra_float_digits ${digits}`);
    const pg4 = await oracle!.rows('SELECT unnest($1::float8[])::float4', [floats], {
      extraFloatDigits: digits,
    });
    const bad4 = floats.filter((f, i) => float4.text(f, o) !== pg4[i]![0]);
    assert.equal(bad4.slice(0, 5), [], `float4, extra_float_digits ${digits}`);
  }
});

test('the type catalog matches PostgreSQL 15’s pg_type', async () => {
  if (oracle === null) assert.unreachable(oracleProblem ?? 'no oracle');
  const rows = await oracle!.rows(
    'SELECT oid::int, typname, typlen::int, typelem::int, typarray::int FROM pg_type WHERE oid = ANY($1::oid[])',
    [[...Array(5000).keys()].filter((oid) => pgTypeByOid(oid) !== undefined)],
  );
  assert.ok(rows.length > 80);
  for (const [oid, name, typlen, elem, array] of rows) {
    const entry = pgTypeByOid(Number(oid))!;
    assert.equal(
      [entry.name, entry.typlen, entry.elementOid, entry.arrayOid],
      [name, Number(typlen), Number(elem), Number(array)],
      `pg_type row for ${name}`,
    );
  }
});

test.run();
