import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import { duckdbTimeZone, type ParsedTimeZone, parseTimeZone } from './parseTimeZone.js';
import { PG_SERVER_VERSION, PG_SERVER_VERSION_NUM } from './serverVersion.js';

/** One row of SHOW ALL. */
export interface SettingRow {
  name: string;
  setting: string;
  description: string;
}

/** What the session does after a SET. */
export interface SetResult {
  /** A GUC_REPORT parameter changed: send ParameterStatus(name, value). Handed out once (see takeReports). */
  reported?: [name: string, value: string];
  /** A NoticeResponse to send (e.g. SET LOCAL outside a transaction block, which then does nothing). */
  warning?: PgError;
}

/** Validates a new value and returns PostgreSQL's canonical spelling, or throws a PgError. */
type Check = (value: string, current: string) => string;

interface Definition {
  /** PostgreSQL's spelling, as SHOW ALL and ParameterStatus write it (`DateStyle`, `TimeZone`). */
  name: string;
  boot: string;
  description: string;
  /** GUC_REPORT: sent as ParameterStatus at startup and whenever it changes. */
  report?: boolean;
  /** Internal or superuser-fixed: SET is refused. */
  fixed?: boolean;
  check?: Check;
}

function invalid(name: string, value: string, fields: { detail?: string; hint?: string } = {}): PgError {
  return new PgError(
    SqlState.InvalidParameterValue,
    `invalid value for parameter "${name}": "${value}"`,
    fields,
  );
}

function notSupported(message: string, hint?: string): PgError {
  return new PgError(SqlState.FeatureNotSupported, message, hint ? { hint } : {});
}

/** PostgreSQL's parse_bool: on/off, true/false, yes/no, 1/0 and unambiguous prefixes, any case. */
function parseBool(value: string): boolean | null {
  const v = value.trim().toLowerCase();
  if (v === '') return null;
  if (v === 'on') return true;
  if (v === 'of' || v === 'off') return false;
  for (const [word, b] of [
    ['true', true],
    ['false', false],
    ['yes', true],
    ['no', false],
  ] as const) {
    if (word.startsWith(v)) return b;
  }
  if (v === '1') return true;
  if (v === '0') return false;
  return null;
}

function bool(name: string): Check {
  return (value) => {
    const b = parseBool(value);
    if (b === null)
      throw new PgError(SqlState.InvalidParameterValue, `parameter "${name}" requires a Boolean value`);
    return b ? 'on' : 'off';
  };
}

/** A boolean that Mallard supports in one position only. */
function fixedBool(name: string, only: 'on' | 'off', why: string): Check {
  const check = bool(name);
  return (value, current) => {
    const b = check(value, current);
    if (b !== only) throw notSupported(`${name} = ${b} is not supported`, why);
    return b;
  };
}

function oneOf(
  name: string,
  values: readonly string[],
  supported: readonly string[] = values,
  why?: string,
): Check {
  return (value) => {
    const v = value.trim().toLowerCase();
    if (!values.includes(v)) throw invalid(name, value, { hint: `Available values: ${values.join(', ')}.` });
    if (!supported.includes(v)) throw notSupported(`${name} "${v}" is not supported`, why);
    return v;
  };
}

interface Unit {
  name: string;
  factor: number;
}

const TIME_UNITS: readonly Unit[] = [
  { name: 'us', factor: 0.001 },
  { name: 'ms', factor: 1 },
  { name: 's', factor: 1000 },
  { name: 'min', factor: 60_000 },
  { name: 'h', factor: 3_600_000 },
  { name: 'd', factor: 86_400_000 },
];

const MEMORY_UNITS: readonly Unit[] = [
  { name: 'B', factor: 1 / 1024 },
  { name: 'kB', factor: 1 },
  { name: 'MB', factor: 1024 },
  { name: 'GB', factor: 1024 * 1024 },
  { name: 'TB', factor: 1024 * 1024 * 1024 },
];

const INT_MAX = 2147483647;

