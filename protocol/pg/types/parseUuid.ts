import { invalidSyntax } from './inputErrors.js';

// uuid_in: 32 hex digits, any case, optionally in braces, with a hyphen allowed after any group of
// four digits (`a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11`, `{a0eebc999c0b4ef8bb6d6bb9bd380a11}`).

/** The UUID as an unsigned 128-bit integer. */
export function parseUuid(text: string): bigint {
  let s = text;
  let braces = false;
  if (s.startsWith('{')) {
    if (!s.endsWith('}')) throw invalidSyntax('uuid', text);
    s = s.slice(1, -1);
    braces = true;
  }
  let hex = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '-') {
      // Only after a complete group of four digits, never first, last or doubled.
      if (
        hex.length === 0 ||
        hex.length % 4 !== 0 ||
        hex.length === 32 ||
        s[i + 1] === '-' ||
        i + 1 === s.length
      ) {
        throw invalidSyntax('uuid', text);
      }
      continue;
    }
    if (!/[0-9a-fA-F]/.test(c)) throw invalidSyntax('uuid', text);
    hex += c;
  }
  if (hex.length !== 32 || (braces && s.length === 0)) throw invalidSyntax('uuid', text);
  return BigInt(`0x${hex}`);
}
