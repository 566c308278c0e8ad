/**
 * The catalog's data model: plain, JSON-serializable records. A `CatalogState` is immutable once
 * published; a change produces a new state that shares every untouched record with the old one.
 */

/** `schema.name` as the user wrote it, after the SQL layer resolved the search path. */
export interface QualifiedName {
  readonly schema: string;
  readonly name: string;
}

/** A table is addressed by its id (stable across renames) or by its current qualified name. */
export type TableRef = number | QualifiedName;

export interface SchemaDef {
  readonly id: number;
  readonly name: string;
}

/**
 * How a column is laid out in Parquet. `native`: the DuckDB type itself. `text`: the value cast to
 * VARCHAR, because DuckDB's Parquet writer is lossy for it (HUGEINT/UHUGEINT become DOUBLE, INTERVAL
 * loses microseconds, TIMETZ its offset). Either way a reader gets the value back with `CAST(c AS type)`.
 */
export type FileEncoding = 'native' | 'text';

/**
 * How a column's value is written in the inline buffer, which is SQL text. `text`: the VARCHAR cast,
 * exact for every type except those below. `epoch_us`: TIMESTAMPTZ, whose VARCHAR form is off by one
 * millisecond at the top of its range. `none`: UNION, whose VARCHAR form drops the tag; a table with
 * such a column never buffers rows inline.
 */
export type InlineEncoding = 'text' | 'epoch_us' | 'none';

export interface ColumnDef {
  /** Stable id; the Parquet column is named `c<id>`, so a rename never rewrites a file. */
  readonly id: number;
  readonly name: string;
  /** DuckDB's canonical spelling of the type, e.g. `DECIMAL(18,3)`, `ENUM('a', 'b')`, `INTEGER[]`. */
  readonly type: string;
  readonly notNull: boolean;
  /** DEFAULT expression as SQL text, evaluated by the SQL layer when a row omits the column. */
  readonly default: string | null;
  /**
   * SQL expression (usually a literal) that rows written before the column existed read as; PostgreSQL
   * gives old rows the default evaluated once at ADD COLUMN. Null means NULL.
   */
  readonly missing: string | null;
  /** SERIAL/BIGSERIAL/IDENTITY: the owned sequence's id. */
  readonly sequence: number | null;
  /** GENERATED ALWAYS / BY DEFAULT AS IDENTITY; null for a plain column (SERIAL is a plain column). */
  readonly identity: 'always' | 'by default' | null;
  readonly fileEncoding: FileEncoding;
  readonly inlineEncoding: InlineEncoding;
}

export type ConstraintKind = 'primary key' | 'unique' | 'check';

export interface ConstraintDef {
  readonly name: string;
  readonly kind: ConstraintKind;
  /** Column ids: the key of a PRIMARY KEY/UNIQUE, the columns a CHECK reads. */
  readonly columns: readonly number[];
  /** Boolean SQL expression over the table's column names, for CHECK. */
  readonly expression: string | null;
}

/** `CREATE INDEX` is recorded, not built: lookups are served by file statistics and pruning. */
export interface IndexDef {
  readonly name: string;
  readonly columns: readonly number[];
  readonly unique: boolean;
}

/**
 * `balanced`: files of about the target row count, no placement. `hash`: each file holds one bucket,
 * `bucket = hash(key) % buckets` computed by DuckDB (see storage/hashBucket.ts). `reference`: a small
 * table every task reads whole.
 */
export type Distribution =
  | { readonly kind: 'balanced' }
  | { readonly kind: 'hash'; readonly column: number; readonly group: number }
  | { readonly kind: 'reference' };

/**
 * Tables in one group are bucketed by the same function, over the same key type, into the same number
 * of buckets: bucket i of one only ever joins bucket i of another.
 */
export interface ColocationGroup {
  readonly id: number;
  readonly keyType: string;
  readonly buckets: number;
  /** The bucket function's name and the DuckDB version that defined it; see storage/hashBucket.ts. */
  readonly hashFunction: string;
}

export interface TableDef {
  readonly id: number;
  readonly schema: string;
  readonly name: string;
  readonly columns: readonly ColumnDef[];
  readonly constraints: readonly ConstraintDef[];
  readonly indexes: readonly IndexDef[];
  readonly distribution: Distribution;
}

/** Statistics of one column in one file, as text in DuckDB's VARCHAR form; null when not known. */
export interface ColumnStats {
  readonly min: string | null;
  readonly max: string | null;
  readonly nullCount: number | null;
}

export interface DataFile {
  readonly id: number;
  /** Relative to the data directory, '/'-separated, so workers on another mount resolve it too. */
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
  /** The hash bucket, for a hash-distributed table; null otherwise. */
  readonly bucket: number | null;
  /** Ids of the columns physically present, in file order. */
  readonly columns: readonly number[];
  /** Keyed by column id. */
  readonly stats: Readonly<Record<string, ColumnStats>>;
}