/** PostgreSQL's hint listing valid units: `"us", "ms", "s", "min", "h", and "d"`. */
function unitHint(units: readonly Unit[]): string {
  const names = units.map((u) => `"${u.name}"`);
  return `Valid units for this parameter are ${names.slice(0, -1).join(', ')}, and ${names[names.length - 1]}.`;
}

/**
 * An integer parameter, optionally with units (base unit `ms` or `kB`), shown as PostgreSQL shows
 * it: in the largest unit that divides the value exactly (`5s`, `1min`, `4MB`).
 */
function integer(name: string, min: number, max: number, units?: readonly Unit[], base = 'ms'): Check {
  const baseUnit = units?.find((u) => u.name === base);
  return (value) => {
    const v = value.trim();
    let i = 0;
    if (v[i] === '+' || v[i] === '-') i++;
    const numStart = i;
    while (i < v.length && ((v[i]! >= '0' && v[i]! <= '9') || v[i] === '.')) i++;
    const numText = v.slice(0, i);
    if (i === numStart || Number.isNaN(Number(numText))) throw invalid(name, value);
    let n = Number(numText);
    const unitText = v.slice(i).trim();
    if (unitText !== '') {
      const unit = units?.find((u) => u.name === unitText);
      if (!unit || !baseUnit) throw invalid(name, value, units ? { hint: unitHint(units) } : {});
      n = (n * unit.factor) / baseUnit.factor;
    } else if (!Number.isInteger(n) && !units) {
      throw invalid(name, value);
    }
    n = Math.round(n);
    if (n < min || n > max) {
      const u = units ? ` ${base}` : '';
      throw new PgError(
        SqlState.InvalidParameterValue,
        `${n}${u} is outside the valid range for parameter "${name}" (${min}${u} .. ${max}${u})`,
      );
    }
    if (!units || n === 0) return String(n);
    let best = baseUnit!;
    for (const u of units) {
      if (u.factor > best.factor && (n * baseUnit!.factor) % u.factor === 0) best = u;
    }
    return `${(n * baseUnit!.factor) / best.factor}${best.name}`;
  };
}

/** Reads back a unit value as a count of its base unit (`5s` → 5000 for an ms parameter). */
function toBase(setting: string, units: readonly Unit[], base: string): number {
  let i = 0;
  if (setting[0] === '-' || setting[0] === '+') i++;
  while (i < setting.length && setting[i]! >= '0' && setting[i]! <= '9') i++;
  const n = Number(setting.slice(0, i));
  const unit = units.find((u) => u.name === setting.slice(i));
  const baseUnit = units.find((u) => u.name === base)!;
  return unit ? (n * unit.factor) / baseUnit.factor : n;
}

const DATE_STYLE_BOOT = 'ISO, MDY';

/**
 * PostgreSQL's check_datestyle: a comma-separated list of an output style and a field order; a part
 * left out keeps its current value. Mallard writes ISO only, so the other styles are refused.
 */
function checkDateStyle(value: string, current: string): string {
  let style: string | null = null;
  let order: string | null = null;
  for (const raw of value.split(',')) {
    const token = raw.trim();
    const t = token.toLowerCase();
    let s: string | null = null;
    let o: string | null = null;
    if (t === 'iso') s = 'ISO';
    else if (t === 'sql') s = 'SQL';
    else if (t === 'postgres') s = 'Postgres';
    else if (t === 'german') s = 'German';
    else if (t === 'ymd') o = 'YMD';
    else if (t === 'dmy' || t === 'euro' || t === 'european') o = 'DMY';
    else if (t === 'mdy' || t === 'us' || t === 'noneuro' || t === 'noneuropean') o = 'MDY';
    else if (t === 'default') {
      s = 'ISO';
      o = 'MDY';
    } else throw invalid('DateStyle', value, { detail: `Unrecognized key word: "${token}".` });
    if ((s && style && s !== style) || (o && order && o !== order))
      throw invalid('DateStyle', value, { detail: 'Conflicting "datestyle" specifications.' });
    style = s ?? style;
    order = o ?? order;
  }
  const [currentStyle = 'ISO', currentOrder = 'MDY'] = current.split(', ');
  style ??= currentStyle;
  order ??= currentOrder;
  if (style !== 'ISO')
    throw notSupported(`DateStyle "${style}" is not supported`, 'Mallard writes dates in ISO style only.');
  return `${style}, ${order}`;
}

