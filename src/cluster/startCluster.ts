import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { Transport } from '../../protocol/cluster/Transport.js';
import { runWorker, type WorkerHandle } from '../../worker/runWorker.js';
import { InProcessBus } from '../transport/InProcessTransport.js';
import { ClusterClient, type ClusterClientOptions } from './ClusterClient.js';

/** The subject prefix a cluster uses unless told otherwise; `mallard worker` defaults to the same. */
export const DEFAULT_CLUSTER_PREFIX = 'mallard.default';

export interface StartClusterOptions {
  /**
   * The coordinator's connection to a shared message server (NATS), on which workers in other processes
   * join. When absent, the cluster runs on a private in-process bus and `workers` workers run in this
   * process. The cluster owns the transport from here on: close() closes it.
   */
  transport?: Transport;
  /** The cluster's subject prefix (`mallard.default`). */
  prefix?: string;
  /** In-process workers to start; only without `transport` (2 by default there, and 0 with one). */
  workers?: number;
  /** DuckDB threads per in-process worker (the machine's cores shared among them). */
  threads?: number;
  /** DuckDB memory limit per in-process worker, e.g. `2GB`. */
  memoryLimit?: string;
  /** The data directory the in-process workers may read. */
  dataDir: string;
  /** External directories the in-process workers may read (the coordinator's readable directories). */
  readableDirs?: readonly string[];
  /** How long start waits for the in-process workers' first heartbeats (10 s). */
  joinTimeoutMs?: number;
  /** Passed on to the ClusterClient (scheduling mode, timeouts, flow control). */
  client?: Omit<ClusterClientOptions, 'transport' | 'prefix' | 'logger'>;
  logger?: Logger;
}

/** The coordinator's cluster: the client that runs queries on workers, and the workers it started itself. */
export interface Cluster {
  readonly client: ClusterClient;
  readonly prefix: string;
  /** The in-process workers, empty when the workers are other processes on NATS. */
  readonly localWorkers: readonly WorkerHandle[];
  /** Cancels running queries, stops the in-process workers and closes every connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the coordinator's side of a cluster. With a transport it only listens: workers join over NATS as
 * they start. Without one it creates an in-process bus, starts `workers` workers on it, each with its own
 * connection and DuckDB instance, and resolves once all of them have joined the registry.
 */
export async function startCluster(options: StartClusterOptions): Promise<Cluster> {
  const prefix = options.prefix ?? DEFAULT_CLUSTER_PREFIX;
  if (options.transport && (options.workers ?? 0) > 0) {
    throw new RangeError(
      'in-process workers need the in-process bus; start workers on NATS with mallard worker',
    );
  }
  const bus = options.transport ? undefined : new InProcessBus();
  const transport = options.transport ?? bus!.connect();
  const client = new ClusterClient({
    ...options.client,
    transport,
    prefix,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const count = bus ? (options.workers ?? 2) : 0;
  const threads = options.threads ?? Math.max(1, Math.floor(availableParallelism() / Math.max(1, count)));
  const workerTransports: Transport[] = [];
  const localWorkers: WorkerHandle[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await client.close();
      // stop() hands back whatever a worker still holds; the client above already cancelled the queries.
      await Promise.allSettled(localWorkers.map((w) => w.stop()));
      await Promise.allSettled(workerTransports.map((t) => t.close()));
      await transport.close();
    })();
    return closing;
  };
  if (count === 0) return { client, prefix, localWorkers, close };

  const joined = waitForJoins(client, count, options.joinTimeoutMs ?? 10_000);
  try {
    for (let i = 0; i < count; i++) {
      const workerTransport = bus!.connect();
      workerTransports.push(workerTransport);
      localWorkers.push(
        await runWorker({
          transport: workerTransport,
          prefix,
          threads,
          dataDir: options.dataDir,
          ...(options.readableDirs ? { readableDirs: options.readableDirs } : {}),
          id: `local-${i + 1}`,
          ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit }),
          ...(options.logger === undefined ? {} : { logger: options.logger.child({ component: 'worker' }) }),
        }),
      );
    }
    await joined.promise;
  } catch (err) {
    joined.cancel();
    await close();
    throw err;
  }
  options.logger?.info(
    { workers: count, ids: localWorkers.map((w) => w.id), threads },
    'in-process workers joined',
  );
  return { client, prefix, localWorkers, close };
}

/** Resolves once `count` distinct workers have joined the client's registry; rejects after `timeoutMs`. */
function waitForJoins(
  client: ClusterClient,
  count: number,
  timeoutMs: number,
): { promise: Promise<void>; cancel(): void } {
  const ids = new Set<string>();
  let cancel = () => {};
  const promise = new Promise<void>((resolve, reject) => {
    const onJoin = (worker: { id: string }) => {
      ids.add(worker.id);
      if (ids.size >= count) {
        cancel();
        resolve();
      }
    };
    const timer = setTimeout(() => {
      cancel();
      reject(new Error(`only ${ids.size} of ${count} in-process workers joined within ${timeoutMs} ms`));
    }, timeoutMs);
    cancel = () => {
      clearTimeout(timer);
      client.registry.off('join', onJoin);
    };
    client.registry.on('join', onJoin);
  });
  // A failure before anyone awaits must not surface as an unhandled rejection.
  promise.catch(() => {});
  return { promise, cancel };
}
