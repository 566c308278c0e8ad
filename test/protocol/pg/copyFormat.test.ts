import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CopyBinaryDecoder,
  CopyBinaryWriter,
  CopyCsvDecoder,
  type CopyCsvOptions,
  CopyCsvWriter,
  type CopyDecodeOptions,
  CopyFormatError,
  CopyTextDecoder,
  type CopyTextOptions,
  CopyTextWriter,
} from '../../../protocol/pg/copyFormat.js';
import { PgError } from '../../../protocol/pg/PgError.js';
import { Bytes, join, splits } from './bytes.js';

// Expected bytes marked "PostgreSQL 15 output" were produced by COPY ... TO STDOUT on a real
// PostgreSQL 15 for the same rows; error messages, hints and line numbers likewise come from
// COPY ... FROM STDIN there (the end-of-copy marker rules follow PostgreSQL 18, which made them strict).

type Row<T> = { fields: T[]; line: number };

/** The five rows the PostgreSQL fixtures were made from: (a text, b text). */
const pgRows: (string | null)[][] = [
  ['tab\there', 'back\\slash'],
  ['nl\nx\rcr', null],
  ['', '\\.'],
  ['ctl\x01\b\f\v', 'ünï'],
  ['a,b', 'q"q'],
];

function textDecode(chunks: Buffer[], options: CopyTextOptions & CopyDecodeOptions = {}) {
  const d = new CopyTextDecoder(options);
  const rows: Row<string | null>[] = [];
  for (const c of chunks) d.push(c, (fields, line) => rows.push({ fields, line }));
  d.end((fields, line) => rows.push({ fields, line }));
  return rows;
}

function csvDecode(chunks: Buffer[], options: CopyCsvOptions & CopyDecodeOptions = {}) {
  const d = new CopyCsvDecoder(options);
  const rows: Row<string | null>[] = [];
  for (const c of chunks) d.push(c, (fields, line) => rows.push({ fields, line }));
  d.end((fields, line) => rows.push({ fields, line }));
  return rows;
}

function binaryDecode(chunks: Buffer[], options: CopyDecodeOptions = {}) {
  const d = new CopyBinaryDecoder(options);
  const rows: Row<Buffer | null>[] = [];
  for (const c of chunks) d.push(c, (fields, line) => rows.push({ fields, line }));
  d.end();
  return rows;
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** Decoding `input` cut every possible way gives `expected` every time. */
function everySplit<T>(input: Buffer, decode: (chunks: Buffer[]) => T, expected: T): void {
  for (const { name, chunks } of splits(input)) assert.equal(decode(chunks), expected, name);
}

interface ExpectedError {
  code?: string;
  message: string;
  line: number;
  hint?: string;
  where?: string;
}

function fails(fn: () => unknown, expected: ExpectedError, label = ''): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, CopyFormatError, label);
    assert.instance(err, PgError, label);
    const e = err as CopyFormatError;
    assert.is(e.message, expected.message, label);
    assert.is(e.code, expected.code ?? '22P04', label);
    assert.is(e.line, expected.line, label);
    assert.is(e.fields.hint, expected.hint, label);
    assert.is(e.fields.where, expected.where, label);
    return;
  }
  assert.unreachable(`expected a CopyFormatError ${label}`);
}

/** However the input is cut, decoding fails the same way. */
function failsEverySplit(
  input: Buffer,
  decode: (chunks: Buffer[]) => unknown,
  expected: ExpectedError,
): void {
  for (const { name, chunks } of splits(input)) fails(() => decode(chunks), expected, name);
}

const rowsOf = <T>(...rows: [T[], number][]): Row<T>[] => rows.map(([fields, line]) => ({ fields, line }));

// ---------------------------------------------------------------------------------------------
// FORMAT text

const pgText =
  'tab\\there\tback\\\\slash\n' +
  'nl\\nx\\rcr\t\\N\n' +
  '\t\\\\.\n' +
  'ctl\x01\\b\\f\\v\tünï\n' +
  'a,b\tq"q\n';

