// postgres.js against the selected target, differential against PostgreSQL 15. postgres.js prepares every
// statement (named Parse/Describe/Bind/Execute) and, on connect, reads pg_catalog.pg_type to learn the
// array types; both are on by default and both are exercised here.
import { inspect } from 'node:util';
import postgres from 'postgres';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loudHook } from '../helpers/loudHook.js';
import { type RunningTarget, startTarget } from '../helpers/targets.js';

let target: RunningTarget;
let reference: RunningTarget;
let sql: postgres.Sql;
let refSql: postgres.Sql;

function connect(t: RunningTarget): postgres.Sql {
  // Defaults on purpose (prepare: true, fetch_types: true); notices would only clutter the output.
  return postgres(t.url, { connect_timeout: 10, max: 4, onnotice: () => {} });
}

/** What a promise rejects with; a failure when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<postgres.PostgresError> {
  let value: unknown;
  try {
    value = await promise;
  } catch (e) {
    return e as postgres.PostgresError;
  }
  throw new Error(`expected an error, got ${inspect(value)}`);
}

/** Runs setup SQL once on each distinct server (target and reference are one server in postgres mode). */
async function setupBoth(...statements: string[]): Promise<void> {
  for (const s of reference === target ? [sql] : [sql, refSql]) {
    for (const text of statements) await s.unsafe(text);
  }
}

test.before(
  loudHook(async () => {
    target = await startTarget();
    reference = target.name === 'postgres' ? target : await startTarget('postgres');
    sql = connect(target);
    refSql = connect(reference);
  }),
);

test.after(
  loudHook(async () => {
    await sql?.end({ timeout: 5 });
    await refSql?.end({ timeout: 5 });
    await target?.stop();
    if (reference !== target) await reference?.stop();
  }),
);

const localDate = (y: number, m: number, d: number, h = 0, min = 0, s = 0, ms = 0): Date =>
  new Date(y, m - 1, d, h, min, s, ms);

/** [SQL expression, the value postgres.js parses from PostgreSQL's answer] */
const TYPE_CASES: [string, unknown][] = [
  ['true', true],
  ["'-32768'::int2", -32768],
  ['2147483647', 2147483647],
  ['9223372036854775807::int8', '9223372036854775807'],
  ['1.5::float4', 1.5],
  ['0.1::float8', 0.1],
  ["'NaN'::float8", Number.NaN],
  ['123.4500::numeric(10,4)', '123.4500'],
  ["'héllo ✓'::text", 'héllo ✓'],
  ["'abc'::varchar(5)", 'abc'],
  ["'abcde'::char(5)", 'abcde'],
  ["'abc'::bytea", Buffer.from('abc')],
  // postgres.js builds a date with new Date('2024-02-29'): midnight UTC.
  ["DATE '2024-02-29'", new Date('2024-02-29T00:00:00Z')],
  ["TIME '12:34:56.789'", '12:34:56.789'],
  ["TIMESTAMP '2024-01-02 03:04:05.678'", localDate(2024, 1, 2, 3, 4, 5, 678)],
  ["TIMESTAMPTZ '2024-01-02 03:04:05.25+02'", new Date('2024-01-02T01:04:05.250Z')],
  ["INTERVAL '1 day 02:03:04'", '1 day 02:03:04'],
  ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  ['\'{"a": [1, {"b": null}]}\'::json', { a: [1, { b: null }] }],
  ['\'{"k": 1}\'::jsonb', { k: 1 }],
  ['NULL::int', null],
  // Arrays are parsed only because the array types were fetched on connect.
  ['ARRAY[1, 2]', [1, 2]],
  ['ARRAY[1, 9000000000]::int8[]', ['1', '9000000000']],
  ['ARRAY[1.50]::numeric(5,2)[]', ['1.50']],
  ['ARRAY[1.5, -2]::float8[]', [1.5, -2]],
  // postgres.js reads a NULL element of a text array as the string 'NULL'; what matters is the same answer.
  ["ARRAY['a', NULL, 'b c', 'x,y']", ['a', 'NULL', 'b c', 'x,y']],
  ["ARRAY[DATE '2024-01-01']", [new Date('2024-01-01T00:00:00Z')]],
  ['ARRAY[true, false]', [true, false]],
  ['ARRAY[]::int4[]', []],
];

