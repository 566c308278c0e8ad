import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ArrowBatchLoader, type StageColumn } from '../../src/merge/ArrowBatchLoader.js';
import { ArrowChunkEncoder, encodeIpcStream } from '../../worker/ArrowChunkEncoder.js';
import { loudHook } from '../helpers/loudHook.js';

let coordinator: DuckDBConnection;
let worker: DuckDBConnection;

// 5,003 rows: two full 2,048-row chunks and a ragged third, so bitmaps end mid-byte.
const ROWS = 5003;

/**
 * One column of the test table: NULL on every `every`-th row, the special values on the rows just after,
 * the generic expression of `i` elsewhere. Different periods put NULLs at different bit positions.
 */
function column(name: string, type: string, every: number, generic: string, specials: string[] = []): string {
  if (specials.length >= every - 1) throw new Error(`${name}: period too short for its specials`);
  const whens = specials.map((v, k) => `WHEN i % ${every} = ${k + 1} THEN CAST(${v} AS ${type})`).join(' ');
  return `CASE WHEN i % ${every} = 0 THEN NULL ${whens} ELSE CAST(${generic} AS ${type}) END AS ${name}`;
}

const longText = `'a string much longer than twelve bytes, #' || i`;

/**
 * Every type the encoder documents, less the values its text rendering cannot bring back (listed in
 * ArrowBatchLoader's doc comment): MAP, UNION, GEOMETRY, VARIANT, and nested `'`, `\`, BLOBs and infinities.
 */
