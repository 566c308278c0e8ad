import type { Node, ParseResult } from 'libpg-query';
import { loadModule, parseSync } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';
import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import {
  COMPAT_CATALOG,
  COMPAT_FUNCTIONS,
  COMPAT_RELATIONS,
  DIVISION_MACROS,
  REG_CAST_MACROS,
  SESSION_RELATIONS,
} from './compatSchema.js';
import { qualifyIntervalLiterals } from './intervalFields.js';
import { pgColumnNames } from './pgColumnNames.js';
import { duckdbBlobText, isBlobWord, rewriteByteaLiterals } from './rewriteByteaLiterals.js';
import type { SessionSettings } from './SessionSettings.js';
import { isComment, SqlLexer, TokenKind } from './SqlLexer.js';
import type { SqlParser, SqlTree } from './SqlParser.js';
import { VERSION_STRING } from './serverVersion.js';

/** What a rewrite may read about the session. */
export interface RewriteContext {
  settings: SessionSettings;
  user: string;
  database: string;
  pid: number;
  /** The server's TCP port, for inet_server_port(); NULL when absent (a Unix socket, as in PostgreSQL). */
  serverPort?: number;
}

// The PostgreSQL pre-pass below parses synchronously.
await loadModule();

/** First words of statements DuckDB can serialize (SELECT in its forms); others are never parsed. */
const SELECT_WORDS = new Set(['select', 'with', 'values', 'from', 'table']);

/** SQL value functions PostgreSQL writes without parentheses; DuckDB parses them as column references. */
const VALUE_WORDS = new Set(['current_user', 'session_user', 'user', 'current_role', 'current_catalog']);

/** Functions answered from the session, as constants. */
const SESSION_FUNCTIONS = new Set([
  'version',
  'current_setting',
  'set_config',
  'current_database',
  'pg_backend_pid',
  'pg_get_userbyid',
  'inet_server_port',
]);

/**
 * Set-returning functions of one column: PostgreSQL names that column after the FROM-clause alias
 * (`generate_series(1, 3) s` has a column `s`), DuckDB after the function.
 */
const SCALAR_TABLE_FUNCTIONS = new Set(['generate_series', 'generate_subscripts', 'unnest']);

/** Words whose presence makes a statement worth parsing. */
const TRIGGER_WORDS = new Set<string>([
  ...SESSION_FUNCTIONS,
  ...VALUE_WORDS,
  ...COMPAT_FUNCTIONS,
  ...COMPAT_RELATIONS,
  ...Object.keys(SESSION_RELATIONS),
  ...Object.keys(REG_CAST_MACROS),
  ...SCALAR_TABLE_FUNCTIONS,
  'regproc',
  'regprocedure',
  // `pg_catalog.f(...)` of any function: DuckDB reads it as a method call unless the schema goes.
  'pg_catalog',
]);

interface Scan {
  /** The statement is a SELECT (in one of its forms), which DuckDB can serialize. */
  select: boolean;
  /** `bytea` or `blob` appears: string literals cast to it may need re-encoding. */
  bytea: boolean;
  /** Lower-cased unquoted words present in the statement that are in TRIGGER_WORDS. */
  words: Set<string>;
  /** Lower-cased quoted identifiers: a VALUE_WORD also written quoted may be a real column. */
  quoted: Set<string>;
  /** A `~`, `~*`, `!~` or `!~*` operator appears. */
  tilde: boolean;
  /**
   * `OPERATOR(pg_catalog.~)`, `COLLATE` or `::pg_catalog.text`: syntax only PostgreSQL's parser
   * keeps (psql writes it).
   */
  pgSyntax: boolean;
  /** A `/` or `%` operator or a mod() call appears: a zero divisor must raise PostgreSQL's error. */
  division: boolean;
  /** The top-level select list has an item DuckDB may name differently from PostgreSQL. */
  names: boolean;
}

/** Words that end the top-level select list. */
const LIST_END_WORDS = new Set([
  'from',
  'where',
  'group',
  'having',
  'window',
  'order',
  'limit',
  'offset',
  'fetch',
  'for',
  'union',
  'intersect',
  'except',
  'into',
  'qualify',
]);

/** Words that, alone as a select-list item, are not column references (`SELECT current_date`). */
const NOT_COLUMN_WORDS = new Set([
  'true',
  'false',
  'null',
  'current_date',
  'current_time',
  'current_timestamp',
  'localtime',
  'localtimestamp',
  'current_schema',
  ...VALUE_WORDS,
]);

/**
 * Follows the top-level select list token by token and tells whether every item is one DuckDB names
 * as PostgreSQL does: `*`, `t.*`, a (qualified) column reference, or anything `AS alias` with the
 * alias written as PostgreSQL keeps it. Anything else (`1`, `count(*)`, `a + b`, `x y`) needs names.
 */
