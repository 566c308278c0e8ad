import { spawnSync } from 'node:child_process';
import {
  chownSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './freePort.js';
import { run } from './run.js';

/** A throwaway PostgreSQL 15 cluster: the reference peer that Mallard is compared against. */
export interface PgServer {
  host: string;
  port: number;
  user: string;
  database: string;
  /** `postgres://user[:password]@host:port/database` */
  url: string;
  /** Stops the cluster (immediate mode) and deletes its directory. Idempotent. */
  stop(): Promise<void>;
}

const PG_BIN = '/usr/lib/postgresql/15/bin';
const INSTALL_HINT =
  'PostgreSQL 15 server binaries are missing; install them with: apt-get install -y postgresql';

// initdb and postgres refuse to run as root, so as root every server command runs as the `postgres` OS user.
const asRoot = process.getuid?.() === 0;
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

// Clusters still running when the test process exits (a crashed or forgotten test) are stopped here,
// synchronously, so no postgres outlives the suite.
const running = new Set<string>();
process.on('exit', () => {
  for (const dir of running) {
    const [cmd, args] = asPostgres(join(PG_BIN, 'pg_ctl'), [
      'stop',
      '-m',
      'immediate',
      '-D',
      join(dir, 'data'),
    ]);
    spawnSync(cmd, args, { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Options for {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Require this password (SCRAM-SHA-256) for the `postgres` user over TCP. */
  password?: string;
  /** PEM files (paths) to serve TLS with; without them SSL is off and an SSLRequest is answered `N`. */
  tls?: { cert: string; key: string };
}

/**
 * Starts a fresh PostgreSQL 15 on a free 127.0.0.1 port with its data and socket directory in a new temp
 * dir. The superuser is `postgres`, the database `postgres`. Without a password every connection is
 * trusted; with one, TCP connections must authenticate with SCRAM-SHA-256. Without `tls`, SSL is off and
 * the server answers `N` to an SSLRequest, like a Mallard started without a certificate.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PgServer> {
  for (const bin of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(join(PG_BIN, bin))) throw new Error(`${INSTALL_HINT} (no ${join(PG_BIN, bin)})`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'mallard-pg-'));
  const data = join(dir, 'data');
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`there is no \`postgres\` OS user to run the server as. ${INSTALL_HINT}`);
    }
    chownSync(dir, uid, gid);
  }
  const fail = async (what: string, detail: string): Promise<never> => {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`startPostgres: ${what}\n${detail}`);
  };

  const initArgs = ['-D', data, '-U', 'postgres', '--encoding=UTF8', '--locale=C', '--no-sync'];
  if (options.password !== undefined) {
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${options.password}\n`, { mode: 0o644 });
    initArgs.push(`--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256');
  } else {
    initArgs.push('--auth=trust');
  }
  const init = await run(...asPostgres(join(PG_BIN, 'initdb'), initArgs), { timeoutMs: 120_000 });
  if (init.code !== 0) await fail('initdb failed', init.stdout + init.stderr);

  // fsync off: the cluster is thrown away, and durability only costs time on a shared machine.
  const settings = [
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = '${dir}'`,
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    'max_connections = 100',
    "password_encryption = 'scram-sha-256'",
  ];
  if (options.tls) {
    // The server insists that its key is owned by its own user and not readable by others.
    copyFileSync(options.tls.cert, join(data, 'server.crt'));
    copyFileSync(options.tls.key, join(data, 'server.key'));
    settings.push('ssl = on', "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'");
  }

  // Another process can take the free port before postgres binds it; then try another one.
  const log = join(dir, 'server.log');
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    writeFileSync(join(data, 'postgresql.auto.conf'), `port = ${port}\n${settings.join('\n')}\n`);
    if (asRoot) spawnSync('chown', ['-R', 'postgres:postgres', dir]);
    if (options.tls) spawnSync('chmod', ['600', join(data, 'server.key')]);
    const pgCtl = asPostgres(join(PG_BIN, 'pg_ctl'), ['start', '-w', '-t', '60', '-D', data, '-l', log]);
    const start = await run(...pgCtl, { timeoutMs: 90_000 });
    if (start.code === 0) break;
    const logText = existsSync(log) ? readFileSync(log, 'utf8') : '';
    if (attempt < 3 && logText.includes('could not bind')) continue;
    await fail('pg_ctl start failed', start.stdout + start.stderr + logText);
  }
  running.add(dir);

  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}`;
  let stopped = false;
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    url: `postgres://postgres${auth}@127.0.0.1:${port}/postgres`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await run(...asPostgres(join(PG_BIN, 'pg_ctl'), ['stop', '-m', 'immediate', '-D', data]), {
        timeoutMs: 30_000,
      });
      running.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
