import { PgError } from '../PgError.js';
import { SqlState } from '../sqlstate.js';

// array_in: `{a,"b c",NULL}`, nested `{{1,2},{3,4}}`, optional `[1:2]=` dimension decoration. Elements
// may be double-quoted (backslash escapes anything inside); unquoted elements are trimmed, may use
// backslash escapes, and an unquoted NULL (any case) is a null element. Sub-arrays must be rectangular.

/** A parsed array literal: element texts (still to be read by the element type), nulls, sub-arrays. */
export type ArrayLiteral = (string | null | ArrayLiteral)[];

function malformed(text: string, detail: string): PgError {
  return new PgError(SqlState.InvalidTextRepresentation, `malformed array literal: "${text}"`, { detail });
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
}

class ArrayParser {
  private at = 0;

  constructor(private readonly text: string) {}

  parse(): ArrayLiteral {
    this.skipSpace();
    let declared: number[] | null = null;
    if (this.text[this.at] === '[') declared = this.parseDimensions();
    if (this.text[this.at] !== '{') {
      throw malformed(this.text, 'Array value must start with "{" or dimension information.');
    }
    const value = this.parseLevel();
    this.skipSpace();
    if (this.at < this.text.length) throw malformed(this.text, 'Junk after closing right brace.');
    const dims = shape(value, this.text);
    if (declared !== null && (declared.length !== dims.length || declared.some((d, i) => d !== dims[i]))) {
      throw malformed(this.text, 'Specified array dimensions do not match array contents.');
    }
    return value;
  }

  private skipSpace(): void {
    while (isSpace(this.text[this.at])) this.at++;
  }

  /** `[1:3][1:2]=` → [3, 2]. Lower bounds are accepted and dropped: DuckDB lists start at 1. */
  private parseDimensions(): number[] {
    const dims: number[] = [];
    while (this.text[this.at] === '[') {
      const close = this.text.indexOf(']', this.at);
      if (close < 0) throw malformed(this.text, 'Missing "]" in array dimensions.');
      const spec = this.text.slice(this.at + 1, close);
      const colon = spec.indexOf(':');
      const lower = colon < 0 ? 1 : Number(spec.slice(0, colon));
      const upper = Number(colon < 0 ? spec : spec.slice(colon + 1));
      if (!Number.isInteger(lower) || !Number.isInteger(upper) || upper < lower - 1) {
        throw malformed(this.text, '"[" must introduce explicitly-specified array dimensions.');
      }
      dims.push(upper - lower + 1);
      this.at = close + 1;
    }
    if (this.text[this.at] !== '=') throw malformed(this.text, 'Missing "=" after array dimensions.');
    this.at++;
    this.skipSpace();
    return dims;
  }

  private parseLevel(): ArrayLiteral {
    this.at++; // {
    const items: ArrayLiteral = [];
    this.skipSpace();
    if (this.text[this.at] === '}') {
      this.at++;
      return items;
    }
    for (;;) {
      this.skipSpace();
      const c = this.text[this.at];
      if (c === undefined) throw malformed(this.text, 'Unexpected end of input.');
      if (c === '{') items.push(this.parseLevel());
      else if (c === '"') items.push(this.parseQuoted());
      else if (c === ',' || c === '}') throw malformed(this.text, `Unexpected "${c}" character.`);
      else items.push(this.parseUnquoted());
      this.skipSpace();
      const next = this.text[this.at];
      if (next === undefined) throw malformed(this.text, 'Unexpected end of input.');
      this.at++;
      if (next === '}') return items;
      if (next !== ',') throw malformed(this.text, `Unexpected "${next}" character.`);
    }
  }

  private parseQuoted(): string {
    this.at++; // "
    let out = '';
    for (;;) {
      const c = this.text[this.at++];
      if (c === undefined) throw malformed(this.text, 'Unexpected end of input.');
      if (c === '"') return out;
      if (c === '\\') {
        const escaped = this.text[this.at++];
        if (escaped === undefined) throw malformed(this.text, 'Unexpected end of input.');
        out += escaped;
      } else out += c;
    }
  }

  private parseUnquoted(): string | null {
    let out = '';
    let escaped = false;
    // Trailing whitespace is dropped unless a backslash protected it.
    let keep = 0;
    for (;;) {
      const c = this.text[this.at];
      if (c === undefined) throw malformed(this.text, 'Unexpected end of input.');
      if (c === ',' || c === '}') break;
      if (c === '{' || c === '"') throw malformed(this.text, `Unexpected "${c}" character.`);
      this.at++;
      if (c === '\\') {
        const e = this.text[this.at++];
        if (e === undefined) throw malformed(this.text, 'Unexpected end of input.');
        out += e;
        escaped = true;
        keep = out.length;
      } else {
        out += c;
        if (!isSpace(c)) keep = out.length;
      }
    }
    out = out.slice(0, keep);
    if (!escaped && out.toLowerCase() === 'null') return null;
    return out;
  }
}

/** The dimensions of a parsed literal; throws unless every level is rectangular. */
function shape(value: ArrayLiteral, text: string): number[] {
  if (value.length === 0) return [];
  const first = value[0];
  if (!Array.isArray(first)) {
    if (value.some((v) => Array.isArray(v))) throw malformed(text, 'Unexpected "{" character.');
    return [value.length];
  }
  const inner = shape(first, text);
  for (const v of value) {
    if (!Array.isArray(v)) throw malformed(text, 'Unexpected array element.');
    const d = shape(v, text);
    if (d.length !== inner.length || d.some((x, i) => x !== inner[i])) {
      throw malformed(text, 'Multidimensional arrays must have sub-arrays with matching dimensions.');
    }
  }
  return [value.length, ...inner];
}

/** array_in's parse of `text` into nested element texts. */
export function parseArray(text: string): ArrayLiteral {
  return new ArrayParser(text).parse();
}