test('text writer: byte for byte what PostgreSQL 15 writes', () => {
  const w = new CopyTextWriter();
  assert.is(pgRows.map((r) => w.row(r)).join(''), pgText);
  assert.is(w.header(['a', 'b']), 'a\tb\n');
});

test('text writer: another delimiter and null string (PostgreSQL 15 output)', () => {
  const w = new CopyTextWriter({ delimiter: ',', null: 'NUL' });
  assert.is(
    pgRows.map((r) => w.row(r)).join(''),
    'tab\\there,back\\\\slash\n' +
      'nl\\nx\\rcr,NUL\n' +
      ',\\\\.\n' +
      'ctl\x01\\b\\f\\v,ünï\n' +
      'a\\,b,q"q\n',
  );
});

test('text decoder: PostgreSQL 15 output decodes to the rows, however it is cut', () => {
  everySplit(
    utf8(pgText),
    (c) => textDecode(c),
    rowsOf(...pgRows.map((r, i): [(string | null)[], number] => [r, i + 1])),
  );
});

test('text round trip of awkward values, including every control character and a custom delimiter', () => {
  let all = '';
  for (let c = 1; c < 0x20; c++) all += String.fromCharCode(c);
  const rows: (string | null)[][] = [
    [all, '\\', '\\N', 'N'],
    ['', null, '\u{1F600} émoji', 'a|b|c'],
    ['\\.', '.', '\\\\', '|'],
  ];
  // (With NULL '' the empty string would read back as NULL: text format cannot tell them apart.)
  for (const options of [{}, { delimiter: '|' }, { delimiter: '\x01', null: 'NULL' }]) {
    const w = new CopyTextWriter(options);
    const text = utf8(rows.map((r) => w.row(r)).join(''));
    everySplit(
      text,
      (c) => textDecode(c, options),
      rowsOf(...rows.map((r, i): [(string | null)[], number] => [r, i + 1])),
    );
  }
});

test('text decoder: escapes as CopyReadAttributesText reads them', () => {
  const input =
    [
      '\\101',
      '\\x41',
      '\\x4g',
      '\\xg',
      '\\q',
      '\\N',
      '\\Nx',
      '\\b\\f\\n\\r\\t\\v',
      '\\\\.',
      '\\303\\251',
      '\\xc3\\xA9',
      '\\7',
      '\\0101',
    ].join('\t') + '\n';
  everySplit(
    utf8(input),
    (c) => textDecode(c),
    // Octal takes at most three digits: \0101 is \010 (backspace), then 1.
    rowsOf([['A', 'A', '\x04g', 'xg', 'q', null, 'Nx', '\b\f\n\r\t\v', '\\.', 'é', 'é', '\x07', '\b1'], 1]),
  );
});

test('text decoder: an escaped delimiter or newline is data; a lone backslash before the delimiter-less \\x is x', () => {
  // Verified on PostgreSQL 15: `a\x<TAB>b\<LF>` is one row (ax, b<LF>).
  everySplit(utf8('a\\x\tb\\\n'), (c) => textDecode(c), rowsOf([['ax', 'b\n'], 1]));
  everySplit(utf8('a\\\tb\tc\n'), (c) => textDecode(c), rowsOf([['a\tb', 'c'], 1]));
});

test('text decoder: \\r\\n and \\r line endings, chosen by the first line', () => {
  everySplit(utf8('a\tb\r\nc\td\r\n'), (c) => textDecode(c), rowsOf([['a', 'b'], 1], [['c', 'd'], 2]));
  everySplit(utf8('a\tb\rc\td\r'), (c) => textDecode(c), rowsOf([['a', 'b'], 1], [['c', 'd'], 2]));
  everySplit(utf8('a\r\rb\r'), (c) => textDecode(c), rowsOf([['a'], 1], [[''], 2], [['b'], 3]));
});

test('text decoder: a last line without a newline, an empty line, a final backslash', () => {
  everySplit(utf8('a\tb\nc\td'), (c) => textDecode(c), rowsOf([['a', 'b'], 1], [['c', 'd'], 2]));
  everySplit(utf8('\n\n'), (c) => textDecode(c), rowsOf([[''], 1], [[''], 2]));
  everySplit(utf8('ab\\'), (c) => textDecode(c), rowsOf([['ab'], 1]));
  assert.equal(textDecode([]), []);
});

