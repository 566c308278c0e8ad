// Which server the end-to-end suites talk to. The default target is Mallard; set
// MALLARD_TEST_TARGET=postgres to run the same suites against a throwaway PostgreSQL 15 instead. That is
// how a suite is validated before Mallard can pass it: whatever PostgreSQL does is the expected answer.
// Differential checks always compare against PostgreSQL, whichever target is selected.
import { type MallardServer, startMallard } from './mallard.js';
import { type PgServer, startPostgres } from './postgres.js';

export type TargetName = 'mallard' | 'postgres';

/** Where to connect: enough for any client (a URL for drivers, host/port/user/database for psql and JDBC). */
export interface Target {
  name: TargetName;
  url: string;
  host: string;
  port: number;
  user: string;
  database: string;
}

/** A target started by {@link startTarget}; the caller stops it. */
export interface RunningTarget extends Target {
  stop(): Promise<void>;
  /** The Mallard process (its logs, pid, memory), when name is 'mallard'. */
  mallard?: MallardServer;
  /** The PostgreSQL cluster, when name is 'postgres'. */
  postgres?: PgServer;
}

/** Options passed through to {@link startMallard} or {@link startPostgres}. */
export interface StartTargetOptions {
  /** Extra Mallard command-line arguments, e.g. `['--tls-cert', cert, '--tls-key', key]`. */
  mallardArgs?: string[];
  mallardEnv?: Record<string, string>;
  /** Password for the PostgreSQL superuser (SCRAM over TCP). */
  postgresPassword?: string;
  /**
   * PEM files (paths) to serve TLS with: `--tls-cert/--tls-key` for Mallard, `ssl = on` for PostgreSQL.
   */
  tls?: { cert: string; key: string };
}

/** The target picked by MALLARD_TEST_TARGET: 'postgres' when set to that, otherwise 'mallard'. */
export function selectedTarget(): TargetName {
  const value = process.env['MALLARD_TEST_TARGET'];
  if (value === undefined || value === '' || value === 'mallard') return 'mallard';
  if (value === 'postgres') return 'postgres';
  throw new Error(`MALLARD_TEST_TARGET must be 'mallard' or 'postgres', not '${value}'`);
}

/** Starts one target, by default the selected one. */
export async function startTarget(
  name: TargetName = selectedTarget(),
  options: StartTargetOptions = {},
): Promise<RunningTarget> {
  if (name === 'postgres') {
    const pg = await startPostgres({ password: options.postgresPassword, tls: options.tls });
    return {
      name,
      url: pg.url,
      host: pg.host,
      port: pg.port,
      user: pg.user,
      database: pg.database,
      stop: () => pg.stop(),
      postgres: pg,
    };
  }
  const tlsArgs = options.tls ? ['--tls-cert', options.tls.cert, '--tls-key', options.tls.key] : [];
  const m = await startMallard({
    args: [...tlsArgs, ...(options.mallardArgs ?? [])],
    env: options.mallardEnv,
  });
  return {
    name,
    url: m.url,
    host: m.host,
    port: m.port,
    user: 'mallard',
    database: 'mallard',
    stop: () => m.stop(),
    mallard: m,
  };
}

/**
 * Runs `fn` against each target in turn — Mallard (unless MALLARD_TEST_TARGET=postgres), then PostgreSQL —
 * starting each just before and stopping it after, even when `fn` throws. For differential cases: collect
 * what `fn` observes per `target.name` and compare.
 */
export async function withTargets(
  fn: (target: Target) => Promise<void>,
  options: StartTargetOptions = {},
): Promise<void> {
  const names: TargetName[] = selectedTarget() === 'postgres' ? ['postgres'] : ['mallard', 'postgres'];
  for (const name of names) {
    const target = await startTarget(name, options);
    try {
      await fn(target);
    } finally {
      await target.stop();
    }
  }
}

/**
 * A query that runs for a minute or more unless cancelled, in the target's dialect: DuckDB has no
 * pg_sleep, so on Mallard it hashes a billion generated rows (CPU-bound, and interruptible between
 * chunks). For cancel and statement_timeout cases; it returns one row with one text column.
 */
export function longRunningQuery(name: TargetName): string {
  return name === 'postgres'
    ? 'SELECT pg_sleep(120)::text AS slow'
    : 'SELECT max(md5(i::varchar)) AS slow FROM range(1000000000) t(i)';
}
