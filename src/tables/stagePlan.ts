import type { ColumnDef } from '../catalog/CatalogModel.js';
import type { PgNode } from './tableSpecFromAst.js';

/** How a COPY-style VALUES list maps onto a staging table: parameter per cell, sequences drawn per row. */
export interface StagePlan {
  readonly rows: number;
  /** Parameter index (0-based) of each target cell, row by row. */
  readonly params: readonly number[];
  /** Target column name → its stage column `p<i>`. */
  readonly columns: ReadonlyMap<string, number>;
  /** Columns not given whose default draws from a sequence. */
  readonly sequences: readonly { column: string; seq: number }[];
}

/** A stage plan when every cell of every row is a bare `$n` (no DEFAULT, no expression); else null. */
export function stagePlan(
  columns: readonly ColumnDef[],
  targets: readonly string[],
  lists: readonly PgNode[],
): StagePlan | null {
  const params: number[] = [];
  for (const l of lists) {
    const cells = (l['List'].items ?? []) as PgNode[];
    if (cells.length !== targets.length) return null;
    for (const c of cells) {
      if (!c['ParamRef']) return null;
      params.push(Number(c['ParamRef'].number) - 1);
    }
  }
  const sequences = columns
    .filter(
      (c) => !targets.includes(c.name) && c.sequence !== null && (c.default !== null || c.identity !== null),
    )
    .map((c) => ({ column: c.name, seq: c.sequence! }));
  return { rows: lists.length, params, columns: new Map(targets.map((t, i) => [t, i])), sequences };
}