const COLUMNS = [
  'i AS id',
  column('b', 'BOOLEAN', 7, 'i % 3 = 0', ['true', 'false']),
  column('ti', 'TINYINT', 11, 'i % 100 - 50', ['-128', '127', '0']),
  column('si', 'SMALLINT', 13, 'i - 2500', ['-32768', '32767']),
  column('ii', 'INTEGER', 9, 'i * 1000 - 7', ['-2147483648', '2147483647']),
  column('bi', 'BIGINT', 10, 'i::BIGINT * 1000000007 - 5000000000', [
    '-9223372036854775808',
    '9223372036854775807',
  ]),
  column('uti', 'UTINYINT', 12, 'i % 250', ['0', '255']),
  column('usi', 'USMALLINT', 14, 'i', ['65535']),
  column('ui', 'UINTEGER', 15, 'i * 3', ['4294967295']),
  column('ubi', 'UBIGINT', 16, 'i::UBIGINT * 4000000000000', ['18446744073709551615']),
  column('f', 'FLOAT', 17, 'i / 7', [`'nan'`, `'inf'`, `'-inf'`, '3.4028235e38', '1.4e-45', '-3.4028235e38']),
  column('d', 'DOUBLE', 18, 'i / 3.0', [
    `'nan'`,
    `'inf'`,
    `'-inf'`,
    '1.7976931348623157e308',
    '5e-324',
    '-1.7976931348623157e308',
  ]),
  column('hi', 'HUGEINT', 19, 'i::HUGEINT * 12345678901234567890', [
    `'-170141183460469231731687303715884105728'`,
    `'170141183460469231731687303715884105727'`,
  ]),
  column('d4', 'DECIMAL(4,1)', 20, '(i % 9999 - 5000) / 10', ['-999.9', '999.9']),
  column('d9', 'DECIMAL(9,3)', 21, 'i * 1.5 - 3000', ['-999999.999', '999999.999']),
  column('d15', 'DECIMAL(15,2)', 22, 'i * 1234567.89 - 3000000000', [
    '-9999999999999.99',
    '9999999999999.99',
  ]),
  column('d18', 'DECIMAL(18,4)', 23, '-i * 7.0001', ['-99999999999999.9999', '99999999999999.9999']),
  column('d38', 'DECIMAL(38,10)', 24, 'i * 12345678901234.5678901234 - 1', [
    `'-9999999999999999999999999999.9999999999'`,
    `'9999999999999999999999999999.9999999999'`,
    '0.0000000001',
  ]),
  column('dt', 'DATE', 25, `DATE '1960-01-01' + i`, [
    `'infinity'`,
    `'-infinity'`,
    `'1969-12-31'`,
    `'0001-01-01'`,
    `'5877642-06-25 (BC)'`,
    `'5881580-07-10'`,
  ]),
  column('tm', 'TIME', 26, `TIME '00:00:00' + i * INTERVAL 17 SECOND`, [
    `'00:00:00'`,
    `'23:59:59.999999'`,
    `'24:00:00'`,
  ]),
  column('ts', 'TIMESTAMP', 27, `TIMESTAMP '1969-12-31 23:59:59.999999' + i * INTERVAL 1 HOUR`, [
    `'infinity'`,
    `'-infinity'`,
    `'0001-01-01 00:00:00'`,
    `'1900-02-28 12:34:56.789012'`,
  ]),
  column('ts_s', 'TIMESTAMP_S', 28, `TIMESTAMP '1950-01-01' + i * INTERVAL 1 DAY`, [
    `'infinity'`,
    `'-infinity'`,
    `'1969-12-31 23:59:59'`,
  ]),
  column('ts_ms', 'TIMESTAMP_MS', 29, `TIMESTAMP '1950-01-01 00:00:00.001' + i * INTERVAL 1 MINUTE`, [
    `'infinity'`,
    `'1969-12-31 23:59:59.999'`,
  ]),
  column(
    'ts_ns',
    'TIMESTAMP_NS',
    30,
    `'1969-12-31 23:59:59.999999999'::TIMESTAMP_NS + i * INTERVAL 1 SECOND`,
    [`'1677-09-22 00:00:00'`, `'2262-04-11 00:00:00.123456789'`],
  ),
  column('tstz', 'TIMESTAMPTZ', 31, `TIMESTAMPTZ '1969-12-31 23:00:00+00' + i * INTERVAL 1 SECOND`, [
    `'infinity'`,
    `'-infinity'`,
    `'2020-06-30 12:00:00.123456+05:30'`,
  ]),
  column('s', 'VARCHAR', 32, `'s' || i`, [
    `''`,
    longText,
    `'exactly12byt'`,
    `'thirteen byte'`,
    `'é☃😀 unicode, and long enough to leave the inline form'`,
    `'ü'`,
    `'a' || chr(0) || 'b'`,
    `'it''s "quoted", [bracketed] {braced} \\ back'`,
  ]),
  column('bl', 'BLOB', 33, `('blob' || i)::BLOB`, [
    `''::BLOB`,
    `'\\x00\\xFF\\xC3'::BLOB`,
    `'\\xFF\\xFE a blob longer than twelve bytes'::BLOB`,
  ]),
  column('iv', 'INTERVAL', 34, `i * INTERVAL 1 SECOND`, [
    `INTERVAL '-1 year 2 months 3 days 04:05:06.789012'`,
    `INTERVAL '1000000 hours'`,
    `INTERVAL '-00:00:00.000001'`,
    `INTERVAL 0 DAY`,
  ]),
  column('uu', 'UUID', 35, `('00000000-0000-0000-0000-' || lpad(i::VARCHAR, 12, '0'))::UUID`, [
    `'ffffffff-ffff-ffff-ffff-ffffffffffff'`,
    `'7fffffff-ffff-ffff-ffff-ffffffffffff'`,
    `'80000000-0000-0000-0000-000000000000'`,
  ]),
  column('mo', 'mood', 36, `CASE WHEN i % 2 = 0 THEN 'sad' ELSE 'ok' END`, [`'it''s, "fine"'`]),
  column('en', `ENUM('x', 'y z')`, 37, `CASE WHEN i % 2 = 0 THEN 'x' ELSE 'y z' END`),
  column('il', 'INTEGER[]', 38, '[i, i + 1, NULL]', ['[]', '[NULL]', '[-2147483648, 2147483647]']),
  column('sl', 'VARCHAR[]', 39, `['s' || i, ${longText}]`, [
    `['a', 'b,c', '"q"', '[x]', '{y}', 'NULL', '', ' sp ', NULL, 'é☃😀', 'a:b', 'k=v']`,
    '[]',
  ]),
  column('nl', 'INTEGER[][]', 40, '[[i], [], NULL, [NULL, i]]', ['[[]]', '[]']),
  column(
    'st',
    'STRUCT(a INTEGER, "b c" VARCHAR, l DOUBLE[])',
    41,
    `{'a': i, 'b c': 'x' || i, 'l': [i / 3.0]}`,
    [`{'a': NULL, 'b c': '}, {', 'l': NULL}`, `{'a': 1, 'b c': NULL, 'l': []}`],
  ),
  column('tz', 'TIMETZ', 42, `'01:02:03+05'::TIMETZ`, [
    `'00:00:00-15:59'`,
    `'23:59:59.999999+15:59'`,
    `'12:00:00.5+00'`,
  ]),
  column('bt', 'BIT', 43, `'0101'::BIT`, [`'1'`, `'1111111100000000111'`]),
  column('uh', 'UHUGEINT', 44, 'i::UHUGEINT * 98765432109876543210', [
    `'0'`,
    `'340282366920938463463374607431768211455'`,
  ]),
  column('bn', 'BIGNUM', 45, 'i::BIGNUM', [
    `'-123456789012345678901234567890123456789012345678901234567890'`,
  ]),
  // DuckDB's CASE cannot yield an ARRAY, so this one is cast from a list.
  'CAST(CASE WHEN i % 46 = 0 THEN NULL ELSE [i, NULL, -i] END AS INTEGER[3]) AS ar',
  column('tn', 'TIME_NS', 47, `'01:02:03.123456789'::TIME_NS`, [`'23:59:59.999999999'`, `'00:00:00'`]),
  column('tsl', 'TIMESTAMP[]', 48, `[TIMESTAMP '2020-01-01 01:02:03.456789' + i * INTERVAL 1 SECOND]`, [
    `['infinity'::TIMESTAMP, '-infinity'::TIMESTAMP, NULL]`,
  ]),
  column('tzl', 'TIMESTAMPTZ[]', 49, `[TIMESTAMPTZ '2020-01-01 01:02:03.456789+00']`),
  column('dl', 'DATE[]', 50, `[DATE '1969-12-31' - i, '5877642-06-25 (BC)'::DATE]`),
  column('fl', 'FLOAT[]', 51, '[i / 7, 0.1]', [
    `['nan'::FLOAT, 'inf'::FLOAT, 3.4028235e38::FLOAT, 1.4e-45::FLOAT]`,
  ]),
  column('dcl', 'DECIMAL(38,10)[]', 52, '[i * 1.25]', [`['9999999999999999999999999999.9999999999']`]),
  column('js', 'JSON', 53, `'{"k": [' || i || ', "x,y"]}'`),
  // A column that is NULL on every row.
  'CAST(NULL AS VARCHAR) AS allnull',
];

