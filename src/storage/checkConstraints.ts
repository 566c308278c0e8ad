import type { DuckDBConnection } from '@duckdb/node-api';
import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import type { ColumnDef, TableEntry } from '../catalog/CatalogModel.js';
import { buildRelation } from './buildRelation.js';
import { quoteIdent, quoteLiteral } from './sqlText.js';

export interface CheckOptions {
  /** An UPDATE's assigned column ids: constraints on other columns need no check. */
  readonly changed?: ReadonlySet<number> | null;
  /**
   * Whether two values of the column are equal exactly when their VARCHAR forms are (integers,
   * DECIMAL, VARCHAR, UUID, DATE, ...). For such a key the inline rows that could clash are found by
   * comparing text, and only those reach DuckDB.
   */
  readonly exactText?: (c: ColumnDef) => boolean;
  /**
   * What is already known of the new rows (from the statistics of the files they were written to):
   * their count, NULLs per column id, and [min, max] (DuckDB's VARCHAR form) per column id. When it
   * covers every NOT NULL column and every key's first column and the table has no CHECK, the pass
   * over the new rows that would find them is skipped.
   */
  readonly known?: KnownRows;
}

/** See CheckOptions.known. */
export interface KnownRows {
  readonly rows: number;
  readonly nulls: ReadonlyMap<number, number>;
  readonly ranges: ReadonlyMap<number, { readonly lo: string | null; readonly hi: string | null }>;
}

/** Up to this many new rows, inline rows are matched by key text rather than all sent to DuckDB. */
const TEXT_MATCH_MAX = 1000;

/**
 * Checks rows about to be added to a table against its constraints: NOT NULL (23502), CHECK (23514),
 * and PRIMARY KEY/UNIQUE (23505) both among the new rows and against every row already in the table
 * — all files and the inline buffer. Throws the first violation; the caller then drops the new rows,
 * which leaves the table unchanged.
 *
 * `table` is the table as the statement's transaction sees it, without the new rows and without rows
 * the statement deletes (an UPDATE's old versions). `newRows` is SQL with the table's column names.
 * Files are pruned by their min/max statistics of the key's first column before any is read.
 * Inline rows are searched by key text first when the key type allows it (see CheckOptions).
 */
export async function checkConstraints(
  conn: DuckDBConnection,
  table: TableEntry,
  newRows: string,
  root: string,
  options: CheckOptions = {},
): Promise<void> {
  const changed = options.changed ?? null;
  const def = table.def;
  const byId = new Map(def.columns.map((c) => [c.id, c]));
  const alias = quoteIdent(def.name);
  // An UPDATE that leaves a constraint's columns alone cannot break it: the old versions satisfied it
  // and are gone. A CHECK that lists no columns is always checked.
  const affected = (columns: readonly number[]) =>
    changed === null || columns.length === 0 || columns.some((c) => changed.has(c));
  const keys = def.constraints.filter((k) => k.kind !== 'check' && affected(k.columns));
  const checks = def.constraints.filter((k) => k.kind === 'check' && affected(k.columns));
  const notNull = def.columns.filter((c) => c.notNull && affected([c.id]));

  // One pass over the new rows for NOT NULL, CHECK and each key's range.
  const probes: string[] = ['count(*) AS n'];
  for (const [i, c] of notNull.entries()) probes.push(`bool_or(${quoteIdent(c.name)} IS NULL) AS n${i}`);
  for (const [i, k] of checks.entries()) probes.push(`bool_or(NOT (${k.expression})) AS k${i}`);
  keys.forEach((k, i) => {
    const first = quoteIdent(byId.get(k.columns[0]!)!.name);
    probes.push(`CAST(min(${first}) AS VARCHAR) AS lo${i}`, `CAST(max(${first}) AS VARCHAR) AS hi${i}`);
  });
  if (probes.length === 1) return;
  const probe =
    knownProbe(options.known, notNull, checks.length, keys) ??
    (
      await conn.runAndReadAll(`SELECT ${probes.join(', ')} FROM (${newRows}) AS ${alias}`)
    ).getRowObjects()[0]!;
  notNull.forEach((c, i) => {
    if (probe[`n${i}`] === true) {
      throw new PgError(
        SqlState.NotNullViolation,
        `null value in column "${c.name}" of relation "${def.name}" violates not-null constraint`,
        { schema: def.schema, table: def.name, column: c.name },
      );
    }
  });
  checks.forEach((k, i) => {
    if (probe[`k${i}`] === true) {
      throw new PgError(
        SqlState.CheckViolation,
        `new row for relation "${def.name}" violates check constraint "${k.name}"`,
        {
          schema: def.schema,
          table: def.name,
          constraint: k.name,
        },
      );
    }
  });

  for (const [i, k] of keys.entries()) {
    const cols = k.columns.map((id) => byId.get(id)!);
    const lo = probe[`lo${i}`];
    const hi = probe[`hi${i}`];
    if (lo === null || hi === null) continue; // no new row has a non-null first key column
    const names = cols.map((c) => quoteIdent(c.name));
    const notNullKey = names.map((n) => `${n} IS NOT NULL`).join(' AND ');
    const rows = Number(probe['n']);
    if (rows > 1) {
      const dup = await firstRow(
        conn,
        `SELECT ${names.map((n) => `CAST(${n} AS VARCHAR)`).join(', ')} FROM (${newRows}) AS ${alias} WHERE ${notNullKey} GROUP BY ${names.join(', ')} HAVING count(*) > 1 LIMIT 1`,
      );
      if (dup) throw uniqueViolation(def.schema, def.name, k.name, cols, dup);
    }
    const fileIds = await overlappingFiles(conn, table, cols[0]!, String(lo), String(hi));
    let inlineIds: Set<number> | undefined;
    if (options.exactText?.(cols[0]!) && rows <= TEXT_MATCH_MAX) {
      const texts =
        lo === hi
          ? new Set([String(lo)])
          : new Set(
              (
                await conn.runAndReadAll(
                  `SELECT DISTINCT CAST(${names[0]} AS VARCHAR) FROM (${newRows}) AS ${alias} WHERE ${notNullKey}`,
                )
              )
                .getRows()
                .map((r) => String(r[0])),
            );
      inlineIds = matchingInlineRows(table, cols[0]!, texts);
    }
    const inlineCount = inlineIds ? inlineIds.size : table.inline.length;
    if (!fileIds.size && !inlineCount) continue;
    const existing = buildRelation(table, { root, fileIds, inlineIds });
    const on = names.map((n) => `e.${n} = n.${n}`).join(' AND ');
    // The range of the new keys, as a plain filter, lets DuckDB skip row groups by their statistics.
    const t = cols[0]!.type;
    const range = `e.${names[0]} BETWEEN CAST(${quoteLiteral(String(lo))} AS ${t}) AND CAST(${quoteLiteral(String(hi))} AS ${t})`;
    const clash = await firstRow(
      conn,
      `SELECT ${names.map((n) => `CAST(e.${n} AS VARCHAR)`).join(', ')} FROM (${existing}) AS e SEMI JOIN (SELECT ${names.join(', ')} FROM (${newRows}) AS ${alias} WHERE ${notNullKey}) AS n ON ${on} WHERE ${range} LIMIT 1`,
    );
    if (clash) throw uniqueViolation(def.schema, def.name, k.name, cols, clash);
  }
}

