/**
 * PostgreSQL's interval field qualifiers (`interval '3' month`, `'1-2'::interval year to month`) live in
 * the type's typmod, which pgsql-deparser writes back as `CAST('3' AS interval month)`. DuckDB reads
 * that cast without its qualifier, so `'3'` would become 3 seconds. Statements that go through the
 * deparser are first rewritten here so that the literal carries its unit: `CAST('3 month' AS interval)`.
 */

/** PostgreSQL's interval field bits (datetime.h), as the first typmod of an interval type. */
const YEAR = 1 << 2;
const MONTH = 1 << 1;
const DAY = 1 << 3;
const HOUR = 1 << 10;
const MINUTE = 1 << 11;
const SECOND = 1 << 12;
/** INTERVAL_FULL_RANGE: no field qualifier (e.g. `interval(2)`). */
const FULL_RANGE = 0x7fff;

const SINGLE_FIELDS: ReadonlyMap<number, string> = new Map([
  [YEAR, 'year'],
  [MONTH, 'month'],
  [DAY, 'day'],
  [HOUR, 'hour'],
  [MINUTE, 'minute'],
  [SECOND, 'second'],
]);

type Node = Record<string, unknown>;

/**
 * Rewrites, in place, every cast of a string literal to an interval with a field qualifier into a cast
 * of an equivalent literal with units and no qualifier. Returns whether anything changed. Literals whose
 * form it does not know keep their qualifier (and DuckDB's reading).
 */
export function qualifyIntervalLiterals(root: unknown): boolean {
  let changed = false;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const cast = (node as Node)['TypeCast'] as Node | undefined;
    if (cast && rewriteCast(cast)) changed = true;
    for (const v of Object.values(node as Node)) visit(v);
  };
  visit(root);
  return changed;
}

function rewriteCast(cast: Node): boolean {
  const typeName = cast['typeName'] as Node | undefined;
  const names = (typeName?.['names'] ?? []) as Node[];
  const last = (names.at(-1)?.['String'] as Node | undefined)?.['sval'];
  const typmods = typeName?.['typmods'] as Node[] | undefined;
  if (last !== 'interval' || !typmods?.length) return false;
  const mask = intConst(typmods[0]);
  const literal = cast['arg'] as Node | undefined;
  const text = ((literal?.['A_Const'] as Node | undefined)?.['sval'] as Node | undefined)?.['sval'];
  if (mask === null || typeof text !== 'string') return false;
  const units = mask === FULL_RANGE ? text : withUnits(text.trim(), mask);
  if (units === null) return false;
  ((literal!['A_Const'] as Node)['sval'] as Node)['sval'] = units;
  delete typeName!['typmods'];
  return true;
}

function intConst(node: Node | undefined): number | null {
  const ival = ((node?.['A_Const'] as Node | undefined)?.['ival'] as Node | undefined)?.['ival'];
  return typeof ival === 'number' ? ival : null;
}

/** Whether `s` is one or more ASCII digits. */
function isDigits(s: string): boolean {
  if (!s.length) return false;
  for (const ch of s) if (ch < '0' || ch > '9') return false;
  return true;
}

/** Whether `s` is a decimal number: an optional sign, digits, and an optional fraction. */
function isNumber(s: string): boolean {
  const unsigned = s.startsWith('+') || s.startsWith('-') ? s.slice(1) : s;
  const [whole = '', fraction, ...more] = unsigned.split('.');
  if (more.length) return false;
  if (fraction === undefined) return isDigits(whole);
  return (whole === '' || isDigits(whole)) && (fraction === '' ? whole !== '' : isDigits(fraction));
}

function unsign(s: string): string {
  return s.startsWith('+') || s.startsWith('-') ? s.slice(1) : s;
}

/** The literal `text` read under field mask `mask`, spelled with units; null for a form not known here. */
function withUnits(text: string, mask: number): string | null {
  const single = SINGLE_FIELDS.get(mask);
  if (single) return isNumber(text) ? `${text} ${single}` : null;
  if (mask === (YEAR | MONTH)) {
    // 'Y-M', optionally signed as a whole.
    const sign = text.startsWith('-') ? '-' : '';
    const [y, m, ...rest] = unsign(text).split('-');
    if (rest.length || !y || !isDigits(y) || (m !== undefined && !isDigits(m))) return null;
    return `${sign}${y} year ${sign}${m ?? '0'} month`;
  }
  const clock = (parts: string[], unit: readonly string[]): string | null => {
    const ok = parts.every((p, i) => (i === parts.length - 1 ? isNumber(p) && unsign(p) === p : isDigits(p)));
    if (!parts.length || parts.length > unit.length || !ok) return null;
    return parts.map((p, i) => `${p} ${unit[i]}`).join(' ');
  };
  if (mask === (DAY | HOUR) || mask === (DAY | HOUR | MINUTE) || mask === (DAY | HOUR | MINUTE | SECOND)) {
    // 'D H[:M[:S]]'
    const [d, time, ...rest] = text.split(' ');
    if (rest.length || !d || !isDigits(unsign(d))) return null;
    const t = time === undefined ? '' : clock(time.split(':'), ['hour', 'minute', 'second']);
    return t === null ? null : `${d} day${t ? ` ${t}` : ''}`;
  }
  if (mask === (HOUR | MINUTE) || mask === (HOUR | MINUTE | SECOND))
    return clock(text.split(':'), ['hour', 'minute', 'second']);
  if (mask === (MINUTE | SECOND)) return clock(text.split(':'), ['minute', 'second']);
  return null;
}
