import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ClusterProtocolError,
  NoWorkersError,
  QueryCanceledError,
  sqlStateOfFailure,
  TaskError,
} from '../../../protocol/cluster/ClusterError.js';
import { decodeControl, encodeControl } from '../../../protocol/cluster/controlCodec.js';
import {
  CLUSTER_PROTOCOL_VERSION,
  type ControlKind,
  type ControlMessages,
  type TaskDefinition,
} from '../../../protocol/cluster/messages.js';
import { clusterPrefix, clusterSubjects, parseResultSubject } from '../../../protocol/cluster/subjects.js';
import { SqlState } from '../../../protocol/pg/sqlstate.js';

const v = CLUSTER_PROTOCOL_VERSION;
const task: TaskDefinition = {
  version: v,
  kind: 'task',
  queryId: 'q1',
  taskId: 3,
  attempt: 2,
  totalTasks: 8,
  sql: 'SELECT count(*) FROM read_parquet($files)',
  partition: { files: ['a.parquet'], rowGroups: [{ file: 'a.parquet', first: 0, last: 1 }] },
  deadlineMs: 0,
};

const samples: { [K in ControlKind]: ControlMessages[K] } = {
  task,
  status: {
    version: v,
    kind: 'status',
    state: 'failed',
    record: {
      queryId: 'q1',
      taskId: 3,
      totalTasks: 8,
      workerId: 'w1',
      attempt: 2,
      rows: 10,
      bytes: 400,
      batches: 1,
      queueMs: 5,
      execMs: 20,
      startedAt: 1,
      endedAt: 21,
      status: 'failed',
      error: { kind: 'sql', message: 'Binder Error: no such column' },
    },
  },
  credit: { version: v, kind: 'credit', queryId: 'q1', taskId: 3, attempt: 2, limit: 4 },
  cancel: { version: v, kind: 'cancel', queryId: 'q1', reason: 'user request' },
  heartbeat: {
    version: v,
    kind: 'heartbeat',
    id: 'w1',
    host: 'h',
    pid: 42,
    workerVersion: '0.1.0',
    state: 'ready',
    threads: 4,
    memoryUsed: 1,
    memoryLimit: 2,
    runningTasks: 0,
    tasksDone: 9,
    tasks: [{ queryId: 'q1', taskId: 3, attempt: 2, batches: 1 }],
    intervalMs: 1000,
  },
  drain: { version: v, kind: 'drain', workerId: 'w1' },
  offer: { version: v, kind: 'offer', coordinatorId: 'c1', pending: 3 },
  claim: { version: v, kind: 'claim', workerId: 'w1', slots: 2 },
  'claim-reply': {
    version: v,
    kind: 'claim-reply',
    assignments: [{ task, credits: 4, batchBytes: 1 << 20, queuedMs: 12 }],
  },
};

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

test('every control message round-trips', () => {
  for (const kind of Object.keys(samples) as ControlKind[]) {
    assert.equal(decodeControl(encodeControl(samples[kind]), kind), samples[kind], kind);
  }
});

test('a message of another protocol version is refused', () => {
  const bytes = json({ ...samples.offer, version: v + 1 });
  assert.throws(() => decodeControl(bytes, 'offer'), /protocol version 2, this build speaks 1/);
});

test('a message of another kind is refused', () => {
  assert.throws(
    () => decodeControl(encodeControl(samples.offer), 'claim'),
    /expected a claim message, got offer/,
  );
});

test('missing or mistyped fields are refused', () => {
  const { sql: _sql, ...noSql } = task;
  assert.throws(() => decodeControl(json(noSql), 'task'), /field sql is not string/);
  assert.throws(() => decodeControl(json({ ...task, taskId: '3' }), 'task'), /field taskId is not number/);
  assert.throws(() => decodeControl(json({ ...task, deadlineMs: null }), 'task'), /deadlineMs/);
  assert.throws(
    () => decodeControl(json({ ...task, partition: { files: ['a', 1] } }), 'task'),
    /partition.files is not a list of strings/,
  );
  assert.throws(() => decodeControl(json({ ...samples.cancel, taskId: 'x' }), 'cancel'), /taskId/);
});

test('a claim reply is checked down to its tasks', () => {
  const reply = {
    ...samples['claim-reply'],
    assignments: [{ task: { ...task, sql: 5 }, credits: 1, batchBytes: 1, queuedMs: 0 }],
  };
  assert.throws(() => decodeControl(json(reply), 'claim-reply'), /sql/);
  const noCredits = { ...samples['claim-reply'], assignments: [{ task, batchBytes: 1, queuedMs: 0 }] };
  assert.throws(() => decodeControl(json(noCredits), 'claim-reply'), /credits/);
});

