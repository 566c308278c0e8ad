import { inspect } from 'node:util';
import pg from 'pg';
import * as assert from 'uvu/assert';
import { type MallardServer, startMallard } from '../helpers/mallard.js';
import { type PgServer, startPostgres } from '../helpers/postgres.js';

/** A Mallard server and a PostgreSQL 15, each with one node-postgres client. */
export interface Pair {
  mallard: MallardServer;
  postgres: PgServer;
  m: pg.Client;
  p: pg.Client;
  stop(): Promise<void>;
}

export async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  // An 'error' event without a listener would crash the test process instead of failing one test.
  c.on('error', () => {});
  await c.connect();
  return c;
}

export async function startPair(): Promise<Pair> {
  const [mallard, postgres] = await Promise.all([
    startMallard({ args: ['--table-storage', 'parquet'] }),
    startPostgres(),
  ]);
  const [m, p] = await Promise.all([connect(mallard.url), connect(postgres.url)]);
  return {
    mallard,
    postgres,
    m,
    p,
    async stop() {
      await Promise.all([m.end().catch(() => {}), p.end().catch(() => {})]);
      await Promise.all([mallard.stop(), postgres.stop()]);
    },
  };
}

/** What one statement did, as a client sees it: rows and command, or the error's SQLSTATE. */
export interface Observed {
  command?: string;
  rowCount?: number | null;
  rows?: unknown[];
  error?: string;
}

export async function observe(c: pg.Client, sql: string, params: unknown[] = []): Promise<Observed> {
  try {
    const r = await c.query({ text: sql, values: params });
    return { command: r.command, rowCount: r.rowCount, rows: r.rows };
  } catch (e) {
    const err = e as pg.DatabaseError;
    if (!err.code) throw e;
    return { error: err.code };
  }
}

/**
 * Runs each statement on both servers in order and asserts the client saw the same on each: the same
 * rows (as node-postgres parses them), command tag and row count, or an error with the same SQLSTATE.
 */
export async function sameOnBoth(
  pair: Pair,
  statements: readonly (string | [string, unknown[]])[],
): Promise<void> {
  for (const s of statements) {
    const [sql, params] = typeof s === 'string' ? [s, []] : s;
    const [mine, theirs] = await Promise.all([observe(pair.m, sql, params), observe(pair.p, sql, params)]);
    assert.equal(
      mine,
      theirs,
      `${sql}${params.length ? ` ${inspect(params)}` : ''}\nmallard:  ${inspect(mine, { depth: 4 })}\npostgres: ${inspect(theirs, { depth: 4 })}`,
    );
  }
}
