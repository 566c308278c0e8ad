import { serialize } from 'pg-protocol';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  FrontendParser,
  parsePasswordMessage,
  parseSaslInitialResponse,
} from '../../../protocol/pg/FrontendParser.js';
import type { FrontendMessage } from '../../../protocol/pg/messages.js';
import { ProtocolError } from '../../../protocol/pg/PgError.js';
import { Bytes, join, message, packet, splits } from './bytes.js';

/** Startup params come with a null prototype; compare them as plain objects. */
function plain(m: FrontendMessage): unknown {
  return m.type === 'startup' ? { ...m, params: { ...m.params } } : m;
}

/** Feeds `chunks` to a fresh parser; results are compared only after the last push, so a payload
 *  that a later push overwrote would show. */
function decode(chunks: Buffer[], startup = false, options?: { maxMessageSize?: number }): unknown[] {
  const parser = new FrontendParser(options);
  parser.expectStartup = startup;
  const out: FrontendMessage[] = [];
  for (const c of chunks) parser.push(c, (m) => out.push(m));
  return out.map(plain);
}

function decodeEverySplit(data: Buffer, expected: unknown[], startup = false): void {
  for (const { name, chunks } of splits(data)) {
    assert.equal(decode(chunks, startup), expected, name);
  }
}

function throwsProtocolError(fn: () => unknown, message: string | RegExp, label = ''): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ProtocolError, label);
    const e = err as ProtocolError;
    assert.is(e.code, '08P01', label);
    assert.is(e.severity, 'FATAL', label);
    if (typeof message === 'string') assert.is(e.message, message, label);
    else assert.match(e.message, message, label);
    return;
  }
  assert.unreachable(`expected a ProtocolError ${label}`);
}

/** A malformed stream must fail however it is cut, not wait forever for bytes that fix it. */
function failsEverySplit(data: Buffer, message: string | RegExp, startup = false): void {
  for (const { name, chunks } of splits(data)) {
    throwsProtocolError(() => decode(chunks, startup), message, name);
  }
}

// ---- startup-phase packets (no type byte) ----

const startupBytes = packet(
  new Bytes()
    .int32(3 << 16)
    .cstring('user')
    .cstring('alice')
    .cstring('database')
    .cstring('shop')
    .cstring('application_name')
    .cstring('fïxture ✓')
    .byte(0),
);
const startupMessage = {
  type: 'startup',
  protocolVersion: 196608,
  params: { user: 'alice', database: 'shop', application_name: 'fïxture ✓' },
};

const untyped: { name: string; bytes: Buffer; expected: unknown }[] = [
  { name: 'StartupMessage', bytes: startupBytes, expected: startupMessage },
  {
    name: 'StartupMessage 3.2 with a _pq_ option',
    bytes: packet(
      new Bytes().int32(0x30002).cstring('user').cstring('bob').cstring('_pq_.x').cstring('1').byte(0),
    ),
    expected: { type: 'startup', protocolVersion: 0x30002, params: { user: 'bob', '_pq_.x': '1' } },
  },
  {
    name: 'StartupMessage with no parameters',
    bytes: packet(new Bytes().int32(3 << 16).byte(0)),
    expected: { type: 'startup', protocolVersion: 196608, params: {} },
  },
  {
    name: 'StartupMessage of protocol 2 (rejected by the connection, not the codec)',
    bytes: packet(new Bytes().int32(2 << 16).bytes(new Array(32).fill(0x41))),
    expected: { type: 'startup', protocolVersion: 2 << 16, params: {} },
  },
  { name: 'SSLRequest', bytes: packet(new Bytes().int32(80877103)), expected: { type: 'sslRequest' } },
  { name: 'GSSENCRequest', bytes: packet(new Bytes().int32(80877104)), expected: { type: 'gssEncRequest' } },
  {
    name: 'CancelRequest',
    bytes: packet(new Bytes().int32(80877102).int32(4242).int32(0xdeadbeef)),
    expected: { type: 'cancelRequest', pid: 4242, secret: 0xdeadbeef },
  },
];