test('connects with the default type fetch and parses every type like PostgreSQL', async () => {
  const problems: string[] = [];
  for (const [expr, literal] of TYPE_CASES) {
    const text = `SELECT ${expr} AS v`;
    let actual: unknown;
    let expected: unknown;
    try {
      [[{ v: actual }], [{ v: expected }]] = await Promise.all([sql.unsafe(text), refSql.unsafe(text)]);
    } catch (e) {
      problems.push(`${text} failed: ${(e as Error).message}`);
      continue;
    }
    try {
      assert.equal(expected, literal);
    } catch {
      problems.push(`${text}: PostgreSQL gave ${inspect(expected)}, the test expects ${inspect(literal)}`);
      continue;
    }
    try {
      assert.equal(actual, expected);
    } catch {
      problems.push(`${text}: ${target.name} gave ${inspect(actual)}, PostgreSQL ${inspect(expected)}`);
    }
  }
  if (problems.length) assert.unreachable(`${problems.length} problems:\n${problems.join('\n')}`);
});

test('tagged-template parameters in the SELECT list, WHERE and LIMIT', async () => {
  const [row] =
    await sql`SELECT ${41}::int + 1 AS a, ${'héllo'}::text AS b, ${true}::bool AS c, ${null}::int AS d`;
  assert.equal({ ...row }, { a: 42, b: 'héllo', c: true, d: null });
  const where =
    await sql`SELECT n::int AS n FROM generate_series(1, 10) AS t(n) WHERE n > ${3} AND n <= ${6} ORDER BY n`;
  assert.equal(
    where.map((r) => r.n),
    [4, 5, 6],
  );
  const limit = await sql`SELECT n::int AS n FROM generate_series(1, 100) AS t(n) ORDER BY n DESC LIMIT ${2}`;
  assert.equal(
    limit.map((r) => r.n),
    [100, 99],
  );
  assert.is(limit.count, 2);
  assert.is(limit.command, 'SELECT');
});

test('parameters of every common type round-trip, as on PostgreSQL', async () => {
  const query = (s: postgres.Sql) =>
    s`SELECT ${7}::int AS a, ${'seven'}::text AS b, ${7.5}::float8 AS c, ${'2024-02-29'}::date AS d,
      ${Buffer.from([0, 255, 1])}::bytea AS e, ${'12.34'}::numeric(10,2) AS f,
      ${new Date('2024-01-02T03:04:05.678Z')}::timestamptz AS g, ${'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'}::uuid AS h,
      ${'9000000000'}::int8 AS i, ${s.json({ x: [1, 'y'] })}::json AS j, ${s.array([1, 2, 3])}::int[] AS k`;
  const [actual, expected] = await Promise.all([query(sql), query(refSql)]);
  assert.equal(
    { ...expected[0] },
    {
      a: 7,
      b: 'seven',
      c: 7.5,
      d: new Date('2024-02-29T00:00:00Z'),
      e: Buffer.from([0, 255, 1]),
      f: '12.34',
      g: new Date('2024-01-02T03:04:05.678Z'),
      h: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      i: '9000000000',
      j: { x: [1, 'y'] },
      k: [1, 2, 3],
    },
  );
  assert.equal({ ...actual[0] }, { ...expected[0] });
});

test('a prepared statement is reused with new parameters', async () => {
  const seen: number[] = [];
  for (let i = 0; i < 50; i++) {
    const [{ v }] = await sql`SELECT ${i}::int * 2 AS v`;
    seen.push(v);
  }
  assert.equal(
    seen,
    Array.from({ length: 50 }, (_, i) => i * 2),
  );
});

test('inserts with parameters and reads them back', async () => {
  await setupBoth('CREATE TABLE pj_items (id integer PRIMARY KEY, name varchar, price numeric(8,2))');
  const items = [
    [1, 'apple', '0.50'],
    [2, 'pear', null],
    [3, "o'clock", '12.00'],
  ] as const;
  for (const [id, name, price] of items) {
    const r = await sql`INSERT INTO pj_items VALUES (${id}, ${name}, ${price})`;
    assert.is(r.count, 1);
    assert.is(r.command, 'INSERT');
    if (reference !== target) await refSql`INSERT INTO pj_items VALUES (${id}, ${name}, ${price})`;
  }
  const [actual, expected] = await Promise.all([
    sql`SELECT * FROM pj_items ORDER BY id`,
    refSql`SELECT * FROM pj_items ORDER BY id`,
  ]);
  assert.equal(
    expected.map((r) => ({ ...r })),
    [
      { id: 1, name: 'apple', price: '0.50' },
      { id: 2, name: 'pear', price: null },
      { id: 3, name: "o'clock", price: '12.00' },
    ],
  );
  assert.equal(
    actual.map((r) => ({ ...r })),
    expected.map((r) => ({ ...r })),
  );
});

