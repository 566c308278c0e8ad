import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type AuthMethod, DEFAULT_PORT, type ServerConfig } from '../config.js';
import { createLogger } from '../log.js';
import { tpchMain } from '../tpch/main.js';
import { startCoordinator } from './startCoordinator.js';

const VERSION = '0.1.0';

function parseIntArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `name:password` pairs from --user flags and from a file with one pair per line (# comments allowed). */
function loadUsers(pairs: string[], file: string | undefined): Map<string, string> {
  const users = new Map<string, string>();
  const lines = [...pairs];
  if (file) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const t = line.trim();
      if (t && !t.startsWith('#')) lines.push(t);
    }
  }
  for (const pair of lines) {
    const i = pair.indexOf(':');
    if (i <= 0) throw new InvalidArgumentError(`user entries are name:password, got "${pair}"`);
    users.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return users;
}

const program = new Command('mallard')
  .description('Mallard: a distributed SQL engine on DuckDB that speaks the PostgreSQL wire protocol')
  .version(VERSION)
  .addOption(new Option('--host <host>', 'address to listen on').env('MALLARD_HOST').default('127.0.0.1'))
  .addOption(
    new Option('-p, --port <port>', 'port to listen on (0 picks a free one)')
      .env('MALLARD_PORT')
      .default(DEFAULT_PORT)
      .argParser(parseIntArg),
  )
  .addOption(new Option('-D, --data <dir>', 'data directory').env('MALLARD_DATA').default('./mallard-data'))
  .addOption(
    new Option('--log-level <level>', 'log level')
      .env('MALLARD_LOG_LEVEL')
      .choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
      .default('info'),
  )
  .addOption(new Option('--tls-cert <file>', 'TLS certificate (PEM); enables SSL').env('MALLARD_TLS_CERT'))
  .addOption(new Option('--tls-key <file>', 'TLS private key (PEM)').env('MALLARD_TLS_KEY'))
  .addOption(
    new Option(
      '--auth <method>',
      'authentication method (default: trust on loopback, scram-sha-256 otherwise)',
    )
      .env('MALLARD_AUTH')
      .choices(['trust', 'password', 'md5', 'scram-sha-256']),
  )
  .addOption(
    new Option('--user <name:password>', 'a user that may log in (repeatable)')
      .argParser(collect)
      .default([]),
  )
  .addOption(new Option('--users-file <file>', 'file of name:password lines').env('MALLARD_USERS_FILE'))
  .addOption(
    new Option('--allow-trust-remote', 'allow a non-loopback listener without passwords').env(
      'MALLARD_ALLOW_TRUST_REMOTE',
    ),
  )
  .addOption(
    new Option('--max-connections <n>', 'maximum concurrent client connections')
      .env('MALLARD_MAX_CONNECTIONS')
      .default(100)
      .argParser(parseIntArg),
  )
  .addOption(
    new Option('--startup-timeout <ms>', 'time a client has to finish startup and authentication')
      .env('MALLARD_STARTUP_TIMEOUT')
      .default(10_000)
      .argParser(parseIntArg),
  )
  .addOption(
    new Option('--readable-dir <dir>', 'a directory clients may read files from (repeatable)')
      .argParser(collect)
      .default([]),
  )
  .addOption(
    new Option(
      '--table-storage <kind>',
      'where tables live (parquet: the catalog of Parquet files; experimental)',
    )
      .env('MALLARD_TABLE_STORAGE')
      .choices(['duckdb', 'parquet'])
      .default('duckdb'),
  )
  .action(async (opts) => {
    const users = loadUsers(opts.user, opts.usersFile);
    const auth: AuthMethod = opts.auth ?? (users.size > 0 ? 'scram-sha-256' : 'trust');
    const config: ServerConfig = {
      host: opts.host,
      port: opts.port,
      dataDir: resolve(opts.data),
      logLevel: opts.logLevel,
      tlsCert: opts.tlsCert,
      tlsKey: opts.tlsKey,
      auth,
      users,
      allowTrustRemote: Boolean(opts.allowTrustRemote),
      maxConnections: opts.maxConnections,
      startupTimeoutMs: opts.startupTimeout,
      readableDirs: opts.readableDir.map((d: string) => resolve(d)),
      tableStorage: opts.tableStorage,
    };
    const log = createLogger(config.logLevel);
    await startCoordinator(config, log, VERSION);
  });

program
  .command('tpch')
  .description('generate the eight TPC-H tables as Parquet files (deterministic for a scale factor)')
  .addOption(
    new Option('--sf <factor>', 'scale factor (1 = about 6 million lineitem rows)')
      .default(1)
      .argParser((v) => {
        const n = Number(v);
        if (!(n > 0)) throw new InvalidArgumentError('expected a positive number');
        return n;
      }),
  )
  .requiredOption('--out <dir>', 'directory to write <table>.parquet into')
  .action(async (opts: { sf: number; out: string }) => {
    await tpchMain({ sf: opts.sf, out: resolve(opts.out) });
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`mallard: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
