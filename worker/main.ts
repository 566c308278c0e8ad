import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { clusterSubjects } from '../protocol/cluster/subjects.js';
import type { NatsConnectionSettings } from '../protocol/cluster/Transport.js';
import { connectNats } from './connectNats.js';
import { runWorker, type WorkerHandle } from './runWorker.js';

/** What `mallard worker` passes in, after its flags and MALLARD_* variables are read. */
export interface WorkerMainOptions {
  /** NATS server URL(s), comma-separated for several. */
  nats: string;
  threads: number;
  /** DuckDB memory limit such as `4GB`; DuckDB's default when absent. */
  memoryLimit?: string;
  dataDir: string;
  /** External files tasks may read (load tasks over read_parquet), besides the data directory. */
  readableDirs?: readonly string[];
  /** The cluster's subject prefix, e.g. `mallard.default`. */
  prefix: string;
  user?: string;
  pass?: string;
  token?: string;
  tls?: NatsConnectionSettings['tls'];
  id?: string;
  logLevel?: string;
  heartbeatIntervalMs?: number;
  drainTimeoutMs?: number;
  /** Called once the worker is up, e.g. to print its id. */
  onStarted?: (worker: WorkerHandle) => void;
}

/** The Mallard release, from the package.json two levels above dist/worker/. */
function releaseVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Runs a worker process until it is told to stop: connects to NATS (credentials and TLS passed through),
 * starts the worker, drains on SIGTERM (stops claiming, finishes its tasks) and stops on SIGINT (hands its
 * tasks back). Resolves once the worker has stopped and its connection is closed.
 */
export async function workerMain(options: WorkerMainOptions): Promise<void> {
  clusterSubjects(options.prefix);
  const level = options.logLevel ?? 'info';
  const logger = process.stdout.isTTY
    ? pino({ level, transport: { target: 'pino-pretty', options: { colorize: true } } })
    : pino({ level, base: { pid: process.pid } });
  const settings: NatsConnectionSettings = {
    servers: options.nats.split(',').map((s) => s.trim()),
    name: `mallard-worker-${process.pid}`,
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(options.pass === undefined ? {} : { pass: options.pass }),
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  };
  const transport = await connectNats(settings);
  let worker: WorkerHandle;
  try {
    worker = await runWorker({
      transport,
      prefix: options.prefix,
      threads: options.threads,
      dataDir: options.dataDir,
      ...(options.readableDirs?.length ? { readableDirs: options.readableDirs } : {}),
      workerVersion: releaseVersion(),
      logger,
      ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit }),
      ...(options.id === undefined ? {} : { id: options.id }),
      ...(options.heartbeatIntervalMs === undefined
        ? {}
        : { heartbeatIntervalMs: options.heartbeatIntervalMs }),
      ...(options.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: options.drainTimeoutMs }),
    });
  } catch (err) {
    await transport.close();
    throw err;
  }
  const onTerm = () => void worker.drain();
  const onInt = () => void worker.stop();
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);
  options.onStarted?.(worker);
  await worker.stopped;
  process.off('SIGTERM', onTerm);
  process.off('SIGINT', onInt);
  await transport.close();
}