class SelectListShape {
  /** 0: before the top-level SELECT, 1: in its list, 2: after it. */
  private state = 0;
  private depth = 0;
  /** Column-reference shape of the current item: 0 start, 1 after a name, 2 after `.`, 3 after `*`, -1 other. */
  private shape = 0;
  private afterAs = false;
  private aliased = false;
  /** DISTINCT [ON (...)] or ALL before the first item. */
  private leading = true;
  private skipOn = false;
  needsNames = false;

  constructor(private readonly lexer: SqlLexer) {}

  /** Feeds one token (comments excluded); `word` is its lower-cased text for a Word. */
  token(kind: TokenKind, word: string): void {
    if (this.state === 2) return;
    if (kind === TokenKind.OpenParen) this.depth++;
    else if (kind === TokenKind.CloseParen) this.depth--;
    if (this.state === 0) {
      if (this.depth === 0 && kind === TokenKind.Word && word === 'select') this.state = 1;
      return;
    }
    if (this.skipOn) {
      // DISTINCT ON (...): the parenthesised list is not a select-list item.
      if (this.depth === 0 && kind === TokenKind.CloseParen) this.skipOn = false;
      return;
    }
    const atTop = this.depth === 0 && kind !== TokenKind.CloseParen;
    if (atTop && (kind === TokenKind.Semicolon || (kind === TokenKind.Word && LIST_END_WORDS.has(word)))) {
      this.endItem();
      this.state = 2;
      return;
    }
    if (this.leading && kind === TokenKind.Word) {
      if (word === 'distinct' || word === 'all') return;
      if (word === 'on') {
        this.skipOn = true;
        return;
      }
    }
    this.leading = false;
    if (atTop && kind === TokenKind.Other && this.lexer.end - this.lexer.start === 1) {
      const c = this.lexer.text();
      if (c === ',') {
        this.endItem();
        return;
      }
      if (c === '.' && this.shape === 1) {
        this.shape = 2;
        this.afterAs = this.aliased = false;
        return;
      }
      if (c === '*' && (this.shape === 0 || this.shape === 2)) {
        this.shape = 3;
        this.afterAs = this.aliased = false;
        return;
      }
    }
    const name =
      atTop &&
      (kind === TokenKind.QuotedIdent ||
        (kind === TokenKind.Word && !NOT_COLUMN_WORDS.has(word) && !LIST_END_WORDS.has(word)));
    if (this.afterAs && name) {
      // PostgreSQL folds an unquoted alias to lower case; DuckDB keeps it as written.
      this.aliased = kind === TokenKind.QuotedIdent || this.lexer.text() === word;
      this.afterAs = false;
      return;
    }
    this.aliased = false;
    this.afterAs = atTop && kind === TokenKind.Word && word === 'as';
    if (this.afterAs) return;
    this.shape = name && (this.shape === 0 || this.shape === 2) ? 1 : -1;
  }

  /** The statement ended. */
  end(): void {
    if (this.state === 1) this.endItem();
  }

  private endItem(): void {
    if (!this.aliased && this.shape !== 1 && this.shape !== 3 && !(this.shape === 0 && this.leading)) {
      this.needsNames = true;
    }
    this.shape = 0;
    this.afterAs = this.aliased = false;
  }
}

/**
 * One pass of the lexer; null when the statement cannot need a rewrite. Statements other than
 * SELECTs are only looked at for `bytea`/`blob`, without building a string for most words.
 */
