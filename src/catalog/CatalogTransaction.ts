import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import { applyOp } from './applyOp.js';
import type { Catalog } from './Catalog.js';
import type {
  CatalogState,
  ColocationGroup,
  ColumnDef,
  ColumnStats,
  ConstraintDef,
  ConstraintKind,
  DataFile,
  DeleteFile,
  Distribution,
  FileEncoding,
  InlineBatch,
  InlineEncoding,
  QualifiedName,
  SchemaDef,
  SequenceDef,
  TableDef,
  TableRef,
  TableStats,
  TypeDef,
  ViewDef,
} from './CatalogModel.js';
import type { CatalogOp } from './CatalogOp.js';
import { CatalogView } from './CatalogView.js';
import type { Snapshot } from './Snapshot.js';

/** A column of CREATE TABLE / ADD COLUMN, before ids are assigned. */
export interface ColumnSpec {
  readonly name: string;
  /** DuckDB type; storage.TableStorage.resolveColumns normalizes it and picks the encodings. */
  readonly type: string;
  readonly notNull?: boolean;
  readonly default?: string | null;
  /** What rows that predate an ADD COLUMN read as (SQL expression); defaults to NULL. */
  readonly missing?: string | null;
  /** SERIAL/BIGSERIAL: an owned sequence and `DEFAULT nextval(...)`. */
  readonly serial?: boolean;
  readonly identity?: 'always' | 'by default' | null;
  readonly fileEncoding?: FileEncoding;
  readonly inlineEncoding?: InlineEncoding;
}

export interface ConstraintSpec {
  /** Generated the way PostgreSQL does (`t_pkey`, `t_a_key`, `t_a_check`) when omitted. */
  readonly name?: string;
  readonly kind: ConstraintKind;
  /**
   * PRIMARY KEY/UNIQUE: the key. CHECK: the columns the expression reads (the SQL layer extracts them
   * with the parser), so that DROP COLUMN drops the constraint and the name follows PostgreSQL's rule.
   */
  readonly columns?: readonly string[];
  readonly expression?: string;
}

export interface TableSpec extends QualifiedName {
  readonly columns: readonly ColumnSpec[];
  readonly constraints?: readonly ConstraintSpec[];
  readonly distribution?: Distribution;
}

export interface SequenceSpec extends QualifiedName {
  /** 'integer' for SERIAL columns, 'smallint', or 'bigint' (the default): bounds the range. */
  readonly dataType?: 'smallint' | 'integer' | 'bigint';
  readonly start?: bigint;
  readonly increment?: bigint;
  readonly min?: bigint;
  readonly max?: bigint;
  readonly cycle?: boolean;
  readonly ownedBy?: { readonly table: number; readonly column: number } | null;
}

export interface ViewSpec extends QualifiedName {
  readonly sql: string;
  readonly columns?: readonly string[] | null;
  readonly dependsOn?: readonly number[];
}

/** A point to roll back to: a failed statement undoes its own changes and keeps the transaction. */
export interface Savepoint {
  readonly ops: number;
  readonly state: CatalogState;
  readonly owned: number;
}

/**
 * Changes staged against a snapshot. Each change is applied at once to the transaction's own view
 * (a session sees its own writes) and recorded as an op; `commit()` re-applies the ops to the newest
 * version, writes them as one log record and publishes the result atomically.
 */
export class CatalogTransaction {
  readonly snapshot: Snapshot;
  readonly maintenance: boolean;
  readonly #catalog: Catalog;
  #state: CatalogState;
  #ops: CatalogOp[] = [];
  readonly #created = new Set<number>();
  #owned: string[] = [];
  readonly #localSequences = new Map<number, { last: bigint; called: boolean }>();
  #status: 'active' | 'committed' | 'aborted' = 'active';

  constructor(catalog: Catalog, snapshot: Snapshot, maintenance: boolean) {
    this.#catalog = catalog;
    this.snapshot = snapshot;
    this.maintenance = maintenance;
    this.#state = snapshot.state;
  }

