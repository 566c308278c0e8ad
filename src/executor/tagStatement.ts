import { StatementType } from '@duckdb/node-api';
import { parseSync } from 'libpg-query';
import { innerStatementStart, type SqlToken } from './scanStatement.js';

/** How a statement completes on the wire: its CommandComplete tag and whether rows come first. */
export interface StatementTag {
  /** The tag without a row count: `SELECT`, `INSERT 0`, `CREATE TABLE`. */
  readonly tag: string;
  /** True when the tag takes a row count. */
  readonly hasCount: boolean;
  /** True when the statement sends rows (RowDescription), false for NoData. */
  readonly returnsRows: boolean;
}

const rows = (tag: string, hasCount = true): StatementTag => ({ tag, hasCount, returnsRows: true });
const done = (tag: string, hasCount = false): StatementTag => ({ tag, hasCount, returnsRows: false });

/**
 * The PostgreSQL command tag for a statement DuckDB prepared. DuckDB's statement type gives the
 * family; the object kind of CREATE/DROP/ALTER comes from PostgreSQL's parser (libpg-query) and, for
 * DuckDB-only syntax it rejects (`CREATE MACRO`, `CREATE OR REPLACE TABLE`), from the keywords.
 *
 * @param resolveExecute the tag of a SQL-level prepared statement, by name, for `EXECUTE name`:
 *   PostgreSQL reports the executed statement's tag, not `EXECUTE`.
 */
export function tagStatement(
  type: StatementType,
  sql: string,
  tokens: readonly SqlToken[] | null,
  resolveExecute: (name: string) => StatementTag | undefined = () => undefined,
): StatementTag {
  const toks = tokens ?? [];
  const at = innerStatementStart(toks);
  const lead = toks[at]?.value ?? '';
  const returning = toks.some((t) => t.depth === 0 && t.kind === 'keyword' && t.value === 'returning');
  const dml = (tag: string): StatementTag => ({ tag, hasCount: true, returnsRows: returning });
  switch (type) {
    case StatementType.SELECT:
      return rows('SELECT');
    case StatementType.EXPLAIN:
      return rows('EXPLAIN', false);
    case StatementType.INSERT:
      return dml('INSERT 0');
    case StatementType.UPDATE:
      return dml('UPDATE');
    case StatementType.DELETE:
      // DuckDB runs TRUNCATE as a DELETE.
      return lead === 'truncate' ? done('TRUNCATE TABLE') : dml('DELETE');
    case StatementType.MERGE_INTO:
      return dml('MERGE');
    case StatementType.COPY:
      return done('COPY', true);
    case StatementType.CREATE:
    case StatementType.CREATE_FUNC:
      return createTag(sql, toks, at);
    case StatementType.DROP:
      if (lead === 'deallocate') return done(toks[at + 1]?.value === 'all' ? 'DEALLOCATE ALL' : 'DEALLOCATE');
      return done(dropTag(sql, toks, at));
    case StatementType.ALTER:
      return done(alterTag(sql, toks, at));
    case StatementType.TRANSACTION:
      return done(transactionTag(lead));
    case StatementType.VACUUM:
      return done(lead === 'analyze' ? 'ANALYZE' : 'VACUUM');
    case StatementType.ANALYZE:
      return done('ANALYZE');
    case StatementType.CALL:
      // DuckDB runs CHECKPOINT and FORCE CHECKPOINT as a call of the checkpoint function.
      return lead === 'checkpoint' || lead === 'force' ? done('CHECKPOINT') : rows('CALL', false);
    case StatementType.SET:
    case StatementType.VARIABLE_SET:
      return done(lead === 'reset' ? 'RESET' : 'SET');
    case StatementType.PREPARE:
      return done('PREPARE');
    case StatementType.EXECUTE:
      return resolveExecute(toks[at + 1]?.value ?? '') ?? rows('EXECUTE', false);
    default:
      return done(lead ? lead.toUpperCase() : 'OK');
  }
}

/** The tag of a statement from its leading keywords alone, for `PREPARE name AS <statement>`. */
export function tagFromKeywords(tokens: readonly SqlToken[], at: number): StatementTag {
  const lead = tokens[at]?.value ?? '';
  const returning = tokens.some(
    (t, i) => i > at && t.depth === 0 && t.kind === 'keyword' && t.value === 'returning',
  );
  const dml = (tag: string): StatementTag => ({ tag, hasCount: true, returnsRows: returning });
  switch (lead) {
    case 'select':
    case 'with':
    case 'values':
    case 'from':
    case 'table':
    case 'show':
    case 'describe':
    case 'summarize':
    case 'pivot':
    case 'unpivot':
      return rows('SELECT');
    case 'insert':
      return dml('INSERT 0');
    case 'update':
      return dml('UPDATE');
    case 'delete':
      return dml('DELETE');
    case 'merge':
      return dml('MERGE');
    case '(':
      return rows('SELECT');
    default:
      return done(lead.toUpperCase());
  }
}

