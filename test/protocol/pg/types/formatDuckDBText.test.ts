import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { codecFor } from '../../../../protocol/pg/types/index.js';

// STRUCT, MAP, UNION, VARIANT and GEOMETRY are sent as text in DuckDB's own CAST(x AS VARCHAR) form.
// DuckDB itself is the reference: each value is rendered by the codec and by DuckDB's cast, which must
// agree byte for byte.

const ZONE = 'America/New_York';
let duck: DuckDBConnection;

test.before(async () => {
  duck = await (await DuckDBInstance.create(':memory:')).connect();
  await duck.run(`CREATE TYPE mood AS ENUM ('sad', 'happy')`);
  await duck.run(`SET TimeZone = '${ZONE}'`);
  // A fixed seed, so a failure in the random-value tests reproduces.
  await duck.run('SELECT setseed(0.42)');
});

test.after(() => duck?.closeSync());

/** Codec text and DuckDB's cast for every row of `SELECT expr, CAST(expr AS VARCHAR) FROM source`. */
async function renderings(expr: string, source = ''): Promise<[string, string][]> {
  // A subquery, so a volatile expression (random()) is evaluated once for both columns.
  const result = await duck.run(`SELECT v, CAST(v AS VARCHAR) AS t FROM (SELECT ${expr} AS v ${source})`);
  const codec = codecFor(result.columnType(0));
  assert.is(codec.type.oid, 25, `${expr} is sent as text`);
  const out: [string, string][] = [];
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const values = chunk.getColumnVector(0);
    const casts = chunk.getColumnVector(1);
    for (let i = 0; i < chunk.rowCount; i++) {
      const v = values.getItem(i);
      if (v === null) continue;
      out.push([codec.text(v, { timeZone: ZONE, extraFloatDigits: 1 }), casts.getItem(i) as string]);
    }
  }
  return out;
}

const VALUES: readonly string[] = [
  "{'a': 1, 'b': 'x y', 'c': NULL, 'd': [1, 2], 'e': {'x': 'it''s'}}",
  "{'l': ['a,b', 'a''b', 'a\"b', 'a\\b', ' a', 'a ', 'NULL', 'null', '[x]', '{x}', 'a:b', 'a=b', '(x)', 'é', '', 'x y', NULL]}",
  "{'a''b': 1, 'a:b': 2, 'a\"b': 3, 'a\\b': 4, 'a b': 5, ' ': 6}",
  "MAP {'a,b': 'a=b', 'NULL': '', 'k': NULL}",
  "MAP {[1]: {'a': 1}, [2, 3]: NULL}",
  'MAP {1: 2.5::DOUBLE, 2: 1e100::DOUBLE}',
  "{'f': 0.1::FLOAT, 'g': 1e-7::DOUBLE, 'h': 'nan'::DOUBLE, 'i': '-inf'::FLOAT, 'j': 1e16::DOUBLE, 'k': 1e15::DOUBLE, 'l': '-0'::DOUBLE, 'm': 16777217::FLOAT, 'n': 123456.7::FLOAT, 'o': 5e-324::DOUBLE, 'p': 0.0001::DOUBLE}",
  "{'d': DATE '2020-01-02', 'bc': DATE '0044-03-15 (BC)', 'inf': 'infinity'::DATE, 'ninf': '-infinity'::DATE, 'big': DATE '12345-01-01'}",
  "{'t': TIME '12:00:00.5', 'ts': TIMESTAMP '2020-01-02 03:04:05.123', 'tsinf': '-infinity'::TIMESTAMP, 'bc': TIMESTAMP '0044-03-15 (BC) 12:00:00'}",
  "{'tz': TIMESTAMPTZ '2020-01-01 00:00:00+00', 'dst': TIMESTAMPTZ '2021-07-01 12:00:00.25+00', 'inf': 'infinity'::TIMESTAMPTZ}",
  "{'tt': '10:00:00+05:30'::TIMETZ, 'i': INTERVAL '1 year 2 months 3 days 04:05:06.789', 'n': INTERVAL '-1 second', 'z': INTERVAL '0 seconds'}",
  "{'ns': '2020-01-01 00:00:00.123456789'::TIMESTAMP_NS, 's': '2020-01-01 00:00:00'::TIMESTAMP_S, 'ms': '2020-01-01 00:00:00.5'::TIMESTAMP_MS, 'tns': '12:00:00.1'::TIME_NS, 'inf': 'infinity'::TIMESTAMP_S}",
  "{'b': true, 'f': false, 'u': 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::UUID, 'bl': '\\x00\\xFFa\\x5C\\x27'::BLOB, 'bit': '1010'::BIT, 'dec': 1.50::DECIMAL(5,2), 'h': (-1)::HUGEINT, 'e': 'happy'::mood}",
  "{'j': '{\"a\": 1}'::JSON, 'l': ['{\"a\": 1}'::JSON, '[1, 2]'::JSON]}",
  "union_value(s := 'a b')::UNION(n INTEGER, s VARCHAR)",
  "{'u': union_value(s := 'a,b')::UNION(n INTEGER, s VARCHAR), 'l': [union_value(n := 1)::UNION(n INTEGER, s VARCHAR)]}",
  'row(1)',
  "{'s': [{'a': [MAP {'k': [1]}]}]}",
  "{'blank': ' ', 'tab': 'a\tb', 'nl': 'x\ny'}",
  '1::VARIANT',
  "{'a': 1, 'b': 'x'}::VARIANT",
  '[1, 2]::VARIANT',
  "'x y'::VARIANT",
  "'POINT (1 2)'::GEOMETRY",
  "'POINT Z (1 2 3)'::GEOMETRY",
  "'LINESTRING (0 0, 1.5 1, 1e20 0.1)'::GEOMETRY",
  "'POLYGON ((0 0, 1 0, 1 1, 0 0), (0.1 0.1, 0.2 0.1, 0.2 0.2, 0.1 0.1))'::GEOMETRY",
  "'MULTIPOINT ((1 2), (3 4))'::GEOMETRY",
  "'MULTILINESTRING ((0 0, 1 1), (2 2, 3 3))'::GEOMETRY",
  "'MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))'::GEOMETRY",
  "'GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (0 0, 1 1))'::GEOMETRY",
  "'POINT EMPTY'::GEOMETRY",
  "'LINESTRING EMPTY'::GEOMETRY",
  "'POINT M (1 2 3)'::GEOMETRY",
  "'POINT ZM (1 2 3 4)'::GEOMETRY",
  "'POINT (-0.000123 123456789012345678)'::GEOMETRY",
];

