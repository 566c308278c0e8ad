// Protocol robustness: crafted malformed messages get the answer PostgreSQL clients expect (FATAL 08P01,
// then a closed socket), and 100,000+ mutated and random frontend messages over many raw connections
// neither crash the server nor disturb a well-behaved session running alongside. Written for Mallard;
// MALLARD_TEST_TARGET=postgres runs it against PostgreSQL, which closes silently where Mallard must answer.
// FUZZ_SEED=<n> replays a run; the seed is printed with every failure.
import { inspect } from 'node:util';
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loudHook } from '../helpers/loudHook.js';
import { type RunningTarget, startTarget } from '../helpers/targets.js';
import * as f from './fixtures/frontendMessages.js';
import { RawConnection } from './fixtures/RawConnection.js';

const MESSAGE_GOAL = 100_000;
const CONCURRENCY = 12;
// Below the server's default connection limit (100) with room for the well-behaved clients.
const SEED = Number(process.env['FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));

let target: RunningTarget;

test.before(
  loudHook(async () => {
    target = await startTarget();
    const c = new pg.Client({ connectionString: target.url });
    await c.connect();
    await c.query('CREATE TABLE fuzz_t (id integer, name varchar)');
    await c.query("INSERT INTO fuzz_t VALUES (1, 'one'), (2, 'two')");
    await c.end();
  }),
);

test.after(
  loudHook(async () => {
    await target?.stop();
  }),
);

/** A small seeded PRNG (mulberry32), so a failing run can be replayed with FUZZ_SEED. */
class Rng {
  constructor(private state: number) {}
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

// Cheap statements only: a mutated byte must not be able to turn one into a long-running query.
const SQL = [
  'SELECT 1',
  "SELECT 'fuzz' AS f",
  'SELECT $1::int AS v',
  'SELECT * FROM fuzz_t',
  "INSERT INTO fuzz_t VALUES (3, 'x')",
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
  'COPY fuzz_t FROM STDIN',
  'COPY fuzz_t TO STDOUT',
  'SELEC oops',
  '',
  'SELECT 1; SELECT 2',
];
const NAMES = ['', 's1', 'p1'];

/** A plausible client exchange: the messages a real driver would send for one step. */
function validSequence(rng: Rng): Buffer[] {
  switch (rng.int(8)) {
    case 0:
      return [f.query(rng.pick(SQL))];
    case 1: {
      const sql = rng.pick(SQL);
      const params = sql.includes('$1') ? [String(rng.int(1000))] : [];
      return [
        f.parse(rng.pick(NAMES), sql, params.length && rng.chance(0.5) ? [23] : []),
        f.bind(rng.pick(NAMES), rng.pick(NAMES), params, rng.int(2)),
        f.describe('P', rng.pick(NAMES)),
        f.execute(rng.pick(NAMES), rng.int(3)),
        f.sync(),
      ];
    }
    case 2:
      return [
        f.query('COPY fuzz_t FROM STDIN'),
        f.copyData('4\tcopied\n'),
        f.copyData('5\t\\N\n'),
        f.copyDone(),
      ];
    case 3:
      return [f.query('COPY fuzz_t FROM STDIN'), f.copyData('6\tx\n'), f.copyFail('client gave up')];
    case 4:
      return [f.describe(rng.pick(['S', 'P'] as const), rng.pick(NAMES)), f.flush(), f.sync()];
    case 5:
      return [f.close(rng.pick(['S', 'P'] as const), rng.pick(NAMES)), f.sync()];
    case 6:
      // Messages that are well-formed but out of place: COPY data outside COPY, a password after login.
      return [
        rng.pick([f.copyData('stray\n'), f.copyDone(), f.passwordMessage('x'), f.message('F', f.int32(0))]),
      ];
    default:
      return [f.execute(rng.pick(NAMES), 0), f.sync()];
  }
}

/** One mutation of one message: flipped bits, a wrong length, truncation, extension or plain garbage. */
function mutate(rng: Rng, msg: Buffer, typed: boolean): Buffer {
  const b = Buffer.from(msg);
  const lengthAt = typed ? 1 : 0;
  switch (rng.int(9)) {
    case 0:
      for (let i = 0, n = 1 + rng.int(3); i < n; i++) b[rng.int(b.length)]! ^= 1 << rng.int(8);
      return b;
    case 1:
      if (typed) b[0] = rng.int(256);
      else if (b.length >= 8) b.writeInt32BE(rng.int(2 ** 31), 4); // the protocol version or request code
      return b;
    case 2: {
      if (b.length < lengthAt + 4) return b;
      const declared = b.length - lengthAt;
      const lengths = [
        0,
        1,
        2,
        3,
        declared - 1,
        declared + 1,
        declared + 1000,
        0x7fffffff,
        -1,
        rng.int(2 ** 31),
      ];
      b.writeInt32BE(rng.pick(lengths) | 0, lengthAt);
      return b;
    }
    case 3:
      return b.subarray(0, rng.int(b.length));
    case 4:
      return Buffer.concat([b, rng.bytes(1 + rng.int(64))]);
    case 5:
      if (b.length > lengthAt + 4)
        b[lengthAt + 4 + rng.int(b.length - lengthAt - 4)] = rng.pick([0, 0xff, 0x7f]);
      return b;
    case 6: {
      // A well-framed message of any type with a random body.
      const body = rng.bytes(rng.int(48));
      return typed ? f.message(rng.int(256), body) : f.packet(body);
    }
    case 7:
      return rng.bytes(1 + rng.int(512));
    default: {
      // Counts (parameter, format, field) are int16s: make one absurd.
      if (b.length < lengthAt + 6) return b;
      b.writeInt16BE(rng.pick([0x7fff, -1, -32768]), lengthAt + 4 + rng.int(b.length - lengthAt - 5));
      return b;
    }
  }
}

interface FuzzStats {
  connections: number;
  messages: number;
  sessions: number;
  serverClosed: number;
  weClosed: number;
  fatal08P01: number;
  connectFailures: number;
}

/** Writes the messages as one stream cut into a few random pieces, as TCP may deliver them. */
async function writeInPieces(rng: Rng, conn: RawConnection, messages: Buffer[]): Promise<void> {
  const stream = Buffer.concat(messages);
  const cuts = Array.from({ length: rng.int(4) }, () => rng.int(stream.length + 1)).sort((a, b) => a - b);
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    if (cut > from) conn.write(stream.subarray(from, cut));
    from = cut;
    if (rng.chance(0.3)) await new Promise((resolve) => setImmediate(resolve));
  }
}

/** One fuzzed connection, from connect until the server closes it or it goes quiet and we close it. */
async function fuzzOneConnection(rng: Rng, stats: FuzzStats): Promise<void> {
  let conn: RawConnection;
  try {
    conn = await RawConnection.open(target.host, target.port);
  } catch {
    stats.connectFailures++;
    return;
  }
  stats.connections++;
  const messages: Buffer[] = [];
  try {
    const scenario = rng.int(10);
    if (scenario === 0) {
      messages.push(rng.bytes(1 + rng.int(1024)));
    } else if (scenario === 1) {
      messages.push(mutate(rng, f.startupMessage({ user: target.user, database: target.database }), false));
    } else if (scenario === 2) {
      const first = rng.pick([
        f.sslRequest(),
        f.gssEncRequest(),
        f.cancelRequest(rng.int(2 ** 31), rng.int(2 ** 31)),
      ]);
      messages.push(rng.chance(0.5) ? first : mutate(rng, first, false));
      messages.push(mutate(rng, f.startupMessage({ user: target.user, database: target.database }), false));
    } else {
      // Log in properly, then send a stream of driver-like messages, some of them mutated.
      if (!(await conn.startup(target.user, target.database))) return;
      stats.sessions++;
      conn.skip = conn.received.length;
      const mutationRate = rng.pick([0, 0.01, 0.05, 0.2, 0.6]);
      const goal = 10 + rng.int(90);
      while (messages.length < goal) {
        for (const msg of validSequence(rng))
          messages.push(rng.chance(mutationRate) ? mutate(rng, msg, true) : msg);
      }
      if (rng.chance(0.3)) messages.push(f.terminate());
    }
    stats.messages += messages.length;
    await writeInPieces(rng, conn, messages);
    await Promise.race([conn.idle(100), new Promise((resolve) => setTimeout(resolve, 3000))]);
    if (conn.closed) stats.serverClosed++;
    else stats.weClosed++;
    for (const m of conn.messages()) {
      if (m.type !== 'E') continue;
      const e = f.errorFields(m.body);
      if (e['V'] === 'FATAL' && e['C'] === '08P01') stats.fatal08P01++;
    }
  } finally {
    conn.destroy();
  }
}

/** Connects and logs in; fails the test when that does not work. */
async function session(): Promise<RawConnection> {
  const conn = await RawConnection.open(target.host, target.port);
  const ok = await conn.startup(target.user, target.database);
  assert.ok(ok, `startup failed: ${inspect(conn.messages())}`);
  conn.skip = conn.received.length;
  return conn;
}

function describeMessages(conn: RawConnection): string {
  return inspect(
    conn
      .messages()
      .map((m) => (m.type === 'E' || m.type === 'N' ? { [m.type]: f.errorFields(m.body) } : m.type)),
    { depth: 4 },
  );
}

/** Asserts the connection got exactly one FATAL 08P01 ErrorResponse and was then closed. */
async function assertFatalProtocolViolation(conn: RawConnection, what: string): Promise<void> {
  const closed = await conn.closedWithin(10_000);
  const messages = conn.messages();
  const report = `${what}: closed=${closed} received ${describeMessages(conn)}`;
  assert.ok(closed, report);
  if (target.name === 'postgres' && messages.length === 0) return; // PostgreSQL only logs bad lengths
  assert.is(messages.length, 1, report);
  assert.is(messages[0]!.type, 'E', report);
  const fields = f.errorFields(messages[0]!.body);
  assert.is(fields['S'], 'FATAL', report);
  assert.is(fields['C'], '08P01', report);
  assert.ok(fields['M'], report);
}

test('an unknown message type gets FATAL 08P01 and the socket closes', async () => {
  const conn = await session();
  conn.write(f.message(0, Buffer.alloc(0)));
  await assertFatalProtocolViolation(conn, 'type byte 0');
  conn.destroy();
});

test('a message length below 4 gets FATAL 08P01 and the socket closes', async () => {
  const conn = await session();
  conn.write(Buffer.concat([Buffer.from('Q'), f.int32(2)]));
  await assertFatalProtocolViolation(conn, 'length 2');
  conn.destroy();
});

test('a huge message length is refused at once, without waiting for the bytes', async () => {
  const conn = await session();
  conn.write(Buffer.concat([Buffer.from('Q'), f.int32(0x7ffffff0), Buffer.from('SELECT 1')]));
  await assertFatalProtocolViolation(conn, 'length 0x7ffffff0');
  conn.destroy();
});

test('a Query string without its terminating NUL is a protocol violation', async () => {
  const conn = await session();
  conn.write(Buffer.concat([f.message('Q', Buffer.from('SELECT 1')), f.sync()]));
  if (target.name === 'postgres') {
    // PostgreSQL reports it as an ERROR and carries on; Mallard treats all malformed bytes as fatal.
    await conn.until(() => conn.messages().some((m) => m.type === 'E'), 10_000);
    const e = conn.messages().find((m) => m.type === 'E');
    assert.is(e && f.errorFields(e.body)['C'], '08P01', describeMessages(conn));
  } else {
    await assertFatalProtocolViolation(conn, 'unterminated Query');
  }
  conn.destroy();
});

test('a startup packet declaring a huge length is refused and closed', async () => {
  const conn = await RawConnection.open(target.host, target.port);
  conn.write(Buffer.concat([f.int32(0x7fffffff), f.int32(f.PROTOCOL_3_0)]));
  const closed = await conn.closedWithin(10_000);
  assert.ok(closed, describeMessages(conn));
  for (const m of conn.messages()) {
    assert.is(m.type, 'E', describeMessages(conn));
    assert.is(f.errorFields(m.body)['S'], 'FATAL', describeMessages(conn));
  }
  conn.destroy();
});

test('a startup packet without a user gets FATAL 28000', async () => {
  const conn = await RawConnection.open(target.host, target.port);
  conn.write(f.startupMessage({ database: target.database }));
  assert.ok(await conn.closedWithin(10_000), describeMessages(conn));
  const e = conn.messages().find((m) => m.type === 'E');
  assert.ok(e, describeMessages(conn));
  assert.is(f.errorFields(e.body)['S'], 'FATAL');
  assert.is(f.errorFields(e.body)['C'], '28000');
  conn.destroy();
});

test('an ordinary error (Bind to an unknown statement) is not fatal: ERROR 26000, then the session goes on', async () => {
  const conn = await session();
  conn.write(
    Buffer.concat([f.bind('', 'no_such_statement', []), f.execute(''), f.sync(), f.query('SELECT 1')]),
  );
  const done = await conn.until(() => conn.messages().filter((m) => m.type === 'Z').length >= 2, 10_000);
  const report = describeMessages(conn);
  assert.ok(done, report);
  const types = conn.messages().map((m) => m.type);
  // Execute after the failed Bind is skipped until Sync: E Z, then the query's T D C Z.
  assert.equal(types, ['E', 'Z', 'T', 'D', 'C', 'Z'], report);
  const fields = f.errorFields(conn.messages()[0]!.body);
  assert.is(fields['S'], 'ERROR', report);
  assert.is(fields['C'], '26000', report);
  const dataRow = conn.messages()[3]!.body;
  // DataRow: int16 column count 1, int32 length 1, '1'.
  assert.equal([...dataRow], [0, 1, 0, 0, 0, 1, 0x31], report);
  assert.not.ok(conn.closed, report);
  conn.destroy();
});

test(`${MESSAGE_GOAL}+ fuzzed messages leave the server up and a concurrent session undisturbed`, async () => {
  const stats: FuzzStats = {
    connections: 0,
    messages: 0,
    sessions: 0,
    serverClosed: 0,
    weClosed: 0,
    fatal08P01: 0,
    connectFailures: 0,
  };

  // The well-behaved session: checks every answer while the fuzzing runs.
  const steady = new pg.Client({ connectionString: target.url, connectionTimeoutMillis: 10_000 });
  const steadyErrors: string[] = [];
  steady.on('error', (e) => steadyErrors.push(`client error: ${e.message}`));
  await steady.connect();
  let fuzzing = true;
  let steadyQueries = 0;
  const steadyLoop = (async () => {
    while (fuzzing) {
      const n = steadyQueries;
      try {
        const r =
          n % 2 === 0
            ? await steady.query('SELECT $1::int + 1 AS v', [n])
            : await steady.query({ text: `SELECT ${n} + 1 AS v` });
        if (r.rows.length !== 1 || r.rows[0].v !== n + 1) steadyErrors.push(`query ${n}: ${inspect(r.rows)}`);
      } catch (e) {
        steadyErrors.push(`query ${n}: ${(e as Error).message}`);
        if (steadyErrors.length > 20) return;
      }
      steadyQueries++;
    }
  })();

  const workers = Array.from({ length: CONCURRENCY }, async (_, w) => {
    const workerRng = new Rng(SEED + w * 7919);
    while (stats.messages < MESSAGE_GOAL) await fuzzOneConnection(workerRng, stats);
  });
  await Promise.all(workers);
  fuzzing = false;
  await steadyLoop;

  const report = `seed ${SEED}, stats ${inspect(stats)}, steady queries ${steadyQueries}, steady errors ${inspect(steadyErrors)}${
    target.mallard ? `, server rss ${target.mallard.rssKb()} KiB` : ''
  }`;
  console.log(`fuzz: ${report}`);
  assert.ok(stats.messages >= MESSAGE_GOAL, report);
  assert.ok(stats.sessions >= 100, `too few fuzzed connections got past startup: ${report}`);
  assert.ok(stats.fatal08P01 > 0, `no malformed message was answered with FATAL 08P01: ${report}`);
  assert.equal(steadyErrors, [], report);
  assert.ok(steadyQueries >= 10, report);
  if (target.mallard)
    assert.ok(target.mallard.alive(), `the server process died: ${report}\n${target.mallard.stderr()}`);

  // The steady session still works, and so do brand-new ones.
  const last = await steady.query('SELECT 41 + 1 AS v');
  assert.equal(last.rows, [{ v: 42 }]);
  await steady.end();
  const fresh = new pg.Client({ connectionString: target.url, connectionTimeoutMillis: 10_000 });
  await fresh.connect();
  const r = await fresh.query('SELECT count(*)::int >= 2 AS ok FROM fuzz_t');
  assert.equal(r.rows, [{ ok: true }]);
  await fresh.end();
  const raw = await session();
  raw.write(f.query('SELECT 1'));
  assert.ok(await raw.until(() => raw.messages().some((m) => m.type === 'Z'), 10_000), describeMessages(raw));
  raw.destroy();
});

test.run();
