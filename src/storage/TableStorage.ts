import { randomUUID } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { TableWrite, WrittenTableFile } from '../../protocol/cluster/messages.js';
import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import type { Catalog } from '../catalog/Catalog.js';
import {
  type ColumnDef,
  type ColumnStats,
  type DataFile,
  type Distribution,
  ROW_ID_FILE_FACTOR,
  type TableDef,
  type TableEntry,
  type TableRef,
  type TableStats,
} from '../catalog/CatalogModel.js';
import type {
  CatalogTransaction,
  ColumnSpec,
  ConstraintSpec,
  TableSpec,
} from '../catalog/CatalogTransaction.js';
import type { CatalogView } from '../catalog/CatalogView.js';
import { tableDir } from '../catalog/dataPaths.js';
import type { Logger } from '../log.js';
import { buildRelation, type RelationOptions, ROW_ID_COLUMN } from './buildRelation.js';
import { checkConstraints, type KnownRows } from './checkConstraints.js';
import { columnAlias, decodeFromFile, encodeForInline, physicalName } from './columnCodec.js';
import { bucketExpr, hashFunctionName } from './hashBucket.js';
import { type ResolvedType, resolveColumnType } from './resolveColumnType.js';
import { bindArgs, paramCount, type SqlParams } from './sqlParams.js';
import { quoteIdent, quoteLiteral, stringList } from './sqlText.js';
import {
  BUCKET_COLUMN,
  dataFileOf,
  type FileWriteOptions,
  tableFileSelect,
  type WrittenFiles,
  writeDeleteFile,
  writeTableFiles,
} from './writeTableFiles.js';

export interface TableStorageOptions {
  /** DuckDB threads for writing and checking (default: the machine's parallelism). */
  threads?: number;
  /** DuckDB memory_limit, e.g. '2GB' (default: DuckDB's). */
  memoryLimit?: string;
  /** Rows per Parquet row group (default 122880, DuckDB's own). */
  rowGroupSize?: number;
  /** Row groups per balanced file (default 8: about a million rows a file). */
  rowGroupsPerFile?: number;
  /**
   * Parquet compression (default 'snappy', DuckDB's own). Measured on TPC-H SF 1 lineitem in 16 bucket
   * files, one DuckDB thread: snappy scans a Q1-like aggregate in 234 ms and a Q6-like filter in 112 ms,
   * zstd in 276 and 145 ms, for 35% more bytes (202 MB against 149 MB). Queries come first.
   */
  compression?: string;
  /** A statement adding at most this many rows buffers them inline instead of writing a file (default 100). */
  inlineMaxRows?: number;
  /** Once a table buffers this many rows, further inserts write files until the buffer is folded (default 10000). */
  inlineTableMaxRows?: number;
  /** Deleted positions per file and statement kept in the catalog; more go to a delete file (default 1024). */
  inlineDeleteMax?: number;
  /**
   * COPY FROM STDIN data is cut into parts of about this many bytes, each loaded as it completes (by the
   * workers, several at once, when there are any). Default 64 MiB: some 500,000 rows of TPC-H lineitem,
   * files just large enough that compaction leaves them alone, and a short wait for the last part.
   */
  loadPartBytes?: number;
  logger?: Logger;
}

/** A table's distribution as CREATE TABLE / create_distributed_table give it. */
export type DistributionSpec =
  | { readonly kind: 'balanced' }
  | { readonly kind: 'reference' }
  | {
      readonly kind: 'hash';
      readonly column: string;
      readonly buckets: number;
      /** A table to share buckets with, 'none' for a new group, or 'default' (Citus's default). */
      readonly colocateWith?: TableRef | 'default' | 'none';
    };

export interface StorageTableSpec extends Omit<TableSpec, 'distribution'> {
  readonly distribution?: DistributionSpec;
}

/** One unit of scan work: a bucket of a hash table, or a file of a balanced one. */
export interface ScanTask {
  readonly bucket: number | null;
  readonly fileIds: readonly number[];
  readonly rows: number;
  readonly bytes: number;
  /** The rows of this task, with the table's column names (see buildRelation). */
  readonly sql: string;
}

/**
 * A bulk load into one table inside a transaction (COPY FROM STDIN): rows are written to Parquet as
 * they come, checked against the constraints once at the end, and only then added to the table.
 */
export interface BulkLoad {
  /**
   * Writes the rows of `select(fileList)`, where `fileList` is SQL for the list of `files` (relative to
   * the data directory, e.g. spooled COPY parts). Runs on a worker when the load is `parallel`, and then
   * several calls may be in flight at once.
   */
  writeFiles(files: readonly string[], select: (fileList: string) => string): Promise<number>;
  /** Whether writeFiles runs on the workers (callers may then keep several in flight). */
  readonly parallel: boolean;
  /** Checks every row written against the constraints and adds the files; returns the row count. */
  finish(): Promise<number>;
  /** Removes everything written; the transaction is as it was when the load began. */
  abort(): Promise<void>;
}

/**
 * Runs a table write on the workers (see TaskDefinition.load), one load task per entry of `tasks`;
 * resolves to the files written, fsynced, once every task has succeeded.
 */
export type RemoteTableWriter = (
  tasks: readonly RemoteWriteTask[],
  load: TableWrite,
) => Promise<readonly WrittenTableFile[]>;

/** One task of a remote table write: a SELECT (one column per table column) that may read `$files`. */
export interface RemoteWriteTask {
  readonly sql: string;
  readonly files: readonly string[];
}

export interface VacuumResult {
  /** The maintenance commit, or null when there was nothing to do. */
  readonly version: number | null;
  readonly filesRemoved: number;
  readonly filesAdded: number;
  readonly rowsWritten: number;
  readonly inlineRowsFolded: number;
  readonly deletesApplied: number;
}

export interface MaintenanceOptions {
  /** How often to look (default 1000 ms). */
  intervalMs?: number;
  /** Fold a table's inline rows once it has this many (default 1000)... */
  foldRows?: number;
  /** ...or once the oldest is this old (default 2000 ms). */
  foldAgeMs?: number;
  /** Compact once a table (or a bucket) has this many files below half the target size (default 8)... */
  smallFiles?: number;
  /** ...or once this fraction of its file rows are deleted (default 0.1). */
  deletedFraction?: number;
  /** How often to look for orphan table files (default 60 s; see Catalog.sweepOrphans)... */
  sweepIntervalMs?: number;
  /** ...that were last written at least this long ago (default 10 min). */
  orphanGraceMs?: number;
}

