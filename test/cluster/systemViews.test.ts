import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ExecutionRecord } from '../../protocol/cluster/messages.js';
import { startCluster } from '../../src/cluster/startCluster.js';
import { tasksRelationSql, workersRelationSql } from '../../src/cluster/systemViews.js';
import type { WorkerInfo } from '../../src/cluster/WorkerRegistry.js';

const WORKER_COLUMNS = [
  ['id', 'VARCHAR'],
  ['host', 'VARCHAR'],
  ['pid', 'INTEGER'],
  ['version', 'VARCHAR'],
  ['state', 'VARCHAR'],
  ['threads', 'INTEGER'],
  ['memory_used', 'BIGINT'],
  ['memory_limit', 'BIGINT'],
  ['running_tasks', 'INTEGER'],
  ['tasks_done', 'BIGINT'],
  ['last_heartbeat', 'TIMESTAMP WITH TIME ZONE'],
  ['joined_at', 'TIMESTAMP WITH TIME ZONE'],
];

const TASK_COLUMNS = [
  ['query_id', 'VARCHAR'],
  ['task_id', 'INTEGER'],
  ['total_tasks', 'INTEGER'],
  ['worker_id', 'VARCHAR'],
  ['attempt', 'INTEGER'],
  ['status', 'VARCHAR'],
  ['rows', 'BIGINT'],
  ['bytes', 'BIGINT'],
  ['batches', 'BIGINT'],
  ['queue_ms', 'BIGINT'],
  ['exec_ms', 'BIGINT'],
  ['started_at', 'TIMESTAMP WITH TIME ZONE'],
  ['ended_at', 'TIMESTAMP WITH TIME ZONE'],
  ['error_code', 'VARCHAR'],
  ['error_message', 'VARCHAR'],
];

const NOW = Date.parse('2025-03-04T05:06:07.890Z');

function worker(overrides: Partial<WorkerInfo> = {}): WorkerInfo {
  return {
    id: 'w-1',
    host: 'box-a',
    pid: 4242,
    workerVersion: '0.1.0',
    state: 'ready',
    threads: 2,
    memoryUsed: 12_345_678,
    memoryLimit: 8_000_000_000_000,
    runningTasks: 2,
    tasksDone: 9_007_199_254_740_991,
    joinedAt: NOW - 60_000,
    lastHeartbeat: NOW - 400,
    intervalMs: 1000,
    ...overrides,
  };
}

function record(overrides: Partial<ExecutionRecord> = {}): ExecutionRecord {
  return {
    queryId: 'q-1',
    taskId: 3,
    totalTasks: 16,
    workerId: 'w-1',
    attempt: 1,
    rows: 5_000_000_000,
    bytes: 123_456,
    batches: 7,
    queueMs: 12,
    execMs: 345,
    startedAt: NOW - 345,
    endedAt: NOW,
    status: 'succeeded',
    ...overrides,
  };
}

let instance: DuckDBInstance;
let db: DuckDBConnection;

test.before(async () => {
  instance = await DuckDBInstance.create(':memory:');
  db = await instance.connect();
  // Timestamps must name the same instant whatever the session's time zone.
  await db.run("SET TimeZone = 'Asia/Kolkata'");
});

test.after(() => {
  db.closeSync();
  instance.closeSync();
});

/** Column names and types of a relation, as a client would see them in its RowDescription. */
async function columnsOf(sql: string): Promise<string[][]> {
  const reader = await db.runAndReadAll(`SELECT * FROM (${sql}) AS sv`);
  return reader.columnNames().map((name, i) => [name, reader.columnTypes()[i]!.toString()]);
}

/** Rows as JS values, timestamps as epoch milliseconds so they compare with the inputs. */
async function rowsOf(sql: string, columns: readonly string[]): Promise<Record<string, unknown>[]> {
  const select = columns
    .map((c) => (c.endsWith('_at') || c === 'last_heartbeat' ? `epoch_ms("${c}") AS "${c}"` : `"${c}"`))
    .join(', ');
  const reader = await db.runAndReadAll(`SELECT ${select} FROM (${sql}) AS sv`);
  return reader
    .getRowObjectsJS()
    .map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : (v ?? null)]),
      ),
    );
}