test('text decoder: HEADER is skipped, HEADER MATCH is checked', () => {
  everySplit(utf8('a\tb\n1\t2\n'), (c) => textDecode(c, { header: true }), rowsOf([['1', '2'], 2]));
  everySplit(
    utf8('a\tb\n1\t2\n'),
    (c) => textDecode(c, { header: 'match', columns: ['a', 'b'] }),
    rowsOf([['1', '2'], 2]),
  );
  failsEverySplit(
    utf8('a\tc\n'),
    (c) => textDecode(c, { header: 'match', columns: ['a', 'b'], relation: 't' }),
    {
      message: 'column name mismatch in header line field 2: got "c", expected "b"',
      line: 1,
      where: 'COPY t, line 1: "a\tc"',
    },
  );
  failsEverySplit(utf8('a\n'), (c) => textDecode(c, { header: 'match', columns: ['a', 'b'] }), {
    message: 'wrong number of fields in header line: got 1, expected 2',
    line: 1,
  });
  failsEverySplit(utf8('a\t\\N\n'), (c) => textDecode(c, { header: 'match', columns: ['a', 'b'] }), {
    message: 'column name mismatch in header line field 2: got null value ("\\N"), expected "b"',
    line: 1,
  });
});

test('text decoder: the end-of-copy marker (PostgreSQL 18 rules)', () => {
  everySplit(utf8('line1\nline2\n\\.\n'), (c) => textDecode(c), rowsOf([['line1'], 1], [['line2'], 2]));
  everySplit(utf8('line1\n\\.\nline2\n'), (c) => textDecode(c), rowsOf([['line1'], 1]));
  everySplit(utf8('line1\r\n\\.\r\nline2\r\n'), (c) => textDecode(c), rowsOf([['line1'], 1]));
  everySplit(utf8('\\.\n'), (c) => textDecode(c), []);
  everySplit(utf8('a\\\\.\n'), (c) => textDecode(c), rowsOf([['a\\.'], 1]));
  const where = (line: number) => `COPY t, line ${line}`;
  failsEverySplit(utf8('foo\\.\nbar\n'), (c) => textDecode(c, { relation: 't' }), {
    message: 'end-of-copy marker is not alone on its line',
    line: 1,
    where: where(1),
  });
  failsEverySplit(utf8('line1\n\\.foo\n'), (c) => textDecode(c, { relation: 't' }), {
    message: 'end-of-copy marker is not alone on its line',
    line: 2,
    where: where(2),
  });
  failsEverySplit(utf8('line1\nline2\n\\.'), (c) => textDecode(c, { relation: 't' }), {
    message: 'end-of-copy marker is not alone on its line',
    line: 3,
    where: where(3),
  });
  failsEverySplit(utf8('a\r\n\\.\n'), (c) => textDecode(c), {
    message: 'end-of-copy marker does not match previous newline style',
    line: 2,
  });
  failsEverySplit(utf8('a\n\\.\r\n'), (c) => textDecode(c), {
    message: 'end-of-copy marker does not match previous newline style',
    line: 2,
  });
  failsEverySplit(utf8('a\r\n\\.x'), (c) => textDecode(c), {
    message: 'end-of-copy marker is not alone on its line',
    line: 2,
  });
});

test('text decoder: data after the marker is ignored, in later pushes too', () => {
  const d = new CopyTextDecoder();
  const rows: unknown[] = [];
  d.push(utf8('1\n\\.\n2\n'), (f) => rows.push(f));
  assert.ok(d.ended);
  d.push(utf8('3\n\\x\\\n'), (f) => rows.push(f));
  d.end((f) => rows.push(f));
  assert.equal(rows, [['1']]);
});