type ParsedNode = Record<string, Record<string, unknown>>;

/** The first statement's node as libpg-query returns it (`{ CreateStmt: {...} }`), or undefined. */
function parseStatement(sql: string): [string, Record<string, unknown>] | undefined {
  try {
    const node = parseSync(sql).stmts?.[0]?.stmt as ParsedNode | undefined;
    const kind = node ? Object.keys(node)[0] : undefined;
    return kind ? [kind, node![kind]] : undefined;
  } catch {
    return undefined;
  }
}

/** `OBJECT_MATVIEW` → `MATERIALIZED VIEW`, `OBJECT_FOREIGN_TABLE` → `FOREIGN TABLE`. */
function objectWords(objectType: unknown): string | undefined {
  if (typeof objectType !== 'string' || !objectType.startsWith('OBJECT_')) return undefined;
  const words = objectType.slice('OBJECT_'.length);
  return words === 'MATVIEW' ? 'MATERIALIZED VIEW' : words.replaceAll('_', ' ');
}

const CREATE_MODIFIERS = new Set([
  'create',
  'or',
  'replace',
  'temp',
  'temporary',
  'persistent',
  'unique',
  'unlogged',
]);

function createTag(sql: string, tokens: readonly SqlToken[], at: number): StatementTag {
  const parsed = parseStatement(sql);
  switch (parsed?.[0]) {
    case 'CreateStmt':
      return done('CREATE TABLE');
    case 'CreateTableAsStmt':
      // PostgreSQL reports CREATE TABLE AS with the SELECT tag and the rows it stored.
      return done('SELECT', true);
    case 'ViewStmt':
      return done('CREATE VIEW');
    case 'CreateSchemaStmt':
      return done('CREATE SCHEMA');
    case 'IndexStmt':
      return done('CREATE INDEX');
    case 'CreateSeqStmt':
      return done('CREATE SEQUENCE');
    case 'CreateEnumStmt':
    case 'CompositeTypeStmt':
    case 'CreateRangeStmt':
      return done('CREATE TYPE');
    case 'CreateFunctionStmt':
      return done('CREATE FUNCTION');
    case 'CreateDomainStmt':
      return done('CREATE DOMAIN');
    case 'DefineStmt': {
      const words = objectWords(parsed[1].kind);
      if (words) return done(`CREATE ${words}`);
    }
  }
  let i = at;
  while (tokens[i] && CREATE_MODIFIERS.has(tokens[i].value)) i++;
  const object = tokens[i]?.value ?? '';
  switch (object) {
    case 'table': {
      const as = tokens.some((t, k) => k > i && t.depth === 0 && t.kind === 'keyword' && t.value === 'as');
      return as ? done('SELECT', true) : done('CREATE TABLE');
    }
    case 'macro':
    case 'function':
      // DuckDB macros are PostgreSQL's SQL functions.
      return done('CREATE FUNCTION');
    default:
      return done(object ? `CREATE ${object.toUpperCase()}` : 'CREATE');
  }
}

function dropTag(sql: string, tokens: readonly SqlToken[], at: number): string {
  const parsed = parseStatement(sql);
  if (parsed?.[0] === 'DropStmt') {
    const words = objectWords(parsed[1].removeType);
    if (words) return `DROP ${words}`;
  }
  const object = tokens[at + 1]?.value ?? '';
  if (object === 'macro' || object === 'function') return 'DROP FUNCTION';
  return object ? `DROP ${object.toUpperCase()}` : 'DROP';
}

function alterTag(sql: string, tokens: readonly SqlToken[], at: number): string {
  const parsed = parseStatement(sql);
  if (parsed) {
    const [kind, node] = parsed;
    if (kind === 'CommentStmt') return 'COMMENT';
    if (kind === 'AlterSeqStmt') return 'ALTER SEQUENCE';
    // Renaming a column or constraint is an ALTER of the relation that holds it.
    const objectType =
      kind === 'RenameStmt'
        ? node.renameType === 'OBJECT_COLUMN' || node.renameType === 'OBJECT_TABCONSTRAINT'
          ? 'OBJECT_TABLE'
          : node.renameType
        : (node.objtype ?? node.objectType);
    const words = objectWords(objectType);
    if (words) return `ALTER ${words}`;
  }
  const lead = tokens[at]?.value ?? '';
  if (lead === 'comment') return 'COMMENT';
  const object = tokens[at + 1]?.value ?? '';
  return object ? `ALTER ${object.toUpperCase()}` : 'ALTER';
}

function transactionTag(lead: string): string {
  switch (lead) {
    case 'begin':
      return 'BEGIN';
    case 'start':
      return 'START TRANSACTION';
    case 'commit':
    case 'end':
      return 'COMMIT';
    case 'rollback':
    case 'abort':
      return 'ROLLBACK';
    default:
      return lead.toUpperCase();
  }
}
