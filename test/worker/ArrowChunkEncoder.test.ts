import {
  type DuckDBConnection,
  type DuckDBDataChunk,
  type DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  type DuckDBTimestampValue,
  type DuckDBTimeValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ArrowChunkEncoder, DUCKDB_TYPE_METADATA, encodeIpcStream } from '../../worker/ArrowChunkEncoder.js';

let connection: DuckDBConnection;

test.before(async () => {
  const instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});

/** Every chunk of a query, with DuckDB's own values for each row, and the Arrow table the encoder makes. */
async function encodeQuery(sql: string): Promise<{ expected: DuckDBValue[][]; table: arrow.Table }> {
  const result = await connection.run(sql);
  const encoder = new ArrowChunkEncoder(result.columnNames(), result.columnTypes());
  const batches: arrow.RecordBatch[] = [];
  const expected: DuckDBValue[][] = [];
  for (;;) {
    const chunk: DuckDBDataChunk | null = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    expected.push(...chunk.getRows());
    batches.push(encoder.encode(chunk).batch);
  }
  // Through IPC and back, as the coordinator receives them.
  return { expected, table: arrow.tableFromIPC(encodeIpcStream(batches)) };
}

/** The raw stored value at a row, bypassing Arrow JS's own conversions (it turns µs into ms numbers). */
function raw(table: arrow.Table, column: string, row: number): unknown {
  const vector = table.getChild(column)!;
  let offset = row;
  for (const data of vector.data) {
    if (offset < data.length) {
      if (!data.getValid(offset)) return null;
      return data.values[data.offset + offset];
    }
    offset -= data.length;
  }
  throw new Error(`row ${row} out of range`);
}

/** An Arrow decimal128 value as its unscaled integer. */
function unscaled(table: arrow.Table, column: string, row: number): bigint | null {
  const vector = table.getChild(column)!;
  let offset = row;
  for (const data of vector.data) {
    if (offset < data.length) {
      if (!data.getValid(offset)) return null;
      const words = data.values as Uint32Array;
      const at = (data.offset + offset) * 4;
      let v = 0n;
      for (let w = 3; w >= 0; w--) v = (v << 32n) | BigInt(words[at + w]!);
      return BigInt.asIntN(128, v);
    }
    offset -= data.length;
  }
  throw new Error(`row ${row} out of range`);
}

// 5,003 rows: several full 2,048-row chunks and a ragged last one, so bitmaps end mid-byte.
const ROWS = 5003;

test('integers, floats and booleans are exact, nulls where DuckDB has them', async () => {
  const { expected, table } = await encodeQuery(`
    SELECT (i % 200 - 100)::TINYINT AS t, (i * 7 - 20000)::SMALLINT AS s, CASE WHEN i % 5 = 0 THEN NULL ELSE i * 1000 - 7 END::INTEGER AS n,
           (i::BIGINT * 1000000007 - 5000000000) AS b, (i % 250)::UTINYINT AS ut, i::USMALLINT AS us, i::UINTEGER AS ui,
           (i::UBIGINT * 4000000000000) AS ub, (i / 7)::FLOAT AS f, CASE WHEN i % 3 = 0 THEN NULL ELSE i / 3.0 END::DOUBLE AS d,
           CASE WHEN i % 7 = 0 THEN NULL ELSE i % 2 = 0 END AS flag
    FROM range(${ROWS}) r(i)`);
  assert.is(table.numRows, ROWS);
  const names = ['t', 's', 'n', 'b', 'ut', 'us', 'ui', 'ub', 'f', 'd', 'flag'];
  for (let row = 0; row < ROWS; row++) {
    const got = table.get(row)!;
    names.forEach((name, c) => {
      const want = expected[row]![c];
      const have = got[name];
      if (typeof want === 'number' && Number.isNaN(want)) assert.ok(Number.isNaN(have));
      else assert.equal(have, want, `${name} row ${row}`);
    });
  }
  assert.is(table.getChild('n')!.nullCount, Math.ceil(ROWS / 5));
  assert.is(table.getChild('flag')!.nullCount, Math.ceil(ROWS / 7));
});