/** Encoding names PostgreSQL knows, compared as pg_char_to_encoding does: letters and digits, any case. */
// biome-ignore format: a table
const PG_ENCODINGS = [
  'SQL_ASCII', 'EUC_JP', 'EUC_CN', 'EUC_KR', 'EUC_TW', 'EUC_JIS_2004', 'UTF8', 'MULE_INTERNAL',
  'LATIN1', 'LATIN2', 'LATIN3', 'LATIN4', 'LATIN5', 'LATIN6', 'LATIN7', 'LATIN8', 'LATIN9', 'LATIN10',
  'WIN1256', 'WIN1258', 'WIN866', 'WIN874', 'KOI8R', 'WIN1251', 'WIN1252', 'ISO_8859_5', 'ISO_8859_6',
  'ISO_8859_7', 'ISO_8859_8', 'WIN1250', 'WIN1253', 'WIN1254', 'WIN1255', 'WIN1257', 'KOI8U', 'SJIS',
  'BIG5', 'GBK', 'UHC', 'GB18030', 'JOHAB', 'SHIFT_JIS_2004',
];

function encodingKey(name: string): string {
  let out = '';
  for (const ch of name.toLowerCase()) if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) out += ch;
  return out;
}

const ENCODING_ALIASES: Record<string, string> = {
  unicode: 'UTF8',
  utf8: 'UTF8',
  latin1: 'LATIN1',
  iso88591: 'LATIN1',
  win: 'WIN1251',
  win1252: 'WIN1252',
  windows1252: 'WIN1252',
  shiftjis: 'SJIS',
  koi8: 'KOI8R',
};

/**
 * Mallard neither stores nor converts other encodings: UTF8 is accepted, and so is SQL_ASCII, which
 * PostgreSQL too passes through unconverted (psql sends it from a C locale).
 */
function checkClientEncoding(value: string): string {
  const key = encodingKey(value);
  const name = ENCODING_ALIASES[key] ?? PG_ENCODINGS.find((e) => encodingKey(e) === key);
  if (!name) throw invalid('client_encoding', value);
  if (name !== 'UTF8' && name !== 'SQL_ASCII')
    throw notSupported(
      `conversion between ${name} and UTF8 is not supported`,
      'Mallard converts no encodings: set client_encoding to UTF8.',
    );
  return name;
}

/** PostgreSQL cleans application_name to printable ASCII and NAMEDATALEN - 1 bytes. */
function checkApplicationName(value: string): string {
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    out += c >= 32 && c <= 126 ? ch : '?';
  }
  return out.slice(0, 63);
}

function checkTimeZone(value: string): string {
  const tz = parseTimeZone(value);
  if (!tz) throw invalid('TimeZone', value);
  return tz.setting;
}

const ISOLATION_LEVELS = ['serializable', 'repeatable read', 'read committed', 'read uncommitted'];
const ISOLATION_WHY =
  'Mallard runs every transaction under DuckDB snapshot isolation (REPEATABLE READ), which does not prevent write skew.';

function any(value: string): string {
  return value;
}

const TIMEOUT_DESCRIPTION = ' Zero disables the timeout.';

