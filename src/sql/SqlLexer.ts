/**
 * The token kinds the session front matter needs. Keywords are not told apart from identifiers:
 * callers compare the lower-cased text of a `Word`.
 */
export enum TokenKind {
  End,
  /** Unquoted identifier or keyword: `select`, `pg_type`, `e`. */
  Word,
  /** `"..."` (or `U&"..."`) identifier. */
  QuotedIdent,
  /** `'...'`, `E'...'`, `B'...'`, `X'...'`, `N'...'`, `U&'...'`. */
  String,
  /** `$tag$ ... $tag$`. */
  DollarString,
  /** `$1`: a positional parameter. */
  Param,
  Number,
  /** `-- ...` up to the end of the line. */
  LineComment,
  /** `/* ... *\/`, nested as PostgreSQL nests them. */
  BlockComment,
  Semicolon,
  OpenParen,
  CloseParen,
  /** Any other character or run of operator characters. */
  Other,
}

enum Ch {
  Tab = 9,
  LF = 10,
  VT = 11,
  FF = 12,
  CR = 13,
  Space = 32,
  DoubleQuote = 34,
  Dollar = 36,
  Ampersand = 38,
  Quote = 39,
  OpenParen = 40,
  CloseParen = 41,
  Star = 42,
  Minus = 45,
  Dot = 46,
  Slash = 47,
  Zero = 48,
  Nine = 57,
  Semicolon = 59,
  UpperA = 65,
  UpperE = 69,
  UpperU = 85,
  UpperZ = 90,
  Backslash = 92,
  Underscore = 95,
  LowerA = 97,
  LowerE = 101,
  LowerU = 117,
  LowerZ = 122,
}

function isIdentStart(c: number): boolean {
  return (
    (c >= Ch.LowerA && c <= Ch.LowerZ) ||
    (c >= Ch.UpperA && c <= Ch.UpperZ) ||
    c === Ch.Underscore ||
    c >= 128
  );
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= Ch.Zero && c <= Ch.Nine) || c === Ch.Dollar;
}

function isDigit(c: number): boolean {
  return c >= Ch.Zero && c <= Ch.Nine;
}

/**
 * A hand-written, allocation-free lexer for PostgreSQL (and DuckDB) SQL text: just enough to find
 * statement boundaries, comments and words without being fooled by quotes. It runs on every simple
 * Query message, so it walks char codes once and never builds substrings unless asked (`text()`).
 * standard_conforming_strings is always on in Mallard, so only `E'...'` strings honour backslashes.
 * Unterminated quotes and comments end at the end of the text; the real parser reports them.
 */
export class SqlLexer {
  /** Start (inclusive) and end (exclusive) of the current token, as UTF-16 offsets into the text. */
  start = 0;
  end = 0;
  /** The current quote, dollar quote or comment runs to the end of the text without being closed. */
  unterminated = false;
  private pos: number;

  /** @param start UTF-16 offset to start lexing at (the start of a token). */
  constructor(
    private readonly sql: string,
    start = 0,
  ) {
    this.pos = start;
  }

  /** The current token's text. */
  text(): string {
    return this.sql.slice(this.start, this.end);
  }

  /**
   * True when the current token is `word` (lower-case ASCII letters) in any case; builds no
   * substring, for scans that look at every word of a long statement.
   */
  isWord(word: string): boolean {
    const n = word.length;
    if (this.end - this.start !== n) return false;
    for (let i = 0; i < n; i++) {
      // | 0x20 folds ASCII upper-case letters to lower case.
      if ((this.sql.charCodeAt(this.start + i) | 0x20) !== word.charCodeAt(i)) return false;
    }
    return true;
  }

