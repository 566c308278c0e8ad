import { open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { applyOp, emptyState } from './applyOp.js';
import {
  type CatalogState,
  type ColocationGroup,
  type DeleteSet,
  nameKey,
  type RelationRef,
  type SchemaDef,
  type SequenceEntry,
  type TableEntry,
  type TypeDef,
  type ViewDef,
} from './CatalogModel.js';
import type { CatalogOp } from './CatalogOp.js';
import { mkdirDurably, TEMP_SUFFIX, writeFileDurably } from './durableFs.js';

/** One committed transaction as it sits in the log: replaying `ops` on version-1 gives `version`. */
export interface CommitRecord {
  readonly version: number;
  readonly ops: readonly CatalogOp[];
}

/** What `CatalogStore.load` found and cleaned up. */
export interface LoadResult {
  readonly state: CatalogState;
  readonly checkpointVersion: number;
  readonly replayed: number;
  /** Catalog files removed: temporaries of an interrupted write, logs older than the checkpoint. */
  readonly removed: readonly string[];
}

const CHECKPOINT_PREFIX = 'checkpoint-';
const LOG_PREFIX = 'log-';
const LOCK_FILE = 'owner.pid';
const FORMAT = 1;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The catalog's durable form in `<data>/catalog/`: a checkpoint of the whole state
 * (`checkpoint-<version>.json`) and one file per commit after it (`log-<version>.json`). Every file is
 * written with writeFileDurably, so a crash leaves it whole or absent; a commit is durable once its log
 * file's name is. `owner.pid` marks the directory's one owner.
 */
export class CatalogStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'catalog');
  }

  /**
   * Claims the directory for this process (`catalog/owner.pid`): the catalog has exactly one owner,
   * the coordinator. A lock left by a process that no longer runs (a kill -9) is taken over.
   */
  async lock(): Promise<void> {
    await mkdirDurably(this.dir);
    const path = join(this.dir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(path, 'wx');
        await fh.writeFile(String(process.pid));
        await fh.close();
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && isRunning(owner)) {
        throw new Error(
          `the data directory ${this.dir} is in use by process ${owner}; if that process is not a Mallard coordinator, remove ${path}`,
        );
      }
      await unlink(path).catch(() => {});
    }
    throw new Error(`could not lock the data directory ${this.dir}`);
  }

  async unlock(): Promise<void> {
    await unlink(join(this.dir, LOCK_FILE)).catch(() => {});
  }

  /** Reads the newest checkpoint, replays the logs after it, and removes leftovers. */
  async load(): Promise<LoadResult> {
    await mkdirDurably(this.dir);
    const names = await readdir(this.dir);
    const checkpoints: number[] = [];
    const logs = new Set<number>();
    const removed: string[] = [];
    for (const name of names) {
      if (name.endsWith(TEMP_SUFFIX)) {
        await unlink(join(this.dir, name));
        removed.push(join(this.dir, name));
        continue;
      }
      const cp = versionOf(name, CHECKPOINT_PREFIX);
      if (cp !== null) checkpoints.push(cp);
      const log = versionOf(name, LOG_PREFIX);
      if (log !== null) logs.add(log);
    }
    checkpoints.sort((a, b) => b - a);
    // A checkpoint only ever appears by rename, so the newest one is whole.
    const checkpointVersion = checkpoints[0] ?? 0;
    let state: CatalogState;
    if (checkpoints.length) {
      const text = await readFile(join(this.dir, fileName(CHECKPOINT_PREFIX, checkpointVersion)), 'utf8');
      state = decodeState(JSON.parse(text));
    } else {
      state = emptyState();
      await this.writeCheckpoint(state);
    }
    let replayed = 0;
    for (let v = checkpointVersion + 1; logs.has(v); v++) {
      const record = JSON.parse(
        await readFile(join(this.dir, fileName(LOG_PREFIX, v)), 'utf8'),
      ) as CommitRecord;
      for (const op of record.ops) state = applyOp(state, op);
      state = { ...state, version: v };
      replayed++;
    }
    // Logs at or below the checkpoint were folded into it; nothing can follow a gap.
    for (const v of logs) {
      if (v <= checkpointVersion || v > state.version) {
        await unlink(join(this.dir, fileName(LOG_PREFIX, v)));
        removed.push(join(this.dir, fileName(LOG_PREFIX, v)));
      }
    }
    for (const v of checkpoints) {
      if (v !== checkpointVersion) {
        await unlink(join(this.dir, fileName(CHECKPOINT_PREFIX, v)));
        removed.push(join(this.dir, fileName(CHECKPOINT_PREFIX, v)));
      }
    }
    return { state, checkpointVersion, replayed, removed };
  }

  /** Makes one commit durable. Returns the bytes written. */
  async appendCommit(record: CommitRecord): Promise<number> {
    const text = JSON.stringify(record);
    await writeFileDurably(join(this.dir, fileName(LOG_PREFIX, record.version)), text);
    return text.length;
  }

  /** Writes the whole state, then drops the logs and checkpoints it supersedes. */
  async writeCheckpoint(state: CatalogState): Promise<void> {
    await writeFileDurably(
      join(this.dir, fileName(CHECKPOINT_PREFIX, state.version)),
      JSON.stringify(encodeState(state)),
    );
    for (const name of await readdir(this.dir)) {
      const cp = versionOf(name, CHECKPOINT_PREFIX);
      const log = versionOf(name, LOG_PREFIX);
      if ((cp !== null && cp < state.version) || (log !== null && log <= state.version)) {
        await unlink(join(this.dir, name)).catch(() => {});
      }
    }
  }
}

