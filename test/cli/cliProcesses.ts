import { readdirSync, readFileSync } from 'node:fs';

/** One line of a pino JSON log, or undefined for anything else. */
export type LogLine = Record<string, unknown> & { msg?: string };

/** The JSON log lines in a process's output, skipping anything that is not one. */
export function logLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // a partial line still being written
    }
  }
  return lines;
}

/** Polls `check` every 100 ms until it returns a value other than undefined; rejects after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A process's pid and command line, as /proc shows it. */
export interface ProcessEntry {
  pid: number;
  cmdline: string;
}

/** Every live descendant of `pid` (children, their children, ...), read from /proc. */
export function descendants(pid: number): ProcessEntry[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const child = Number(name);
    if (!Number.isInteger(child)) continue;
    try {
      const stat = readFileSync(`/proc/${child}/stat`, 'utf8');
      // The command name in parentheses may hold spaces; the fields after its closing parenthesis do not.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      parentOf.set(child, Number(fields[1]));
    } catch {
      // exited while we looked
    }
  }
  const found: ProcessEntry[] = [];
  const frontier = [pid];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const [child, ppid] of parentOf) {
      if (ppid !== parent) continue;
      frontier.push(child);
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').join(' ').trim();
      } catch {
        // exited while we looked
      }
      found.push({ pid: child, cmdline });
    }
  }
  return found;
}

/** True while a process with this pid exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
