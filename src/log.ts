import { type Logger, pino } from 'pino';

export type { Logger };

/** Structured, levelled logs: JSON lines when stdout is not a TTY, pretty-printed when it is. */
export function createLogger(level: string): Logger {
  if (process.stdout.isTTY) {
    return pino({ level, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino({ level, base: { pid: process.pid } });
}
