import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeControl } from '../../../protocol/cluster/controlCodec.js';
import { CLUSTER_PROTOCOL_VERSION } from '../../../protocol/cluster/messages.js';
import { clusterSubjects } from '../../../protocol/cluster/subjects.js';
import type { Transport } from '../../../protocol/cluster/Transport.js';
import { InProcessBus } from '../../../src/transport/InProcessTransport.js';
import { connectNatsTransport } from '../../../src/transport/NatsTransport.js';
import { runWorker } from '../../../worker/runWorker.js';
import { type NatsServer, startNatsServer } from './natsServer.js';

/** A worker started for a test, however it runs. */
export interface TestWorker {
  readonly id: string;
  /** Dies without a word: `kill -9` for a process, abort() and a dropped connection in-process. */
  crash(): Promise<void>;
  /** Drains as `mallard worker` does on SIGTERM; resolves with its exit code (0 in-process). */
  drain(): Promise<number | null>;
  /** Stops it (SIGINT for a process); used in cleanup. */
  stop(): Promise<void>;
  /** What the worker printed and how it ended, for a failure message. */
  describe(): string;
}

/** Where a cluster suite's coordinator and workers meet: a real nats-server, or one in-process bus. */
export interface ClusterHarness {
  readonly name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A new coordinator-side connection. */
  transport(): Promise<Transport>;
  startWorker(
    prefix: string,
    options: { id: string; threads?: number; dataDir: string; heartbeatMs?: number },
  ): Promise<TestWorker>;
  /** Restarts the message server under the running cluster, where there is one. */
  restartServer?(downMs: number): Promise<void>;
}

const WORKER_ENTRY = fileURLToPath(new URL('../../../worker/entry.js', import.meta.url));

/** Worker processes (`node dist/worker/entry.js`) on a nats-server started by the test. */
export function natsHarness(): ClusterHarness {
  let server: NatsServer | undefined;
  const children = new Set<ChildProcess>();
  return {
    name: 'NATS',
    async setup() {
      server = await startNatsServer();
    },
    async teardown() {
      for (const child of children) child.kill('SIGKILL');
      await server?.stop();
    },
    transport: () => connectNatsTransport({ servers: server!.url }),
    restartServer: (downMs) => server!.restart(downMs),
    async startWorker(prefix, { id, threads = 2, dataDir, heartbeatMs }) {
      const child = spawn(
        process.execPath,
        [
          WORKER_ENTRY,
          '--nats',
          server!.url,
          '--prefix',
          prefix,
          '--id',
          id,
          '--threads',
          String(threads),
          '--data',
          dataDir,
          '--memory-limit',
          '512MB',
          '--log-level',
          'warn',
          ...(heartbeatMs === undefined ? [] : ['--heartbeat-ms', String(heartbeatMs)]),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.add(child);
      let output = '';
      const keep = (d: Buffer) => {
        output = (output + d.toString()).slice(-4000);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      const exited = new Promise<number | null>((resolve) =>
        child.once('exit', (code) => {
          children.delete(child);
          resolve(code);
        }),
      );
      const signal = async (sig: NodeJS.Signals) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(sig);
        // A worker that does not stop on its own within 15 s is killed, so a broken test cannot hang the run.
        const escalate = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const code = await exited;
        clearTimeout(escalate);
        return code;
      };
      return {
        id,
        crash: async () => {
          await signal('SIGKILL');
          // A killed worker cannot remove its spill directory; the test does.
          for (const name of readdirSync(tmpdir())) {
            if (name.startsWith(`mallard-worker-${id}-`))
              rmSync(join(tmpdir(), name), { recursive: true, force: true });
          }
        },
        drain: () => signal('SIGTERM'),
        stop: async () => {
          await signal('SIGINT');
        },
        describe: () =>
          `pid ${child.pid}, ${child.exitCode === null && child.signalCode === null ? 'running' : `exited ${child.exitCode ?? child.signalCode}`}, output: ${output || '(none)'}`,
      };
    },
  };
}

/** Workers in this process on one in-process bus, whose small max_payload splits every batch into frames. */
export function inProcessHarness(): ClusterHarness {
  const bus = new InProcessBus({ maxPayload: 128 * 1024 });
  return {
    name: 'in-process',
    async setup() {},
    async teardown() {},
    transport: async () => bus.connect(),
    async startWorker(prefix, { id, threads = 2, dataDir, heartbeatMs }) {
      const transport = bus.connect();
      const handle = await runWorker({
        transport,
        prefix,
        id,
        threads,
        dataDir,
        memoryLimit: '512MB',
        ...(heartbeatMs === undefined ? {} : { heartbeatIntervalMs: heartbeatMs }),
      });
      return {
        id,
        crash: async () => {
          await transport.close();
          await handle.abort();
        },
        drain: async () => {
          // In-process, drain goes through the cluster's Drain message rather than a signal.
          transport.publish(
            clusterSubjects(prefix).drain,
            encodeControl<'drain'>({ version: CLUSTER_PROTOCOL_VERSION, kind: 'drain', workerId: id }),
          );
          await handle.stopped;
          await transport.close();
          return 0;
        },
        stop: async () => {
          await handle.stop();
          await transport.close();
        },
        describe: () => `in-process worker, ${handle.state}`,
      };
    },
  };
}
