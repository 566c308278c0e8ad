import type { BaseTableRef } from './ast.js';
import type { TableLayout } from './types.js';

/**
 * One name in a FROM clause (a table, derived table, CTE reference or table function) with what the
 * planner knows about its columns. `columns` is null when the planner cannot list them, and an entry is
 * null when one column's name is unknown; either makes unqualified names ambiguous to the planner, which
 * then claims nothing about them.
 */
export interface Binding {
  readonly id: number;
  /** Lower-case alias (the table name when there is no alias). */
  readonly alias: string;
  /** Lower-case column names, in order. */
  readonly columns: readonly (string | null)[] | null;
  /** Lower-case columns whose value determines the task holding the row (the bucket key). */
  readonly keys: ReadonlySet<string>;
  /** Each task sees only its share of this relation's rows. */
  readonly part: boolean;
  /** For a catalog table: the reference in the parse tree and its layout. */
  readonly table?: { readonly ref: BaseTableRef; readonly layout: TableLayout };
}

/** What a column reference denotes, as far as the planner can tell. */
export type Resolution =
  | { readonly kind: 'column'; readonly depth: number; readonly binding: Binding; readonly column: string }
  /** A field of a struct column: reads the column, is not the column itself. */
  | { readonly kind: 'field'; readonly depth: number; readonly binding: Binding; readonly column: string }
  | { readonly kind: 'unknown' };

/** Identity of a column across the whole query, for equality classes. */
export function columnId(binding: Binding, column: string): string {
  return `${binding.id}.${column}`;
}

/**
 * The names visible in one SELECT: its FROM clause's bindings, then the enclosing queries' (for
 * correlated subqueries), resolved the way DuckDB's binder does for the cases the planner relies on and
 * reported unknown otherwise.
 */
export class Scope {
  readonly bindings: Binding[] = [];
  /** Columns a USING or NATURAL join merged: the binding an unqualified name then reads (null: neither). */
  private readonly merged = new Map<string, Binding | null>();

  constructor(readonly parent: Scope | null) {}

  /** Records that `column`, unqualified, denotes `binding`'s column (null: a COALESCE of both sides). */
  mergeColumn(column: string, binding: Binding | null): void {
    this.merged.set(column, binding);
  }

  resolve(columnNames: readonly string[]): Resolution {
    const names = columnNames.map((n) => n.toLowerCase());
    let scope: Scope | null = this;
    for (let depth = 0; scope; depth++, scope = scope.parent) {
      const found = scope.resolveHere(names, depth);
      if (found !== 'not-here') return found;
    }
    return { kind: 'unknown' };
  }

  private resolveHere(names: readonly string[], depth: number): Resolution | 'not-here' {
    const first = names[0]!;
    if (names.length >= 2) {
      const byAlias = this.bindings.filter((b) => b.alias === first);
      if (byAlias.length > 1) return { kind: 'unknown' };
      if (byAlias.length === 1) {
        const b = byAlias[0]!;
        const column = names[1]!;
        if (b.columns === null || b.columns.includes(null)) return { kind: 'unknown' };
        if (b.columns.includes(column)) {
          return { kind: names.length === 2 ? 'column' : 'field', depth, binding: b, column };
        }
      }
    }
    // An unqualified name, or `a.b` where `a` is no table here: DuckDB then reads `a` as a column.
    const holders = this.bindings.filter((b) => b.columns?.includes(first));
    const unknown = this.bindings.some((b) => b.columns === null || b.columns.includes(null));
    if (holders.length === 1 && !unknown) {
      return { kind: names.length === 1 ? 'column' : 'field', depth, binding: holders[0]!, column: first };
    }
    const merged = this.merged.get(first);
    if (holders.length > 1 && merged && !unknown) {
      return { kind: names.length === 1 ? 'column' : 'field', depth, binding: merged, column: first };
    }
    if (holders.length > 0 || unknown) return { kind: 'unknown' };
    return 'not-here';
  }
}
