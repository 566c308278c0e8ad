// Shortest round-trip decimal digits of doubles and of float32 values, as PostgreSQL's copy of Ryu
// computes them. PostgreSQL builds Ryu without STRICTLY_SHORTEST, so a decimal lying exactly halfway
// between two floats is never chosen, even where JS (which accepts such halfway points when the
// float's mantissa is even) would print it: 55807310255803056 is `5.5807310255803056e+16` in
// PostgreSQL but `55807310255803060` in JS. Those halfway cases need |value| >= 2^52 for doubles, so
// the check costs nothing on the common path.

/** `"-1.25e-7"` → [`125`, -7]: the significant digits without sign or point, and the decimal exponent. */
function splitExponential(text: string): [string, number] {
  const e = text.indexOf('e');
  let mantissa = text.slice(text.charCodeAt(0) === 45 ? 1 : 0, e);
  const dot = mantissa.indexOf('.');
  if (dot >= 0) mantissa = mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  return [mantissa, Number(text.slice(e + 1))];
}

const scratch = new DataView(new ArrayBuffer(8));

/** |value| as m * 2^e with m an integer (m = 0 for zero). */
function decompose64(value: number): [bigint, number] {
  scratch.setFloat64(0, value);
  const hi = scratch.getUint32(0);
  const lo = scratch.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return [m, -1074];
  m |= 1n << 52n;
  return [m, biased - 1075];
}

function decompose32(value: number): [bigint, number] {
  scratch.setFloat32(0, value);
  const bits = scratch.getUint32(0);
  const biased = (bits >>> 23) & 0xff;
  let m = BigInt(bits & 0x7fffff);
  if (biased === 0) return [m, -149];
  m |= 1n << 23n;
  return [m, biased - 150];
}

/** The exact decimal digits (no trailing zeros) and exponent of m * 2^e, m > 0. */
function exactDecimal(m: bigint, e: number): [string, number] {
  let digits: string;
  let exponent: number;
  if (e >= 0) {
    digits = (m << BigInt(e)).toString();
    exponent = digits.length - 1;
  } else {
    digits = (m * 5n ** BigInt(-e)).toString();
    exponent = digits.length - 1 + e;
  }
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  return [digits.slice(0, end), exponent];
}

/** The exact digits and exponent of a finite non-zero double's magnitude. */
function exactDigits(value: number): [string, number] {
  const [m, e] = decompose64(Math.abs(value));
  return exactDecimal(m, e);
}

/** True when digits·10^(exponent-len+1) is exactly halfway between the float m·2^e and a neighbour. */
function onHalfway(m: bigint, e: number, mantissaBits: number, digits: string, exponent: number): boolean {
  const candidates: [bigint, number][] = [[2n * m + 1n, e - 1]];
  // Below a power of two the gap to the next float down is half as wide.
  if (m === 1n << BigInt(mantissaBits) && e > -1074) candidates.push([4n * m - 1n, e - 2]);
  else candidates.push([2n * m - 1n, e - 1]);
  for (const [mm, ee] of candidates) {
    const [d, x] = exactDecimal(mm, ee);
    if (d === digits && x === exponent) return true;
  }
  return false;
}

function stripZeros(digits: string): string {
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  return digits.slice(0, end);
}

/**
 * The shortest digits at or above `minLength` that read back to `abs` (per `roundTrips`) without lying
 * on a halfway point; at each length the correctly rounded candidate and its neighbours, closest first.
 */
function shortestStrict(
  abs: number,
  exact: [bigint, number],
  minLength: number,
  maxLength: number,
  roundTrips: (text: string) => boolean,
  halfway: (digits: string, exponent: number) => boolean,
): [string, number] {
  const [m, e] = exact;
  for (let precision = minLength; precision <= maxLength; precision++) {
    const [digits, exponent] = splitExponential(abs.toExponential(precision - 1));
    const scale = exponent - precision + 1;
    const center = BigInt(digits);
    // Distances compared exactly: value and candidates over the common denominator 2^a·10^b.
    const a = BigInt(Math.max(0, -e));
    const b = BigInt(Math.max(0, -scale));
    const valueScaled = (m << (BigInt(e) + a)) * 10n ** b;
    const candidateFactor = (10n ** (BigInt(scale) + b)) << a;
    let best: [string, number] | null = null;
    let bestError = -1n;
    for (const candidate of [center, center - 1n, center + 1n]) {
      if (candidate <= 0n) continue;
      const text = `${candidate}e${scale}`;
      if (!roundTrips(text)) continue;
      const raw = candidate.toString();
      const d = stripZeros(raw);
      const x = scale + raw.length - 1;
      if (halfway(d, x)) continue;
      // Closest wins; an exact tie goes to the even digit, as Ryu rounds.
      let error = candidate * candidateFactor - valueScaled;
      if (error < 0n) error = -error;
      if (best === null || error < bestError || (error === bestError && candidate % 2n === 0n)) {
        best = [d, x];
        bestError = error;
      }
    }
    if (best !== null) return best;
  }
  return splitExponential(abs.toExponential(maxLength - 1));
}

const TWO_52 = 4503599627370496;

/**
 * A cheap necessary condition for digits·10^k (k = exponent - len + 1) to be halfway between |value|
 * (≥ 2^52, so m·2^e with e ≥ 0) and a neighbour: a halfway point is odd·2^(e-1), so the candidate's
 * power of two must be exactly e - 1.
 */
