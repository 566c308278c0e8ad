import { arch } from 'node:process';
import { version as duckdbVersion } from '@duckdb/node-api';

/** Mallard's own version; test/sql/serverVersion.test.ts pins it to package.json. */
export const MALLARD_VERSION = '0.1.0';

/**
 * The PostgreSQL version Mallard speaks as, in `server_version`. A clean number: pgjdbc, asyncpg and
 * psql parse it to pick features, so the Mallard name goes only into `version()`.
 */
export const PG_SERVER_VERSION = '15.0';

/** `server_version_num`, as PostgreSQL computes it (major * 10000 + minor). */
export const PG_SERVER_VERSION_NUM = '150000';

function platform(): string {
  if (arch === 'arm64') return 'aarch64-unknown-linux-gnu';
  if (arch === 'x64') return 'x86_64-pc-linux-gnu';
  return `${arch}-unknown-linux-gnu`;
}

/**
 * What `SELECT version()` returns. It starts `PostgreSQL <version> ` because clients parse it:
 * SQLAlchemy matches `PostgreSQL (\d+)\.?(\d+)?` and TypeORM `^PostgreSQL ([\d.]+) .*$`.
 */
export const VERSION_STRING = `PostgreSQL ${PG_SERVER_VERSION} (Mallard ${MALLARD_VERSION}) on ${platform()}, compiled by DuckDB ${duckdbVersion()}, 64-bit`;
