import type { Node, ParseResult } from 'libpg-query';

/**
 * The column names PostgreSQL gives the select list of a statement, from PostgreSQL's own parse
 * tree (libpg-query): an alias as written (folded like any identifier), else FigureColname's name.
 * One entry per select-list item; null for `*` and `t.*`, which expand to the table's columns.
 * Null when the statement is not one SELECT with a target list (VALUES, TABLE t, other statements).
 * A set operation (UNION, ...) takes its names from its leftmost SELECT, as PostgreSQL does.
 */
export function pgColumnNames(tree: ParseResult): (string | null)[] | null {
  if (tree.stmts?.length !== 1) return null;
  const stmt = tree.stmts[0]!.stmt;
  if (!stmt || !('SelectStmt' in stmt)) return null;
  return targetNames(stmt.SelectStmt as SelectLike);
}

interface SelectLike {
  op?: string;
  larg?: SelectLike;
  targetList?: Node[];
  valuesLists?: Node[];
}

interface ResTargetLike {
  name?: string;
  val?: Node;
}

function targetNames(select: SelectLike): (string | null)[] | null {
  let s = select;
  while (s.op !== undefined && s.op !== 'SETOP_NONE' && s.larg) s = s.larg;
  if (!s.targetList || s.targetList.length === 0) return null;
  return s.targetList.map((item) => {
    const target = (item as { ResTarget?: ResTargetLike }).ResTarget;
    if (!target) return '?column?';
    if (target.name !== undefined) return target.name;
    if (isStar(target.val)) return null;
    return figureColname(target.val).name ?? '?column?';
  });
}

function isStar(node: Node | undefined): boolean {
  const fields = (node as { ColumnRef?: { fields?: Node[] } } | undefined)?.ColumnRef?.fields;
  const last = fields?.[fields.length - 1];
  return last !== undefined && 'A_Star' in last;
}

/** A name and how strongly it should be preferred, as FigureColnameInternal's return value. */
interface Figured {
  name: string | undefined;
  /** 0: no name; 1: a weak name (a cast's type, `case`); 2: a real name. */
  strength: 0 | 1 | 2;
}

const NONE: Figured = { name: undefined, strength: 0 };

function named(name: string): Figured {
  return { name, strength: 2 };
}

function sval(node: Node | undefined): string | undefined {
  return node && 'String' in node ? node.String.sval : undefined;
}

/** SQLValueFunction ops (PostgreSQL 15's SVFOP_*) and the names FigureColname gives them. */
const VALUE_FUNCTION_NAMES: Readonly<Record<string, string>> = {
  SVFOP_CURRENT_DATE: 'current_date',
  SVFOP_CURRENT_TIME: 'current_time',
  SVFOP_CURRENT_TIME_N: 'current_time',
  SVFOP_CURRENT_TIMESTAMP: 'current_timestamp',
  SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp',
  SVFOP_LOCALTIME: 'localtime',
  SVFOP_LOCALTIME_N: 'localtime',
  SVFOP_LOCALTIMESTAMP: 'localtimestamp',
  SVFOP_LOCALTIMESTAMP_N: 'localtimestamp',
  SVFOP_CURRENT_ROLE: 'current_role',
  SVFOP_CURRENT_USER: 'current_user',
  SVFOP_USER: 'user',
  SVFOP_SESSION_USER: 'session_user',
  SVFOP_CURRENT_CATALOG: 'current_catalog',
  SVFOP_CURRENT_SCHEMA: 'current_schema',
};

/** XmlExpr ops and their names. */
const XML_NAMES: Readonly<Record<string, string>> = {
  IS_XMLCONCAT: 'xmlconcat',
  IS_XMLELEMENT: 'xmlelement',
  IS_XMLFOREST: 'xmlforest',
  IS_XMLPARSE: 'xmlparse',
  IS_XMLPI: 'xmlpi',
  IS_XMLROOT: 'xmlroot',
  IS_XMLSERIALIZE: 'xmlserialize',
};

/**
 * PostgreSQL's FigureColnameInternal (src/backend/parser/parse_target.c) on a raw parse tree. A
 * scalar subquery is named after its own first column, which PostgreSQL reads from the subquery it
 * has already analysed; here it is figured the same way from the subquery's select list.
 */
function figureColname(node: Node | undefined): Figured {
  if (!node) return NONE;
  const [kind, body] = Object.entries(node)[0] as [string, Record<string, unknown>];
  switch (kind) {
    case 'ColumnRef': {
      const fields = body.fields as Node[];
      // The last field that is not `*`.
      for (let i = fields.length - 1; i >= 0; i--) {
        const name = sval(fields[i]);
        if (name !== undefined) return named(name);
      }
      return NONE;
    }
    case 'A_Indirection': {
      const indirection = body.indirection as Node[];
      for (let i = indirection.length - 1; i >= 0; i--) {
        const name = sval(indirection[i]);
        if (name !== undefined) return named(name);
      }
      return figureColname(body.arg as Node);
    }
    case 'FuncCall': {
      const names = body.funcname as Node[];
      return named(sval(names[names.length - 1]) ?? '?column?');
    }
    case 'A_Expr':
      return body.kind === 'AEXPR_NULLIF' ? named('nullif') : NONE;
    case 'TypeCast': {
      const inner = figureColname(body.arg as Node);
      if (inner.strength > 1) return inner;
      const names = (body.typeName as { names?: Node[] } | undefined)?.names ?? [];
      const type = sval(names[names.length - 1]);
      if (type === undefined) return inner;
      // Mallard reads DuckDB's blob as PostgreSQL's bytea, and names it so.
      return { name: type === 'blob' ? 'bytea' : type, strength: 1 };
    }
    case 'CollateClause':
      return figureColname(body.arg as Node);
    case 'GroupingFunc':
      return named('grouping');
    case 'MergeSupportFunc':
      return named('merge_action');
    case 'SubLink':
      switch (body.subLinkType) {
        case 'EXISTS_SUBLINK':
          return named('exists');
        case 'ARRAY_SUBLINK':
          return named('array');
        case 'EXPR_SUBLINK': {
          const sub = body.subselect as { SelectStmt?: SelectLike } | undefined;
          const first = sub?.SelectStmt ? targetNames(sub.SelectStmt)?.[0] : undefined;
          return first ? named(first) : NONE;
        }
        default:
          return NONE;
      }
    case 'CaseExpr': {
      const inner = figureColname(body.defresult as Node | undefined);
      return inner.strength <= 1 ? { name: 'case', strength: 1 } : inner;
    }
    case 'A_ArrayExpr':
      return named('array');
    case 'RowExpr':
      return named('row');
    case 'CoalesceExpr':
      return named('coalesce');
    case 'MinMaxExpr':
      return named(body.op === 'IS_GREATEST' ? 'greatest' : 'least');
    case 'SQLValueFunction': {
      const name = VALUE_FUNCTION_NAMES[String(body.op)];
      return name ? named(name) : NONE;
    }
    case 'XmlExpr': {
      const name = XML_NAMES[String(body.op)];
      if (name) return named(name);
      // IS_DOCUMENT is an operator.
      return NONE;
    }
    case 'XmlSerialize':
      return named('xmlserialize');
    // PostgreSQL 15 parses these as plain function calls, named after the function.
    case 'JsonObjectConstructor':
      return named('json_object');
    case 'JsonArrayConstructor':
    case 'JsonArrayQueryConstructor':
      return named('json_array');
    case 'JsonObjectAgg':
      return named('json_objectagg');
    case 'JsonArrayAgg':
      return named('json_arrayagg');
    default:
      return NONE;
  }
}
