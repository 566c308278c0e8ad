import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Suffix of a file being written; recovery removes any it finds, since no rename ever happened. */
export const TEMP_SUFFIX = '.tmp';

/** fsync a file, so its bytes survive a power loss before anything that references it is written. */
export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a directory, which makes the names created, renamed or removed in it durable (Linux). */
export async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `data` to `path` so that after a crash the file is either absent or complete: write to a
 * temporary name, fsync it, rename over `path`, fsync the directory.
 */
export async function writeFileDurably(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${randomUUID()}${TEMP_SUFFIX}`);
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
  await fsyncDir(dir);
}

/** mkdir -p, then fsync the parent of every directory it created so the new names are durable. */
export async function mkdirDurably(path: string): Promise<void> {
  const first = await mkdir(path, { recursive: true });
  if (first === undefined) return;
  // `first` is the topmost directory created; every one from it down to `path` has a new entry.
  let dir = path;
  const parents: string[] = [];
  while (dir.length >= first.length) {
    parents.push(dirname(dir));
    if (dir === first) break;
    dir = dirname(dir);
  }
  for (const p of parents) await fsyncDir(p);
}
