import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.js';
import { StartupError } from './startCoordinator.js';

// dist/src/cli/localCluster.js → the repo root's bin/mallard.js, which the worker processes run.
const MALLARD_BIN = fileURLToPath(new URL('../../../bin/mallard.js', import.meta.url));
/** How long a child gets to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;

/** The first executable `nats-server` on PATH; a StartupError saying how to install it when there is none. */
export function findNatsServer(path = process.env['PATH'] ?? ''): string {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  throw new StartupError(
    'mallard cluster needs nats-server on PATH, and there is none; install it with: apt-get install -y nats-server',
  );
}

/** A port on 127.0.0.1 that was free a moment ago (the kernel picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface LocalClusterOptions {
  /** Worker processes to start. */
  workers: number;
  /** NATS port; a free one when 0. */
  natsPort: number;
  /** Shared by the workers, as `--data`. */
  dataDir: string;
  /** The coordinator's readable directories, which the workers may read too (`--readable-dir`). */
  readableDirs?: readonly string[];
  prefix: string;
  logLevel: string;
  /** DuckDB threads per worker process; the worker's default (all cores) when absent. */
  threads?: number;
  memoryLimit?: string;
  logger: Logger;
}

/** The nats-server and worker processes of `mallard cluster`. */
export interface LocalCluster {
  /** `nats://127.0.0.1:<port>` of the nats-server started. */
  readonly natsUrl: string;
  /** Starts the worker processes, pointed at the nats-server. */
  startWorkers(): void;
  /** SIGTERM to the workers (they drain), then to nats-server; each is killed if it lingers. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts nats-server from PATH on a loopback port and resolves once it accepts connections. The worker
 * processes start later (startWorkers), once the coordinator listens, so it sees each one join. Every
 * child is killed when this process exits, however it exits, so none is left behind.
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const log = options.logger;
  const binary = findNatsServer();
  const port = options.natsPort || (await freePort());
  const natsUrl = `nats://127.0.0.1:${port}`;
  const children = new Set<ChildProcess>();
  let stopping = false;
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
  const track = (child: ChildProcess, name: string): Promise<void> => {
    children.add(child);
    return new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        children.delete(child);
        if (!stopping) log.warn({ process: name, pid: child.pid, code, signal }, 'cluster process exited');
        resolve();
      });
    });
  };

  // Children get their own process group (detached), so a terminal's Ctrl-C reaches only this process, which
  // then stops them in order: workers while NATS is still up, then NATS.
  const nats = spawn(binary, ['-a', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  nats.on('error', (err) => log.error({ err: String(err) }, 'cannot run nats-server'));
  let natsStderr = '';
  nats.stderr?.on('data', (d: Buffer) => {
    natsStderr = (natsStderr + d.toString()).slice(-4000);
  });
  const natsExited = track(nats, 'nats-server');
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (nats.exitCode !== null || Date.now() > deadline) {
      nats.kill('SIGKILL');
      throw new StartupError(
        `nats-server did not start on port ${port}: ${natsStderr.trim() || 'no output'}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  log.info({ nats: natsUrl, pid: nats.pid, binary }, 'nats-server started');

  const workerExits: Promise<void>[] = [];
  const workers: ChildProcess[] = [];
  let stopped: Promise<void> | undefined;
  return {
    natsUrl,
    startWorkers() {
      for (let i = 1; i <= options.workers; i++) {
        const args = [
          MALLARD_BIN,
          '--data',
          options.dataDir,
          '--log-level',
          options.logLevel,
          ...(options.readableDirs ?? []).flatMap((d) => ['--readable-dir', d]),
          'worker',
          '--nats',
          natsUrl,
          '--prefix',
          options.prefix,
          ...(options.threads === undefined ? [] : ['--threads', String(options.threads)]),
          ...(options.memoryLimit === undefined ? [] : ['--memory-limit', options.memoryLimit]),
        ];
        // Workers log to this process's stdout and stderr: one stream of JSON lines, told apart by pid.
        const child = spawn(process.execPath, args, {
          stdio: ['ignore', 'inherit', 'inherit'],
          detached: true,
        });
        workers.push(child);
        workerExits.push(track(child, `worker ${i}`));
        log.debug({ worker: i, pid: child.pid }, 'worker process started');
      }
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        // Workers first: draining needs NATS to report their last tasks and their stopped heartbeat.
        await stopAll(workers, workerExits);
        await stopAll([nats], [natsExited]);
        log.info({ workers: workers.length }, 'cluster processes stopped');
      })();
      return stopped;
    },
  };
}

async function stopAll(children: ChildProcess[], exits: Promise<void>[]): Promise<void> {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const child of children) child.kill('SIGKILL');
  }, STOP_GRACE_MS);
  await Promise.all(exits);
  clearTimeout(timer);
}
