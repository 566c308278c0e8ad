// System packages the end-to-end suites need. Installed with apt-get when missing and running as root;
// otherwise the run fails loudly, saying what to install.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const pyHas = (mod) =>
  spawnSync('/usr/bin/python3', ['-c', `import ${mod}`], { stdio: 'ignore' }).status === 0;

const CHECKS = [
  { pkg: 'nats-server', ok: () => has('nats-server') || existsSync('/usr/sbin/nats-server') },
  { pkg: 'postgresql-client', ok: () => has('psql') },
  { pkg: 'postgresql', ok: () => existsSync('/usr/lib/postgresql/15/bin/initdb') },
  { pkg: 'postgresql-contrib', ok: () => has('pgbench') },
  { pkg: 'python3-psycopg2', ok: () => pyHas('psycopg2') },
  { pkg: 'python3-psycopg', ok: () => pyHas('psycopg') },
  { pkg: 'python3-asyncpg', ok: () => pyHas('asyncpg') },
  { pkg: 'libpostgresql-jdbc-java', ok: () => existsSync('/usr/share/java/postgresql.jar') },
  { pkg: 'openjdk-17-jdk-headless', ok: () => has('javac') },
];

export function ensurePrerequisites() {
  let missing = CHECKS.filter((c) => !c.ok()).map((c) => c.pkg);
  if (missing.length === 0) return { ok: true };
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    try {
      console.log(`installing missing system packages: ${missing.join(' ')}`);
      execSync('apt-get update -qq', { stdio: 'inherit' });
      execSync(`DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(' ')}`, {
        stdio: 'inherit',
      });
    } catch {
      // fall through to the re-check below, which names what is still missing
    }
    missing = CHECKS.filter((c) => !c.ok()).map((c) => c.pkg);
  }
  if (missing.length === 0) return { ok: true };
  const message = `missing system packages: ${missing.join(' ')}; install them with: apt-get install -y ${missing.join(' ')}`;
  console.error(message);
  return { ok: false, message };
}