test('VARCHAR and BLOB, inline and heap strings, unicode and empty', async () => {
  const { expected, table } = await encodeQuery(`
    SELECT CASE WHEN i % 11 = 0 THEN NULL WHEN i % 11 = 1 THEN '' WHEN i % 2 = 0 THEN 'k' || i
                ELSE 'a longer string past twelve bytes ü€😀 #' || i END AS s,
           CASE WHEN i % 13 = 0 THEN NULL ELSE ('blob' || i)::BLOB END AS bl
    FROM range(${ROWS}) r(i)`);
  for (let row = 0; row < ROWS; row++) {
    assert.is(table.get(row)!['s'], expected[row]![0], `s row ${row}`);
    const blob = table.get(row)!['bl'] as Uint8Array | null;
    const want = expected[row]![1] as { bytes: Uint8Array } | null;
    if (want === null) assert.is(blob, null);
    else assert.equal([...blob!], [...want.bytes], `bl row ${row}`);
  }
});

test('heap strings that do not follow each other in memory are each read from their own place', async () => {
  // DuckDB's result chunks copy long strings into heap blocks; an ENUM rendered as text and a shuffled
  // VALUES list give chunks whose heap strings jump back and forth between blocks, runs of touching strings
  // in between (the encoder reads each run in one native call).
  const { expected, table } = await encodeQuery(`
    SELECT CAST(CAST(CASE i % 4 WHEN 0 THEN 'a long enum label number one' WHEN 1 THEN 'short'
                     WHEN 2 THEN 'a long enum label number two' ELSE 'a long enum label number three' END
                AS ENUM ('a long enum label number one', 'a long enum label number two', 'short',
                         'a long enum label number three')) AS VARCHAR) AS e,
           v.s
    FROM range(${ROWS}) r(i)
    JOIN (VALUES (0, 'a long values-list string zero'), (1, 'a long values-list string one'), (2, 'tiny'))
      v(k, s) ON v.k = hash(i) % 3
    ORDER BY i`);
  assert.is(table.numRows, ROWS);
  for (let row = 0; row < ROWS; row++) {
    assert.is(table.get(row)!['e'], expected[row]![0], `e row ${row}`);
    assert.is(table.get(row)!['s'], expected[row]![1], `s row ${row}`);
  }
});

test('DECIMAL of every storage width and HUGEINT become exact decimal128 values', async () => {
  const { expected, table } = await encodeQuery(`
    SELECT ((i - 2500) / 10)::DECIMAL(4,1) AS d4, ((i - 2500) * 1234.56)::DECIMAL(9,2) AS d9,
           ((i - 2500) * 98765432.125)::DECIMAL(18,3) AS d18,
           CASE WHEN i % 9 = 0 THEN NULL ELSE CAST((i - 2500)::VARCHAR || '1234567890123456.0123456789' AS DECIMAL(38,10)) END AS d38,
           (i - 2500)::HUGEINT * 1267650600228229401496703205376 AS h
    FROM range(${ROWS}) r(i)`);
  const columns = ['d4', 'd9', 'd18', 'd38', 'h'];
  columns.forEach((name, c) => {
    const type = table.schema.fields[c]!.type as arrow.Decimal;
    assert.is(type.bitWidth, 128);
    for (let row = 0; row < ROWS; row++) {
      const want = expected[row]![c];
      const got = unscaled(table, name, row);
      if (want === null) assert.is(got, null);
      else if (want instanceof DuckDBDecimalValue) assert.is(got, want.value, `${name} row ${row}`);
      else assert.is(got, want as bigint, `${name} row ${row}`);
    }
  });
  assert.equal(
    [
      (table.schema.fields[1]!.type as arrow.Decimal).precision,
      (table.schema.fields[1]!.type as arrow.Decimal).scale,
    ],
    [9, 2],
  );
});

