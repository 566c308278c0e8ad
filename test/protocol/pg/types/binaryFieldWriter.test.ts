import {
  BIGINT,
  DATE,
  DECIMAL,
  DOUBLE,
  type DuckDBType,
  FLOAT,
  INTEGER,
  SMALLINT,
  TINYINT,
  USMALLINT,
  UTINYINT,
  VARCHAR,
} from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackendWriter } from '../../../../protocol/pg/BackendWriter.js';
import { binaryFieldWriter, codecFor } from '../../../../protocol/pg/types/index.js';

const options = { timeZone: 'UTC', extraFloatDigits: 1 };

/** The field bytes (length prefix and value) of a one-field DataRow. */
function fieldBytes(write: (w: BackendWriter) => void): string {
  const w = new BackendWriter();
  w.beginDataRow(1);
  write(w);
  w.endDataRow();
  return w.take().subarray(7).toString('hex');
}

const cases: [string, DuckDBType, unknown[]][] = [
  ['TINYINT', TINYINT, [0, -128, 127]],
  ['UTINYINT', UTINYINT, [0, 255]],
  ['SMALLINT', SMALLINT, [-32768, 32767, -1]],
  ['USMALLINT', USMALLINT, [65535]],
  ['INTEGER', INTEGER, [0, -1, 2147483647, -2147483648]],
  ['BIGINT', BIGINT, [0n, -1n, 9223372036854775807n, -9223372036854775808n]],
  ['FLOAT', FLOAT, [0.1, -0, Number.NaN, Number.POSITIVE_INFINITY, 3.4e38]],
  ['DOUBLE', DOUBLE, [0.1, -0, Number.NaN, Number.NEGATIVE_INFINITY, 1e308]],
  ['VARCHAR', VARCHAR, ['', 'abc', 'héllo 世界 🦆']],
];

for (const [name, type, values] of cases) {
  test(`${name}: the in-place writer produces the codec's binary bytes`, () => {
    const writer = binaryFieldWriter(type);
    assert.ok(writer, `${name} has an in-place writer`);
    const codec = codecFor(type);
    for (const v of values) {
      assert.is(
        fieldBytes((w) => writer!(w, v)),
        fieldBytes((w) => w.fieldBytes(codec.binary(v, options))),
        `${name} ${String(v)}`,
      );
    }
  });
}

test('types without an in-place writer go through the codec', () => {
  assert.is(binaryFieldWriter(DATE), null);
  assert.is(binaryFieldWriter(DECIMAL(10, 2)), null);
});

test.run();
