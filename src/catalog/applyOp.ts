import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import {
  type CatalogState,
  type DataFile,
  type DeleteSet,
  nameKey,
  type RelationRef,
  type TableEntry,
} from './CatalogModel.js';
import type { CatalogOp } from './CatalogOp.js';

/** The catalog of a fresh data directory: the `public` schema (PostgreSQL's default) and `main` (DuckDB's). */
export function emptyState(): CatalogState {
  return {
    version: 0,
    nextId: 3,
    nextRowId: 1,
    schemas: new Map([
      ['public', { id: 1, name: 'public' }],
      ['main', { id: 2, name: 'main' }],
    ]),
    tables: new Map(),
    relations: new Map(),
    views: new Map(),
    sequences: new Map(),
    colocations: new Map(),
  };
}

/**
 * Applies one op, returning a new state that shares every untouched record with `state`. Throws a
 * PgError when the op does not fit the state (a name taken, an object gone); during a commit such an
 * error means a concurrent transaction got there first.
 */
export function applyOp(state: CatalogState, op: CatalogOp): CatalogState {
  switch (op.op) {
    case 'createSchema': {
      if (state.schemas.has(op.schema.name)) {
        throw new PgError(SqlState.DuplicateSchema, `schema "${op.schema.name}" already exists`);
      }
      return withIds({ ...state, schemas: mapSet(state.schemas, op.schema.name, op.schema) }, op.schema.id);
    }
    case 'dropSchema': {
      requireSchema(state, op.name);
      for (const key of state.relations.keys()) {
        if (key.startsWith(nameKey(op.name, ''))) {
          throw new PgError(
            SqlState.DependentObjectsStillExist,
            `cannot drop schema "${op.name}" because other objects depend on it`,
            { hint: 'Use DROP ... CASCADE to drop the dependent objects too.' },
          );
        }
      }
      return { ...state, schemas: mapDelete(state.schemas, op.name) };
    }
    case 'createTable': {
      const t = op.table;
      requireSchema(state, t.schema);
      requireFreeName(state, t.schema, t.name);
      const entry: TableEntry = { def: t, files: [], deletes: new Map(), inline: [], stats: null };
      const maxColumn = Math.max(t.id, ...t.columns.map((c) => c.id));
      return withIds(
        {
          ...state,
          tables: mapSet(state.tables, t.id, entry),
          relations: mapSet(state.relations, nameKey(t.schema, t.name), { kind: 'table', id: t.id }),
        },
        maxColumn,
      );
    }
    case 'alterTable': {
      const old = requireTable(state, op.table.id);
      const t = op.table;
      let relations = state.relations;
      if (old.def.schema !== t.schema || old.def.name !== t.name) {
        requireSchema(state, t.schema);
        requireFreeName(state, t.schema, t.name);
        relations = mapSet(
          mapDelete(relations, nameKey(old.def.schema, old.def.name)),
          nameKey(t.schema, t.name),
          {
            kind: 'table',
            id: t.id,
          },
        );
      }
      const maxColumn = Math.max(t.id, ...t.columns.map((c) => c.id));
      return withIds(
        { ...state, relations, tables: mapSet(state.tables, t.id, { ...old, def: t }) },
        maxColumn,
      );
    }
    case 'dropTable': {
      const old = requireTable(state, op.table);
      return {
        ...state,
        tables: mapDelete(state.tables, op.table),
        relations: mapDelete(state.relations, nameKey(old.def.schema, old.def.name)),
      };
    }
    case 'addFiles': {
      const old = requireTable(state, op.table);
      let maxId = 0;
      for (const f of op.files) if (f.id > maxId) maxId = f.id;
      return withIds(putTable(state, { ...old, files: [...old.files, ...op.files] }), maxId);
    }
    case 'removeFiles': {
      const old = requireTable(state, op.table);
      const gone = new Set(op.files);
      const files: DataFile[] = [];
      for (const f of old.files) if (!gone.has(f.id)) files.push(f);
      if (files.length !== old.files.length - gone.size) {
        throw new PgError(SqlState.InternalError, `table ${op.table}: a file to remove is not in the table`);
      }
      let deletes = old.deletes;
      for (const id of gone) if (deletes.has(id)) deletes = mapDelete(deletes, id);
      return putTable(state, { ...old, files, deletes });
    }
    case 'addDeletes': {
      const old = requireTable(state, op.table);
      const file = old.files.find((f) => f.id === op.file);
      if (!file) throw new PgError(SqlState.InternalError, `table ${op.table}: no data file ${op.file}`);
      const prev: DeleteSet = old.deletes.get(op.file) ?? { positions: [], files: [], count: 0 };
      const next: DeleteSet = {
        positions: op.positions.length ? [...prev.positions, ...op.positions] : prev.positions,
        files: op.deleteFile ? [...prev.files, op.deleteFile] : prev.files,
        count: prev.count + op.positions.length + (op.deleteFile?.rows ?? 0),
      };
      if (next.count > file.rows) {
        throw new PgError(
          SqlState.InternalError,
          `table ${op.table}: more rows deleted than file ${op.file} holds`,
        );
      }
      return putTable(state, { ...old, deletes: mapSet(old.deletes, op.file, next) });
    }
    case 'appendInline': {
      const old = requireTable(state, op.table);
      let maxRow = 0;
      for (const r of op.batch.rows) if (r.id > maxRow) maxRow = r.id;
      const next = putTable(state, { ...old, inline: [...old.inline, op.batch] });
      return maxRow >= next.nextRowId ? { ...next, nextRowId: maxRow + 1 } : next;
    }
    case 'deleteInline': {
      const old = requireTable(state, op.table);
      const gone = new Set(op.ids);
      let found = 0;
      const inline = [];
      for (const b of old.inline) {
        const rows = b.rows.filter((r) => !gone.has(r.id));
        found += b.rows.length - rows.length;
        if (rows.length === b.rows.length) inline.push(b);
        else if (rows.length) inline.push({ ...b, rows });
      }
      if (found !== gone.size) {
        throw new PgError(SqlState.InternalError, `table ${op.table}: an inline row to delete is gone`);
      }
      return putTable(state, { ...old, inline });
    }
    case 'setStats': {
      // Statistics are advisory: a file compacted away meanwhile simply keeps no entry.
      const old = state.tables.get(op.table);
      if (!old) return state;
      const byId = new Map(op.files.map((f) => [f.id, f.stats]));
      const files = byId.size
        ? old.files.map((f) => {
            const stats = byId.get(f.id);
            return stats ? { ...f, stats } : f;
          })
        : old.files;
      return putTable(state, { ...old, files, stats: op.stats ?? old.stats });
    }
    case 'createView': {
      const v = op.view;
      requireSchema(state, v.schema);
      requireFreeName(state, v.schema, v.name);
      return withIds(
        {
          ...state,
          views: mapSet(state.views, v.id, v),
          relations: mapSet(state.relations, nameKey(v.schema, v.name), { kind: 'view', id: v.id }),
        },
        v.id,
      );
    }
    case 'dropView': {
      const v = state.views.get(op.view);
      if (!v) throw new PgError(SqlState.UndefinedTable, `view ${op.view} does not exist`);
      return {
        ...state,
        views: mapDelete(state.views, op.view),
        relations: mapDelete(state.relations, nameKey(v.schema, v.name)),
      };
    }
    case 'createSequence': {
      const s = op.sequence;
      requireSchema(state, s.schema);
      requireFreeName(state, s.schema, s.name);
      return withIds(
        {
          ...state,
          sequences: mapSet(state.sequences, s.id, { def: s, last: s.start, called: false }),
          relations: mapSet(state.relations, nameKey(s.schema, s.name), { kind: 'sequence', id: s.id }),
        },
        s.id,
      );
    }
    case 'alterSequence': {
      const old = state.sequences.get(op.sequence.id);
      if (!old) throw new PgError(SqlState.UndefinedTable, `sequence ${op.sequence.id} does not exist`);
      const s = op.sequence;
      let relations = state.relations;
      if (old.def.schema !== s.schema || old.def.name !== s.name) {
        requireSchema(state, s.schema);
        requireFreeName(state, s.schema, s.name);
        relations = mapSet(
          mapDelete(relations, nameKey(old.def.schema, old.def.name)),
          nameKey(s.schema, s.name),
          {
            kind: 'sequence',
            id: s.id,
          },
        );
      }
      return { ...state, relations, sequences: mapSet(state.sequences, s.id, { ...old, def: s }) };
    }
    case 'dropSequence': {
      const old = state.sequences.get(op.sequence);
      if (!old) throw new PgError(SqlState.UndefinedTable, `sequence ${op.sequence} does not exist`);
      return {
        ...state,
        sequences: mapDelete(state.sequences, op.sequence),
        relations: mapDelete(state.relations, nameKey(old.def.schema, old.def.name)),
      };
    }
    case 'setSequence': {
      const old = state.sequences.get(op.sequence);
      if (!old) throw new PgError(SqlState.UndefinedTable, `sequence ${op.sequence} does not exist`);
      return {
        ...state,
        sequences: mapSet(state.sequences, op.sequence, { ...old, last: op.last, called: op.called }),
      };
    }
    case 'createColocation':
      return withIds(
        { ...state, colocations: mapSet(state.colocations, op.group.id, op.group) },
        op.group.id,
      );
    case 'createType': {
      const key = nameKey(op.type.schema, op.type.name);
      if (!state.schemas.has(op.type.schema)) {
        throw new PgError(SqlState.InvalidSchemaName, `schema "${op.type.schema}" does not exist`);
      }
      if (state.types?.has(key)) {
        throw new PgError(SqlState.DuplicateObject, `type "${op.type.name}" already exists`);
      }
      return withIds({ ...state, types: mapSet(state.types ?? new Map(), key, op.type) }, op.type.id);
    }
    case 'dropType': {
      const key = nameKey(op.schema, op.name);
      if (!state.types?.has(key))
        throw new PgError(SqlState.UndefinedObject, `type "${op.name}" does not exist`);
      return { ...state, types: mapDelete(state.types, key) };
    }
  }
}

