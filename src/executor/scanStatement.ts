import { loadModule, scanSync } from 'libpg-query';

/** What a token is, as far as the executor cares. */
export type SqlTokenKind = 'keyword' | 'identifier' | 'string' | 'parameter' | 'other';

/** One lexical token of a SQL statement, located by UTF-16 index in the statement string. */
export interface SqlToken {
  readonly kind: SqlTokenKind;
  /** The token's source text. */
  readonly text: string;
  /**
   * Keywords and unquoted identifiers folded to lower case, quoted identifiers unquoted, the decoded
   * value of a string constant, the number of a `$n` parameter; otherwise the source text.
   */
  readonly value: string;
  readonly start: number;
  readonly end: number;
  /** Nesting depth of (), [] and {} at this token: 0 is the statement's top level. */
  readonly depth: number;
}

let lexerReady: Promise<void> | undefined;

/** Loads the PostgreSQL lexer (WebAssembly) once; scanStatement needs it. */
export function loadSqlLexer(): Promise<void> {
  lexerReady ??= loadModule();
  return lexerReady;
}

/**
 * Splits one statement into tokens with PostgreSQL's own lexer (libpg-query), which also handles the
 * DuckDB syntax Mallard meets: DuckDB keeps PostgreSQL's lexical rules for strings, identifiers,
 * comments and `$n` parameters. Comments are dropped. Returns null when the lexer rejects the text
 * (an unterminated string, for instance); callers then fall back to DuckDB's own diagnosis.
 */
export function scanStatement(sql: string): SqlToken[] | null {
  let raw: ReturnType<typeof scanSync>['tokens'];
  try {
    raw = scanSync(sql).tokens;
  } catch {
    return null;
  }
  // The lexer reports UTF-8 byte offsets; the rest of Mallard indexes JavaScript strings.
  const toIndex = byteToIndex(sql);
  const tokens: SqlToken[] = [];
  let depth = 0;
  for (const t of raw) {
    if (t.tokenName === 'SQL_COMMENT' || t.tokenName === 'C_COMMENT') continue;
    const start = toIndex(t.start);
    const end = toIndex(t.end);
    const text = sql.slice(start, end);
    if (text === ')' || text === ']' || text === '}') depth = Math.max(0, depth - 1);
    tokens.push({ ...classify(t.tokenName, t.keywordKind, text), text, start, end, depth });
    if (text === '(' || text === '[' || text === '{') depth++;
  }
  return tokens;
}

function classify(
  tokenName: string,
  keywordKind: number,
  text: string,
): { kind: SqlTokenKind; value: string } {
  if (keywordKind > 0) return { kind: 'keyword', value: text.toLowerCase() };
  switch (tokenName) {
    case 'IDENT':
      return {
        kind: 'identifier',
        value: text.startsWith('"') ? unquoteIdentifier(text) : text.toLowerCase(),
      };
    case 'SCONST':
      return { kind: 'string', value: decodeStringConstant(text) };
    case 'PARAM':
      return { kind: 'parameter', value: text.slice(1) };
    default:
      return { kind: 'other', value: text };
  }
}

function unquoteIdentifier(text: string): string {
  return text.slice(1, -1).replaceAll('""', '"');
}

/**
 * The value of a string constant: '…' with doubled quotes, E'…' with backslash escapes, $tag$…$tag$,
 * and segments continued across a newline ('a'\n'b' is 'ab'), as PostgreSQL and DuckDB read them.
 */
export function decodeStringConstant(text: string): string {
  if (text.startsWith('$')) {
    const tagEnd = text.indexOf('$', 1);
    return text.slice(tagEnd + 1, text.length - (tagEnd + 1));
  }
  const escapes = text[0] === 'E' || text[0] === 'e';
  let i = escapes ? 1 : 0;
  let out = '';
  while (i < text.length && text[i] === "'") {
    i++;
    for (;;) {
      if (i >= text.length) return out;
      const ch = text[i];
      if (ch === "'") {
        if (text[i + 1] === "'") {
          out += "'";
          i += 2;
          continue;
        }
        i++;
        break;
      }
      if (escapes && ch === '\\' && i + 1 < text.length) {
        const [decoded, used] = decodeEscape(text, i + 1);
        out += decoded;
        i += 1 + used;
        continue;
      }
      out += ch;
      i++;
    }
    // Whitespace containing a newline between two quoted segments continues the constant.
    while (i < text.length && text[i] !== "'") i++;
  }
  return out;
}

function decodeEscape(text: string, at: number): [string, number] {
  const ch = text[at];
  const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
  if (ch in simple) return [simple[ch], 1];
  const digits = (radix: number, max: number, from: number): string => {
    let s = '';
    while (s.length < max && from + s.length < text.length) {
      const d = text[from + s.length];
      if (Number.isNaN(Number.parseInt(d, radix))) break;
      s += d;
    }
    return s;
  };
  if (ch === 'x') {
    const hex = digits(16, 2, at + 1);
    if (hex) return [String.fromCodePoint(Number.parseInt(hex, 16)), 1 + hex.length];
  }
  if (ch === 'u' || ch === 'U') {
    const hex = digits(16, ch === 'u' ? 4 : 8, at + 1);
    if (hex) return [String.fromCodePoint(Number.parseInt(hex, 16)), 1 + hex.length];
  }
  const oct = digits(8, 3, at);
  if (oct) return [String.fromCodePoint(Number.parseInt(oct, 8)), oct.length];
  return [ch, 1];
}

/** Maps a UTF-8 byte offset in `sql` to a UTF-16 index. */
export function byteToIndex(sql: string): (byteOffset: number) => number {
  if (Buffer.byteLength(sql) === sql.length) return (offset) => offset;
  const table: number[] = [];
  let index = 0;
  for (const ch of sql) {
    const cp = ch.codePointAt(0)!;
    const bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let b = 0; b < bytes; b++) table.push(index);
    index += ch.length;
  }
  table.push(index);
  return (offset) => table[Math.min(Math.max(offset, 0), table.length - 1)];
}

/** Skips `EXPLAIN [ANALYZE] [(options)]` and `PREPARE name [(types)] AS`: the statement that really runs. */
export function innerStatementStart(tokens: readonly SqlToken[]): number {
  let i = 0;
  for (;;) {
    const word = tokens[i]?.kind === 'keyword' ? tokens[i].value : '';
    if (word === 'explain') {
      i++;
      while (tokens[i] && (tokens[i].value === 'analyze' || tokens[i].value === 'verbose')) i++;
      if (tokens[i]?.text === '(') i = skipParenthesized(tokens, i);
    } else if (word === 'prepare') {
      const as = tokens.findIndex(
        (t, k) => k > i && t.depth === 0 && t.kind === 'keyword' && t.value === 'as',
      );
      if (as < 0) return i;
      i = as + 1;
    } else {
      return i;
    }
  }
}

function skipParenthesized(tokens: readonly SqlToken[], open: number): number {
  const depth = tokens[open].depth;
  let i = open + 1;
  while (i < tokens.length && !(tokens[i].text === ')' && tokens[i].depth === depth)) i++;
  return i + 1;
}