const STAGE = '__mallard_stage';
const DELETED = '__mallard_deleted';
const REPLACED = '__mallard_replaced';

/**
 * Table data on the shared data directory: Parquet files written and read with DuckDB, single-row
 * inserts buffered inline in the catalog, deletes as merge-on-read position records, constraint
 * checks, compaction and statistics. Every write is staged in a CatalogTransaction and becomes
 * visible when it commits; a write that fails leaves the transaction as it was before the statement.
 */
export class TableStorage {
  readonly catalog: Catalog;
  readonly dataDir: string;
  /** The bucket function of hash tables created here (see hashBucket.ts). */
  readonly hashFunction: string;
  readonly #db: DuckDBInstance;
  readonly #options: Required<
    Omit<TableStorageOptions, 'logger' | 'memoryLimit' | 'threads' | 'loadPartBytes'>
  >;
  readonly #log: Logger | undefined;
  readonly #types = new Map<string, ResolvedType>();
  #timer: NodeJS.Timeout | null = null;
  #tick: Promise<void> = Promise.resolve();
  #closed = false;

  readonly #loadPartBytes: number;
  private constructor(
    catalog: Catalog,
    db: DuckDBInstance,
    hashFunction: string,
    options: TableStorageOptions,
  ) {
    this.catalog = catalog;
    this.dataDir = catalog.dataDir;
    this.hashFunction = hashFunction;
    this.#db = db;
    this.#log = options.logger;
    this.#loadPartBytes = options.loadPartBytes ?? 64 << 20;
    this.#options = {
      rowGroupSize: options.rowGroupSize ?? 122880,
      rowGroupsPerFile: options.rowGroupsPerFile ?? 8,
      compression: options.compression ?? 'snappy',
      inlineMaxRows: options.inlineMaxRows ?? 100,
      inlineTableMaxRows: options.inlineTableMaxRows ?? 10000,
      inlineDeleteMax: options.inlineDeleteMax ?? 1024,
    };
  }

  /** The size COPY data is cut into parts of (see TableStorageOptions.loadPartBytes). */
  get loadPartBytes(): number {
    return this.#loadPartBytes;
  }

  static async open(catalog: Catalog, options: TableStorageOptions = {}): Promise<TableStorage> {
    const config: Record<string, string> = { threads: String(options.threads ?? availableParallelism()) };
    if (options.memoryLimit) config['memory_limit'] = options.memoryLimit;
    const db = await DuckDBInstance.create(':memory:', config);
    const conn = await db.connect();
    // TIMESTAMPTZ text (nested values, statistics) carries its offset either way; UTC keeps it stable.
    // ICU loads on first use, so this cannot be part of the instance's config.
    await conn.run("SET GLOBAL TimeZone = 'UTC'");
    // Data files never change once written (every write makes new names), so their footers can be cached.
    await conn.run('SET GLOBAL parquet_metadata_cache = true');
    const version = String((await conn.runAndReadAll('SELECT version()')).getRows()[0]![0]);
    conn.closeSync();
    return new TableStorage(catalog, db, hashFunctionName(version), options);
  }

  /** A connection to this storage's DuckDB, on which relations can run. Close it when done. */
  connect(): Promise<DuckDBConnection> {
    return this.#db.connect();
  }

  // ---- DDL

  /** DuckDB's spelling of a type and the encodings that keep its values exact through Parquet and inline text. */
  async resolveType(type: string): Promise<ResolvedType> {
    const known = this.#types.get(type);
    if (known) return known;
    const resolved = await this.#withConn((conn) => resolveColumnType(conn, type));
    this.#types.set(type, resolved);
    this.#types.set(resolved.type, resolved);
    return resolved;
  }

  /** Column specs with DuckDB-normalized types and their encodings filled in. */
  async resolveColumns(specs: readonly ColumnSpec[]): Promise<ColumnSpec[]> {
    const out: ColumnSpec[] = [];
    for (const s of specs) {
      const r = await this.resolveType(s.type);
      out.push({ ...s, type: r.type, fileEncoding: r.fileEncoding, inlineEncoding: r.inlineEncoding });
    }
    return out;
  }

  /** CREATE TABLE: resolves the column types, then records the table (and its distribution). */
  async createTable(
    txn: CatalogTransaction,
    spec: StorageTableSpec,
    options: { ifNotExists?: boolean } = {},
  ): Promise<TableDef | null> {
    const columns = await this.resolveColumns(spec.columns);
    const def = txn.createTable({ ...spec, columns, distribution: { kind: 'balanced' } }, options);
    if (!def || !spec.distribution || spec.distribution.kind === 'balanced') return def;
    return this.distribute(txn, def.id, spec.distribution);
  }

  /**
   * create_distributed_table / create_reference_table / undistribute: sets the distribution and
   * rewrites the table's rows into the new layout if it has any.
   */
  async distribute(txn: CatalogTransaction, ref: TableRef, spec: DistributionSpec): Promise<TableDef> {
    const t = txn.view.requireTable(ref);
    let distribution: Distribution;
    if (spec.kind === 'hash') {
      const col = t.def.columns.find((c) => c.name === spec.column);
      if (!col)
        throw new PgError(
          SqlState.UndefinedColumn,
          `column "${spec.column}" of relation "${t.def.name}" does not exist`,
        );
      const group = txn.colocationGroup(
        col.type,
        spec.buckets,
        this.hashFunction,
        spec.colocateWith ?? 'default',
      );
      distribution = { kind: 'hash', column: col.id, group: group.id };
    } else {
      distribution = { kind: spec.kind };
    }
    const def: TableDef = { ...t.def, distribution };
    if (!t.files.length && !t.inline.length) return txn.alterTable(t.def.id, () => def);
    return this.#statement(txn, () => this.#rewrite(txn, t, def, null));
  }

  /** ADD COLUMN: no file is touched; existing rows read `spec.missing` (NULL by default). */
  async addColumn(txn: CatalogTransaction, ref: TableRef, spec: ColumnSpec): Promise<ColumnDef> {
    const [resolved] = await this.resolveColumns([spec]);
    const t = txn.view.requireTable(ref);
    if (resolved!.notNull && !resolved!.missing && txn.view.rowCount(t.def.id) > 0) {
      throw new PgError(
        SqlState.NotNullViolation,
        `column "${spec.name}" of relation "${t.def.name}" contains null values`,
        {
          table: t.def.name,
          column: spec.name,
        },
      );
    }
    return txn.addColumn(t.def.id, resolved!);
  }

  /** ALTER COLUMN TYPE [USING expr]: rewrites every file, as PostgreSQL rewrites the table. */
  async alterColumnType(
    txn: CatalogTransaction,
    ref: TableRef,
    column: string,
    type: string,
    using?: string,
  ): Promise<TableDef> {
    const t = txn.view.requireTable(ref);
    const col = t.def.columns.find((c) => c.name === column);
    if (!col)
      throw new PgError(
        SqlState.UndefinedColumn,
        `column "${column}" of relation "${t.def.name}" does not exist`,
      );
    if (t.def.distribution.kind === 'hash' && t.def.distribution.column === col.id) {
      // Its colocation group is defined by the key type; other tables' buckets would no longer match.
      throw new PgError(
        SqlState.FeatureNotSupported,
        `cannot alter the type of distribution column "${column}"`,
      );
    }
    const r = await this.resolveType(type);
    const def: TableDef = {
      ...t.def,
      columns: t.def.columns.map((c) =>
        c.id === col.id
          ? { ...c, type: r.type, fileEncoding: r.fileEncoding, inlineEncoding: r.inlineEncoding }
          : c,
      ),
    };
    const exprs = t.def.columns.map((c) => (c.id === col.id && using ? using : quoteIdent(c.name)));
    return this.#statement(txn, () => this.#rewrite(txn, t, def, exprs));
  }

  /** SET NOT NULL: 23502 if any row has a NULL there. */
  async setNotNull(txn: CatalogTransaction, ref: TableRef, column: string): Promise<TableDef> {
    const t = txn.view.requireTable(ref);
    if (!t.def.columns.some((c) => c.name === column)) {
      throw new PgError(
        SqlState.UndefinedColumn,
        `column "${column}" of relation "${t.def.name}" does not exist`,
      );
    }
    const nulls = await this.#withConn(async (conn) => {
      const r = await conn.runAndReadAll(
        `SELECT count(*) FROM (${this.relation(txn.view, t.def.id)}) AS t WHERE ${quoteIdent(column)} IS NULL`,
      );
      return Number(r.getRows()[0]![0]);
    });
    if (nulls > 0) {
      throw new PgError(
        SqlState.NotNullViolation,
        `column "${column}" of relation "${t.def.name}" contains null values`,
        {
          table: t.def.name,
          column,
        },
      );
    }
    return txn.setColumnNotNull(t.def.id, column, true);
  }

  /** ADD CONSTRAINT (PRIMARY KEY, UNIQUE, CHECK): checks every row first; the table is unchanged on violation. */
  async addConstraint(txn: CatalogTransaction, ref: TableRef, spec: ConstraintSpec): Promise<void> {
    const t = txn.view.requireTable(ref);
    await this.#statement(txn, async () => {
      txn.addConstraint(t.def.id, spec);
      const def = txn.view.requireTable(t.def.id).def;
      await this.#withConn((conn) =>
        checkConstraints(conn, emptyEntry(def), this.relation(txn.view, t.def.id), this.dataDir),
      );
    });
  }

  // ---- reading

  /** SQL for the table's rows in `view` (see buildRelation); `root` defaults to this data directory. */
  relation(view: CatalogView, ref: TableRef, options: Partial<RelationOptions> = {}): string {
    return buildRelation(view.requireTable(ref), { root: this.dataDir, ...options });
  }

  /**
   * The table split into independent scans: one per bucket of a hash table (co-located tables'
   * bucket i join each other), one per file of a balanced table (the inline rows ride with the first),
   * and a single task for a reference table.
   */
  scanTasks(view: CatalogView, ref: TableRef, options: { root?: string; rowId?: boolean } = {}): ScanTask[] {
    const t = view.requireTable(ref);
    const base = { root: options.root ?? this.dataDir, rowId: options.rowId ?? false };
    const sum = (ids: readonly number[]) => {
      let rows = 0;
      let bytes = 0;
      for (const f of t.files) {
        if (!ids.includes(f.id)) continue;
        rows += f.rows - (t.deletes.get(f.id)?.count ?? 0);
        bytes += f.bytes;
      }
      return { rows, bytes };
    };
    if (t.def.distribution.kind === 'hash') {
      const buckets = view.colocationGroup(t.def.distribution.group)!.buckets;
      const tasks: ScanTask[] = [];
      for (let b = 0; b < buckets; b++) {
        const ids = t.files.filter((f) => f.bucket === b).map((f) => f.id);
        const inlineRows = t.inline.reduce(
          (n, batch) => n + batch.rows.filter((r) => r.bucket === b).length,
          0,
        );
        const s = sum(ids);
        tasks.push({
          bucket: b,
          fileIds: ids,
          rows: s.rows + inlineRows,
          bytes: s.bytes,
          sql: buildRelation(t, { ...base, bucket: b }),
        });
      }
      return tasks;
    }
    const inlineRows = t.inline.reduce((n, b) => n + b.rows.length, 0);
    if (t.def.distribution.kind === 'reference' || t.files.length <= 1) {
      const ids = t.files.map((f) => f.id);
      const s = sum(ids);
      return [
        {
          bucket: null,
          fileIds: ids,
          rows: s.rows + inlineRows,
          bytes: s.bytes,
          sql: buildRelation(t, base),
        },
      ];
    }
    return t.files.map((f, i) => {
      const s = sum([f.id]);
      return {
        bucket: null,
        fileIds: [f.id],
        rows: s.rows + (i === 0 ? inlineRows : 0),
        bytes: s.bytes,
        sql: buildRelation(t, { ...base, fileIds: new Set([f.id]), inline: i === 0 }),
      };
    });
  }

  // ---- writing

  /**
   * INSERT: the rows of `sourceSql` (one column per table column, in table order; defaults already
   * filled by the SQL layer) are checked against the constraints, then buffered inline when few, or
   * written to Parquet. Returns the number of rows.
   */
  async insert(
    txn: CatalogTransaction,
    ref: TableRef,
    sourceSql: string,
    params: SqlParams = [],
  ): Promise<number> {
    const t = txn.view.requireTable(ref);
    return this.#statement(txn, () =>
      this.#withConn(async (conn) => {
        await assertColumnCount(conn, sourceSql, params, t.def.columns.length);
        await conn.run(
          `CREATE TEMP TABLE ${STAGE} AS SELECT ${castSelect(t.def.columns)} FROM (${sourceSql}) AS src(${sourceNames(t.def.columns.length)})`,
          ...bindArgs(params),
        );
        return this.#appendStaged(conn, txn, t.def.id, STAGE);
      }),
    );
  }

  /**
   * Bulk load (COPY, INSERT ... SELECT, CREATE TABLE AS): streams `sourceSql` straight into Parquet
   * files, then checks the constraints on them. Returns the number of rows.
   */
  async insertBulk(
    txn: CatalogTransaction,
    ref: TableRef,
    sourceSql: string,
    params: SqlParams = [],
  ): Promise<number> {
    const t = txn.view.requireTable(ref);
    return this.#statement(txn, () =>
      this.#withConn(async (conn) => {
        await assertColumnCount(conn, sourceSql, params, t.def.columns.length);
        const written = await this.#writeFiles(conn, txn, t.def, sourceSql, params);
        if (!written.files.length) return 0;
        const newRows = buildRelation({ ...emptyEntry(t.def), files: written.files }, { root: this.dataDir });
        await checkConstraints(conn, txn.view.requireTable(t.def.id), newRows, this.dataDir);
        txn.addFiles(t.def.id, written.files);
        return written.rows;
      }),
    );
  }

  /**
   * Bulk load (INSERT ... SELECT, CREATE TABLE AS) whose rows the workers compute and write, one load task
   * per entry of `tasks` (each a SELECT of the table's columns, positionally), all at once; then the
   * constraints are checked on the coordinator. Returns the number of rows.
   */
  async insertRemote(
    txn: CatalogTransaction,
    ref: TableRef,
    tasks: readonly RemoteWriteTask[],
    remote: RemoteTableWriter,
  ): Promise<number> {
    const t = txn.view.requireTable(ref);
    return this.#statement(txn, async () => {
      const written = await this.#writeRemote(txn, t.def, remote, tasks);
      if (!written.files.length) return 0;
      const newRows = buildRelation({ ...emptyEntry(t.def), files: written.files }, { root: this.dataDir });
      await this.#withConn((conn) =>
        checkConstraints(conn, txn.view.requireTable(t.def.id), newRows, this.dataDir),
      );
      txn.addFiles(t.def.id, written.files);
      return written.rows;
    });
  }

  /**
   * Starts a bulk load into `ref` in `txn` (see BulkLoad). With `remote`, writeFiles runs on the
   * workers, several parts at once.
   */
  bulkLoad(txn: CatalogTransaction, ref: TableRef, remote?: RemoteTableWriter): BulkLoad {
    const sp = txn.savepoint();
    const tableId = txn.view.requireTable(ref).def.id;
    const files: DataFile[] = [];
    let rows = 0;
    let settled = false;
    const settle = () => {
      if (settled) throw new Error('the bulk load has ended');
    };
    const add = (written: WrittenFiles): number => {
      files.push(...written.files);
      rows += written.rows;
      return written.rows;
    };
    return {
      parallel: remote !== undefined,
      writeFiles: async (sources, select) => {
        settle();
        const def = txn.view.requireTable(tableId).def;
        if (remote === undefined) {
          const list = `[${sources.map((f) => quoteLiteral(join(this.dataDir, f))).join(', ')}]`;
          return add(await this.#withConn((conn) => this.#writeFiles(conn, txn, def, select(list), [])));
        }
        const written = await this.#writeRemote(txn, def, remote, [
          { sql: select('$files'), files: sources },
        ]);
        settle();
        return add(written);
      },
      finish: async () => {
        settle();
        settled = true;
        try {
          if (!files.length) return 0;
          const t = txn.view.requireTable(tableId);
          const newRows = buildRelation({ ...emptyEntry(t.def), files }, { root: this.dataDir });
          const known = await this.#withConn((conn) => knownRows(conn, t.def, files, rows));
          await this.#withConn((conn) => checkConstraints(conn, t, newRows, this.dataDir, { known }));
          txn.addFiles(tableId, files);
          return rows;
        } catch (err) {
          if (txn.status === 'active') await txn.rollbackTo(sp);
          throw err;
        }
      },
      abort: async () => {
        settled = true;
        if (txn.status === 'active') await txn.rollbackTo(sp);
      },
    };
  }

  /** DELETE [WHERE]: `where` is SQL over the table's column names (the table is aliased by its name). */
  async delete(
    txn: CatalogTransaction,
    ref: TableRef,
    where?: string,
    params: SqlParams = [],
  ): Promise<number> {
    const t = txn.view.requireTable(ref);
    const rel = this.relation(txn.view, t.def.id, { rowId: true });
    const sql = `SELECT ${ROW_ID_COLUMN} FROM (${rel}) AS ${quoteIdent(t.def.name)}${where ? ` WHERE ${where}` : ''}`;
    return this.deleteRowIds(txn, t.def.id, sql, params);
  }

  /**
   * Deletes the rows whose ids `rowIdSql` returns (ids from a relation built with `rowId: true` in this
   * transaction's view). File rows get delete records; no file is rewritten.
   */
  async deleteRowIds(
    txn: CatalogTransaction,
    ref: TableRef,
    rowIdSql: string,
    params: SqlParams = [],
  ): Promise<number> {
    const t = txn.view.requireTable(ref);
    return this.#statement(txn, () =>
      this.#withConn(async (conn) => {
        await conn.run(
          `CREATE TEMP TABLE ${DELETED} AS SELECT DISTINCT CAST(r AS BIGINT) AS rid FROM (${rowIdSql}) AS s(r)`,
          ...bindArgs(params),
        );
        return this.#applyDeletes(conn, txn, t.def.id);
      }),
    );
  }

  /**
   * UPDATE ... SET col = expr [WHERE]: `set` maps column names to SQL over the old row. The old
   * versions get delete records and the new ones are inserted (inline when few), so updating one row
   * never rewrites a file. Constraints are checked against the table without the old versions.
   */
  async update(
    txn: CatalogTransaction,
    ref: TableRef,
    set: Readonly<Record<string, string>>,
    where?: string,
    params: SqlParams = [],
  ): Promise<number> {
    const t = txn.view.requireTable(ref);
    for (const name of Object.keys(set)) {
      if (!t.def.columns.some((c) => c.name === name)) {
        throw new PgError(
          SqlState.UndefinedColumn,
          `column "${name}" of relation "${t.def.name}" does not exist`,
        );
      }
    }
    const rel = this.relation(txn.view, t.def.id, { rowId: true });
    const values = t.def.columns.map((c) => set[c.name] ?? quoteIdent(c.name));
    const sql = `SELECT ${ROW_ID_COLUMN}, ${values.join(', ')} FROM (${rel}) AS ${quoteIdent(t.def.name)}${where ? ` WHERE ${where}` : ''}`;
    const changed = new Set(t.def.columns.filter((c) => c.name in set).map((c) => c.id));
    return this.#replaceRows(txn, t.def.id, sql, params, false, changed);
  }

  /**
   * The general UPDATE: `sql` returns (row id, new value of every column, in table order). Each row id
   * is replaced once, whatever the number of matches (as with UPDATE ... FROM in PostgreSQL).
   * `changedColumns` (the SET list) spares the checks of constraints on other columns.
   */
  replaceRows(
    txn: CatalogTransaction,
    ref: TableRef,
    sql: string,
    params: SqlParams = [],
    options: { changedColumns?: readonly string[] } = {},
  ): Promise<number> {
    const t = txn.view.requireTable(ref);
    const names = options.changedColumns;
    const changed = names
      ? new Set(t.def.columns.filter((c) => names.includes(c.name)).map((c) => c.id))
      : null;
    return this.#replaceRows(txn, ref, sql, params, true, changed);
  }

  async #replaceRows(
    txn: CatalogTransaction,
    ref: TableRef,
    sql: string,
    params: SqlParams,
    checkShape: boolean,
    changed: ReadonlySet<number> | null,
  ): Promise<number> {
    const t = txn.view.requireTable(ref);
    const cols = t.def.columns;
    return this.#statement(txn, () =>
      this.#withConn(async (conn) => {
        if (checkShape) await assertColumnCount(conn, sql, params, cols.length + 1);
        await conn.run(
          `CREATE TEMP TABLE ${REPLACED} AS SELECT CAST(src.r AS BIGINT) AS rid, ${castSelect(cols)} FROM (${sql}) AS src(r, ${sourceNames(cols.length)}) QUALIFY row_number() OVER (PARTITION BY src.r) = 1`,
          ...bindArgs(params),
        );
        await conn.run(`CREATE TEMP TABLE ${DELETED} AS SELECT rid FROM ${REPLACED}`);
        const n = await this.#applyDeletes(conn, txn, t.def.id);
        if (!n) return 0;
        // In the old rows' order (files, then inline rows as inserted), as PostgreSQL's heap order would be:
        // the new versions get their row ids, and so RETURNING its order, from it.
        await conn.run(
          `CREATE TEMP TABLE ${STAGE} AS SELECT * EXCLUDE (rid) FROM ${REPLACED} ORDER BY rid < 0, abs(rid)`,
        );
        await this.#appendStaged(conn, txn, t.def.id, STAGE, changed);
        return n;
      }),
    );
  }

  /** TRUNCATE: drops every file and inline row of the table in this transaction. */
  truncate(txn: CatalogTransaction, ref: TableRef): void {
    const t = txn.view.requireTable(ref);
    txn.removeFiles(
      t.def.id,
      t.files.map((f) => f.id),
    );
    txn.deleteInline(t.def.id, inlineIds(t));
  }

  // ---- maintenance

  /**
   * VACUUM: merges small files and files with delete records (dropping the deleted rows) and folds the
   * inline rows, in a maintenance transaction. `full` rewrites every file. A concurrent user write to
   * the same rows wins; the vacuum then retries, and gives up (version null) after three tries.
   */
  vacuum(ref: TableRef, options: { full?: boolean } = {}): Promise<VacuumResult> {
    return this.#maintain(ref, (t) => {
      const target = this.#options.rowGroupSize * this.#options.rowGroupsPerFile;
      const pick = (files: readonly DataFile[]) => {
        const chosen = files.filter((f) => options.full || f.rows < target / 2 || t.deletes.has(f.id));
        const worth = options.full || chosen.length > 1 || chosen.some((f) => t.deletes.has(f.id));
        return worth ? chosen : [];
      };
      if (t.def.distribution.kind !== 'hash') return pick(t.files);
      const byBucket = new Map<number, DataFile[]>();
      for (const f of t.files) byBucket.set(f.bucket!, [...(byBucket.get(f.bucket!) ?? []), f]);
      return [...byBucket.values()].flatMap(pick);
    });
  }

  /** Moves the inline rows of a table into Parquet (what the background maintenance does). */
  foldInline(ref: TableRef): Promise<VacuumResult> {
    return this.#maintain(ref, () => []);
  }

  /**
   * ANALYZE: exact per-file min/max/null counts for every orderable column (Parquet's own statistics
   * cover fewer types), and table statistics: live rows, min, max, nulls, approximate distinct values.
   */
  async analyze(ref: TableRef): Promise<TableStats> {
    const txn = this.catalog.begin({ maintenance: true });
    try {
      const t = txn.view.requireTable(ref);
      const stats = await this.#withConn(async (conn) => {
        await this.#resolveTable(t.def);
        const orderable = (c: ColumnDef) => this.#types.get(c.type)?.orderable ?? false;
        const fileStats: { id: number; stats: Record<string, ColumnStats> }[] = [];
        const groups = new Map<string, DataFile[]>();
        for (const f of t.files) {
          const key = [...f.columns].sort((a, b) => a - b).join(',');
          groups.set(key, [...(groups.get(key) ?? []), f]);
        }
        for (const files of groups.values()) {
          const present = t.def.columns.filter((c) => files[0]!.columns.includes(c.id));
          const select = present.flatMap((c) => {
            const v = decodeFromFile(c, `d.${quoteIdent(physicalName(c))}`);
            return orderable(c)
              ? [`CAST(min(${v}) AS VARCHAR)`, `CAST(max(${v}) AS VARCHAR)`, `count(*) - count(${v})`]
              : ['NULL', 'NULL', `count(*) - count(${v})`];
          });
          const paths = stringList(files.map((f) => join(this.dataDir, f.path)));
          const r = await conn.runAndReadAll(
            `SELECT CAST(d.file_index AS BIGINT), ${select.join(', ')} FROM read_parquet(${paths}, hive_partitioning=false) AS d GROUP BY 1`,
          );
          for (const row of r.getRows()) {
            const stats: Record<string, ColumnStats> = {};
            present.forEach((c, i) => {
              stats[String(c.id)] = {
                min: row[1 + 3 * i] === null ? null : String(row[1 + 3 * i]),
                max: row[2 + 3 * i] === null ? null : String(row[2 + 3 * i]),
                nullCount: Number(row[3 + 3 * i]),
              };
            });
            fileStats.push({ id: files[Number(row[0])]!.id, stats });
          }
        }
        const cols = t.def.columns;
        const select = cols.flatMap((c) => {
          const v = columnAlias(c);
          return orderable(c)
            ? [
                `CAST(min(${v}) AS VARCHAR)`,
                `CAST(max(${v}) AS VARCHAR)`,
                `count(*) - count(${v})`,
                `approx_count_distinct(${v})`,
              ]
            : ['NULL', 'NULL', `count(*) - count(${v})`, 'NULL'];
        });
        const r = await conn.runAndReadAll(
          `SELECT count(*), ${select.join(', ')} FROM (${buildRelation(t, { root: this.dataDir })}) AS t`,
        );
        const row = r.getRows()[0]!;
        const columns: Record<string, ColumnStats & { distinct: number | null }> = {};
        cols.forEach((c, i) => {
          const at = 1 + 4 * i;
          columns[String(c.id)] = {
            min: row[at] === null ? null : String(row[at]),
            max: row[at + 1] === null ? null : String(row[at + 1]),
            nullCount: Number(row[at + 2]),
            distinct: row[at + 3] === null ? null : Number(row[at + 3]),
          };
        });
        const table: TableStats = { rows: Number(row[0]), analyzedAt: Date.now(), columns };
        return { table, fileStats };
      });
      txn.setStats(t.def.id, stats.table, stats.fileStats);
      await txn.commit();
      return stats.table;
    } catch (err) {
      await txn.rollback();
      throw err;
    }
  }

  /** Folds inline rows and compacts files in the background, one table at a time. */
  startMaintenance(options: MaintenanceOptions = {}): void {
    if (this.#timer) return;
    const o = {
      intervalMs: options.intervalMs ?? 1000,
      foldRows: options.foldRows ?? 1000,
      foldAgeMs: options.foldAgeMs ?? 2000,
      smallFiles: options.smallFiles ?? 8,
      deletedFraction: options.deletedFraction ?? 0.1,
      sweepIntervalMs: options.sweepIntervalMs ?? 60_000,
      orphanGraceMs: options.orphanGraceMs ?? 10 * 60_000,
    };
    let lastSweep = Date.now();
    this.#timer = setInterval(() => {
      this.#tick = this.#tick.then(async () => {
        await this.#maintenanceRound(o);
        if (this.#closed || Date.now() - lastSweep < o.sweepIntervalMs) return;
        lastSweep = Date.now();
        await this.catalog.sweepOrphans(o.orphanGraceMs).catch((err) => {
          this.#log?.warn({ err: String(err) }, 'the orphan file sweep failed');
        });
      });
    }, o.intervalMs);
    this.#timer.unref();
  }

  /** Stops the background maintenance and waits for a round in progress. */
  async stopMaintenance(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#tick;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.stopMaintenance();
    this.#db.closeSync();
  }

  // ---- internals

  async #maintenanceRound(o: Required<MaintenanceOptions>): Promise<void> {
    if (this.#closed) return;
    const snap = this.catalog.snapshot();
    try {
      const target = this.#options.rowGroupSize * this.#options.rowGroupsPerFile;
      for (const t of snap.tables()) {
        if (this.#closed) return;
        const inline = t.inline.reduce((n, b) => n + b.rows.length, 0);
        const oldest = t.inline.length ? Math.min(...t.inline.map((b) => b.at)) : Number.POSITIVE_INFINITY;
        let fileRows = 0;
        let deleted = 0;
        let small = 0;
        for (const f of t.files) {
          fileRows += f.rows;
          deleted += t.deletes.get(f.id)?.count ?? 0;
          if (f.rows < target / 2) small++;
        }
        try {
          if (small >= o.smallFiles || (fileRows > 0 && deleted / fileRows >= o.deletedFraction)) {
            await this.vacuum(t.def.id);
          } else if (inline >= o.foldRows || (inline > 0 && Date.now() - oldest >= o.foldAgeMs)) {
            await this.foldInline(t.def.id);
          }
        } catch (err) {
          if (
            !(
              err instanceof PgError &&
              (err.code === SqlState.SerializationFailure || err.code === SqlState.UndefinedTable)
            )
          ) {
            this.#log?.warn({ err, table: t.def.name }, 'background table maintenance failed');
          }
        }
      }
    } finally {
      snap.release();
    }
  }

  /** Rewrites the files `pick` chooses plus all inline rows, in a maintenance transaction, retrying on conflict. */
  async #maintain(ref: TableRef, pick: (t: TableEntry) => readonly DataFile[]): Promise<VacuumResult> {
    const none: VacuumResult = {
      version: null,
      filesRemoved: 0,
      filesAdded: 0,
      rowsWritten: 0,
      inlineRowsFolded: 0,
      deletesApplied: 0,
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      const txn = this.catalog.begin({ maintenance: true });
      try {
        const t = txn.view.requireTable(ref);
        const files = pick(t);
        const inline = inlineIds(t);
        if (!files.length && !inline.length) {
          await txn.rollback();
          return none;
        }
        const fileIds = new Set(files.map((f) => f.id));
        const source = buildRelation(t, { root: this.dataDir, fileIds });
        const written = await this.#withConn((conn) => this.#writeFiles(conn, txn, t.def, source, []));
        txn.removeFiles(t.def.id, [...fileIds]);
        txn.deleteInline(t.def.id, inline);
        txn.addFiles(t.def.id, written.files);
        const version = await txn.commit();
        return {
          version,
          filesRemoved: files.length,
          filesAdded: written.files.length,
          rowsWritten: written.rows,
          inlineRowsFolded: inline.length,
          deletesApplied: files.reduce((n, f) => n + (t.deletes.get(f.id)?.count ?? 0), 0),
        };
      } catch (err) {
        await txn.rollback();
        if (!(err instanceof PgError && err.code === SqlState.SerializationFailure)) throw err;
      }
    }
    return none;
  }

  /** Replaces all of a table's rows by `exprs` (SQL over the old column names; null = same columns) under `def`. */
  async #rewrite(
    txn: CatalogTransaction,
    t: TableEntry,
    def: TableDef,
    exprs: readonly string[] | null,
  ): Promise<TableDef> {
    return this.#withConn(async (conn) => {
      const select =
        exprs ?? def.columns.map((c) => quoteIdent(t.def.columns.find((o) => o.id === c.id)!.name));
      const source = `SELECT ${select.join(', ')} FROM (${buildRelation(t, { root: this.dataDir })}) AS ${quoteIdent(t.def.name)}`;
      txn.alterTable(t.def.id, () => def);
      const written = await this.#writeFiles(conn, txn, def, source, []);
      const newRows = buildRelation({ ...emptyEntry(def), files: written.files }, { root: this.dataDir });
      await checkConstraints(conn, emptyEntry(def), newRows, this.dataDir);
      txn.removeFiles(
        t.def.id,
        t.files.map((f) => f.id),
      );
      txn.deleteInline(t.def.id, inlineIds(t));
      txn.addFiles(t.def.id, written.files);
      return def;
    });
  }

  /** Checks the staged rows (a temp table with the table's column names) and adds them inline or as files. */
  async #appendStaged(
    conn: DuckDBConnection,
    txn: CatalogTransaction,
    tableId: number,
    stage: string,
    changed: ReadonlySet<number> | null = null,
  ): Promise<number> {
    const t = txn.view.requireTable(tableId);
    const count = Number((await conn.runAndReadAll(`SELECT count(*) FROM ${stage}`)).getRows()[0]![0]);
    if (!count) return 0;
    await this.#resolveTable(t.def);
    await checkConstraints(conn, t, `SELECT * FROM ${stage}`, this.dataDir, {
      changed,
      exactText: (c) => this.#types.get(c.type)?.exactText ?? false,
    });
    const buffered = t.inline.reduce((n, b) => n + b.rows.length, 0);
    const inlineable = t.def.columns.every((c) => c.inlineEncoding !== 'none');
    if (
      inlineable &&
      count <= this.#options.inlineMaxRows &&
      buffered + count <= this.#options.inlineTableMaxRows
    ) {
      const select = t.def.columns.map((c) => encodeForInline(c, columnAlias(c)));
      const dist = t.def.distribution;
      if (dist.kind === 'hash') {
        const key = t.def.columns.find((c) => c.id === dist.column)!;
        const buckets = txn.view.colocationGroup(dist.group)!.buckets;
        select.push(bucketExpr(`CAST(${columnAlias(key)} AS ${key.type})`, buckets));
      } else {
        select.push('NULL');
      }
      const rows = (await conn.runAndReadAll(`SELECT ${select.join(', ')} FROM ${stage}`)).getRows();
      const first = this.catalog.allocateRowIds(rows.length);
      const n = t.def.columns.length;
      txn.appendInline(t.def.id, {
        columns: t.def.columns.map((c) => c.id),
        at: Date.now(),
        rows: rows.map((r, i) => ({
          id: first + i,
          bucket: r[n] === null ? null : Number(r[n]),
          values: r.slice(0, n).map((v) => (v === null ? null : String(v))),
        })),
      });
    } else {
      const written = await this.#writeFiles(conn, txn, t.def, `SELECT * FROM ${stage}`, []);
      txn.addFiles(t.def.id, written.files);
    }
    return count;
  }

  /** Stages delete records for the row ids in the DELETED temp table. Returns how many rows. */
  async #applyDeletes(conn: DuckDBConnection, txn: CatalogTransaction, tableId: number): Promise<number> {
    const t = txn.view.requireTable(tableId);
    const F = ROW_ID_FILE_FACTOR;
    const groups = (
      await conn.runAndReadAll(
        `SELECT CASE WHEN rid < 0 THEN -1 ELSE rid // ${F} END AS fid, count(*) FROM ${DELETED} GROUP BY 1 ORDER BY 1`,
      )
    ).getRows();
    let total = 0;
    for (const [fidValue, countValue] of groups) {
      const fid = Number(fidValue);
      const n = Number(countValue);
      if (fid === -1) {
        const ids = (await conn.runAndReadAll(`SELECT -rid FROM ${DELETED} WHERE rid < 0`))
          .getRows()
          .map((r) => Number(r[0]));
        txn.deleteInline(t.def.id, ids);
      } else {
        if (!t.files.some((f) => f.id === fid)) {
          throw new PgError(
            SqlState.InternalError,
            `row id of file ${fid} does not belong to table "${t.def.name}"`,
          );
        }
        const range = `rid >= ${fid * F} AND rid < ${(fid + 1) * F}`;
        if (n <= this.#options.inlineDeleteMax) {
          const positions = (
            await conn.runAndReadAll(`SELECT rid - ${fid * F} FROM ${DELETED} WHERE ${range} ORDER BY 1`)
          )
            .getRows()
            .map((r) => Number(r[0]));
          txn.addDeletes(t.def.id, fid, positions);
        } else {
          const file = await writeDeleteFile(
            conn,
            this.dataDir,
            t.def.id,
            `SELECT rid - ${fid * F} AS pos FROM ${DELETED} WHERE ${range}`,
            (dir) => txn.trackWrite(dir),
          );
          txn.addDeletes(t.def.id, fid, [], file);
        }
      }
      total += n;
    }
    return total;
  }

  async #writeFiles(
    conn: DuckDBConnection,
    txn: CatalogTransaction,
    def: TableDef,
    sourceSql: string,
    params: SqlParams,
  ): Promise<WrittenFiles> {
    return writeTableFiles(conn, await this.#fileOptions(txn, def), sourceSql, params);
  }

  async #fileOptions(txn: CatalogTransaction, def: TableDef): Promise<FileWriteOptions> {
    await this.#resolveTable(def);
    const dist = def.distribution;
    return {
      dataDir: this.dataDir,
      table: def,
      buckets: dist.kind === 'hash' ? txn.view.colocationGroup(dist.group)!.buckets : null,
      rowGroupSize: this.#options.rowGroupSize,
      rowGroupsPerFile: this.#options.rowGroupsPerFile,
      compression: this.#options.compression,
      minMaxStats: (c) => this.#types.get(c.type)?.minMaxStats ?? false,
      allocateIds: (n) => this.catalog.allocateIds(n),
      onDirectory: (dir) => txn.trackWrite(dir),
    };
  }

  /**
   * Writes the rows of `tasks` (each a SELECT of the table's columns, positionally, that may read
   * `$files`) through `remote`, the workers, into one new write folder. Only the succeeded attempts'
   * files count; the folders of failed attempts are removed.
   */
  async #writeRemote(
    txn: CatalogTransaction,
    def: TableDef,
    remote: RemoteTableWriter,
    tasks: readonly RemoteWriteTask[],
  ): Promise<WrittenFiles> {
    const options = await this.#fileOptions(txn, def);
    const dir = `${tableDir(def.id)}/${randomUUID()}`;
    txn.trackWrite(dir);
    const load: TableWrite = {
      dir,
      compression: options.compression,
      rowGroupSize: options.rowGroupSize,
      ...(options.buckets === null
        ? { rowGroupsPerFile: options.rowGroupsPerFile }
        : { partitionBy: BUCKET_COLUMN }),
    };
    const written = await remote(
      tasks.map((t) => ({ sql: tableFileSelect(def, options.buckets, t.sql), files: t.files })),
      load,
    );
    // Folders of attempts that did not succeed (their worker died, or was slow and got replaced).
    const kept = new Set(written.map((f) => f.path.slice(dir.length + 1).split('/')[0]));
    const entries = await readdir(join(this.dataDir, dir)).catch(() => [] as string[]);
    for (const e of entries) {
      if (!kept.has(e)) await rm(join(this.dataDir, dir, e), { recursive: true, force: true });
    }
    const dataFiles = written.map((f) => dataFileOf(options, f));
    return { dir, files: dataFiles, rows: dataFiles.reduce((n, f) => n + f.rows, 0) };
  }

  async #resolveTable(def: TableDef): Promise<void> {
    for (const c of def.columns) if (!this.#types.has(c.type)) await this.resolveType(c.type);
  }

  /** Runs one statement: on failure, the transaction is put back as it was before it. */
  async #statement<T>(txn: CatalogTransaction, fn: () => Promise<T>): Promise<T> {
    const sp = txn.savepoint();
    try {
      return await fn();
    } catch (err) {
      if (txn.status === 'active') await txn.rollbackTo(sp);
      throw err;
    }
  }

  async #withConn<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const conn = await this.#db.connect();
    try {
      return await fn(conn);
    } finally {
      conn.closeSync();
    }
  }
}