test('text decoder: stray newlines, as PostgreSQL 15 reports them', () => {
  failsEverySplit(utf8('a\tb\nc\rd\te\n'), (c) => textDecode(c, { relation: 't' }), {
    message: 'literal carriage return found in data',
    hint: 'Use "\\r" to represent carriage return.',
    line: 2,
    where: 'COPY t, line 2',
  });
  failsEverySplit(utf8('a\tb\r\nc\td\ne\tf\n'), (c) => textDecode(c, { relation: 't' }), {
    message: 'literal newline found in data',
    hint: 'Use "\\n" to represent newline.',
    line: 2,
    where: 'COPY t, line 2',
  });
  failsEverySplit(utf8('a\rb\nc\n'), (c) => textDecode(c), {
    message: 'literal newline found in data',
    hint: 'Use "\\n" to represent newline.',
    line: 2,
  });
  failsEverySplit(utf8('a\r\nb\rc\r\n'), (c) => textDecode(c), {
    message: 'literal carriage return found in data',
    hint: 'Use "\\r" to represent carriage return.',
    line: 2,
  });
});

test('text decoder: wrong field counts, as PostgreSQL 15 reports them', () => {
  const options = { columns: ['a', 'b'], relation: 't' };
  failsEverySplit(utf8('a\tb\nc\n'), (c) => textDecode(c, options), {
    message: 'missing data for column "b"',
    line: 2,
    where: 'COPY t, line 2: "c"',
  });
  failsEverySplit(utf8('a\tb\nc\td\te\n'), (c) => textDecode(c, options), {
    message: 'extra data after last expected column',
    line: 2,
    where: 'COPY t, line 2: "c\td\te"',
  });
  // The context quotes at most 100 bytes of the line, cut on a character boundary.
  const long = `${'x'.repeat(99)}é${'y'.repeat(50)}`;
  fails(() => textDecode([utf8(`${long}\n`)], options), {
    message: 'missing data for column "b"',
    line: 1,
    where: `COPY t, line 1: "${'x'.repeat(99)}..."`,
  });
  // Without a relation there is no context, but the line is still on the error.
  fails(() => textDecode([utf8('1\t2\n3\n')], { columns: ['a', 'b'] }), {
    message: 'missing data for column "b"',
    line: 2,
  });
});

test('text decoder: bytes that are not UTF-8 (22021), as PostgreSQL 15 reports them', () => {
  const options = { relation: 't' };
  failsEverySplit(
    Buffer.from([0x61, 0x09, 0x62, 0x0a, 0xff, 0x09, 0x71, 0x0a]),
    (c) => textDecode(c, options),
    {
      code: '22021',
      message: 'invalid byte sequence for encoding "UTF8": 0xff',
      line: 2,
      where: 'COPY t, line 2',
    },
  );
  failsEverySplit(utf8('a\tb\n\\xff\tq\n'), (c) => textDecode(c, options), {
    code: '22021',
    message: 'invalid byte sequence for encoding "UTF8": 0xff',
    line: 2,
    where: 'COPY t, line 2: "\\xff\tq"',
  });
  failsEverySplit(utf8('a\tb\n\\0\tq\n'), (c) => textDecode(c, options), {
    code: '22021',
    message: 'invalid byte sequence for encoding "UTF8": 0x00',
    line: 2,
    where: 'COPY t, line 2: "\\0\tq"',
  });
  failsEverySplit(Buffer.from([0x61, 0x00, 0x0a]), (c) => textDecode(c), {
    code: '22021',
    message: 'invalid byte sequence for encoding "UTF8": 0x00',
    line: 1,
  });
  failsEverySplit(Buffer.from([0x61, 0xc3, 0x28, 0x0a]), (c) => textDecode(c), {
    code: '22021',
    message: 'invalid byte sequence for encoding "UTF8": 0xc3 0x28',
    line: 1,
  });
  // A multi-byte character cut by a push boundary is fine.
  everySplit(utf8('€\t😀\n'), (c) => textDecode(c), rowsOf([['€', '😀'], 1]));
});

