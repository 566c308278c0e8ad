import type { Catalog } from '../catalog/Catalog.js';
import type { CatalogState, ConstraintDef, SequenceDef, TableDef, ViewDef } from '../catalog/CatalogModel.js';
import { COMPAT_CATALOG, MIRROR_CATALOG } from '../sql/compatSchema.js';
import { quoteIdent, quoteLiteral } from '../storage/sqlText.js';

/** How the mirror reaches the coordinator's DuckDB: through a session's connection, outside any transaction. */
export interface MirrorConnection {
  run(sql: string): Promise<void>;
  rows(sql: string): Promise<unknown[][]>;
  /** The columns a catalog view yields today (name, DuckDB type), or null when it no longer binds. */
  viewColumns(view: ViewDef): Promise<{ name: string; type: string }[] | null>;
}

interface MirroredTable {
  readonly def: TableDef;
  /** The DuckDB table's OID, for its rows in the constraint-name map; null when it could not be created. */
  readonly oid: bigint | null;
}

const mirrors = new WeakMap<Catalog, CatalogMirror>();

/**
 * Empty DuckDB copies of the catalog's schemas, tables (columns, types, defaults, NOT NULL, keys,
 * checks, indexes), views and sequences, in the attached in-memory database MIRROR_CATALOG of the
 * coordinator's DuckDB. They hold no rows: they exist so that what clients learn from pg_catalog and
 * information_schema (psql's \d, JDBC's metadata, ORMs' reflection), which DuckDB builds from its own
 * catalog, covers the Parquet tables too. One mirror per catalog and process; sessions bring it up
 * to date before their statements (see TableExecutor), one at a time.
 */
export class CatalogMirror {
  #state: CatalogState | null = null;
  readonly #schemas = new Set<string>(['main']);
  readonly #tables = new Map<number, MirroredTable>();
  readonly #views = new Map<number, ViewDef>();
  readonly #sequences = new Map<number, SequenceDef>();
  #lock: Promise<unknown> = Promise.resolve();

  /** The mirror of `catalog` in this process. */
  static of(catalog: Catalog): CatalogMirror {
    let m = mirrors.get(catalog);
    if (!m) {
      m = new CatalogMirror();
      mirrors.set(catalog, m);
    }
    return m;
  }

