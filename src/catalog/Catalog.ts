import { readdir, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import type { Logger } from '../log.js';
import { applyOp } from './applyOp.js';
import type { CatalogState, QualifiedName, SequenceEntry } from './CatalogModel.js';
import { type CatalogOp, footprintOf } from './CatalogOp.js';
import { CatalogStore } from './CatalogStore.js';
import { CatalogTransaction } from './CatalogTransaction.js';
import {
  referencedPaths,
  removeFileAndEmptyDirs,
  STAGING_DIR,
  TABLES_DIR,
  tableDir,
  writeDirOf,
} from './dataPaths.js';
import { Snapshot } from './Snapshot.js';

export interface CatalogOptions {
  /** Write a checkpoint after this many commits (default 256). */
  checkpointEvery?: number;
  /** ...or once the logs since the last checkpoint exceed this many bytes (default 8 MiB). */
  checkpointBytes?: number;
  /** Sequence values reserved per log record, like PostgreSQL's SEQ_LOG_VALS (default 32). */
  sequenceReserve?: number;
  logger?: Logger;
}

/** What `Catalog.open` did to bring the data directory back to its last committed state. */
export interface RecoveryReport {
  /** Commits replayed from the log on top of the checkpoint. */
  readonly replayed: number;
  /** Files removed: data files no committed version references, and catalog temporaries. */
  readonly removed: readonly string[];
}

export interface BeginOptions {
  /**
   * Compaction, inline folding and statistics. A maintenance transaction yields (40001) to user
   * commits that deleted rows it rewrites or changed the table's definition, and it does not count as
   * a writer for user transactions: they fail only if they delete rows it moved meanwhile.
   */
  maintenance?: boolean;
}

interface TableVersions {
  /** Last commit by a user transaction that changed the table's rows or definition. */
  write: number;
  /** Last commit that changed the definition. */
  ddl: number;
}

interface SequenceRuntime {
  last: bigint;
  called: boolean;
  /** nextval may hand out values up to here without writing to the log. */
  reserved: bigint;
}

interface Garbage {
  /** Deletable once every pinned snapshot is at this version or later. */
  readonly version: number;
  /** Relative to the data directory. */
  readonly files: readonly string[];
  readonly dirs: readonly string[];
}

/**
 * The transactional catalog of one data directory, owned by the coordinator. Every committed version
 * is immutable; `snapshot()` pins one for readers, and `begin()` starts a transaction that stages
 * changes against its snapshot and commits them atomically and durably. Of two transactions that write
 * the same table, the first to commit wins; the second gets 40001. Readers never wait.
 */
export class Catalog {
  readonly dataDir: string;
  /** Write directories of transactions in progress, with how many hold each (see sweepOrphans). */
  readonly #writing = new Map<string, number>();
  readonly recovery: RecoveryReport;
  readonly #store: CatalogStore;
  readonly #options: Required<Omit<CatalogOptions, 'logger'>>;
  readonly #log: Logger | undefined;
  #state: CatalogState;
  #nextId: number;
  #nextRowId: number;
  readonly #pins = new Map<number, number>();
  #garbage: Garbage[] = [];
  #lock: Promise<unknown> = Promise.resolve();
  #collecting: Promise<number> = Promise.resolve(0);
  #checkpointing: Promise<void> = Promise.resolve();
  #commitsSinceCheckpoint = 0;
  #bytesSinceCheckpoint = 0;
  readonly #tables = new Map<number, TableVersions>();
  /** Data file id → last user commit that added delete records to it. */
  readonly #fileDeletes = new Map<number, number>();
  readonly #objects = new Map<string, number>();
  readonly #sequences = new Map<number, SequenceRuntime>();
  #failed: Error | null = null;
  #closed = false;

  private constructor(
    dataDir: string,
    store: CatalogStore,
    state: CatalogState,
    recovery: RecoveryReport,
    options: CatalogOptions,
  ) {
    this.dataDir = dataDir;
    this.#store = store;
    this.#state = state;
    this.#nextId = state.nextId;
    this.#nextRowId = state.nextRowId;
    this.recovery = recovery;
    this.#log = options.logger;
    this.#options = {
      checkpointEvery: options.checkpointEvery ?? 256,
      checkpointBytes: options.checkpointBytes ?? 8 << 20,
      sequenceReserve: options.sequenceReserve ?? 32,
    };
  }

  /**
   * Opens (or creates) the catalog in `dataDir`: loads the newest checkpoint, replays the commit log,
   * then removes every file under `tables/` that no committed version references (what an unfinished
   * write, a rolled-back transaction or a not-yet-collected compaction left behind).
   */
  static async open(dataDir: string, options: CatalogOptions = {}): Promise<Catalog> {
    const store = new CatalogStore(dataDir);
    await store.lock();
    let loaded: Awaited<ReturnType<CatalogStore['load']>>;
    let removed: string[];
    try {
      loaded = await store.load();
      removed = [...loaded.removed, ...(await sweepTables(dataDir, loaded.state))];
      // Scratch files of statements a previous process did not finish (COPY spools).
      await rm(join(dataDir, STAGING_DIR), { recursive: true, force: true });
    } catch (err) {
      await store.unlock();
      throw err;
    }
    const catalog = new Catalog(
      dataDir,
      store,
      loaded.state,
      { replayed: loaded.replayed, removed },
      options,
    );
    options.logger?.info(
      { version: loaded.state.version, replayed: loaded.replayed, removed: removed.length },
      'catalog opened',
    );
    return catalog;
  }

  /** The newest committed version. */
  get version(): number {
    return this.#state.version;
  }

  /** The newest committed version, pinned until `release()`. Never waits for a writer. */
  snapshot(): Snapshot {
    return this.#pin(this.#state);
  }

  /** Starts a transaction on the newest committed version. */
  begin(options: BeginOptions = {}): CatalogTransaction {
    this.#assertOpen();
    return new CatalogTransaction(this, this.#pin(this.#state), options.maintenance ?? false);
  }

  /** Allocates `n` consecutive object ids (tables, columns, files, ...) and returns the first. */
  allocateIds(n = 1): number {
    const first = this.#nextId;
    this.#nextId += n;
    return first;
  }

  /** Allocates `n` consecutive inline row ids and returns the first. */
  allocateRowIds(n: number): number {
    const first = this.#nextRowId;
    this.#nextRowId += n;
    return first;
  }

  /**
   * PostgreSQL's nextval: not transactional, never handing out a value twice, even across a crash.
   * A log record reserves `sequenceReserve` values at a time, so most calls write nothing.
   */
  async nextval(ref: number | QualifiedName): Promise<bigint> {
    this.#assertOpen();
    const id = this.#sequenceId(ref);
    const entry = this.#state.sequences.get(id);
    if (!entry) throw new PgError(SqlState.UndefinedTable, `sequence ${describe(ref)} does not exist`);
    const rt = this.#runtime(entry);
    const v = advance(entry, rt);
    if (inReserve(entry, rt, v)) {
      rt.last = v;
      rt.called = true;
      return v;
    }
    // Reserve the next block under the commit lock; another caller may have done it meanwhile.
    return this.#exclusive(async () => {
      const current = this.#state.sequences.get(id);
      if (!current) throw new PgError(SqlState.UndefinedTable, `sequence ${describe(ref)} does not exist`);
      const r = this.#runtime(current);
      const next = advance(current, r);
      if (!inReserve(current, r, next)) {
        const inc = BigInt(current.def.increment);
        const min = BigInt(current.def.min);
        const max = BigInt(current.def.max);
        let upTo = next + inc * BigInt(this.#options.sequenceReserve - 1);
        if (upTo > max) upTo = max;
        if (upTo < min) upTo = min;
        await this.#commitOps([{ op: 'setSequence', sequence: id, last: String(upTo), called: true }]);
        r.reserved = upTo;
      }
      r.last = next;
      r.called = true;
      return next;
    });
  }

  /** PostgreSQL's setval: not transactional; durable when it returns. */
  async setval(ref: number | QualifiedName, value: bigint, called = true): Promise<bigint> {
    this.#assertOpen();
    const id = this.#sequenceId(ref);
    await this.#exclusive(async () => {
      const entry = this.#state.sequences.get(id);
      if (!entry) throw new PgError(SqlState.UndefinedTable, `sequence ${describe(ref)} does not exist`);
      if (value < BigInt(entry.def.min) || value > BigInt(entry.def.max)) {
        throw new PgError(
          SqlState.NumericValueOutOfRange,
          `setval: value ${value} is out of bounds for sequence "${entry.def.name}" (${entry.def.min}..${entry.def.max})`,
        );
      }
      await this.#commitOps([{ op: 'setSequence', sequence: id, last: String(value), called }]);
      const inc = BigInt(entry.def.increment);
      this.#sequences.set(id, { last: value, called, reserved: called ? value : value - inc });
    });
    return value;
  }

  /** The last value nextval handed out by this catalog (any session), or null if none since it opened. */
  lastValue(ref: number | QualifiedName): bigint | null {
    const rt = this.#sequences.get(this.#sequenceId(ref));
    return rt?.called ? rt.last : null;
  }

  /** @internal CatalogTransaction: a write directory it is about to fill (see sweepOrphans). */
  holdWrite(dir: string): void {
    this.#writing.set(dir, (this.#writing.get(dir) ?? 0) + 1);
  }

  /** @internal CatalogTransaction: write directories it no longer fills (it ended, or rolled back). */
  releaseWrites(dirs: readonly string[]): void {
    for (const d of dirs) {
      const n = (this.#writing.get(d) ?? 1) - 1;
      if (n > 0) this.#writing.set(d, n);
      else this.#writing.delete(d);
    }
  }

  /**
   * Removes files under `tables/` that nothing accounts for: not in the committed state, not waiting for
   * garbage collection (an older pinned snapshot may read them), not in a write directory of a
   * transaction in progress, and last modified more than `graceMs` ago. They are what a writer left
   * after its statement was undone without it: a worker declared dead that still finished its part of a
   * load, or one that kept writing after its coordinator was killed and restarted (recovery at open
   * removes what was there then). Returns the removed paths (relative).
   */
  async sweepOrphans(graceMs = 10 * 60_000): Promise<string[]> {
    this.#assertOpen();
    const candidates = await oldFiles(this.dataDir, TABLES_DIR, Date.now() - graceMs);
    if (!candidates.length) return [];
    return this.#exclusive(async () => {
      const live = referencedPaths(this.#state);
      const busy: string[] = [...this.#writing.keys()];
      for (const g of this.#garbage) {
        for (const f of g.files) live.add(f);
        busy.push(...g.dirs);
      }
      const removed: string[] = [];
      for (const path of candidates) {
        if (live.has(path) || busy.some((d) => path.startsWith(`${d}/`))) continue;
        if (await removeFileAndEmptyDirs(this.dataDir, path)) removed.push(path);
      }
      if (removed.length) this.#log?.warn({ files: removed.length }, 'removed orphan table files');
      return removed;
    });
  }

  /** Deletes the files that compaction or DROP unreferenced and no pinned snapshot still reads. */
  collectGarbage(): Promise<number> {
    const run = this.#collecting.then(() => this.#collect());
    this.#collecting = run.catch((err) => {
      this.#log?.warn({ err }, 'catalog garbage collection failed');
      return 0;
    });
    return run;
  }

  /** Waits for commits, checkpointing and garbage collection in flight, then refuses new work. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#exclusive(async () => {
      // A clean shutdown gives back the sequence values reserved but not handed out, as PostgreSQL's
      // shutdown checkpoint does; only a crash skips them.
      const ops: CatalogOp[] = [];
      for (const [id, rt] of this.#sequences) {
        const entry = this.#state.sequences.get(id);
        if (entry && rt.reserved !== rt.last && entry.last !== String(rt.last)) {
          ops.push({ op: 'setSequence', sequence: id, last: String(rt.last), called: rt.called });
        }
      }
      if (ops.length && !this.#failed) await this.#commitOps(ops).catch(() => 0);
    });
    this.#closed = true;
    await this.#checkpointing;
    await this.collectGarbage().catch(() => 0);
    await this.#store.unlock();
  }

  /** @internal The committed state, unpinned: for metadata lookups that read no files. */
  snapshotState(): CatalogState {
    return this.#state;
  }

  /** @internal Called by CatalogTransaction.commit. Returns the new version. */
  commitTransaction(
    base: number,
    ops: readonly CatalogOp[],
    maintenance: boolean,
    created: ReadonlySet<number>,
    ownedDirs: readonly string[],
  ): Promise<number> {
    return this.#exclusive(async () => {
      this.#assertOpen();
      // Conflicts beyond these show up when the ops are re-applied to the newest state (a file or an
      // inline row a commit since `base` removed), which #commitOps reports as 40001 too.
      const written = new Set<number>();
      const ddl = new Set<number>();
      const touched = new Set<number>();
      const removed: number[] = [];
      const deletesIn: number[] = [];
      for (const op of ops) {
        const fp = footprintOf(op);
        if (!fp || created.has(fp.table)) continue;
        touched.add(fp.table);
        if (fp.write) written.add(fp.table);
        if (fp.ddl) ddl.add(fp.table);
        removed.push(...fp.removes);
        if (fp.deletesIn !== null) deletesIn.push(fp.deletesIn);
      }
      const nameOf = (table: number) => this.#state.tables.get(table)?.def.name ?? String(table);
      if (!maintenance) {
        // Two user transactions that write one table: the first to commit wins.
        for (const table of written) {
          if ((this.#tables.get(table)?.write ?? 0) > base) throw serializationFailure(nameOf(table));
        }
      } else {
        // Maintenance rewrites what it read at `base`: it must not drop a delete committed since, nor
        // write files under a definition that changed. Appends by users do not disturb it.
        for (const table of touched) {
          if ((this.#tables.get(table)?.ddl ?? 0) > base) throw serializationFailure(nameOf(table));
        }
        for (const file of removed) {
          if ((this.#fileDeletes.get(file) ?? 0) > base) throw serializationFailure(`file ${file}`);
        }
      }
      for (const key of objectKeys(ops)) {
        if ((this.#objects.get(key) ?? 0) > base) throw serializationFailure(key);
      }
      const garbage: string[] = [];
      const dirs: string[] = [];
      const version = await this.#commitOps(ops, (before, op) => collectRemoved(before, op, garbage, dirs));
      if (!maintenance) {
        for (const table of written) {
          const v = this.#tables.get(table);
          if (v) v.write = version;
          else this.#tables.set(table, { write: version, ddl: 0 });
        }
        for (const table of ddl) this.#tables.get(table)!.ddl = version;
        for (const file of deletesIn) this.#fileDeletes.set(file, version);
        if (this.#fileDeletes.size > 4096) this.#pruneFileDeletes();
      }
      for (const key of objectKeys(ops)) this.#objects.set(key, version);
      for (const op of ops) {
        if (op.op === 'alterSequence' || op.op === 'dropSequence' || op.op === 'setSequence') {
          this.#sequences.delete(op.op === 'alterSequence' ? op.sequence.id : op.sequence);
        }
      }
      // Write directories whose files the new state no longer references (a statement undone, a table dropped).
      if (ownedDirs.length) {
        const liveDirs = new Set([...referencedPaths(this.#state)].map(writeDirOf));
        for (const d of ownedDirs) if (!liveDirs.has(d)) dirs.push(d);
      }
      if (garbage.length || dirs.length) {
        this.#garbage.push({ version, files: garbage, dirs });
        void this.collectGarbage();
      }
      return version;
    });
  }

  /** @internal Deletes write directories of a transaction that will not commit them. */
  async discardWrites(dirs: readonly string[]): Promise<void> {
    for (const d of dirs) await rm(join(this.dataDir, d), { recursive: true, force: true });
  }

  /** Applies ops to the newest state, writes the commit record, publishes. Caller holds the lock. */
  async #commitOps(
    ops: readonly CatalogOp[],
    before?: (state: CatalogState, op: CatalogOp) => void,
  ): Promise<number> {
    if (this.#failed) {
      throw new PgError(
        SqlState.IoError,
        'the catalog log could not be written; restart to recover',
        {},
        {
          cause: this.#failed,
        },
      );
    }
    let state = this.#state;
    try {
      for (const op of ops) {
        before?.(state, op);
        state = applyOp(state, op);
      }
    } catch (err) {
      // The ops applied to the transaction's own snapshot, so a concurrent commit changed what they touch.
      throw new PgError(
        SqlState.SerializationFailure,
        'could not serialize access due to concurrent update',
        { detail: err instanceof Error ? err.message : String(err) },
        { cause: err },
      );
    }
    const version = this.#state.version + 1;
    state = { ...state, version };
    try {
      this.#bytesSinceCheckpoint += await this.#store.appendCommit({ version, ops });
    } catch (err) {
      // The record may or may not be on disk: only a restart (recovery) can tell which.
      this.#failed = err instanceof Error ? err : new Error(String(err));
      throw new PgError(SqlState.IoError, 'could not write the catalog log', {}, { cause: err });
    }
    this.#state = state;
    if (state.nextId > this.#nextId) this.#nextId = state.nextId;
    if (state.nextRowId > this.#nextRowId) this.#nextRowId = state.nextRowId;
    this.#commitsSinceCheckpoint++;
    if (
      this.#commitsSinceCheckpoint >= this.#options.checkpointEvery ||
      this.#bytesSinceCheckpoint >= this.#options.checkpointBytes
    ) {
      this.#commitsSinceCheckpoint = 0;
      this.#bytesSinceCheckpoint = 0;
      this.#checkpointing = this.#checkpointing
        .then(() => this.#store.writeCheckpoint(state))
        .catch((err) =>
          this.#log?.warn({ err }, 'catalog checkpoint failed; the log still holds every commit'),
        );
    }
    return version;
  }

  /** Entries older than every transaction still open can no longer conflict with anything. */
  #pruneFileDeletes(): void {
    let oldest = this.#state.version;
    for (const v of this.#pins.keys()) if (v < oldest) oldest = v;
    for (const [file, v] of this.#fileDeletes) if (v <= oldest) this.#fileDeletes.delete(file);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn);
    this.#lock = run.catch(() => {});
    return run;
  }

  #pin(state: CatalogState): Snapshot {
    const v = state.version;
    this.#pins.set(v, (this.#pins.get(v) ?? 0) + 1);
    return new Snapshot(state, () => {
      const n = (this.#pins.get(v) ?? 1) - 1;
      if (n > 0) this.#pins.set(v, n);
      else {
        this.#pins.delete(v);
        if (this.#garbage.length) void this.collectGarbage();
      }
    });
  }

  async #collect(): Promise<number> {
    let oldest = Number.POSITIVE_INFINITY;
    for (const v of this.#pins.keys()) if (v < oldest) oldest = v;
    const ready = this.#garbage.filter((g) => g.version <= oldest);
    if (!ready.length) return 0;
    this.#garbage = this.#garbage.filter((g) => g.version > oldest);
    let n = 0;
    for (const g of ready) {
      for (const f of g.files) if (await removeFileAndEmptyDirs(this.dataDir, f)) n++;
      for (const d of g.dirs) await rm(join(this.dataDir, d), { recursive: true, force: true });
    }
    return n;
  }

  #sequenceId(ref: number | QualifiedName): number {
    if (typeof ref === 'number') return ref;
    const s = new Snapshot(this.#state, () => {}).sequence(ref);
    if (!s) throw new PgError(SqlState.UndefinedTable, `sequence ${describe(ref)} does not exist`);
    return s.def.id;
  }

  #runtime(entry: SequenceEntry): SequenceRuntime {
    let rt = this.#sequences.get(entry.def.id);
    if (!rt) {
      // After a restart everything up to the logged value may have been handed out already.
      const last = BigInt(entry.last);
      rt = { last, called: entry.called, reserved: entry.called ? last : last - BigInt(entry.def.increment) };
      this.#sequences.set(entry.def.id, rt);
    }
    return rt;
  }

  #assertOpen(): void {
    if (this.#closed) throw new PgError(SqlState.ObjectNotInPrerequisiteState, 'the catalog is closed');
  }
}

/** The value nextval would hand out next; 22003 when the sequence is exhausted and does not cycle. */
function advance(entry: SequenceEntry, rt: SequenceRuntime): bigint {
  if (!rt.called) return rt.last;
  const inc = BigInt(entry.def.increment);
  const next = rt.last + inc;
  const min = BigInt(entry.def.min);
  const max = BigInt(entry.def.max);
  if (next > max || next < min) {
    if (entry.def.cycle) return inc > 0n ? min : max;
    throw new PgError(
      SqlState.NumericValueOutOfRange,
      `nextval: reached ${inc > 0n ? 'maximum' : 'minimum'} value of sequence "${entry.def.name}" (${inc > 0n ? max : min})`,
    );
  }
  return next;
}

/** Whether `v` lies in the block the log already reserved, ahead of the last value handed out. */
function inReserve(entry: SequenceEntry, rt: SequenceRuntime, v: bigint): boolean {
  if (BigInt(entry.def.increment) > 0n) return v <= rt.reserved && (!rt.called || v > rt.last);
  return v >= rt.reserved && (!rt.called || v < rt.last);
}

function serializationFailure(what: string): PgError {
  return new PgError(SqlState.SerializationFailure, 'could not serialize access due to concurrent update', {
    detail: `"${what}" was changed by a transaction that committed after this one started.`,
    hint: 'Retry the transaction.',
  });
}

/** Non-table objects whose concurrent redefinition would otherwise be a lost update. */
function objectKeys(ops: readonly CatalogOp[]): string[] {
  const keys: string[] = [];
  for (const op of ops) {
    if (op.op === 'alterSequence') keys.push(`sequence:${op.sequence.id}`);
    else if (op.op === 'dropSequence') keys.push(`sequence:${op.sequence}`);
    else if (op.op === 'dropView') keys.push(`view:${op.view}`);
    else if (op.op === 'dropSchema') keys.push(`schema:${op.name}`);
  }
  return keys;
}

/** Records the files an op unreferences, as they are in the state before it. */
function collectRemoved(state: CatalogState, op: CatalogOp, files: string[], dirs: string[]): void {
  if (op.op === 'removeFiles') {
    const t = state.tables.get(op.table);
    if (!t) return;
    const gone = new Set(op.files);
    for (const f of t.files) {
      if (!gone.has(f.id)) continue;
      files.push(f.path);
      for (const d of t.deletes.get(f.id)?.files ?? []) files.push(d.path);
    }
  } else if (op.op === 'dropTable') {
    dirs.push(tableDir(op.table));
  }
}

/** Every file under `rel` (relative to `dataDir`) last modified before `cutoff` (epoch ms), relative. */
async function oldFiles(dataDir: string, rel: string, cutoff: number): Promise<string[]> {
  const out: string[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(join(dataDir, rel), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const child = `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await oldFiles(dataDir, child, cutoff)));
    else {
      const s = await stat(join(dataDir, child)).catch(() => null);
      if (s && s.mtimeMs < cutoff) out.push(child);
    }
  }
  return out;
}

/** Removes every file under `tables/` that `state` does not reference, then the empty directories. */
async function sweepTables(dataDir: string, state: CatalogState): Promise<string[]> {
  const live = referencedPaths(state);
  const removed: string[] = [];
  const walk = async (rel: string): Promise<boolean> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(join(dataDir, rel), { withFileTypes: true });
    } catch {
      return true;
    }
    let empty = true;
    for (const e of entries) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (await walk(child)) {
          await rmdir(join(dataDir, child));
        } else empty = false;
      } else if (live.has(child)) {
        empty = false;
      } else {
        await unlink(join(dataDir, child));
        removed.push(join(dataDir, child));
      }
    }
    return empty;
  };
  await walk(TABLES_DIR);
  return removed;
}

function describe(ref: number | QualifiedName): string {
  return typeof ref === 'number' ? `with id ${ref}` : `"${ref.schema}.${ref.name}"`;
}
