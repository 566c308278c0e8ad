// Runs a client fixture (a Python script or a Java class in this directory) against one server and reads
// back its JSON-lines report: one {"step", "ok", "value" | "error"} record per step. The suites assert on
// the values, so each step passes or fails on its own and a failure carries the client's traceback.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run } from '../../helpers/run.js';
import { type RunningTarget, startTarget } from '../../helpers/targets.js';

/** The fixtures' source directory (test/e2e/clients), found from dist/test/e2e/clients at run time. */
export const CLIENTS_DIR = fileURLToPath(new URL('../../../../test/e2e/clients/', import.meta.url));

/** The Debian python3-psycopg2, python3-psycopg and python3-asyncpg only install into the system Python. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** One line of a fixture's report. */
export interface StepRecord {
  step: string;
  ok: boolean;
  value?: unknown;
  error?: string;
  sqlstate?: string | null;
  traceback?: string;
}

/** Everything one run of a fixture reported, with accessors that fail loudly. */
export class ClientReport {
  private readonly steps = new Map<string, StepRecord>();

  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly stdout: string,
    readonly stderr: string,
    private readonly target: RunningTarget,
  ) {
    for (const line of stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      const record = JSON.parse(line) as StepRecord;
      this.steps.set(record.step, record);
    }
  }

  /** The value a step returned; throws with the client's traceback (and the server's log) when it failed. */
  value(step: string): unknown {
    const record = this.steps.get(step);
    if (record === undefined) {
      throw new Error(`step "${step}" did not report (exit code ${this.code})\n${this.context()}`);
    }
    if (!record.ok) {
      throw new Error(
        `step "${step}" failed: ${record.error} (SQLSTATE ${record.sqlstate ?? 'none'})\n${record.traceback ?? ''}\n${this.context()}`,
      );
    }
    return record.value;
  }

  private context(): string {
    const server = this.target.mallard
      ? `\n--- mallard stderr (tail) ---\n${this.target.mallard.stderr().slice(-4000)}`
      : '';
    return `command: ${this.command}\n--- client stderr ---\n${this.stderr.slice(-4000)}${server}`;
  }
}

/** Throws naming the apt package when the system Python cannot import `module`. */
export async function requirePythonModule(module: string, aptPackage: string): Promise<void> {
  if (!existsSync(SYSTEM_PYTHON)) {
    throw new Error(`${SYSTEM_PYTHON} is missing; install it with: apt-get install -y python3 ${aptPackage}`);
  }
  const probe = await run(SYSTEM_PYTHON, ['-c', `import ${module}`], { timeoutMs: 30_000 });
  if (probe.code !== 0) {
    throw new Error(
      `${SYSTEM_PYTHON} cannot import ${module}; install it with: apt-get install -y ${aptPackage}\n${probe.stderr}`,
    );
  }
}

/** Runs `/usr/bin/python3 <script> <target url>` from the fixtures directory and parses its report. */
/** The part of uvu's suite API a client suite needs. */
interface Hooks {
  before(fn: () => void): void;
  after(fn: () => Promise<void>): void;
}

/**
 * Registers a suite's hooks: start the target, run the Python client once, and return `step(name)`,
 * which every test awaits. A missing package or a server that will not start then fails each test
 * with the reason, instead of leaving uvu to report nothing.
 */
export function pythonClientSuite(
  suite: Hooks,
  module: string,
  aptPackage: string,
  script: string,
): (name: string) => Promise<unknown> {
  let target: RunningTarget | undefined;
  let report: Promise<ClientReport>;
  suite.before(() => {
    report = (async () => {
      await requirePythonModule(module, aptPackage);
      target = await startTarget();
      return runPythonClient(script, target);
    })();
    report.catch(() => {});
  });
  suite.after(async () => {
    await target?.stop();
  });
  return async (name) => (await report).value(name);
}

export async function runPythonClient(script: string, target: RunningTarget): Promise<ClientReport> {
  const args = [`${CLIENTS_DIR}${script}`, target.url];
  // PYTHONIOENCODING: the report carries non-ASCII text whatever the locale of the machine.
  const env = { ...process.env, PYTHONIOENCODING: 'utf-8', PYTHONDONTWRITEBYTECODE: '1' };
  const result = await run(SYSTEM_PYTHON, args, { timeoutMs: 180_000, env, cwd: CLIENTS_DIR });
  return new ClientReport(
    `${SYSTEM_PYTHON} ${args.join(' ')}`,
    result.code,
    result.stdout,
    result.stderr,
    target,
  );
}

/** Runs an already compiled Java class with the given classpath and parses its report. */
export async function runJavaClient(
  classpath: string,
  mainClass: string,
  args: string[],
  target: RunningTarget,
): Promise<ClientReport> {
  // A fixed JVM time zone: pgjdbc sends it as the session TimeZone and renders timestamps in it.
  const javaArgs = ['-Duser.timezone=UTC', '-cp', classpath, mainClass, ...args];
  const result = await run('java', javaArgs, { timeoutMs: 180_000 });
  return new ClientReport(`java ${javaArgs.join(' ')}`, result.code, result.stdout, result.stderr, target);
}

/**
 * The columns of TYPES_SQL (common.py) and the OID PostgreSQL gives each. varchar_v and bpchar_v are the
 * exception, checked with {@link isStringOid}: DuckDB has one VARCHAR type and drops the length, so which
 * of PostgreSQL's string OIDs a DuckDB-backed server reports is its choice; every driver here reads all
 * three as a plain string, which the row assertions check.
 */
