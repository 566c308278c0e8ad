import { roundedDigits, shortestFloat32Digits, shortestFloat64Digits } from './shortestDigits.js';

// PostgreSQL's float4/float8 text output. With extra_float_digits > 0 (the default, 1) it is the
// shortest string that reads back to the same value (Ryu), written in fixed notation when the decimal
// exponent is in [-4, 15) for float8 or [-4, 6) for float4, else as `d.ddde+XX`. With
// extra_float_digits <= 0 it is C's `%.*g` with 15 (float8) or 6 (float4) plus extra_float_digits digits.

/** PostgreSQL's text for a float8. */
export function float8Text(value: number, extraFloatDigits: number): string {
  // Fast path first: the common case must not allocate beyond the result string.
  if (extraFloatDigits > 0) {
    const abs = value < 0 ? -value : value;
    // JS writes fixed notation for [1e-7, 1e21) with the same shortest digits Ryu picks.
    if (abs >= 1e-4 && abs < 1e15) return String(value);
    return shortestFloat8(value);
  }
  return printfG(value, 15 + extraFloatDigits);
}

/** PostgreSQL's text for a float4; `value` is the float32 widened to a JS number. */
export function float4Text(value: number, extraFloatDigits: number): string {
  if (extraFloatDigits > 0) {
    const special = specialText(value);
    if (special !== null) return special;
    const [digits, exponent] = shortestFloat32Digits(value);
    return decimalLayout(value < 0, digits, exponent, 6);
  }
  return printfG(value, 6 + extraFloatDigits);
}

function specialText(value: number): string | null {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (value === 0) return 1 / value < 0 ? '-0' : '0';
  return null;
}

function shortestFloat8(value: number): string {
  const special = specialText(value);
  if (special !== null) return special;
  const [digits, exponent] = shortestFloat64Digits(value);
  return decimalLayout(value < 0, digits, exponent, 15);
}

/**
 * Lays out significant `digits` (first digit at 10^exponent) as PostgreSQL's shortest output does:
 * fixed notation for -4 <= exponent < fixedLimit, otherwise `d.ddde±XX` with at least two exponent digits.
 */
function decimalLayout(negative: boolean, digits: string, exponent: number, fixedLimit: number): string {
  let out: string;
  if (exponent >= -4 && exponent < fixedLimit) {
    if (exponent < 0) out = `0.${'0'.repeat(-exponent - 1)}${digits}`;
    else if (digits.length <= exponent + 1) out = digits + '0'.repeat(exponent + 1 - digits.length);
    else out = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  } else {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    out = mantissa + exponentText(exponent);
  }
  return negative ? `-${out}` : out;
}

function exponentText(exponent: number): string {
  const abs = Math.abs(exponent);
  return `e${exponent < 0 ? '-' : '+'}${abs < 10 ? `0${abs}` : abs}`;
}

/** C's `%.{precision}g`, with PostgreSQL's spellings of the special values. */
function printfG(value: number, precision: number): string {
  const special = specialText(value);
  if (special !== null) return special;
  const p = Math.max(1, precision);
  const [digits, exponent] = roundedDigits(value, p);
  let out: string;
  if (exponent < -4 || exponent >= p) {
    out = (digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits) + exponentText(exponent);
  } else if (exponent < 0) {
    out = `0.${'0'.repeat(-exponent - 1)}${digits}`;
  } else if (digits.length <= exponent + 1) {
    out = digits + '0'.repeat(exponent + 1 - digits.length);
  } else {
    out = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  }
  return value < 0 ? `-${out}` : out;
}
