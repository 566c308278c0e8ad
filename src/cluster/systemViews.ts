import type { ExecutionRecord } from '../../protocol/cluster/messages.js';
import { quoteIdent, quoteLiteral } from '../storage/sqlText.js';
import type { WorkerInfo } from './WorkerRegistry.js';

/**
 * The cluster's system views as DuckDB SELECTs over a VALUES list: the session layer substitutes them for
 * the relation names `mallard_workers` and `mallard_tasks`. The VALUES rows hold bare literals and the
 * outer SELECT casts each column once, so the types are the same whether there are thousands of rows or
 * none (an empty input is one row of NULLs filtered out by `WHERE false`).
 */

/** A column of a system view: its name, its DuckDB type, and how a value of the source row is spelt. */
export interface ViewColumn<Row> {
  name: string;
  type: string;
  value(row: Row): string;
}

/** A whole number as a literal; NULL for anything that is not a finite number. */
export function integer(n: number | undefined): string {
  // BigInt keeps large values out of exponent notation (1e21), which DuckDB would read as a DOUBLE.
  return n === undefined || !Number.isFinite(n) ? 'NULL' : BigInt(Math.trunc(n)).toString();
}

/**
 * Epoch milliseconds as an ISO-8601 UTC literal; NULL for 0 (not yet) or anything unrepresentable. A UTC
 * text with its `Z` casts to the same instant whatever the session's TimeZone.
 */
export function instant(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return 'NULL';
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? 'NULL' : quoteLiteral(date.toISOString());
}

export function text(value: string | undefined): string {
  return value === undefined ? 'NULL' : quoteLiteral(value);
}

/** A typed SELECT of `rows` through `columns`; an empty list still yields the columns. */
export function relationSql<Row>(columns: readonly ViewColumn<Row>[], rows: readonly Row[]): string {
  const names = columns.map((c) => quoteIdent(c.name));
  const select = columns.map((c, i) => `CAST(${names[i]} AS ${c.type}) AS ${names[i]}`).join(', ');
  const values =
    rows.length === 0
      ? `(${columns.map(() => 'NULL').join(', ')})`
      : rows.map((row) => `(${columns.map((c) => c.value(row)).join(', ')})`).join(', ');
  const filter = rows.length === 0 ? ' WHERE false' : '';
  return `SELECT ${select} FROM (VALUES ${values}) AS v(${names.join(', ')})${filter}`;
}

/** A live worker silent for this many of its heartbeat periods is shown as dead (the registry's default limit). */
const SILENT_PERIODS = 3;

/**
 * The registry's state as of `now`: the registry sweeps on a short tick, so a worker that has just gone
 * silent past its liveness limit reads `dead` here already rather than `ready`.
 */
function stateAt(worker: WorkerInfo, now: number): WorkerInfo['state'] {
  const live = worker.state === 'ready' || worker.state === 'draining';
  return live && now - worker.lastHeartbeat > SILENT_PERIODS * worker.intervalMs ? 'dead' : worker.state;
}

const workerColumns = (now: number): ViewColumn<WorkerInfo>[] => [
  { name: 'id', type: 'VARCHAR', value: (w) => text(w.id) },
  { name: 'host', type: 'VARCHAR', value: (w) => text(w.host) },
  { name: 'pid', type: 'INTEGER', value: (w) => integer(w.pid) },
  { name: 'version', type: 'VARCHAR', value: (w) => text(w.workerVersion) },
  { name: 'state', type: 'VARCHAR', value: (w) => text(stateAt(w, now)) },
  { name: 'threads', type: 'INTEGER', value: (w) => integer(w.threads) },
  { name: 'memory_used', type: 'BIGINT', value: (w) => integer(w.memoryUsed) },
  { name: 'memory_limit', type: 'BIGINT', value: (w) => integer(w.memoryLimit) },
  // A gone worker's last heartbeat still counts the tasks it held; those run elsewhere now.
  {
    name: 'running_tasks',
    type: 'INTEGER',
    value: (w) => {
      const state = stateAt(w, now);
      return state === 'dead' || state === 'stopped' ? '0' : integer(w.runningTasks);
    },
  },
  { name: 'tasks_done', type: 'BIGINT', value: (w) => integer(w.tasksDone) },
  { name: 'last_heartbeat', type: 'TIMESTAMPTZ', value: (w) => instant(w.lastHeartbeat) },
  { name: 'joined_at', type: 'TIMESTAMPTZ', value: (w) => instant(w.joinedAt) },
];

const taskColumns: ViewColumn<ExecutionRecord>[] = [
  { name: 'query_id', type: 'VARCHAR', value: (r) => text(r.queryId) },
  { name: 'task_id', type: 'INTEGER', value: (r) => integer(r.taskId) },
  { name: 'total_tasks', type: 'INTEGER', value: (r) => integer(r.totalTasks) },
  { name: 'worker_id', type: 'VARCHAR', value: (r) => text(r.workerId) },
  { name: 'attempt', type: 'INTEGER', value: (r) => integer(r.attempt) },
  { name: 'status', type: 'VARCHAR', value: (r) => text(r.status) },
  { name: 'rows', type: 'BIGINT', value: (r) => integer(r.rows) },
  { name: 'bytes', type: 'BIGINT', value: (r) => integer(r.bytes) },
  { name: 'batches', type: 'BIGINT', value: (r) => integer(r.batches) },
  { name: 'queue_ms', type: 'BIGINT', value: (r) => integer(r.queueMs) },
  { name: 'exec_ms', type: 'BIGINT', value: (r) => integer(r.execMs) },
  { name: 'started_at', type: 'TIMESTAMPTZ', value: (r) => instant(r.startedAt) },
  { name: 'ended_at', type: 'TIMESTAMPTZ', value: (r) => instant(r.endedAt) },
  { name: 'error_code', type: 'VARCHAR', value: (r) => text(r.error?.kind) },
  { name: 'error_message', type: 'VARCHAR', value: (r) => text(r.error?.message) },
];

/**
 * `mallard_workers`: one row per worker the registry knows, live or recently gone (id, host, pid, version,
 * state, threads, memory_used, memory_limit, running_tasks, tasks_done, last_heartbeat, joined_at). `now`
 * (epoch ms) is the moment the view describes: a live worker silent for more than three of its heartbeat
 * periods by then reads `dead`, and a gone worker runs no tasks.
 */
export function workersRelationSql(workers: readonly WorkerInfo[], now: number): string {
  return relationSql(workerColumns(now), workers);
}

/**
 * `mallard_tasks`: one row per task attempt of running and recent queries (query_id, task_id, total_tasks,
 * worker_id, attempt, status, rows, bytes, batches, queue_ms, exec_ms, started_at, ended_at, error_code,
 * error_message). ended_at is NULL while the attempt runs; error_code is the failure kind (`sql`, `lost`,
 * `canceled`, ...).
 */
export function tasksRelationSql(records: readonly ExecutionRecord[]): string {
  return relationSql(taskColumns, records);
}