function scan(sql: string): Scan | null {
  const lexer = new SqlLexer(sql);
  let first = true;
  let select = false;
  let bytea = false;
  const words = new Set<string>();
  const quoted = new Set<string>();
  let tilde = false;
  let pgSyntax = false;
  // An interval field qualifier (`'3'::interval month`): DuckDB reads the cast without it.
  let sawInterval = false;
  let division = false;
  let afterColon = false;
  let shape: SelectListShape | null = null;
  let parenthesised = false;
  for (let kind = lexer.next(); kind !== TokenKind.End; kind = lexer.next()) {
    if (isComment(kind)) continue;
    const colon = afterColon;
    afterColon = kind === TokenKind.Other && sql.charCodeAt(lexer.start) === 58; /* : */
    if (first) {
      first = false;
      const w = kind === TokenKind.Word ? lexer.text().toLowerCase() : '';
      parenthesised = kind === TokenKind.OpenParen;
      select = parenthesised || SELECT_WORDS.has(w);
      // PostgreSQL's names are looked for in SELECT lists; `VALUES`, `TABLE t` and DuckDB's
      // `FROM t SELECT ...` are left as DuckDB names them.
      if (w === 'select' || w === 'with') shape = new SelectListShape(lexer);
    }
    if (!select) {
      if (kind === TokenKind.Word && isBlobWord(lexer)) {
        bytea = true;
        break;
      }
      continue;
    }
    let w = '';
    if (kind === TokenKind.Word) {
      w = lexer.text().toLowerCase();
      if (TRIGGER_WORDS.has(w)) words.add(w);
      else if (w === 'operator' || w === 'collate') pgSyntax = true;
      else if (INTERVAL_FIELDS.has(w) && sawInterval) pgSyntax = true;
      if (w === 'interval') sawInterval = true;
      else if (w === 'bytea' || w === 'blob') bytea = true;
      else if (w === 'mod') division = true;
      if (colon && w === 'pg_catalog') pgSyntax = true;
    } else if (kind === TokenKind.QuotedIdent) {
      quoted.add(lexer.text().slice(1, -1).toLowerCase());
    } else if (kind === TokenKind.Other) {
      const c = sql.charCodeAt(lexer.start);
      if (c === 126 /* ~ */) tilde = true;
      else if (c === 47 /* / */ || c === 37 /* % */) division = true;
    }
    shape?.token(kind, w);
  }
  shape?.end();
  // A statement starting with `(` is a parenthesised SELECT: its names are looked for too.
  const names = shape ? shape.needsNames : parenthesised;
  if (!select) return bytea ? { select, bytea, words, quoted, tilde, pgSyntax, division, names } : null;
  return words.size > 0 || tilde || pgSyntax || bytea || division || names
    ? { select, bytea, words, quoted, tilde, pgSyntax, division, names }
    : null;
}

type Json = Record<string, unknown>;

const TILDE = 0x7e;
const BANG = 0x21;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function constant(
  value: string | number | boolean | null,
  id: 'VARCHAR' | 'INTEGER' | 'BOOLEAN',
  location: unknown,
): Json {
  return {
    class: 'CONSTANT',
    type: 'VALUE_CONSTANT',
    alias: '',
    query_location: location,
    value:
      value === null
        ? { type: { id: 'VARCHAR', type_info: null }, is_null: true }
        : { type: { id, type_info: null }, is_null: false, value },
  };
}

/** A function call node; `compat` calls the COMPAT_CATALOG.main macro of that name. */
function call(name: string, children: unknown[], location: unknown, compat = false): Json {
  return {
    class: 'FUNCTION',
    type: 'FUNCTION',
    alias: '',
    query_location: location,
    function_name: name,
    schema: compat ? 'main' : '',
    catalog: compat ? COMPAT_CATALOG : '',
    children,
    filter: null,
    order_bys: { type: 'ORDER_MODIFIER', orders: [] },
    distinct: false,
    is_operator: false,
    export_state: false,
  };
}

/** The value of a constant argument (also `'t'::BOOLEAN` and `'x'::text`), or undefined if not constant. */
function constantValue(node: unknown): string | number | boolean | null | undefined {
  if (!isObject(node)) return undefined;
  if (node.class === 'CONSTANT') {
    const v = node.value as Json;
    return v.is_null ? null : (v.value as string | number | boolean);
  }
  if (node.class === 'CAST') {
    const inner = constantValue(node.child);
    const id = (node.cast_type as Json).id;
    if (inner === undefined || inner === null) return inner;
    if (id === 'BOOLEAN') return inner === true || inner === 't' || inner === 'true';
    if (id === 'VARCHAR') return String(inner);
  }
  return undefined;
}

function stringArg(node: unknown, fn: string): string | null {
  const v = constantValue(node);
  if (v === undefined)
    throw new PgError(SqlState.FeatureNotSupported, `${fn}() with non-constant arguments is not supported`, {
      hint: 'Mallard answers it from the session before the query runs: pass literal values.',
    });
  return v === null ? null : String(v);
}

/** Walks a DuckDB statement tree and replaces PostgreSQL-isms in place. */
class Rewriter {
  changed = false;
  /** The result depends on the session (its user, settings, ...), not only on the SQL text. */
  contextual = false;
  /** Bytea literals re-encoded so far: a select-list item holding one gets PostgreSQL's column name. */
  private blobLiterals = 0;
  /** Divisions replaced so far, for the same reason. */
  private divisions = 0;
  private readonly cteNames = new Set<string>();
  private readonly bytes: Buffer;

  /** @param clientText false when `sql` is not the client's text, so error positions would mislead. */
  constructor(
    private readonly ctx: RewriteContext,
    private readonly found: Scan,
    private readonly sql: string,
    private readonly clientText: boolean,
  ) {
    this.bytes = Buffer.from(sql, 'utf8');
  }