for (const f of untyped) {
  test(`${f.name}: decoded whole and split at every byte`, () => {
    decodeEverySplit(f.bytes, [f.expected], true);
  });
}

test('a startup parameter named __proto__ stays an ordinary entry', () => {
  const bytes = packet(
    new Bytes()
      .int32(3 << 16)
      .cstring('__proto__')
      .cstring('x')
      .cstring('user')
      .cstring('u')
      .byte(0),
  );
  const parser = new FrontendParser();
  let got: FrontendMessage | undefined;
  parser.push(bytes, (m) => {
    got = m;
  });
  assert.ok(got?.type === 'startup');
  if (got?.type !== 'startup') return;
  assert.equal(Object.keys(got.params), ['__proto__', 'user']);
  assert.equal(Object.entries(got.params), [
    ['__proto__', 'x'],
    ['user', 'u'],
  ]);
});

// ---- typed messages ----

const typed: { name: string; bytes: Buffer; expected: unknown }[] = [
  {
    name: 'Query',
    bytes: message('Q', new Bytes().cstring("SELECT 'ünïcode ✓'")),
    expected: { type: 'query', sql: "SELECT 'ünïcode ✓'" },
  },
  {
    name: 'Query (empty)',
    bytes: message('Q', new Bytes().cstring('')),
    expected: { type: 'query', sql: '' },
  },
  {
    name: 'Parse',
    bytes: message(
      'P',
      new Bytes().cstring('s1').cstring('SELECT $1, $2').int16(2).int32(23).int32(0xfffffffe),
    ),
    expected: { type: 'parse', name: 's1', sql: 'SELECT $1, $2', paramOids: [23, 0xfffffffe] },
  },
  {
    name: 'Parse (unnamed, no types)',
    bytes: message('P', new Bytes().cstring('').cstring('SELECT 1').int16(0)),
    expected: { type: 'parse', name: '', sql: 'SELECT 1', paramOids: [] },
  },
  {
    name: 'Bind',
    bytes: message(
      'B',
      new Bytes()
        .cstring('p1')
        .cstring('s1')
        .int16(3)
        .int16(0)
        .int16(1)
        .int16(1)
        .int16(3)
        .int32(3)
        .string('abc')
        .int32(-1)
        .int32(0)
        .int16(2)
        .int16(1)
        .int16(0),
    ),
    expected: {
      type: 'bind',
      portal: 'p1',
      statement: 's1',
      paramFormats: [0, 1, 1],
      params: [Buffer.from('abc'), null, Buffer.alloc(0)],
      resultFormats: [1, 0],
    },
  },
  {
    name: 'Bind (one format for all, binary bytes with NULs)',
    bytes: message(
      'B',
      new Bytes().cstring('').cstring('').int16(1).int16(1).int16(1).int32(4).bytes([0, 0, 0, 42]).int16(0),
    ),
    expected: {
      type: 'bind',
      portal: '',
      statement: '',
      paramFormats: [1],
      params: [Buffer.from([0, 0, 0, 42])],
      resultFormats: [],
    },
  },
  {
    name: 'Describe statement',
    bytes: message('D', new Bytes().char('S').cstring('s1')),
    expected: { type: 'describe', kind: 'S', name: 's1' },
  },
  {
    name: 'Describe portal',
    bytes: message('D', new Bytes().char('P').cstring('')),
    expected: { type: 'describe', kind: 'P', name: '' },
  },
  {
    name: 'Execute',
    bytes: message('E', new Bytes().cstring('p1').int32(100)),
    expected: { type: 'execute', portal: 'p1', maxRows: 100 },
  },
  {
    name: 'Execute (no row limit)',
    bytes: message('E', new Bytes().cstring('').int32(0)),
    expected: { type: 'execute', portal: '', maxRows: 0 },
  },
  {
    name: 'Close statement',
    bytes: message('C', new Bytes().char('S').cstring('s1')),
    expected: { type: 'close', kind: 'S', name: 's1' },
  },
  {
    name: 'Close portal',
    bytes: message('C', new Bytes().char('P').cstring('p1')),
    expected: { type: 'close', kind: 'P', name: 'p1' },
  },
  { name: 'Sync', bytes: message('S'), expected: { type: 'sync' } },
  { name: 'Flush', bytes: message('H'), expected: { type: 'flush' } },
  { name: 'Terminate', bytes: message('X'), expected: { type: 'terminate' } },
  {
    name: 'CopyData',
    bytes: message('d', new Bytes().string('1\tä\n').bytes([0, 255])),
    expected: { type: 'copyData', data: Buffer.from([0x31, 0x09, 0xc3, 0xa4, 0x0a, 0, 255]) },
  },
  {
    name: 'CopyData (empty)',
    bytes: message('d'),
    expected: { type: 'copyData', data: Buffer.alloc(0) },
  },
  { name: 'CopyDone', bytes: message('c'), expected: { type: 'copyDone' } },
  {
    name: 'CopyFail',
    bytes: message('f', new Bytes().cstring('aborted by user')),
    expected: { type: 'copyFail', message: 'aborted by user' },
  },
  {
    name: 'PasswordMessage',
    bytes: message('p', new Bytes().cstring('s3cr3t')),
    expected: { type: 'password', data: Buffer.from('s3cr3t\0') },
  },
  {
    name: 'FunctionCall',
    bytes: message('F', new Bytes().int32(1234).int16(0).int16(0).int16(0)),
    expected: { type: 'functionCall' },
  },
];

