// The COPY codecs against a real PostgreSQL 15 on the same rows: what it writes, ours writes byte for
// byte; what it writes, ours decodes; what ours writes, it loads; where it rejects input, ours rejects
// it with the same message and context. psql carries the COPY data both ways.
import { spawnSync } from 'node:child_process';
import pg from 'pg';
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
import { loudHook } from '../../helpers/loudHook.js';
import { type PgServer, startPostgres } from '../../helpers/postgres.js';
import { join } from './bytes.js';

const PSQL = '/usr/bin/psql';
let server: PgServer;
let client: pg.Client;
type Value = string | null;
let rows: Value[][];

/** Deterministic awkward strings: every character COPY treats specially, plus multi-byte UTF-8. */
function sampleRows(): Value[][] {
  const alphabet = [
    'a',
    'Z',
    ' ',
    ',',
    ';',
    '|',
    '"',
    "'",
    '\\',
    '.',
    'N',
    '\t',
    '\n',
    '\r',
    '\x01',
    '\x7f',
    'é',
    '€',
    '😀',
  ];
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  const out: Value[][] = [
    ['', '\\.', '\\N'],
    ['NULL', '"', '\r\n'],
    ['\\', null, '.'],
  ];
  for (let i = 0; i < 200; i++) {
    const row: Value[] = [];
    for (let c = 0; c < 3; c++) {
      if (next() % 9 === 0) {
        row.push(null);
        continue;
      }
      let s = '';
      const length = next() % 9;
      for (let k = 0; k < length; k++) s += alphabet[next() % alphabet.length];
      row.push(s);
    }
    out.push(row);
  }
  return out;
}