  /** @param names PostgreSQL's names for the top-level select list (pgColumnNames), if known. */
  run(tree: Json, names: readonly (string | null)[] | null): void {
    this.collectCtes(tree);
    this.visit(tree);
    if (names) this.applyNames(tree, names);
  }

  /**
   * Aliases each unaliased top-level select-list item with PostgreSQL's name where DuckDB would name
   * it otherwise (`count(*)` → count, `1` → ?column?). Only the top level reaches the client; a set
   * operation is named by its leftmost SELECT. Nothing changes when the two parsers disagree on the
   * number of items.
   */
  private applyNames(tree: Json, names: readonly (string | null)[]): void {
    let node = tree.node as Json | undefined;
    while (node?.type === 'SET_OPERATION_NODE') {
      node = (node.left ?? (node.children as Json[] | undefined)?.[0]) as Json | undefined;
    }
    const list = node?.type === 'SELECT_NODE' ? (node.select_list as Json[]) : undefined;
    if (!list || list.length !== names.length) return;
    for (let i = 0; i < list.length; i++) {
      const item = list[i]!;
      const name = names[i];
      if (name === null || name === undefined || item.class === 'STAR') continue;
      const columns = item.class === 'COLUMN_REF' ? (item.column_names as string[]) : undefined;
      const current = item.alias !== '' ? item.alias : columns?.[columns.length - 1];
      if (current === name) continue;
      item.alias = name;
      this.changed = true;
    }
  }

  private collectCtes(node: unknown): void {
    if (Array.isArray(node)) {
      for (const item of node) this.collectCtes(item);
    } else if (isObject(node)) {
      const map = isObject(node.cte_map) ? node.cte_map.map : undefined;
      if (Array.isArray(map))
        for (const entry of map) if (isObject(entry)) this.cteNames.add(String(entry.key).toLowerCase());
      for (const v of Object.values(node)) if (v !== null && typeof v === 'object') this.collectCtes(v);
    }
  }

