import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeControl, encodeControl } from '../../protocol/cluster/controlCodec.js';
import {
  CLUSTER_PROTOCOL_VERSION,
  type ClaimRequest,
  type Heartbeat,
  type TaskAssignment,
  type TaskStatus,
} from '../../protocol/cluster/messages.js';
import { ResultFrameAssembler } from '../../protocol/cluster/resultFrames.js';
import { clusterSubjects, parseResultSubject } from '../../protocol/cluster/subjects.js';
import type { Transport } from '../../protocol/cluster/Transport.js';
import { InProcessBus } from '../../src/transport/InProcessTransport.js';
import { runWorker, type WorkerHandle } from '../../worker/runWorker.js';

const v = CLUSTER_PROTOCOL_VERSION;
const PREFIX = 'mallard.wtest';
const subjects = clusterSubjects(PREFIX);
const bus = new InProcessBus({ maxPayload: 32 * 1024 });
let dataDir: string;
/** Runs "forever" unless interrupted. */
const ENDLESS = 'SELECT sum(hash(i)) FROM range(100000000000::BIGINT) t(i)';

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Plays the coordinator by hand: offers tasks, answers claims, records what the worker says. */
class FakeCoordinator {
  readonly transport: Transport = bus.connect();
  readonly claims: ClaimRequest[] = [];
  readonly statuses: TaskStatus[] = [];
  readonly heartbeats: Heartbeat[] = [];
  readonly assemblers = new Map<string, ResultFrameAssembler>();
  readonly batches = new Map<string, Uint8Array[]>();
  readonly queue: TaskAssignment[] = [];

  constructor(readonly id = 'fake') {
    this.transport.subscribe(subjects.claim(id), (m) => {
      const claim = decodeControl(m.data, 'claim');
      this.claims.push(claim);
      const assignments = this.queue.splice(0, claim.slots);
      this.transport.publish(
        m.reply!,
        encodeControl<'claim-reply'>({ version: v, kind: 'claim-reply', assignments }),
      );
    });
    this.transport.subscribe(subjects.allStatuses, (m) =>
      this.statuses.push(decodeControl(m.data, 'status')),
    );
    this.transport.subscribe(subjects.heartbeat, (m) =>
      this.heartbeats.push(decodeControl(m.data, 'heartbeat')),
    );
    this.transport.subscribe(`${PREFIX}.result.>`, (m) => {
      const where = parseResultSubject(PREFIX, m.subject)!;
      const key = `${where.queryId}/${where.taskId}/${where.attempt}`;
      if (!this.assemblers.has(key)) this.assemblers.set(key, new ResultFrameAssembler());
      const batch = this.assemblers.get(key)!.push(m.data);
      if (batch) this.batches.set(key, [...(this.batches.get(key) ?? []), batch]);
    });
  }

  assign(
    queryId: string,
    taskId: number,
    sql: string,
    extra: Partial<TaskAssignment> & { files?: string[]; deadlineMs?: number; writes?: string } = {},
  ) {
    this.queue.push({
      task: {
        version: v,
        kind: 'task',
        queryId,
        taskId,
        attempt: 1,
        totalTasks: 1,
        sql,
        partition: { files: extra.files ?? [] },
        deadlineMs: extra.deadlineMs ?? 0,
        ...(extra.writes === undefined ? {} : { writes: extra.writes }),
      },
      credits: extra.credits ?? 100,
      batchBytes: extra.batchBytes ?? 1 << 20,
      queuedMs: 3,
    });
  }

  offer(): void {
    this.transport.publish(
      subjects.offer,
      encodeControl<'offer'>({
        version: v,
        kind: 'offer',
        coordinatorId: this.id,
        pending: this.queue.length,
      }),
    );
  }

  final(queryId: string, taskId = 0): TaskStatus | undefined {
    return this.statuses.find(
      (s) => s.record.queryId === queryId && s.record.taskId === taskId && s.state !== 'running',
    );
  }