for (const f of typed) {
  test(`${f.name}: decoded whole and split at every byte`, () => {
    decodeEverySplit(f.bytes, [f.expected]);
  });
}

test('every typed message in one stream, split at every byte', () => {
  const stream = join(...typed.map((f) => f.bytes));
  decodeEverySplit(
    stream,
    typed.map((f) => f.expected),
  );
});

test('startup then typed messages in one stream: the parser leaves the startup phase by itself', () => {
  const stream = join(startupBytes, typed[0]!.bytes, typed[4]!.bytes, message('S'));
  decodeEverySplit(stream, [startupMessage, typed[0]!.expected, typed[4]!.expected, { type: 'sync' }], true);
});

test('SSLRequest, then the caller re-arms expectStartup for the startup packet', () => {
  const parser = new FrontendParser();
  const out: FrontendMessage[] = [];
  parser.push(untyped[4]!.bytes, (m) => out.push(m));
  assert.is(parser.expectStartup, false);
  parser.expectStartup = true;
  parser.push(startupBytes, (m) => out.push(m));
  parser.push(message('Q', new Bytes().cstring('SELECT 1')), (m) => out.push(m));
  assert.equal(out.map(plain), [{ type: 'sslRequest' }, startupMessage, { type: 'query', sql: 'SELECT 1' }]);
});

