import { readFileSync } from 'node:fs';

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM), or 0 if the process is gone. */
export function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`));
    return line ? Number.parseInt(line.slice(field.length + 1).trim(), 10) : 0;
  } catch {
    return 0;
  }
}

/** Samples a process's RSS every 50 ms while `fn` runs; returns fn's result and the peak in MB. */
export async function withPeakRss<T>(
  pid: number,
  fn: () => Promise<T>,
): Promise<{ result: T; peakMb: number }> {
  let peak = procStatusKb(pid, 'VmRSS');
  const timer = setInterval(() => {
    peak = Math.max(peak, procStatusKb(pid, 'VmRSS'));
  }, 50);
  try {
    const result = await fn();
    peak = Math.max(peak, procStatusKb(pid, 'VmRSS'));
    return { result, peakMb: peak / 1024 };
  } finally {
    clearInterval(timer);
  }
}
