#!/usr/bin/env node
// A worker process without the full CLI: `node dist/worker/entry.js --nats URL --data DIR [...]`. Used by the
// cluster tests to start real worker processes, and handy for running a worker by hand.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { workerMain } from './main.js';

const { values } = parseArgs({
  options: {
    nats: { type: 'string', default: process.env['MALLARD_NATS'] ?? 'nats://127.0.0.1:4222' },
    threads: { type: 'string', default: process.env['MALLARD_THREADS'] ?? String(availableParallelism()) },
    'memory-limit': { type: 'string', default: process.env['MALLARD_MEMORY_LIMIT'] },
    data: { type: 'string', default: process.env['MALLARD_DATA'] ?? './mallard-data' },
    prefix: { type: 'string', default: process.env['MALLARD_CLUSTER_PREFIX'] ?? 'mallard.default' },
    id: { type: 'string' },
    user: { type: 'string', default: process.env['MALLARD_NATS_USER'] },
    pass: { type: 'string', default: process.env['MALLARD_NATS_PASS'] },
    token: { type: 'string', default: process.env['MALLARD_NATS_TOKEN'] },
    'tls-ca': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'heartbeat-ms': { type: 'string' },
    'drain-timeout-ms': { type: 'string' },
    'log-level': { type: 'string', default: process.env['MALLARD_LOG_LEVEL'] ?? 'info' },
  },
});

const tls =
  values['tls-ca'] || values['tls-cert'] || values['tls-key']
    ? {
        ...(values['tls-ca'] ? { caFile: values['tls-ca'] } : {}),
        ...(values['tls-cert'] ? { certFile: values['tls-cert'] } : {}),
        ...(values['tls-key'] ? { keyFile: values['tls-key'] } : {}),
      }
    : undefined;

try {
  await workerMain({
    nats: values.nats,
    threads: Number(values.threads),
    dataDir: values.data,
    prefix: values.prefix,
    logLevel: values['log-level'],
    ...(values['memory-limit'] ? { memoryLimit: values['memory-limit'] } : {}),
    ...(values.id ? { id: values.id } : {}),
    ...(values.user ? { user: values.user } : {}),
    ...(values.pass ? { pass: values.pass } : {}),
    ...(values.token ? { token: values.token } : {}),
    ...(tls ? { tls } : {}),
    ...(values['heartbeat-ms'] ? { heartbeatIntervalMs: Number(values['heartbeat-ms']) } : {}),
    ...(values['drain-timeout-ms'] ? { drainTimeoutMs: Number(values['drain-timeout-ms']) } : {}),
  });
  process.exit(0);
} catch (err) {
  console.error(`mallard worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