test('mallard_workers: columns and types, with workers and with none', async () => {
  assert.equal(await columnsOf(workersRelationSql([worker()], NOW)), WORKER_COLUMNS);
  assert.equal(await columnsOf(workersRelationSql([], NOW)), WORKER_COLUMNS);
  const empty = await db.runAndReadAll(`SELECT count(*) FROM (${workersRelationSql([], NOW)}) AS v`);
  assert.is(Number(empty.getRows()[0]![0]), 0);
});

test('mallard_tasks: columns and types, with records and with none', async () => {
  assert.equal(await columnsOf(tasksRelationSql([record()])), TASK_COLUMNS);
  assert.equal(await columnsOf(tasksRelationSql([])), TASK_COLUMNS);
  const empty = await db.runAndReadAll(`SELECT count(*) FROM (${tasksRelationSql([])}) AS v`);
  assert.is(Number(empty.getRows()[0]![0]), 0);
});

test('mallard_workers: every value as given, timestamps to the millisecond in any time zone', async () => {
  const rows = await rowsOf(
    workersRelationSql([worker()], NOW),
    WORKER_COLUMNS.map(([name]) => name!),
  );
  assert.equal(rows, [
    {
      id: 'w-1',
      host: 'box-a',
      pid: 4242,
      version: '0.1.0',
      state: 'ready',
      threads: 2,
      memory_used: 12_345_678,
      memory_limit: 8_000_000_000_000,
      running_tasks: 2,
      tasks_done: 9_007_199_254_740_991,
      last_heartbeat: NOW - 400,
      joined_at: NOW - 60_000,
    },
  ]);
  const utc = await db.runAndReadAll(
    `SELECT strftime(joined_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%g') FROM (${workersRelationSql([worker()], NOW)}) AS v`,
  );
  assert.is(utc.getRows()[0]![0], '2025-03-04 05:05:07.890');
});

test('mallard_workers: quotes, backslashes, NUL and non-ASCII text come back unchanged', async () => {
  const nasty = [
    "it's",
    "'); DROP TABLE t; --",
    'back\\slash \\x41',
    'dollar $$ quoted $q$',
    'nul\0inside',
    'ünïcødé 🦆',
    '',
  ];
  const workers = nasty.map((host, i) => worker({ id: `w-${i}`, host, workerVersion: host }));
  const reader = await db.runAndReadAll(
    `SELECT id, host, version FROM (${workersRelationSql(workers, NOW)}) AS v ORDER BY id`,
  );
  assert.equal(
    reader.getRowsJS(),
    nasty.map((host, i) => [`w-${i}`, host, host]),
  );
});

test('mallard_workers: a gone worker runs nothing, and a silent one reads dead as of now', async () => {
  const workers = [
    worker({ id: 'ready' }),
    worker({ id: 'draining', state: 'draining' }),
    worker({ id: 'dead', state: 'dead', lastHeartbeat: NOW - 5_000 }),
    worker({ id: 'stopped', state: 'stopped' }),
    // Registry not swept yet: silent for 3.5 of its 1 s periods.
    worker({ id: 'silent', state: 'ready', lastHeartbeat: NOW - 3_500 }),
  ];
  const reader = await db.runAndReadAll(
    `SELECT id, state, running_tasks FROM (${workersRelationSql(workers, NOW)}) AS v ORDER BY id`,
  );
  assert.equal(reader.getRowsJS(), [
    ['dead', 'dead', 0],
    ['draining', 'draining', 2],
    ['ready', 'ready', 2],
    ['silent', 'dead', 0],
    ['stopped', 'stopped', 0],
  ]);
});

