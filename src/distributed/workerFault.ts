import { TaskError } from '../../protocol/cluster/ClusterError.js';
import type { TaskFailure } from '../../protocol/cluster/messages.js';

/**
 * DuckDB's classes for a failed invariant of its own (an assertion, a binding its optimizer broke) and for
 * a database it invalidated afterwards: the statement may be perfectly valid, and the same query as a whole
 * (other inputs, other join orders) may well run. duckdb/duckdb#26000 is one such bug, reached by the
 * smaller inputs of a task where the whole query does not reach it.
 */
const DUCKDB_FAULT_CLASSES: readonly string[] = ['INTERNAL Error', 'FATAL Error'];

/**
 * The failure that made a distributed query fail when it is the workers' fault rather than the query's:
 * a DuckDB INTERNAL or FATAL error in a task, or an `internal` failure of the worker process itself (its
 * code, not the SQL). Such a query is run whole on the coordinator instead, over the same snapshot, which
 * answers it as single-node DuckDB would (or fails as DuckDB fails). Null for every other error: a SQL
 * error the coordinator would raise too, a cancel, a lost worker the scheduler already retried.
 */
export function workerFault(err: unknown): TaskFailure | null {
  if (!(err instanceof TaskError)) return null;
  const last = err.failures.at(-1);
  if (!last) return null;
  if (last.kind === 'internal') return last;
  if (last.kind !== 'sql') return null;
  const colon = last.message.indexOf(': ');
  return colon > 0 && DUCKDB_FAULT_CLASSES.includes(last.message.slice(0, colon)) ? last : null;
}