// biome-ignore format: a table, one parameter per line
const DEFINITIONS: Definition[] = [
  { name: 'application_name', boot: '', report: true, check: checkApplicationName, description: 'Sets the application name to be reported in statistics and logs.' },
  { name: 'backslash_quote', boot: 'safe_encoding', check: oneOf('backslash_quote', ['safe_encoding', 'on', 'off']), description: 'Sets whether "\\\'" is allowed in string literals.' },
  { name: 'block_size', boot: '8192', fixed: true, description: 'Shows the size of a disk block.' },
  { name: 'bytea_output', boot: 'hex', check: oneOf('bytea_output', ['escape', 'hex'], ['hex'], 'Mallard writes bytea in hex format only.'), description: 'Sets the output format for bytea.' },
  { name: 'check_function_bodies', boot: 'on', check: bool('check_function_bodies'), description: 'Check routine bodies during CREATE FUNCTION and CREATE PROCEDURE.' },
  { name: 'client_encoding', boot: 'UTF8', report: true, check: checkClientEncoding, description: "Sets the client's character set encoding." },
  { name: 'client_min_messages', boot: 'notice', check: oneOf('client_min_messages', ['debug5', 'debug4', 'debug3', 'debug2', 'debug1', 'log', 'notice', 'warning', 'error']), description: 'Sets the message levels that are sent to the client.' },
  { name: 'DateStyle', boot: DATE_STYLE_BOOT, report: true, check: checkDateStyle, description: 'Sets the display format for date and time values.' },
  { name: 'default_table_access_method', boot: 'heap', check: any, description: 'Sets the default table access method for new tables.' },
  { name: 'default_tablespace', boot: '', check: any, description: 'Sets the default tablespace to create tables and indexes in.' },
  { name: 'default_text_search_config', boot: 'pg_catalog.english', check: any, description: 'Sets default text search configuration.' },
  { name: 'default_transaction_deferrable', boot: 'off', check: bool('default_transaction_deferrable'), description: 'Sets the default deferrable status of new transactions.' },
  { name: 'default_transaction_isolation', boot: 'repeatable read', check: oneOf('default_transaction_isolation', ISOLATION_LEVELS, ISOLATION_LEVELS.slice(1), ISOLATION_WHY), description: 'Sets the transaction isolation level of each new transaction.' },
  { name: 'default_transaction_read_only', boot: 'off', report: true, check: bool('default_transaction_read_only'), description: 'Sets the default read-only status of new transactions.' },
  { name: 'escape_string_warning', boot: 'on', check: bool('escape_string_warning'), description: 'Warn about backslash escapes in ordinary string literals.' },
  { name: 'extra_float_digits', boot: '1', check: integer('extra_float_digits', -15, 3), description: 'Sets the number of digits displayed for floating-point values.' },
  { name: 'idle_in_transaction_session_timeout', boot: '0', check: integer('idle_in_transaction_session_timeout', 0, INT_MAX, TIME_UNITS), description: `Sets the maximum allowed idle time between queries, when in a transaction.${TIMEOUT_DESCRIPTION}` },
  { name: 'idle_session_timeout', boot: '0', check: integer('idle_session_timeout', 0, INT_MAX, TIME_UNITS), description: `Sets the maximum allowed idle time between queries, when not in a transaction.${TIMEOUT_DESCRIPTION}` },
  { name: 'in_hot_standby', boot: 'off', report: true, fixed: true, description: 'Shows whether hot standby is currently active.' },
  { name: 'integer_datetimes', boot: 'on', report: true, fixed: true, description: 'Shows whether datetimes are integer based.' },
  { name: 'IntervalStyle', boot: 'postgres', report: true, check: oneOf('IntervalStyle', ['postgres', 'postgres_verbose', 'sql_standard', 'iso_8601'], ['postgres'], 'Mallard writes intervals in postgres style only.'), description: 'Sets the display format for interval values.' },
  { name: 'is_superuser', boot: 'on', report: true, fixed: true, description: 'Shows whether the current user is a superuser.' },
  { name: 'jit', boot: 'off', check: bool('jit'), description: 'Allow JIT compilation.' },
  { name: 'lc_collate', boot: 'C', fixed: true, description: 'Shows the collation order locale.' },
  { name: 'lc_ctype', boot: 'C', fixed: true, description: 'Shows the character classification and case conversion locale.' },
  { name: 'lc_messages', boot: 'C', check: any, description: 'Sets the language in which messages are displayed.' },
  { name: 'lc_monetary', boot: 'C', check: any, description: 'Sets the locale for formatting monetary amounts.' },
  { name: 'lc_numeric', boot: 'C', check: any, description: 'Sets the locale for formatting numbers.' },
  { name: 'lc_time', boot: 'C', check: any, description: 'Sets the locale for formatting date and time values.' },
  { name: 'lock_timeout', boot: '0', check: integer('lock_timeout', 0, INT_MAX, TIME_UNITS), description: `Sets the maximum allowed duration of any wait for a lock.${TIMEOUT_DESCRIPTION}` },
  { name: 'maintenance_work_mem', boot: '64MB', check: integer('maintenance_work_mem', 1024, INT_MAX, MEMORY_UNITS, 'kB'), description: 'Sets the maximum memory to be used for maintenance operations.' },
  { name: 'max_identifier_length', boot: '63', fixed: true, description: 'Shows the maximum identifier length.' },
  { name: 'row_security', boot: 'on', check: bool('row_security'), description: 'Enable row security.' },
  { name: 'search_path', boot: '"$user", public', check: any, description: 'Sets the schema search order for names that are not schema-qualified.' },
  { name: 'server_encoding', boot: 'UTF8', report: true, fixed: true, description: 'Shows the server (database) character set encoding.' },
  { name: 'server_version', boot: PG_SERVER_VERSION, report: true, fixed: true, description: 'Shows the server version.' },
  { name: 'server_version_num', boot: PG_SERVER_VERSION_NUM, report: true, fixed: true, description: 'Shows the server version as an integer.' },
  { name: 'session_authorization', boot: '', report: true, fixed: true, description: 'Sets the session user name.' },
  { name: 'standard_conforming_strings', boot: 'on', report: true, check: fixedBool('standard_conforming_strings', 'on', "Mallard's SQL treats backslashes in '...' literally."), description: "Causes '...' strings to treat backslashes literally." },
  { name: 'statement_timeout', boot: '0', check: integer('statement_timeout', 0, INT_MAX, TIME_UNITS), description: `Sets the maximum allowed duration of any statement.${TIMEOUT_DESCRIPTION}` },
  { name: 'synchronous_commit', boot: 'on', check: oneOf('synchronous_commit', ['local', 'remote_write', 'remote_apply', 'on', 'off']), description: "Sets the current transaction's synchronization level." },
  { name: 'TimeZone', boot: 'UTC', report: true, check: checkTimeZone, description: 'Sets the time zone for displaying and interpreting time stamps.' },
  { name: 'timezone_abbreviations', boot: 'Default', check: any, description: 'Selects a file of time zone abbreviations.' },
  { name: 'transaction_deferrable', boot: 'off', check: bool('transaction_deferrable'), description: 'Whether to defer a read-only serializable transaction until it can be executed with no possible serialization failures.' },
  { name: 'transaction_isolation', boot: 'repeatable read', check: oneOf('transaction_isolation', ISOLATION_LEVELS, ISOLATION_LEVELS.slice(1), ISOLATION_WHY), description: "Sets the current transaction's isolation level." },
  { name: 'transaction_read_only', boot: 'off', check: bool('transaction_read_only'), description: "Sets the current transaction's read-only status." },
  { name: 'work_mem', boot: '4MB', check: integer('work_mem', 64, INT_MAX, MEMORY_UNITS, 'kB'), description: 'Sets the maximum memory to be used for query workspaces.' },
  { name: 'xmloption', boot: 'content', check: oneOf('xmloption', ['content', 'document']), description: 'Sets whether XML data in implicit parsing and serialization operations is to be considered as documents or content fragments.' },
];