  /** Returns the node to put in place of `node` (itself, edited, or a replacement). */
  private visit(node: unknown): unknown {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) node[i] = this.visit(node[i]);
      return node;
    }
    if (!isObject(node)) return node;
    for (const key of Object.keys(node)) {
      const child = node[key];
      if (child === null || typeof child !== 'object') continue;
      if (key === 'select_list' && Array.isArray(child)) {
        for (let i = 0; i < child.length; i++) {
          const before = child[i] as Json;
          const renamed = this.blobLiterals + this.divisions;
          const after = this.visit(before) as Json;
          // PostgreSQL names such a column after the function: `SELECT version()` gives "version".
          if (after !== before) after.alias = before.alias === '' ? columnName(before) : before.alias;
          // DuckDB would name it after the rewritten text (`octet_length(CAST('\x00' AS BLOB))`).
          // (pgColumnNames' names, when PostgreSQL's parser reads the statement, replace these.)
          else if (this.blobLiterals + this.divisions !== renamed && before.alias === '')
            before.alias = columnName(before);
          child[i] = after;
        }
      } else {
        node[key] = this.visit(child);
      }
    }
    return this.replace(node);
  }

  /**
   * The statement's byte at a DuckDB query_location (a UTF-8 offset), telling which syntax produced a
   * node: DuckDB makes the same regexp_full_match of `a ~ b` and of `a SIMILAR TO b`.
   */
  private byteAt(location: unknown): number {
    return typeof location === 'number' && location < this.bytes.length ? this.bytes[location]! : -1;
  }

  private replace(node: Json): Json {
    if (node.type === 'OPERATOR_NOT' && this.byteAt(node.query_location) === BANG) {
      // `a !~ b` is NOT over a regexp_full_match that lost its own location.
      const location = node.query_location as number;
      const inner = (node.children as Json[] | undefined)?.[0];
      if (
        this.byteAt(location + 1) === TILDE &&
        inner?.class === 'FUNCTION' &&
        inner.function_name === 'regexp_full_match'
      ) {
        inner.function_name = 'regexp_matches';
        this.changed = true;
      }
      return node;
    }
    if (node.class === 'FUNCTION') return this.replaceFunction(node);
    if (node.class === 'COLUMN_REF') return this.replaceColumnRef(node);
    if (node.class === 'CAST') return this.replaceCast(node);
    if (node.type === 'BASE_TABLE') return this.redirectTable(node);
    if (node.type === 'TABLE_FUNCTION') this.replaceTableFunction(node);
    return node;
  }

  private replaceFunction(node: Json): Json {
    const name = String(node.function_name).toLowerCase();
    const schema = String(node.schema ?? '');
    if (node.is_operator === true && (name === '~*' || name === '!~*')) {
      // DuckDB parses PostgreSQL's case-insensitive regex operators but has no function behind them.
      const match: Json = { ...node, function_name: 'regexp_matches', is_operator: false };
      match.children = [...(node.children as unknown[]), constant('i', 'VARCHAR', node.query_location)];
      this.changed = true;
      return name === '~*'
        ? match
        : {
            class: 'OPERATOR',
            type: 'OPERATOR_NOT',
            alias: '',
            query_location: node.query_location,
            children: [match],
          };
    }
    if (this.found.division) {
      const divided = this.replaceDivision(node, name, schema);
      if (divided) return divided;
    }
    if (node.catalog !== '' || (schema !== '' && schema !== 'pg_catalog')) return node;
    const args = (node.children as unknown[]) ?? [];
    const at = node.query_location;
    if (name === 'regexp_full_match' && this.byteAt(node.query_location) === TILDE) {
      // DuckDB reads `a ~ b` as a full match; PostgreSQL's `~` matches anywhere in the string.
      node.function_name = 'regexp_matches';
      this.changed = true;
      return node;
    }
    if (COMPAT_FUNCTIONS.has(name)) {
      this.changed = true;
      // A new node, so that a select-list item keeps PostgreSQL's column name (`format_type`).
      return { ...node, catalog: COMPAT_CATALOG, schema: 'main' };
    }
    if (!SESSION_FUNCTIONS.has(name)) {
      // DuckDB reads `pg_catalog.f(x)` as a method call on a column pg_catalog; unqualified, its
      // own functions and its pg_catalog macros are found.
      if (schema === 'pg_catalog') {
        node.schema = '';
        this.changed = true;
      }
      return node;
    }
    const { settings } = this.ctx;
    this.contextual = true;
    let out: Json;
    switch (name) {
      case 'version':
        if (args.length !== 0) return node;
        out = constant(VERSION_STRING, 'VARCHAR', at);
        break;
      case 'current_database':
        if (args.length !== 0) return node;
        out = constant(this.ctx.database, 'VARCHAR', at);
        break;
      case 'pg_backend_pid':
        out = constant(this.ctx.pid, 'INTEGER', at);
        break;
      case 'inet_server_port':
        out = constant(this.ctx.serverPort ?? null, 'INTEGER', at);
        break;
      case 'pg_get_userbyid':
        // Every object belongs to the one user a session runs as.
        out = constant(this.ctx.user, 'VARCHAR', at);
        break;
      case 'current_setting': {
        if (args.length < 1 || args.length > 2) return node;
        const setting = stringArg(args[0], name);
        const missingOk = args.length === 2 && constantValue(args[1]) === true;
        if (setting === null) {
          out = constant(null, 'VARCHAR', at);
          break;
        }
        const value = missingOk ? settings.find(setting) : settings.get(setting);
        out = constant(value ?? null, 'VARCHAR', at);
        break;
      }
      case 'set_config': {
        if (args.length !== 3) return node;
        const setting = stringArg(args[0], name);
        const value = stringArg(args[1], name);
        const local = constantValue(args[2]) === true;
        if (setting === null) throw new PgError(SqlState.NullValueNotAllowed, 'SET requires parameter name');
        // PostgreSQL's set_config returns the value as the parameter now shows it.
        const shown = settings.setConfig(setting, value, local);
        out = constant(shown, 'VARCHAR', at);
        break;
      }
      default:
        return node;
    }
    this.changed = true;
    return out;
  }

  /**
   * `a / b`, `a % b` and `mod(a, b)` become the COMPAT_CATALOG macros that raise PostgreSQL's
   * division-by-zero error (see DIVISION_MACROS). Null when `node` is none of them or needs no check.
   */
  private replaceDivision(node: Json, name: string, schema: string): Json | null {
    const args = node.children as Json[] | undefined;
    if (args?.length !== 2) return null;
    let macro: string | undefined;
    if (node.is_operator === true) {
      if (name === '/' || name === '%') macro = DIVISION_MACROS[name];
    } else if (name === 'mod' && node.catalog === '' && (schema === '' || schema === 'pg_catalog')) {
      macro = DIVISION_MACROS.mod;
    }
    // A non-zero constant divisor cannot fail (`i / 3` keeps its plain, fastest form). A parameter
    // stays out: the macro's `divisor = 0` would make DuckDB infer its type from the 0 (INTEGER).
    if (!macro || isNonZeroConstant(args[1]) || hasParameter(args)) return null;
    this.changed = true;
    this.divisions++;
    return call(macro, args, node.query_location, true);
  }

  private replaceColumnRef(node: Json): Json {
    const names = node.column_names as string[];
    if (names.length !== 1) return node;
    const word = names[0]!.toLowerCase();
    // Written quoted anywhere, "user" may be a real column: leave every reference alone then.
    if (!VALUE_WORDS.has(word) || !this.found.words.has(word) || this.found.quoted.has(word)) return node;
    this.changed = true;
    this.contextual = true;
    const value = word === 'current_catalog' ? this.ctx.database : this.ctx.user;
    return constant(value, 'VARCHAR', node.query_location);
  }

  /** `'t'::regclass` → the table's OID; `c.oid::regclass` → its name; `'x'::regproc` → the name. */
  private replaceCast(node: Json): Json {
    const castType = node.cast_type as Json;
    if (castType.id === 'BLOB' && this.found.bytea) return this.replaceBlobCast(node);
    const info = castType.type_info as Json | null;
    if (castType.id !== 'UNBOUND' || !info || (info.schema !== '' && info.schema !== 'pg_catalog'))
      return node;
    const type = String(info.name).toLowerCase();
    const child = node.child as Json;
    const text = constantValue(child);
    if (type === 'regproc' || type === 'regprocedure') {
      this.changed = true;
      if (typeof text === 'string') {
        const bare = text.startsWith('pg_catalog.') ? text.slice('pg_catalog.'.length) : text;
        return constant(bare, 'VARCHAR', node.query_location);
      }
      node.cast_type = { id: 'VARCHAR', type_info: null };
      return node;
    }
    const macros = REG_CAST_MACROS[type as keyof typeof REG_CAST_MACROS];
    if (!macros) return node;
    this.changed = true;
    const lookup = call(
      typeof text === 'string' ? macros.fromText : macros.fromOid,
      [child],
      node.query_location,
      true,
    );
    lookup.alias = node.alias;
    return lookup;
  }

  /**
   * `'\x0001ff'::bytea` (also `bytea '...'`, `CAST(... AS bytea)`): the literal is PostgreSQL bytea
   * input, which DuckDB's cast would read differently, so it becomes text DuckDB reads as the same bytes.
   */
  private replaceBlobCast(node: Json): Json {
    const child = node.child as Json;
    if (child.class !== 'CONSTANT') return node;
    const value = child.value as Json;
    if (value.is_null || (value.type as Json).id !== 'VARCHAR' || typeof value.value !== 'string')
      return node;
    const location =
      this.clientText && typeof child.query_location === 'number' ? child.query_location : undefined;
    const text = duckdbBlobText(value.value, this.sql, location);
    this.changed = true;
    this.blobLiterals++;
    return { ...node, child: { ...child, value: { ...value, value: text } } };
  }

  private redirectTable(node: Json): Json {
    const name = String(node.table_name).toLowerCase();
    const macro = SESSION_RELATIONS[name];
    if (node.catalog_name !== '' || (!COMPAT_RELATIONS.has(name) && !macro)) return node;
    const schema = String(node.schema_name);
    // Unqualified, a CTE of that name wins, as in PostgreSQL; otherwise pg_catalog comes first.
    if (schema === '' ? this.cteNames.has(name) : schema !== 'pg_catalog') return node;
    this.changed = true;
    // Keep the reference's name for the query (`pg_type.oid` still resolves).
    const alias = node.alias === '' ? name : node.alias;
    if (macro) {
      this.contextual = true;
      return {
        type: 'TABLE_FUNCTION',
        alias,
        sample: null,
        query_location: node.query_location,
        function: call(
          macro,
          [constant(this.ctx.user, 'VARCHAR', node.query_location)],
          node.query_location,
          true,
        ),
        column_name_alias: node.column_name_alias ?? [],
        with_ordinality: 'WITHOUT_ORDINALITY',
      };
    }
    node.catalog_name = COMPAT_CATALOG;
    node.schema_name = 'main';
    node.alias = alias;
    return node;
  }

  /** A set-returning function in FROM, after its function node was visited. */
  private replaceTableFunction(node: Json): void {
    const fn = node.function as Json;
    const name = String(fn.function_name).toLowerCase();
    const args = (fn.children as unknown[]) ?? [];
    if (name === 'pg_partition_ancestors' && fn.catalog === COMPAT_CATALOG) {
      // The scalar macro gives the one ancestor; unnest makes it a row (and keeps WITH ORDINALITY).
      node.function = call('unnest', [call('list_value', [fn], fn.query_location)], fn.query_location);
      this.changed = true;
      return;
    }
    const aliases = node.column_name_alias as unknown[] | undefined;
    if (
      SCALAR_TABLE_FUNCTIONS.has(name) &&
      fn.catalog === '' &&
      fn.schema === '' &&
      node.alias !== '' &&
      aliases?.length === 0 &&
      (name !== 'unnest' || args.length === 1)
    ) {
      node.column_name_alias = [node.alias];
      this.changed = true;
    }
  }
}

