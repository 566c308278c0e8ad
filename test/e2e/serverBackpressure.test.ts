// Socket backpressure: a client that reads a 10,000,000-row result slowly must not make the server
// buffer the result. A raw socket reads in small steps with pauses while the suite samples the server's
// resident set size; then it reads the rest at full speed to check the result is complete. The reader
// counts messages as they stream past instead of keeping the bytes (the result is ~400 MB on the wire).
import { connect, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loudHook } from '../helpers/loudHook.js';
import { type MallardServer, startMallard } from '../helpers/mallard.js';
import { query, startupMessage } from './fixtures/frontendMessages.js';
import { sleep } from './serverWire.js';

const ROWS = 10_000_000;
/** Generous: the whole result buffered in the server would be several GB of JS strings and buffers. */
const RSS_LIMIT_KB = 400 * 1024;
/**
 * Growth over the idle server allowed while the client reads slowly. A server that ignored 'drain' would
 * queue the ~0.8 M rows/s it can encode (tens of MB a second) in its socket buffers during the slow phase.
 */
const GROWTH_LIMIT_KB = 200 * 1024;
const SLOW_PHASE_MS = 8_000;
/** Bytes the client consumes per step in the slow phase, then it stops reading for STEP_PAUSE_MS. */
const STEP_BYTES = 64 * 1024;
const STEP_PAUSE_MS = 100;

let server: MallardServer;

test.before(
  loudHook(async () => {
    server = await startMallard();
  }),
);

test.after(async () => {
  await server?.stop();
});

/**
 * Counts backend messages as bytes arrive, keeping only a partial message between chunks. Records the
 * DataRow count, CommandComplete tags, error codes and whether ReadyForQuery arrived.
 */
class StreamCounter {
  dataRows = 0;
  bytes = 0;
  tags: string[] = [];
  errors: string[] = [];
  readyCount = 0;
  private header = Buffer.alloc(5);
  private headerHave = 0;
  private remaining = -1; // body bytes still to skip/collect for the current message
  private type = 0;
  private body: Buffer[] = [];

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining < 0) {
        const take = Math.min(5 - this.headerHave, chunk.length - at);
        chunk.copy(this.header, this.headerHave, at, at + take);
        this.headerHave += take;
        at += take;
        if (this.headerHave < 5) return;
        this.type = this.header[0]!;
        this.remaining = this.header.readInt32BE(1) - 4;
        this.headerHave = 0;
        this.body = [];
      }
      const take = Math.min(this.remaining, chunk.length - at);
      // Only the small messages we inspect are kept; DataRows are counted and skipped.
      if (this.type !== 0x44) this.body.push(chunk.subarray(at, at + take));
      at += take;
      this.remaining -= take;
      if (this.remaining === 0) this.finish();
    }
  }

  private finish(): void {
    const body = Buffer.concat(this.body);
    switch (String.fromCharCode(this.type)) {
      case 'D':
        this.dataRows++;
        break;
      case 'C':
        this.tags.push(body.toString('utf8', 0, body.length - 1));
        break;
      case 'E': {
        const c = body.indexOf(Buffer.from('C'));
        this.errors.push(c >= 0 ? body.toString('utf8', c + 1, body.indexOf(0, c)) : 'E');
        break;
      }
      case 'Z':
        this.readyCount++;
        break;
    }
    this.remaining = -1;
  }
}

/** Connects, completes a trust startup, and returns the socket (paused) with its counter. */
async function openReader(): Promise<{ socket: Socket; counter: StreamCounter }> {
  const socket = connect({ host: server.host, port: server.port });
  const counter = new StreamCounter();
  socket.on('data', (d: Buffer) => counter.push(d));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(startupMessage({ user: 'slow', database: 'reader' }));
  for (let i = 0; i < 200 && counter.readyCount === 0; i++) await sleep(50);
  assert.is(counter.readyCount, 1, `startup failed: errors ${counter.errors}`);
  return { socket, counter };
}

