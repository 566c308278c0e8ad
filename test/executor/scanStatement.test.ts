import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { castParameters } from '../../src/executor/castParameters.js';
import {
  decodeStringConstant,
  innerStatementStart,
  loadSqlLexer,
  scanStatement,
} from '../../src/executor/scanStatement.js';

test.before(async () => {
  await loadSqlLexer();
});

test('string constants decode as DuckDB reads them', () => {
  assert.is(decodeStringConstant("'it''s'"), "it's");
  assert.is(decodeStringConstant("E'a\\x41\\n\\101\\''"), "aA\nA'");
  assert.is(decodeStringConstant('$$x$$'), 'x');
  assert.is(decodeStringConstant('$tag$a$b$tag$'), 'a$b');
  assert.is(decodeStringConstant("'a'\n  'b'"), 'ab');
});

test('tokens carry UTF-16 positions, depth, and folded words', () => {
  const sql = 'SELECT \'é€\', "Mixed" FROM t WHERE x IN (SELECT $1) -- note\n';
  const tokens = scanStatement(sql)!;
  const literal = tokens.find((t) => t.kind === 'string')!;
  assert.is(sql.slice(literal.start, literal.end), "'é€'");
  assert.is(literal.value, 'é€');
  assert.is(tokens.find((t) => t.kind === 'identifier' && t.text === '"Mixed"')?.value, 'Mixed');
  const param = tokens.find((t) => t.kind === 'parameter')!;
  assert.is(param.value, '1');
  assert.is(param.depth, 1);
  assert.is(tokens[0].value, 'select');
  assert.not.ok(tokens.some((t) => t.text.startsWith('--')));
});

test('an unterminated string is not scanned', () => {
  assert.is(scanStatement("SELECT 'open"), null);
});

test('EXPLAIN and PREPARE ... AS are peeled to the statement that runs', () => {
  const tokens = scanStatement('EXPLAIN ANALYZE PREPARE p (INTEGER) AS COPY t TO $$x$$')!;
  assert.is(tokens[innerStatementStart(tokens)].value, 'copy');
  const plain = scanStatement('SELECT 1')!;
  assert.is(innerStatementStart(plain), 0);
});

test('casts wrap every occurrence of a parameter, and positions map back', () => {
  const sql = 'SELECT $1, $2 || $1, nope';
  const cast = castParameters(sql, scanStatement(sql)!, new Map([[1, 'VARCHAR']]));
  assert.is(cast.sql, 'SELECT CAST($1 AS VARCHAR), $2 || CAST($1 AS VARCHAR), nope');
  assert.is(cast.toOriginal(cast.sql.indexOf('nope')), sql.indexOf('nope'));
  assert.is(cast.toOriginal(cast.sql.indexOf('$2')), sql.indexOf('$2'));
  assert.is(cast.toOriginal(0), 0);
  assert.is(cast.originalColumnName('(CAST($1 AS VARCHAR) || x)'), '($1 || x)');
});

test.run();
