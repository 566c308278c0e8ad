// DuckDB's parse tree carries 64-bit integers (BIGINT and UBIGINT constants, the halves of HUGEINT and
// DECIMAL values, an "unset" query_location of 2^64-1) and bare Infinity/NaN for out-of-range floats.
// JSON.parse would round the integers beyond 2^53 and reject Infinity, silently changing the query, so
// the tree is read and written with this codec: every number that is not a safe integer keeps its text.

/** A JSON number kept as written. */
export class JsonNumber {
  constructor(readonly text: string) {}

  valueOf(): number {
    return Number(this.text);
  }

  toJSON(): string {
    return this.text;
  }
}

/** Parses JSON text (plus Infinity, -Infinity and NaN); numbers that are not safe integers stay JsonNumber. */
export function parseLosslessJson(text: string): unknown {
  let at = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`invalid JSON at ${at}: ${what}`);
  };
  const space = () => {
    while (
      at < text.length &&
      (text[at] === ' ' || text[at] === '\n' || text[at] === '\r' || text[at] === '\t')
    )
      at++;
  };
  const literal = (word: string, value: unknown) => {
    if (!text.startsWith(word, at)) fail(`expected ${word}`);
    at += word.length;
    return value;
  };
  const value = (): unknown => {
    space();
    const c = text[at];
    if (c === '{') {
      at++;
      const out: Record<string, unknown> = {};
      space();
      if (text[at] === '}') {
        at++;
        return out;
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail('expected a key');
        const key = string();
        space();
        if (text[at++] !== ':') fail('expected :');
        out[key] = value();
        space();
        const next = text[at++];
        if (next === '}') return out;
        if (next !== ',') fail('expected , or }');
      }
    }
    if (c === '[') {
      at++;
      const out: unknown[] = [];
      space();
      if (text[at] === ']') {
        at++;
        return out;
      }
      for (;;) {
        out.push(value());
        space();
        const next = text[at++];
        if (next === ']') return out;
        if (next !== ',') fail('expected , or ]');
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true', true);
    if (c === 'f') return literal('false', false);
    if (c === 'n') return literal('null', null);
    if (c === 'I') return literal('Infinity', new JsonNumber('Infinity'));
    if (c === 'N') return literal('NaN', new JsonNumber('NaN'));
    if (c === '-' && text[at + 1] === 'I') return literal('-Infinity', new JsonNumber('-Infinity'));
    return number();
  };
  const string = (): string => {
    const start = ++at;
    let simple = true;
    while (at < text.length && text[at] !== '"') {
      if (text[at] === '\\') {
        simple = false;
        at++;
      }
      at++;
    }
    if (at >= text.length) fail('unterminated string');
    const raw = text.slice(start, at++);
    return simple ? raw : (JSON.parse(`"${raw}"`) as string);
  };
  const number = (): number | JsonNumber => {
    const start = at;
    while (at < text.length && '+-0123456789.eE'.includes(text[at]!)) at++;
    const raw = text.slice(start, at);
    if (!raw) fail('unexpected character');
    const n = Number(raw);
    if (Number.isNaN(n)) fail(`bad number ${raw}`);
    return Number.isSafeInteger(n) && String(n) === raw ? n : new JsonNumber(raw);
  };
  const result = value();
  space();
  if (at !== text.length) fail('trailing characters');
  return result;
}

/** JSON text for a value read by parseLosslessJson: JsonNumbers are written exactly as they were read. */
export function stringifyLosslessJson(value: unknown): string {
  if (value instanceof JsonNumber) return value.text;
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(stringifyLosslessJson).join(',')}]`;
  if (typeof value === 'object') {
    const fields: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) fields.push(`${JSON.stringify(k)}:${stringifyLosslessJson(v)}`);
    }
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value);
}
