import { instant, integer, relationSql, text, type ViewColumn } from '../cluster/systemViews.js';
import type { QueryRecord } from './DistributedRuntime.js';

const queryColumns: ViewColumn<QueryRecord>[] = [
  { name: 'query_id', type: 'VARCHAR', value: (q) => text(q.queryId) },
  { name: 'sql', type: 'VARCHAR', value: (q) => text(q.sql) },
  { name: 'mode', type: 'VARCHAR', value: (q) => text(q.mode) },
  { name: 'merge', type: 'VARCHAR', value: (q) => text(q.merge) },
  { name: 'reason', type: 'VARCHAR', value: (q) => text(q.reason ?? undefined) },
  { name: 'status', type: 'VARCHAR', value: (q) => text(q.status) },
  { name: 'started_at', type: 'TIMESTAMPTZ', value: (q) => instant(q.startedAt) },
  { name: 'duration_ms', type: 'BIGINT', value: (q) => integer(q.durationMs ?? undefined) },
  { name: 'workers', type: 'INTEGER', value: (q) => integer(q.workers) },
  { name: 'tasks', type: 'INTEGER', value: (q) => integer(q.tasks) },
  { name: 'rows', type: 'BIGINT', value: (q) => integer(q.rows) },
  { name: 'error', type: 'VARCHAR', value: (q) => text(q.error ?? undefined) },
  { name: 'phases', type: 'VARCHAR', value: (q) => text(phasesText(q.phases)) },
];

/** `plan 0.3 ms, dispatch 2.1 ms, ...`: milliseconds from the query's start to the end of each phase. */
export function phasesText(phases: QueryRecord['phases']): string | undefined {
  if (!phases) return undefined;
  return Object.entries(phases)
    .map(([name, ms]) => `${name} ${ms} ms`)
    .join(', ');
}

/**
 * `mallard_queries`: the coordinator's recent queries over catalog tables, oldest first: the SQL, how it
 * ran (mode `local`, `distributed` or `gathered`, and the merge strategy, with the planner's reason), its
 * status, start, duration (NULL while running), the workers its tasks ran on, the task count and rows,
 * and for a distributed query the milliseconds from its start to the end of each phase (`phases`).
 */
export function queriesRelationSql(queries: readonly QueryRecord[]): string {
  return relationSql(queryColumns, queries);
}

/** The cluster's system views by name. */
export const CLUSTER_VIEWS: ReadonlySet<string> = new Set([
  'mallard_workers',
  'mallard_tasks',
  'mallard_queries',
]);
