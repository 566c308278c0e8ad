import { DuckDBInstance } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StatementCache } from '../../worker/StatementCache.js';

const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
const connection = await instance.connect();

test('a statement given back is the one the next take of the same SQL gets, and it runs again', async () => {
  const cache = new StatementCache(connection);
  const sql = 'SELECT sum(i) AS s FROM range(1000) t(i)';
  const first = await cache.take(sql);
  assert.equal((await first.runAndReadAll()).getRowsJson(), [['499500']]);
  cache.give(sql, first);
  const again = await cache.take(sql);
  assert.is(again, first);
  assert.equal((await again.runAndReadAll()).getRowsJson(), [['499500']]);
  // Taken and not given back: the next take prepares another, so two tasks never share one.
  const other = await cache.take(sql);
  assert.is.not(other, again);
  other.destroySync();
  again.destroySync();
});

test('beyond 32 statements the least recently used is destroyed', async () => {
  const cache = new StatementCache(connection);
  const taken: { sql: string; statement: Awaited<ReturnType<StatementCache['take']>> }[] = [];
  for (let i = 0; i < 33; i++) {
    const sql = `SELECT ${i} AS n`;
    taken.push({ sql, statement: await cache.take(sql) });
  }
  for (const { sql, statement } of taken) cache.give(sql, statement);
  // The first one given back was let go: taking its SQL prepares it afresh.
  const oldest = await cache.take('SELECT 0 AS n');
  assert.is.not(oldest, taken[0]!.statement);
  assert.is(await cache.take('SELECT 32 AS n'), taken[32]!.statement);
  oldest.destroySync();
  taken[32]!.statement.destroySync();
  cache.clear();
});

test.run();
