import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';

/** Startup packet keys that are not settings. */
const NOT_SETTINGS = new Set(['user', 'database', 'options', 'replication']);

/**
 * Splits the startup `options` value the way PostgreSQL does: whitespace separates arguments, a
 * backslash escapes the next character; each `-c name=value` or `--name=value` sets a parameter.
 */
export function parseStartupOptions(options: string): [string, string][] {
  const args: string[] = [];
  let current = '';
  let inArg = false;
  for (let i = 0; i < options.length; i++) {
    const ch = options[i]!;
    if (ch === '\\' && i + 1 < options.length) {
      current += options[++i];
      inArg = true;
    } else if (ch === ' ' || ch === '\t' || ch === '\n') {
      if (inArg) args.push(current);
      current = '';
      inArg = false;
    } else {
      current += ch;
      inArg = true;
    }
  }
  if (inArg) args.push(current);
  const out: [string, string][] = [];
  for (let i = 0; i < args.length; i++) {
    let arg = args[i]!;
    if (arg === '-c') arg = args[++i] ?? '';
    else if (arg.startsWith('-c')) arg = arg.slice(2);
    else if (arg.startsWith('--')) arg = arg.slice(2);
    else
      throw new PgError(
        SqlState.InvalidParameterValue,
        `invalid command-line argument for server process: ${arg}`,
        { severity: 'FATAL' },
      );
    const eq = arg.indexOf('=');
    if (eq <= 0) {
      throw new PgError(SqlState.SyntaxError, `-c ${arg} requires a value`, { severity: 'FATAL' });
    }
    out.push([arg.slice(0, eq).replaceAll('-', '_'), arg.slice(eq + 1)]);
  }
  return out;
}

/** The settings a startup packet asks for, in the order PostgreSQL applies them: params, then options. */
export function startupSettings(params: Record<string, string>): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(params))
    if (!NOT_SETTINGS.has(k) && !k.startsWith('_pq_.')) out.push([k, v]);
  if (params.options) out.push(...parseStartupOptions(params.options));
  return out;
}
