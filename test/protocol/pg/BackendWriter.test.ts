import { Parser } from 'pg-protocol/dist/parser.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackendWriter, type FieldDescription } from '../../../protocol/pg/BackendWriter.js';
import { PgError } from '../../../protocol/pg/PgError.js';
import { SqlState } from '../../../protocol/pg/sqlstate.js';
import { Bytes, join, message, splits } from './bytes.js';

// Each backend message is checked twice: its bytes against an independent builder, and its meaning
// through node-postgres's own protocol parser (a real client), fed whole and split at every byte.

/** A plain snapshot of a pg-protocol message, taken at once (its Buffers may alias its input). */
function snapshot(m: object): unknown {
  const withMessage = m instanceof Error ? { ...m, message: m.message } : { ...m };
  return JSON.parse(JSON.stringify(withMessage));
}

function pgDecode(chunks: Buffer[]): unknown[] {
  const parser = new Parser();
  const out: unknown[] = [];
  for (const c of chunks) parser.parse(c, (m) => out.push(snapshot(m)));
  return out;
}

/** What node-postgres should report, its `length` being the frame's (everything after the type byte). */
function pgExpected(c: Case): unknown {
  return JSON.parse(JSON.stringify({ ...c.pg, length: c.bytes.length - 1 }));
}

function written(write: (w: BackendWriter) => void): Buffer {
  const w = new BackendWriter();
  write(w);
  return w.take();
}

const fields: FieldDescription[] = [
  { name: 'id', tableOid: 16384, columnAttr: 1, typeOid: 23, typeSize: 4, typeModifier: -1, format: 0 },
  { name: 'näme ✓', tableOid: 0, columnAttr: 0, typeOid: 1043, typeSize: -1, typeModifier: 68, format: 1 },
];

const fullError = new PgError(
  SqlState.UniqueViolation,
  'duplicate key value violates unique constraint "t_pkey"',
  {
    detail: 'Key (id)=(1) already exists.',
    hint: 'Pick another id.',
    position: 17,
    where: 'COPY t, line 3',
    schema: 'public',
    table: 't',
    column: 'id',
    constraint: 't_pkey',
  },
);

interface Case {
  name: string;
  write: (w: BackendWriter) => void;
  bytes: Buffer;
  /** What node-postgres decodes (its `length` is checked against the frame); absent where it has no parser. */
  pg?: object;
}

