/** Everything the coordinator's front door needs to start; filled from flags, MALLARD_* variables and defaults. */
export type AuthMethod = 'trust' | 'password' | 'md5' | 'scram-sha-256';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  logLevel: string;
  /** PEM paths; when both are set, SSLRequest is answered 'S' and the connection upgrades to TLS. */
  tlsCert?: string;
  tlsKey?: string;
  auth: AuthMethod;
  /** user name → cleartext password. Empty under trust. */
  users: Map<string, string>;
  /** Permit listening on a non-loopback address without credentials (trust). */
  allowTrustRemote: boolean;
  maxConnections: number;
  startupTimeoutMs: number;
  /** Directories clients may read external files (read_csv, read_parquet) from, besides the data directory. */
  readableDirs: string[];
  /**
   * Where tables live: `parquet` (the default), the transactional catalog of Parquet files that workers
   * scan (src/catalog, src/storage, src/tables); or `duckdb`, the coordinator's own database file, where
   * every query runs on the coordinator.
   */
  tableStorage: 'duckdb' | 'parquet';
  /**
   * Queries whose catalog tables hold at most this many rows together run on the coordinator; above it
   * the planner distributes them (planner default when absent).
   */
  localMaxRows?: number;
  /** Whether joins of two large tables may shuffle (`auto`: when the workers bring more cores). */
  shuffle?: 'auto' | 'on' | 'off';
  /** COPY FROM STDIN is loaded in parts of this many bytes, by the workers in parallel (storage default). */
  loadPartBytes?: number;
}

/** The default port: PostgreSQL's 5432 plus 68, clear of a local PostgreSQL and of the common 5433 second cluster. */
export const DEFAULT_PORT = 5500;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
