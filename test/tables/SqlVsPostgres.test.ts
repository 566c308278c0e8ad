// Catalog tables through the server, differential against PostgreSQL 15: the same statements run on
// both and node-postgres must see the same rows, tags, row counts and SQLSTATEs.
import { test } from 'uvu';
import { loudHook } from '../helpers/loudHook.js';
import { type Pair, sameOnBoth, startPair } from './pgDiff.js';

let pair: Pair;

test.before(
  loudHook(async () => {
    pair = await startPair();
  }),
);
test.after(async () => {
  await pair?.stop();
});

test('CREATE TABLE, multi-row INSERT, DEFAULT, SELECT', async () => {
  await sameOnBoth(pair, [
    'CREATE TABLE d1 (id integer PRIMARY KEY, name text NOT NULL, qty integer DEFAULT 7, price numeric(10,2))',
    "INSERT INTO d1 VALUES (1, 'a', 1, 1.50), (2, 'b', DEFAULT, 2.25), (3, 'c', NULL, NULL)",
    "INSERT INTO d1 (id, name) VALUES (4, 'd')",
    'SELECT id, name, qty, price FROM d1 ORDER BY id',
    'SELECT count(*) AS n, sum(qty) AS s, max(price) AS m FROM d1',
    'CREATE TABLE IF NOT EXISTS d1 (x int)',
    'CREATE TABLE d1 (x int)',
  ]);
});

test('parameters take the column types', async () => {
  await sameOnBoth(pair, [
    'CREATE TABLE p1 (id bigint PRIMARY KEY, ts timestamp, amount numeric(12,3), flag boolean, note varchar(20))',
    ['INSERT INTO p1 VALUES ($1, $2, $3, $4, $5)', ['10', '2024-01-02 03:04:05', '12.5', true, 'hello']],
    ['INSERT INTO p1 (id, note) VALUES ($1, $2)', [11, null]],
    ['SELECT id, ts, amount, flag, note FROM p1 WHERE id >= $1 ORDER BY id', [10]],
    ['UPDATE p1 SET amount = $1, note = $2 WHERE id = $3', ['99.125', 'upd', 11]],
    'SELECT id, amount, note FROM p1 ORDER BY id',
  ]);
});

test('RETURNING on INSERT, UPDATE and DELETE', async () => {
  await sameOnBoth(pair, [
    'CREATE TABLE r1 (id serial PRIMARY KEY, a int, b text)',
    "INSERT INTO r1 (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z') RETURNING id, a",
    "INSERT INTO r1 (a, b) VALUES (4, 'w') RETURNING *",
    'UPDATE r1 SET a = a * 10 WHERE a >= 3 RETURNING id, a, b',
    'DELETE FROM r1 WHERE a = 2 RETURNING *',
    'SELECT * FROM r1 ORDER BY id',
  ]);
});

test('UPDATE and DELETE with subqueries', async () => {
  await sameOnBoth(pair, [
    'CREATE TABLE s1 (id int PRIMARY KEY, grp int, v int)',
    'CREATE TABLE s2 (grp int, bonus int)',
    'INSERT INTO s1 SELECT g, g % 3, g * 2 FROM generate_series(1, 30) AS t(g)',
    'INSERT INTO s2 VALUES (0, 100), (1, 1000)',
    'UPDATE s1 SET v = v + 1 WHERE grp IN (SELECT grp FROM s2 WHERE bonus > 500)',
    'DELETE FROM s1 WHERE v > (SELECT avg(v) FROM s1)',
    'UPDATE s1 SET v = s2.bonus FROM s2 WHERE s1.grp = s2.grp AND s1.id < 5',
    'SELECT id, grp, v FROM s1 ORDER BY id',
    'DELETE FROM s1 USING s2 WHERE s1.grp = s2.grp AND s2.bonus = 100',
    'SELECT count(*) AS n, sum(v) AS s FROM s1',
  ]);
});

test('constraints: PRIMARY KEY, UNIQUE, NOT NULL, CHECK leave the table unchanged', async () => {
  await sameOnBoth(pair, [
    'CREATE TABLE c1 (id int PRIMARY KEY, email text UNIQUE, age int CHECK (age >= 0), name text NOT NULL)',
    "INSERT INTO c1 VALUES (1, 'a@x', 30, 'a'), (2, 'b@x', 40, 'b')",
    "INSERT INTO c1 VALUES (1, 'c@x', 1, 'c')",
    "INSERT INTO c1 VALUES (3, 'a@x', 1, 'c')",
    "INSERT INTO c1 VALUES (3, 'c@x', -1, 'c')",
    "INSERT INTO c1 VALUES (3, 'c@x', 1, NULL)",
    "INSERT INTO c1 VALUES (3, 'c@x', 1, 'c'), (3, 'd@x', 1, 'd')",
    'UPDATE c1 SET id = 2 WHERE id = 1',
    'UPDATE c1 SET age = -5',
    'SELECT * FROM c1 ORDER BY id',
  ]);
});

