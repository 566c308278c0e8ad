/**
 * Result throughput benchmark (issue 4): Arrow bytes per second from a worker process to the coordinator
 * through ClusterClient.runQuery (one task producing a few hundred MB of Arrow, the consumer iterating as
 * fast as it can), next to raw NATS publish/subscribe throughput measured in the same run on the same
 * nats-server with the same message size (a nats.js publisher process to a subscriber in this process).
 * Goal: the cluster path at >= 50% of raw NATS.
 *
 *   npm run build && node dist/bench/resultThroughput.js [rows]
 *
 * The raw publisher keeps at most the coordinator's memory budget (64 MiB) unacknowledged, the same bound
 * the cluster's credits impose, so a fast publisher cannot make nats-server cut a slow subscriber off.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { FRAME_HEADER_BYTES } from '../protocol/cluster/resultFrames.js';
import {
  connectCoordinator,
  cpuSeconds,
  fmt,
  spawnWorker,
  startNatsServer,
  waitForWorkers,
} from './clusterProcs.js';

const ROWS = Number(process.argv[2] ?? 10_000_000);
const ROUNDS = 5;
/** Four BIGINT columns: 32 bytes a row, so 10M rows are about 320 MB of Arrow. */
const SQL = `SELECT i AS a, i * 2 AS b, i * 3 AS c, i * 4 AS d FROM range(${ROWS}) t(i)`;
const WINDOW_BYTES = 64 * 1024 * 1024;
const ACK_EVERY_BYTES = 8 * 1024 * 1024;

const MiB = 1024 * 1024;
const rate = (bytes: number, seconds: number) => `${fmt(bytes / seconds / MiB)} MiB/s`;

/** The raw publisher, in its own process as a worker is: publishes `total` bytes as `size`-byte messages. */
async function publisherMain(url: string, subject: string, size: number, total: number): Promise<void> {
  const nc = await connect({ servers: url });
  const payload = new Uint8Array(size).fill(7);
  let acked = 0;
  let wake: (() => void) | null = null;
  nc.subscribe(`${subject}.ack`, {
    callback: (_err, msg) => {
      acked = Number(new TextDecoder().decode(msg.data));
      wake?.();
    },
  });
  await nc.flush();
  process.send!('ready');
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  let sent = 0;
  while (sent < total) {
    while (sent - acked >= WINDOW_BYTES) await new Promise<void>((r) => (wake = r));
    const n = Math.min(size, total - sent);
    nc.publish(subject, n === size ? payload : payload.subarray(0, n));
    sent += n;
    // Let the socket drain now and then, as a worker's event loop does between batches.
    if (sent % (16 * size) < size) await new Promise((r) => setImmediate(r));
  }
  await nc.flush();
  await nc.drain();
  const usage = process.cpuUsage();
  process.send!({ cpu: (usage.user + usage.system) / 1e6 });
}

async function rawNats(url: string, size: number, total: number): Promise<{ seconds: number; cpu: number }> {
  const nc = await connect({ servers: url });
  const subject = 'bench.raw';
  let received = 0;
  let lastAck = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  nc.subscribe(subject, {
    callback: (_err, msg) => {
      received += msg.data.byteLength;
      if (received - lastAck >= ACK_EVERY_BYTES || received >= total) {
        lastAck = received;
        nc.publish(`${subject}.ack`, new TextEncoder().encode(String(received)));
      }
      if (received >= total) finish();
    },
  });
  await nc.flush();
  const child = fork(fileURLToPath(import.meta.url), [
    '--publisher',
    url,
    subject,
    String(size),
    String(total),
  ]);
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  // The publisher reports its own CPU time when it is done; it exits right after.
  const publisherCpu = new Promise<number>((resolve) =>
    child.once('message', (m) => resolve((m as { cpu: number }).cpu)),
  );
  const publisherCpu0 = cpuSeconds(child.pid!);
  const cpu0 = cpuSeconds(process.pid);
  const start = performance.now();
  child.send('go');
  await done;
  const seconds = (performance.now() - start) / 1000;
  const cpu = cpuSeconds(process.pid) - cpu0 + (await publisherCpu) - publisherCpu0;
  await nc.close();
  return { seconds, cpu };
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'mallard-bench-results-'));
  const nats = await startNatsServer();
  const prefix = 'mallard.benchresults';
  const worker = spawnWorker({ natsUrl: nats.url, prefix, id: 'results-w0', dataDir, threads: 1 });
  const coordinator = await connectCoordinator(nats.url, prefix);
  try {
    await waitForWorkers(coordinator.client, [worker.id]);
    const maxPayload = coordinator.transport.maxPayload;
    console.log(
      `result throughput: one task, ${fmt(ROWS)} rows x 4 BIGINT, worker process -> coordinator over nats-server (max_payload ${fmt(maxPayload)})`,
    );
    // Cluster and raw runs alternate, so both see the same share of a machine other work is using too.
    const ratios: number[] = [];
    const clusterRates: number[] = [];
    const rawRates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const cpu0 = cpuSeconds(process.pid) + cpuSeconds(worker.pid);
      const start = performance.now();
      const run = coordinator.client.runQuery([{ sql: SQL, partition: { files: [] } }]);
      let rows = 0;
      for await (const { batch } of run) rows += batch.numRows;
      const seconds = (performance.now() - start) / 1000;
      const cpu = cpuSeconds(process.pid) + cpuSeconds(worker.pid) - cpu0;
      if (rows !== ROWS) throw new Error(`read ${rows} rows, expected ${ROWS}`);
      const record = run.records().find((r) => r.status === 'succeeded')!;
      // The frames a batch travels as: the raw run publishes messages of the same size.
      const perBatch = record.bytes / record.batches;
      const framesPerBatch = Math.ceil(perBatch / (maxPayload - FRAME_HEADER_BYTES));
      const messageBytes = Math.round(perBatch / framesPerBatch) + FRAME_HEADER_BYTES;
      const raw = await rawNats(nats.url, messageBytes, record.bytes);
      const clusterRate = record.bytes / seconds;
      const rawRate = record.bytes / raw.seconds;
      clusterRates.push(clusterRate);
      rawRates.push(rawRate);
      ratios.push(clusterRate / rawRate);
      console.log(
        `  round ${round + 1}: cluster ${fmt(record.bytes / MiB)} MiB of Arrow IPC in ${fmt(seconds, 2)} s = ${rate(record.bytes, seconds)} ` +
          `(${record.batches} batches of ~${fmt(messageBytes / 1024)} KiB; worker+coordinator CPU ${fmt(cpu, 2)} s)`,
      );
      console.log(
        `           raw NATS, same bytes and message size: ${fmt(raw.seconds, 2)} s = ${rate(record.bytes, raw.seconds)} ` +
          `(publisher+subscriber CPU ${fmt(raw.cpu, 2)} s); ratio ${(clusterRate / rawRate).toFixed(2)}`,
      );
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `\n  median of rounds: cluster ${fmt(median(clusterRates) / MiB)} MiB/s, raw NATS ${fmt(median(rawRates) / MiB)} MiB/s; ` +
        `ratio cluster / raw: median ${median(ratios).toFixed(2)}, best ${Math.max(...ratios).toFixed(2)} (goal >= 0.50)`,
    );
  } finally {
    await coordinator.close();
    await worker.stop();
    await nats.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--publisher') {
  const [, , , url, subject, size, total] = process.argv;
  await publisherMain(url!, subject!, Number(size), Number(total));
  process.exit(0);
} else {
  await main();
}