test('mallard_tasks: values as given; a running attempt has no end yet; errors as code and message', async () => {
  const records = [
    record(),
    record({ taskId: 4, status: 'running', endedAt: 0, execMs: 0, rows: 0, bytes: 0, batches: 0 }),
    // The coordinator's own record of an attempt the worker never reported starting.
    record({
      taskId: 5,
      attempt: 2,
      status: 'failed',
      startedAt: 0,
      error: { kind: 'lost', message: "worker w-'1' died" },
    }),
    record({
      taskId: 6,
      status: 'failed',
      error: { kind: 'sql', message: 'Binder Error: Referenced column "x" not found' },
    }),
  ];
  const rows = await rowsOf(
    tasksRelationSql(records),
    TASK_COLUMNS.map(([name]) => name!),
  );
  assert.equal(rows[0], {
    query_id: 'q-1',
    task_id: 3,
    total_tasks: 16,
    worker_id: 'w-1',
    attempt: 1,
    status: 'succeeded',
    rows: 5_000_000_000,
    bytes: 123_456,
    batches: 7,
    queue_ms: 12,
    exec_ms: 345,
    started_at: NOW - 345,
    ended_at: NOW,
    error_code: null,
    error_message: null,
  });
  assert.equal(
    rows.map((r) => [r['task_id'], r['status'], r['started_at'], r['ended_at']]),
    [
      [3, 'succeeded', NOW - 345, NOW],
      [4, 'running', NOW - 345, null],
      [5, 'failed', null, NOW],
      [6, 'failed', NOW - 345, NOW],
    ],
  );
  assert.equal(
    rows.map((r) => [r['error_code'], r['error_message']]),
    [
      [null, null],
      [null, null],
      ['lost', "worker w-'1' died"],
      ['sql', 'Binder Error: Referenced column "x" not found'],
    ],
  );
});

test('mallard_tasks: a query aggregates over thousands of attempts', async () => {
  const records = Array.from({ length: 5_000 }, (_, i) =>
    record({ queryId: `q-${i % 7}`, taskId: i, rows: i, workerId: `w-${i % 3}` }),
  );
  const reader = await db.runAndReadAll(
    `SELECT worker_id, count(*)::INTEGER, sum("rows")::BIGINT FROM (${tasksRelationSql(records)}) AS t GROUP BY ALL ORDER BY 1`,
  );
  const expected = [0, 1, 2].map((w) => {
    const mine = records.filter((r) => r.workerId === `w-${w}`);
    return [`w-${w}`, mine.length, BigInt(mine.reduce((s, r) => s + r.rows, 0))];
  });
  assert.equal(reader.getRowsJS(), expected);
});

test('the views of a real in-process cluster after a query', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mallard-views-'));
  const cluster = await startCluster({ dataDir, workers: 2, threads: 1 });
  try {
    const run = cluster.client.runQuery(
      Array.from({ length: 6 }, (_, i) => ({
        sql: `SELECT ${i} AS task, i FROM range(${(i + 1) * 1000}) t(i)`,
        partition: { files: [] },
      })),
    );
    let rows = 0;
    for await (const { batch } of run) rows += batch.numRows;
    assert.is(rows, 21_000);
    const workers = await db.runAndReadAll(
      `SELECT id, state, threads FROM (${workersRelationSql(cluster.client.workers(), Date.now())}) AS w ORDER BY id`,
    );
    assert.equal(workers.getRowsJS(), [
      ['local-1', 'ready', 1],
      ['local-2', 'ready', 1],
    ]);
    const tasks = await db.runAndReadAll(
      `SELECT count(*)::INTEGER, sum("rows")::BIGINT, count(DISTINCT task_id)::INTEGER, bool_and(status = 'succeeded'),
              bool_and(ended_at >= started_at), min(total_tasks)
       FROM (${tasksRelationSql(cluster.client.tasks())}) AS t WHERE query_id = '${run.queryId}'`,
    );
    assert.equal(tasks.getRowsJS(), [[6, 21_000n, 6, true, true, 6]]);
  } finally {
    await cluster.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
