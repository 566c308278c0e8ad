import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { workerMain } from '../../worker/main.js';
import { type AuthMethod, DEFAULT_PORT, type ServerConfig } from '../config.js';
import { createLogger } from '../log.js';
import {
  loadTpch,
  markTpchFiles,
  TPCH_LAYOUTS,
  type TpchLayout,
  tpchFilesReady,
  unmarkTpchFiles,
} from '../tpch/load.js';
import { tpchMain } from '../tpch/main.js';
import { startLocalCluster } from './localCluster.js';
import { addNatsOptions, type NatsFlags, natsSettings, natsTls } from './natsOptions.js';
import { startCoordinator } from './startCoordinator.js';

const VERSION = '0.1.0';

function parseIntArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
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
      'where tables live: parquet, the catalog of Parquet files the workers scan; duckdb, the coordinator-only database file',
    )
      .env('MALLARD_TABLE_STORAGE')
      .choices(['duckdb', 'parquet'])
      .default('parquet'),
  )
  .addOption(
    new Option(
      '--local-max-rows <n>',
      'queries over catalog tables of at most this many rows in all run on the coordinator, larger ones on the workers',
    )
      .env('MALLARD_LOCAL_MAX_ROWS')
      .argParser(parseIntArg),
  )
  .addOption(
    new Option(
      '--load-part-mb <n>',
      'COPY FROM STDIN data is cut into parts of this many MiB, each written to Parquet by a worker as it arrives, several at once (default 64)',
    )
      .env('MALLARD_LOAD_PART_MB')
      .argParser(parsePositiveInt),
  )
  .addOption(
    new Option(
      '--shuffle <when>',
      'shuffle two large tables for a join on the workers: on, off, or auto (when the workers have more task slots than this machine has cores; else the coordinator runs such queries)',
    )
      .env('MALLARD_SHUFFLE')
      .choices(['auto', 'on', 'off'])
      .default('auto'),
  )
  .addOption(
    new Option('--workers <n>', 'in-process workers to run (and worker processes for `mallard cluster`)')
      .env('MALLARD_WORKERS')
      .default(2)
      .argParser(parseIntArg),
  )
  .action(async (opts: GlobalFlags) => {
    const config = serverConfig(opts);
    const log = createLogger(config.logLevel);
    await startCoordinator(config, log, VERSION, { cluster: { kind: 'in-process', workers: opts.workers } });
  });

/** The top-level options as commander parses them; every subcommand sees them too (optsWithGlobals). */
interface GlobalFlags {
  host: string;
  port: number;
  data: string;
  logLevel: string;
  tlsCert?: string;
  tlsKey?: string;
  auth?: AuthMethod;
  user: string[];
  usersFile?: string;
  allowTrustRemote?: boolean;
  maxConnections: number;
  startupTimeout: number;
  readableDir: string[];
  tableStorage: ServerConfig['tableStorage'];
  localMaxRows?: number;
  shuffle: 'auto' | 'on' | 'off';
  loadPartMb?: number;
  workers: number;
}

/** The coordinator's configuration from the top-level options. */
function serverConfig(opts: GlobalFlags): ServerConfig {
  const users = loadUsers(opts.user, opts.usersFile);
  const auth: AuthMethod = opts.auth ?? (users.size > 0 ? 'scram-sha-256' : 'trust');
  return {
    host: opts.host,
    port: opts.port,
    dataDir: resolve(opts.data),
    logLevel: opts.logLevel,
    ...(opts.tlsCert === undefined ? {} : { tlsCert: opts.tlsCert }),
    ...(opts.tlsKey === undefined ? {} : { tlsKey: opts.tlsKey }),
    auth,
    users,
    allowTrustRemote: Boolean(opts.allowTrustRemote),
    maxConnections: opts.maxConnections,
    startupTimeoutMs: opts.startupTimeout,
    readableDirs: opts.readableDir.map((d) => resolve(d)),
    tableStorage: opts.tableStorage,
    ...(opts.localMaxRows === undefined ? {} : { localMaxRows: opts.localMaxRows }),
    shuffle: opts.shuffle,
    ...(opts.loadPartMb === undefined ? {} : { loadPartBytes: opts.loadPartMb * 1024 * 1024 }),
  };
}

/** `mallard worker`'s own options. */
interface WorkerFlags extends NatsFlags {
  threads: number;
  memoryLimit?: string;
  id?: string;
}