test('sql.begin commits, and rolls back when the callback throws', async () => {
  await sql`CREATE TABLE pj_tx (id integer)`;
  const count = async () => (await sql`SELECT count(*)::int AS n FROM pj_tx`)[0].n;
  const result = await sql.begin(async (tx) => {
    await tx`INSERT INTO pj_tx VALUES (1)`;
    await tx`INSERT INTO pj_tx VALUES (2)`;
    const [{ n }] = await tx`SELECT count(*)::int AS n FROM pj_tx`;
    return n;
  });
  assert.is(result, 2);
  assert.is(await count(), 2);

  const thrown = await rejection(
    sql.begin(async (tx) => {
      await tx`INSERT INTO pj_tx VALUES (3)`;
      throw new Error('changed my mind');
    }),
  );
  assert.is(thrown.message, 'changed my mind');
  assert.is(await count(), 2);

  // A failing statement inside the transaction rejects begin() with the server's error and rolls back.
  const failed = await rejection(
    sql.begin(async (tx) => {
      await tx`INSERT INTO pj_tx VALUES (4)`;
      await tx`SELECT * FROM no_such_table_here`;
    }),
  );
  assert.is(failed.code, '42P01');
  assert.is(await count(), 2);
});

test('cursor() streams 10,000 rows in batches of 100', async () => {
  const sizes: number[] = [];
  let next = 1;
  let wrong = 0;
  for await (const rows of sql`SELECT n::int AS n FROM generate_series(1, 10000) AS t(n) ORDER BY n`.cursor(
    100,
  )) {
    sizes.push(rows.length);
    for (const row of rows) if (row.n !== next++) wrong++;
  }
  const report = `${sizes.length} batches, sizes ${[...new Set(sizes)].join(', ')}, last ${sizes.slice(-3).join(', ')}`;
  assert.is(wrong, 0, report);
  assert.is(next, 10_001, report);
  assert.ok(sizes.length === 100 && sizes.every((n) => n === 100), report);
});

test('a cursor left early releases the connection', async () => {
  const seen: number[] = [];
  for await (const rows of sql`SELECT n::int AS n FROM generate_series(1, 10000) AS t(n) ORDER BY n`.cursor(
    10,
  )) {
    seen.push(...rows.map((r) => r.n));
    if (seen.length >= 30) break;
  }
  assert.equal(
    seen,
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
  const [{ ok }] = await sql`SELECT 1 AS ok`;
  assert.is(ok, 1);
});

test('forEach() visits every row in order', async () => {
  let next = 1;
  let wrong = 0;
  const result = await sql`SELECT n::int AS n FROM generate_series(1, 5000) AS t(n) ORDER BY n`.forEach(
    (row) => {
      if (row.n !== next++) wrong++;
    },
  );
  assert.is(wrong, 0);
  assert.is(next, 5001);
  assert.is(result.count, 5000);
});

test('errors carry their SQLSTATE and the connection stays usable', async () => {
  await setupBoth('CREATE TABLE pj_uniq (id integer PRIMARY KEY)', 'INSERT INTO pj_uniq VALUES (1)');
  const cases: [string, (s: postgres.Sql) => Promise<unknown>][] = [
    ['42601', (s) => s.unsafe('SELEC 1')],
    ['42P01', (s) => s`SELECT * FROM no_such_table_here`],
    ['42703', (s) => s`SELECT no_such_column FROM (SELECT 1 AS a) AS t`],
    ['22012', (s) => s`SELECT 1 / 0`],
    ['22P02', (s) => s`SELECT ${'abc'}::integer`],
    ['23505', (s) => s`INSERT INTO pj_uniq VALUES (${1})`],
  ];
  const problems: string[] = [];
  for (const [code, query] of cases) {
    for (const [name, s] of [
      ['PostgreSQL', refSql],
      [target.name, sql],
    ] as const) {
      let err: postgres.PostgresError;
      try {
        err = await rejection(query(s));
      } catch (e) {
        problems.push(`${name}: expected ${code}: ${(e as Error).message}`);
        continue;
      }
      if (!(err instanceof postgres.PostgresError) || err.code !== code || err.severity !== 'ERROR') {
        problems.push(`${name}: expected ${code}, got ${inspect(err)}`);
      }
      const [{ ok }] = await s`SELECT 1 AS ok`;
      if (ok !== 1) problems.push(`${name}: not usable after ${code}`);
    }
  }
  if (problems.length) assert.unreachable(`${problems.length} problems:\n${problems.join('\n')}`);
});

test('unsafe() with several statements returns every result', async () => {
  const results = (await sql.unsafe("SELECT 1 AS a; SELECT 'two' AS b")) as unknown as postgres.RowList<
    postgres.Row[]
  >[];
  assert.equal(
    results.map((r) => r.map((row) => ({ ...row }))),
    [[{ a: 1 }], [{ b: 'two' }]],
  );
});

test.run();