test.before(
  loudHook(async () => {
    const instance = await DuckDBInstance.create(':memory:');
    coordinator = await instance.connect();
    worker = await instance.connect();
    await coordinator.run(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'it''s, "fine"')`);
    await coordinator.run(
      `CREATE TABLE original AS SELECT ${COLUMNS.join(', ')} FROM (SELECT r::INTEGER AS i FROM range(${ROWS}) t(r))`,
    );
  }),
);

/** The result of `sql` on the worker connection, encoded and framed as Arrow IPC exactly as a worker does. */
async function workerBatches(sql: string): Promise<arrow.RecordBatch[]> {
  const prepared = await worker.prepare(sql);
  const result = await prepared.run();
  const encoder = new ArrowChunkEncoder(result.deduplicatedColumnNames(), result.columnTypes());
  const batches: arrow.RecordBatch[] = [];
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    batches.push(encoder.encode(chunk).batch);
  }
  prepared.destroySync();
  // Through IPC and back, as the coordinator's QueryExecution receives them.
  return arrow.tableFromIPC(encodeIpcStream(batches)).batches;
}

/** The stage columns as the planner would name them: DuckDB's own column types of the relation. */
async function stageColumnsOf(relation: string): Promise<StageColumn[]> {
  const rows = (await coordinator.runAndReadAll(`DESCRIBE ${relation}`)).getRows();
  return rows.map((r) => ({ name: String(r[0]), type: String(r[1]) }));
}

/** The message a promise rejects with; fails the test if it resolves. */
async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as Error).message;
  }
  assert.unreachable('expected a rejection');
  return '';
}

/** Runs `body` with a fresh loader for the original's columns, dropping it whatever happens. */
async function withLoader(body: (loader: ArrowBatchLoader) => Promise<void>): Promise<void> {
  const loader = await ArrowBatchLoader.create(coordinator, 'task_results', await stageColumnsOf('original'));
  try {
    await body(loader);
  } finally {
    await loader.drop();
  }
}

async function scalar(sql: string): Promise<unknown> {
  return (await coordinator.runAndReadAll(sql)).getRows()[0]![0];
}

/** The view holds exactly the original's rows (as multisets) and describes exactly like it. */
async function assertSameAsOriginal(view: string, expectedRows: number): Promise<void> {
  assert.is(await scalar(`SELECT count(*) FROM ${view}`), BigInt(expectedRows));
  const missing = await scalar(
    `SELECT count(*) FROM (SELECT * FROM original EXCEPT ALL SELECT * FROM ${view})`,
  );
  const extra = await scalar(
    `SELECT count(*) FROM (SELECT * FROM ${view} EXCEPT ALL SELECT * FROM original)`,
  );
  assert.is(missing, 0n, 'rows of the original missing from the view');
  assert.is(extra, 0n, 'rows in the view that are not in the original');
  assert.equal(await stageColumnsOf(view), await stageColumnsOf('original'));
}

/** Columns in which some row of the view differs from the original's row with the same id, with counts. */
async function columnsThatDiffer(view: string): Promise<string[]> {
  const names = (await stageColumnsOf('original')).map((c) => c.name).filter((n) => n !== 'id');
  const out: string[] = [];
  for (const n of names) {
    const q = `SELECT count(*) FROM original o JOIN ${view} v USING (id) WHERE o.${n} IS DISTINCT FROM v.${n}`;
    const count = await scalar(q);
    if (count !== 0n) out.push(`${n}: ${count}`);
  }
  return out;
}

/** One batch holding all the given batches' rows: every column's buffers concatenated. */
function concatBatches(batches: arrow.RecordBatch[]): arrow.RecordBatch {
  const schema = batches[0]!.schema;
  const children = schema.fields.map((field, c) =>
    concatData(
      field.type,
      batches.map((b) => b.data.children[c]!),
    ),
  );
  const length = batches.reduce((n, b) => n + b.numRows, 0);
  const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length, nullCount: 0, children });
  return new arrow.RecordBatch(schema, data);
}

function concatData(type: arrow.DataType, parts: arrow.Data[]): arrow.Data {
  const length = parts.reduce((n, p) => n + p.length, 0);
  if (arrow.DataType.isNull(type)) return arrow.makeData({ type, length });
  const nullBitmap = new Uint8Array(Math.ceil(length / 8));
  let nullCount = 0;
  let row = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++, row++) {
      if (p.getValid(i)) nullBitmap[row >> 3]! |= 1 << (row & 7);
      else nullCount++;
    }
  }
  if (arrow.DataType.isBool(type)) {
    const bits = new Uint8Array(Math.ceil(length / 8));
    row = 0;
    for (const p of parts) {
      for (let i = 0; i < p.length; i++, row++) {
        const bit = p.offset + i;
        if ((p.values[bit >> 3]! >> (bit & 7)) & 1) bits[row >> 3]! |= 1 << (row & 7);
      }
    }
    return arrow.makeData({ type, length, nullCount, nullBitmap, data: bits });
  }
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isBinary(type)) {
    const offsets = new Int32Array(length + 1);
    const chunks: Uint8Array[] = [];
    let total = 0;
    row = 0;
    for (const p of parts) {
      const o = p.valueOffsets as Int32Array;
      chunks.push((p.values as Uint8Array).subarray(o[0]!, o[p.length]!));
      for (let i = 0; i < p.length; i++) offsets[++row] = total + o[i + 1]! - o[0]!;
      total += o[p.length]! - o[0]!;
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.byteLength;
    }
    return arrow.makeData({
      type: type as arrow.Utf8,
      length,
      nullCount,
      nullBitmap,
      valueOffsets: offsets,
      data: bytes,
    });
  }
  // Fixed width (decimals too): Arrow JS keeps these value buffers sliced to the part's rows.
  const first = parts[0]!.values as Uint8Array;
  const Ctor = first.constructor as new (n: number) => Uint8Array;
  const values = new Ctor(parts.reduce((n, p) => n + p.values.length, 0));
  let at = 0;
  for (const p of parts) {
    values.set(p.values as Uint8Array, at);
    at += p.values.length;
  }
  return arrow.makeData({ type, length, nullCount, nullBitmap, data: values } as never);
}

test('per-chunk batches from a worker load back to exactly the original, types and all', async () => {
  const batches = await workerBatches('SELECT * FROM original');
  assert.ok(batches.length >= 3, 'the result spans several chunks');
  await withLoader(async (loader) => {
    for (const batch of batches) loader.append(batch);
    assert.is(loader.rows, ROWS);
    assert.equal(await columnsThatDiffer('task_results'), []);
    await assertSameAsOriginal('task_results', ROWS);
  });
});

test('one batch of 5,003 rows fills several data chunks', async () => {
  const whole = concatBatches(await workerBatches('SELECT * FROM original'));
  const [batch] = arrow.tableFromIPC(encodeIpcStream([whole])).batches;
  assert.is(batch!.numRows, ROWS);
  await withLoader(async (loader) => {
    loader.append(batch!);
    assert.equal(await columnsThatDiffer('task_results'), []);
    await assertSameAsOriginal('task_results', ROWS);
  });
});

test('batches sliced at offsets that are not multiples of 8 keep their nulls and booleans in place', async () => {
  const whole = concatBatches(await workerBatches('SELECT * FROM original'));
  const cuts = [0, 3, 1000, 1001, 3333, 4999, ROWS];
  await withLoader(async (loader) => {
    for (let k = 0; k + 1 < cuts.length; k++) {
      const slice = whole.slice(cuts[k]!, cuts[k + 1]!);
      assert.is(slice.data.children[1]!.offset, cuts[k]!, 'the slice is an offset view, not a copy');
      loader.append(slice);
    }
    assert.is(loader.rows, ROWS);
    assert.equal(await columnsThatDiffer('task_results'), []);
    await assertSameAsOriginal('task_results', ROWS);
  });
});

test('clear() empties the view and later appends land alone', async () => {
  const batches = await workerBatches('SELECT * FROM original');
  await withLoader(async (loader) => {
    loader.append(batches[0]!);
    loader.append(batches[1]!);
    await loader.clear();
    assert.is(loader.rows, 0);
    assert.is(await scalar('SELECT count(*) FROM task_results'), 0n);
    for (const batch of batches) loader.append(batch);
    assert.is(loader.rows, ROWS);
    await assertSameAsOriginal('task_results', ROWS);
  });
  assert.is(
    await scalar(
      `SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('task_results', 'task_results_raw')`,
    ),
    0n,
    'drop() removes the raw table',
  );
  assert.is(await scalar(`SELECT count(*) FROM duckdb_views() WHERE view_name = 'task_results'`), 0n);
});

test('the raw table stores native columns in their own type and text-travelling ones as VARCHAR', async () => {
  const loader = await ArrowBatchLoader.create(coordinator, 'r', [
    { name: 'n', type: 'DECIMAL(15,2)' },
    { name: 'h', type: 'HUGEINT' },
    { name: 'z', type: 'TIMESTAMP WITH TIME ZONE' },
    { name: 'iv', type: 'INTERVAL' },
    { name: 'm', type: 'MAP(VARCHAR, INTEGER)' },
  ]);
  const raw = (await coordinator.runAndReadAll('DESCRIBE r_raw')).getRows().map((r) => String(r[1]));
  assert.equal(raw, ['DECIMAL(15,2)', 'HUGEINT', 'TIMESTAMP WITH TIME ZONE', 'VARCHAR', 'VARCHAR']);
  const view = (await coordinator.runAndReadAll('DESCRIBE r')).getRows().map((r) => String(r[1]));
  assert.equal(view, [
    'DECIMAL(15,2)',
    'HUGEINT',
    'TIMESTAMP WITH TIME ZONE',
    'INTERVAL',
    'MAP(VARCHAR, INTEGER)',
  ]);
  await loader.drop();
});

test('a batch whose columns do not match the stage is refused and appends nothing', async () => {
  const loader = await ArrowBatchLoader.create(coordinator, 'm', [
    { name: 'a', type: 'INTEGER' },
    { name: 'b', type: 'VARCHAR' },
  ]);
  const [wrongType] = await workerBatches(`SELECT 1::BIGINT AS a, 'x' AS b`);
  assert.throws(() => loader.append(wrongType!), /column 1 \(a\) is INTEGER, the batch's is BIGINT/);
  const [tooFew] = await workerBatches('SELECT 1::INTEGER AS a');
  assert.throws(() => loader.append(tooFew!), /expects 2 columns, the batch has 1/);
  const [good] = await workerBatches(`SELECT 7::INTEGER AS a, 'seven' AS b`);
  loader.append(good!);
  assert.equal((await coordinator.runAndReadAll('SELECT a, b FROM m')).getRows(), [[7, 'seven']]);
  assert.is(loader.rows, 1);
  await loader.drop();
});

test('appendAll loads many batches with one flush; a refused batch stops it after the good ones', async () => {
  const batches = await workerBatches('SELECT * FROM original');
  await withLoader(async (loader) => {
    loader.appendAll(batches);
    assert.is(loader.rows, ROWS);
    await assertSameAsOriginal('task_results', ROWS);
  });
  const loader = await ArrowBatchLoader.create(coordinator, 'm', [{ name: 'a', type: 'INTEGER' }]);
  try {
    const [one] = await workerBatches('SELECT 1::INTEGER AS a');
    const [wrong] = await workerBatches('SELECT 2::BIGINT AS a');
    const [three] = await workerBatches('SELECT 3::INTEGER AS a');
    assert.throws(() => loader.appendAll([one!, wrong!, three!]), /is INTEGER, the batch's is BIGINT/);
    assert.is(loader.rows, 1);
    assert.equal((await coordinator.runAndReadAll('SELECT a FROM m')).getRows(), [[1]]);
  } finally {
    await loader.drop();
  }
});

test('text that is not valid UTF-8 is refused, including a character split across two values', async () => {
  const loader = await ArrowBatchLoader.create(coordinator, 'u', [{ name: 's', type: 'VARCHAR' }]);
  try {
    const utf8 = (values: Uint8Array, offsets: number[]) => {
      const field = new arrow.Field('s', new arrow.Utf8(), true);
      const child = arrow.makeData({
        type: new arrow.Utf8(),
        length: offsets.length - 1,
        valueOffsets: new Int32Array(offsets),
        data: values,
      });
      const data = arrow.makeData({
        type: new arrow.Struct([field]),
        length: offsets.length - 1,
        children: [child],
      });
      return new arrow.RecordBatch(new arrow.Schema([field]), data);
    };
    // "é" is C3 A9: whole, then cut between two values, then a lone continuation byte.
    loader.append(utf8(new Uint8Array([0x61, 0xc3, 0xa9]), [0, 1, 3]));
    assert.throws(
      () => loader.append(utf8(new Uint8Array([0x61, 0xc3, 0xa9]), [0, 2, 3])),
      /not valid UTF-8/,
    );
    assert.throws(() => loader.append(utf8(new Uint8Array([0xa9]), [0, 1])), /not valid UTF-8/);
    assert.equal((await coordinator.runAndReadAll('SELECT s FROM u')).getRows(), [['a'], ['é']]);
  } finally {
    await loader.drop();
  }
});

test('a name already taken is refused without touching what holds it', async () => {
  const first = await ArrowBatchLoader.create(coordinator, 'taken', [{ name: 'a', type: 'INTEGER' }]);
  try {
    assert.match(
      await failureOf(ArrowBatchLoader.create(coordinator, 'taken', [{ name: 'b', type: 'VARCHAR' }])),
      /already exists/,
    );
    const [batch] = await workerBatches('SELECT 5::INTEGER AS a');
    first.append(batch!);
    assert.equal((await coordinator.runAndReadAll('SELECT a FROM taken')).getRows(), [[5]]);
  } finally {
    await first.drop();
  }
  // Someone else's view by that name survives a loader that could not be created over it.
  await coordinator.run('CREATE TEMP VIEW someone AS SELECT 42 AS z');
  try {
    assert.match(
      await failureOf(ArrowBatchLoader.create(coordinator, 'someone', [{ name: 'a', type: 'INTEGER' }])),
      /already exists/,
    );
    assert.is(await scalar('SELECT z FROM someone'), 42);
    assert.is(await scalar(`SELECT count(*) FROM duckdb_tables() WHERE table_name = 'someone_raw'`), 0n);
  } finally {
    await coordinator.run('DROP VIEW someone');
  }
});

test('a type string that is not one type is refused before any table is made', async () => {
  assert.match(
    await failureOf(
      ArrowBatchLoader.create(coordinator, 'bad', [{ name: 'a', type: 'INTEGER) AS x, (SELECT 1' }]),
    ),
    /not 1 types/,
  );
  assert.match(
    await failureOf(ArrowBatchLoader.create(coordinator, 'bad', [{ name: 'a', type: 'NOT_A_TYPE' }])),
    /cannot read the stage's column types \(NOT_A_TYPE\)/,
  );
  assert.is(await scalar(`SELECT count(*) FROM duckdb_tables() WHERE table_name = 'bad_raw'`), 0n);
});

test.run();
