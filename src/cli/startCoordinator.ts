import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NatsConnectionSettings } from '../../protocol/cluster/Transport.js';
import { Catalog } from '../catalog/Catalog.js';
import { TABLES_DIR } from '../catalog/dataPaths.js';
import { type Cluster, startCluster } from '../cluster/startCluster.js';
import { isLoopback, type ServerConfig } from '../config.js';
import { DistributedRuntime } from '../distributed/DistributedRuntime.js';
import { Engine } from '../executor/Engine.js';
import type { Logger } from '../log.js';
import { Server } from '../server/Server.js';
import { LocalSessionFactory } from '../session/LocalSessionFactory.js';
import { COMPAT_SCHEMA } from '../sql/compatSchema.js';
import { SqlParser } from '../sql/SqlParser.js';
import { TableStorage } from '../storage/TableStorage.js';
import { connectNatsTransport } from '../transport/NatsTransport.js';

/** Where the coordinator's workers are: in this process on an in-process bus, or on NATS. */
export type CoordinatorCluster =
  | {
      kind: 'in-process';
      /** Workers to start in this process. */
      workers: number;
      /** DuckDB threads per worker; the cores shared among them when absent. */
      threads?: number;
      memoryLimit?: string;
    }
  | {
      kind: 'nats';
      /** Connection settings (servers, credentials, TLS) for the coordinator's own connection. */
      nats: NatsConnectionSettings;
      /** The cluster's subject prefix; workers must use the same. */
      prefix: string;
      /** The readable directories every worker can read too (`mallard cluster` starts them so). */
      workersReadableDirs?: readonly string[];
    };

/** What startCoordinator started, for whoever needs to reach the cluster or stop early. */
export interface Coordinator {
  server: Server;
  cluster: Cluster;
}

export interface StartCoordinatorOptions {
  /** The cluster to run with; 2 in-process workers when absent. */
  cluster?: CoordinatorCluster;
  /** Runs on SIGINT/SIGTERM after the server and cluster closed, e.g. to stop child processes. */
  onShutdown?: () => Promise<void>;
}

/** A one-line reason the coordinator cannot start, printed without a stack trace. */
export class StartupError extends Error {}

export function checkConfig(config: ServerConfig): void {
  if (Boolean(config.tlsCert) !== Boolean(config.tlsKey)) {
    throw new StartupError('--tls-cert and --tls-key must be given together');
  }
  if (!isLoopback(config.host) && config.auth === 'trust' && !config.allowTrustRemote) {
    throw new StartupError(
      `refusing to listen on ${config.host} without passwords: add --user name:password (or --users-file), or pass --allow-trust-remote`,
    );
  }
  if (config.auth !== 'trust' && config.users.size === 0) {
    throw new StartupError(`--auth ${config.auth} needs at least one --user name:password`);
  }
}

/**
 * Starts the coordinator's front door on its own DuckDB, with its cluster (in-process workers, or a
 * ClusterClient on NATS); resolves once listening. SIGINT and SIGTERM close everything and exit.
 */