test('bytes that are not JSON are refused with a ClusterProtocolError', () => {
  assert.throws(
    () => decodeControl(new TextEncoder().encode('{"version":'), 'offer'),
    (e: unknown) => e instanceof ClusterProtocolError && /not JSON/.test((e as Error).message),
  );
});

test('subjects live under the cluster prefix', () => {
  const s = clusterSubjects(clusterPrefix('prod'));
  assert.is(s.heartbeat, 'mallard.prod.hb');
  assert.is(s.offer, 'mallard.prod.task');
  assert.is(s.claim('c1'), 'mallard.prod.claim.c1');
  assert.is(s.status('q1'), 'mallard.prod.status.q1');
  assert.is(s.result('q1', 4, 2), 'mallard.prod.result.q1.4.2');
  assert.is(s.resultsOf('q1'), 'mallard.prod.result.q1.*.*');
  assert.is(s.credit('w1'), 'mallard.prod.credit.w1');
  assert.is(s.cancel, 'mallard.prod.cancel');
  assert.is(s.drain, 'mallard.prod.drain');
  assert.equal(parseResultSubject('mallard.prod', 'mallard.prod.result.q1.4.2'), {
    queryId: 'q1',
    taskId: 4,
    attempt: 2,
  });
  assert.is(parseResultSubject('mallard.prod', 'mallard.other.result.q1.4.2'), null);
  assert.is(parseResultSubject('mallard.prod', 'mallard.prod.result.q1.x.2'), null);
});

test('ids that would change a subject structure are refused', () => {
  assert.throws(() => clusterPrefix('a.b'), /not a valid subject token/);
  assert.throws(() => clusterSubjects('mallard.*'), /not a valid subject token/);
  assert.throws(() => clusterSubjects('mallard.x').status('q 1'), /not a valid subject token/);
  assert.throws(() => clusterSubjects('mallard.x').credit('w>'), /not a valid subject token/);
});

test('task failures map to real SQLSTATEs', () => {
  assert.is(
    sqlStateOfFailure({ kind: 'sql', message: 'Parser Error: syntax error at or near "x"' }),
    SqlState.SyntaxError,
  );
  assert.is(
    sqlStateOfFailure({ kind: 'sql', message: 'Conversion Error: Could not convert string' }),
    SqlState.InvalidTextRepresentation,
  );
  assert.is(
    sqlStateOfFailure({ kind: 'sql', message: 'Permission Error: Cannot access file' }),
    SqlState.InsufficientPrivilege,
  );
  assert.is(sqlStateOfFailure({ kind: 'sql', message: 'something odd' }), SqlState.InternalError);
  assert.is(sqlStateOfFailure({ kind: 'canceled', message: 'x' }), SqlState.QueryCanceled);
  assert.is(sqlStateOfFailure({ kind: 'deadline', message: 'x' }), SqlState.QueryCanceled);
  const codes = new Set<string>(Object.values(SqlState));
  for (const kind of [
    'sql',
    'rejected',
    'canceled',
    'deadline',
    'handed-back',
    'lost',
    'internal',
  ] as const) {
    assert.ok(codes.has(sqlStateOfFailure({ kind, message: '' })), kind);
  }
});

test('cluster errors carry their SQLSTATE and say what happened', () => {
  const failures = [
    { kind: 'lost' as const, message: 'worker w1 died' },
    { kind: 'sql' as const, message: 'Conversion Error: bad' },
  ];
  const err = new TaskError('q1', 3, failures);
  assert.is(err.code, SqlState.InvalidTextRepresentation);
  // The client sees PostgreSQL-style text without DuckDB's class; the failures keep the worker's own.
  assert.is(err.message, 'bad');
  assert.equal(err.failures, failures);
  const zero = new TaskError('q1', 0, [{ kind: 'sql', message: 'Invalid Input Error: division by zero' }]);
  assert.is(zero.code, SqlState.DivisionByZero);
  assert.is(zero.message, 'division by zero');
  const none = new NoWorkersError('mallard.x', 1500);
  assert.is(none.code, SqlState.InsufficientResources);
  assert.match(none.message, /no workers available/);
  assert.is(new QueryCanceledError().code, SqlState.QueryCanceled);
});

test.run();
