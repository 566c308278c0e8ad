import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import type { PgNode } from './tableSpecFromAst.js';

// Building and reading libpg-query AST nodes: the table layer writes its own SELECTs (the rows an
// UPDATE or DELETE touches, RETURNING lists) as PostgreSQL trees and deparses them.

/** The constant text of an A_Const (or a cast of one) argument. */
export function constText(node: PgNode): string {
  const c = (node['A_Const'] ?? node['TypeCast']?.arg?.A_Const) as PgNode | undefined;
  if (!c) throw new PgError(SqlState.FeatureNotSupported, 'distribution functions take constant arguments');
  if (c['sval']) return String(c['sval'].sval);
  if (c['ival']) return String(c['ival'].ival ?? 0);
  if (c['fval']) return String(c['fval'].fval);
  throw new PgError(SqlState.FeatureNotSupported, 'distribution functions take constant arguments');
}

/** True when the AST has a node of one of these kinds (SubLink, FuncCall, ...). */
export function containsAny(node: unknown, kinds: readonly string[]): boolean {
  if (Array.isArray(node)) return node.some((n) => containsAny(n, kinds));
  if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (kinds.includes(k)) return true;
      if (containsAny(v, kinds)) return true;
    }
  }
  return false;
}

/** One-part column references qualified by `alias`: ON CONFLICT's bare names mean the target table. */
export function qualifyColumns(node: PgNode, alias: string): PgNode {
  const copy = structuredClone(node);
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) {
      for (const x of n) walk(x);
      return;
    }
    if (!n || typeof n !== 'object') return;
    const o = n as PgNode;
    if (o['ColumnRef'] && o['ColumnRef'].fields.length === 1 && o['ColumnRef'].fields[0].String) {
      o['ColumnRef'].fields = [{ String: { sval: alias } }, o['ColumnRef'].fields[0]];
      return;
    }
    if (o['SubLink']) return;
    for (const v of Object.values(o)) walk(v);
  };
  walk(copy);
  return copy;
}

/** The RETURNING list of an INSERT, UPDATE or DELETE, or null. */
export function returningTargets(s: PgNode): PgNode[] | null {
  const list = (s['returningClause']?.exprs ?? s['returningList']) as PgNode[] | undefined;
  return list?.length ? list : null;
}

/** RETURNING * (and alias.*) as the table's columns, so the row id column never shows. */
export function expandStar(targets: readonly PgNode[], columns: readonly string[], alias: string): PgNode[] {
  return targets.flatMap((t) => {
    const fields = t['ResTarget']?.val?.ColumnRef?.fields as PgNode[] | undefined;
    if (fields?.at(-1)?.['A_Star']) return columns.map((c) => resTarget(columnRef([alias, c])));
    return [t];
  });
}

/** `a.b` as a ColumnRef. */
export function columnRef(names: readonly string[]): PgNode {
  return { ColumnRef: { fields: names.map((n) => ({ String: { sval: n } })) } };
}

/** A select-list entry. */
export function resTarget(val: PgNode): PgNode {
  return { ResTarget: { val } };
}

/** `name AS alias` in FROM. */
export function rangeVar(name: string, alias: string): PgNode {
  return { RangeVar: { relname: name, inh: true, relpersistence: 'p', alias: { aliasname: alias } } };
}

/** `SELECT targets FROM from [WHERE where]`. */
export function selectStmt(
  targetList: PgNode[],
  fromClause: PgNode[],
  whereClause: PgNode | undefined,
): PgNode {
  const s: PgNode = { targetList, fromClause, op: 'SETOP_NONE', limitOption: 'LIMIT_OPTION_DEFAULT' };
  if (whereClause) s['whereClause'] = whereClause;
  return { SelectStmt: s };
}