  /** Raises the attempt's credit limit to `limit` batches in all. */
  grant(queryId: string, limit: number, taskId = 0, attempt = 1): void {
    this.transport.publish(
      subjects.credit('w1'),
      encodeControl<'credit'>({ version: v, kind: 'credit', queryId, taskId, attempt, limit }),
    );
  }

  rows(queryId: string, taskId = 0): number {
    return (this.batches.get(`${queryId}/${taskId}/1`) ?? []).reduce(
      (n, b) => n + arrow.tableFromIPC(b).numRows,
      0,
    );
  }
}

let coordinator: FakeCoordinator;
let worker: WorkerHandle;

test.before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mallard-wtest-'));
  mkdirSync(join(dataDir, 'sub'));
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(
    `COPY (SELECT i AS id, 'row ' || i AS s FROM range(20480) t(i)) TO '${join(dataDir, 'sub', 'a.parquet')}'`,
  );
  c.closeSync();
  db.closeSync();
  coordinator = new FakeCoordinator();
  worker = await runWorker({
    transport: bus.connect(),
    prefix: PREFIX,
    threads: 2,
    memoryLimit: '256MB',
    dataDir,
    id: 'w1',
    heartbeatIntervalMs: 100,
    workerVersion: '9.9.9',
  });
});

test.after(async () => {
  await worker.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('announces itself with a full heartbeat, every interval', async () => {
  await new Promise((r) => setTimeout(r, 650));
  const beats = coordinator.heartbeats.filter((h) => h.id === 'w1');
  assert.ok(beats.length >= 4, `${beats.length} heartbeats in 650 ms at a 100 ms interval`);
  const beat = beats[beats.length - 1]!;
  assert.is(beat.host.length > 0, true);
  assert.is(beat.pid, process.pid);
  assert.is(beat.workerVersion, '9.9.9');
  assert.is(beat.state, 'ready');
  assert.is(beat.threads, 2);
  // DuckDB reports its limit rounded ("244.1 MiB"), so the heartbeat is within a rounding step of it.
  assert.ok(Math.abs(beat.memoryLimit - 256e6) < 256e6 * 0.001, `memory limit ${beat.memoryLimit}`);
  assert.is(beat.runningTasks, 0);
  assert.equal(beat.tasks, []);
  assert.is(beat.intervalMs, 100);
});

test('refuses to start without its data directory, or with no slots', async () => {
  const missing = join(dataDir, 'no-such-dir');
  let message = '';
  try {
    await runWorker({ transport: bus.connect(), prefix: PREFIX, threads: 1, dataDir: missing });
  } catch (err) {
    message = String(err);
  }
  assert.match(message, /does not exist/);
  try {
    await runWorker({ transport: bus.connect(), prefix: PREFIX, threads: 0, dataDir });
    message = '';
  } catch (err) {
    message = String(err);
  }
  assert.match(message, /threads must be a positive integer/);
});

test('claims only after an offer, never more tasks than free slots, until the queue is empty', async () => {
  for (let i = 0; i < 10; i++)
    coordinator.assign('q-pull', i, 'SELECT count(*) AS n FROM read_parquet($files)', {
      files: ['sub/a.parquet'],
    });
  await new Promise((r) => setTimeout(r, 200));
  assert.is(coordinator.claims.length, 0, 'no claim without an offer');
  coordinator.offer();
  await waitFor(
    '10 tasks',
    () =>
      coordinator.statuses.filter((s) => s.record.queryId === 'q-pull' && s.state === 'succeeded').length ===
      10,
  );
  assert.ok(coordinator.claims.every((c) => c.slots >= 1 && c.slots <= 2));
  let running = 0;
  let most = 0;
  for (const s of coordinator.statuses.filter((x) => x.record.queryId === 'q-pull')) {
    running += s.state === 'running' ? 1 : -1;
    most = Math.max(most, running);
  }
  assert.ok(most <= 2, `at most 2 tasks at once, saw ${most}`);
  const first = coordinator.final('q-pull', 0)!;
  assert.is(first.record.rows, 1);
  assert.is(first.record.queueMs, 3);
  assert.is(first.record.workerId, 'w1');
  assert.is(arrow.tableFromIPC(coordinator.batches.get('q-pull/0/1')![0]!).get(0)!['n'], 20480n);
});

test('pauses when out of credit and resumes on each grant', async () => {
  // batchBytes 1: every 2,048-row chunk is its own batch, ten in all; one credit to start with.
  coordinator.assign('q-credit', 0, 'SELECT id, s FROM read_parquet($files)', {
    files: ['sub/a.parquet'],
    credits: 1,
    batchBytes: 1,
  });
  coordinator.offer();
  await waitFor('the first batch', () => coordinator.batches.get('q-credit/0/1')?.length === 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.is(coordinator.batches.get('q-credit/0/1')!.length, 1, 'no batch without credit');
  assert.is(coordinator.final('q-credit'), undefined);
  // Limits are cumulative: a repeated or stale grant allows nothing more.
  coordinator.grant('q-credit', 1);
  await new Promise((r) => setTimeout(r, 200));
  assert.is(coordinator.batches.get('q-credit/0/1')!.length, 1, 'a repeated grant adds nothing');
  coordinator.grant('q-credit', 3);
  await waitFor('three batches', () => coordinator.batches.get('q-credit/0/1')?.length === 3);
  await new Promise((r) => setTimeout(r, 300));
  assert.is(coordinator.batches.get('q-credit/0/1')!.length, 3);
  coordinator.grant('q-credit', 100);
  const done = await waitFor('the end', () => coordinator.final('q-credit'));
  assert.is(done.state, 'succeeded');
  assert.is(done.record.batches, 10);
  assert.is(done.record.rows, 20480);
  assert.is(coordinator.rows('q-credit'), 20480);
  // Batches are bigger than this bus's 32 KiB max_payload, so they came in several frames each.
  assert.ok(done.record.bytes / done.record.batches > 32 * 1024);
});

test('a cancel interrupts a running task within 200 ms', async () => {
  coordinator.assign('q-cancel', 0, ENDLESS);
  coordinator.offer();
  await waitFor('the task to run', () => coordinator.statuses.find((s) => s.record.queryId === 'q-cancel'));
  // Its heartbeats list the attempt it holds, which is what the coordinator reconciles against.
  await waitFor('a heartbeat listing the task', () =>
    coordinator.heartbeats.find((h) =>
      h.tasks.some((t) => t.queryId === 'q-cancel' && t.taskId === 0 && t.attempt === 1),
    ),
  );
  const sent = Date.now();
  coordinator.transport.publish(
    subjects.cancel,
    encodeControl<'cancel'>({ version: v, kind: 'cancel', queryId: 'q-cancel', reason: 'test cancel' }),
  );
  const done = await waitFor('the cancel', () => coordinator.final('q-cancel'));
  assert.is(done.state, 'failed');
  assert.is(done.record.status, 'canceled');
  assert.equal(done.record.error, { kind: 'canceled', message: 'test cancel' });
  assert.ok(done.record.endedAt - sent < 200, `stopped ${done.record.endedAt - sent} ms after the cancel`);
});

test('a task of a query canceled before its assignment arrives never starts', async () => {
  coordinator.transport.publish(
    subjects.cancel,
    encodeControl<'cancel'>({ version: v, kind: 'cancel', queryId: 'q-early', reason: 'gone' }),
  );
  await coordinator.transport.flush();
  coordinator.assign('q-early', 0, ENDLESS);
  coordinator.offer();
  const done = await waitFor('the refusal', () => coordinator.final('q-early'));
  assert.is(done.record.status, 'canceled');
  assert.is(
    coordinator.statuses.filter((s) => s.record.queryId === 'q-early' && s.state === 'running').length,
    0,
  );
});

test('a task past its deadline is stopped and says so', async () => {
  coordinator.assign('q-deadline', 0, ENDLESS, { deadlineMs: 300 });
  coordinator.offer();
  const done = await waitFor('the deadline', () => coordinator.final('q-deadline'));
  assert.is(done.record.error?.kind, 'deadline');
  assert.ok(done.record.execMs >= 300 && done.record.execMs < 2000, `ran ${done.record.execMs} ms`);
});

test('the sandbox: nothing outside the data directory, one SELECT only, no ATTACH/INSTALL/COPY', async () => {
  const cases: [string, string, string[], string][] = [
    ['csv', "SELECT * FROM read_csv('/etc/passwd')", [], 'sql'],
    ['abs', "SELECT * FROM read_parquet('/etc/x.parquet')", [], 'sql'],
    ['escape', 'SELECT * FROM read_parquet($files)', ['../outside.parquet'], 'rejected'],
    ['absfile', 'SELECT * FROM read_parquet($files)', ['/etc/passwd'], 'rejected'],
    ['attach', "ATTACH ':memory:' AS other", [], 'rejected'],
    ['install', 'INSTALL httpfs', [], 'rejected'],
    ['load', 'LOAD httpfs', [], 'rejected'],
    ['copy', `COPY (SELECT 1) TO '${join(dataDir, 'written.parquet')}'`, [], 'rejected'],
    ['set', 'SET threads = 1', [], 'rejected'],
    ['two', 'SELECT 1; SELECT 2', [], 'sql'],
    ['param', 'SELECT $other', [], 'rejected'],
  ];
  cases.forEach(([name, sql, files], i) => {
    coordinator.assign(`q-sandbox-${name}`, i, sql, { files });
  });
  coordinator.offer();
  for (const [name, , , kind] of cases) {
    const i = cases.findIndex((c) => c[0] === name);
    const done = await waitFor(name, () => coordinator.final(`q-sandbox-${name}`, i));
    assert.is(done.state, 'failed', name);
    assert.is(done.record.error?.kind, kind, `${name}: ${done.record.error?.message}`);
  }
  assert.match(coordinator.final('q-sandbox-csv', 0)!.record.error!.message, /Permission Error/);
  // The connections are still good afterwards.
  coordinator.assign('q-after', 0, 'SELECT 41 + 1 AS x');
  coordinator.offer();
  assert.is((await waitFor('a normal task', () => coordinator.final('q-after')))!.state, 'succeeded');
});

test('a shuffle write goes to its file under the shuffle folder, and nowhere else', async () => {
  const file = join(dataDir, 'shuffle', 'q-w', 't0.parquet');
  coordinator.assign('q-write', 0, 'SELECT range AS n FROM range(1000)', {
    writes: 'shuffle/q-w/t0.parquet',
  });
  coordinator.assign('q-write-out', 0, 'SELECT 1 AS n', { writes: 'tables/evil.parquet' });
  coordinator.assign('q-write-up', 0, 'SELECT 1 AS n', { writes: '../evil.parquet' });
  coordinator.assign('q-write-sql', 0, 'CREATE TABLE y AS SELECT 1', { writes: 'shuffle/q-w/t1.parquet' });
  coordinator.offer();
  const done = await waitFor('the write', () => coordinator.final('q-write'));
  assert.is(done.state, 'succeeded', done.record.error?.message);
  assert.is(done.record.rows, 1, 'one Count row comes back');
  const check = await DuckDBInstance.create(':memory:');
  const conn = await check.connect();
  const rows = (await conn.runAndReadAll(`SELECT count(*), sum(n) FROM read_parquet('${file}')`)).getRows();
  assert.equal(rows, [[1000n, 499500n]]);
  conn.closeSync();
  check.closeSync();
  for (const id of ['q-write-out', 'q-write-up', 'q-write-sql']) {
    const failed = await waitFor(id, () => coordinator.final(id));
    assert.is(failed.state, 'failed', id);
    assert.is(failed.record.error?.kind, 'rejected', `${id}: ${failed.record.error?.message}`);
  }
  assert.not.ok(existsSync(join(dataDir, 'tables/evil.parquet')));
  assert.not.ok(existsSync(join(dataDir, '../evil.parquet')));
});

test('runs nothing that did not arrive as an assigned task on its prefix', async () => {
  const before = coordinator.statuses.length;
  const task = {
    version: v,
    kind: 'task',
    queryId: 'q-rogue',
    taskId: 0,
    attempt: 1,
    totalTasks: 1,
    sql: 'SELECT 1',
    partition: { files: [] },
    deadlineMs: 0,
  };
  const json = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
  const reply = {
    version: v,
    kind: 'claim-reply',
    assignments: [{ task, credits: 1, batchBytes: 1, queuedMs: 0 }],
  };
  const t = coordinator.transport;
  t.publish(subjects.offer, json(task));
  t.publish(subjects.offer, json(reply));
  t.publish(subjects.offer, new Uint8Array([0xff, 0x00]));
  t.publish(subjects.credit('w1'), json(reply));
  t.publish(subjects.cancel, json({ kind: 'cancel' }));
  t.publish(subjects.drain, json({ version: 99, kind: 'drain' }));
  t.publish('mallard.other.task', json({ version: v, kind: 'offer', coordinatorId: 'fake', pending: 1 }));
  coordinator.assign('q-rogue', 0, 'SELECT 1');
  t.publish('mallard.other.task', json({ version: v, kind: 'offer', coordinatorId: 'fake', pending: 1 }));
  await new Promise((r) => setTimeout(r, 400));
  assert.is(coordinator.statuses.length, before, 'nothing ran');
  assert.is(worker.state, 'ready');
  coordinator.queue.length = 0;
});

test('drain: stops claiming, finishes what it holds, then stops', async () => {
  const other = await runWorker({
    transport: bus.connect(),
    prefix: PREFIX,
    threads: 1,
    dataDir,
    id: 'w2',
    heartbeatIntervalMs: 100,
  });
  coordinator.assign('q-drain', 0, 'SELECT id FROM read_parquet($files)', {
    files: ['sub/a.parquet'],
    credits: 0,
    batchBytes: 1,
  });
  // Whichever of the two workers claims it first holds it; that one is drained.
  coordinator.offer();
  const running = await waitFor('the held task', () =>
    coordinator.statuses.find((s) => s.record.queryId === 'q-drain' && s.state === 'running'),
  );
  const holder = running.record.workerId === 'w2' ? other : worker;
  const drained = holder.drain();
  await waitFor('a draining heartbeat', () =>
    coordinator.heartbeats.find((h) => h.id === holder.id && h.state === 'draining'),
  );
  coordinator.assign('q-drain-late', 0, 'SELECT 1');
  const claimsBefore = coordinator.claims.filter((c) => c.workerId === holder.id).length;
  coordinator.offer();
  await new Promise((r) => setTimeout(r, 300));
  assert.is(
    coordinator.claims.filter((c) => c.workerId === holder.id).length,
    claimsBefore,
    'a draining worker claims nothing',
  );
  assert.is(coordinator.final('q-drain'), undefined, 'the held task waits for credit');
  coordinator.transport.publish(
    subjects.credit(holder.id),
    encodeControl<'credit'>({
      version: v,
      kind: 'credit',
      queryId: 'q-drain',
      taskId: 0,
      attempt: 1,
      limit: 100,
    }),
  );
  await drained;
  const done = coordinator.final('q-drain')!;
  assert.is(done.state, 'succeeded');
  assert.is(done.record.rows, 20480);
  assert.is(holder.state, 'stopped');
  await waitFor('a stopped heartbeat', () =>
    coordinator.heartbeats.find((h) => h.id === holder.id && h.state === 'stopped'),
  );
  if (holder === worker) {
    // The suite's worker is gone; the remaining tests use w2.
    worker = other;
  } else {
    await other.stop();
  }
});

test('stop hands back the tasks it holds', async () => {
  coordinator.assign('q-stop', 0, ENDLESS);
  coordinator.offer();
  await waitFor('the task to run', () => coordinator.statuses.find((s) => s.record.queryId === 'q-stop'));
  await worker.stop();
  const done = coordinator.final('q-stop')!;
  assert.is(done.state, 'failed');
  assert.is(done.record.error?.kind, 'handed-back');
  assert.is(worker.records().find((r) => r.queryId === 'q-stop')?.error?.kind, 'handed-back');
});

test.run();
