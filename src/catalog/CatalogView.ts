import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import {
  type CatalogState,
  type ColocationGroup,
  nameKey,
  type QualifiedName,
  type SchemaDef,
  type SequenceEntry,
  type TableEntry,
  type TableRef,
  type TypeDef,
  type ViewDef,
} from './CatalogModel.js';

/**
 * Read access to one catalog state: a committed version (Snapshot) or a transaction's own view with
 * its staged changes. Never changes once made.
 */
export class CatalogView {
  readonly state: CatalogState;

  constructor(state: CatalogState) {
    this.state = state;
  }

  /** The committed version this view is based on. */
  get version(): number {
    return this.state.version;
  }

  schemas(): SchemaDef[] {
    return [...this.state.schemas.values()];
  }

  schema(name: string): SchemaDef | undefined {
    return this.state.schemas.get(name);
  }

  /** Tables, optionally of one schema, in id order. */
  tables(schema?: string): TableEntry[] {
    const all = [...this.state.tables.values()];
    return schema === undefined ? all : all.filter((t) => t.def.schema === schema);
  }

  table(ref: TableRef): TableEntry | undefined {
    if (typeof ref === 'number') return this.state.tables.get(ref);
    const r = this.state.relations.get(nameKey(ref.schema, ref.name));
    return r?.kind === 'table' ? this.state.tables.get(r.id) : undefined;
  }

  /** The table, or 42P01 as PostgreSQL reports it. */
  requireTable(ref: TableRef): TableEntry {
    const t = this.table(ref);
    if (!t) {
      const what = typeof ref === 'number' ? `with id ${ref}` : `"${ref.schema}.${ref.name}"`;
      throw new PgError(SqlState.UndefinedTable, `relation ${what} does not exist`);
    }
    return t;
  }

  views(schema?: string): ViewDef[] {
    const all = [...this.state.views.values()];
    return schema === undefined ? all : all.filter((v) => v.schema === schema);
  }

  view(name: QualifiedName): ViewDef | undefined {
    const r = this.state.relations.get(nameKey(name.schema, name.name));
    return r?.kind === 'view' ? this.state.views.get(r.id) : undefined;
  }

  sequences(schema?: string): SequenceEntry[] {
    const all = [...this.state.sequences.values()];
    return schema === undefined ? all : all.filter((s) => s.def.schema === schema);
  }

  sequence(ref: number | QualifiedName): SequenceEntry | undefined {
    if (typeof ref === 'number') return this.state.sequences.get(ref);
    const r = this.state.relations.get(nameKey(ref.schema, ref.name));
    return r?.kind === 'sequence' ? this.state.sequences.get(r.id) : undefined;
  }

  requireSequence(ref: number | QualifiedName): SequenceEntry {
    const s = this.sequence(ref);
    if (!s) {
      const what = typeof ref === 'number' ? `with id ${ref}` : `"${ref.schema}.${ref.name}"`;
      throw new PgError(SqlState.UndefinedTable, `sequence ${what} does not exist`);
    }
    return s;
  }

  /** What a name in a schema refers to: PostgreSQL keeps tables, views and sequences in one namespace. */
  relationKind(name: QualifiedName): 'table' | 'view' | 'sequence' | undefined {
    return this.state.relations.get(nameKey(name.schema, name.name))?.kind;
  }

  /** A named type (CREATE TYPE), or undefined. */
  type(name: QualifiedName): TypeDef | undefined {
    return this.state.types?.get(nameKey(name.schema, name.name));
  }

  colocationGroups(): ColocationGroup[] {
    return [...this.state.colocations.values()];
  }

  colocationGroup(id: number): ColocationGroup | undefined {
    return this.state.colocations.get(id);
  }

  /** Live row count of a table: file rows minus deleted positions plus inline rows. */
  rowCount(ref: TableRef): number {
    const t = this.requireTable(ref);
    let n = 0;
    for (const f of t.files) n += f.rows - (t.deletes.get(f.id)?.count ?? 0);
    for (const b of t.inline) n += b.rows.length;
    return n;
  }
}
