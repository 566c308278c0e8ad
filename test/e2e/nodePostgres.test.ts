// node-postgres (pg, pg-cursor) against the selected target, differential against PostgreSQL 15: the same
// SQL runs on both and the JS values pg parses must be equal. Literal expectations pin what PostgreSQL
// returns, so the suite also fails when run with MALLARD_TEST_TARGET=postgres and a case is wrong.
import { inspect } from 'node:util';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loudHook } from '../helpers/loudHook.js';
import { longRunningQuery, type RunningTarget, startTarget } from '../helpers/targets.js';

let target: RunningTarget;
let reference: RunningTarget;
let client: pg.Client;
let refClient: pg.Client;

async function connect(t: RunningTarget, extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: t.url, connectionTimeoutMillis: 10_000, ...extra });
  // An 'error' event without a listener would crash the test process instead of failing one test.
  c.on('error', () => {});
  await c.connect();
  return c;
}

/** Runs the same query on the target and on PostgreSQL. */
async function both(config: pg.QueryConfig): Promise<{ actual: pg.QueryResult; expected: pg.QueryResult }> {
  const [actual, expected] = await Promise.all([client.query(config), refClient.query(config)]);
  return { actual, expected };
}

/** Runs setup SQL once on each distinct server (target and reference are one server in postgres mode). */
async function setupBoth(...statements: string[]): Promise<void> {
  for (const c of reference === target ? [client] : [client, refClient]) {
    for (const sql of statements) await c.query(sql);
  }
}

/** What a query throws, or a failure when it succeeds. */
async function queryError(c: pg.Client, config: pg.QueryConfig | string): Promise<pg.DatabaseError> {
  let rows: unknown;
  try {
    rows = (await c.query(config)).rows;
  } catch (e) {
    return e as pg.DatabaseError;
  }
  throw new Error(`expected ${inspect(config)} to fail, it returned ${inspect(rows)}`);
}

async function assertUsable(c: pg.Client): Promise<void> {
  const r = await c.query('SELECT 1 AS ok');
  assert.equal(r.rows, [{ ok: 1 }]);
}

test.before(
  loudHook(async () => {
    target = await startTarget();
    reference = target.name === 'postgres' ? target : await startTarget('postgres');
    client = await connect(target);
    refClient = await connect(reference);
  }),
);

test.after(
  loudHook(async () => {
    await client?.end().catch(() => {});
    await refClient?.end().catch(() => {});
    await target?.stop();
    if (reference !== target) await reference?.stop();
  }),
);

const localDate = (y: number, m: number, d: number, h = 0, min = 0, s = 0, ms = 0): Date =>
  new Date(y, m - 1, d, h, min, s, ms);
const interval = (text: string): unknown => pg.types.getTypeParser(1186, 'text')(text);