const cases: Case[] = [
  {
    name: 'AuthenticationOk',
    write: (w) => w.authenticationOk(),
    bytes: message('R', new Bytes().int32(0)),
    pg: { name: 'authenticationOk' },
  },
  {
    name: 'AuthenticationCleartextPassword',
    write: (w) => w.authenticationCleartextPassword(),
    bytes: message('R', new Bytes().int32(3)),
    pg: { name: 'authenticationCleartextPassword' },
  },
  {
    name: 'AuthenticationMD5Password',
    write: (w) => w.authenticationMD5Password(Buffer.from([0xde, 0xad, 0xbe, 0xef])),
    bytes: message('R', new Bytes().int32(5).bytes([0xde, 0xad, 0xbe, 0xef])),
    pg: { name: 'authenticationMD5Password', salt: { type: 'Buffer', data: [0xde, 0xad, 0xbe, 0xef] } },
  },
  {
    name: 'AuthenticationSASL',
    write: (w) => w.authenticationSASL(['SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS']),
    bytes: message('R', new Bytes().int32(10).cstring('SCRAM-SHA-256').cstring('SCRAM-SHA-256-PLUS').byte(0)),
    pg: { name: 'authenticationSASL', mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS'] },
  },
  {
    name: 'AuthenticationSASLContinue',
    write: (w) => w.authenticationSASLContinue('r=abc,s=c2FsdA==,i=4096'),
    bytes: message('R', new Bytes().int32(11).string('r=abc,s=c2FsdA==,i=4096')),
    pg: { name: 'authenticationSASLContinue', data: 'r=abc,s=c2FsdA==,i=4096' },
  },
  {
    name: 'AuthenticationSASLFinal',
    write: (w) => w.authenticationSASLFinal(Buffer.from('v=dmVyaWZpZXI=')),
    bytes: message('R', new Bytes().int32(12).string('v=dmVyaWZpZXI=')),
    pg: { name: 'authenticationSASLFinal', data: 'v=dmVyaWZpZXI=' },
  },
  {
    name: 'ParameterStatus',
    write: (w) => w.parameterStatus('application_name', 'äpp'),
    bytes: message('S', new Bytes().cstring('application_name').cstring('äpp')),
    pg: { name: 'parameterStatus', parameterName: 'application_name', parameterValue: 'äpp' },
  },
  {
    name: 'BackendKeyData',
    write: (w) => w.backendKeyData(31337, 0xdeadbeef),
    bytes: message('K', new Bytes().int32(31337).int32(0xdeadbeef)),
    // node-postgres reads the key as a signed int32.
    pg: { name: 'backendKeyData', processID: 31337, secretKey: 0xdeadbeef - 2 ** 32 },
  },
  {
    name: 'ReadyForQuery idle',
    write: (w) => w.readyForQuery('I'),
    bytes: message('Z', new Bytes().char('I')),
    pg: { name: 'readyForQuery', status: 'I' },
  },
  {
    name: 'ReadyForQuery in transaction',
    write: (w) => w.readyForQuery('T'),
    bytes: message('Z', new Bytes().char('T')),
    pg: { name: 'readyForQuery', status: 'T' },
  },
  {
    name: 'ReadyForQuery failed transaction',
    write: (w) => w.readyForQuery('E'),
    bytes: message('Z', new Bytes().char('E')),
    pg: { name: 'readyForQuery', status: 'E' },
  },
  {
    name: 'NegotiateProtocolVersion',
    write: (w) => w.negotiateProtocolVersion(0, ['_pq_.compression', '_pq_.x']),
    bytes: message('v', new Bytes().int32(0).int32(2).cstring('_pq_.compression').cstring('_pq_.x')),
  },
  {
    name: 'RowDescription',
    write: (w) => w.rowDescription(fields),
    bytes: message(
      'T',
      new Bytes()
        .int16(2)
        .cstring('id')
        .int32(16384)
        .int16(1)
        .int32(23)
        .int16(4)
        .int32(-1)
        .int16(0)
        .cstring('näme ✓')
        .int32(0)
        .int16(0)
        .int32(1043)
        .int16(-1)
        .int32(68)
        .int16(1),
    ),
    pg: {
      name: 'rowDescription',
      fieldCount: 2,
      fields: [
        {
          name: 'id',
          tableID: 16384,
          columnID: 1,
          dataTypeID: 23,
          dataTypeSize: 4,
          dataTypeModifier: -1,
          format: 'text',
        },
        {
          name: 'näme ✓',
          tableID: 0,
          columnID: 0,
          dataTypeID: 1043,
          dataTypeSize: -1,
          dataTypeModifier: 68,
          format: 'binary',
        },
      ],
    },
  },
  {
    name: 'RowDescription with no columns',
    write: (w) => w.rowDescription([]),
    bytes: message('T', new Bytes().int16(0)),
    pg: { name: 'rowDescription', fieldCount: 0, fields: [] },
  },
  {
    name: 'DataRow',
    write: (w) => {
      w.beginDataRow(6);
      w.fieldText('42');
      w.fieldNull();
      w.fieldText('héllo wörld ✓ and more than sixteen units');
      w.fieldBytes(Uint8Array.from([0x41, 0x00, 0x42]));
      w.fieldText('');
      w.fieldText('😀é');
      w.endDataRow();
    },
    bytes: message(
      'D',
      new Bytes()
        .int16(6)
        .int32(2)
        .string('42')
        .int32(-1)
        .int32(Buffer.byteLength('héllo wörld ✓ and more than sixteen units'))
        .string('héllo wörld ✓ and more than sixteen units')
        .int32(3)
        .bytes([0x41, 0x00, 0x42])
        .int32(0)
        .int32(6)
        .string('😀é'),
    ),
    pg: {
      name: 'dataRow',
      fieldCount: 6,
      fields: ['42', null, 'héllo wörld ✓ and more than sixteen units', 'A\u0000B', '', '😀é'],
    },
  },
  {
    name: 'DataRow with no columns',
    write: (w) => {
      w.beginDataRow(0);
      w.endDataRow();
    },
    bytes: message('D', new Bytes().int16(0)),
    pg: { name: 'dataRow', fieldCount: 0, fields: [] },
  },
  {
    name: 'CommandComplete',
    write: (w) => w.commandComplete('INSERT 0 3'),
    bytes: message('C', new Bytes().cstring('INSERT 0 3')),
    pg: { name: 'commandComplete', text: 'INSERT 0 3' },
  },
  {
    name: 'EmptyQueryResponse',
    write: (w) => w.emptyQueryResponse(),
    bytes: message('I'),
    pg: { name: 'emptyQuery' },
  },
  {
    name: 'ErrorResponse with every field',
    write: (w) => w.errorResponse(fullError),
    bytes: message(
      'E',
      new Bytes()
        .char('S')
        .cstring('ERROR')
        .char('V')
        .cstring('ERROR')
        .char('C')
        .cstring('23505')
        .char('M')
        .cstring('duplicate key value violates unique constraint "t_pkey"')
        .char('D')
        .cstring('Key (id)=(1) already exists.')
        .char('H')
        .cstring('Pick another id.')
        .char('P')
        .cstring('17')
        .char('W')
        .cstring('COPY t, line 3')
        .char('s')
        .cstring('public')
        .char('t')
        .cstring('t')
        .char('c')
        .cstring('id')
        .char('n')
        .cstring('t_pkey')
        .byte(0),
    ),
    pg: {
      name: 'error',
      message: 'duplicate key value violates unique constraint "t_pkey"',
      severity: 'ERROR',
      code: '23505',
      detail: 'Key (id)=(1) already exists.',
      hint: 'Pick another id.',
      position: '17',
      where: 'COPY t, line 3',
      schema: 'public',
      table: 't',
      column: 'id',
      constraint: 't_pkey',
    },
  },
  {
    name: 'ErrorResponse FATAL, minimal',
    write: (w) => w.errorResponse(new PgError(SqlState.ProtocolViolation, 'bad', { severity: 'FATAL' })),
    bytes: message(
      'E',
      new Bytes()
        .char('S')
        .cstring('FATAL')
        .char('V')
        .cstring('FATAL')
        .char('C')
        .cstring('08P01')
        .char('M')
        .cstring('bad')
        .byte(0),
    ),
    pg: { name: 'error', message: 'bad', severity: 'FATAL', code: '08P01' },
  },
  {
    name: 'NoticeResponse',
    write: (w) =>
      w.noticeResponse(
        new PgError(SqlState.Warning, 'there is no transaction in progress', { severity: 'WARNING' }),
      ),
    bytes: message(
      'N',
      new Bytes()
        .char('S')
        .cstring('WARNING')
        .char('V')
        .cstring('WARNING')
        .char('C')
        .cstring('01000')
        .char('M')
        .cstring('there is no transaction in progress')
        .byte(0),
    ),
    pg: {
      name: 'notice',
      message: 'there is no transaction in progress',
      severity: 'WARNING',
      code: '01000',
    },
  },
  {
    name: 'ParseComplete',
    write: (w) => w.parseComplete(),
    bytes: message('1'),
    pg: { name: 'parseComplete' },
  },
  { name: 'BindComplete', write: (w) => w.bindComplete(), bytes: message('2'), pg: { name: 'bindComplete' } },
  {
    name: 'CloseComplete',
    write: (w) => w.closeComplete(),
    bytes: message('3'),
    pg: { name: 'closeComplete' },
  },
  { name: 'NoData', write: (w) => w.noData(), bytes: message('n'), pg: { name: 'noData' } },
  {
    name: 'PortalSuspended',
    write: (w) => w.portalSuspended(),
    bytes: message('s'),
    pg: { name: 'portalSuspended' },
  },
  {
    name: 'ParameterDescription',
    write: (w) => w.parameterDescription([23, 25, 0xfffffffe]),
    bytes: message('t', new Bytes().int16(3).int32(23).int32(25).int32(0xfffffffe)),
    pg: { name: 'parameterDescription', parameterCount: 3, dataTypeIDs: [23, 25, 0xfffffffe] },
  },
  {
    name: 'CopyInResponse',
    write: (w) => w.copyInResponse(0, [0, 0]),
    bytes: message('G', new Bytes().byte(0).int16(2).int16(0).int16(0)),
    pg: { name: 'copyInResponse', binary: false, columnTypes: [0, 0] },
  },
  {
    name: 'CopyOutResponse',
    write: (w) => w.copyOutResponse(1, [1, 1, 1]),
    bytes: message('H', new Bytes().byte(1).int16(3).int16(1).int16(1).int16(1)),
    pg: { name: 'copyOutResponse', binary: true, columnTypes: [1, 1, 1] },
  },
  {
    name: 'CopyData (text)',
    write: (w) => w.copyData('1\tä\n'),
    bytes: message('d', new Bytes().string('1\tä\n')),
    pg: { name: 'copyData', chunk: { type: 'Buffer', data: [0x31, 0x09, 0xc3, 0xa4, 0x0a] } },
  },
  {
    name: 'CopyData (bytes)',
    write: (w) => w.copyData(Uint8Array.from([0, 255, 10])),
    bytes: message('d', new Bytes().bytes([0, 255, 10])),
    pg: { name: 'copyData', chunk: { type: 'Buffer', data: [0, 255, 10] } },
  },
  { name: 'CopyDone', write: (w) => w.copyDone(), bytes: message('c'), pg: { name: 'copyDone' } },
];

for (const c of cases) {
  test(`${c.name}: exact bytes${c.pg ? ', and node-postgres decodes it whole and split at every byte' : ''}`, () => {
    const bytes = written(c.write);
    assert.equal([...bytes], [...c.bytes]);
    if (!c.pg) return;
    for (const { name, chunks } of splits(bytes)) assert.equal(pgDecode(chunks), [pgExpected(c)], name);
  });
}

test('every message through one writer: one stream, split at every byte', () => {
  const w = new BackendWriter();
  for (const c of cases) c.write(w);
  const stream = w.take();
  assert.equal([...stream], [...join(...cases.map((c) => c.bytes))]);
  const decodable = cases.filter((c) => c.pg);
  const onlyDecodable = join(...decodable.map((c) => c.bytes));
  for (const { name, chunks } of splits(onlyDecodable)) {
    assert.equal(pgDecode(chunks), decodable.map(pgExpected), name);
  }
});

test('take() hands out bytes that later writes never change, across growth', () => {
  const w = new BackendWriter();
  w.readyForQuery('I');
  const first = w.take();
  const firstCopy = Buffer.from(first);
  assert.is(w.length, 0);
  // Fill well past the initial 16 KiB so the writer moves to new buffers several times.
  for (let i = 0; i < 2000; i++) {
    w.beginDataRow(1);
    w.fieldText(`row ${i} ${'x'.repeat(i % 40)}`);
    w.endDataRow();
    if (i % 300 === 0) {
      const taken = w.take();
      const copy = Buffer.from(taken);
      w.commandComplete('SELECT 1');
      assert.ok(taken.equals(copy), 'a taken chunk stays intact');
    }
  }
  assert.ok(first.equals(firstCopy));
  const rest = w.take();
  const p = new Parser();
  let rows = 0;
  p.parse(rest, (m) => {
    if (m.name === 'dataRow') rows++;
  });
  assert.ok(rows > 0);
});

test('a DataRow far larger than the buffer, in one message', () => {
  const big = 'ü'.repeat(100_000);
  const bytes = written((w) => {
    w.beginDataRow(2);
    w.fieldText(big);
    w.fieldBytes(new Uint8Array(70_000).fill(7));
    w.endDataRow();
  });
  assert.is(bytes.readInt32BE(1), 4 + 2 + 4 + 200_000 + 4 + 70_000);
  assert.is(bytes.readInt32BE(7), 200_000);
  assert.is(bytes.toString('utf8', 11, 11 + 200_000), big);
  assert.is(bytes.readInt32BE(11 + 200_000), 70_000);
});

test('text lengths count UTF-8 bytes, whatever the string', () => {
  const samples = [
    '',
    'a',
    'é',
    'aé',
    'abcdefghijklmné',
    '😀',
    'x😀',
    '\ud800',
    'a\ud800b',
    '€'.repeat(20),
    'ascii'.repeat(10),
  ];
  for (const s of samples) {
    const bytes = written((w) => {
      w.beginDataRow(1);
      w.fieldText(s);
      w.endDataRow();
    });
    const expected = Buffer.from(s, 'utf8');
    assert.is(bytes.readInt32BE(7), expected.length, JSON.stringify(s));
    assert.ok(bytes.subarray(11).equals(expected), JSON.stringify(s));
  }
});

test('a DataRow with the wrong number of fields is a programming error', () => {
  const w = new BackendWriter();
  w.beginDataRow(2);
  w.fieldNull();
  assert.throws(() => w.endDataRow(), /missing 1 fields/);
  const v = new BackendWriter();
  v.beginDataRow(1);
  v.fieldNull();
  v.fieldNull();
  assert.throws(() => v.endDataRow(), /over by 1 fields/);
});

test('a NUL inside a C string is dropped, so the client does not misread later fields', () => {
  const bytes = written((w) =>
    w.errorResponse(new PgError(SqlState.DataException, 'bad\0value', { hint: 'h' })),
  );
  assert.equal(
    [...bytes],
    [
      ...message(
        'E',
        new Bytes()
          .char('S')
          .cstring('ERROR')
          .char('V')
          .cstring('ERROR')
          .char('C')
          .cstring('22000')
          .char('M')
          .cstring('badvalue')
          .char('H')
          .cstring('h')
          .byte(0),
      ),
    ],
  );
});

test('counts beyond the protocol’s int16 are refused', () => {
  const w = new BackendWriter();
  assert.throws(() => w.parameterDescription(new Array(70_000).fill(25)), RangeError);
  assert.throws(() => w.beginDataRow(65_536), RangeError);
});

test.run();
