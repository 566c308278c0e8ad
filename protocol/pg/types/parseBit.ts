import { PgError } from '../PgError.js';
import { SqlState } from '../sqlstate.js';

// varbit_in: binary digits, or `b` then binary digits, or `x` then hex digits (four bits each).

/** The bits of a varbit literal, most significant first. */
export function parseBit(text: string): number[] {
  const bits: number[] = [];
  const first = text[0];
  if (first === 'x' || first === 'X') {
    for (const c of text.slice(1)) {
      const v = Number.parseInt(c, 16);
      if (Number.isNaN(v))
        throw new PgError(SqlState.InvalidTextRepresentation, `"${c}" is not a valid hexadecimal digit`);
      bits.push((v >> 3) & 1, (v >> 2) & 1, (v >> 1) & 1, v & 1);
    }
    return bits;
  }
  const body = first === 'b' || first === 'B' ? text.slice(1) : text;
  for (const c of body) {
    if (c !== '0' && c !== '1')
      throw new PgError(SqlState.InvalidTextRepresentation, `"${c}" is not a valid binary digit`);
    bits.push(c === '1' ? 1 : 0);
  }
  return bits;
}