/** [name, SQL expression, the value pg parses from PostgreSQL's answer] */
const TYPE_CASES: [string, string, unknown][] = [
  ['bool true', 'true', true],
  ['bool false', 'false', false],
  ['int2', "'-32768'::int2", -32768],
  ['int4', '2147483647', 2147483647],
  ['int8', '9223372036854775807::int8', '9223372036854775807'],
  ['float4', '1.5::float4', 1.5],
  ['float8', '0.1::float8', 0.1],
  ['float8 large', '1e300::float8', 1e300],
  ['float8 NaN', "'NaN'::float8", Number.NaN],
  ['float8 Infinity', "'Infinity'::float8", Number.POSITIVE_INFINITY],
  ['numeric', '123.4500::numeric(10,4)', '123.4500'],
  ['numeric negative', '(-0.05)::numeric(6,2)', '-0.05'],
  ['numeric wide', '12345678901234567890.123::numeric(38,3)', '12345678901234567890.123'],
  ['text', "'héllo wörld ✓'::text", 'héllo wörld ✓'],
  ['text empty', "''::text", ''],
  ['varchar', "'abc'::varchar(10)", 'abc'],
  ['bpchar', "'abcde'::char(5)", 'abcde'],
  ['bytea', "'abc'::bytea", Buffer.from('abc')],
  ['date', "DATE '2024-02-29'", localDate(2024, 2, 29)],
  ['time', "TIME '12:34:56.789'", '12:34:56.789'],
  ['timestamp', "TIMESTAMP '2024-01-02 03:04:05.678'", localDate(2024, 1, 2, 3, 4, 5, 678)],
  ['timestamptz', "TIMESTAMPTZ '2024-01-02 03:04:05.25+02'", new Date('2024-01-02T01:04:05.250Z')],
  ['interval', "INTERVAL '1 day 02:03:04'", interval('1 day 02:03:04')],
  ['interval months', "INTERVAL '1 year 2 months 3 days'", interval('1 year 2 mons 3 days')],
  ['uuid', "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  ['json', '\'{"a": [1, 2, {"b": null}]}\'::json', { a: [1, 2, { b: null }] }],
  ['jsonb', '\'{"k": "v", "n": 1.5}\'::jsonb', { k: 'v', n: 1.5 }],
  ['null', 'NULL::integer', null],
  ['int4[]', 'ARRAY[1, 2, 3]', [1, 2, 3]],
  ['int2[]', 'ARRAY[1, -2]::int2[]', [1, -2]],
  ['int8[]', 'ARRAY[1, 9000000000]::int8[]', ['1', '9000000000']],
  ['float4[]', 'ARRAY[1.5, -2.25]::float4[]', [1.5, -2.25]],
  ['float8[]', 'ARRAY[0.5, 1e10]::float8[]', [0.5, 1e10]],
  // pg-types parses numeric[] elements as JS numbers (unlike a numeric column, which stays a string).
  ['numeric[]', 'ARRAY[1.50, 2.25]::numeric(5,2)[]', [1.5, 2.25]],
  ['bool[]', 'ARRAY[true, false, NULL]', [true, false, null]],
  [
    'text[]',
    "ARRAY['a', 'b c', NULL, 'q\"uote', 'x,y', '{}', '']::text[]",
    ['a', 'b c', null, 'q"uote', 'x,y', '{}', ''],
  ],
  ['varchar[]', "ARRAY['a', 'b']::varchar[]", ['a', 'b']],
  ['date[]', "ARRAY[DATE '2024-01-01', DATE '1999-12-31']", [localDate(2024, 1, 1), localDate(1999, 12, 31)]],
  ['timestamp[]', "ARRAY[TIMESTAMP '2024-01-02 03:04:05']", [localDate(2024, 1, 2, 3, 4, 5)]],
  ['timestamptz[]', "ARRAY[TIMESTAMPTZ '2024-01-02 03:04:05+00']", [new Date('2024-01-02T03:04:05Z')]],
  ['uuid[]', "ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid]", ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11']],
  ['empty int4[]', 'ARRAY[]::int4[]', []],
];

test('every type parses to the same JS value as from PostgreSQL', async () => {
  const problems: string[] = [];
  for (const [name, expr, literal] of TYPE_CASES) {
    const text = `SELECT ${expr} AS v`;
    let actual: unknown;
    let expected: unknown;
    try {
      const r = await both({ text });
      actual = r.actual.rows[0]?.v;
      expected = r.expected.rows[0]?.v;
    } catch (e) {
      problems.push(`${name}: ${text} failed: ${(e as Error).message}`);
      continue;
    }
    try {
      assert.equal(expected, literal);
    } catch {
      problems.push(
        `${name}: ${text}: PostgreSQL gave ${inspect(expected)}, the test expects ${inspect(literal)}`,
      );
      continue;
    }
    try {
      assert.equal(actual, expected);
    } catch {
      problems.push(
        `${name}: ${text}: ${target.name} gave ${inspect(actual)}, PostgreSQL ${inspect(expected)}`,
      );
    }
  }
  if (problems.length) assert.unreachable(`${problems.length} problems:\n${problems.join('\n')}`);
});

test('result columns carry the PostgreSQL type OIDs', async () => {
  const text =
    "SELECT true AS b, 1::int2 AS i2, 1 AS i4, 1::int8 AS i8, 1::float4 AS f4, 1::float8 AS f8, 1::numeric(4,1) AS n, 'x'::text AS t, 'x'::varchar AS vc, 'x'::bytea AS by, DATE '2024-01-01' AS d, TIME '01:02:03' AS tm, TIMESTAMP '2024-01-01 00:00:00' AS ts, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS tz, INTERVAL '1 day' AS iv, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, ARRAY[1] AS ai, ARRAY['x'] AS at";
  const { actual, expected } = await both({ text });
  const oids = (r: pg.QueryResult) => r.fields.map((f) => [f.name, f.dataTypeID]);
  assert.equal(oids(expected), [
    ['b', 16],
    ['i2', 21],
    ['i4', 23],
    ['i8', 20],
    ['f4', 700],
    ['f8', 701],
    ['n', 1700],
    ['t', 25],
    ['vc', 1043],
    ['by', 17],
    ['d', 1082],
    ['tm', 1083],
    ['ts', 1114],
    ['tz', 1184],
    ['iv', 1186],
    ['u', 2950],
    ['ai', 1007],
    ['at', 1009],
  ]);
  const want = new Map(oids(expected) as [string, number][]);
  // DuckDB has one string type: a varchar cast is reported as text (docs/COMPATIBILITY.md); nothing else may differ.
  want.set('vc', 25);
  const wrong = oids(actual)
    .filter(([name, oid]) => want.get(name as string) !== oid)
    .map(([name, oid]) => `${name}: ${oid} (PostgreSQL: ${want.get(name as string)})`);
  assert.equal(
    actual.fields.map((f) => f.name),
    expected.fields.map((f) => f.name),
  );
  if (wrong.length) assert.unreachable(`wrong type OIDs:\n${wrong.join('\n')}`);
});

test('simple queries return rows, fields and command tags', async () => {
  const { actual, expected } = await both({
    text: "SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y' ORDER BY a",
  });
  assert.equal(expected.rows, [
    { a: 1, b: 'x' },
    { a: 2, b: 'y' },
  ]);
  assert.equal(actual.rows, expected.rows);
  assert.is(actual.command, 'SELECT');
  assert.is(actual.rowCount, 2);
  const empty = await client.query('SELECT 1 AS a WHERE false');
  assert.equal(empty.rows, []);
  assert.equal(
    empty.fields.map((f) => f.name),
    ['a'],
  );
});

test('parameters in the SELECT list, typed and untyped', async () => {
  const plusOne = await both({ text: 'SELECT $1::int + 1 AS v', values: [41] });
  assert.equal(plusOne.actual.rows, [{ v: 42 }]);
  const echoed = await both({ text: 'SELECT $1::text AS v', values: ['héllo'] });
  assert.equal(echoed.actual.rows, [{ v: 'héllo' }]);
  // An untyped parameter is inferred as text, as PostgreSQL infers unknown.
  const untyped = await both({ text: 'SELECT $1 AS v', values: ['plain'] });
  assert.equal(untyped.expected.rows, [{ v: 'plain' }]);
  assert.equal(untyped.actual.rows, untyped.expected.rows);
  const isNull = await both({ text: 'SELECT $1::int IS NULL AS v', values: [null] });
  assert.equal(isNull.actual.rows, [{ v: true }]);
});

test('parameters of every common type round-trip', async () => {
  const text =
    'SELECT $1::int AS a, $2::text AS b, $3::bool AS c, $4::float8 AS d, $5::date AS e, $6::bytea AS f, ' +
    '$7::numeric(10,2) AS g, $8::timestamptz AS h, $9::uuid AS i, $10::int[] AS j, $11::int8 AS k, $12::text[] AS l';
  const values = [
    7,
    'seven',
    true,
    7.5,
    '2024-02-29',
    Buffer.from([0, 255, 1, 128]),
    '12.34',
    new Date('2024-01-02T03:04:05.678Z'),
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    [1, 2, 3],
    '9000000000',
    ['a', 'b,c', null],
  ];
  const { actual, expected } = await both({ text, values });
  assert.equal(expected.rows, [
    {
      a: 7,
      b: 'seven',
      c: true,
      d: 7.5,
      e: localDate(2024, 2, 29),
      f: Buffer.from([0, 255, 1, 128]),
      g: '12.34',
      h: new Date('2024-01-02T03:04:05.678Z'),
      i: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      j: [1, 2, 3],
      k: '9000000000',
      l: ['a', 'b,c', null],
    },
  ]);
  assert.equal(actual.rows, expected.rows);
});

test('parameters in WHERE and LIMIT', async () => {
  const where = await both({
    text: 'SELECT n::int AS n FROM generate_series(1, 10) AS t(n) WHERE n > $1 AND n <= $2 ORDER BY n',
    values: [3, 6],
  });
  assert.equal(
    where.actual.rows.map((r) => r.n),
    [4, 5, 6],
  );
  const limit = await both({
    text: 'SELECT n::int AS n FROM generate_series(1, 100) AS t(n) ORDER BY n DESC LIMIT $1',
    values: [3],
  });
  assert.equal(
    limit.actual.rows.map((r) => r.n),
    [100, 99, 98],
  );
});

test('INSERT with parameters through a named prepared statement', async () => {
  await setupBoth(
    'CREATE TABLE params_t (id integer PRIMARY KEY, name varchar, amount numeric(10,2), flag boolean)',
  );
  const insert = { name: 'insert_params_t', text: 'INSERT INTO params_t VALUES ($1, $2, $3, $4)' };
  const rows: unknown[][] = [
    [1, 'one', '1.50', true],
    [2, null, '-2.25', false],
    [3, "it's", null, null],
  ];
  for (const values of rows) {
    const expected = await refClient.query({ ...insert, values });
    const actual = reference === target ? expected : await client.query({ ...insert, values });
    assert.is(expected.command, 'INSERT');
    assert.is(actual.command, 'INSERT');
    assert.is(actual.rowCount, 1);
  }
  const { actual, expected } = await both({ text: 'SELECT * FROM params_t ORDER BY id' });
  assert.equal(expected.rows, [
    { id: 1, name: 'one', amount: '1.50', flag: true },
    { id: 2, name: null, amount: '-2.25', flag: false },
    { id: 3, name: "it's", amount: null, flag: null },
  ]);
  assert.equal(actual.rows, expected.rows);
});

test('pg-cursor reads 10,000 rows in batches of 100 (Execute with a row limit)', async () => {
  const cursor = client.query(
    new Cursor('SELECT n::int AS n FROM generate_series(1, 10000) AS t(n) ORDER BY n'),
  );
  const sizes: number[] = [];
  let next = 1;
  let wrong = 0;
  for (;;) {
    const batch = await cursor.read(100);
    if (batch.length === 0) break;
    sizes.push(batch.length);
    for (const row of batch) if (row.n !== next++) wrong++;
    if (sizes.length > 200) break;
  }
  await cursor.close();
  const report = `${sizes.length} batches, sizes ${[...new Set(sizes)].join(', ')}, last ${sizes.slice(-3).join(', ')}`;
  assert.is(wrong, 0, report);
  assert.is(next, 10_001, report);
  assert.ok(sizes.length === 100 && sizes.every((n) => n === 100), report);
  await assertUsable(client);
});

test('pg-cursor closed early leaves the client usable', async () => {
  const cursor = client.query(
    new Cursor('SELECT n::int AS n FROM generate_series(1, 10000) AS t(n) ORDER BY n'),
  );
  const first = await cursor.read(10);
  assert.equal(
    first.map((r) => r.n),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  const second = await cursor.read(5);
  assert.equal(
    second.map((r) => r.n),
    [11, 12, 13, 14, 15],
  );
  await cursor.close();
  await assertUsable(client);
});

test('errors carry their SQLSTATE and the client stays usable', async () => {
  await setupBoth('CREATE TABLE uniq_t (id integer PRIMARY KEY)', 'INSERT INTO uniq_t VALUES (1)');
  const cases: [string, pg.QueryConfig][] = [
    ['42601', { text: 'SELEC 1' }],
    ['42P01', { text: 'SELECT * FROM no_such_table_here' }],
    ['42703', { text: 'SELECT no_such_column FROM (SELECT 1 AS a) AS s' }],
    ['22012', { text: 'SELECT 1 / 0' }],
    ['22P02', { text: "SELECT 'abc'::integer" }],
    ['22P02', { text: 'SELECT $1::integer AS v', values: ['abc'] }],
    ['23505', { text: 'INSERT INTO uniq_t VALUES (1)' }],
    ['23505', { text: 'INSERT INTO uniq_t VALUES ($1)', values: [1] }],
  ];
  const problems: string[] = [];
  for (const [code, config] of cases) {
    for (const [name, c] of [
      ['PostgreSQL', refClient],
      [target.name, client],
    ] as const) {
      let err: pg.DatabaseError;
      try {
        err = await queryError(c, config);
      } catch (e) {
        problems.push(`${name}: ${(e as Error).message}`);
        continue;
      }
      if (err.code !== code || err.severity !== 'ERROR' || !err.message) {
        problems.push(
          `${name}: ${config.text}: code ${err.code} severity ${err.severity} message ${err.message}`,
        );
      }
      await assertUsable(c);
    }
  }
  if (problems.length) assert.unreachable(`${problems.length} problems:\n${problems.join('\n')}`);
});

test('BEGIN/ROLLBACK discards and BEGIN/COMMIT keeps; an error aborts the transaction', async () => {
  await client.query('CREATE TABLE tx_t (id integer)');
  const count = async () => (await client.query('SELECT count(*)::int AS n FROM tx_t')).rows[0].n;
  await client.query('BEGIN');
  await client.query('INSERT INTO tx_t VALUES (1), (2)');
  assert.is(await count(), 2);
  await client.query('ROLLBACK');
  assert.is(await count(), 0);

  await client.query('BEGIN');
  await client.query('INSERT INTO tx_t VALUES (3)');
  await client.query('COMMIT');
  assert.is(await count(), 1);

  await client.query('BEGIN');
  await client.query('INSERT INTO tx_t VALUES (4)');
  const failed = await queryError(client, 'SELECT * FROM no_such_table_here');
  assert.is(failed.code, '42P01');
  const aborted = await queryError(client, 'SELECT 1');
  assert.is(aborted.code, '25P02');
  await client.query('ROLLBACK');
  assert.is(await count(), 1);
});

test('statement_timeout cancels a long query with 57014', async () => {
  await client.query('SET statement_timeout = 500');
  const err = await queryError(client, longRunningQuery(target.name));
  assert.is(err.code, '57014');
  await client.query('RESET statement_timeout');
  await assertUsable(client);
  // pg sends its statement_timeout option as a startup parameter.
  const limited = await connect(target, { statement_timeout: 500 });
  try {
    const startupErr = await queryError(limited, longRunningQuery(target.name));
    assert.is(startupErr.code, '57014');
    await assertUsable(limited);
  } finally {
    await limited.end();
  }
});

test('binary results (binary: true) parse to the same values as text results', async () => {
  // Values whose binary encodings are plain ASCII bytes: pg decodes binary DataRow fields through UTF-8.
  const text =
    "SELECT $1::int4 AS i4, $2::int2 AS i2, $3::int8 AS i8, $4::float8 AS f8, $5::bool AS b, $6::text AS t, TIMESTAMP '2000-01-01 00:00:00' AS ts, ARRAY[1, 2, 3] AS ai, ARRAY['x', 'yz'] AS at";
  const values = [258, 3, '4', 2, true, 'hello'];
  // @types/pg does not declare `binary`, which pg passes to Bind as the result format.
  const config: pg.QueryConfig & { binary: boolean } = { text, values, binary: true };
  const binary = await both(config);
  assert.equal(
    binary.expected.fields.map((f) => f.format),
    new Array(9).fill('binary'),
  );
  assert.equal(
    binary.actual.fields.map((f) => f.format),
    new Array(9).fill('binary'),
  );
  const expectedRow = {
    i4: 258,
    i2: 3,
    i8: '4',
    f8: 2,
    b: true,
    t: 'hello',
    ts: localDate(2000, 1, 1),
    ai: [1, 2, 3],
    at: ['x', 'yz'],
  };
  assert.equal(binary.expected.rows, [expectedRow]);
  assert.equal(binary.actual.rows, [expectedRow]);
  // The same query in text format gives the same values.
  const asText = await client.query({ text, values });
  assert.equal(asText.rows, [expectedRow]);
});

test('many queries on many clients at once', async () => {
  const clients = await Promise.all(Array.from({ length: 8 }, () => connect(target)));
  try {
    // Queries on one client run one after another (pg no longer queues them); the clients run in parallel.
    const results = await Promise.all(
      clients.map(async (c, i) => {
        const values: number[] = [];
        for (let j = 0; j < 10; j++)
          values.push((await c.query('SELECT $1::int * 100 + $2::int AS v', [i, j])).rows[0].v);
        return values;
      }),
    );
    assert.equal(
      results,
      clients.map((_, i) => Array.from({ length: 10 }, (_, j) => i * 100 + j)),
    );
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
});

test.run();