const BY_KEY = new Map(DEFINITIONS.map((d) => [d.name.toLowerCase(), d]));

/** Parameters that only live for the current transaction: set from the defaults at BEGIN. */
const TRANSACTION_SCOPED = ['transaction_isolation', 'transaction_read_only', 'transaction_deferrable'];

/** A custom placeholder such as `myapp.user_id`: any dotted name takes any string, as in PostgreSQL. */
function isCustom(key: string): boolean {
  return key.includes('.');
}

interface TransactionEntry {
  /** The value before the transaction: restored on ROLLBACK. */
  before: string | undefined;
  /** The value to keep at COMMIT: the last plain SET, or `before` when only SET LOCAL touched it. */
  committed: string | undefined;
}

/** Fields SessionSettings exposes parsed, for the session's hot paths. */
interface Derived {
  timeZone: ParsedTimeZone;
  extraFloatDigits: number;
  statementTimeoutMs: number;
}

/**
 * PostgreSQL run-time parameters (GUCs) as one session sees them: SET, SET LOCAL, RESET, SHOW and
 * the ParameterStatus reports. Values are validated and canonicalised as PostgreSQL does, with its
 * error messages and SQLSTATEs; values Mallard cannot honour (DateStyle SQL, IntervalStyle
 * sql_standard, bytea_output escape, client encodings other than UTF8, SERIALIZABLE) are refused
 * with 0A000 rather than accepted and ignored.
 *
 * Transactions: a SET inside a transaction is undone by ROLLBACK; a SET LOCAL lasts until the
 * transaction ends either way. Savepoints are not modelled.
 *
 * Isolation: every DuckDB transaction is snapshot isolation, which is PostgreSQL's REPEATABLE READ,
 * so that is the default. READ COMMITTED and READ UNCOMMITTED are accepted (and shown as requested,
 * like PostgreSQL shows READ UNCOMMITTED while giving READ COMMITTED): the guarantee given is stronger.
 *
 * ParameterStatus: set() returns the report for its own change; takeReports() hands out every other
 * change not yet reported (startup values, set_config() from rewriteQuery, reverts at transaction
 * end). Each value is handed out once, whichever way, so a session that sends set()'s `reported` and
 * calls takeReports() before every ReadyForQuery sends each change exactly once.
 */