function isNonZeroConstant(node: Json | undefined): boolean {
  if (node?.class !== 'CONSTANT') return false;
  const value = node.value as Json;
  return value.is_null === false && typeof value.value === 'number' && value.value !== 0;
}

function hasParameter(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasParameter);
  if (!isObject(node)) return false;
  if (node.class === 'PARAMETER') return true;
  for (const v of Object.values(node))
    if (v !== null && typeof v === 'object' && hasParameter(v)) return true;
  return false;
}

/** Collations every PostgreSQL client may name that mean DuckDB's default (binary) collation. */
const DEFAULT_COLLATIONS = new Set(['default', 'c', 'posix']);

/** Words that qualify an interval literal's fields (`interval '3' month`, `year to month`). */
const INTERVAL_FIELDS: ReadonlySet<string> = new Set(['year', 'month', 'day', 'hour', 'minute', 'second']);

/**
 * psql writes `a OPERATOR(pg_catalog.~) b COLLATE pg_catalog.default` and `x::pg_catalog.text`;
 * DuckDB's parser drops the operator of OPERATOR(...), knows no such collation and cannot read a
 * schema-qualified type name. PostgreSQL's parser keeps all three, so the statement goes through it:
 * schema-qualified operators and cast types lose the `pg_catalog.`, default collations go, and
 * pgsql-deparser writes the SQL back. Null when there is nothing to change. Edits `tree` in place.
 */
