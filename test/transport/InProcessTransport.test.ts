import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InProcessBus, subjectMatches } from '../../src/transport/InProcessTransport.js';
import { transportContract } from './transportContract.js';

const bus = new InProcessBus({ maxPayload: 64 * 1024 });
const a = bus.connect();
const b = bus.connect();

transportContract(test, () => ({ a, b, connect: async () => bus.connect() }));

test('subject matching follows NATS wildcards', () => {
  const m = (p: string, s: string) => subjectMatches(p.split('.'), s.split('.'));
  assert.ok(m('a.b', 'a.b'));
  assert.not.ok(m('a.b', 'a.b.c'));
  assert.ok(m('a.*', 'a.b'));
  assert.not.ok(m('a.*', 'a'));
  assert.not.ok(m('a.*', 'a.b.c'));
  assert.ok(m('a.>', 'a.b.c'));
  assert.not.ok(m('a.>', 'a'));
  assert.ok(m('*.b.>', 'x.b.c.d'));
});

test('closing a connection drops exactly its subscriptions, as a dead socket would', async () => {
  const c = bus.connect();
  const seen: string[] = [];
  c.subscribe('x.dead', () => seen.push('c'));
  b.subscribe('x.dead', () => seen.push('b'));
  await c.close();
  a.publish('x.dead', new Uint8Array(1));
  await a.flush();
  assert.equal(seen, ['b']);
});

test('a pending request fails when its connection closes', async () => {
  const c = bus.connect();
  b.subscribe('x.slow', () => {});
  const pending = c.request('x.slow', new Uint8Array(1), 10_000);
  await c.close();
  try {
    await pending;
    assert.unreachable();
  } catch (err) {
    assert.match(String(err), /closed/);
  }
});

test.run();