/** `mallard cluster`'s own options. */
interface ClusterFlags {
  natsPort: number;
  prefix: string;
  threads?: number;
  memoryLimit?: string;
}

/** How long a stopped worker waits for its NATS connection to drain before it exits regardless. */
const EXIT_GRACE_MS = 5_000;

/** The top-level options a worker uses too; its help lists them next to its own. */
const WORKER_GLOBALS = new Set(['--data', '--log-level', '--readable-dir']);

addNatsOptions(
  program
    .command('worker')
    .description('run a worker: executes the tasks coordinators send over NATS on its own DuckDB')
    .configureHelp({
      showGlobalOptions: true,
      visibleGlobalOptions: (cmd) =>
        (cmd.parent?.options ?? []).filter((o) => WORKER_GLOBALS.has(o.long ?? '')),
    }),
)
  .addOption(
    new Option('--threads <n>', 'DuckDB threads')
      .env('MALLARD_THREADS')
      .default(availableParallelism())
      .argParser(parsePositiveInt),
  )
  .addOption(
    new Option('--memory-limit <size>', "DuckDB memory limit, e.g. 4GB (DuckDB's default: 80% of RAM)").env(
      'MALLARD_MEMORY_LIMIT',
    ),
  )
  .addOption(
    new Option('--id <id>', "this worker's id on the cluster (generated when absent)").env(
      'MALLARD_WORKER_ID',
    ),
  )
  .addHelpText(
    'after',
    '\nSIGTERM drains the worker: it stops taking tasks, finishes those it holds, then exits.',
  )
  .action(async function (this: Command) {
    const opts = this.optsWithGlobals<GlobalFlags & WorkerFlags>();
    const tls = natsTls(opts);
    // workerMain installs its SIGTERM (drain) and SIGINT (stop) handlers only once the worker runs, and its
    // first heartbeat goes out just before; a signal in between would kill it with default handling. Hold
    // such a signal here and pass it on once the worker is up.
    let early: NodeJS.Signals | undefined;
    const hold = (signal: NodeJS.Signals) => {
      early ??= signal;
    };
    process.on('SIGTERM', hold);
    process.on('SIGINT', hold);
    await workerMain({
      onStarted: (worker) => {
        process.off('SIGTERM', hold);
        process.off('SIGINT', hold);
        if (early === 'SIGTERM') void worker.drain();
        else if (early === 'SIGINT') void worker.stop();
        // Once stopped, the worker only closes its NATS connection; should that never finish, exit anyway.
        void worker.stopped.then(() => setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref());
      },
      nats: opts.nats,
      threads: opts.threads,
      dataDir: resolve(opts.data),
      readableDirs: opts.readableDir.map((d) => resolve(d)),
      prefix: opts.prefix,
      logLevel: opts.logLevel,
      ...(opts.memoryLimit ? { memoryLimit: opts.memoryLimit } : {}),
      ...(opts.id ? { id: opts.id } : {}),
      ...(opts.natsUser === undefined ? {} : { user: opts.natsUser }),
      ...(opts.natsPass === undefined ? {} : { pass: opts.natsPass }),
      ...(opts.natsToken === undefined ? {} : { token: opts.natsToken }),
      ...(tls === undefined ? {} : { tls }),
    });
    process.exit(0);
  });

addNatsOptions(
  program
    .command('coordinator')
    .description('run a coordinator alone: its workers are `mallard worker` processes on the same NATS'),
).action(async function (this: Command) {
  const opts = this.optsWithGlobals<GlobalFlags & NatsFlags>();
  const config = serverConfig(opts);
  const log = createLogger(config.logLevel);
  await startCoordinator(config, log, VERSION, {
    cluster: { kind: 'nats', nats: natsSettings(opts), prefix: opts.prefix },
  });
});

