import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import * as assert from 'uvu/assert';
import { PgError } from '../../protocol/pg/PgError.js';
import { Engine } from '../../src/executor/Engine.js';
import type { PreparedQuery, SessionExecutor } from '../../src/executor/Executor.js';

/** A real engine in a fresh temporary directory, with `readable/` as its one readable directory. */
export interface EngineFixture {
  readonly engine: Engine;
  readonly root: string;
  readonly dataDir: string;
  readonly readableDir: string;
  dispose(): Promise<void>;
}

export async function openEngine(
  options: { threads?: number; memoryLimit?: string } = {},
): Promise<EngineFixture> {
  const root = mkdtempSync(join(tmpdir(), 'mallard-executor-'));
  const dataDir = join(root, 'data');
  const readableDir = join(root, 'readable');
  mkdirSync(readableDir);
  const engine = await Engine.open({ dataDir, readableDirs: [readableDir], ...options });
  return {
    engine,
    root,
    dataDir,
    readableDir,
    async dispose() {
      await engine.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** What a client would see from one statement. */
export interface Outcome {
  readonly query: PreparedQuery;
  readonly rows: unknown[][];
  readonly rowsChanged: number;
  /** The CommandComplete tag as the session builds it. */
  readonly commandTag: string;
}

/** Prepares, executes and reads one statement to the end, as the session does. */
export async function run(
  session: SessionExecutor,
  sql: string,
  params: readonly DuckDBValue[] = [],
  hints: readonly (DuckDBType | null)[] = [],
): Promise<Outcome> {
  const query = await session.prepare(sql, hints);
  try {
    const cursor = await query.execute(params);
    const rows: unknown[][] = [];
    for (let batch = await cursor.next(); batch; batch = await cursor.next()) {
      for (let r = 0; r < batch.rowCount; r++) rows.push(batch.columns.map((column) => column.getItem(r)));
    }
    const rowsChanged = cursor.rowsChanged;
    cursor.close();
    const count = query.columns.length > 0 ? rows.length : rowsChanged;
    return { query, rows, rowsChanged, commandTag: query.tagHasCount ? `${query.tag} ${count}` : query.tag };
  } finally {
    query.close();
  }
}

/** Runs a statement that must fail and returns its PgError. */
export async function failure(
  session: SessionExecutor,
  sql: string,
  params: readonly DuckDBValue[] = [],
  hints: readonly (DuckDBType | null)[] = [],
): Promise<PgError> {
  try {
    await run(session, sql, params, hints);
  } catch (error) {
    assert.instance(error, PgError, `${sql} should fail with a PgError, got ${error}`);
    return error as PgError;
  }
  assert.unreachable(`expected ${sql} to fail`);
  throw new Error('unreachable');
}
