import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { TransportError } from '../../protocol/cluster/ClusterError.js';
import type { Transport, TransportMessage } from '../../protocol/cluster/Transport.js';

/** Two connections on one medium (one NATS server, or one in-process bus), and how to get more. */
export interface TransportPair {
  a: Transport;
  b: Transport;
  connect(): Promise<Transport>;
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (m: TransportMessage) => new TextDecoder().decode(m.data);

function collect(transport: Transport, subject: string, queue?: string): { got: string[] } {
  const box = { got: [] as string[] };
  transport.subscribe(subject, (m) => box.got.push(`${m.subject}=${text(m)}`), queue ? { queue } : {});
  return box;
}

async function settle(...transports: Transport[]): Promise<void> {
  for (const t of transports) await t.flush();
  await new Promise((r) => setTimeout(r, 50));
}

/**
 * The semantics every Transport must have, run against each implementation: the in-process bus has to
 * behave like NATS, or code tested on it would break on the real thing.
 */
export function transportContract(suite: Test, pair: () => TransportPair): void {
  suite('publish reaches exact and wildcard subscribers, not others', async () => {
    const { a, b } = pair();
    const exact = collect(b, 'c1.x.y');
    const star = collect(b, 'c1.*.y');
    const tail = collect(b, 'c1.>');
    const other = collect(b, 'c1.z');
    await settle(a, b);
    a.publish('c1.x.y', bytes('1'));
    a.publish('c1.q.y', bytes('2'));
    a.publish('c1.x.y.z', bytes('3'));
    await settle(a, b);
    assert.equal(exact.got, ['c1.x.y=1']);
    assert.equal(star.got, ['c1.x.y=1', 'c1.q.y=2']);
    assert.equal(tail.got, ['c1.x.y=1', 'c1.q.y=2', 'c1.x.y.z=3']);
    assert.equal(other.got, []);
  });

  suite('messages arrive in publish order', async () => {
    const { a, b } = pair();
    const box = collect(b, 'c2.seq');
    await settle(a, b);
    for (let i = 0; i < 2000; i++) a.publish('c2.seq', bytes(String(i)));
    const deadline = Date.now() + 5000;
    while (box.got.length < 2000 && Date.now() < deadline) await settle(a, b);
    assert.equal(
      box.got.map((s) => Number(s.split('=')[1])),
      Array.from({ length: 2000 }, (_, i) => i),
    );
  });

  suite('a queue group gets each message once', async () => {
    const { a, b, connect } = pair();
    const c = await connect();
    const one = collect(b, 'c3.work', 'g');
    const two = collect(c, 'c3.work', 'g');
    const all = collect(b, 'c3.work');
    await settle(a, b, c);
    for (let i = 0; i < 100; i++) a.publish('c3.work', bytes(String(i)));
    await settle(a, b, c);
    assert.is(one.got.length + two.got.length, 100);
    assert.is(all.got.length, 100);
    await c.close();
  });

  suite('unsubscribe stops delivery', async () => {
    const { a, b } = pair();
    const got: string[] = [];
    const sub = b.subscribe('c4.x', (m) => got.push(text(m)));
    await settle(a, b);
    a.publish('c4.x', bytes('before'));
    await settle(a, b);
    sub.unsubscribe();
    await settle(a, b);
    a.publish('c4.x', bytes('after'));
    await settle(a, b);
    assert.equal(got, ['before']);
  });

  suite('request gets the first reply', async () => {
    const { a, b } = pair();
    b.subscribe('c5.echo', (m) => b.publish(m.reply!, bytes(`echo:${text(m)}`)));
    await settle(a, b);
    const reply = await a.request('c5.echo', bytes('hi'), 2000);
    assert.is(text(reply), 'echo:hi');
  });

  suite('request without responders fails at once; without a reply, on timeout', async () => {
    const { a, b } = pair();
    const started = Date.now();
    try {
      await a.request('c6.nobody', bytes('x'), 5000);
      assert.unreachable('no responder answered');
    } catch (err) {
      assert.instance(err, TransportError);
      assert.is((err as TransportError).failure, 'no-responders');
      assert.ok(Date.now() - started < 2000, 'no-responders is immediate');
    }
    b.subscribe('c6.silent', () => {});
    await settle(a, b);
    try {
      await a.request('c6.silent', bytes('x'), 200);
      assert.unreachable('a silent responder answered');
    } catch (err) {
      assert.instance(err, TransportError);
      assert.is((err as TransportError).failure, 'timeout');
    }
  });

  suite('a payload over max_payload is refused; one at max_payload is delivered', async () => {
    const { a, b } = pair();
    const got: number[] = [];
    b.subscribe('c7.big', (m) => got.push(m.data.byteLength));
    await settle(a, b);
    assert.ok(a.maxPayload >= 1024);
    a.publish('c7.big', new Uint8Array(a.maxPayload));
    assert.throws(
      () => a.publish('c7.big', new Uint8Array(a.maxPayload + 1)),
      (e: unknown) => e instanceof TransportError && e.failure === 'payload-too-large',
    );
    await settle(a, b);
    assert.equal(got, [a.maxPayload]);
  });

  suite('a closed transport refuses to publish', async () => {
    const { connect } = pair();
    const c = await connect();
    await c.close();
    await c.close();
    assert.throws(
      () => c.publish('c8.x', bytes('x')),
      (e: unknown) => e instanceof TransportError && e.failure === 'closed',
    );
  });
}