  /** True when `state` has no schema change since the last sync (data commits do not count). */
  isCurrent(state: CatalogState): boolean {
    if (state === this.#state) return true;
    const last = this.#state;
    if (!last) return false;
    const same =
      state.schemas === last.schemas &&
      state.views === last.views &&
      sameDefs(state, last) &&
      sameSequenceDefs(state, last);
    // Remember the newer state so that the next check of it is one comparison.
    if (same) this.#state = state;
    return same;
  }

  /** Brings the mirror to `state` through `conn`. Concurrent calls run one after another. */
  sync(state: CatalogState, conn: MirrorConnection): Promise<void> {
    const next = this.#lock.then(() => (this.isCurrent(state) ? undefined : this.#apply(state, conn)));
    this.#lock = next.catch(() => {});
    return next;
  }

  async #apply(state: CatalogState, conn: MirrorConnection): Promise<void> {
    const db = quoteIdent(MIRROR_CATALOG);
    const qualified = (schema: string, name: string) => `${db}.${quoteIdent(schema)}.${quoteIdent(name)}`;
    const tryRun = async (sql: string) => {
      try {
        await conn.run(sql);
        return true;
      } catch {
        return false;
      }
    };
    const seqChanged = new Set<number>();
    for (const [id, def] of this.#sequences) {
      if (state.sequences.get(id)?.def !== def) seqChanged.add(id);
    }
    // Views first (they name nothing in DuckDB), then tables, then sequences their defaults use.
    for (const [id, v] of this.#views) {
      if (state.views.get(id) === v) continue;
      await tryRun(`DROP VIEW IF EXISTS ${qualified(v.schema, v.name)}`);
      this.#views.delete(id);
    }
    for (const [id, t] of this.#tables) {
      const now = state.tables.get(id)?.def;
      if (now === t.def && !t.def.columns.some((c) => c.sequence !== null && seqChanged.has(c.sequence)))
        continue;
      await tryRun(`DROP TABLE IF EXISTS ${qualified(t.def.schema, t.def.name)} CASCADE`);
      if (t.oid !== null) {
        await tryRun(`DELETE FROM ${COMPAT_CATALOG}.main.mirror_constraint_names WHERE table_oid = ${t.oid}`);
      }
      this.#tables.delete(id);
    }
    for (const id of seqChanged) {
      const def = this.#sequences.get(id)!;
      await tryRun(`DROP SEQUENCE IF EXISTS ${qualified(def.schema, def.name)} CASCADE`);
      this.#sequences.delete(id);
    }
    for (const name of state.schemas.keys()) {
      if (this.#schemas.has(name)) continue;
      await tryRun(`CREATE SCHEMA IF NOT EXISTS ${db}.${quoteIdent(name)}`);
      this.#schemas.add(name);
    }
    for (const [id, entry] of state.sequences) {
      if (this.#sequences.has(id)) continue;
      const s = entry.def;
      await tryRun(
        `CREATE SEQUENCE IF NOT EXISTS ${qualified(s.schema, s.name)} START WITH ${s.start} INCREMENT BY ${s.increment} MINVALUE ${s.min} MAXVALUE ${s.max}${s.cycle ? ' CYCLE' : ''}`,
      );
      this.#sequences.set(id, s);
    }
    for (const [id, entry] of state.tables) {
      if (this.#tables.has(id)) continue;
      this.#tables.set(id, { def: entry.def, oid: await this.#createTable(entry.def, conn, tryRun) });
    }
    for (const [id, v] of state.views) {
      if (this.#views.has(id)) continue;
      const cols = await conn.viewColumns(v).catch(() => null);
      if (cols?.length) {
        const select = cols.map((c) => `CAST(NULL AS ${c.type}) AS ${quoteIdent(c.name)}`).join(', ');
        await tryRun(`CREATE OR REPLACE VIEW ${qualified(v.schema, v.name)} AS SELECT ${select} WHERE false`);
      }
      this.#views.set(id, v);
    }
    for (const name of [...this.#schemas]) {
      if (name === 'main' || state.schemas.has(name)) continue;
      await tryRun(`DROP SCHEMA IF EXISTS ${db}.${quoteIdent(name)} CASCADE`);
      this.#schemas.delete(name);
    }
    this.#state = state;
  }

  /**
   * CREATE TABLE in the mirror with as much of the definition as DuckDB accepts (a default or check it
   * cannot bind is left out rather than the table), its indexes, and the catalog's constraint names.
   */
  async #createTable(
    def: TableDef,
    conn: MirrorConnection,
    tryRun: (sql: string) => Promise<boolean>,
  ): Promise<bigint | null> {
    const db = quoteIdent(MIRROR_CATALOG);
    const name = `${db}.${quoteIdent(def.schema)}.${quoteIdent(def.name)}`;
    const colName = (id: number) => quoteIdent(def.columns.find((c) => c.id === id)?.name ?? '');
    const attempts = [
      { defaults: true, checks: true, keys: true },
      { defaults: false, checks: false, keys: true },
      { defaults: false, checks: false, keys: false },
    ];
    let created = false;
    for (const a of attempts) {
      const parts = def.columns.map(
        (c) =>
          `${quoteIdent(c.name)} ${c.type}${c.notNull ? ' NOT NULL' : ''}${a.defaults && c.default ? ` DEFAULT (${c.default})` : ''}`,
      );
      for (const k of def.constraints) {
        if (k.kind === 'check') {
          if (a.checks && k.expression) parts.push(`CHECK (${k.expression})`);
        } else if (a.keys) {
          parts.push(
            `${k.kind === 'primary key' ? 'PRIMARY KEY' : 'UNIQUE'} (${k.columns.map(colName).join(', ')})`,
          );
        }
      }
      if (await tryRun(`CREATE TABLE ${name} (${parts.join(', ')})`)) {
        created = true;
        break;
      }
    }
    if (!created) return null;
    for (const idx of def.indexes) {
      // A unique index is also recorded as a UNIQUE constraint of the same name, which lists it already.
      if (idx.unique && def.constraints.some((k) => k.name === idx.name)) continue;
      await tryRun(
        `CREATE ${idx.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(idx.name)} ON ${name} (${idx.columns.map(colName).join(', ')})`,
      );
    }
    const rows = await conn
      .rows(
        `SELECT table_oid, constraint_index, constraint_type, constraint_column_names FROM duckdb_constraints() WHERE database_name = ${quoteLiteral(MIRROR_CATALOG)} AND schema_name = ${quoteLiteral(def.schema)} AND table_name = ${quoteLiteral(def.name)} ORDER BY constraint_index`,
      )
      .catch(() => [] as unknown[][]);
    if (!rows.length) return null;
    const oid = BigInt(String(rows[0]![0]));
    // DuckDB names constraints itself; clients should see the catalog's (PostgreSQL's) names.
    const named: string[] = [];
    const checks = def.constraints.filter((k) => k.kind === 'check');
    let nextCheck = 0;
    for (const [, index, type, columns] of rows) {
      let k: ConstraintDef | undefined;
      if (type === 'CHECK') k = checks[nextCheck++];
      else if (type === 'PRIMARY KEY' || type === 'UNIQUE') {
        const names = (columns as { items?: unknown[] } | unknown[]) ?? [];
        const list = (Array.isArray(names) ? names : (names.items ?? [])).map(String);
        k = def.constraints.find(
          (c) =>
            c.kind === (type === 'PRIMARY KEY' ? 'primary key' : 'unique') &&
            c.columns.length === list.length &&
            c.columns.every((id, i) => def.columns.find((col) => col.id === id)?.name === list[i]),
        );
      }
      if (k) named.push(`(${oid}, ${String(index)}, ${quoteLiteral(k.name)})`);
    }
    if (named.length) {
      await tryRun(`INSERT INTO ${COMPAT_CATALOG}.main.mirror_constraint_names VALUES ${named.join(', ')}`);
    }
    return oid;
  }
}

function sameDefs(a: CatalogState, b: CatalogState): boolean {
  if (a.tables === b.tables) return true;
  if (a.tables.size !== b.tables.size) return false;
  for (const [id, t] of a.tables) if (b.tables.get(id)?.def !== t.def) return false;
  return true;
}

function sameSequenceDefs(a: CatalogState, b: CatalogState): boolean {
  if (a.sequences === b.sequences) return true;
  if (a.sequences.size !== b.sequences.size) return false;
  for (const [id, s] of a.sequences) if (b.sequences.get(id)?.def !== s.def) return false;
  return true;
}