function emptyEntry(def: TableDef): TableEntry {
  return { def, files: [], deletes: new Map(), inline: [], stats: null };
}

/**
 * The NULL counts of each column and [min, max] of each key's first column over `files`, from their
 * write statistics (see checkConstraints' `known`); a column some file has no statistics for is left out.
 */
async function knownRows(
  conn: DuckDBConnection,
  def: TableDef,
  files: readonly DataFile[],
  rows: number,
): Promise<KnownRows> {
  const nulls = new Map<number, number>();
  const ranges = new Map<number, { lo: string | null; hi: string | null }>();
  const keyed = new Set(def.constraints.filter((k) => k.kind !== 'check').map((k) => k.columns[0]));
  for (const c of def.columns) {
    let n = 0;
    const mins: string[] = [];
    const maxs: string[] = [];
    let complete = true;
    let ranged = true;
    for (const f of files) {
      const s = f.stats[String(c.id)];
      if (!s || s.nullCount === null) {
        complete = false;
        break;
      }
      n += s.nullCount;
      if (s.nullCount === f.rows) continue;
      if (s.min === null || s.max === null) ranged = false;
      else {
        mins.push(s.min);
        maxs.push(s.max);
      }
    }
    if (!complete) continue;
    nulls.set(c.id, n);
    if (!ranged || !keyed.has(c.id)) continue;
    if (!mins.length) {
      ranges.set(c.id, { lo: null, hi: null });
      continue;
    }
    // Compared as the column's type, printed as DuckDB prints it (what the probe would have said).
    const list = (xs: string[]) => `[${xs.map((x) => `CAST(${quoteLiteral(x)} AS ${c.type})`).join(', ')}]`;
    const r = await conn.runAndReadAll(
      `SELECT CAST(list_min(${list(mins)}) AS VARCHAR), CAST(list_max(${list(maxs)}) AS VARCHAR)`,
    );
    const [lo, hi] = r.getRows()[0]!;
    ranges.set(c.id, { lo: lo === null ? null : String(lo), hi: hi === null ? null : String(hi) });
  }
  return { rows, nulls, ranges };
}