test('ON CONFLICT DO NOTHING and DO UPDATE', async () => {
  await sameOnBoth(pair, [
    'CREATE TABLE u1 (k int PRIMARY KEY, v text, n int DEFAULT 0)',
    "INSERT INTO u1 VALUES (1, 'one', 1), (2, 'two', 1)",
    "INSERT INTO u1 VALUES (1, 'uno', 5), (3, 'three', 1) ON CONFLICT DO NOTHING",
    "INSERT INTO u1 VALUES (2, 'dos', 5), (4, 'four', 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = u1.n + excluded.n",
    "INSERT INTO u1 VALUES (4, 'cuatro', 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE u1.n > 100",
    "INSERT INTO u1 AS t VALUES (3, 'tres', 2) ON CONFLICT (k) DO UPDATE SET n = t.n + 10 RETURNING k, v, n",
    "INSERT INTO u1 VALUES (5, 'a', 1), (5, 'b', 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
    'SELECT * FROM u1 ORDER BY k',
  ]);
});

test('transactions: BEGIN/COMMIT, ROLLBACK, own writes visible', async () => {
  await sameOnBoth(pair, [
    'CREATE TABLE t1 (id int PRIMARY KEY, v text)',
    'BEGIN',
    "INSERT INTO t1 VALUES (1, 'a')",
    'SELECT * FROM t1',
    "UPDATE t1 SET v = 'b'",
    'COMMIT',
    'BEGIN',
    "INSERT INTO t1 VALUES (2, 'c')",
    'DELETE FROM t1 WHERE id = 1',
    'SELECT * FROM t1 ORDER BY id',
    'ROLLBACK',
    'SELECT * FROM t1 ORDER BY id',
    'BEGIN',
    "INSERT INTO t1 VALUES (1, 'dup')",
    'SELECT 1 AS one',
    'COMMIT',
    'SELECT * FROM t1 ORDER BY id',
  ]);
});

test('views: CREATE, query, DROP with dependents', async () => {
  await sameOnBoth(pair, [
    'CREATE TABLE v1 (id int, cat text, amount int)',
    "INSERT INTO v1 VALUES (1, 'x', 10), (2, 'y', 20), (3, 'x', 30)",
    'CREATE VIEW v1_totals AS SELECT cat, sum(amount) AS total FROM v1 GROUP BY cat',
    'CREATE VIEW v1_big (ident, amt) AS SELECT id, amount FROM v1 WHERE amount > 15',
    'SELECT * FROM v1_totals ORDER BY cat',
    'SELECT * FROM v1_big ORDER BY ident',
    "INSERT INTO v1 VALUES (4, 'y', 40)",
    'SELECT t.cat, t.total, b.ident FROM v1_totals t JOIN v1_big b ON true WHERE b.amt = 40 ORDER BY 1',
    'DROP TABLE v1',
    'DROP VIEW v1_big',
    'DROP TABLE v1 CASCADE',
    'SELECT * FROM v1_totals',
  ]);
});

test('sequences and SERIAL/IDENTITY', async () => {
  await sameOnBoth(pair, [
    'CREATE SEQUENCE q1 START 100 INCREMENT 5',
    "SELECT nextval('q1') AS a",
    "SELECT nextval('q1') AS a",
    "SELECT currval('q1') AS c",
    "SELECT setval('q1', 500) AS s",
    "SELECT nextval('q1') AS a",
    'CREATE TABLE q2 (id bigserial PRIMARY KEY, n int GENERATED BY DEFAULT AS IDENTITY, v text)',
    "INSERT INTO q2 (v) VALUES ('a'), ('b') RETURNING id, n, v",
    "INSERT INTO q2 (v) VALUES ('c')",
    "INSERT INTO q2 (id, n, v) VALUES (DEFAULT, 77, 'd') RETURNING *",
    "INSERT INTO q2 (v) SELECT 'gen' || g FROM generate_series(1, 3) AS s(g) RETURNING id, n, v",
    'SELECT * FROM q2 ORDER BY id',
    "SELECT currval('q2_id_seq') AS c",
  ]);
});

