import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A running Mallard server process, started by {@link startMallard}. */
export interface MallardServer {
  host: string;
  port: number;
  /** `postgres://mallard@host:port/mallard`; Mallard does not care about the user and database names. */
  url: string;
  pid: number;
  /** The fresh temp dir passed as `--data`; deleted by stop(). */
  dataDir: string;
  /** SIGTERM, then SIGKILL after 10 s; deletes the data dir. Idempotent. */
  stop(): Promise<void>;
  /** Everything the server wrote to stderr so far (the last 4 MiB). */
  stderr(): string;
  /** Everything the server wrote to stdout so far (the last 4 MiB): pino JSON lines. */
  stdout(): string;
  /** Resident set size of the server process in KiB, from /proc; 0 once it has exited. */
  rssKb(): number;
  /** True while the process has not exited. */
  alive(): boolean;
}

// dist/test/helpers/mallard.js → the repo root, where bin/mallard.js lives.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const START_TIMEOUT_MS = 20_000;
// The fuzz suite makes the server log a lot; keep the tail so memory stays bounded.
const OUTPUT_CAP = 4 * 1024 * 1024;

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

class Output {
  private text = '';
  append(chunk: Buffer): void {
    this.text += chunk.toString('utf8');
    if (this.text.length > OUTPUT_CAP) this.text = this.text.slice(this.text.length - OUTPUT_CAP / 2);
  }
  toString(): string {
    return this.text;
  }
}

/** The port from a pino line `{"msg":"listening",...,"port":N}`, or undefined for any other line. */
function listeningPort(line: string): number | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const entry = JSON.parse(line) as { msg?: unknown; port?: unknown };
    if (entry.msg === 'listening' && typeof entry.port === 'number') return entry.port;
  } catch {
    // not a JSON log line
  }
  return undefined;
}

/**
 * Spawns `node bin/mallard.js --host 127.0.0.1 --port 0 --data <fresh temp dir> --log-level info ...args`
 * from the repo root (dist/ must be built) and resolves once the server logs that it is listening.
 * Rejects after 20 s, or when the process exits first, with everything it printed.
 */
export async function startMallard(
  options: { args?: string[]; env?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<MallardServer> {
  const main = join(ROOT, 'dist/src/cli/main.js');
  if (!existsSync(main)) throw new Error(`startMallard: ${main} is missing; build first with: npx tsc -p .`);
  const dataDir = mkdtempSync(join(tmpdir(), 'mallard-data-'));
  const args = [
    ...(options.nodeArgs ?? []),
    join(ROOT, 'bin/mallard.js'),
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--data',
    dataDir,
    '--log-level',
    'info',
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const out = new Output();
  const err = new Output();
  child.stdout!.on('data', (d: Buffer) => out.append(d));
  child.stderr!.on('data', (d: Buffer) => err.append(d));
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.on('exit', () => {
      exited = true;
      running.delete(child);
      resolve();
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    let pending = '';
    const onData = (chunk: Buffer): void => {
      pending += chunk.toString('utf8');
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const found = listeningPort(pending.slice(0, nl).trim());
        pending = pending.slice(nl + 1);
        if (found !== undefined) {
          finish();
          resolve(found);
          return;
        }
        nl = pending.indexOf('\n');
      }
    };
    const describe = (why: string): Error =>
      new Error(
        `startMallard: ${why}\ncommand: node ${args.join(' ')}\n--- stdout ---\n${out}\n--- stderr ---\n${err}`,
      );
    const onExit = (code: number | null, signal: string | null): void => {
      finish();
      reject(describe(`server exited before listening (code ${code}, signal ${signal})`));
    };
    const onError = (e: Error): void => {
      finish();
      reject(describe(`cannot spawn: ${e.message}`));
    };
    const timer = setTimeout(() => {
      finish();
      child.kill('SIGKILL');
      reject(describe(`no "listening" log line within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    function finish(): void {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    }
    child.stdout!.on('data', onData);
    child.on('exit', onExit);
    child.on('error', onError);
  }).catch((e: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  });

  let stopping: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    url: `postgres://mallard@127.0.0.1:${port}/mallard`,
    pid: child.pid!,
    dataDir,
    stop() {
      stopping ??= (async () => {
        if (!exited) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exit;
          clearTimeout(timer);
        }
        rmSync(dataDir, { recursive: true, force: true });
      })();
      return stopping;
    },
    stderr: () => err.toString(),
    stdout: () => out.toString(),
    rssKb() {
      if (exited) return 0;
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const line = status.split('\n').find((l) => l.startsWith('VmRSS:'));
        return line ? Number.parseInt(line.slice('VmRSS:'.length).trim(), 10) : 0;
      } catch {
        return 0;
      }
    },
    alive: () => !exited,
  };
}
