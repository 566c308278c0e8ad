import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type MallardServer, startMallard } from '../helpers/mallard.js';

// Simple-protocol SELECTs are kept prepared per session; they must never return a stale shape.

let server: MallardServer;
let a: pg.Client;
let b: pg.Client;

test.before(async () => {
  server = await startMallard();
  a = new pg.Client({ connectionString: server.url });
  b = new pg.Client({ connectionString: server.url });
  await a.connect();
  await b.connect();
});

test.after(async () => {
  await a?.end();
  await b?.end();
  await server?.stop();
});

test('a repeated simple SELECT sees columns added by another session', async () => {
  await b.query('CREATE TABLE shape (a int)');
  await b.query('INSERT INTO shape VALUES (1)');
  const before = await a.query('SELECT * FROM shape');
  assert.equal(
    before.fields.map((f) => f.name),
    ['a'],
  );
  await b.query('ALTER TABLE shape ADD COLUMN b int DEFAULT 5');
  const after = await a.query('SELECT * FROM shape');
  assert.equal(
    after.fields.map((f) => f.name),
    ['a', 'b'],
  );
  assert.equal(after.rows, [{ a: 1, b: 5 }]);
});

test('a repeated simple SELECT sees a changed column type', async () => {
  await b.query('CREATE TABLE retyped (x int)');
  await b.query('INSERT INTO retyped VALUES (7)');
  assert.equal((await a.query('SELECT x FROM retyped')).rows, [{ x: 7 }]);
  await b.query('ALTER TABLE retyped ALTER COLUMN x TYPE text');
  const r = await a.query('SELECT x FROM retyped');
  assert.is(r.fields[0]!.dataTypeID, 25);
  assert.equal(r.rows, [{ x: '7' }]);
});

test('a repeated unnamed Parse (a parameterised query) sees columns added by another session', async () => {
  await b.query('CREATE TABLE param_shape (a int)');
  await b.query('INSERT INTO param_shape VALUES (1)');
  const text = 'SELECT * FROM param_shape WHERE a = $1';
  assert.equal((await a.query(text, [1])).rows, [{ a: 1 }]);
  assert.equal((await a.query(text, [1])).rows, [{ a: 1 }]);
  await b.query('ALTER TABLE param_shape ADD COLUMN d text DEFAULT $$x$$');
  assert.equal((await a.query(text, [1])).rows, [{ a: 1, d: 'x' }]);
});

test('a cached statement follows a DDL that another session rolled back', async () => {
  await b.query('CREATE TABLE rolled (a int)');
  await b.query('INSERT INTO rolled VALUES (1)');
  await b.query('BEGIN');
  await b.query('ALTER TABLE rolled ADD COLUMN e int DEFAULT 9');
  await b.query('ROLLBACK');
  assert.equal((await a.query('SELECT * FROM rolled WHERE a = $1', [1])).rows, [{ a: 1 }]);
});

test('a named prepared statement whose result changed shape fails like PostgreSQL, and recovers', async () => {
  await b.query('CREATE TABLE named_shape (a int)');
  await b.query('INSERT INTO named_shape VALUES (1)');
  assert.equal((await a.query({ name: 'ns', text: 'SELECT * FROM named_shape' })).rows, [{ a: 1 }]);
  await b.query('ALTER TABLE named_shape ADD COLUMN c int DEFAULT 3');
  try {
    await a.query({ name: 'ns', text: 'SELECT * FROM named_shape' });
    assert.unreachable('the stale statement ran');
  } catch (err) {
    assert.is((err as { code?: string }).code, '0A000');
    assert.match((err as Error).message, 'cached plan must not change result type');
  }
  assert.equal((await a.query('SELECT 1 AS ok')).rows, [{ ok: 1 }]);
});

test.run();