function withoutPgOnlySyntax(tree: ParseResult): string | null {
  let changed = qualifyIntervalLiterals(tree);
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== 'object') return node;
    const o = node as Record<string, unknown>;
    const collate = o.CollateClause as { arg?: unknown; collname?: Node[] } | undefined;
    if (collate) {
      const last = collate.collname?.[collate.collname.length - 1];
      const name = last && 'String' in last ? (last.String.sval ?? '').toLowerCase() : '';
      if (DEFAULT_COLLATIONS.has(name)) {
        changed = true;
        return strip(collate.arg);
      }
    }
    const typeName = (o.TypeCast as { typeName?: { names?: Node[] } } | undefined)?.typeName;
    const qualifier = typeName?.names?.length === 2 ? typeName.names[0] : undefined;
    if (qualifier && 'String' in qualifier && qualifier.String.sval === 'pg_catalog') {
      typeName!.names = [typeName!.names![1]!];
      changed = true;
    }
    const expr = o.A_Expr as { name?: Node[] } | undefined;
    const first = expr?.name?.[0];
    if (
      expr?.name &&
      expr.name.length === 2 &&
      first &&
      'String' in first &&
      first.String.sval === 'pg_catalog'
    ) {
      expr.name = [expr.name[1]!];
      changed = true;
    }
    for (const key of Object.keys(o)) o[key] = strip(o[key]);
    return o;
  };
  if (tree.stmts?.length !== 1) return null;
  strip(tree);
  try {
    return changed ? deparseSync(tree, { pretty: false }) : null;
  } catch {
    return null;
  }
}

/** PostgreSQL's parse tree of `sql`, or null when PostgreSQL's parser rejects it (DuckDB-only syntax). */
function parsePostgres(sql: string): ParseResult | null {
  try {
    return parseSync(sql);
  } catch {
    return null;
  }
}

/**
 * Rewrites that depend only on the SQL text, by that text: clients repeat the same statements
 * (`SELECT 1` health checks, an ORM's queries), and a rewrite costs two trips through DuckDB's parser.
 * A Map keeps insertion order, so the first key is the least recently used.
 */
const rewriteCache = new Map<string, string>();
const REWRITE_CACHE_SIZE = 512;
/** Longer statements are rarely repeated verbatim and would hold memory twice over. */
const REWRITE_CACHE_MAX_SQL = 4096;

function remember(sql: string, rewritten: string): void {
  if (sql.length > REWRITE_CACHE_MAX_SQL) return;
  if (rewriteCache.size >= REWRITE_CACHE_SIZE) rewriteCache.delete(rewriteCache.keys().next().value!);
  rewriteCache.set(sql, rewritten);
}

/** PostgreSQL's column name for a select-list item that became a constant. */
function columnName(node: Json): string {
  if (node.class === 'FUNCTION') return node.is_operator === true ? '?column?' : String(node.function_name);
  if (node.class === 'COLUMN_REF') return String((node.column_names as string[])[0]).toLowerCase();
  if (node.class === 'CAST') {
    // DuckDB reads bytea as BLOB at parse time; PostgreSQL names the column after the type it knows.
    if ((node.cast_type as Json).id === 'BLOB') return 'bytea';
    const info = (node.cast_type as Json).type_info as Json | null;
    return info && typeof info.name === 'string' ? info.name : columnName(node.child as Json);
  }
  return '?column?';
}