export async function startCoordinator(
  config: ServerConfig,
  log: Logger,
  version: string,
  options: StartCoordinatorOptions = {},
): Promise<Coordinator> {
  try {
    checkConfig(config);
  } catch (err) {
    if (err instanceof StartupError) {
      console.error(`mallard: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  mkdirSync(config.dataDir, { recursive: true });
  const parquet = config.tableStorage === 'parquet';
  const catalog = parquet ? await Catalog.open(resolve(config.dataDir), { logger: log }) : null;
  const storage = catalog
    ? await TableStorage.open(catalog, {
        logger: log,
        ...(config.loadPartBytes === undefined ? {} : { loadPartBytes: config.loadPartBytes }),
      })
    : undefined;
  storage?.startMaintenance();
  const engine = await Engine.open({
    dataDir: config.dataDir,
    // Queries read catalog tables' Parquet files in place; the rest of the data directory stays closed.
    readableDirs: parquet
      ? [...config.readableDirs, join(resolve(config.dataDir), TABLES_DIR)]
      : config.readableDirs,
    // Catalog data files never change once written, so their Parquet footers can be cached.
    setupSql: [...COMPAT_SCHEMA, 'SET GLOBAL parquet_metadata_cache = true'],
  });
  const cluster = await openCluster(options.cluster ?? { kind: 'in-process', workers: 2 }, config, log);
  const parser = await SqlParser.open();
  const runtime = storage
    ? new DistributedRuntime({
        client: cluster.client,
        connect: () => engine.connect(),
        dataDir: resolve(config.dataDir),
        logger: log,
        ...(config.localMaxRows === undefined ? {} : { localMaxRows: config.localMaxRows }),
        ...(config.shuffle === undefined ? {} : { shuffle: config.shuffle }),
      })
    : undefined;
  // Loads from external files may run on the workers when they can read the same directories.
  const clusterSetup = options.cluster ?? { kind: 'in-process', workers: 2 };
  const workerReadableDirs =
    clusterSetup.kind === 'in-process' ? config.readableDirs : (clusterSetup.workersReadableDirs ?? []);
  const server = new Server(
    config,
    log,
    new LocalSessionFactory(engine, parser, storage, runtime, { workerReadableDirs }),
  );
  let address: { host: string; port: number };
  try {
    address = await server.listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      console.error(
        `mallard: port ${config.port} on ${config.host} is already in use; choose another with --port (or MALLARD_PORT)`,
      );
    } else if (code === 'EACCES') {
      console.error(
        `mallard: no permission to listen on ${config.host}:${config.port}; choose another with --port`,
      );
    } else {
      console.error(`mallard: cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`);
    }
    process.exit(1);
  }
  log.info(
    {
      host: address.host,
      port: address.port,
      dataDir: config.dataDir,
      version,
      auth: config.auth,
      tableStorage: config.tableStorage,
    },
    'listening',
  );
  const shutdown = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await server.close();
    await cluster
      .close()
      .catch((err: unknown) => log.warn({ err: String(err) }, 'cluster did not close cleanly'));
    await options.onShutdown?.();
    await engine.close();
    await storage?.close();
    await catalog?.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  return { server, cluster };
}

/**
 * Result bytes one query may hold on the coordinator (received, not yet read by its session) before its
 * workers wait for credit. Workers send batches of about 1 MiB, 4 in flight per task: 16 MiB keeps a few
 * tasks streaming at full speed while a slow client holds the coordinator's memory to a few tens of MB.
 */
const CLIENT_OPTIONS = { memoryBudgetBytes: 16 * 1024 * 1024 };

/** Starts the cluster side; a NATS server that cannot be reached ends the process with a one-line reason. */
async function openCluster(setup: CoordinatorCluster, config: ServerConfig, log: Logger): Promise<Cluster> {
  if (setup.kind === 'in-process') {
    return startCluster({
      client: CLIENT_OPTIONS,
      workers: setup.workers,
      dataDir: config.dataDir,
      readableDirs: config.readableDirs,
      logger: log,
      ...(setup.threads === undefined ? {} : { threads: setup.threads }),
      ...(setup.memoryLimit === undefined ? {} : { memoryLimit: setup.memoryLimit }),
    });
  }
  let transport: Awaited<ReturnType<typeof connectNatsTransport>>;
  try {
    transport = await connectNatsTransport({ name: `mallard-coordinator-${process.pid}`, ...setup.nats });
  } catch (err) {
    console.error(
      `mallard: cannot connect to NATS at ${[setup.nats.servers].flat().join(',')}: ${(err as Error).message}`,
    );
    process.exit(1);
  }
  log.info({ nats: setup.nats.servers, prefix: setup.prefix }, 'connected to NATS');
  return startCluster({
    client: CLIENT_OPTIONS,
    transport,
    prefix: setup.prefix,
    dataDir: config.dataDir,
    logger: log,
  });
}