test('payloads survive later pushes: straddling messages never share a buffer that is reused', () => {
  const bigParam = Buffer.alloc(3000, 0x61);
  const bind = message(
    'B',
    new Bytes().cstring('').cstring('').int16(0).int16(1).int32(bigParam.length).bytes(bigParam).int16(0),
  );
  const copy1 = message('d', new Bytes().bytes(Buffer.alloc(700, 0x62)));
  const copy2 = message('d', new Bytes().bytes(Buffer.alloc(700, 0x63)));
  const stream = join(bind, copy1, copy2, bind, copy1);
  // Odd chunk sizes make every message straddle at least one boundary.
  for (const size of [1, 7, 64, 333, 1000]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i += size) chunks.push(Buffer.from(stream.subarray(i, i + size)));
    const out = decode(chunks) as FrontendMessage[];
    assert.is(out.length, 5);
    const params = (out[0] as { params: Buffer[] }).params;
    assert.ok(params[0]!.equals(bigParam), `chunk size ${size}: first bind param intact`);
    assert.ok((out[1] as { data: Buffer }).data.equals(Buffer.alloc(700, 0x62)), `chunk size ${size}`);
    assert.ok((out[2] as { data: Buffer }).data.equals(Buffer.alloc(700, 0x63)), `chunk size ${size}`);
    assert.ok((out[3] as { params: Buffer[] }).params[0]!.equals(bigParam), `chunk size ${size}`);
    assert.ok((out[4] as { data: Buffer }).data.equals(Buffer.alloc(700, 0x62)), `chunk size ${size}`);
  }
});

test('a message of 5 MB arriving in 64 KiB chunks', () => {
  const payload = Buffer.alloc(5 * 1024 * 1024);
  for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
  const frame = Buffer.alloc(5 + payload.length);
  frame[0] = 0x64;
  frame.writeInt32BE(payload.length + 4, 1);
  payload.copy(frame, 5);
  const chunks: Buffer[] = [];
  for (let i = 0; i < frame.length; i += 65536) chunks.push(frame.subarray(i, i + 65536));
  const out = decode(chunks) as { type: string; data: Buffer }[];
  assert.is(out.length, 1);
  assert.ok(out[0]!.data.equals(payload));
});

// ---- what node-postgres actually sends ----

test("node-postgres's serializer: its messages decode to what it meant", () => {
  const start = serialize.startup({ user: 'pguser', database: 'db', client_encoding: 'UTF8' });
  assert.equal(decode([start], true), [
    {
      type: 'startup',
      protocolVersion: 196608,
      params: { user: 'pguser', database: 'db', client_encoding: 'UTF8' },
    },
  ]);
  assert.equal(decode([serialize.requestSsl()], true), [{ type: 'sslRequest' }]);
  assert.equal(decode([serialize.cancel(77, 0x7fff1234)], true), [
    { type: 'cancelRequest', pid: 77, secret: 0x7fff1234 },
  ]);
  const stream = join(
    serialize.query('SELECT 1'),
    serialize.parse({ name: 'st', text: 'SELECT $1::int', types: [23] }),
    serialize.bind({
      portal: 'pt',
      statement: 'st',
      values: ['42', null, Buffer.from([1, 2])],
      binary: true,
    }),
    serialize.describe({ type: 'P', name: 'pt' }),
    serialize.execute({ portal: 'pt', rows: 10 }),
    serialize.close({ type: 'S', name: 'st' }),
    serialize.flush(),
    serialize.sync(),
    serialize.copyData(Buffer.from('1\t2\n')),
    serialize.copyDone(),
    serialize.copyFail('nope'),
    serialize.password('pw'),
    serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', 'n,,n=,r=abc'),
    serialize.sendSCRAMClientFinalMessage('c=biws,r=abc,p=xyz'),
    serialize.end(),
  );
  decodeEverySplit(stream, [
    { type: 'query', sql: 'SELECT 1' },
    { type: 'parse', name: 'st', sql: 'SELECT $1::int', paramOids: [23] },
    {
      type: 'bind',
      portal: 'pt',
      statement: 'st',
      paramFormats: [0, 0, 1],
      params: [Buffer.from('42'), null, Buffer.from([1, 2])],
      resultFormats: [1],
    },
    { type: 'describe', kind: 'P', name: 'pt' },
    { type: 'execute', portal: 'pt', maxRows: 10 },
    { type: 'close', kind: 'S', name: 'st' },
    { type: 'flush' },
    { type: 'sync' },
    { type: 'copyData', data: Buffer.from('1\t2\n') },
    { type: 'copyDone' },
    { type: 'copyFail', message: 'nope' },
    { type: 'password', data: Buffer.from('pw\0') },
    { type: 'password', data: new Bytes().cstring('SCRAM-SHA-256').int32(11).string('n,,n=,r=abc').build() },
    { type: 'password', data: Buffer.from('c=biws,r=abc,p=xyz') },
    { type: 'terminate' },
  ]);
});