test(`a client reading ${ROWS.toLocaleString('en')} rows slowly keeps the server's RSS bounded`, async () => {
  const { socket, counter } = await openReader();
  const baselineKb = server.rssKb();
  // Paused mode with no 'data' listener: Node stops reading from the kernel once its own buffer
  // (highWaterMark, 64 KiB) is full, so the server sees a client that takes what it is given and no more.
  socket.removeAllListeners('data');
  socket.pause();
  socket.write(query(`SELECT i, i * 2 AS doubled, 'row ' || i::varchar AS label FROM range(${ROWS}) t(i)`));

  // Slow phase: take at most STEP_BYTES, then stop reading for a while (under 1 MB/s).
  let peakKb = baselineKb;
  const slowEnd = Date.now() + SLOW_PHASE_MS;
  while (Date.now() < slowEnd) {
    let taken = 0;
    while (taken < STEP_BYTES) {
      const chunk = socket.read() as Buffer | null;
      if (chunk === null) break;
      counter.push(chunk);
      taken += chunk.length;
    }
    await sleep(STEP_PAUSE_MS);
    peakKb = Math.max(peakKb, server.rssKb());
  }
  const slowRows = counter.dataRows;
  const slowPeakKb = peakKb;
  assert.ok(slowRows > 0, 'no rows arrived in the slow phase');
  assert.ok(slowRows < ROWS, 'the whole result arrived during the slow phase; the reader was not slow');
  assert.ok(
    peakKb < RSS_LIMIT_KB,
    `server RSS reached ${Math.round(peakKb / 1024)} MB (baseline ${Math.round(baselineKb / 1024)} MB) while the client had read ${slowRows} rows`,
  );

  assert.ok(
    peakKb - baselineKb < GROWTH_LIMIT_KB,
    `server RSS grew by ${Math.round((peakKb - baselineKb) / 1024)} MB during the slow phase`,
  );

  // Fast phase: read the rest at full speed; the result must be complete and the server still bounded.
  socket.on('data', (d: Buffer) => counter.push(d));
  socket.resume();
  const sampler = setInterval(() => {
    peakKb = Math.max(peakKb, server.rssKb());
  }, 100);
  const deadline = Date.now() + 120_000;
  while (counter.readyCount < 2 && Date.now() < deadline && !socket.destroyed) await sleep(50);
  clearInterval(sampler);
  socket.destroy();
  assert.equal(counter.errors, []);
  assert.is(counter.readyCount, 2, `the result did not finish: ${counter.dataRows} rows so far`);
  assert.is(counter.dataRows, ROWS);
  assert.equal(counter.tags, [`SELECT ${ROWS}`]);
  assert.ok(peakKb < RSS_LIMIT_KB, `server RSS peaked at ${Math.round(peakKb / 1024)} MB`);
  // The figure this suite measured, for whoever reads the test output.
  console.log(
    `  backpressure: server RSS ${Math.round(baselineKb / 1024)} MB before, peak ${Math.round(slowPeakKb / 1024)} MB ` +
      `while reading slowly, ${Math.round(peakKb / 1024)} MB overall; ` +
      `${slowRows} rows read in the ${SLOW_PHASE_MS / 1000} s slow phase, ${(counter.bytes / 1e6).toFixed(0)} MB in all`,
  );
});

test('a slow reader that disconnects mid-result leaves the server serving others', async () => {
  const { socket, counter } = await openReader();
  socket.pause();
  socket.write(query(`SELECT i, 'x' || i::varchar AS label FROM range(${ROWS}) t(i)`));
  await sleep(500);
  socket.resume();
  await sleep(50);
  socket.destroy();
  assert.ok(counter.dataRows < ROWS);
  const other = await openReader();
  other.socket.write(query('SELECT 1'));
  for (let i = 0; i < 200 && other.counter.readyCount < 2; i++) await sleep(50);
  other.socket.destroy();
  assert.is(other.counter.dataRows, 1);
  assert.ok(server.alive());
});

test.run();
