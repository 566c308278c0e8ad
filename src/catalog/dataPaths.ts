import { rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TABLES_DIR } from '../../protocol/cluster/messages.js';
import type { CatalogState } from './CatalogModel.js';

/**
 * Layout of the data directory, relative to its root (paths in the catalog are '/'-separated and
 * relative, so a worker that mounts the directory elsewhere resolves them against its own root):
 *
 *   catalog/checkpoint-<version>.json, catalog/log-<version>.json   the catalog (CatalogStore)
 *   tables/<table id>/<write id>/*.parquet                           one directory per write
 *   staging/*                                                         scratch files of statements in
 *                                                                     progress (COPY data), emptied at open
 */
export { TABLES_DIR };

/** Scratch space of statements in progress; nothing in it outlives the process that wrote it. */
export const STAGING_DIR = 'staging';

export function tableDir(tableId: number): string {
  return `${TABLES_DIR}/${tableId}`;
}

/** Every data and delete file a state references. */
export function referencedPaths(state: CatalogState): Set<string> {
  const live = new Set<string>();
  for (const t of state.tables.values()) {
    for (const f of t.files) live.add(f.path);
    for (const d of t.deletes.values()) for (const f of d.files) live.add(f.path);
  }
  return live;
}

/** The write directory (`tables/<table>/<write>`) a file path lies in. */
export function writeDirOf(path: string): string {
  return path.split('/').slice(0, 3).join('/');
}

/** Removes a file, then its directories up to (not including) `tables/<table>` while they are empty. */
export async function removeFileAndEmptyDirs(dataDir: string, path: string): Promise<boolean> {
  let removed = true;
  await unlink(join(dataDir, path)).catch(() => {
    removed = false;
  });
  const parts = path.split('/');
  for (let n = parts.length - 1; n > 2; n--) {
    try {
      await rmdir(join(dataDir, ...parts.slice(0, n)));
    } catch {
      break;
    }
  }
  return removed;
}