function maybeHalfway64(abs: number, digits: string, exponent: number): boolean {
  const k = exponent - digits.length + 1;
  if (k < -1) return false;
  scratch.setFloat64(0, abs);
  const e = ((scratch.getUint32(0) >>> 20) & 0x7ff) - 1075;
  // D mod 2^15 is fixed by D's last 15 digits (10^15 is a multiple of 2^15).
  let low = Number(digits.slice(-15));
  let twos = 0;
  while (low % 2 === 0 && twos < 15) {
    low /= 2;
    twos++;
  }
  if (twos >= 15) return true;
  return twos + k === e - 1;
}

/**
 * Shortest digits and decimal exponent of |value| (finite, non-zero) as a double: PostgreSQL's choice,
 * or with `acceptHalfway` the plain shortest (JS's, and DuckDB's) that may pick a halfway point.
 */
export function shortestFloat64Digits(value: number, acceptHalfway = false): [string, number] {
  const abs = Math.abs(value);
  // toExponential() without an argument gives the shortest round-trip digits, halfway points allowed.
  const [digits, exponent] = splitExponential(abs.toExponential());
  if (acceptHalfway || abs < TWO_52 || !maybeHalfway64(abs, digits, exponent)) return [digits, exponent];
  const [m, e] = decompose64(abs);
  const halfway = (d: string, x: number): boolean => onHalfway(m, e, 52, d, x);
  if (!halfway(digits, exponent)) return [digits, exponent];
  return shortestStrict(abs, [m, e], digits.length, 17, (t) => Number(t) === abs, halfway);
}

const scratch32 = new DataView(new ArrayBuffer(4));

function float32FromBits(bits: number): number {
  scratch32.setUint32(0, bits);
  return scratch32.getFloat32(0);
}

/**
 * The float32 shortest digits when they are unambiguous: away from powers of two the round-trip
 * interval is symmetric, so the correctly rounded candidate is the only one to try at each length,
 * unless it is an exact tie (JS rounds ties up, Ryu to even) or a halfway point; both are caught by
 * cheap tests and answered null.
 */
function unambiguousFloat32Digits(abs: number): [string, number] | null {
  scratch32.setFloat32(0, abs);
  const bits = scratch32.getUint32(0);
  if ((bits & 0x7fffff) !== 0) {
    // Round-tripping is monotonic in the length here, so bisect 1..9 (9 digits always round-trip).
    let lo = 1;
    let hi = 9;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Math.fround(Number(abs.toExponential(mid - 1))) === abs) hi = mid;
      else lo = mid + 1;
    }
    const text = abs.toExponential(lo - 1);
    const n = Number(text);
    const longer = abs.toExponential(lo);
    const maybeTie = longer.charCodeAt(longer.indexOf('e') - 1) === 53; // ends in 5
    const halfway =
      n === (abs + float32FromBits(bits + 1)) / 2 || n === (abs + float32FromBits(bits - 1)) / 2;
    if (!maybeTie && !halfway) {
      const [digits, exponent] = splitExponential(text);
      return [stripZeros(digits), exponent];
    }
  }
  return null;
}

/** Shortest digits and decimal exponent of |value| (finite, non-zero) as a float32, as Ryu picks them. */
export function shortestFloat32Digits(value: number): [string, number] {
  const abs = Math.abs(value);
  const quick = unambiguousFloat32Digits(abs);
  if (quick !== null) return quick;
  const [m, e] = decompose32(abs);
  const halfway = (d: string, x: number): boolean => onHalfway(m, e, 23, d, x);
  return shortestStrict(abs, [m, e], 1, 9, (t) => Math.fround(Number(t)) === abs, halfway);
}

/**
 * C's `%.{precision}e`-style rounding of a finite non-zero double to `precision` significant digits,
 * exactly and with ties to even as glibc's printf does (JS's toExponential rounds ties up).
 */
export function roundedDigits(value: number, precision: number): [string, number] {
  const [digits, exponent] = exactDigits(value);
  if (digits.length <= precision) return [digits, exponent];
  const kept = digits.slice(0, precision);
  const next = digits.charCodeAt(precision) - 48;
  const rest = digits.length > precision + 1;
  const up = next > 5 || (next === 5 && (rest || (kept.charCodeAt(precision - 1) - 48) % 2 === 1));
  if (!up) return [stripZeros(kept), exponent];
  const bumped = (BigInt(kept) + 1n).toString();
  if (bumped.length > precision) return [stripZeros(bumped.slice(0, precision)), exponent + 1];
  return [stripZeros(bumped), exponent];
}

/** Digits and exponent laid out as DuckDB writes doubles; `pointZero` adds `.0` to whole numbers. */
export function shortestLayout(
  negative: boolean,
  digits: string,
  exponent: number,
  pointZero: boolean,
): string {
  let out: string;
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) out = `0.${'0'.repeat(-exponent - 1)}${digits}`;
    else if (digits.length <= exponent + 1) {
      out = digits + '0'.repeat(exponent + 1 - digits.length) + (pointZero ? '.0' : '');
    } else out = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  } else {
    const abs = Math.abs(exponent);
    out = `${digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits}e${exponent < 0 ? '-' : '+'}${abs < 10 ? `0${abs}` : abs}`;
  }
  return negative ? `-${out}` : out;
}