/** A Parquet file of deleted row positions (one BIGINT column `pos`) for one data file. */
export interface DeleteFile {
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
}

/**
 * Merge-on-read deletes against one data file: small sets are kept inline in the catalog, large ones
 * in delete files. `count` is the number of deleted positions (the sets never overlap).
 */
export interface DeleteSet {
  readonly positions: readonly number[];
  readonly files: readonly DeleteFile[];
  readonly count: number;
}

/**
 * Rows buffered in the catalog itself rather than in a Parquet file (single-row INSERTs). Values are
 * SQL text in each column's InlineEncoding; readers decode them with the same CAST as a file column.
 */
export interface InlineBatch {
  /** Column ids, in the order of each row's values. */
  readonly columns: readonly number[];
  readonly rows: readonly InlineRow[];
  /** When the batch was staged (ms since the epoch): the background fold goes by age as well as size. */
  readonly at: number;
}

export interface InlineRow {
  /** Unique among all inline rows ever; a reader's row id for it is `-id`. */
  readonly id: number;
  readonly bucket: number | null;
  readonly values: readonly (string | null)[];
}

/** Table-level statistics written by ANALYZE. */
export interface TableStats {
  readonly rows: number;
  readonly analyzedAt: number;
  /** Keyed by column id. `distinct` is approximate (HyperLogLog). */
  readonly columns: Readonly<Record<string, ColumnStats & { readonly distinct: number | null }>>;
}

export interface TableEntry {
  readonly def: TableDef;
  readonly files: readonly DataFile[];
  /** Keyed by data file id. */
  readonly deletes: ReadonlyMap<number, DeleteSet>;
  readonly inline: readonly InlineBatch[];
  readonly stats: TableStats | null;
}

export interface ViewDef {
  readonly id: number;
  readonly schema: string;
  readonly name: string;
  readonly sql: string;
  /** Explicit column names (`CREATE VIEW v (a, b) AS ...`), or null. */
  readonly columns: readonly string[] | null;
  /** Ids of the tables and views it reads, so DROP ... CASCADE knows to drop it too. */
  readonly dependsOn: readonly number[];
}

export interface SequenceDef {
  readonly id: number;
  readonly schema: string;
  readonly name: string;
  /** 64-bit values are kept as decimal strings so the catalog stays plain JSON. */
  readonly start: string;
  readonly increment: string;
  readonly min: string;
  readonly max: string;
  readonly cycle: boolean;
  /** Set for SERIAL/IDENTITY: dropping the table drops the sequence. */
  readonly ownedBy: { readonly table: number; readonly column: number } | null;
}

export interface SequenceEntry {
  readonly def: SequenceDef;
  /** The last value handed out (PostgreSQL's last_value), as a decimal string. */
  readonly last: string;
  /** False until nextval first returns `last` (setval(..., false) also clears it). */
  readonly called: boolean;
}

/**
 * A named type (`CREATE TYPE mood AS ENUM (...)`). Columns store the DuckDB type it stands for
 * (`ENUM('sad', 'ok')`), so a column never depends on the type entry; the entry lets DDL name it.
 */
export interface TypeDef {
  readonly id: number;
  readonly schema: string;
  readonly name: string;
  readonly kind: 'enum';
  readonly labels: readonly string[];
}

export interface CatalogState {
  readonly version: number;
  /** Next free object id (schemas, tables, columns, files, views, sequences, groups). */
  readonly nextId: number;
  /** Next free inline row id. */
  readonly nextRowId: number;
  readonly schemas: ReadonlyMap<string, SchemaDef>;
  readonly tables: ReadonlyMap<number, TableEntry>;
  /** `schema\0name` → the table, view or sequence of that name: they share one namespace, as in pg_class. */
  readonly relations: ReadonlyMap<string, RelationRef>;
  readonly views: ReadonlyMap<number, ViewDef>;
  readonly sequences: ReadonlyMap<number, SequenceEntry>;
  readonly colocations: ReadonlyMap<number, ColocationGroup>;
  /** `schema\0name` → named type; absent in catalogs written before types existed. */
  readonly types?: ReadonlyMap<string, TypeDef>;
}

export interface RelationRef {
  readonly kind: 'table' | 'view' | 'sequence';
  readonly id: number;
}

/** The key under which a relation name is unique within its schema. */
export function nameKey(schema: string, name: string): string {
  return `${schema}\u0000${name}`;
}

/** Row ids of file rows are `fileId * 2^32 + position`; inline rows use `-inlineRowId`. */
export const ROW_ID_FILE_FACTOR = 4294967296;