export const TYPE_COLUMN_OIDS: Record<string, number> = {
  bool_t: 16,
  bool_null: 16,
  int2_min: 21,
  int4_max: 23,
  int8_min: 20,
  float4_tenth: 700,
  float8_big: 701,
  float8_nan: 701,
  float4_neginf: 700,
  numeric_scaled: 1700,
  numeric_big: 1700,
  text_utf8: 25,
  varchar_v: 1043,
  bpchar_v: 1042,
  bytea_v: 17,
  date_leap: 1082,
  time_v: 1083,
  ts: 1114,
  tstz: 1184,
  interval_mixed: 1186,
  interval_neg: 1186,
  uuid_v: 2950,
  json_v: 114,
  int4_array: 1007,
  text_array: 1009,
};

const STRING_OIDS = new Set([25, 1042, 1043]);

/** text, bpchar or varchar. */
export function isStringOid(oid: number): boolean {
  return STRING_OIDS.has(oid);
}

/**
 * Checks [name, oid, ...] column descriptions of TYPES_SQL against {@link TYPE_COLUMN_OIDS}; returns the
 * mismatches as readable strings (empty when all match) so the assertion message lists them all.
 */
export function typeColumnMismatches(columns: unknown): string[] {
  const list = columns as [string, number, ...unknown[]][];
  const problems: string[] = [];
  const names = list.map((c) => c[0]);
  const expectedNames = Object.keys(TYPE_COLUMN_OIDS);
  if (names.join(',') !== expectedNames.join(','))
    problems.push(`columns ${names.join(',')} != ${expectedNames.join(',')}`);
  for (const [name, oid] of list) {
    const expected = TYPE_COLUMN_OIDS[name];
    if (name === 'varchar_v' || name === 'bpchar_v') {
      if (!isStringOid(oid)) problems.push(`${name}: OID ${oid} is not text, varchar or bpchar`);
    } else if (oid !== expected) {
      problems.push(`${name}: OID ${oid}, PostgreSQL says ${expected}`);
    }
  }
  return problems;
}

/**
 * What every Python driver returns for TYPES_SQL under TimeZone UTC, as rendered by common.py describe().
 * Drivers differ on a few columns (binary float4 widens, asyncpg leaves json as a string); suites override those.
 */
export const PYTHON_TYPES_ROW: Record<string, [string, unknown]> = {
  bool_t: ['bool', true],
  bool_null: ['NoneType', null],
  int2_min: ['int', '-32768'],
  int4_max: ['int', '2147483647'],
  int8_min: ['int', '-9223372036854775808'],
  float4_tenth: ['float', '0.1'],
  float8_big: ['float', '1e+100'],
  float8_nan: ['float', 'nan'],
  float4_neginf: ['float', '-inf'],
  numeric_scaled: ['Decimal', '-123.450'],
  numeric_big: ['Decimal', '12345678901234567890.123456'],
  text_utf8: ['str', 'héllo 世界 🦆'],
  varchar_v: ['str', 'abc'],
  bpchar_v: ['str', 'ab'],
  bytea_v: ['bytes', '006162ff'],
  date_leap: ['date', '2024-02-29'],
  time_v: ['time', '23:59:59.999999'],
  ts: ['datetime', '2024-01-02T03:04:05.123456'],
  tstz: ['datetime', '2024-07-01T12:00:00.500000+00:00'],
  // Drivers fold a year into 365 days and a month into 30: 1 year 2 mons 3 days = 428 days.
  interval_mixed: ['timedelta', '428d 14706s 789000us'],
  interval_neg: ['timedelta', '-2d 86399s 999999us'],
  uuid_v: ['UUID', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  json_v: ['dict', '{"a": [1, 2.5, null], "b": "x"}'],
  int4_array: [
    'list',
    [
      ['int', '1'],
      ['NoneType', null],
      ['int', '3'],
    ],
  ],
  text_array: [
    'list',
    [
      ['str', 'a'],
      ['str', 'b c'],
      ['str', 'q"uote'],
      ['NoneType', null],
      ['str', ''],
    ],
  ],
};

/** The errors every suite provokes, in SQL both PostgreSQL and DuckDB reject, with PostgreSQL's SQLSTATE. */
export const SQLSTATE = {
  undefinedTable: '42P01',
  inFailedTransaction: '25P02',
  syntaxError: '42601',
  uniqueViolation: '23505',
  invalidTextRepresentation: '22P02',
} as const;

/** The parameter step's row, as psycopg 3 (text or binary parameters) and asyncpg return it. */
export const PYTHON_PARAMS_ROW = {
  sum: ['int', '5'],
  text: ['str', "it's \\ \t ünï 🦆"],
  is_null: ['bool', true],
  bytes: ['bytes', '0001ff'],
  dec: ['Decimal', '-1.25'],
  d: ['date', '2024-02-29'],
  tstz: ['datetime', '2024-07-01T12:00:00.000001+00:00'],
  iv: ['timedelta', '-3d 5s 7us'],
  u: ['UUID', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  arr: [
    'list',
    [
      ['int', '1'],
      ['NoneType', null],
      ['int', '3'],
    ],
  ],
  b: ['bool', false],
  f: ['float', '0.1'],
};
