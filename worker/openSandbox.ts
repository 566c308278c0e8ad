import { mkdirSync } from 'node:fs';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { quoteLiteral, TASK_DIALECT_SQL } from '../protocol/cluster/taskDialect.js';

export interface SandboxOptions {
  /** The shared data directory: where task SQL reads and writes table files. */
  dataDir: string;
  /** Directories of external files task SQL may also read (the coordinator's readable directories). */
  readableDirs?: readonly string[];
  /** Private scratch directory for DuckDB's spill files. */
  tempDir: string;
  threads: number;
  /** DuckDB memory limit, e.g. `2GB`; DuckDB's default (80% of RAM) when absent. */
  memoryLimit?: string;
}

export interface Sandbox {
  instance: DuckDBInstance;
  /** The memory limit DuckDB settled on, in bytes. */
  memoryLimitBytes: number;
}

/**
 * One DuckDB instance, sandboxed like the coordinator's: files only inside the data directory (plus the
 * worker's own spill directory), no extension installs or loads, and the configuration locked so task SQL
 * cannot undo any of it. ATTACH is refused one level up: a worker runs only single SELECT statements.
 */
export async function openSandbox(options: SandboxOptions): Promise<Sandbox> {
  mkdirSync(options.tempDir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(options.threads),
    temp_directory: options.tempDir,
    ...(options.memoryLimit ? { memory_limit: options.memoryLimit } : {}),
  });
  const setup = await instance.connect();
  try {
    // The coordinator's dialect (division macros, integer division) before the lock-down: ATTACH of the
    // in-memory macro database is refused once external access is off.
    for (const sql of TASK_DIALECT_SQL) await setup.run(sql);
    const dirs = [options.dataDir, options.tempDir, ...(options.readableDirs ?? [])]
      .map(quoteLiteral)
      .join(', ');
    await setup.run(`SET allowed_directories = [${dirs}]`);
    await setup.run('SET enable_external_access = false');
    await setup.run('SET autoinstall_known_extensions = false');
    await setup.run('SET autoload_known_extensions = false');
    await setup.run('SET allow_community_extensions = false');
    await setup.run('SET allow_persistent_secrets = false');
    // Table files are written once and never changed in place, so their footers can be kept between
    // tasks: a task then opens each file without parsing its metadata again.
    await setup.run('SET parquet_metadata_cache = true');
    await setup.run('SET lock_configuration = true');
    const limit = await setup.runAndReadAll("SELECT current_setting('memory_limit')");
    return { instance, memoryLimitBytes: parseByteSize(String(limit.getRows()[0]?.[0] ?? '0')) };
  } finally {
    setup.closeSync();
  }
}

const UNITS: Record<string, number> = {
  b: 1,
  byte: 1,
  bytes: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Parses DuckDB's rendering of a size, such as `488.2 MiB` or `1.0 GB`; 0 when it cannot. */
export function parseByteSize(text: string): number {
  const [amount, unit = 'b'] = text.trim().split(/\s+/);
  const n = Number(amount);
  const scale = UNITS[unit.toLowerCase()];
  return Number.isFinite(n) && scale !== undefined ? Math.round(n * scale) : 0;
}

/** Bytes DuckDB's buffer manager holds now, for the heartbeat. */
export async function memoryInUse(connection: DuckDBConnection): Promise<number> {
  const reader = await connection.runAndReadAll(
    'SELECT sum(memory_usage_bytes)::BIGINT FROM duckdb_memory()',
  );
  return Number(reader.getRows()[0]?.[0] ?? 0);
}
