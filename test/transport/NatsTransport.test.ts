import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectNatsTransport, type NatsTransport } from '../../src/transport/NatsTransport.js';
import { connectNats } from '../../worker/connectNats.js';
import { accepts, freePort, type NatsServer, startNatsServer } from '../cluster/helpers/natsServer.js';
import { transportContract } from './transportContract.js';

let server: NatsServer;
let a: NatsTransport;
let b: NatsTransport;
const extra: { close(): Promise<void> }[] = [];

test.before(async () => {
  server = await startNatsServer({ maxPayload: 64 * 1024 });
  a = await connectNatsTransport({ servers: server.url });
  b = await connectNatsTransport({ servers: server.url });
});

test.after(async () => {
  for (const t of extra) await t.close();
  await a.close();
  await b.close();
  await server.stop();
});

transportContract(test, () => ({
  a,
  b,
  connect: async () => {
    const t = await connectNatsTransport({ servers: server.url });
    extra.push(t);
    return t;
  },
}));

test('max_payload comes from the server', () => {
  assert.is(a.maxPayload, 64 * 1024);
});

test("the worker's own NATS adapter talks to the coordinator's", async () => {
  const w = await connectNats({ servers: server.url, name: 'worker-under-test' });
  extra.push(w);
  a.subscribe('wk.echo', (m) => a.publish(m.reply!, m.data));
  await a.flush();
  const reply = await w.request('wk.echo', new TextEncoder().encode('ping'), 2000);
  assert.is(new TextDecoder().decode(reply.data), 'ping');
  assert.is(w.maxPayload, 64 * 1024);
  let failure = '';
  try {
    await w.request('wk.nobody', new Uint8Array(1), 2000);
  } catch (err) {
    failure = (err as { failure?: string }).failure ?? String(err);
  }
  assert.is(failure, 'no-responders');
});

const AUTH_CASES: [string, string[], { token?: string; user?: string; pass?: string }][] = [
  ['a token', ['--auth', 's3cret'], { token: 's3cret' }],
  ['a user and password', ['--user', 'mallard', '--pass', 'pw'], { user: 'mallard', pass: 'pw' }],
];

for (const [what, serverArgs, credentials] of AUTH_CASES) {
  test(`credentials are passed through: ${what}`, async () => {
    // A server of its own, so only this test's connections need credentials.
    const port = await freePort();
    const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), ...serverArgs], {
      stdio: 'ignore',
      env: { ...process.env, PATH: `${process.env['PATH']}:/usr/sbin` },
    });
    try {
      while (!(await accepts(port))) await new Promise((r) => setTimeout(r, 50));
      const url = `nats://127.0.0.1:${port}`;
      let refusal = '';
      try {
        const t = await connectNatsTransport({ servers: url });
        await t.close();
      } catch (err) {
        refusal = String(err);
      }
      assert.match(refusal, /authorization/i, 'a connection without credentials is refused');
      const coordinator = await connectNatsTransport({ servers: url, ...credentials });
      await coordinator.flush();
      await coordinator.close();
      const worker = await connectNats({ servers: url, ...credentials });
      await worker.flush();
      await worker.close();
    } finally {
      child.kill();
    }
  });
}

test.run();