  /** The snapshot plus this transaction's changes. */
  get view(): CatalogView {
    return new CatalogView(this.#state);
  }

  get catalog(): Catalog {
    return this.#catalog;
  }

  get status(): 'active' | 'committed' | 'aborted' {
    return this.#status;
  }

  /** The staged ops, in order. */
  get ops(): readonly CatalogOp[] {
    return this.#ops;
  }

  /** Applies one op to this transaction's view; throws (and changes nothing) if it does not fit. */
  stage(op: CatalogOp): void {
    this.#assertActive();
    this.#state = applyOp(this.#state, op);
    this.#ops.push(op);
  }

  // ---- schemas

  /** Returns the new schema, or null under IF NOT EXISTS when it exists. */
  createSchema(name: string, options: { ifNotExists?: boolean } = {}): SchemaDef | null {
    if (options.ifNotExists && this.#state.schemas.has(name)) return null;
    const schema = { id: this.#catalog.allocateIds(), name };
    this.stage({ op: 'createSchema', schema });
    return schema;
  }

  dropSchema(name: string, options: { ifExists?: boolean; cascade?: boolean } = {}): boolean {
    if (!this.#state.schemas.has(name)) {
      if (options.ifExists) return false;
      throw new PgError(SqlState.InvalidSchemaName, `schema "${name}" does not exist`);
    }
    if (options.cascade) {
      const v = this.view;
      for (const view of v.views(name))
        if (this.view.view(view)) this.dropView(view, { ifExists: true, cascade: true });
      for (const t of v.tables(name))
        if (this.view.table(t.def.id)) this.dropTable(t.def.id, { cascade: true });
      for (const s of this.view.sequences(name)) this.dropSequence(s.def.id);
    }
    this.stage({ op: 'dropSchema', name });
    return true;
  }

  // ---- tables

  /** Assigns ids, names constraints, creates SERIAL/IDENTITY sequences. Returns null under IF NOT EXISTS. */
  createTable(spec: TableSpec, options: { ifNotExists?: boolean } = {}): TableDef | null {
    if (options.ifNotExists && this.view.relationKind(spec) !== undefined) return null;
    const id = this.#catalog.allocateIds();
    const names = new Set<string>();
    const columns: ColumnDef[] = [];
    for (const c of spec.columns) {
      if (names.has(c.name))
        throw new PgError(SqlState.DuplicateColumn, `column "${c.name}" specified more than once`);
      names.add(c.name);
      columns.push(this.#columnDef(c, spec));
    }
    // Owned sequences first, so the table's defaults can name them.
    spec.columns.forEach((s, i) => {
      if (!s.serial && !s.identity) return;
      const c = columns[i]!;
      const seq = this.createSequence({
        schema: spec.schema,
        name: uniqueName(this.view, spec.schema, `${spec.name}_${c.name}_seq`),
        dataType: integerKind(c.type),
        ownedBy: { table: id, column: c.id },
      });
      const qualified = `${quoteIdent(seq.schema)}.${quoteIdent(seq.name)}`;
      // SERIAL is sugar for a DEFAULT; IDENTITY keeps the sequence for the SQL layer to draw from.
      columns[i] = {
        ...c,
        sequence: seq.id,
        notNull: true,
        default: s.serial ? `nextval(${quoteLiteral(qualified)})` : c.default,
      };
    });
    let def: TableDef = {
      id,
      schema: spec.schema,
      name: spec.name,
      columns,
      constraints: [],
      indexes: [],
      distribution: spec.distribution ?? { kind: 'balanced' },
    };
    for (const c of spec.constraints ?? []) def = withConstraint(def, c);
    this.stage({ op: 'createTable', table: def });
    this.#created.add(id);
    return def;
  }

  /** Replaces a table's definition with `change(def)`; the id must stay. */
  alterTable(ref: TableRef, change: (def: TableDef) => TableDef): TableDef {
    const old = this.view.requireTable(ref).def;
    const def = change(old);
    if (def.id !== old.id) throw new PgError(SqlState.InternalError, 'alterTable may not change a table id');
    this.stage({ op: 'alterTable', table: def });
    return def;
  }

  renameTable(ref: TableRef, name: string): TableDef {
    return this.alterTable(ref, (d) => ({ ...d, name }));
  }

  /** ADD COLUMN without touching files: older rows read the column's `missing` expression. */
  addColumn(ref: TableRef, spec: ColumnSpec): ColumnDef {
    const t = this.view.requireTable(ref).def;
    if (t.columns.some((c) => c.name === spec.name)) {
      throw new PgError(
        SqlState.DuplicateColumn,
        `column "${spec.name}" of relation "${t.name}" already exists`,
      );
    }
    const col = this.#columnDef(spec, t);
    this.alterTable(t.id, (d) => ({ ...d, columns: [...d.columns, col] }));
    return col;
  }

  /** DROP COLUMN: the column's constraints and indexes go with it, as in PostgreSQL. */
  dropColumn(ref: TableRef, name: string, options: { ifExists?: boolean } = {}): boolean {
    const t = this.view.requireTable(ref).def;
    const col = t.columns.find((c) => c.name === name);
    if (!col) {
      if (options.ifExists) return false;
      throw new PgError(SqlState.UndefinedColumn, `column "${name}" of relation "${t.name}" does not exist`);
    }
    if (t.columns.length === 1) {
      throw new PgError(SqlState.FeatureNotSupported, `cannot drop the only column of table "${t.name}"`);
    }
    if (t.distribution.kind === 'hash' && t.distribution.column === col.id) {
      throw new PgError(SqlState.FeatureNotSupported, `cannot drop distribution column "${name}"`);
    }
    this.alterTable(t.id, (d) => ({
      ...d,
      columns: d.columns.filter((c) => c.id !== col.id),
      constraints: d.constraints.filter((k) => !k.columns.includes(col.id)),
      indexes: d.indexes.filter((i) => !i.columns.includes(col.id)),
    }));
    if (col.sequence !== null && this.view.sequence(col.sequence)) this.dropSequence(col.sequence);
    return true;
  }

  /**
   * RENAME COLUMN. Files are untouched (they name columns by id). CHECK expressions and defaults are
   * SQL text over column names: the SQL layer rewrites those with the parser, through alterTable.
   */
  renameColumn(ref: TableRef, from: string, to: string): TableDef {
    const t = this.view.requireTable(ref).def;
    column(t, from);
    if (t.columns.some((c) => c.name === to)) {
      throw new PgError(SqlState.DuplicateColumn, `column "${to}" of relation "${t.name}" already exists`);
    }
    return this.alterTable(t.id, (d) => ({
      ...d,
      columns: d.columns.map((c) => (c.name === from ? { ...c, name: to } : c)),
    }));
  }

  setColumnDefault(ref: TableRef, name: string, expression: string | null): TableDef {
    const t = this.view.requireTable(ref).def;
    column(t, name);
    return this.alterTable(t.id, (d) => ({
      ...d,
      columns: d.columns.map((c) => (c.name === name ? { ...c, default: expression } : c)),
    }));
  }

  /** Catalog side of SET/DROP NOT NULL; TableStorage.setNotNull checks the rows first. */
  setColumnNotNull(ref: TableRef, name: string, notNull: boolean): TableDef {
    const t = this.view.requireTable(ref).def;
    const c = column(t, name);
    if (!notNull && t.constraints.some((k) => k.kind === 'primary key' && k.columns.includes(c.id))) {
      throw new PgError(SqlState.SyntaxErrorOrAccessRuleViolation, `column "${name}" is in a primary key`);
    }
    return this.alterTable(t.id, (d) => ({
      ...d,
      columns: d.columns.map((x) => (x.name === name ? { ...x, notNull } : x)),
    }));
  }

  /** Catalog side of ADD CONSTRAINT; TableStorage.addConstraint checks the rows first. */
  addConstraint(ref: TableRef, spec: ConstraintSpec): ConstraintDef {
    const t = this.view.requireTable(ref).def;
    const def = this.alterTable(t.id, (d) => withConstraint(d, spec));
    return def.constraints[def.constraints.length - 1]!;
  }

  dropConstraint(ref: TableRef, name: string, options: { ifExists?: boolean } = {}): boolean {
    const t = this.view.requireTable(ref).def;
    if (!t.constraints.some((k) => k.name === name)) {
      if (options.ifExists) return false;
      throw new PgError(
        SqlState.UndefinedObject,
        `constraint "${name}" of relation "${t.name}" does not exist`,
      );
    }
    this.alterTable(t.id, (d) => ({ ...d, constraints: d.constraints.filter((k) => k.name !== name) }));
    return true;
  }

  /** CREATE INDEX is recorded only: lookups use file statistics. Returns null under IF NOT EXISTS. */
  createIndex(
    ref: TableRef,
    spec: { name?: string; columns: readonly string[]; unique?: boolean },
    options: { ifNotExists?: boolean } = {},
  ): string | null {
    const t = this.view.requireTable(ref).def;
    const ids = spec.columns.map((n) => column(t, n).id);
    const name = spec.name ?? uniqueIndexName(this.view, t, `${t.name}_${spec.columns.join('_')}_idx`);
    if (this.#indexOwner(t.schema, name)) {
      if (options.ifNotExists) return null;
      throw new PgError(SqlState.DuplicateTable, `relation "${name}" already exists`);
    }
    this.alterTable(t.id, (d) => ({
      ...d,
      indexes: [...d.indexes, { name, columns: ids, unique: spec.unique ?? false }],
    }));
    return name;
  }

  dropIndex(name: QualifiedName, options: { ifExists?: boolean } = {}): boolean {
    const owner = this.#indexOwner(name.schema, name.name);
    if (!owner) {
      if (options.ifExists) return false;
      throw new PgError(SqlState.UndefinedObject, `index "${name.name}" does not exist`);
    }
    this.alterTable(owner, (d) => ({ ...d, indexes: d.indexes.filter((i) => i.name !== name.name) }));
    return true;
  }

  /** DROP TABLE: owned sequences go too; dependent views need CASCADE. */
  dropTable(ref: TableRef, options: { ifExists?: boolean; cascade?: boolean } = {}): boolean {
    const t = this.view.table(ref);
    if (!t) {
      if (options.ifExists) return false;
      this.view.requireTable(ref);
      return false;
    }
    this.#dropDependents(t.def.id, t.def.name, options.cascade ?? false);
    this.stage({ op: 'dropTable', table: t.def.id });
    for (const s of this.view.sequences()) {
      if (s.def.ownedBy?.table === t.def.id) this.dropSequence(s.def.id);
    }
    return true;
  }

  // ---- distribution

  /**
   * The colocation group for a hash-distributed table: `colocateWith` a table joins that table's group
   * (same key type and bucket count required); 'none' makes a new group; 'default' joins the first
   * group with the same key type and bucket count, as Citus does.
   */
  colocationGroup(
    keyType: string,
    buckets: number,
    hashFunction: string,
    colocateWith: TableRef | 'default' | 'none',
  ): ColocationGroup {
    if (!Number.isInteger(buckets) || buckets < 1 || buckets > 65536) {
      throw new PgError(
        SqlState.InvalidParameterValue,
        `bucket count must be between 1 and 65536, not ${buckets}`,
      );
    }
    if (colocateWith !== 'default' && colocateWith !== 'none') {
      const other = this.view.requireTable(colocateWith).def;
      if (other.distribution.kind !== 'hash') {
        throw new PgError(SqlState.InvalidParameterValue, `table "${other.name}" is not hash-distributed`);
      }
      const g = this.view.colocationGroup(other.distribution.group)!;
      if (g.keyType !== keyType || g.buckets !== buckets || g.hashFunction !== hashFunction) {
        throw new PgError(
          SqlState.InvalidParameterValue,
          `cannot colocate with "${other.name}": it is bucketed by ${g.keyType} into ${g.buckets} buckets`,
        );
      }
      return g;
    }
    if (colocateWith === 'default') {
      const g = this.view
        .colocationGroups()
        .find((x) => x.keyType === keyType && x.buckets === buckets && x.hashFunction === hashFunction);
      if (g) return g;
    }
    const group: ColocationGroup = { id: this.#catalog.allocateIds(), keyType, buckets, hashFunction };
    this.stage({ op: 'createColocation', group });
    return group;
  }

  // ---- data (used by storage.TableStorage)

  addFiles(table: number, files: readonly DataFile[]): void {
    if (files.length) this.stage({ op: 'addFiles', table, files });
  }

  removeFiles(table: number, files: readonly number[]): void {
    if (files.length) this.stage({ op: 'removeFiles', table, files });
  }

  addDeletes(
    table: number,
    file: number,
    positions: readonly number[],
    deleteFile: DeleteFile | null = null,
  ): void {
    if (positions.length || deleteFile) this.stage({ op: 'addDeletes', table, file, positions, deleteFile });
  }

  appendInline(table: number, batch: InlineBatch): void {
    if (batch.rows.length) this.stage({ op: 'appendInline', table, batch });
  }

  deleteInline(table: number, ids: readonly number[]): void {
    if (ids.length) this.stage({ op: 'deleteInline', table, ids });
  }

  setStats(
    table: number,
    stats: TableStats | null,
    files: readonly { id: number; stats: Readonly<Record<string, ColumnStats>> }[] = [],
  ): void {
    this.stage({ op: 'setStats', table, stats, files });
  }

  /**
   * A write directory (relative, `tables/<table>/<write>`) this transaction is about to fill: removed
   * with everything in it if the transaction rolls back, the commit fails, or a savepoint before it is
   * restored; after a commit, removed if the committed state references nothing in it.
   */
  trackWrite(dir: string): void {
    this.#assertActive();
    this.#owned.push(dir);
    this.#catalog.holdWrite(dir);
  }

  // ---- views

  createView(spec: ViewSpec, options: { orReplace?: boolean } = {}): ViewDef {
    const existing = this.view.view(spec);
    if (existing && options.orReplace) this.stage({ op: 'dropView', view: existing.id });
    const view: ViewDef = {
      id: this.#catalog.allocateIds(),
      schema: spec.schema,
      name: spec.name,
      sql: spec.sql,
      columns: spec.columns ?? null,
      dependsOn: spec.dependsOn ?? [],
    };
    this.stage({ op: 'createView', view });
    return view;
  }

  dropView(name: QualifiedName, options: { ifExists?: boolean; cascade?: boolean } = {}): boolean {
    const v = this.view.view(name);
    if (!v) {
      if (options.ifExists) return false;
      throw new PgError(SqlState.UndefinedTable, `view "${name.name}" does not exist`);
    }
    this.#dropDependents(v.id, v.name, options.cascade ?? false);
    this.stage({ op: 'dropView', view: v.id });
    return true;
  }

  // ---- types

  /** CREATE TYPE name AS ENUM (labels). */
  createType(name: QualifiedName, labels: readonly string[]): TypeDef {
    if (new Set(labels).size !== labels.length) {
      throw new PgError(
        SqlState.InvalidParameterValue,
        `enum label "${labels.find((l, i) => labels.indexOf(l) !== i)}" used more than once`,
      );
    }
    const type: TypeDef = {
      id: this.#catalog.allocateIds(),
      schema: name.schema,
      name: name.name,
      kind: 'enum',
      labels,
    };
    this.stage({ op: 'createType', type });
    return type;
  }

  dropType(name: QualifiedName, options: { ifExists?: boolean } = {}): boolean {
    if (!this.view.type(name)) {
      if (options.ifExists) return false;
      throw new PgError(SqlState.UndefinedObject, `type "${name.name}" does not exist`);
    }
    this.stage({ op: 'dropType', schema: name.schema, name: name.name });
    return true;
  }

  // ---- sequences

  createSequence(spec: SequenceSpec): SequenceDef {
    const kind = spec.dataType ?? 'bigint';
    const [typeMin, typeMax] =
      kind === 'smallint'
        ? [-32768n, 32767n]
        : kind === 'integer'
          ? [-2147483648n, 2147483647n]
          : [-9223372036854775808n, 9223372036854775807n];
    const increment = spec.increment ?? 1n;
    if (increment === 0n) throw new PgError(SqlState.InvalidParameterValue, 'INCREMENT must not be zero');
    const min = spec.min ?? (increment > 0n ? 1n : typeMin);
    const max = spec.max ?? (increment > 0n ? typeMax : -1n);
    const start = spec.start ?? (increment > 0n ? min : max);
    if (start < min || start > max) {
      throw new PgError(
        SqlState.InvalidParameterValue,
        `START value (${start}) cannot be outside MINVALUE/MAXVALUE`,
      );
    }
    const def: SequenceDef = {
      id: this.#catalog.allocateIds(),
      schema: spec.schema,
      name: spec.name,
      start: String(start),
      increment: String(increment),
      min: String(min),
      max: String(max),
      cycle: spec.cycle ?? false,
      ownedBy: spec.ownedBy ?? null,
    };
    this.stage({ op: 'createSequence', sequence: def });
    this.#created.add(def.id);
    return def;
  }

  alterSequence(ref: number | QualifiedName, change: (def: SequenceDef) => SequenceDef): SequenceDef {
    const old = this.view.requireSequence(ref).def;
    const def = change(old);
    this.stage({ op: 'alterSequence', sequence: { ...def, id: old.id } });
    return def;
  }

  dropSequence(ref: number | QualifiedName, options: { ifExists?: boolean } = {}): boolean {
    const s = this.view.sequence(ref);
    if (!s) {
      if (options.ifExists) return false;
      this.view.requireSequence(ref);
    }
    this.stage({ op: 'dropSequence', sequence: s!.def.id });
    this.#localSequences.delete(s!.def.id);
    return true;
  }

  /**
   * nextval. For a sequence created by this transaction the value is local until commit; otherwise it
   * is the catalog's, which is not transactional (as in PostgreSQL).
   */
  async nextval(ref: number | QualifiedName): Promise<bigint> {
    this.#assertActive();
    const entry = this.view.requireSequence(ref);
    if (!this.#created.has(entry.def.id)) return this.#catalog.nextval(entry.def.id);
    const local = this.#localSequences.get(entry.def.id) ?? {
      last: BigInt(entry.last),
      called: entry.called,
    };
    const inc = BigInt(entry.def.increment);
    let v = local.called ? local.last + inc : local.last;
    if (v > BigInt(entry.def.max) || v < BigInt(entry.def.min)) {
      if (!entry.def.cycle) {
        throw new PgError(
          SqlState.NumericValueOutOfRange,
          `nextval: reached the limit of sequence "${entry.def.name}"`,
        );
      }
      v = inc > 0n ? BigInt(entry.def.min) : BigInt(entry.def.max);
    }
    this.#localSequences.set(entry.def.id, { last: v, called: true });
    return v;
  }

  // ---- savepoints and the end

  savepoint(): Savepoint {
    this.#assertActive();
    return { ops: this.#ops.length, state: this.#state, owned: this.#owned.length };
  }

  /** Undoes everything staged since `sp` and removes the files written since. */
  async rollbackTo(sp: Savepoint): Promise<void> {
    this.#assertActive();
    const dropped = this.#owned.slice(sp.owned);
    this.#ops = this.#ops.slice(0, sp.ops);
    this.#state = sp.state;
    this.#owned = this.#owned.slice(0, sp.owned);
    try {
      await this.#catalog.discardWrites(dropped);
    } finally {
      this.#catalog.releaseWrites(dropped);
    }
  }

  /**
   * Atomically publishes every staged change; durable when it resolves. On 40001 (or any failure)
   * nothing is published and the transaction's files are removed.
   */
  async commit(): Promise<number> {
    this.#assertActive();
    const ops = [...this.#ops];
    for (const [id, s] of this.#localSequences) {
      if (this.#state.sequences.has(id))
        ops.push({ op: 'setSequence', sequence: id, last: String(s.last), called: s.called });
    }
    this.#status = 'committed';
    try {
      if (!ops.length) return this.snapshot.version;
      return await this.#catalog.commitTransaction(
        this.snapshot.version,
        ops,
        this.maintenance,
        this.#created,
        this.#owned,
      );
    } catch (err) {
      this.#status = 'aborted';
      await this.#catalog.discardWrites(this.#owned);
      throw err;
    } finally {
      this.snapshot.release();
      this.#catalog.releaseWrites(this.#owned);
    }
  }

  /** Discards every staged change and the files written for them. Idempotent. */
  async rollback(): Promise<void> {
    if (this.#status !== 'active') return;
    this.#status = 'aborted';
    this.snapshot.release();
    try {
      await this.#catalog.discardWrites(this.#owned);
    } finally {
      this.#catalog.releaseWrites(this.#owned);
    }
  }

  #assertActive(): void {
    if (this.#status !== 'active') {
      throw new PgError(SqlState.InvalidTransactionState, `the transaction is already ${this.#status}`);
    }
  }

  #columnDef(c: ColumnSpec, table: QualifiedName): ColumnDef {
    if (c.serial && c.identity) {
      throw new PgError(
        SqlState.SyntaxError,
        `both default and identity specified for column "${c.name}" of table "${table.name}"`,
      );
    }
    return {
      id: this.#catalog.allocateIds(),
      name: c.name,
      type: c.type,
      notNull: c.notNull ?? false,
      default: c.default ?? null,
      missing: c.missing ?? null,
      sequence: null,
      identity: c.identity ?? null,
      fileEncoding: c.fileEncoding ?? 'native',
      inlineEncoding: c.inlineEncoding ?? 'text',
    };
  }

  #indexOwner(schema: string, name: string): number | undefined {
    for (const t of this.view.tables(schema)) {
      if (t.def.indexes.some((i) => i.name === name)) return t.def.id;
    }
    return undefined;
  }

  /** Drops the views that read `id` (CASCADE), or refuses as PostgreSQL does. */
  #dropDependents(id: number, name: string, cascade: boolean): void {
    for (const v of this.view.views()) {
      if (!v.dependsOn.includes(id)) continue;
      if (!cascade) {
        throw new PgError(
          SqlState.DependentObjectsStillExist,
          `cannot drop "${name}" because other objects depend on it`,
          {
            detail: `view ${v.name} depends on "${name}"`,
            hint: 'Use DROP ... CASCADE to drop the dependent objects too.',
          },
        );
      }
      if (this.view.view(v)) this.dropView(v, { cascade: true });
    }
  }
}

function column(t: TableDef, name: string): ColumnDef {
  const c = t.columns.find((x) => x.name === name);
  if (!c)
    throw new PgError(SqlState.UndefinedColumn, `column "${name}" of relation "${t.name}" does not exist`);
  return c;
}

/** Adds a constraint, naming it as PostgreSQL would; a PRIMARY KEY makes its columns NOT NULL. */
function withConstraint(def: TableDef, spec: ConstraintSpec): TableDef {
  const cols = (spec.columns ?? []).map((n) => column(def, n));
  if (spec.kind === 'check' && !spec.expression) {
    throw new PgError(SqlState.SyntaxErrorOrAccessRuleViolation, 'a CHECK constraint needs an expression');
  }
  if (spec.kind !== 'check' && cols.length === 0) {
    throw new PgError(
      SqlState.SyntaxErrorOrAccessRuleViolation,
      `a ${spec.kind.toUpperCase()} constraint needs columns`,
    );
  }
  if (spec.kind === 'primary key' && def.constraints.some((k) => k.kind === 'primary key')) {
    throw new PgError(
      SqlState.SyntaxErrorOrAccessRuleViolation,
      `multiple primary keys for table "${def.name}" are not allowed`,
    );
  }
  const taken = new Set(def.constraints.map((k) => k.name));
  let name = spec.name;
  if (name && taken.has(name)) {
    throw new PgError(
      SqlState.DuplicateObject,
      `constraint "${name}" for relation "${def.name}" already exists`,
    );
  }
  if (!name) {
    const base =
      spec.kind === 'primary key'
        ? `${def.name}_pkey`
        : spec.kind === 'unique'
          ? `${def.name}_${cols.map((c) => c.name).join('_')}_key`
          : cols.length === 1
            ? `${def.name}_${cols[0]!.name}_check`
            : `${def.name}_check`;
    name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}${i}`;
  }
  const constraint: ConstraintDef = {
    name,
    kind: spec.kind,
    columns: cols.map((c) => c.id),
    expression: spec.expression ?? null,
  };
  const pk = new Set(spec.kind === 'primary key' ? constraint.columns : []);
  return {
    ...def,
    columns: def.columns.map((c) => (pk.has(c.id) ? { ...c, notNull: true } : c)),
    constraints: [...def.constraints, constraint],
  };
}

function uniqueName(view: CatalogView, schema: string, base: string): string {
  let name = base;
  for (let i = 1; view.relationKind({ schema, name }) !== undefined; i++) name = `${base}${i}`;
  return name;
}

function uniqueIndexName(view: CatalogView, t: TableDef, base: string): string {
  const taken = new Set(view.tables(t.schema).flatMap((x) => x.def.indexes.map((i) => i.name)));
  let name = base;
  for (let i = 1; taken.has(name) || view.relationKind({ schema: t.schema, name }) !== undefined; i++)
    name = `${base}${i}`;
  return name;
}

function integerKind(type: string): 'smallint' | 'integer' | 'bigint' {
  if (type === 'SMALLINT') return 'smallint';
  if (type === 'INTEGER') return 'integer';
  return 'bigint';
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