export class SessionSettings {
  private readonly values = new Map<string, string>();
  /** RESET goes back to these: the startup packet's values over the built-in defaults. */
  private readonly resetValues = new Map<string, string>();
  /** The value last handed out for ParameterStatus, per reported key. */
  private readonly lastReported = new Map<string, string>();
  private transaction: Map<string, TransactionEntry> | null = null;
  private derived: Derived;

  /**
   * @param initial startup-packet parameters (after the session removed `user`, `database`,
   *   `options`, `replication`), plus `session_authorization` set to the authenticated user.
   *   An unknown name or an invalid value throws the PgError PostgreSQL would send as FATAL.
   */
  constructor(initial: Record<string, string> = {}) {
    for (const d of DEFINITIONS) this.values.set(d.name.toLowerCase(), d.boot);
    for (const [name, value] of Object.entries(initial)) {
      const key = name.toLowerCase();
      const def = BY_KEY.get(key);
      if (!def && !isCustom(key)) throw unrecognized(name);
      // The server sets session_authorization itself at startup; clients cannot otherwise change fixed ones.
      if (def?.fixed && key !== 'session_authorization') throw cannotChange(def.name);
      this.values.set(key, def?.check ? def.check(value, this.values.get(key)!) : value);
    }
    for (const [k, v] of this.values) this.resetValues.set(k, v);
    this.derived = this.derive();
  }

  /**
   * A startup-packet parameter: validated like SET, and it also becomes the value RESET returns to,
   * as in PostgreSQL. Throws 42704 for an unknown name (the session may log and skip it). Nothing is
   * reported here: takeReports() before the first ReadyForQuery hands out every reported value.
   */
  setStartup(name: string, value: string): void {
    const key = name.toLowerCase();
    const def = BY_KEY.get(key);
    if (!def && !isCustom(key)) throw unrecognized(name);
    const next = def?.fixed && key === 'session_authorization' ? value : this.check(name, value);
    this.values.set(key, next);
    this.resetValues.set(key, next);
    this.derived = this.derive();
  }

  /** The current value, as SHOW prints it. Throws 42704 for an unknown parameter. */
  get(name: string): string {
    const value = this.find(name);
    if (value === undefined) throw unrecognized(name);
    return value;
  }