function inlineIds(t: TableEntry): number[] {
  const ids: number[] = [];
  for (const b of t.inline) for (const r of b.rows) ids.push(r.id);
  return ids;
}

function sourceNames(n: number): string {
  return Array.from({ length: n }, (_, i) => `a${i}`).join(', ');
}

/** `CAST(src.a0 AS <type>) AS "name", ...`: positional source columns to the table's names and types. */
function castSelect(cols: readonly ColumnDef[]): string {
  return cols.map((c, i) => `CAST(src.a${i} AS ${c.type}) AS ${columnAlias(c)}`).join(', ');
}

/** 42601 unless the source yields exactly the table's number of columns (DuckDB would ignore extras). */
async function assertColumnCount(
  conn: DuckDBConnection,
  sql: string,
  params: SqlParams,
  expected: number,
): Promise<void> {
  // A statement with parameters of unknown type cannot bind until they are given, so its prepared
  // form does not know its columns; an empty run with the values does.
  const n = paramCount(params)
    ? (await conn.runAndReadAll(`SELECT * FROM (${sql}) LIMIT 0`, ...bindArgs(params))).columnCount
    : (await conn.prepare(sql)).columnCount;
  if (n !== expected) {
    throw new PgError(
      SqlState.SyntaxError,
      n > expected
        ? 'INSERT has more expressions than target columns'
        : 'INSERT has more target columns than expressions',
    );
  }
}
