import type { PgNode } from './tableSpecFromAst.js';

/** Operators where PostgreSQL gives an untyped parameter the type of the other operand. */
const OPERATORS = new Set(['+', '-', '*', '/', '%', '=', '<>', '!=', '<', '<=', '>', '>=', '||']);

/**
 * PostgreSQL's rule for `col + $1`, `$1 * col`, `col < $2`: an untyped parameter next to a column takes
 * the column's type. DuckDB leaves such a parameter untyped (arithmetic does not resolve it), so the
 * table layer passes these types as hints. Returns parameter index (0-based) → column type name.
 */
export function inferParamTypes(
  node: unknown,
  columnType: (name: string) => string | undefined,
): Map<number, string> {
  const out = new Map<number, string>();
  const param = (n: PgNode | undefined): number | null =>
    n?.['ParamRef'] ? Number(n['ParamRef'].number) - 1 : null;
  const column = (n: PgNode | undefined): string | undefined => {
    const fields = n?.['ColumnRef']?.fields as PgNode[] | undefined;
    const last = fields?.at(-1)?.['String']?.sval as string | undefined;
    return last === undefined ? undefined : columnType(last);
  };
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) {
      for (const x of n) walk(x);
      return;
    }
    if (!n || typeof n !== 'object') return;
    const o = n as PgNode;
    const e = o['A_Expr'] as PgNode | undefined;
    if (e && e['kind'] === 'AEXPR_OP') {
      const op = (e['name'] as PgNode[] | undefined)?.at(-1)?.['String']?.sval as string | undefined;
      if (op && OPERATORS.has(op)) {
        const lp = param(e['lexpr']);
        const rp = param(e['rexpr']);
        const lt = column(e['lexpr']);
        const rt = column(e['rexpr']);
        if (lp !== null && rt && !out.has(lp)) out.set(lp, rt);
        if (rp !== null && lt && !out.has(rp)) out.set(rp, lt);
      }
    }
    for (const v of Object.values(o)) walk(v);
  };
  walk(node);
  return out;
}