function requireSchema(state: CatalogState, name: string): void {
  if (!state.schemas.has(name))
    throw new PgError(SqlState.InvalidSchemaName, `schema "${name}" does not exist`);
}

function requireFreeName(state: CatalogState, schema: string, name: string): void {
  const taken: RelationRef | undefined = state.relations.get(nameKey(schema, name));
  if (taken) throw new PgError(SqlState.DuplicateTable, `relation "${name}" already exists`);
}

function requireTable(state: CatalogState, id: number): TableEntry {
  const t = state.tables.get(id);
  if (!t) throw new PgError(SqlState.UndefinedTable, `table ${id} does not exist`);
  return t;
}

function putTable(state: CatalogState, entry: TableEntry): CatalogState {
  return { ...state, tables: mapSet(state.tables, entry.def.id, entry) };
}

/** Keeps `nextId` above every id the log mentions, so recovery never hands out a used id again. */
function withIds(state: CatalogState, maxId: number): CatalogState {
  return maxId >= state.nextId ? { ...state, nextId: maxId + 1 } : state;
}

function mapSet<K, V>(map: ReadonlyMap<K, V>, key: K, value: V): ReadonlyMap<K, V> {
  const m = new Map(map);
  m.set(key, value);
  return m;
}

function mapDelete<K, V>(map: ReadonlyMap<K, V>, key: K): ReadonlyMap<K, V> {
  const m = new Map(map);
  m.delete(key);
  return m;
}
