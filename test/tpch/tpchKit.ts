import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunResult, run } from '../helpers/run.js';

// dist/test/tpch/tpchKit.js → the repo root, where bin/mallard.js lives.
const BIN = fileURLToPath(new URL('../../../bin/mallard.js', import.meta.url));

/**
 * Where generated TPC-H files are kept between runs, one directory per scale factor (the generator is
 * deterministic, and `mallard tpch --reuse` keeps a complete earlier generation). Created if missing, so a
 * server can be given it as --readable-dir before the files are written.
 */
export function tpchCacheDir(sf: number): string {
  const dir = join(tmpdir(), 'mallard-tpch', `sf-${sf}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Runs `mallard tpch ...args` to completion (10 minutes at most) and returns what it printed. */
export function mallardTpch(args: readonly string[], timeoutMs = 600_000): Promise<RunResult> {
  return run(process.execPath, [BIN, 'tpch', ...args], { timeoutMs });
}
