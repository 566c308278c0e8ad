import pg from 'pg';
import { type PgServer, startPostgres } from '../../../helpers/postgres.js';

/** How to get the oracle when it is missing; printed by the failing test. */
export const PG_INSTALL_HINT =
  'PostgreSQL 15 is needed as the reference for these tests: apt-get install -y postgresql (binaries in /usr/lib/postgresql/15/bin)';

/** Session settings an expression is evaluated under. */
export interface OracleSettings {
  readonly timeZone?: string;
  readonly extraFloatDigits?: number;
}

/**
 * A throwaway PostgreSQL 15 used as the source of truth: what it prints for an expression (its type's
 * output function, byte for byte) and what its send function produces.
 */
export interface PgOracle {
  /** PostgreSQL's text output of `SELECT expr`, or null for NULL. */
  text(expr: string, settings?: OracleSettings): Promise<string | null>;
  /** PostgreSQL's binary send format of `SELECT expr` (the type's typsend function). */
  binary(expr: string, settings?: OracleSettings): Promise<Buffer>;
  /** Rows of raw text values. */
  rows(sql: string, params?: unknown[], settings?: OracleSettings): Promise<(string | null)[][]>;
  /** The error PostgreSQL raises for `sql`, or null when it succeeds. */
  error(
    sql: string,
    settings?: OracleSettings,
  ): Promise<{ code: string; message: string; detail?: string } | null>;
  close(): Promise<void>;
}

/** Either a running oracle, or why there is none (with the install hint). */
export type OracleStart = { oracle: PgOracle; problem: null } | { oracle: null; problem: string };

// Every value comes back exactly as the server wrote it: no parsing on the client side.
const raw = { getTypeParser: () => (value: string) => value };

/** Starts PostgreSQL 15 if it is installed. Never throws: the caller's test reports the problem. */
export async function startPgOracle(): Promise<OracleStart> {
  let server: PgServer;
  try {
    server = await startPostgres();
  } catch (e) {
    return { oracle: null, problem: `${(e as Error).message}\n${PG_INSTALL_HINT}` };
  }
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.user,
    database: server.database,
    types: raw,
  });
  try {
    await client.connect();
  } catch (e) {
    await server.stop();
    return { oracle: null, problem: `cannot connect to the PostgreSQL oracle: ${(e as Error).message}` };
  }
  let current = { timeZone: 'UTC', extraFloatDigits: 1 };
  await client.query(
    `SET TimeZone = 'UTC'; SET extra_float_digits = 1; SET IntervalStyle = postgres; SET DateStyle = 'ISO, MDY'`,
  );

  const apply = async (settings: OracleSettings = {}): Promise<void> => {
    const wanted = { timeZone: settings.timeZone ?? 'UTC', extraFloatDigits: settings.extraFloatDigits ?? 1 };
    if (wanted.timeZone !== current.timeZone) {
      await client.query(`SET TimeZone = '${wanted.timeZone.replaceAll("'", "''")}'`);
    }
    if (wanted.extraFloatDigits !== current.extraFloatDigits) {
      await client.query(`SET extra_float_digits = ${wanted.extraFloatDigits}`);
    }
    current = wanted;
  };

  const oracle: PgOracle = {
    async text(expr, settings) {
      await apply(settings);
      const r = await client.query({ text: `SELECT ${expr}`, rowMode: 'array' });
      return (r.rows[0] as (string | null)[])[0] ?? null;
    },
    async binary(expr, settings) {
      await apply(settings);
      const send = await client.query({
        text: `SELECT t.typsend::regproc::text FROM pg_type t WHERE t.oid = pg_typeof(${expr})`,
        rowMode: 'array',
      });
      const fn = (send.rows[0] as string[])[0]!;
      const r = await client.query({ text: `SELECT ${fn}(${expr})`, rowMode: 'array' });
      const hex = (r.rows[0] as string[])[0]!;
      return Buffer.from(hex.slice(2), 'hex');
    },
    async rows(sql, params, settings) {
      await apply(settings);
      const r = await client.query({ text: sql, values: params, rowMode: 'array' });
      return r.rows as (string | null)[][];
    },
    async error(sql, settings) {
      await apply(settings);
      try {
        await client.query(sql);
        return null;
      } catch (e) {
        const err = e as pg.DatabaseError;
        return { code: err.code ?? '', message: err.message, ...(err.detail ? { detail: err.detail } : {}) };
      }
    },
    async close() {
      await client.end().catch(() => {});
      await server.stop();
    },
  };
  return { oracle, problem: null };
}
