// Errors as a raw-socket client sees them: the ErrorResponse fields, a session that stays usable after
// every ordinary error, malformed bytes closing only the offending socket, multi-statement Query
// semantics around errors, and EmptyQueryResponse.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loudHook } from '../helpers/loudHook.js';
import { type MallardServer, startMallard } from '../helpers/mallard.js';
import { copyData, copyFail, errorFields, int32, message } from './fixtures/frontendMessages.js';
import { commandTags, dataRows, describeMessages, firstError, WireSession } from './serverWire.js';

let server: MallardServer;
let session: WireSession;

test.before(
  loudHook(async () => {
    server = await startMallard();
    session = await WireSession.open(server.host, server.port);
  }),
);

test.after(async () => {
  session?.close();
  await server?.stop();
});

/** The message types of a reply, e.g. "T D C Z". */
const types = (reply: { type: string }[]) => reply.map((m) => m.type).join(' ');

test('a syntax error carries S, V, C 42601, M and the position P, then ReadyForQuery', async () => {
  const reply = await session.query('SELECT 1 FROM WHERE x');
  assert.is(types(reply), 'E Z');
  const f = errorFields(reply[0]!.body);
  assert.is(f.S, 'ERROR');
  assert.is(f.V, 'ERROR');
  assert.is(f.C, '42601');
  // PostgreSQL's message and position: WHERE is character 15 (1-based).
  assert.is(f.M, 'syntax error at or near "WHERE"');
  assert.is(f.P, '15');
  assert.is(reply[1]!.body.toString(), 'I');
});

test('in a multi-statement Query the position counts from the start of the whole string', async () => {
  const reply = await session.query('SELECT 1; SELECT 2 FROM WHERE x');
  assert.is(types(reply), 'E Z', describeMessages(reply));
  const f = errorFields(reply[0]!.body);
  assert.is(f.C, '42601');
  assert.is(f.P, '25');
});

test('the session stays usable after every ordinary error', async () => {
  const cases: [string, string][] = [
    ['SELEC 1', '42601'],
    ['SELECT * FROM no_such_table', '42P01'],
    ['SELECT no_such_column FROM (SELECT 1 AS a) t', '42703'],
    ['SELECT no_such_function(1)', '42883'],
    ["SELECT * FROM read_csv('/etc/passwd')", '42501'],
    ["SELECT 'abc'::int", '22P02'],
  ];
  for (const [sql, code] of cases) {
    const reply = await session.query(sql);
    const err = firstError(reply);
    assert.ok(err, `${sql}: ${describeMessages(reply)}`);
    assert.is(err!.S, 'ERROR', sql);
    assert.is(err!.V, 'ERROR', sql);
    assert.is(err!.C, code, `${sql}: ${err!.M}`);
    assert.ok(err!.M, sql);
    assert.is(reply[reply.length - 1]!.body.toString(), 'I', sql);
    assert.equal(dataRows(await session.query('SELECT 1')), [['1']], `after ${sql}`);
  }
});

test('malformed bytes get FATAL 08P01 and close only that socket; another session keeps working', async () => {
  const bad = await WireSession.open(server.host, server.port);
  // A Query whose length (3) is less than the length field itself.
  bad.write(Buffer.concat([Buffer.from('Q'), int32(3)]));
  assert.ok(await bad.raw.closedWithin(5_000), 'the malformed connection was not closed');
  const err = firstError(bad.raw.messages().slice(bad.startupMessages.length));
  assert.ok(err, describeMessages(bad.raw.messages()));
  assert.is(err!.S, 'FATAL');
  assert.is(err!.C, '08P01');

  const unknown = await WireSession.open(server.host, server.port);
  // A message type no frontend sends.
  unknown.write(message('!', Buffer.from('garbage')));
  assert.ok(await unknown.raw.closedWithin(5_000), 'the unknown-message connection was not closed');
  const err2 = firstError(unknown.raw.messages().slice(unknown.startupMessages.length));
  assert.is(err2?.C, '08P01', describeMessages(unknown.raw.messages()));

  assert.ok(server.alive(), 'the server died');
  assert.not.ok(session.raw.closed, 'the well-behaved session was closed too');
  assert.equal(dataRows(await session.query('SELECT 2')), [['2']]);
});

test('a syntax error in the 3rd statement of a Query runs none of them', async () => {
  const reply = await session.query(
    'CREATE TABLE multi_a (x int); INSERT INTO multi_a VALUES (1); SELEC oops; INSERT INTO multi_a VALUES (2)',
  );
  assert.is(types(reply), 'E Z', describeMessages(reply));
  assert.is(firstError(reply)!.C, '42601');
  const check = await session.query('SELECT count(*) FROM multi_a');
  assert.is(firstError(check)?.C, '42P01', `the CREATE TABLE ran: ${describeMessages(check)}`);
});

test('an error in the 2nd of 3 statements stops the rest, and the implicit transaction rolls back', async () => {
  assert.equal(commandTags(await session.query('CREATE TABLE multi_b (x int)')), ['CREATE TABLE']);
  const reply = await session.query(
    'INSERT INTO multi_b VALUES (1); SELECT * FROM multi_missing; INSERT INTO multi_b VALUES (3)',
  );
  // The first INSERT completes, the SELECT fails, the third never starts.
  assert.equal(commandTags(reply), ['INSERT 0 1'], describeMessages(reply));
  assert.is(firstError(reply)?.C, '42P01', describeMessages(reply));
  assert.is(reply[reply.length - 1]!.type, 'Z');
  assert.is(reply[reply.length - 1]!.body.toString(), 'I');
  // As in PostgreSQL, the whole message was one transaction: nothing of it remains.
  assert.equal(dataRows(await session.query('SELECT count(*) FROM multi_b')), [['0']]);
});

test('CopyFail ends COPY FROM STDIN with 57014 and leaves the table as it was', async () => {
  assert.equal(commandTags(await session.query('CREATE TABLE copy_fail (x int)')), ['CREATE TABLE']);
  await session.query('INSERT INTO copy_fail VALUES (1)');
  session.send('COPY copy_fail FROM STDIN');
  // The rows arrive first, so the failure must undo what was already loaded, not just stop.
  session.write(copyData('2\n3\n'));
  session.write(copyFail('client gave up'));
  const reply = await session.reply();
  assert.is(firstError(reply)?.C, '57014', describeMessages(reply));
  assert.is(firstError(reply)?.M, 'COPY from stdin failed: client gave up', describeMessages(reply));
  assert.equal(dataRows(await session.query('SELECT x FROM copy_fail ORDER BY x')), [['1']]);
});

test('several statements in one Query all run, each with its own CommandComplete', async () => {
  const reply = await session.query('SELECT 1; SELECT 2 UNION ALL SELECT 3; CREATE TABLE multi_c (x int)');
  assert.equal(commandTags(reply), ['SELECT 1', 'SELECT 2', 'CREATE TABLE']);
  assert.equal(dataRows(reply), [['1'], ['2'], ['3']]);
});

test("'' and a comment-only Query get EmptyQueryResponse, then ReadyForQuery", async () => {
  assert.is(types(await session.query('')), 'I Z');
  assert.is(types(await session.query('-- nothing here')), 'I Z');
  assert.is(types(await session.query('/* a block comment */')), 'I Z');
  assert.equal(dataRows(await session.query('SELECT 3')), [['3']]);
});

test.run();
