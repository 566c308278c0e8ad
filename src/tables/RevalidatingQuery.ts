import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import type { PreparedQuery, QueryCursor, ResultColumn } from '../executor/Executor.js';

/** The catalog objects a statement's names resolve to, by identity (catalog records never change in place). */
export type SchemaStamp = readonly unknown[];

/**
 * A prepared statement over catalog tables that follows DDL the way PostgreSQL's plan cache does. When
 * a relation it names has changed (or a name now resolves elsewhere) since it was prepared, it is
 * prepared again before it runs; if its result would no longer have the columns its RowDescription
 * promised (names and types), the execution fails with 0A000 "cached plan must not change result type",
 * and keeps failing while the tables stay so, as in PostgreSQL. A statement without rows (INSERT,
 * UPDATE, DELETE without RETURNING) simply runs against the new definition.
 */
export class RevalidatingQuery implements PreparedQuery {
  readonly tag: string;
  readonly tagHasCount: boolean;
  readonly paramTypes: readonly DuckDBType[];
  readonly columns: readonly ResultColumn[];
  #current: PreparedQuery;
  #stamp: SchemaStamp;
  /** The stamp under which the statement was found to have changed shape. */
  #broken: SchemaStamp | null = null;

  constructor(
    prepared: PreparedQuery,
    stamp: SchemaStamp,
    private readonly stampNow: () => SchemaStamp,
    private readonly prepareAgain: (paramTypes: readonly DuckDBType[]) => Promise<PreparedQuery>,
  ) {
    this.#current = prepared;
    this.#stamp = stamp;
    this.tag = prepared.tag;
    this.tagHasCount = prepared.tagHasCount;
    this.paramTypes = prepared.paramTypes;
    this.columns = prepared.columns;
  }

  async execute(params: readonly DuckDBValue[]): Promise<QueryCursor> {
    const now = this.stampNow();
    if (!sameStamp(now, this.#stamp)) {
      if (this.#broken && sameStamp(now, this.#broken)) throw resultTypeChanged();
      // PostgreSQL keeps the parameter types of the original Parse.
      const fresh = await this.prepareAgain(this.paramTypes);
      if (!sameColumns(fresh.columns, this.columns)) {
        fresh.close();
        this.#broken = now;
        throw resultTypeChanged();
      }
      this.#current.close();
      this.#current = fresh;
      this.#stamp = now;
      this.#broken = null;
    }
    return this.#current.execute(params);
  }

  close(): void {
    this.#current.close();
  }
}

function resultTypeChanged(): PgError {
  return new PgError(SqlState.FeatureNotSupported, 'cached plan must not change result type');
}

function sameStamp(a: SchemaStamp, b: SchemaStamp): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** PostgreSQL compares the whole row type: column names, types and type modifiers. */
function sameColumns(a: readonly ResultColumn[], b: readonly ResultColumn[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.name !== b[i]!.name || a[i]!.type.toString() !== b[i]!.type.toString()) return false;
  }
  return true;
}

/**
 * The relation names a statement mentions: RangeVars of PostgreSQL's parse (libpg-query) and
 * BASE_TABLE references of DuckDB's (json_serialize_sql), unqualified schema as null. CTE names are
 * included; they resolve to nothing or to a table of the same name, which only costs a spare check.
 */
export function relationNames(tree: unknown): { schema: string | null; name: string }[] {
  const out: { schema: string | null; name: string }[] = [];
  const seen = new Set<string>();
  const add = (schema: string | null, name: string) => {
    const key = `${schema ?? ''}\u0000${name}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ schema, name });
  };
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (typeof o['relname'] === 'string') {
      add(typeof o['schemaname'] === 'string' ? o['schemaname'] : null, o['relname']);
    } else if (o['type'] === 'BASE_TABLE' && typeof o['table_name'] === 'string' && !o['catalog_name']) {
      add(o['schema_name'] ? String(o['schema_name']) : null, o['table_name']);
    }
    for (const v of Object.values(o)) if (v !== null && typeof v === 'object') visit(v);
  };
  visit(tree);
  return out;
}
