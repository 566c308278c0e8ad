/**
 * What the cluster benchmarks share: a nats-server of their own, `mallard worker` processes (optionally
 * pinned to one CPU with `taskset -c`), a coordinator's ClusterClient on the same server, and the CPU time
 * a process has used, from /proc/<pid>/stat.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ClusterClient, type ClusterClientOptions } from '../src/cluster/ClusterClient.js';
import { connectNatsTransport, type NatsTransport } from '../src/transport/NatsTransport.js';
import { type NatsServer, startNatsServer } from '../test/cluster/helpers/natsServer.js';

export { type NatsServer, startNatsServer };

const WORKER_ENTRY = fileURLToPath(new URL('../worker/entry.js', import.meta.url));

export interface WorkerProcess {
  readonly id: string;
  readonly pid: number;
  /** SIGINT (hands its tasks back), then waits for the exit. */
  stop(): Promise<void>;
}

export interface WorkerProcessOptions {
  natsUrl: string;
  prefix: string;
  id: string;
  dataDir: string;
  threads: number;
  /** Pins the process to this CPU with `taskset -c`. */
  cpu?: number;
  memoryLimit?: string;
}

/** Starts `node dist/worker/entry.js` (what `mallard worker` runs); its output is kept for errors. */
export function spawnWorker(options: WorkerProcessOptions): WorkerProcess {
  const args = [
    WORKER_ENTRY,
    '--nats',
    options.natsUrl,
    '--prefix',
    options.prefix,
    '--id',
    options.id,
    '--threads',
    String(options.threads),
    '--data',
    options.dataDir,
    '--log-level',
    'warn',
    ...(options.memoryLimit ? ['--memory-limit', options.memoryLimit] : []),
  ];
  // taskset execs the command, so the child's pid is the worker's own.
  const child: ChildProcess =
    options.cpu === undefined
      ? spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] })
      : spawn('taskset', ['-c', String(options.cpu), process.execPath, ...args], {
          stdio: ['ignore', 'ignore', 'inherit'],
        });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    id: options.id,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const escalate = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(escalate);
    },
  };
}

/** A coordinator on its own NATS connection. */
export async function connectCoordinator(
  natsUrl: string,
  prefix: string,
  options: Partial<ClusterClientOptions> = {},
): Promise<{ client: ClusterClient; transport: NatsTransport; close(): Promise<void> }> {
  const transport = await connectNatsTransport({ servers: natsUrl });
  const client = new ClusterClient({ transport, prefix, ...options });
  return {
    client,
    transport,
    async close() {
      await client.close();
      await transport.close();
    },
  };
}

/** Resolves once every id is a ready worker in the client's registry. */
export async function waitForWorkers(client: ClusterClient, ids: readonly string[], timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!ids.every((id) => client.registry.get(id)?.state === 'ready')) {
    if (Date.now() > deadline)
      throw new Error(`workers ${ids.join(', ')} did not all join in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let clockTicks: number | undefined;

/** User + system CPU seconds a process (all its threads) has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name sits in parentheses and may hold spaces; the fields after it are plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm)".
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** The p-th percentile (0-100) of a list of numbers. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[at]!;
}

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
