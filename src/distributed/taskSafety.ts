import { DIALECT_CATALOG, TASK_DIALECT_MACROS } from '../../protocol/cluster/taskDialect.js';
import { type BaseTableRef, forEachTableRef, type SelectStatement, someNode } from '../planner/ast.js';

/**
 * Functions whose value depends on the coordinator's session or catalog, not on the rows: a worker would
 * answer differently (or not at all), so a query calling them runs on the coordinator.
 */
const SESSION_FUNCTIONS: ReadonlySet<string> = new Set([
  'current_setting',
  'set_config',
  'current_schema',
  'current_schemas',
  'current_database',
  'current_catalog',
  'current_user',
  'session_user',
  'user',
  'pg_backend_pid',
  'txid_current',
  'nextval',
  'currval',
  'setval',
  'lastval',
  'getvariable',
]);

/**
 * Why a query must not leave the coordinator, or null when its tasks may run on workers: every table it
 * names (outside its own CTEs) is a catalog table workers can scan (`tableReason` says why not), it reads no files or table functions
 * (a worker may read only the data directory), and it calls no macro the workers lack and no function of
 * the coordinator's session.
 */
export function coordinatorOnlyReason(
  statements: readonly SelectStatement[],
  tableReason: (ref: BaseTableRef) => string | null,
): string | null {
  let reason: string | null = null;
  for (const stmt of statements) {
    forEachTableRef(stmt, (ref, cte) => {
      if (!cte && !reason) reason = tableReason(ref);
    });
    if (reason) return reason;
    if (someNode(stmt, (n) => n['type'] === 'TABLE_FUNCTION')) return 'it reads a table function';
    const fn = someNode(stmt, (n) => {
      if (n['class'] !== 'FUNCTION' && n['class'] !== 'WINDOW') return false;
      const name = String(n['function_name'] ?? '').toLowerCase();
      if (SESSION_FUNCTIONS.has(name)) return true;
      const catalog = String(n['catalog'] ?? '');
      return catalog === DIALECT_CATALOG && !TASK_DIALECT_MACROS.has(name);
    });
    if (fn) return 'it calls a function of the coordinator';
  }
  return null;
}
