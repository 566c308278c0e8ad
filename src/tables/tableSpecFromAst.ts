import { deparseSync } from 'pgsql-deparser';
import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import type { ColumnSpec, ConstraintSpec } from '../catalog/CatalogTransaction.js';

/** A libpg-query AST node: `{ NodeType: { ...fields } }` or, inside a node, its fields. */
// biome-ignore lint/suspicious/noExplicitAny: libpg-query's AST is JSON walked by field name; its own types are a union of hundreds of node shapes.
export type PgNode = Record<string, any>;

/** PostgreSQL's internal type names and their DuckDB spelling; anything else is handed to DuckDB as written. */
const TYPE_NAMES: ReadonlyMap<string, string> = new Map([
  ['int2', 'SMALLINT'],
  ['int4', 'INTEGER'],
  ['int8', 'BIGINT'],
  ['float4', 'REAL'],
  ['float8', 'DOUBLE'],
  ['bool', 'BOOLEAN'],
  ['bpchar', 'VARCHAR'],
  ['varchar', 'VARCHAR'],
  ['text', 'VARCHAR'],
  ['numeric', 'DECIMAL'],
  ['bytea', 'BLOB'],
  ['timestamptz', 'TIMESTAMPTZ'],
  ['timestamp', 'TIMESTAMP'],
  ['timetz', 'TIMETZ'],
  ['time', 'TIME'],
  ['date', 'DATE'],
  ['interval', 'INTERVAL'],
]);

/** Types whose modifiers PostgreSQL keeps and DuckDB has no use for (lengths, precisions of time). */
const DROP_TYPMODS = new Set(['VARCHAR', 'TIMESTAMP', 'TIMESTAMPTZ', 'TIME', 'TIMETZ', 'INTERVAL']);

const SERIALS: ReadonlyMap<string, string> = new Map([
  ['serial', 'INTEGER'],
  ['serial4', 'INTEGER'],
  ['bigserial', 'BIGINT'],
  ['serial8', 'BIGINT'],
  ['smallserial', 'SMALLINT'],
  ['serial2', 'SMALLINT'],
]);

/** Deparses an expression node to SQL text (PostgreSQL syntax, which DuckDB reads for ordinary expressions). */
export function exprSql(node: PgNode): string {
  return deparseSync(node as never, { pretty: false } as never);
}

/** A libpg-query String list (`names`, `keys`) as plain strings. */
export function strings(list: readonly PgNode[] | undefined): string[] {
  return (list ?? []).map((n) => String(n['String']?.sval ?? ''));
}

/** DuckDB's spelling of a TypeName node, and whether it was a SERIAL pseudo-type. */
export function duckType(typeName: PgNode): { type: string; serial: boolean } {
  const names = strings(typeName['names']);
  const last = names[names.length - 1]!.toLowerCase();
  const serial = SERIALS.get(last);
  if (serial) return { type: serial, serial: true };
  let type =
    TYPE_NAMES.get(last) ??
    (names.length > 1 && names[0] !== 'pg_catalog' ? names.join('.') : names[names.length - 1]!);
  const mods = (typeName['typmods'] ?? []) as PgNode[];
  if (mods.length && !DROP_TYPMODS.has(type)) {
    type += `(${mods.map((m) => exprSql(m)).join(', ')})`;
  }
  for (const _ of typeName['arrayBounds'] ?? []) type += '[]';
  return { type, serial: false };
}

/** Column names a CHECK expression reads: every one-part ColumnRef in it. */
export function columnRefs(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const n of node) columnRefs(n, out);
  } else if (node && typeof node === 'object') {
    const o = node as PgNode;
    if (o['ColumnRef']) {
      const fields = o['ColumnRef'].fields as PgNode[];
      const last = fields[fields.length - 1];
      if (last?.['String']) out.add(String(last['String'].sval));
      return out;
    }
    for (const v of Object.values(o)) columnRefs(v, out);
  }
  return out;
}

/** A ColumnDef node as a catalog ColumnSpec, plus the constraints written on the column. */
export function columnSpec(def: PgNode): { column: ColumnSpec; constraints: ConstraintSpec[] } {
  const name = String(def['colname']);
  const { type, serial } = duckType(def['typeName']);
  let notNull = false;
  let dflt: string | null = null;
  let identity: 'always' | 'by default' | null = null;
  const constraints: ConstraintSpec[] = [];
  for (const wrapped of (def['constraints'] ?? []) as PgNode[]) {
    const c = wrapped['Constraint'] as PgNode;
    const cname = c['conname'] ? String(c['conname']) : undefined;
    switch (c['contype']) {
      case 'CONSTR_NOTNULL':
        notNull = true;
        break;
      case 'CONSTR_NULL':
        notNull = false;
        break;
      case 'CONSTR_DEFAULT':
        dflt = exprSql(c['raw_expr']);
        break;
      case 'CONSTR_IDENTITY':
        identity = c['generated_when'] === 'a' ? 'always' : 'by default';
        break;
      case 'CONSTR_PRIMARY':
        constraints.push({ name: cname, kind: 'primary key', columns: [name] });
        break;
      case 'CONSTR_UNIQUE':
        constraints.push({ name: cname, kind: 'unique', columns: [name] });
        break;
      case 'CONSTR_CHECK':
        constraints.push({ name: cname, kind: 'check', columns: [name], expression: exprSql(c['raw_expr']) });
        break;
      default:
        throw new PgError(
          SqlState.FeatureNotSupported,
          `column constraint ${String(c['contype']).slice(7)} is not supported`,
        );
    }
  }
  return {
    column: { name, type, notNull, default: dflt, serial, identity },
    constraints,
  };
}

/** A table-level Constraint node (PRIMARY KEY (...), UNIQUE (...), CHECK (...)) as a ConstraintSpec. */
export function tableConstraint(c: PgNode): ConstraintSpec {
  const name = c['conname'] ? String(c['conname']) : undefined;
  switch (c['contype']) {
    case 'CONSTR_PRIMARY':
      return { name, kind: 'primary key', columns: strings(c['keys']) };
    case 'CONSTR_UNIQUE':
      return { name, kind: 'unique', columns: strings(c['keys']) };
    case 'CONSTR_CHECK':
      return {
        name,
        kind: 'check',
        columns: [...columnRefs(c['raw_expr'])],
        expression: exprSql(c['raw_expr']),
      };
    default:
      throw new PgError(
        SqlState.FeatureNotSupported,
        `table constraint ${String(c['contype']).slice(7)} is not supported`,
      );
  }
}

/** The columns and constraints of CREATE TABLE's element list. */
export function tableElements(elements: readonly PgNode[]): {
  columns: ColumnSpec[];
  constraints: ConstraintSpec[];
} {
  const columns: ColumnSpec[] = [];
  const constraints: ConstraintSpec[] = [];
  for (const e of elements) {
    if (e['ColumnDef']) {
      const c = columnSpec(e['ColumnDef']);
      columns.push(c.column);
      constraints.push(...c.constraints);
    } else if (e['Constraint']) {
      constraints.push(tableConstraint(e['Constraint']));
    } else {
      throw new PgError(
        SqlState.FeatureNotSupported,
        `CREATE TABLE element ${Object.keys(e)[0]} is not supported`,
      );
    }
  }
  return { columns, constraints };
}
