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
   * Where tables live: `duckdb`, the coordinator's own database file (the default for now), or
   * `parquet`, the transactional catalog of Parquet files that workers can scan (src/catalog,
   * src/storage, src/tables), which becomes the default once it is complete.
   */
  tableStorage: 'duckdb' | 'parquet';
}

/** The default port: PostgreSQL's 5432 plus 68, clear of a local PostgreSQL and of the common 5433 second cluster. */
export const DEFAULT_PORT = 5500;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