// ---- password message bodies ----

test('parsePasswordMessage: one NUL-terminated string', () => {
  assert.is(parsePasswordMessage(Buffer.from('hunter2\0')), 'hunter2');
  assert.is(parsePasswordMessage(Buffer.from('päss\0')), 'päss');
  assert.is(parsePasswordMessage(Buffer.from('\0')), '');
  throwsProtocolError(
    () => parsePasswordMessage(Buffer.from('no terminator')),
    'invalid password packet size',
  );
  throwsProtocolError(() => parsePasswordMessage(Buffer.from('a\0b\0')), 'invalid password packet size');
  throwsProtocolError(() => parsePasswordMessage(Buffer.alloc(0)), 'invalid password packet size');
});

test('parseSaslInitialResponse: mechanism, then a length-prefixed response or -1', () => {
  const data = new Bytes().cstring('SCRAM-SHA-256').int32(14).string('n,,n=,r=nonce1').build();
  const r = parseSaslInitialResponse(data);
  assert.is(r.mechanism, 'SCRAM-SHA-256');
  assert.is(r.initialResponse?.toString(), 'n,,n=,r=nonce1');
  assert.equal(parseSaslInitialResponse(new Bytes().cstring('SCRAM-SHA-256').int32(-1).build()), {
    mechanism: 'SCRAM-SHA-256',
    initialResponse: null,
  });
  throwsProtocolError(
    () => parseSaslInitialResponse(new Bytes().cstring('SCRAM-SHA-256').int32(20).string('short').build()),
    'insufficient data left in message',
  );
  throwsProtocolError(
    () => parseSaslInitialResponse(new Bytes().cstring('SCRAM-SHA-256').int32(-2).build()),
    'insufficient data left in message',
  );
  throwsProtocolError(
    () => parseSaslInitialResponse(new Bytes().cstring('SCRAM-SHA-256').int32(1).string('ab').build()),
    'invalid message format',
  );
  throwsProtocolError(() => parseSaslInitialResponse(Buffer.from('SCRAM')), 'invalid string in message');
});

// ---- malformed input: every case is a FATAL 08P01 ----

const malformedStartup: { name: string; bytes: Buffer; message: string }[] = [
  {
    name: 'startup length below 8',
    bytes: new Bytes().int32(7).bytes([0, 3, 0]).build(),
    message: 'invalid length of startup packet',
  },
  {
    name: 'startup length above 10000',
    bytes: new Bytes()
      .int32(10001)
      .int32(3 << 16)
      .build(),
    message: 'invalid length of startup packet',
  },
  {
    name: 'negative startup length',
    bytes: new Bytes().int32(-8).build(),
    message: 'invalid length of startup packet',
  },
  {
    name: 'SSLRequest with a body',
    bytes: packet(new Bytes().int32(80877103).int32(0)),
    message: 'invalid length of startup packet',
  },
  {
    name: 'CancelRequest too short',
    bytes: packet(new Bytes().int32(80877102).int32(1)),
    message: 'invalid length of startup packet',
  },
  {
    name: 'CancelRequest too long',
    bytes: packet(new Bytes().int32(80877102).int32(1).int32(2).int32(3)),
    message: 'invalid length of startup packet',
  },
  {
    name: 'startup parameters without the final NUL',
    bytes: packet(
      new Bytes()
        .int32(3 << 16)
        .cstring('user')
        .cstring('u'),
    ),
    message: 'invalid startup packet layout: expected terminator as last byte',
  },
  {
    name: 'startup parameter name without a value',
    bytes: packet(new Bytes().int32(3 << 16).cstring('user')),
    message: 'invalid startup packet layout: expected terminator as last byte',
  },
  {
    name: 'startup bytes after the terminator',
    bytes: packet(
      new Bytes()
        .int32(3 << 16)
        .cstring('user')
        .cstring('u')
        .byte(0)
        .byte(0),
    ),
    message: 'invalid startup packet layout: expected terminator as last byte',
  },
  {
    name: 'startup value without its NUL',
    bytes: packet(
      new Bytes()
        .int32(3 << 16)
        .cstring('user')
        .string('u'),
    ),
    message: 'invalid string in message',
  },
  {
    name: 'data after an SSLRequest in the same read (CVE-2021-23214)',
    bytes: join(packet(new Bytes().int32(80877103)), startupBytes),
    message: 'received unencrypted data after SSL request',
  },
  {
    name: 'data after a GSSENCRequest in the same read',
    bytes: join(packet(new Bytes().int32(80877104)), new Bytes().byte(0x16).build()),
    message: 'received unencrypted data after GSSAPI encryption request',
  },
];