/** The probe's answers from what is known of the new rows, or null when that does not cover them. */
function knownProbe(
  known: KnownRows | undefined,
  notNull: readonly ColumnDef[],
  checks: number,
  keys: readonly { readonly columns: readonly number[] }[],
): Record<string, unknown> | null {
  if (!known || checks > 0) return null;
  const probe: Record<string, unknown> = { n: known.rows };
  for (const [i, c] of notNull.entries()) {
    const nulls = known.nulls.get(c.id);
    if (nulls === undefined) return null;
    probe[`n${i}`] = nulls > 0;
  }
  for (const [i, k] of keys.entries()) {
    const range = known.ranges.get(k.columns[0]!);
    if (!range) return null;
    probe[`lo${i}`] = range.lo;
    probe[`hi${i}`] = range.hi;
  }
  return probe;
}

/** Files whose recorded [min, max] of `column` meets [lo, hi], plus files without such statistics. */
async function overlappingFiles(
  conn: DuckDBConnection,
  table: TableEntry,
  column: ColumnDef,
  lo: string,
  hi: string,
): Promise<Set<number>> {
  const out = new Set<number>();
  const ranged: string[] = [];
  for (const f of table.files) {
    const s = f.stats[String(column.id)];
    if (!f.columns.includes(column.id) && column.missing === null) continue; // reads as NULL: never equal
    if (!s || s.min === null || s.max === null || !f.columns.includes(column.id)) out.add(f.id);
    else ranged.push(`(${f.id}, ${quoteLiteral(s.min)}, ${quoteLiteral(s.max)})`);
  }
  if (ranged.length) {
    const t = column.type;
    const reader = await conn.runAndReadAll(
      `SELECT id FROM (VALUES ${ranged.join(', ')}) AS f(id, lo, hi) WHERE CAST(hi AS ${t}) >= CAST(${quoteLiteral(lo)} AS ${t}) AND CAST(lo AS ${t}) <= CAST(${quoteLiteral(hi)} AS ${t})`,
    );
    for (const [id] of reader.getRows()) out.add(Number(id));
  }
  return out;
}

/** Inline rows whose first key column could equal one of `texts` (rows predating the column included). */
function matchingInlineRows(table: TableEntry, column: ColumnDef, texts: ReadonlySet<string>): Set<number> {
  const ids = new Set<number>();
  for (const b of table.inline) {
    const at = b.columns.indexOf(column.id);
    for (const r of b.rows) {
      if (at < 0 ? column.missing !== null : r.values[at] !== null && texts.has(r.values[at]!)) ids.add(r.id);
    }
  }
  return ids;
}

async function firstRow(conn: DuckDBConnection, sql: string): Promise<unknown[] | null> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRows()[0] ?? null;
}

function uniqueViolation(
  schema: string,
  table: string,
  constraint: string,
  cols: ColumnDef[],
  values: unknown[],
): PgError {
  return new PgError(
    SqlState.UniqueViolation,
    `duplicate key value violates unique constraint "${constraint}"`,
    {
      detail: `Key (${cols.map((c) => c.name).join(', ')})=(${values.map(String).join(', ')}) already exists.`,
      schema,
      table,
      constraint,
    },
  );
}
