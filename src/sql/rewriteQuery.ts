import type { Node } from 'libpg-query';
import { loadModule, parseSync } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';
import { PgError } from '../../protocol/pg/PgError.js';
import { SqlState } from '../../protocol/pg/sqlstate.js';
import {
  COMPAT_CATALOG,
  COMPAT_FUNCTIONS,
  COMPAT_RELATIONS,
  REG_CAST_MACROS,
  SESSION_RELATIONS,
} from './compatSchema.js';
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
  let afterColon = false;
  for (let kind = lexer.next(); kind !== TokenKind.End; kind = lexer.next()) {
    if (isComment(kind)) continue;
    const colon = afterColon;
    afterColon = kind === TokenKind.Other && sql.charCodeAt(lexer.start) === 58; /* : */
    if (first) {
      first = false;
      select =
        kind === TokenKind.OpenParen ||
        (kind === TokenKind.Word && SELECT_WORDS.has(lexer.text().toLowerCase()));
    }
    if (!select) {
      if (kind === TokenKind.Word && isBlobWord(lexer)) {
        bytea = true;
        break;
      }
      continue;
    }
    if (kind === TokenKind.Word) {
      const w = lexer.text().toLowerCase();
      if (TRIGGER_WORDS.has(w)) words.add(w);
      else if (w === 'operator' || w === 'collate') pgSyntax = true;
      else if (w === 'bytea' || w === 'blob') bytea = true;
      if (colon && w === 'pg_catalog') pgSyntax = true;
    } else if (kind === TokenKind.QuotedIdent) {
      quoted.add(lexer.text().slice(1, -1).toLowerCase());
    } else if (kind === TokenKind.Other && sql.charCodeAt(lexer.start) === 126 /* ~ */) {
      tilde = true;
    }
  }
  if (!select) return bytea ? { select, bytea, words, quoted, tilde, pgSyntax } : null;
  return words.size > 0 || tilde || pgSyntax || bytea
    ? { select, bytea, words, quoted, tilde, pgSyntax }
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
  /** Bytea literals re-encoded so far: a select-list item holding one gets PostgreSQL's column name. */
  private blobLiterals = 0;
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

  run(tree: Json): void {
    this.collectCtes(tree);
    this.visit(tree);
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
          const blobs = this.blobLiterals;
          const after = this.visit(before) as Json;
          // PostgreSQL names such a column after the function: `SELECT version()` gives "version".
          if (after !== before) after.alias = before.alias === '' ? columnName(before) : before.alias;
          // DuckDB would name it after the rewritten text (`octet_length(CAST('\x00' AS BLOB))`).
          else if (this.blobLiterals !== blobs && before.alias === '') before.alias = columnName(before);
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

  private replaceColumnRef(node: Json): Json {
    const names = node.column_names as string[];
    if (names.length !== 1) return node;
    const word = names[0]!.toLowerCase();
    // Written quoted anywhere, "user" may be a real column: leave every reference alone then.
    if (!VALUE_WORDS.has(word) || !this.found.words.has(word) || this.found.quoted.has(word)) return node;
    this.changed = true;
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

/** Collations every PostgreSQL client may name that mean DuckDB's default (binary) collation. */
const DEFAULT_COLLATIONS = new Set(['default', 'c', 'posix']);

/**
 * psql writes `a OPERATOR(pg_catalog.~) b COLLATE pg_catalog.default` and `x::pg_catalog.text`;
 * DuckDB's parser drops the operator of OPERATOR(...), knows no such collation and cannot read a
 * schema-qualified type name. PostgreSQL's parser keeps all three, so the statement goes through it:
 * schema-qualified operators and cast types lose the `pg_catalog.`, default collations go, and
 * pgsql-deparser writes the SQL back. Null when there is nothing to change or it does not parse.
 */
function withoutPgOnlySyntax(sql: string): string | null {
  let changed = false;
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
  try {
    const tree = parseSync(sql);
    if (tree.stmts?.length !== 1) return null;
    strip(tree);
    return changed ? deparseSync(tree, { pretty: false }) : null;
  } catch {
    return null;
  }
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
 * The values are constants fixed when the rewrite runs: a statement prepared once (extended
 * protocol) keeps the values of its Parse, and its set_config takes effect at Parse. Statements that
 * are not SELECTs (but for bytea literals), and SELECTs without any of these words (a token scan, no
 * parse), are returned unchanged, as is any statement DuckDB cannot parse (it reports the error when
 * it runs). Throws a PgError as PostgreSQL would at run time: 42704 for current_setting of an unknown
 * parameter, 22023 for an invalid set_config value, 22023 or 22P02 for invalid bytea input.
 */
export async function rewriteQuery(sql: string, ctx: RewriteContext, parser: SqlParser): Promise<string> {
  let found = scan(sql);
  if (!found) return sql;
  // DuckDB serializes SELECTs only: bytea literals elsewhere are found by PostgreSQL's parser.
  if (!found.select) return rewriteByteaLiterals(sql) ?? sql;
  let clientText = true;
  if (found.pgSyntax) {
    const plain = withoutPgOnlySyntax(sql);
    if (plain !== null) {
      sql = plain;
      clientText = false;
      found = scan(sql);
      if (!found) return sql;
    }
  }
  const tree = (await parser.parse(sql)) as SqlTree | null;
  // WITH ... INSERT starts like a SELECT but does not serialize either.
  if (!tree || !isObject(tree.node)) return found.bytea ? (rewriteByteaLiterals(sql) ?? sql) : sql;
  const rewriter = new Rewriter(ctx, found, sql, clientText);
  rewriter.run(tree);
  return rewriter.changed ? parser.print(tree) : sql;
}
