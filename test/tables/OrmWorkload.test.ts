// An ORM's traffic through node-postgres, against Mallard and PostgreSQL 15 side by side: 1,000
// single-row INSERT ... RETURNING id, then updates and deletes by id, then upserts. Every RETURNING
// and every row count must match, and so must the final table.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loudHook } from '../helpers/loudHook.js';
import { type Pair, startPair } from './pgDiff.js';

let pair: Pair;

test.before(
  loudHook(async () => {
    pair = await startPair();
  }),
);
test.after(async () => {
  await pair?.stop();
});

const ROWS = 1000;

/** A deterministic stream of values, so both servers get the same statements. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('1,000 inserts with RETURNING, updates and deletes by id, upserts: same final table', async () => {
  const ddl = `CREATE TABLE accounts (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    balance numeric(12,2) NOT NULL DEFAULT 0,
    visits integer NOT NULL DEFAULT 0,
    active boolean NOT NULL DEFAULT true,
    updated_at timestamp
  )`;
  await Promise.all([pair.m.query(ddl), pair.p.query(ddl)]);

  const insert = {
    name: 'orm_insert',
    text: 'INSERT INTO accounts (email, balance, updated_at) VALUES ($1, $2, $3) RETURNING id',
  };
  const random = rng(42);
  for (let i = 0; i < ROWS; i++) {
    const values = [
      `user${i}@example.com`,
      (random() * 1000).toFixed(2),
      `2024-01-01 00:00:${String(i % 60).padStart(2, '0')}`,
    ];
    const [m, p] = await Promise.all([
      pair.m.query({ ...insert, values }),
      pair.p.query({ ...insert, values }),
    ]);
    assert.equal(m.rows, p.rows, `insert ${i}`);
    assert.is(m.rows.length, 1);
  }

  const update = {
    name: 'orm_update',
    text: 'UPDATE accounts SET balance = balance + $1, visits = visits + 1, updated_at = $2 WHERE id = $3',
  };
  for (let i = 0; i < 300; i++) {
    const id = 1 + Math.floor(random() * ROWS);
    const values = [(random() * 50).toFixed(2), '2024-02-01 12:00:00', id];
    const [m, p] = await Promise.all([
      pair.m.query({ ...update, values }),
      pair.p.query({ ...update, values }),
    ]);
    assert.is(m.rowCount, p.rowCount, `update of ${id}`);
  }

  const del = { name: 'orm_delete', text: 'DELETE FROM accounts WHERE id = $1' };
  for (let i = 0; i < 150; i++) {
    const values = [1 + Math.floor(random() * ROWS)];
    const [m, p] = await Promise.all([pair.m.query({ ...del, values }), pair.p.query({ ...del, values })]);
    assert.is(m.rowCount, p.rowCount, `delete of ${values[0]}`);
  }

  const upsert = {
    name: 'orm_upsert',
    text: `INSERT INTO accounts (email, balance, visits) VALUES ($1, $2, 1)
           ON CONFLICT (email) DO UPDATE SET balance = excluded.balance, visits = accounts.visits + 1
           RETURNING email, balance, visits`,
  };
  for (let i = 0; i < 200; i++) {
    // Half existing emails (some deleted above), half new ones.
    const n = i % 2 === 0 ? Math.floor(random() * ROWS) : ROWS + i;
    const values = [`user${n}@example.com`, (random() * 10).toFixed(2)];
    const [m, p] = await Promise.all([
      pair.m.query({ ...upsert, values }),
      pair.p.query({ ...upsert, values }),
    ]);
    assert.equal(m.rows, p.rows, `upsert of ${values[0]}`);
  }

  const final = 'SELECT email, balance, visits, active, updated_at FROM accounts ORDER BY email';
  const [m, p] = await Promise.all([pair.m.query(final), pair.p.query(final)]);
  assert.ok(p.rows.length > ROWS - 150, 'the workload left rows to compare');
  assert.equal(m.rows, p.rows);
});

test.run();