function fileName(prefix: string, version: number): string {
  return `${prefix}${String(version).padStart(16, '0')}.json`;
}

function versionOf(name: string, prefix: string): number | null {
  if (!name.startsWith(prefix) || !name.endsWith('.json')) return null;
  const digits = name.slice(prefix.length, -'.json'.length);
  const v = Number(digits);
  return digits.length > 0 && Number.isSafeInteger(v) ? v : null;
}

interface EncodedTable extends Omit<TableEntry, 'deletes'> {
  readonly deletes: readonly (readonly [number, DeleteSet])[];
}

interface EncodedState {
  readonly format: number;
  readonly version: number;
  readonly nextId: number;
  readonly nextRowId: number;
  readonly schemas: readonly SchemaDef[];
  readonly tables: readonly EncodedTable[];
  readonly views: readonly ViewDef[];
  readonly sequences: readonly SequenceEntry[];
  readonly colocations: readonly ColocationGroup[];
  readonly types?: readonly TypeDef[];
}

/** The state as plain JSON; `relations` is derived, so it is not stored. */
export function encodeState(state: CatalogState): EncodedState {
  return {
    format: FORMAT,
    version: state.version,
    nextId: state.nextId,
    nextRowId: state.nextRowId,
    schemas: [...state.schemas.values()],
    tables: [...state.tables.values()].map((t) => ({ ...t, deletes: [...t.deletes.entries()] })),
    views: [...state.views.values()],
    sequences: [...state.sequences.values()],
    colocations: [...state.colocations.values()],
    types: [...(state.types?.values() ?? [])],
  };
}

export function decodeState(json: EncodedState): CatalogState {
  if (json.format !== FORMAT) throw new Error(`catalog checkpoint format ${json.format} is not ${FORMAT}`);
  const relations = new Map<string, RelationRef>();
  for (const t of json.tables)
    relations.set(nameKey(t.def.schema, t.def.name), { kind: 'table', id: t.def.id });
  for (const v of json.views) relations.set(nameKey(v.schema, v.name), { kind: 'view', id: v.id });
  for (const s of json.sequences)
    relations.set(nameKey(s.def.schema, s.def.name), { kind: 'sequence', id: s.def.id });
  return {
    version: json.version,
    nextId: json.nextId,
    nextRowId: json.nextRowId,
    schemas: new Map(json.schemas.map((s) => [s.name, s])),
    tables: new Map(json.tables.map((t) => [t.def.id, { ...t, deletes: new Map(t.deletes) }])),
    relations,
    views: new Map(json.views.map((v) => [v.id, v])),
    sequences: new Map(json.sequences.map((s) => [s.def.id, s])),
    colocations: new Map(json.colocations.map((g) => [g.id, g])),
    types: new Map((json.types ?? []).map((t) => [nameKey(t.schema, t.name), t])),
  };
}
