import type {
  ColocationGroup,
  ColumnStats,
  DataFile,
  DeleteFile,
  InlineBatch,
  SchemaDef,
  SequenceDef,
  TableDef,
  TableStats,
  TypeDef,
  ViewDef,
} from './CatalogModel.js';

/**
 * One logical change to the catalog. A transaction stages a list of these; its commit record is that
 * list, and recovery replays commit records in order, so applying an op must be deterministic.
 */
export type CatalogOp =
  | { readonly op: 'createSchema'; readonly schema: SchemaDef }
  | { readonly op: 'dropSchema'; readonly name: string }
  | { readonly op: 'createTable'; readonly table: TableDef }
  /** Replaces the definition: rename, columns, constraints, indexes, distribution. */
  | { readonly op: 'alterTable'; readonly table: TableDef }
  | { readonly op: 'dropTable'; readonly table: number }
  | { readonly op: 'addFiles'; readonly table: number; readonly files: readonly DataFile[] }
  /** Removes data files and their delete records (a rewrite, compaction or TRUNCATE). */
  | { readonly op: 'removeFiles'; readonly table: number; readonly files: readonly number[] }
  | {
      readonly op: 'addDeletes';
      readonly table: number;
      readonly file: number;
      readonly positions: readonly number[];
      readonly deleteFile: DeleteFile | null;
    }
  | { readonly op: 'appendInline'; readonly table: number; readonly batch: InlineBatch }
  | { readonly op: 'deleteInline'; readonly table: number; readonly ids: readonly number[] }
  | {
      readonly op: 'setStats';
      readonly table: number;
      readonly stats: TableStats | null;
      readonly files: readonly {
        readonly id: number;
        readonly stats: Readonly<Record<string, ColumnStats>>;
      }[];
    }
  | { readonly op: 'createView'; readonly view: ViewDef }
  | { readonly op: 'dropView'; readonly view: number }
  | { readonly op: 'createSequence'; readonly sequence: SequenceDef }
  | { readonly op: 'alterSequence'; readonly sequence: SequenceDef }
  | { readonly op: 'dropSequence'; readonly sequence: number }
  /** nextval reservations and setval; written outside any transaction, like PostgreSQL's sequence WAL. */
  | { readonly op: 'setSequence'; readonly sequence: number; readonly last: string; readonly called: boolean }
  | { readonly op: 'createColocation'; readonly group: ColocationGroup }
  | { readonly op: 'createType'; readonly type: TypeDef }
  | { readonly op: 'dropType'; readonly schema: string; readonly name: string };

/** What an op touches, for first-committer-wins (see Catalog.commitTransaction). */
export interface OpFootprint {
  readonly table: number;
  /** Changes the table's rows or definition: a write, in the sense of "two writers of one table". */
  readonly write: boolean;
  /** Changes the definition: files written under the old one may no longer fit. */
  readonly ddl: boolean;
  /** The data file that gets delete records. */
  readonly deletesIn: number | null;
  /** Data files taken out of the table. */
  readonly removes: readonly number[];
}

export function footprintOf(op: CatalogOp): OpFootprint | null {
  const base = { write: true, ddl: false, deletesIn: null, removes: [] };
  switch (op.op) {
    case 'addFiles':
    case 'appendInline':
    case 'deleteInline':
      return { ...base, table: op.table };
    case 'addDeletes':
      return { ...base, table: op.table, deletesIn: op.file };
    case 'removeFiles':
      return { ...base, table: op.table, removes: op.files };
    case 'alterTable':
      return { ...base, table: op.table.id, ddl: true };
    case 'dropTable':
      return { ...base, table: op.table, ddl: true };
    case 'setStats':
      return { ...base, table: op.table, write: false };
    default:
      return null;
  }
}
