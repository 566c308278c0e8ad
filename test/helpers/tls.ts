import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './run.js';

/** A self-signed certificate and its key as PEM files in a temp dir. */
export interface SelfSignedCert {
  /** Path of the certificate (also usable as the client's root certificate). */
  cert: string;
  /** Path of the unencrypted RSA key. */
  key: string;
  /** Deletes the temp dir. */
  remove(): void;
}

/**
 * Generates a one-day self-signed certificate for CN=localhost with openssl, for servers started with
 * `--tls-cert/--tls-key` and clients that verify them (`sslmode=verify-ca sslrootcert=<cert>`).
 */
export async function selfSignedCert(): Promise<SelfSignedCert> {
  const dir = mkdtempSync(join(tmpdir(), 'mallard-tls-'));
  const cert = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1'];
  const result = await run('openssl', [...args, '-keyout', key, '-out', cert], { timeoutMs: 60_000 }).catch(
    (e: Error) => {
      throw new Error(`${e.message}; install openssl with: apt-get install -y openssl`);
    },
  );
  if (result.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`openssl req failed (code ${result.code}):\n${result.stderr}`);
  }
  return { cert, key, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