function psql(sql: string, input?: Buffer): { stdout: Buffer; stderr: string; code: number | null } {
  const env: NodeJS.ProcessEnv = { ...process.env, PGCLIENTENCODING: 'UTF8' };
  for (const name of ['PGSSLMODE', 'PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGPASSWORD', 'PGOPTIONS']) {
    delete env[name];
  }
  const r = spawnSync(
    PSQL,
    [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      server.host,
      '-p',
      String(server.port),
      '-U',
      server.user,
      '-d',
      server.database,
      '-c',
      sql,
    ],
    { input: input ?? Buffer.alloc(0), env, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr.toString('utf8'), code: r.status };
}

function copyOut(options: string): Buffer {
  const r = psql(`COPY (SELECT a, b, c FROM sample ORDER BY id) TO STDOUT ${options}`);
  assert.is(r.code, 0, r.stderr);
  return r.stdout;
}

/** Loads `data` with COPY FROM STDIN into a fresh table and reads the rows back in order. */
async function copyIn(options: string, data: Buffer): Promise<Value[][]> {
  await client.query('TRUNCATE loaded');
  const r = psql(`COPY loaded (a, b, c) FROM STDIN ${options}`, data);
  assert.is(r.code, 0, r.stderr);
  const result = await client.query({ text: 'SELECT a, b, c FROM loaded ORDER BY id', rowMode: 'array' });
  return result.rows as Value[][];
}

/** PostgreSQL's ERROR and CONTEXT lines for `data` that COPY FROM STDIN rejects. */
function copyInError(options: string, data: Buffer): { message: string; where: string } {
  const r = psql(`COPY loaded (a, b, c) FROM STDIN ${options}`, data);
  assert.is.not(r.code, 0, 'PostgreSQL accepted it');
  const message = /^ERROR: {2}(.*)$/m.exec(r.stderr)?.[1];
  assert.ok(message !== undefined, r.stderr);
  // The context runs to the end of the output: a quoted line may hold newlines of its own.
  const at = r.stderr.indexOf('CONTEXT:  ');
  const where = at < 0 ? '' : r.stderr.slice(at + 'CONTEXT:  '.length).replace(/\n$/, '');
  return { message: message!, where };
}

function decodeText(data: Buffer, options: CopyTextOptions & CopyDecodeOptions = {}): Value[][] {
  const out: Value[][] = [];
  const d = new CopyTextDecoder(options);
  d.push(data, (f) => out.push(f));
  d.end((f) => out.push(f));
  return out;
}

function decodeCsv(data: Buffer, options: CopyCsvOptions & CopyDecodeOptions = {}): Value[][] {
  const out: Value[][] = [];
  const d = new CopyCsvDecoder(options);
  d.push(data, (f) => out.push(f));
  d.end((f) => out.push(f));
  return out;
}

function ourError(decode: () => unknown): { message: string; where: string } {
  try {
    decode();
  } catch (err) {
    assert.instance(err, CopyFormatError);
    const e = err as CopyFormatError;
    return { message: e.message, where: e.fields.where ?? '' };
  }
  assert.unreachable('our decoder accepted it');
  return { message: '', where: '' };
}

test.before(
  loudHook(async () => {
    server = await startPostgres();
    client = new pg.Client({
      host: server.host,
      port: server.port,
      user: server.user,
      database: server.database,
    });
    await client.connect();
    await client.query('CREATE TABLE sample (id int PRIMARY KEY, a text, b text, c text)');
    await client.query('CREATE TABLE loaded (id serial PRIMARY KEY, a text, b text, c text)');
    rows = sampleRows();
    for (const [i, r] of rows.entries()) {
      await client.query('INSERT INTO sample VALUES ($1, $2, $3, $4)', [i, ...r]);
    }
  }),
);

test.after(
  loudHook(async () => {
    await client?.end();
    await server?.stop();
  }),
);

/** COPY options for TO, the same for FROM, and ours; `lossless` when every sample value reads back as itself. */
interface Variant<O> {
  copyTo: string;
  copyFrom: string;
  options: O;
  lossless: boolean;
}

const textVariants: Variant<CopyTextOptions>[] = [
  { copyTo: '', copyFrom: '', options: {}, lossless: true },
  // The value 'NULL' is written as the null string, so it reads back as NULL: in PostgreSQL too.
  {
    copyTo: "(DELIMITER '|', NULL 'NULL')",
    copyFrom: "(DELIMITER '|', NULL 'NULL')",
    options: { delimiter: '|', null: 'NULL' },
    lossless: false,
  },
];

for (const v of textVariants) {
  test(`text ${v.copyTo || 'defaults'}: same bytes as PostgreSQL, decoded as it loads them`, async () => {
    const theirs = copyOut(v.copyTo);
    const w = new CopyTextWriter(v.options);
    const ours = Buffer.from(rows.map((r) => w.row(r)).join(''), 'utf8');
    assert.is(ours.toString('utf8'), theirs.toString('utf8'));
    const loaded = await copyIn(v.copyFrom, ours);
    assert.equal(decodeText(theirs, v.options), loaded);
    if (v.lossless) assert.equal(loaded, rows);
  });
}

const csvVariants: Variant<CopyCsvOptions>[] = [
  { copyTo: '(FORMAT csv)', copyFrom: '(FORMAT csv)', options: {}, lossless: true },
  {
    copyTo: "(FORMAT csv, DELIMITER ';', NULL 'NULL', QUOTE '''', ESCAPE '\\')",
    copyFrom: "(FORMAT csv, DELIMITER ';', NULL 'NULL', QUOTE '''', ESCAPE '\\')",
    options: { delimiter: ';', null: 'NULL', quote: "'", escape: '\\' },
    lossless: true,
  },
  // FORCE_QUOTE is for COPY TO only; what it writes loads as plain CSV.
  {
    copyTo: '(FORMAT csv, FORCE_QUOTE *)',
    copyFrom: '(FORMAT csv)',
    options: { forceQuote: true },
    lossless: true,
  },
  {
    copyTo: '(FORMAT csv, FORCE_QUOTE (b))',
    copyFrom: '(FORMAT csv)',
    options: { forceQuote: [false, true, false] },
    lossless: true,
  },
];

for (const v of csvVariants) {
  test(`csv ${v.copyTo}: same bytes as PostgreSQL, decoded as it loads them`, async () => {
    const theirs = copyOut(v.copyTo);
    const w = new CopyCsvWriter(v.options);
    const ours = Buffer.from(rows.map((r) => w.row(r)).join(''), 'utf8');
    assert.is(ours.toString('utf8'), theirs.toString('utf8'));
    const loaded = await copyIn(v.copyFrom, ours);
    assert.equal(decodeCsv(theirs, v.options), loaded);
    if (v.lossless) assert.equal(loaded, rows);
  });
}

test('csv HEADER: same header line as PostgreSQL', () => {
  const theirs = copyOut('(FORMAT csv, HEADER)');
  const w = new CopyCsvWriter();
  assert.is(theirs.toString('utf8').split('\n')[0]! + '\n', w.header(['a', 'b', 'c']));
  assert.equal(decodeCsv(theirs, { header: 'match', columns: ['a', 'b', 'c'] }), rows);
});

test('binary: same bytes as PostgreSQL, its output decodes, ours loads', async () => {
  const theirs = copyOut('(FORMAT binary)');
  const w = new CopyBinaryWriter();
  const asBytes = (r: Value[]) => r.map((v) => (v === null ? null : Buffer.from(v, 'utf8')));
  const ours = join(w.header(), ...rows.map((r) => w.row(asBytes(r))), w.trailer());
  assert.ok(ours.equals(theirs), 'binary bytes differ');
  const decoded: Value[][] = [];
  const d = new CopyBinaryDecoder({ columns: ['a', 'b', 'c'] });
  d.push(theirs, (f) => decoded.push(f.map((v) => (v === null ? null : v.toString('utf8')))));
  d.end();
  assert.equal(decoded, rows);
  assert.equal(await copyIn('(FORMAT binary)', ours), rows);
});

const rejected: [string, string, Buffer][] = [
  ['text: a literal carriage return', '', Buffer.from('a\tb\tc\nd\re\tf\tg\n')],
  ['text: a literal newline after \\r\\n', '', Buffer.from('a\tb\tc\r\nd\te\tf\ng\th\ti\n')],
  ['text: missing data', '', Buffer.from('a\tb\tc\nd\te\n')],
  ['text: extra data', '', Buffer.from('a\tb\tc\td\n')],
  ['text: bad UTF-8 in the data', '', Buffer.from([0x61, 0x09, 0x62, 0x09, 0xc3, 0x28, 0x0a])],
  ['text: bad UTF-8 from an escape', '', Buffer.from('a\t\\xe2\\x28\\xa1\tc\n')],
  ['text: NUL from an escape', '', Buffer.from('a\tb\t\\000\n')],
  ['text: a long bad line is quoted cut short', '', Buffer.from(`${'é'.repeat(80)}\n`)],
  ['csv: unterminated quote', '(FORMAT csv)', Buffer.from('a,b,c\n"d,e,f\n')],
  ['csv: an unquoted carriage return', '(FORMAT csv)', Buffer.from('a,b,c\nd,e\rf\n')],
  ['csv: missing data after a multi-line field', '(FORMAT csv)', Buffer.from('a,b,c\n"x\ny",z,w\nq\n')],
  ['csv: header mismatch', '(FORMAT csv, HEADER match)', Buffer.from('a,x,c\n')],
  ['binary: a bad signature', '(FORMAT binary)', Buffer.from('PGCOPY\nXXXXXXXXXXXXXXXXX')],
  [
    'binary: a wrong field count',
    '(FORMAT binary)',
    join(new CopyBinaryWriter().header(), new CopyBinaryWriter().row([null, null])),
  ],
  [
    'binary: a cut field',
    '(FORMAT binary)',
    join(new CopyBinaryWriter().header(), Buffer.from([0, 3, 0, 0, 0, 9, 0x61])),
  ],
];

for (const [name, sql, data] of rejected) {
  test(`rejected like PostgreSQL: ${name}`, () => {
    const theirs = copyInError(sql, data);
    const options = { columns: ['a', 'b', 'c'], relation: 'loaded' };
    const ours = ourError(() => {
      if (sql.includes('binary')) {
        const d = new CopyBinaryDecoder(options);
        d.push(data, () => {});
        d.end();
      } else if (sql.includes('csv')) {
        decodeCsv(data, { ...options, header: sql.includes('HEADER') ? 'match' : false });
      } else {
        decodeText(data, options);
      }
    });
    assert.equal(ours, theirs);
  });
}

test.run();