/**
 * Rewrites PostgreSQL-isms DuckDB lacks in one SELECT, through DuckDB's own statement tree:
 * `version()` becomes Mallard's PostgreSQL-style version string; `current_setting(...)`,
 * `current_user`/`session_user`/`user`, `current_database()`/`current_catalog`, `pg_backend_pid()`
 * and `pg_get_userbyid()` become the session's values; `set_config(name, value, is_local)` applies
 * the setting to `ctx.settings` now (reported parameters reach the client through
 * settings.takeReports()) and becomes the value it returns; references to pg_catalog relations and
 * functions that DuckDB gets wrong go to COMPAT_CATALOG (see compatSchema.ts); casts to regclass,
 * regtype, regnamespace and regproc become lookups; and `a ~ b` matches anywhere, as PostgreSQL's does.
 *
 * Bytea literals, in any statement: a string constant cast to bytea (or DuckDB's blob) is PostgreSQL
 * bytea input (`'\x0001ff'::bytea`, as psycopg2 inlines binary parameters), re-encoded so that DuckDB
 * reads the same bytes; in a SELECT through DuckDB's tree, in INSERT, UPDATE and other statements
 * DuckDB cannot serialize through PostgreSQL's parser (see rewriteByteaLiterals.ts).
 *
 * PostgreSQL semantics DuckDB lacks, in SELECTs: `a / b`, `a % b` and `mod(a, b)` raise "division by
 * zero" (22012 once the executor maps DuckDB's error) for a zero divisor, through the DIVISION_MACROS
 * (left alone: non-zero constant divisors, and divisions with a parameter, whose type the macro would
 * decide); and the top-level select list gets PostgreSQL's column names (`count(*)` → count, `1` →
 * ?column?, `'x'::text` → text), figured by pgColumnNames on PostgreSQL's own parse tree, as aliases
 * where DuckDB would name the column differently. A lexer pass decides whether either is needed:
 * `SELECT a, t.b, * FROM t` and `SELECT 1 AS one` are not parsed. Rewrites that depend on the SQL text
 * alone are remembered (by text, least recently used out), so repeated statements skip the parsers.
 *
 * The values are constants fixed when the rewrite runs: a statement prepared once (extended
 * protocol) keeps the values of its Parse, and its set_config takes effect at Parse. Statements that
 * are not SELECTs (but for bytea literals), and SELECTs without any of these words (a token scan, no
 * parse), are returned unchanged, as is any statement DuckDB cannot parse (it reports the error when
 * it runs). Throws a PgError as PostgreSQL would at run time: 42704 for current_setting of an unknown
 * parameter, 22023 for an invalid set_config value, 22023 or 22P02 for invalid bytea input.
 */
/**
 * True when rewriteQuery's result for `sql` (already rewritten once) depends on the text alone, not on
 * the session's settings or user: the session may then reuse the statement prepared from it.
 */
export function rewriteIsTextOnly(sql: string): boolean {
  return !scan(sql) || rewriteCache.has(sql);
}

export async function rewriteQuery(sql: string, ctx: RewriteContext, parser: SqlParser): Promise<string> {
  let found = scan(sql);
  if (!found) return sql;
  // DuckDB serializes SELECTs only: bytea literals elsewhere are found by PostgreSQL's parser.
  if (!found.select) return rewriteByteaLiterals(sql) ?? sql;
  const cached = rewriteCache.get(sql);
  if (cached !== undefined) {
    rewriteCache.delete(sql);
    rewriteCache.set(sql, cached);
    return cached;
  }
  const original = sql;
  const pgTree = found.names || found.pgSyntax ? parsePostgres(sql) : null;
  // Figured before withoutPgOnlySyntax edits the tree.
  const names = found.names && pgTree ? pgColumnNames(pgTree) : null;
  let clientText = true;
  if (found.pgSyntax && pgTree) {
    const plain = withoutPgOnlySyntax(pgTree);
    if (plain !== null) {
      sql = plain;
      clientText = false;
      found = scan(sql);
      if (!found) {
        remember(original, sql);
        return sql;
      }
    }
  }
  const tree = (await parser.parse(sql)) as SqlTree | null;
  // WITH ... INSERT starts like a SELECT but does not serialize either.
  if (!tree || !isObject(tree.node)) return found.bytea ? (rewriteByteaLiterals(sql) ?? sql) : sql;
  const rewriter = new Rewriter(ctx, found, sql, clientText);
  rewriter.run(tree, names);
  const rewritten = rewriter.changed ? await parser.print(tree) : sql;
  if (!rewriter.contextual) remember(original, rewritten);
  return rewritten;
}
