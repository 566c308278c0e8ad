import { ClusterProtocolError } from './ClusterError.js';

/**
 * The subjects one cluster uses, all under its prefix (`mallard.<cluster>` by default), so several clusters
 * share one NATS server without seeing each other's tasks:
 *
 * - `<p>.hb`                                  heartbeats, worker → all
 * - `<p>.task`                                offers ("tasks waiting"), coordinator → workers
 * - `<p>.claim.<coordinatorId>`               claim request/reply, worker → coordinator
 * - `<p>.status.<queryId>`                    task status, worker → coordinator
 * - `<p>.result.<queryId>.<taskId>.<attempt>` result frames, worker → coordinator
 * - `<p>.credit.<workerId>`                   credit grants, coordinator → one worker
 * - `<p>.cancel`                              cancel, coordinator → all workers
 * - `<p>.drain`                               drain, anyone → workers
 */
export interface ClusterSubjects {
  readonly prefix: string;
  readonly heartbeat: string;
  readonly offer: string;
  readonly cancel: string;
  readonly drain: string;
  /** Every status of every query: what an observer (or a test) subscribes to. */
  readonly allStatuses: string;
  claim(coordinatorId: string): string;
  status(queryId: string): string;
  result(queryId: string, taskId: number, attempt: number): string;
  /** Wildcard over every result subject of one query. */
  resultsOf(queryId: string): string;
  credit(workerId: string): string;
}

/** The default prefix of a named cluster. */
export function clusterPrefix(cluster: string): string {
  return `mallard.${checkToken(cluster, 'cluster name')}`;
}

/**
 * True when `token` can sit between dots in a subject: no separators, wildcards or whitespace, which
 * NATS would read as structure.
 */
export function isSubjectToken(token: string): boolean {
  if (token.length === 0) return false;
  for (const ch of token) {
    if (ch === '.' || ch === '*' || ch === '>' || ch.trim() === '') return false;
  }
  return true;
}

function checkToken(token: string, what: string): string {
  if (!isSubjectToken(token))
    throw new ClusterProtocolError(`${what} "${token}" is not a valid subject token`);
  return token;
}

/** Builds the subject set for a prefix such as `mallard.prod` (one or more dot-separated tokens). */
export function clusterSubjects(prefix: string): ClusterSubjects {
  for (const token of prefix.split('.')) checkToken(token, 'subject prefix part');
  return {
    prefix,
    heartbeat: `${prefix}.hb`,
    offer: `${prefix}.task`,
    cancel: `${prefix}.cancel`,
    drain: `${prefix}.drain`,
    allStatuses: `${prefix}.status.*`,
    claim: (coordinatorId) => `${prefix}.claim.${checkToken(coordinatorId, 'coordinator id')}`,
    status: (queryId) => `${prefix}.status.${checkToken(queryId, 'query id')}`,
    result: (queryId, taskId, attempt) =>
      `${prefix}.result.${checkToken(queryId, 'query id')}.${taskId}.${attempt}`,
    resultsOf: (queryId) => `${prefix}.result.${checkToken(queryId, 'query id')}.*.*`,
    credit: (workerId) => `${prefix}.credit.${checkToken(workerId, 'worker id')}`,
  };
}

/** The task and attempt a result subject names; null when it is not one of `prefix`'s result subjects. */
export function parseResultSubject(
  prefix: string,
  subject: string,
): { queryId: string; taskId: number; attempt: number } | null {
  const head = `${prefix}.result.`;
  if (!subject.startsWith(head)) return null;
  const parts = subject.slice(head.length).split('.');
  if (parts.length !== 3) return null;
  const taskId = Number(parts[1]);
  const attempt = Number(parts[2]);
  if (!Number.isInteger(taskId) || !Number.isInteger(attempt)) return null;
  return { queryId: parts[0]!, taskId, attempt };
}