test('text options are validated with PostgreSQL’s messages', () => {
  const bad: [CopyTextOptions, string, string][] = [
    [{ delimiter: '::' }, '0A000', 'COPY delimiter must be a single one-byte character'],
    [{ delimiter: 'é' }, '0A000', 'COPY delimiter must be a single one-byte character'],
    [{ delimiter: '\n' }, '22023', 'COPY delimiter cannot be newline or carriage return'],
    [{ delimiter: '\\' }, '22023', 'COPY delimiter cannot be "\\"'],
    [{ delimiter: 'a' }, '22023', 'COPY delimiter cannot be "a"'],
    [{ null: 'x\ny' }, '22023', 'COPY null representation cannot use newline or carriage return'],
    [{ delimiter: ',', null: 'a,b' }, '22023', 'COPY delimiter must not appear in the NULL specification'],
  ];
  for (const [options, code, message] of bad) {
    for (const make of [() => new CopyTextWriter(options), () => new CopyTextDecoder(options)]) {
      try {
        make();
        assert.unreachable(message);
      } catch (err) {
        assert.instance(err, PgError);
        assert.is((err as PgError).code, code, message);
        assert.is((err as PgError).message, message);
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// FORMAT csv

const pgCsv =
  'tab\there,back\\slash\n' + '"nl\nx\rcr",\n' + '"",\\.\n' + 'ctl\x01\b\f\v,ünï\n' + '"a,b","q""q"\n';

test('csv writer: byte for byte what PostgreSQL 15 writes, with each option', () => {
  const rows = (w: CopyCsvWriter) => pgRows.map((r) => w.row(r)).join('');
  assert.is(rows(new CopyCsvWriter()), pgCsv);
  assert.is(
    rows(new CopyCsvWriter({ forceQuote: true, escape: '\\', quote: "'" })),
    "'tab\there','back\\\\slash'\n" +
      "'nl\nx\rcr',\n" +
      "'','\\\\.'\n" +
      "'ctl\x01\b\f\v','ünï'\n" +
      "'a,b','q\"q'\n",
  );
  assert.is(
    rows(new CopyCsvWriter({ forceQuote: [false, true] })),
    'tab\there,"back\\slash"\n' +
      '"nl\nx\rcr",\n' +
      '"","\\."\n' +
      'ctl\x01\b\f\v,"ünï"\n' +
      '"a,b","q""q"\n',
  );
  assert.is(
    rows(new CopyCsvWriter({ null: 'NULL', delimiter: '|' })),
    'tab\there|back\\slash\n' + '"nl\nx\rcr"|NULL\n' + '|\\.\n' + 'ctl\x01\b\f\v|ünï\n' + 'a,b|"q""q"\n',
  );
});

test('csv writer: header, and a lone \\. in a single column is quoted (PostgreSQL 15 output)', () => {
  const w = new CopyCsvWriter();
  assert.is(w.header(['a']), 'a\n');
  assert.is(w.header(['a', 'we,ird', '']), 'a,"we,ird",""\n');
  assert.is(w.row(['\\.']), '"\\."\n');
  assert.is(w.row(['\\.', '\\.']), '\\.,\\.\n');
});

test('csv decoder: PostgreSQL 15 output decodes to the rows, however it is cut', () => {
  // The quoted newline in row 2 makes PostgreSQL count an extra physical line.
  everySplit(
    utf8(pgCsv),
    (c) => csvDecode(c),
    rowsOf([pgRows[0]!, 1], [pgRows[1]!, 3], [pgRows[2]!, 4], [pgRows[3]!, 5], [pgRows[4]!, 6]),
  );
});

test('csv round trip with every option combination', () => {
  const rows: (string | null)[][] = [
    ['', null, '"', "'"],
    ['a\r\nb', '\\', 'x,y;z', 'NULL'],
    ['\\.', ' ', '\u{1F600}', 'q"q\\'],
  ];
  const optionSets: CopyCsvOptions[] = [
    {},
    { delimiter: ';' },
    { quote: "'", escape: '\\' },
    { null: 'NULL', forceQuote: true },
    { escape: '\\', delimiter: '\t' },
  ];
  for (const options of optionSets) {
    const w = new CopyCsvWriter(options);
    const text = utf8(rows.map((r) => w.row(r)).join(''));
    const decoded = csvDecode([text], options).map((r) => r.fields);
    assert.equal(decoded, rows, JSON.stringify(options));
    for (const { name, chunks } of splits(text)) {
      assert.equal(
        csvDecode(chunks, options).map((r) => r.fields),
        rows,
        `${JSON.stringify(options)} ${name}`,
      );
    }
  }
});

test('csv decoder: quoting as CopyReadAttributesCSV reads it (checked on PostgreSQL 15)', () => {
  everySplit(
    utf8('a,b\n"x""y",z\n"p"q,"r"\n,""\n" a ", b \n'),
    (c) => csvDecode(c),
    rowsOf([['a', 'b'], 1], [['x"y', 'z'], 2], [['pq', 'r'], 3], [[null, ''], 4], [[' a ', ' b '], 5]),
  );
  everySplit(utf8('"a\\"b",\\\\\n'), (c) => csvDecode(c, { escape: '\\' }), rowsOf([['a"b', '\\\\'], 1]));
  everySplit(utf8('"a\\\\",x\n'), (c) => csvDecode(c, { escape: '\\' }), rowsOf([['a\\', 'x'], 1]));
  // Physical lines inside quotes are counted by the newline style known so far: none yet on line 1,
  // where PostgreSQL counts only the CR.
  everySplit(utf8('"1\n2\r\n3"\n'), (c) => csvDecode(c), rowsOf([['1\n2\r\n3'], 2]));
  everySplit(utf8('\\.\n'), (c) => csvDecode(c), rowsOf([['\\.'], 1]));
});

test('csv decoder: FORCE_NULL and FORCE_NOT_NULL', () => {
  everySplit(
    utf8(',"",x\n'),
    (c) => csvDecode(c, { forceNotNull: [true], forceNull: [false, true] }),
    rowsOf([['', null, 'x'], 1]),
  );
});

test('csv decoder: HEADER skips the first line, HEADER MATCH checks it (PostgreSQL 15 messages)', () => {
  everySplit(utf8('a,b\n1,2\n'), (c) => csvDecode(c, { header: true }), rowsOf([['1', '2'], 2]));
  failsEverySplit(
    utf8('x,y\na,b\n'),
    (c) => csvDecode(c, { header: 'match', columns: ['a', 'b'], relation: 't' }),
    {
      message: 'column name mismatch in header line field 1: got "x", expected "a"',
      line: 1,
      where: 'COPY t, line 1: "x,y"',
    },
  );
  failsEverySplit(
    utf8('a,\n'),
    (c) => csvDecode(c, { header: 'match', columns: ['a', 'b'], relation: 't' }),
    {
      message: 'column name mismatch in header line field 2: got null value (""), expected "b"',
      line: 1,
      where: 'COPY t, line 1: "a,"',
    },
  );
});

test('csv decoder: errors and their lines, as PostgreSQL 15 reports them', () => {
  failsEverySplit(utf8('a,b\n"c,d\n'), (c) => csvDecode(c, { relation: 't' }), {
    message: 'unterminated CSV quoted field',
    line: 3,
    where: 'COPY t, line 3: ""c,d\n"',
  });
  failsEverySplit(utf8('a,b\n"x\ny",z\nq\n'), (c) => csvDecode(c, { columns: ['a', 'b'], relation: 't' }), {
    message: 'missing data for column "b"',
    line: 4,
    where: 'COPY t, line 4: "q"',
  });
  failsEverySplit(utf8('"1\n2\r\n3",x\nq\n'), (c) => csvDecode(c, { columns: ['a', 'b'] }), {
    message: 'missing data for column "b"',
    line: 3,
  });
  failsEverySplit(utf8('a,b\n"1\n2\r\n3",x\nq\n'), (c) => csvDecode(c, { columns: ['a', 'b'] }), {
    message: 'missing data for column "b"',
    line: 5,
  });
  failsEverySplit(utf8('a,b\nc\rd\n'), (c) => csvDecode(c), {
    message: 'unquoted carriage return found in data',
    hint: 'Use quoted CSV field to represent carriage return.',
    line: 2,
  });
  failsEverySplit(utf8('a\r\nb\nc\r\n'), (c) => csvDecode(c), {
    message: 'unquoted newline found in data',
    hint: 'Use quoted CSV field to represent newline.',
    line: 2,
  });
  failsEverySplit(Buffer.from([0x22, 0x00, 0x22, 0x0a]), (c) => csvDecode(c), {
    code: '22021',
    message: 'invalid byte sequence for encoding "UTF8": 0x00',
    line: 1,
  });
});

test('csv options are validated with PostgreSQL’s messages', () => {
  const bad: [CopyCsvOptions, string, string][] = [
    [{ quote: '""' }, '0A000', 'COPY quote must be a single one-byte character'],
    [{ escape: '' }, '0A000', 'COPY escape must be a single one-byte character'],
    [{ delimiter: '"' }, '22023', 'COPY delimiter and quote must be different'],
    [{ null: '"' }, '22023', 'CSV quote character must not appear in the NULL specification'],
  ];
  for (const [options, code, message] of bad) {
    try {
      new CopyCsvDecoder(options);
      assert.unreachable(message);
    } catch (err) {
      assert.instance(err, PgError);
      assert.is((err as PgError).code, code, message);
      assert.is((err as PgError).message, message);
    }
  }
  // Unlike text, CSV lets a letter be the delimiter.
  assert.equal(csvDecode([utf8('1a2\n')], { delimiter: 'a' })[0]!.fields, ['1', '2']);
});

// ---------------------------------------------------------------------------------------------
// FORMAT binary

/** PostgreSQL 15 output of COPY (SELECT 1::int4, NULL::text, 'ab'::text UNION ALL SELECT -2, 'ü', '') TO STDOUT (FORMAT binary). */
const pgBinary = new Bytes()
  .string('PGCOPY\n')
  .bytes([0xff, 0x0d, 0x0a, 0x00])
  .int32(0)
  .int32(0)
  .int16(3)
  .int32(4)
  .int32(1)
  .int32(-1)
  .int32(2)
  .string('ab')
  .int16(3)
  .int32(4)
  .int32(-2)
  .int32(2)
  .string('ü')
  .int32(0)
  .int16(-1)
  .build();

const int4 = (v: number) => new Bytes().int32(v).build();
const pgBinaryRows: (Buffer | null)[][] = [
  [int4(1), null, utf8('ab')],
  [int4(-2), utf8('ü'), Buffer.alloc(0)],
];

test('binary writer: byte for byte what PostgreSQL 15 writes', () => {
  const w = new CopyBinaryWriter();
  const out = join(w.header(), ...pgBinaryRows.map((r) => w.row(r)), w.trailer());
  assert.equal([...out], [...pgBinary]);
});

test('binary decoder: PostgreSQL 15 output decodes to the rows, however it is cut', () => {
  everySplit(
    pgBinary,
    (c) => binaryDecode(c, { columns: ['a', 'b', 'c'] }),
    rowsOf([pgBinaryRows[0]!, 1], [pgBinaryRows[1]!, 2]),
  );
});

test('binary decoder: fields straddling pushes stay intact after later pushes', () => {
  const w = new CopyBinaryWriter();
  const rows: (Buffer | null)[][] = [];
  for (let i = 0; i < 50; i++)
    rows.push([Buffer.alloc(300 + i, i), i % 3 === 0 ? null : Buffer.alloc(i, 255 - i)]);
  const data = join(w.header(), ...rows.map((r) => w.row(r)), w.trailer());
  for (const size of [1, 2, 5, 64, 301, 1000]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < data.length; i += size) chunks.push(Buffer.from(data.subarray(i, i + size)));
    assert.equal(
      binaryDecode(chunks).map((r) => r.fields),
      rows,
      `chunks of ${size}`,
    );
  }
});

test('binary decoder: a header extension is skipped; the data may end without a trailer; zero-field rows', () => {
  const withExtension = new Bytes()
    .string('PGCOPY\n')
    .bytes([0xff, 0x0d, 0x0a, 0x00])
    .int32(0)
    .int32(5)
    .bytes([1, 2, 3, 4, 5])
    .int16(1)
    .int32(1)
    .string('x')
    .int16(0)
    .build();
  everySplit(withExtension, (c) => binaryDecode(c), rowsOf([[utf8('x')], 1], [[], 2]));
});

test('binary decoder: malformed input, with PostgreSQL’s messages', () => {
  const header = new CopyBinaryWriter().header();
  const cases: [string, Buffer, ExpectedError, CopyDecodeOptions?][] = [
    ['no data at all', Buffer.alloc(0), { message: 'COPY file signature not recognized', line: 0 }],
    [
      'a wrong signature',
      utf8('PGCOPY\nXXXXXXXXXXXX'),
      { message: 'COPY file signature not recognized', line: 0 },
    ],
    ['a text file', utf8('1\t2\n'), { message: 'COPY file signature not recognized', line: 0 }],
    ['no flags', header.subarray(0, 13), { message: 'invalid COPY file header (missing flags)', line: 0 }],
    [
      'no extension length',
      header.subarray(0, 17),
      { message: 'invalid COPY file header (missing length)', line: 0 },
    ],
    [
      'OIDs',
      join(
        header.subarray(0, 11),
        new Bytes()
          .int32(1 << 16)
          .int32(0)
          .build(),
      ),
      { message: 'invalid COPY file header (WITH OIDS)', line: 0 },
    ],
    [
      'a critical flag',
      join(
        header.subarray(0, 11),
        new Bytes()
          .int32(1 << 17)
          .int32(0)
          .build(),
      ),
      { message: 'unrecognized critical flags in COPY file header', line: 0 },
    ],
    [
      'a negative extension length',
      join(header.subarray(0, 11), new Bytes().int32(0).int32(-1).build()),
      { message: 'invalid COPY file header (missing length)', line: 0 },
    ],
    [
      'a short extension',
      join(header.subarray(0, 11), new Bytes().int32(0).int32(4).bytes([1, 2]).build()),
      { message: 'invalid COPY file header (wrong length)', line: 0 },
    ],
    [
      'a wrong field count',
      join(header, new Bytes().int16(2).int32(-1).int32(-1).build()),
      { message: 'row field count is 2, expected 3', line: 1, where: 'COPY t, line 1' },
      { columns: ['a', 'b', 'c'], relation: 't' },
    ],
    [
      'a negative field size',
      join(header, new Bytes().int16(1).int32(-2).build()),
      { message: 'invalid field size', line: 1 },
    ],
    [
      'a cut field',
      join(header, new Bytes().int16(1).int32(5).string('ab').build()),
      { message: 'unexpected EOF in COPY data', line: 1 },
    ],
    [
      'a cut second field, in context (PostgreSQL names the column it was reading)',
      join(header, new Bytes().int16(2).int32(-1).int32(5).string('ab').build()),
      { message: 'unexpected EOF in COPY data', line: 1, where: 'COPY t, line 1, column b' },
      { columns: ['a', 'b'], relation: 't' },
    ],
    [
      'a bad signature, in no context (PostgreSQL reads the header before it sets one)',
      utf8('PGCOPY\nXXXXXXXX'),
      { message: 'COPY file signature not recognized', line: 0 },
      { relation: 't' },
    ],
    [
      'a cut length',
      join(header, new Bytes().int16(1).bytes([0, 0]).build()),
      { message: 'unexpected EOF in COPY data', line: 1 },
    ],
    [
      'a cut count',
      join(header, new Bytes().byte(0).build()),
      { message: 'unexpected EOF in COPY data', line: 1 },
    ],
    [
      'data after the trailer',
      join(header, new Bytes().int16(-1).byte(0).build()),
      { message: 'received copy data after EOF marker', line: 1 },
    ],
  ];
  for (const [name, data, expected, options] of cases) {
    if (data.length === 0) fails(() => binaryDecode([], options), expected, name);
    else failsEverySplit(data, (c) => binaryDecode(c, options), expected);
  }
});

test('binary decoder: data after the trailer in a later push is refused', () => {
  const d = new CopyBinaryDecoder();
  const w = new CopyBinaryWriter();
  d.push(join(w.header(), w.trailer()), () => {});
  assert.ok(d.ended);
  fails(() => d.push(Buffer.from([0]), () => {}), {
    message: 'received copy data after EOF marker',
    line: 1,
  });
});

test.run();