program
  .command('cluster')
  .description(
    'run a whole cluster on this machine: nats-server from PATH, --workers worker processes and a coordinator',
  )
  .addOption(
    new Option('--nats-port <port>', 'port for the nats-server (0 picks a free one)')
      .env('MALLARD_NATS_PORT')
      .default(0)
      .argParser(parseIntArg),
  )
  .addOption(
    new Option('--prefix <prefix>', "the cluster's subject prefix")
      .env('MALLARD_CLUSTER_PREFIX')
      .default('mallard.default'),
  )
  .addOption(new Option('--threads <n>', 'DuckDB threads per worker').argParser(parsePositiveInt))
  .addOption(new Option('--memory-limit <size>', 'DuckDB memory limit per worker, e.g. 2GB'))
  .action(async function (this: Command) {
    const opts = this.optsWithGlobals<GlobalFlags & ClusterFlags>();
    const config = serverConfig(opts);
    const log = createLogger(config.logLevel);
    const local = await startLocalCluster({
      workers: opts.workers,
      natsPort: opts.natsPort,
      dataDir: config.dataDir,
      readableDirs: config.readableDirs,
      prefix: opts.prefix,
      logLevel: config.logLevel,
      logger: log,
      ...(opts.threads === undefined ? {} : { threads: opts.threads }),
      ...(opts.memoryLimit === undefined ? {} : { memoryLimit: opts.memoryLimit }),
    });
    const { cluster } = await startCoordinator(config, log, VERSION, {
      cluster: {
        kind: 'nats',
        nats: { servers: local.natsUrl },
        prefix: opts.prefix,
        workersReadableDirs: config.readableDirs,
      },
      onShutdown: () => local.stop(),
    });
    // One line once every worker process has announced itself, or a warning naming how many did.
    const joined = new Set<string>();
    const timer = setTimeout(() => {
      log.warn(
        { expected: opts.workers, joined: joined.size },
        'not every worker process joined within 30 s',
      );
    }, 30_000);
    timer.unref();
    cluster.client.registry.on('join', (worker) => {
      joined.add(worker.id);
      if (joined.size === opts.workers) {
        clearTimeout(timer);
        log.info({ workers: opts.workers, nats: local.natsUrl }, 'cluster ready');
      }
    });
    local.startWorkers();
  });

program
  .command('tpch')
  .description(
    'generate the eight TPC-H tables as Parquet files (deterministic for a scale factor), and optionally load them into a running Mallard',
  )
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
  .addOption(
    new Option('--reuse', "keep DIR's files when an earlier run generated them at this scale factor"),
  )
  .addOption(
    new Option(
      '--load <url>',
      'then create and load the tables in the Mallard at this postgres:// URL (started with --table-storage parquet --readable-dir DIR)',
    ),
  )
  .addOption(
    new Option(
      '--layout <layout>',
      'with --load: colocated (lineitem and orders hash-distributed on orderkey, partsupp and part on partkey, the rest reference tables) or balanced (nothing distributed)',
    )
      .choices(TPCH_LAYOUTS)
      .default('colocated'),
  )
  .addOption(
    new Option(
      '--buckets <n>',
      'with --load: shard count of the hash-distributed tables (default: one per worker slot of the cluster)',
    ).argParser(parsePositiveInt),
  )
  .addOption(new Option('--replace', 'with --load: drop the eight tables first when they exist'))
  .addHelpText(
    'after',
    '\nExample: mallard --table-storage parquet --readable-dir /tmp/tpch &\n         mallard tpch --sf 1 --out /tmp/tpch --load postgres://127.0.0.1:5432/mallard',
  )
  .action(
    async (opts: {
      sf: number;
      out: string;
      reuse?: boolean;
      load?: string;
      layout: TpchLayout;
      buckets?: number;
      replace?: boolean;
    }) => {
      const out = resolve(opts.out);
      if (opts.reuse && (await tpchFilesReady(out, opts.sf))) {
        process.stdout.write(`TPC-H SF ${opts.sf}: reusing the files in ${out}\n`);
      } else {
        await unmarkTpchFiles(out);
        await tpchMain({ sf: opts.sf, out });
        await markTpchFiles(out, opts.sf);
      }
      if (opts.load === undefined) return;
      const started = performance.now();
      await loadTpch({
        url: opts.load,
        dir: out,
        layout: opts.layout,
        ...(opts.buckets === undefined ? {} : { buckets: opts.buckets }),
        replace: Boolean(opts.replace),
        onTable: (t) =>
          process.stdout.write(
            `loaded ${t.table.padEnd(8)}  ${String(t.rows).padStart(12)}  ${t.seconds.toFixed(1)} s\n`,
          ),
      });
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(
        `TPC-H SF ${opts.sf}: loaded 8 tables (${opts.layout}) in ${seconds.toFixed(1)} s\n`,
      );
    },
  );

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`mallard: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