  /** Like get, but undefined for an unknown parameter: current_setting(name, true). */
  find(name: string): string | undefined {
    const key = name.toLowerCase();
    // Outside a block every statement is its own transaction, which starts from the defaults.
    if (!this.transaction && TRANSACTION_SCOPED.includes(key)) return this.values.get(`default_${key}`);
    return this.values.get(key);
  }

  /** PostgreSQL's spelling of a parameter name, the column name of SHOW: `timezone` → `TimeZone`. */
  canonicalName(name: string): string {
    const key = name.toLowerCase();
    const def = BY_KEY.get(key);
    if (def) return def.name;
    if (this.values.has(key)) return key;
    throw unrecognized(name);
  }

  /**
   * Validates and canonicalises a value without applying it (the result set_config returns).
   * `null` means DEFAULT: the reset value.
   */
  check(name: string, value: string | null): string {
    const key = name.toLowerCase();
    const def = BY_KEY.get(key);
    if (!def) {
      if (!isCustom(key)) throw unrecognized(name);
      return value ?? this.resetValues.get(key) ?? '';
    }
    if (def.fixed) throw cannotChange(def.name);
    if (value === null) return this.resetValues.get(key)!;
    return def.check ? def.check(value, this.values.get(key)!) : value;
  }

  /**
   * SET name = value (value null: SET name TO DEFAULT). With `local`, only until the transaction
   * ends; outside a transaction block SET LOCAL does nothing and returns a warning, as in PostgreSQL.
   */
  set(name: string, value: string | null, options: { local?: boolean } = {}): SetResult {
    const key = name.toLowerCase();
    const next = this.check(name, value);
    if (TRANSACTION_SCOPED.includes(key) && !this.transaction) {
      return { warning: warning('SET TRANSACTION can only be used in transaction blocks') };
    }
    if (options.local && !this.transaction) {
      return { warning: warning('SET LOCAL can only be used in transaction blocks') };
    }
    this.assign(key, next, options.local === true);
    return this.report(key);
  }

  /**
   * set_config(name, value, is_local): like SET, but its ParameterStatus is left for takeReports(),
   * since it runs inside a query. Returns the value as SHOW now shows it (set_config's result).
   */
  setConfig(name: string, value: string | null, local: boolean): string {
    const key = name.toLowerCase();
    const next = this.check(name, value);
    // Outside a transaction block, a local setting lasts only for the statement: nothing to keep.
    if (local && !this.transaction) return next;
    if (TRANSACTION_SCOPED.includes(key) && !this.transaction) return next;
    this.assign(key, next, local);
    return next;
  }

  /** RESET name: back to the session's startup value. */
  reset(name: string): SetResult {
    if (name.toLowerCase() === 'all') {
      this.resetAll();
      return {};
    }
    return this.set(name, null);
  }

  /** RESET ALL (and DISCARD ALL): every settable parameter back to its startup value; custom ones vanish. */
  resetAll(): void {
    for (const key of [...this.values.keys()]) {
      const def = BY_KEY.get(key);
      if (def?.fixed || TRANSACTION_SCOPED.includes(key)) continue;
      // A custom placeholder stays defined, with an empty value, as in PostgreSQL.
      this.assign(key, this.resetValues.get(key) ?? '', false);
    }
  }

  /** SHOW ALL, sorted by name as PostgreSQL sorts it. */
  all(): SettingRow[] {
    const rows: SettingRow[] = [];
    for (const [key, setting] of this.values) {
      const def = BY_KEY.get(key);
      rows.push({ name: def?.name ?? key, setting, description: def?.description ?? '' });
    }
    return rows.sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
  }

  /**
   * BEGIN / START TRANSACTION (or the first statement of an implicit transaction block). The
   * transaction's isolation and read-only status start from the defaults, then from the options.
   */
  beginTransaction(options: { isolation?: string; readOnly?: boolean } = {}): void {
    this.transaction = new Map();
    for (const key of TRANSACTION_SCOPED) this.assign(key, this.values.get(`default_${key}`), true);
    if (options.isolation !== undefined)
      this.set('transaction_isolation', options.isolation, { local: true });
    if (options.readOnly !== undefined)
      this.set('transaction_read_only', options.readOnly ? 'on' : 'off', { local: true });
  }