  /** Advances to the next token, skipping whitespace (comments are returned as tokens). */
  next(): TokenKind {
    const s = this.sql;
    const n = s.length;
    let i = this.pos;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === Ch.Space || c === Ch.LF || c === Ch.Tab || c === Ch.CR || c === Ch.FF || c === Ch.VT) i++;
      else break;
    }
    this.start = i;
    this.unterminated = false;
    if (i >= n) {
      this.end = this.pos = n;
      return TokenKind.End;
    }
    const c = s.charCodeAt(i);
    let kind: TokenKind;
    if (isIdentStart(c)) {
      const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (next === Ch.Quote && (c === Ch.LowerE || c === Ch.UpperE)) {
        i = this.quoted(i + 2, Ch.Quote, true);
        kind = TokenKind.String;
      } else if (next === Ch.Quote && i + 1 < n && isPrefixLetter(c)) {
        i = this.quoted(i + 2, Ch.Quote, false);
        kind = TokenKind.String;
      } else if ((c === Ch.LowerU || c === Ch.UpperU) && next === Ch.Ampersand) {
        const q = i + 2 < n ? s.charCodeAt(i + 2) : 0;
        if (q === Ch.Quote || q === Ch.DoubleQuote) {
          i = this.quoted(i + 3, q, false);
          kind = q === Ch.Quote ? TokenKind.String : TokenKind.QuotedIdent;
        } else {
          i = this.word(i + 1);
          kind = TokenKind.Word;
        }
      } else {
        i = this.word(i + 1);
        kind = TokenKind.Word;
      }
    } else if (c === Ch.Quote) {
      i = this.quoted(i + 1, Ch.Quote, false);
      kind = TokenKind.String;
    } else if (c === Ch.DoubleQuote) {
      i = this.quoted(i + 1, Ch.DoubleQuote, false);
      kind = TokenKind.QuotedIdent;
    } else if (c === Ch.Minus && i + 1 < n && s.charCodeAt(i + 1) === Ch.Minus) {
      i += 2;
      while (i < n) {
        const d = s.charCodeAt(i);
        if (d === Ch.LF || d === Ch.CR) break;
        i++;
      }
      kind = TokenKind.LineComment;
    } else if (c === Ch.Slash && i + 1 < n && s.charCodeAt(i + 1) === Ch.Star) {
      i = this.blockComment(i + 2);
      kind = TokenKind.BlockComment;
    } else if (c === Ch.Dollar) {
      const r = this.dollar(i);
      i = r.end;
      kind = r.kind;
    } else if (isDigit(c) || (c === Ch.Dot && i + 1 < n && isDigit(s.charCodeAt(i + 1)))) {
      i++;
      while (i < n) {
        const d = s.charCodeAt(i);
        if (isDigit(d) || d === Ch.Dot || d === Ch.Underscore || isIdentStart(d)) i++;
        else break;
      }
      kind = TokenKind.Number;
    } else if (c === Ch.Semicolon) {
      i++;
      kind = TokenKind.Semicolon;
    } else if (c === Ch.OpenParen) {
      i++;
      kind = TokenKind.OpenParen;
    } else if (c === Ch.CloseParen) {
      i++;
      kind = TokenKind.CloseParen;
    } else {
      i++;
      kind = TokenKind.Other;
    }
    this.end = this.pos = i;
    return kind;
  }

  private word(i: number): number {
    const s = this.sql;
    const n = s.length;
    while (i < n && isIdentPart(s.charCodeAt(i))) i++;
    return i;
  }

  /** From just after the opening quote to just after the closing one; a doubled quote is an escaped quote. */
  private quoted(i: number, quote: number, backslashEscapes: boolean): number {
    const s = this.sql;
    const n = s.length;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (backslashEscapes && c === Ch.Backslash) {
        i += 2;
        continue;
      }
      i++;
      if (c === quote) {
        if (i < n && s.charCodeAt(i) === quote) i++;
        else return i;
      }
    }
    this.unterminated = true;
    return n;
  }

  private blockComment(i: number): number {
    const s = this.sql;
    const n = s.length;
    let depth = 1;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === Ch.Star && i + 1 < n && s.charCodeAt(i + 1) === Ch.Slash) {
        i += 2;
        if (--depth === 0) return i;
      } else if (c === Ch.Slash && i + 1 < n && s.charCodeAt(i + 1) === Ch.Star) {
        i += 2;
        depth++;
      } else i++;
    }
    this.unterminated = true;
    return n;
  }

  /** `$1` is a parameter; `$$` or `$tag$` opens a dollar-quoted string closed by the same delimiter. */
  private dollar(i: number): { end: number; kind: TokenKind } {
    const s = this.sql;
    const n = s.length;
    let j = i + 1;
    if (j < n && isDigit(s.charCodeAt(j))) {
      while (j < n && isDigit(s.charCodeAt(j))) j++;
      return { end: j, kind: TokenKind.Param };
    }
    if (j < n && isIdentStart(s.charCodeAt(j))) {
      j++;
      // A tag may not contain `$`, unlike an identifier.
      while (j < n) {
        const c = s.charCodeAt(j);
        if (isIdentPart(c) && c !== Ch.Dollar) j++;
        else break;
      }
    }
    if (j >= n || s.charCodeAt(j) !== Ch.Dollar) return { end: i + 1, kind: TokenKind.Other };
    const delimiter = s.slice(i, j + 1);
    const close = s.indexOf(delimiter, j + 1);
    if (close < 0) this.unterminated = true;
    return { end: close < 0 ? n : close + delimiter.length, kind: TokenKind.DollarString };
  }
}

/** B'...', X'...' and N'...' are strings without backslash escapes. */
function isPrefixLetter(c: number): boolean {
  return c === 66 || c === 98 || c === 88 || c === 120 || c === 78 || c === 110;
}

/** True for tokens that carry no meaning: comments. */
export function isComment(kind: TokenKind): boolean {
  return kind === TokenKind.LineComment || kind === TokenKind.BlockComment;
}