for (const f of malformedStartup) {
  test(`malformed: ${f.name}`, () => {
    failsEverySplit(f.bytes, f.message, true);
  });
}

test('data after an SSLRequest straddling a push boundary is refused too', () => {
  const ssl = packet(new Bytes().int32(80877103));
  const parser = new FrontendParser();
  parser.push(ssl.subarray(0, 3), () => {});
  throwsProtocolError(
    () => parser.push(join(ssl.subarray(3), Buffer.from('Q')), () => assert.unreachable('delivered')),
    'received unencrypted data after SSL request',
  );
});

const malformedTyped: { name: string; bytes: Buffer; message: string | RegExp; maxMessageSize?: number }[] = [
  { name: 'unknown message type', bytes: Buffer.from('Z'), message: 'invalid frontend message type 90' },
  {
    name: 'NUL message type',
    bytes: Buffer.from([0, 0, 0, 0, 8]),
    message: 'invalid frontend message type 0',
  },
  {
    name: 'length below 4',
    bytes: new Bytes().char('Q').int32(3).build(),
    message: 'invalid message length',
  },
  {
    name: 'negative length',
    bytes: new Bytes().char('d').int32(-1).build(),
    message: 'invalid message length',
  },
  {
    name: 'length over the maximum',
    bytes: new Bytes()
      .char('Q')
      .int32(1025 + 4)
      .build(),
    message: 'invalid message length',
    maxMessageSize: 1024,
  },
  {
    name: 'Sync claiming 10 KB (small-message limit)',
    bytes: new Bytes().char('S').int32(10005).build(),
    message: 'invalid message length',
  },
  {
    name: 'password message over 64 KiB',
    bytes: new Bytes().char('p').int32(65540).build(),
    message: 'invalid message length',
  },
  {
    name: 'Query without NUL',
    bytes: message('Q', new Bytes().string('SELECT 1')),
    message: 'invalid string in message',
  },
  {
    name: 'Query with bytes after its NUL',
    bytes: message('Q', new Bytes().cstring('SELECT 1').string('x')),
    message: 'invalid message format',
  },
  {
    name: "Query whose NUL lies in the next message's bytes",
    bytes: join(message('Q', new Bytes().string('SELECT 1')), message('S')),
    message: 'invalid string in message',
  },
  {
    name: 'Parse with more type oids than bytes',
    bytes: message('P', new Bytes().cstring('').cstring('SELECT 1').int16(5).int32(23)),
    message: 'insufficient data left in message',
  },
  {
    name: 'Bind with a format code of 2',
    bytes: message('B', new Bytes().cstring('').cstring('').int16(1).int16(2).int16(0).int16(0)),
    message: 'unsupported format code: 2',
  },
  {
    name: 'Bind with a result format code of -1',
    bytes: message('B', new Bytes().cstring('').cstring('').int16(0).int16(0).int16(1).int16(-1)),
    message: 'unsupported format code: -1',
  },
  {
    name: 'Bind with a parameter length of -2',
    bytes: message('B', new Bytes().cstring('').cstring('').int16(0).int16(1).int32(-2).int16(0)),
    message: 'insufficient data left in message',
  },
  {
    name: 'Bind with a parameter longer than the message',
    bytes: message(
      'B',
      new Bytes().cstring('').cstring('').int16(0).int16(1).int32(50).string('abc').int16(0),
    ),
    message: 'insufficient data left in message',
  },
  {
    name: 'Bind with a parameter count beyond the message',
    bytes: message('B', new Bytes().cstring('').cstring('').int16(0).int16(3).int32(1).string('a')),
    message: 'insufficient data left in message',
  },
  {
    name: 'Bind with 2 formats for 3 parameters',
    bytes: message(
      'B',
      new Bytes()
        .cstring('')
        .cstring('')
        .int16(2)
        .int16(0)
        .int16(0)
        .int16(3)
        .int32(-1)
        .int32(-1)
        .int32(-1)
        .int16(0),
    ),
    message: 'bind message has 2 parameter formats but 3 parameters',
  },
  {
    name: 'Bind with trailing bytes',
    bytes: message('B', new Bytes().cstring('').cstring('').int16(0).int16(0).int16(0).byte(7)),
    message: 'invalid message format',
  },
  {
    name: 'Bind missing its result format count',
    bytes: message('B', new Bytes().cstring('').cstring('').int16(0).int16(0)),
    message: 'insufficient data left in message',
  },
  {
    name: 'Describe of kind X',
    bytes: message('D', new Bytes().char('X').cstring('a')),
    message: 'invalid DESCRIBE message subtype 88',
  },
  {
    name: 'Close of kind Q',
    bytes: message('C', new Bytes().char('Q').cstring('a')),
    message: 'invalid CLOSE message subtype 81',
  },
  { name: 'Describe with no body', bytes: message('D'), message: 'insufficient data left in message' },
  {
    name: 'Execute without its row count',
    bytes: message('E', new Bytes().cstring('p')),
    message: 'insufficient data left in message',
  },
  { name: 'Sync with a body', bytes: message('S', new Bytes().byte(0)), message: 'invalid message format' },
  {
    name: 'Terminate with a body',
    bytes: message('X', new Bytes().byte(1)),
    message: 'invalid message format',
  },
  {
    name: 'CopyDone with a body',
    bytes: message('c', new Bytes().byte(1)),
    message: 'invalid message format',
  },
  {
    name: 'CopyFail without NUL',
    bytes: message('f', new Bytes().string('x')),
    message: 'invalid string in message',
  },
  {
    name: 'a valid message, then garbage',
    bytes: join(message('S'), Buffer.from('garbage')),
    message: 'invalid frontend message type 103',
  },
];

for (const f of malformedTyped) {
  test(`malformed: ${f.name}`, () => {
    for (const { name, chunks } of splits(f.bytes)) {
      throwsProtocolError(() => decode(chunks, false, { maxMessageSize: f.maxMessageSize }), f.message, name);
    }
  });
}

test('an oversized length is refused on its header, before the body is buffered', () => {
  const parser = new FrontendParser({ maxMessageSize: 1000 });
  parser.expectStartup = false;
  throwsProtocolError(
    () => parser.push(new Bytes().char('d').int32(2_000_000_000).build(), () => {}),
    'invalid message length',
  );
});

test('an unknown type byte fails as soon as it arrives', () => {
  const parser = new FrontendParser();
  parser.expectStartup = false;
  parser.push(message('S'), () => {});
  throwsProtocolError(() => parser.push(Buffer.from([0x7a]), () => {}), 'invalid frontend message type 122');
});

test.run();