for (const expr of VALUES) {
  test(`${expr} renders as DuckDB casts it`, async () => {
    const [[ours, theirs]] = (await renderings(expr)) as [[string, string]];
    assert.is(ours, theirs);
  });
}

test('doubles inside nested values render as DuckDB casts them, for thousands of values', async () => {
  const rows = await renderings(
    "{'d': (random() * pow(10, floor(random() * 60) - 30))::DOUBLE, 'e': (random() * 9e18)::BIGINT::DOUBLE}",
    'FROM range(3000)',
  );
  const wrong = rows.filter(([ours, theirs]) => ours !== theirs);
  assert.equal(wrong.slice(0, 5), []);
});

test('FLOATs inside nested values read back to the same FLOAT in DuckDB', async () => {
  // DuckDB's own FLOAT text sometimes carries the double's digits (see duckdbFloatText); the text
  // written here is the float's shortest, so the check is that DuckDB reads it back to the same value.
  const result = await duck.run(
    "SELECT {'f': f} AS s, f FROM (SELECT (random() * pow(10, floor(random() * 20) - 10))::FLOAT AS f FROM range(2000))",
  );
  const codec = codecFor(result.columnType(0));
  const texts: string[] = [];
  const floats: number[] = [];
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    for (let i = 0; i < chunk.rowCount; i++) {
      const text = codec.text(chunk.getColumnVector(0).getItem(i), { timeZone: ZONE, extraFloatDigits: 1 });
      texts.push(text.slice("{'f': ".length, -1));
      floats.push(chunk.getColumnVector(1).getItem(i) as number);
    }
  }
  const list = texts.map((t) => `'${t}'::FLOAT`).join(', ');
  const back = (await duck.runAndReadAll(`SELECT unnest([${list}])`)).getRows().map((r) => r[0]);
  assert.equal(back, floats);
});

test('strings of every quoting-relevant character render as DuckDB casts them', async () => {
  const chars = [
    'a',
    ' ',
    '\t',
    "'",
    '"',
    '\\',
    ',',
    ':',
    '=',
    '[',
    ']',
    '{',
    '}',
    '(',
    ')',
    'é',
    'N',
    'U',
    'L',
  ];
  const strings: string[] = [''];
  for (const x of chars) for (const y of chars) strings.push(x + y, `${x}mid${y}`);
  const literal = strings.map((s) => `'${s.replaceAll("'", "''")}'`).join(', ');
  const rows = await renderings(`{'k': s}`, `FROM unnest([${literal}, 'NULL', 'nUlL']) AS t(s)`);
  const wrong = rows.filter(([ours, theirs]) => ours !== theirs);
  assert.equal(wrong.slice(0, 5), []);
});

test.run();