test('ALTER TABLE: ADD/DROP/RENAME COLUMN, RENAME TO, TYPE, DEFAULT, NOT NULL', async () => {
  await sameOnBoth(pair, [
    'CREATE TABLE a1 (id int, v int)',
    'INSERT INTO a1 VALUES (1, 10), (2, NULL)',
    "ALTER TABLE a1 ADD COLUMN note text DEFAULT 'n/a'",
    'SELECT * FROM a1 ORDER BY id',
    'ALTER TABLE a1 RENAME COLUMN v TO val',
    'ALTER TABLE a1 ALTER COLUMN val TYPE bigint',
    'ALTER TABLE a1 ALTER COLUMN val SET DEFAULT 5',
    'INSERT INTO a1 (id) VALUES (3)',
    'ALTER TABLE a1 ALTER COLUMN val SET NOT NULL',
    'UPDATE a1 SET val = 0 WHERE val IS NULL',
    'ALTER TABLE a1 ALTER COLUMN val SET NOT NULL',
    'INSERT INTO a1 (id, val) VALUES (4, NULL)',
    'ALTER TABLE a1 ALTER COLUMN val DROP NOT NULL',
    'ALTER TABLE a1 ALTER COLUMN val DROP DEFAULT',
    'ALTER TABLE a1 DROP COLUMN note',
    'ALTER TABLE a1 RENAME TO a1_renamed',
    'SELECT * FROM a1_renamed ORDER BY id',
    'SELECT * FROM a1',
  ]);
});

test('schemas, TRUNCATE, DROP TABLE IF EXISTS, CREATE TABLE AS, INSERT ... SELECT', async () => {
  await sameOnBoth(pair, [
    'CREATE SCHEMA sales',
    'CREATE TABLE sales.orders (id int PRIMARY KEY, total numeric(8,2))',
    'INSERT INTO sales.orders SELECT g, g * 1.25 FROM generate_series(1, 50) AS s(g)',
    'CREATE TABLE big_orders AS SELECT id, total FROM sales.orders WHERE total > 40',
    'SELECT count(*) AS n, min(id) AS lo FROM big_orders',
    'INSERT INTO big_orders SELECT id + 100, total FROM big_orders WHERE id < 40',
    'SELECT count(*) AS n FROM big_orders',
    'TRUNCATE big_orders',
    'SELECT count(*) AS n FROM big_orders',
    'DROP TABLE IF EXISTS nothing_here',
    'DROP TABLE big_orders',
    'DROP SCHEMA sales',
    'DROP SCHEMA sales CASCADE',
    'SELECT * FROM sales.orders',
  ]);
});

test('interval field qualifiers keep their unit in CREATE TABLE AS, INSERT ... SELECT, views and UPDATE', async () => {
  await sameOnBoth(pair, [
    'CREATE TABLE iv (id int PRIMARY KEY, d date)',
    "INSERT INTO iv VALUES (1, date '2020-01-31'), (2, date '2021-06-15')",
    "CREATE TABLE iv2 AS SELECT id, d + interval '3' month AS m, d + interval '2' day AS dd, d + interval '1-2' year to month AS ym FROM iv",
    'SELECT id, m, dd, ym FROM iv2 ORDER BY id',
    'CREATE TABLE iv3 (id int, t timestamp)',
    "INSERT INTO iv3 SELECT id, d + interval '1 12:30' day to minute FROM iv",
    "INSERT INTO iv3 SELECT id + 10, d + '90'::interval minute FROM iv",
    'SELECT id, t FROM iv3 ORDER BY id',
    "CREATE VIEW iv_v AS SELECT id, d - interval '1' year AS y FROM iv",
    'SELECT id, y FROM iv_v ORDER BY id',
    "UPDATE iv SET d = d + interval '10' day WHERE id = 1",
    'SELECT id, d FROM iv ORDER BY id',
  ]);
});

test('ENUM types from CREATE TYPE ... AS ENUM', async () => {
  await sameOnBoth(pair, [
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    'CREATE TABLE e1 (id int, m mood, ms mood[])',
    "INSERT INTO e1 VALUES (1, 'happy', NULL), (2, 'sad', NULL), (3, 'ok', NULL)",
    "INSERT INTO e1 VALUES (4, 'angry', NULL)",
    'SELECT id, m FROM e1 ORDER BY m',
    "SELECT id FROM e1 WHERE m = 'sad' ORDER BY id",
    "CREATE TYPE mood AS ENUM ('x')",
    'DROP TABLE e1',
    'DROP TYPE mood',
    'DROP TYPE IF EXISTS mood',
  ]);
});

test('CREATE INDEX is accepted; VACUUM and ANALYZE run', async () => {
  await sameOnBoth(pair, [
    'CREATE TABLE i1 (id int, v text)',
    "INSERT INTO i1 VALUES (1, 'a'), (2, 'b')",
    'CREATE INDEX i1_v_idx ON i1 (v)',
    'CREATE UNIQUE INDEX i1_id_key ON i1 (id)',
    "INSERT INTO i1 VALUES (1, 'dup')",
    'DELETE FROM i1 WHERE id = 2',
    'VACUUM i1',
    'ANALYZE i1',
    'SELECT * FROM i1 ORDER BY id',
    'DROP INDEX i1_v_idx',
  ]);
});

test.run();
