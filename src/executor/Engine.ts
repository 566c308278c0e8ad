import { mkdir } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { LocalExecutor } from './LocalExecutor.js';
import { Sandbox } from './Sandbox.js';
import { loadSqlLexer } from './scanStatement.js';
import { sqlString } from './sqlString.js';

/** Where the coordinator keeps its database and what SQL may read. */
export interface EngineOptions {
  /** Directory of the database (`mallard.duckdb`, its WAL and spill files); created when missing. */
  readonly dataDir: string;
  /**
   * Directories whose files SQL may read (read_csv, read_parquet, COPY FROM). None may contain the data
   * directory: DuckDB would then let SQL read the database file itself.
   */
  readonly readableDirs?: readonly string[];
  /** DuckDB worker threads; DuckDB's default is one per core. */
  readonly threads?: number;
  /** DuckDB's memory_limit, e.g. `4GB`; DuckDB's default is 80% of RAM. */
  readonly memoryLimit?: string;
  /** DuckDB's TimeZone for new sessions, `UTC` by default; a session changes its own with setTimeZone. */
  readonly timeZone?: string;
  /**
   * Statements run once before the sandbox closes, e.g. the PostgreSQL catalog compatibility objects
   * (src/sql/compatSchema.ts), which ATTACH an in-memory database that sessions may not attach themselves.
   */
  readonly setupSql?: readonly string[];
}

/** The file name of the coordinator's database inside the data directory. */
export const DATABASE_FILE = 'mallard.duckdb';

/**
 * The coordinator's DuckDB: one instance persisted in the data directory, one connection per session.
 *
 * Sandbox: DuckDB refuses every file outside `readableDirs` (`enable_external_access = false` with
 * `allowed_directories`), and once external access is off it refuses to change that, the allowed
 * paths, the temp directory or extension signing. The Sandbox refuses the rest before DuckDB runs a
 * statement: settings (SET, RESET), COPY TO, EXPORT, ATTACH, extensions, side-effect PRAGMAs and
 * functions, and the database's own files.
 *
 * Two departures from a plain "allow the data directory, then lock the configuration":
 * - The data directory is not readable by SQL: through it DuckDB would list and read the database
 *   file (`read_blob('<dataDir>/*')`).
 * - `lock_configuration` stays off: it also locks the per-session TimeZone (so timestamptz casts could
 *   not follow the client's zone), and it does not stop what matters most anyway (it lets
 *   `CALL enable_logging(storage = 'file', ...)` through, which breaks every later query). Settings are
 *   refused by statement type instead, which DuckDB's own parser decides.
 */
export class Engine {
  private readonly sessions = new Set<LocalExecutor>();

  private constructor(
    private readonly instance: DuckDBInstance,
    /** Absolute path of the database file. */
    readonly databasePath: string,
    private readonly sandbox: Sandbox,
  ) {}

  /** Opens (or creates) the database and closes the sandbox before any session exists. */
  static async open(options: EngineOptions): Promise<Engine> {
    const dataDir = resolve(options.dataDir);
    const readableDirs = (options.readableDirs ?? []).map((dir) => resolve(dir));
    for (const dir of readableDirs) {
      if (dataDir === dir || dataDir.startsWith(dir.endsWith(sep) ? dir : dir + sep)) {
        throw new Error(`readable directory ${dir} contains the data directory ${dataDir}`);
      }
    }
    await mkdir(dataDir, { recursive: true });
    await loadSqlLexer();
    const databasePath = join(dataDir, DATABASE_FILE);
    const config: Record<string, string> = {
      // Structured errors: the SQLSTATE mapping reads the error type and position from fields.
      errors_as_json: 'true',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    };
    if (options.threads !== undefined) config.threads = String(options.threads);
    if (options.memoryLimit !== undefined) config.memory_limit = options.memoryLimit;
    const instance = await DuckDBInstance.create(databasePath, config);
    try {
      const setup = await instance.connect();
      try {
        // The order matters: DuckDB fixes the allowed directories once external access is off.
        await setup.run(`SET GLOBAL TimeZone = ${sqlString(options.timeZone ?? 'UTC')}`);
        // PostgreSQL semantics: integer / integer truncates (DuckDB's default is float division).
        await setup.run('SET GLOBAL integer_division = true');
        // DuckDB has no jsonb; an alias of JSON makes `::jsonb` and jsonb columns work (reported as json).
        const jsonb = await setup.runAndReadAll(
          "SELECT count(*) FROM duckdb_types() WHERE type_name = 'jsonb' AND database_name = current_database()",
        );
        if (Number(jsonb.getRows()[0]![0]) === 0) await setup.run('CREATE TYPE jsonb AS JSON');
        for (const sql of options.setupSql ?? []) await setup.run(sql);
        await setup.run(`SET allowed_directories = [${readableDirs.map(sqlString).join(', ')}]`);
        await setup.run('SET enable_external_access = false');
        const pragmas = await setup.runAndReadAll(
          "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'pragma'",
        );
        const pragmaNames = new Set(pragmas.getRows().map((row) => String(row[0])));
        return new Engine(instance, databasePath, new Sandbox([basename(databasePath)], pragmaNames));
      } finally {
        setup.closeSync();
      }
    } catch (error) {
      instance.closeSync();
      throw error;
    }
  }

  /** A new session with its own DuckDB connection (and so its own transaction). */
  async createSession(): Promise<LocalExecutor> {
    const connection = await this.instance.connect();
    const session = new LocalExecutor(connection, this.sandbox, (closed) => this.sessions.delete(closed));
    this.sessions.add(session);
    return session;
  }

  /** A connection of the coordinator's own (the planner binds on one), outside any session. */
  connect(): Promise<DuckDBConnection> {
    return this.instance.connect();
  }

  /** Closes every session, then the database (DuckDB checkpoints on close). */
  async close(): Promise<void> {
    await Promise.all([...this.sessions].map((session) => session.close()));
    this.instance.closeSync();
  }
}
