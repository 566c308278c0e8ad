import { loadModule, parseSync } from 'libpg-query';
import { Oid } from '../../protocol/pg/types/Oid.js';

await loadModule();

/** PostgreSQL's spellings of type names as its grammar normalises them (`int` → `int4`). */
const ALIASES: Record<string, string> = {
  int: 'int4',
  integer: 'int4',
  smallint: 'int2',
  bigint: 'int8',
  real: 'float4',
  boolean: 'bool',
  decimal: 'numeric',
  'double precision': 'float8',
  'character varying': 'varchar',
  character: 'bpchar',
};

/** Shallow-cheap check before parsing: a cast of a parameter needs both `$` and `::` or CAST. */
function mayCastParameter(sql: string): boolean {
  return sql.includes('$') && (sql.includes('::') || sql.toLowerCase().includes('cast'));
}

/**
 * The types PostgreSQL infers for parameters that the statement casts directly (`$1::oid[]`,
 * `CAST($2 AS date)`): 1-based parameter number → type OID. Parameters used only elsewhere, or cast
 * to types Mallard does not know, are absent. Drivers such as asyncpg rely on seeing exactly the
 * cast's type (e.g. oid[] rather than int8[]) in ParameterDescription.
 */
export function paramCastTypes(sql: string): Map<number, number> {
  const out = new Map<number, number>();
  if (!mayCastParameter(sql)) return out;
  let tree: unknown;
  try {
    tree = parseSync(sql);
  } catch {
    return out; // DuckDB-only syntax: DuckDB's own inference stands.
  }
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const cast = (
      node as { TypeCast?: { arg?: { ParamRef?: { number?: number } }; typeName?: TypeNameNode } }
    ).TypeCast;
    const number = cast?.arg?.ParamRef?.number;
    if (cast && number !== undefined && cast.typeName && !out.has(number)) {
      const oid = oidOfTypeName(cast.typeName);
      if (oid !== undefined) out.set(number, oid);
    }
    for (const value of Object.values(node)) visit(value);
  };
  visit(tree);
  return out;
}

interface TypeNameNode {
  names?: { String?: { sval?: string } }[];
  arrayBounds?: unknown[];
}

function oidOfTypeName(t: TypeNameNode): number | undefined {
  const parts = (t.names ?? []).map((n) => n.String?.sval ?? '');
  const last = parts[parts.length - 1]?.toLowerCase();
  if (!last) return undefined;
  const name = ALIASES[last] ?? last;
  const key = t.arrayBounds && t.arrayBounds.length > 0 ? `_${name}` : name;
  return (Oid as Record<string, number>)[key];
}