  /**
   * COMMIT (true) or ROLLBACK (false). Returns the ParameterStatus messages to send for reported
   * parameters whose value changed back (the same ones takeReports would hand out).
   */
  endTransaction(commit: boolean): [name: string, value: string][] {
    const tx = this.transaction;
    if (!tx) return [];
    this.transaction = null;
    for (const [key, entry] of tx) {
      const value = commit ? entry.committed : entry.before;
      if (value === undefined) this.values.delete(key);
      else this.values.set(key, value);
    }
    this.derived = this.derive();
    return this.takeReports();
  }

  /** True between beginTransaction and endTransaction. */
  get inTransaction(): boolean {
    return this.transaction !== null;
  }

  /**
   * The reported parameters whose value differs from what was last handed out, each once. At
   * startup this is all of them (send before the first ReadyForQuery); afterwards call it before each
   * ReadyForQuery, as PostgreSQL 14+ does, to catch changes made by set_config() or transaction end.
   */
  takeReports(): [name: string, value: string][] {
    const out: [string, string][] = [];
    for (const d of DEFINITIONS) {
      if (!d.report) continue;
      const key = d.name.toLowerCase();
      const value = this.values.get(key)!;
      if (this.lastReported.get(key) !== value) {
        this.lastReported.set(key, value);
        out.push([d.name, value]);
      }
    }
    return out;
  }

  /** True for GUC_REPORT parameters, which the client learns of through ParameterStatus. */
  isReported(name: string): boolean {
    return BY_KEY.get(name.toLowerCase())?.report === true;
  }

  /**
   * The TimeZone setting for the codecs' EncodeOptions.timeZone (protocol/pg/types/TimeZone.ts reads
   * it with PostgreSQL's rules: an IANA name, or a POSIX offset counted west of Greenwich).
   */
  get timeZone(): string {
    return this.derived.timeZone.setting;
  }

  /**
   * The time zone for DuckDB's `SET TimeZone`, or null when ICU has no equivalent (a fixed offset that
   * is not a whole number of hours): the executor mirrors it so timestamptz casts agree.
   */
  get duckdbTimeZone(): string | null {
    return duckdbTimeZone(this.derived.timeZone);
  }

  get extraFloatDigits(): number {
    return this.derived.extraFloatDigits;
  }

  /** statement_timeout in milliseconds; 0 means none. */
  get statementTimeoutMs(): number {
    return this.derived.statementTimeoutMs;
  }

  private assign(key: string, value: string | undefined, local: boolean): void {
    const tx = this.transaction;
    if (tx) {
      let entry = tx.get(key);
      if (!entry) {
        const before = this.values.get(key);
        entry = { before, committed: before };
        tx.set(key, entry);
      }
      if (!local) entry.committed = value;
    }
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, value);
    if (key === 'timezone' || key === 'extra_float_digits' || key === 'statement_timeout')
      this.derived = this.derive();
  }

  private report(key: string): SetResult {
    const def = BY_KEY.get(key);
    if (!def?.report) return {};
    const value = this.values.get(key)!;
    if (this.lastReported.get(key) === value) return {};
    this.lastReported.set(key, value);
    return { reported: [def.name, value] };
  }

  private derive(): Derived {
    return {
      timeZone: parseTimeZone(this.get('TimeZone'))!,
      extraFloatDigits: Number(this.get('extra_float_digits')),
      statementTimeoutMs: toBase(this.get('statement_timeout'), TIME_UNITS, 'ms'),
    };
  }
}

function unrecognized(name: string): PgError {
  return new PgError(SqlState.UndefinedObject, `unrecognized configuration parameter "${name}"`);
}

/** A read-only (internal or fixed) parameter: PostgreSQL's set_config_option answers 55P02. */
function cannotChange(name: string): PgError {
  return new PgError(SqlState.CantChangeRuntimeParam, `parameter "${name}" cannot be changed`);
}

function warning(message: string): PgError {
  return new PgError(SqlState.NoActiveSqlTransaction, message, { severity: 'WARNING' });
}
