import { PgError } from '../PgError.js';
import { SqlState } from '../sqlstate.js';
import { floatOutOfRange, invalidSyntax, valueOutOfRange } from './inputErrors.js';

// PostgreSQL's text input for bool, integers, floats and numeric (boolin, int4in, float8in, numeric_in).

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** `text` without PostgreSQL's ignorable leading and trailing whitespace. */
export function trimSpace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** boolin: t/true/y/yes/on/1 and f/false/n/no/off/0, any case, any unambiguous prefix. */
export function parseBool(text: string): boolean {
  const s = trimSpace(text).toLowerCase();
  const n = s.length;
  if (n > 0) {
    switch (s[0]) {
      case 't':
        if ('true'.startsWith(s)) return true;
        break;
      case 'f':
        if ('false'.startsWith(s)) return false;
        break;
      case 'y':
        if ('yes'.startsWith(s)) return true;
        break;
      case 'n':
        if ('no'.startsWith(s)) return false;
        break;
      case 'o':
        // "o" alone is ambiguous between on and off.
        if (n >= 2 && 'on'.startsWith(s)) return true;
        if (n >= 2 && 'off'.startsWith(s)) return false;
        break;
      case '1':
        if (n === 1) return true;
        break;
      case '0':
        if (n === 1) return false;
        break;
      default:
        break;
    }
  }
  throw invalidSyntax('boolean', text);
}

/**
 * int2in/int4in/int8in: optional whitespace, sign, decimal digits, whitespace. Checked against
 * [min, max]; `typeName` is what the error messages call the type (`integer`, `smallint`, ...).
 */
export function parseInteger(text: string, typeName: string, min: bigint, max: bigint): bigint {
  const s = trimSpace(text);
  let i = 0;
  if (s[0] === '+' || s[0] === '-') i = 1;
  if (i === s.length) throw invalidSyntax(typeName, text);
  for (let j = i; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c < 0x30 || c > 0x39) throw invalidSyntax(typeName, text);
  }
  const value = BigInt(s);
  if (value < min || value > max) throw valueOutOfRange(typeName, text);
  return value;
}

const DECIMAL_SYNTAX = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function specialFloat(s: string): number | null {
  switch (s.toLowerCase()) {
    case 'nan':
    case '+nan':
    case '-nan':
      return Number.NaN;
    case 'infinity':
    case '+infinity':
    case 'inf':
    case '+inf':
      return Number.POSITIVE_INFINITY;
    case '-infinity':
    case '-inf':
      return Number.NEGATIVE_INFINITY;
    default:
      return null;
  }
}

function hasNonZeroDigit(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x65 || c === 0x45) return false; // the exponent does not count
    if (c >= 0x31 && c <= 0x39) return true;
  }
  return false;
}

/** float8in (`float32` false) or float4in (`float32` true): decimal syntax, NaN, Infinity, inf. */
export function parseFloatValue(text: string, float32: boolean): number {
  const typeName = float32 ? 'real' : 'double precision';
  const s = trimSpace(text);
  const special = specialFloat(s);
  if (special !== null) return special;
  if (!DECIMAL_SYNTAX.test(s)) throw invalidSyntax(typeName, text);
  const value = float32 ? Math.fround(Number(s)) : Number(s);
  if (!Number.isFinite(value) || (value === 0 && hasNonZeroDigit(s))) throw floatOutOfRange(typeName, s);
  return value;
}

/** A parsed numeric: a finite `unscaled / 10^scale`, or one of numeric's special values. */
export type NumericInput =
  | { readonly kind: 'finite'; readonly unscaled: bigint; readonly scale: number }
  | { readonly kind: 'nan' | 'infinity' | '-infinity' };

/** numeric_in: decimal syntax with optional exponent, NaN, Infinity. Scale is the digits after the point. */
export function parseNumeric(text: string, typeName = 'numeric'): NumericInput {
  const s = trimSpace(text);
  const special = specialFloat(s);
  if (special !== null) {
    if (Number.isNaN(special)) return { kind: 'nan' };
    return { kind: special > 0 ? 'infinity' : '-infinity' };
  }
  if (!DECIMAL_SYNTAX.test(s)) throw invalidSyntax(typeName, text);
  let body = s;
  let exponent = 0;
  const e = body.search(/[eE]/);
  if (e >= 0) {
    exponent = Number(body.slice(e + 1));
    body = body.slice(0, e);
    if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 1000) throw invalidSyntax(typeName, text);
  }
  let negative = false;
  if (body[0] === '+' || body[0] === '-') {
    negative = body[0] === '-';
    body = body.slice(1);
  }
  const dot = body.indexOf('.');
  const fraction = dot < 0 ? '' : body.slice(dot + 1);
  const digits = dot < 0 ? body : body.slice(0, dot) + fraction;
  let scale = fraction.length - exponent;
  let unscaled = BigInt(digits === '' ? '0' : digits);
  if (scale < 0) {
    unscaled *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { kind: 'finite', unscaled: negative ? -unscaled : unscaled, scale };
}

/** `unscaled / 10^from` re-expressed with `to` digits after the point, rounding halves away from zero. */
export function rescale(unscaled: bigint, from: number, to: number): bigint {
  if (to >= from) return unscaled * 10n ** BigInt(to - from);
  const divisor = 10n ** BigInt(from - to);
  const q = unscaled / divisor;
  const r = unscaled - q * divisor;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice >= divisor) return unscaled < 0n ? q - 1n : q + 1n;
  return q;
}

/**
 * A numeric fitted to DECIMAL(width, scale): rounded to `scale` digits, then checked to have at most
 * width - scale integer digits (22003 `numeric field overflow`, with PostgreSQL's detail).
 */
export function fitDecimal(input: NumericInput, width: number, scale: number): bigint {
  if (input.kind !== 'finite') {
    if (input.kind === 'nan') {
      throw new PgError(SqlState.FeatureNotSupported, 'DuckDB DECIMAL cannot hold NaN', {
        hint: 'Declare the parameter as double precision to pass NaN.',
      });
    }
    throw new PgError(SqlState.NumericValueOutOfRange, 'numeric field overflow', {
      detail: `A field with precision ${width}, scale ${scale} cannot hold an infinite value.`,
    });
  }
  const value = rescale(input.unscaled, input.scale, scale);
  const limit = 10n ** BigInt(width);
  if (value >= limit || value <= -limit) {
    const integerDigits = width - scale;
    throw new PgError(SqlState.NumericValueOutOfRange, 'numeric field overflow', {
      detail: `A field with precision ${width}, scale ${scale} must round to an absolute value less than ${
        integerDigits === 0 ? '1' : `10^${integerDigits}`
      }.`,
    });
  }
  return value;
}

/** A numeric as an integer in [min, max], rounding halves away from zero as numeric → bigint casts do. */
export function numericToInteger(
  input: NumericInput,
  typeName: string,
  text: string,
  min: bigint,
  max: bigint,
): bigint {
  if (input.kind !== 'finite') {
    throw new PgError(
      SqlState.FeatureNotSupported,
      `cannot convert ${input.kind === 'nan' ? 'NaN' : 'infinity'} to ${typeName}`,
    );
  }
  const value = rescale(input.unscaled, input.scale, 0);
  if (value < min || value > max) throw valueOutOfRange(typeName, text);
  return value;
}
