import type { Node } from 'libpg-query';
import { loadModule, parseSync } from 'libpg-query';
import { PgError } from '../../protocol/pg/PgError.js';
import { parseBytea } from '../../protocol/pg/types/parseBytea.js';
import { SqlLexer, TokenKind } from './SqlLexer.js';

// The PostgreSQL parser below runs synchronously.
await loadModule();

const HEX = '0123456789ABCDEF';

/**
 * PostgreSQL's bytea input syntax (`\x0001ff`, or the escape format with `\\` and `\ooo`) decoded and
 * written back as text DuckDB's VARCHAR → BLOB cast reads as the same bytes: printable ASCII as
 * itself, every other byte (and the backslash) as `\xHH`. The two syntaxes disagree on the same
 * text: DuckDB reads `\x0001ff` as the byte 00 then the characters `01ff`.
 *
 * @param sql, location the statement and the literal's UTF-8 offset in it, for the error position of
 *   an invalid literal; without them the error has no position.
 * @throws PgError 22023 or 22P02, as PostgreSQL's byteain does, for text that is not valid bytea input.
 */
export function duckdbBlobText(value: string, sql?: string, location?: number): string {
  let bytes: Uint8Array;
  try {
    bytes = parseBytea(Buffer.from(value, 'utf8'));
  } catch (err) {
    if (!(err instanceof PgError) || sql === undefined || location === undefined || location < 0) throw err;
    throw new PgError(
      err.code,
      err.message,
      { ...err.fields, position: charPosition(sql, location) },
      { cause: err },
    );
  }
  let out = '';
  for (const b of bytes) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x5c ? String.fromCharCode(b) : `\\x${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

/** PostgreSQL's 1-based character position of a UTF-8 byte offset into `sql`. */
function charPosition(sql: string, byteOffset: number): number {
  return Buffer.from(sql, 'utf8').subarray(0, byteOffset).toString('utf8').length + 1;
}

/** Type names that DuckDB reads as BLOB: PostgreSQL's bytea, and DuckDB's own name for it. */
const BLOB_TYPES = new Set(['bytea', 'blob']);

/** A string literal cast to bytea, found by PostgreSQL's parser: its value and UTF-8 offset. */
interface ByteaLiteral {
  value: string;
  location: number;
}

function isByteaType(names: Node[] | undefined, arrayBounds: unknown): boolean {
  if (!names || arrayBounds !== undefined) return false;
  const parts = names.map((n) => ('String' in n ? (n.String.sval ?? '') : ''));
  const last = parts[parts.length - 1]!.toLowerCase();
  return (parts.length === 1 || (parts.length === 2 && parts[0] === 'pg_catalog')) && BLOB_TYPES.has(last);
}

function collect(node: unknown, out: ByteaLiteral[]): void {
  if (Array.isArray(node)) {
    for (const item of node) collect(item, out);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  const cast = o.TypeCast as { arg?: Node; typeName?: { names?: Node[]; arrayBounds?: unknown } } | undefined;
  if (cast?.arg && 'A_Const' in cast.arg && isByteaType(cast.typeName?.names, cast.typeName?.arrayBounds)) {
    const c = cast.arg.A_Const;
    if (c.sval && typeof c.location === 'number' && c.location >= 0)
      out.push({ value: c.sval.sval ?? '', location: c.location });
    return;
  }
  for (const v of Object.values(o)) if (v !== null && typeof v === 'object') collect(v, out);
}

/**
 * `'\x00ff'::bytea`, `bytea '...'` and `CAST('...' AS bytea)` in a statement DuckDB cannot serialize
 * (INSERT, UPDATE, ... : json_serialize_sql takes SELECTs only), as psycopg2 inlines bytea parameters.
 * PostgreSQL's parser finds the literals; each literal's own text is replaced in place with one that
 * DuckDB reads as the same bytes, so the rest of the statement reaches DuckDB exactly as written.
 * Null when there is nothing to change or PostgreSQL's parser rejects the statement (DuckDB-only
 * syntax), which then goes to DuckDB unchanged.
 */
export function rewriteByteaLiterals(sql: string): string | null {
  const found: ByteaLiteral[] = [];
  try {
    const tree = parseSync(sql);
    if (tree.stmts?.length !== 1) return null;
    collect(tree.stmts, found);
  } catch {
    return null;
  }
  if (found.length === 0) return null;
  const ascii = Buffer.byteLength(sql, 'utf8') === sql.length;
  const bytes = ascii ? null : Buffer.from(sql, 'utf8');
  // Back to front, so that earlier offsets stay valid.
  found.sort((a, b) => b.location - a.location);
  let out = sql;
  for (const literal of found) {
    const start = bytes ? bytes.subarray(0, literal.location).toString('utf8').length : literal.location;
    const end = literalEnd(sql, start);
    if (end < 0) return null;
    out = `${out.slice(0, start)}'${duckdbBlobText(literal.value, sql, literal.location)}'${out.slice(end)}`;
  }
  return out;
}

/**
 * The end of the string literal starting at `start`, including the continuation strings PostgreSQL
 * joins to it (`'ab'` newline `'cd'` is one literal); -1 if no string starts there.
 */
function literalEnd(sql: string, start: number): number {
  const lexer = new SqlLexer(sql, start);
  const first = lexer.next();
  if (first === TokenKind.DollarString) return lexer.end;
  if (first !== TokenKind.String) return -1;
  let end = lexer.end;
  for (let kind = lexer.next(); kind === TokenKind.String; kind = lexer.next()) {
    const gap = sql.slice(end, lexer.start);
    if (!gap.includes('\n') && !gap.includes('\r')) break;
    end = lexer.end;
  }
  return end;
}

/** True when the lexer's current word is `bytea` or `blob`, in any case, without building a string. */
export function isBlobWord(lexer: SqlLexer): boolean {
  return lexer.isWord('bytea') || lexer.isWord('blob');
}
