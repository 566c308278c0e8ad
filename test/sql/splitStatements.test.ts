import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { splitStatements } from '../../src/sql/splitStatements.js';

function sqls(text: string): string[] {
  return splitStatements(text).map((s) => s.sql);
}

test('two statements, trailing semicolon adds none', () => {
  assert.equal(sqls('SELECT 1; SELECT 2'), ['SELECT 1', 'SELECT 2']);
  assert.equal(sqls('SELECT 1; SELECT 2;'), ['SELECT 1', 'SELECT 2']);
  assert.equal(sqls('SELECT 1;;  ;SELECT 2; -- done\n'), ['SELECT 1', 'SELECT 2']);
});

test('offsets point into the original text', () => {
  const text = '  SELECT 1;\n\t/* c */ SELECT  2 ;';
  for (const s of splitStatements(text)) assert.is(text.slice(s.offset, s.offset + s.sql.length), s.sql);
  assert.equal(
    splitStatements(text).map((s) => s.offset),
    [2, 21],
  );
});

test('semicolons inside quotes, identifiers and comments do not split', () => {
  assert.equal(sqls("SELECT 'a;b'; SELECT 'it''s;'"), ["SELECT 'a;b'", "SELECT 'it''s;'"]);
  assert.equal(sqls('SELECT 1 AS "x;y"; SELECT 2'), ['SELECT 1 AS "x;y"', 'SELECT 2']);
  assert.equal(sqls('SELECT 1 -- no; split\n, 2; SELECT 3'), ['SELECT 1 -- no; split\n, 2', 'SELECT 3']);
  assert.equal(sqls('SELECT /* a; /* nested; */ still; */ 1; SELECT 2'), [
    'SELECT /* a; /* nested; */ still; */ 1',
    'SELECT 2',
  ]);
});

test("E'' strings honour backslash escapes, plain strings do not", () => {
  assert.equal(sqls("SELECT E'a\\';b'; SELECT 2"), ["SELECT E'a\\';b'", 'SELECT 2']);
  // standard_conforming_strings: the backslash is a character and the quote ends the string.
  assert.equal(sqls("SELECT 'a\\'; SELECT 2"), ["SELECT 'a\\'", 'SELECT 2']);
  // An identifier ending in e is not an E prefix.
  assert.equal(sqls("SELECT some'x\\'; SELECT 2"), ["SELECT some'x\\'", 'SELECT 2']);
});

test('dollar quotes, with and without tags; parameters are not dollar quotes', () => {
  assert.equal(sqls('SELECT $$a;b$$; SELECT $tag$ $$; $tag$; SELECT $1; SELECT 2'), [
    'SELECT $$a;b$$',
    'SELECT $tag$ $$; $tag$',
    'SELECT $1',
    'SELECT 2',
  ]);
  assert.equal(sqls('CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql; SELECT 2'), [
    'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql',
    'SELECT 2',
  ]);
  // `a$b` is one identifier, not a dollar quote.
  assert.equal(sqls('SELECT a$b; SELECT 2'), ['SELECT a$b', 'SELECT 2']);
});

test('semicolons inside parentheses belong to the statement (CREATE RULE ... DO (a; b))', () => {
  assert.equal(sqls('CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2); SELECT 3'), [
    'CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2)',
    'SELECT 3',
  ]);
});

test('empty and comment-only queries are one empty statement', () => {
  for (const text of ['', '   ', ';', ' ; ; ', '-- nothing', '/* nothing */', '/* a */ ; -- b']) {
    assert.equal(splitStatements(text), [{ sql: '', offset: 0, empty: true }], JSON.stringify(text));
  }
});

test('unterminated quotes run to the end (the parser reports them)', () => {
  assert.equal(sqls("SELECT 'abc; SELECT 2"), ["SELECT 'abc; SELECT 2"]);
  assert.equal(sqls('SELECT 1 /* open; SELECT 2'), ['SELECT 1 /* open; SELECT 2']);
  assert.equal(sqls('SELECT $x$ open; SELECT 2'), ['SELECT $x$ open; SELECT 2']);
});

test('non-ASCII text keeps UTF-16 offsets', () => {
  const text = "SELECT 'é☃'; SELECT 'x'";
  const [, second] = splitStatements(text);
  assert.is(text.slice(second!.offset), "SELECT 'x'");
});

test.run();