test('DATE, TIME and TIMESTAMPs keep their stored values and units', async () => {
  const { expected, table } = await encodeQuery(`
    SELECT DATE '1969-07-20' + (i * 13)::INTEGER AS dt, TIME '00:00:00' + INTERVAL (i * 17) SECOND AS tm,
           TIMESTAMP '1965-03-01 10:11:12.345678' + INTERVAL (i * 3600123) MILLISECOND AS ts,
           CASE WHEN i % 4 = 0 THEN NULL ELSE TIMESTAMPTZ '2020-01-01 00:00:00+00' + INTERVAL (i) MINUTE END AS tz,
           (TIMESTAMP '2001-02-03 04:05:06' + INTERVAL (i) SECOND)::TIMESTAMP_S AS tss,
           (TIMESTAMP '2001-02-03 04:05:06.789' + INTERVAL (i) SECOND)::TIMESTAMP_MS AS tms,
           (TIMESTAMP '2001-02-03 04:05:06.789123' + INTERVAL (i) SECOND)::TIMESTAMP_NS AS tns
    FROM range(${ROWS}) r(i)`);
  const f = table.schema.fields;
  assert.is((f[0]!.type as arrow.Date_).unit, arrow.DateUnit.DAY);
  assert.is((f[1]!.type as arrow.Time).unit, arrow.TimeUnit.MICROSECOND);
  assert.is((f[2]!.type as arrow.Timestamp).unit, arrow.TimeUnit.MICROSECOND);
  assert.is((f[3]!.type as arrow.Timestamp).timezone, 'UTC');
  assert.is((f[4]!.type as arrow.Timestamp).unit, arrow.TimeUnit.SECOND);
  assert.is((f[5]!.type as arrow.Timestamp).unit, arrow.TimeUnit.MILLISECOND);
  assert.is((f[6]!.type as arrow.Timestamp).unit, arrow.TimeUnit.NANOSECOND);
  for (let row = 0; row < ROWS; row++) {
    const [dt, tm, ts, tz, tss, tms, tns] = expected[row]!;
    assert.is(raw(table, 'dt', row), (dt as DuckDBDateValue).days);
    assert.is(raw(table, 'tm', row), (tm as DuckDBTimeValue).micros);
    assert.is(raw(table, 'ts', row), (ts as DuckDBTimestampValue).micros);
    assert.is(raw(table, 'tz', row), tz === null ? null : (tz as { micros: bigint }).micros);
    assert.is(raw(table, 'tss', row), (tss as { seconds: bigint }).seconds);
    assert.is(raw(table, 'tms', row), (tms as { millis: bigint }).millis);
    assert.is(raw(table, 'tns', row), (tns as { nanos: bigint }).nanos);
  }
});

test('other types travel as DuckDB text, with their DuckDB type in the field metadata', async () => {
  const { expected, table } = await encodeQuery(`
    SELECT CASE WHEN i % 3 = 0 THEN NULL ELSE [i, i + 1] END AS l, {'a': i, 'b': 'x' || i} AS st,
           INTERVAL (i) DAY + INTERVAL (i) MICROSECOND AS iv, ('00000000-0000-0000-0000-' || lpad(i::VARCHAR, 12, '0'))::UUID AS u,
           (['red', 'green', 'blue'])[i % 3 + 1]::ENUM('red', 'green', 'blue') AS e, MAP {'k': i} AS m,
           (i::DECIMAL(10,0))::VARCHAR AS plain
    FROM range(${ROWS}) r(i)`);
  const names = ['l', 'st', 'iv', 'u', 'e', 'm'];
  names.forEach((name, c) => {
    assert.ok(table.schema.fields[c]!.type instanceof arrow.Utf8, name);
    for (let row = 0; row < ROWS; row++) {
      const want = expected[row]![c];
      assert.is(table.get(row)![name], want === null ? null : String(want), `${name} row ${row}`);
    }
  });
  const meta = table.schema.fields.map((f) => f.metadata.get(DUCKDB_TYPE_METADATA));
  assert.equal(meta.slice(0, 5), [
    'BIGINT[]',
    'STRUCT("a" BIGINT, "b" VARCHAR)',
    'INTERVAL',
    'UUID',
    "ENUM('red', 'green', 'blue')",
  ]);
  assert.is(meta[6], 'VARCHAR');
});

test('an all-NULL column and an empty result', async () => {
  const { table } = await encodeQuery('SELECT NULL AS n, NULL::VARCHAR AS s FROM range(10)');
  assert.is(table.numRows, 10);
  assert.is(table.getChild('s')!.nullCount, 10);
  for (let i = 0; i < 10; i++) assert.is(table.get(i)!['n'], null);
  const empty = await encodeQuery('SELECT 1 AS x WHERE false');
  assert.is(empty.table.numRows, 0);
});

test.run();
