// kill -9 at random points, 20 times, while a process commits in a loop (fixtures/crashWriter.ts):
// bulk COPYs into Parquet, inline inserts, deletes, updates, undone statements, checkpoints and
// background compaction are all in flight. After every restart the committed data is exactly there,
// uncommitted data is absent, and no orphan file remains.
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { referencedPaths } from '../../src/catalog/dataPaths.js';
import { listFiles, removeDir, tempDataDir } from '../catalog/dataDirHelpers.js';
import { closeFixture, openFixture, scalar } from './storageHelpers.js';

const WRITER = new URL('./fixtures/crashWriter.js', import.meta.url).pathname;
const TRIALS = 20;
const ITEMS = { schema: 'public', name: 'items' };
const LEDGER = { schema: 'public', name: 'ledger' };

interface Trial {
  /** False when the writer died before it was ready (see startWriter). */
  started: boolean;
  committed: number;
  committing: number;
  stderr: string;
}

/** Starts the writer, kills it with SIGKILL `delayMs` after it is ready, and reports what it printed. */
function runAndKill(dir: string, delayMs: number): Promise<Trial> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (!timer && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') {
        if (!out.includes('ready\n')) {
          resolve({ started: false, committed: 0, committing: 0, stderr });
          return;
        }
        reject(new Error(`the writer exited by itself (code ${code}): ${stderr}`));
        return;
      }
      let committed = 0;
      let committing = 0;
      for (const line of out.split('\n')) {
        const [word, k] = line.split(' ');
        if (word === 'committed') committed = Math.max(committed, Number(k));
        if (word === 'committing') committing = Math.max(committing, Number(k));
      }
      resolve({ started: true, committed, committing, stderr });
    });
  });
}

/**
 * runAndKill, retried when the writer could not even start. Other engineers' `tsc` runs rewrite
 * dist/ while this test spawns processes, and a module read mid-write fails to import; a writer that
 * never got ready did no work, so trying again changes nothing about what is tested.
 */
async function startWriter(dir: string, delayMs: number): Promise<Trial> {
  for (let attempt = 0; ; attempt++) {
    const run = await runAndKill(dir, delayMs);
    if (run.started) return run;
    if (attempt === 4) throw new Error(`the writer failed to start: ${run.stderr}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The rows of `items` after commit K, computed independently of the writer (see its header). */
function expectedItems(K: number): string {
  return `
    SELECT k, CAST(j + CASE WHEN (k + 1) % 5 = 0 AND k + 1 <= ${K} THEN 1000000 ELSE 0 END AS INTEGER) AS j
    FROM range(1, ${K + 1}) AS t(k),
         LATERAL range(CASE WHEN k % 25 = 0 THEN 50000 WHEN k % 3 = 0 THEN 500 ELSE 1 END) AS r(j)
    WHERE NOT ((k + 2) % 4 = 0 AND k + 2 <= ${K} AND j % 2 = 0)`;
}

test(`kill -9 at ${TRIALS} random points: committed data exact, uncommitted absent, no orphans`, async () => {
  const dir = await tempDataDir('mallard-crash-');
  let orphansRemoved = 0;
  let longest = 0;
  try {
    for (let trial = 0; trial < TRIALS; trial++) {
      // Spread the kills over start-up, small commits and the 50 000-row COPYs.
      const delay = 20 + Math.floor(Math.random() * 900);
      const run = await startWriter(dir, delay);
      const f = await openFixture(dir);
      try {
        orphansRemoved += f.catalog.recovery.removed.filter((p) => p.includes('/tables/')).length;
        const snap = f.catalog.snapshot();
        try {
          if (!snap.table(LEDGER)) {
            assert.is(run.committed, 0, 'a committed transaction is never lost');
            continue;
          }
          const ledger = f.storage.relation(snap, LEDGER);
          const K = Number(await scalar(f.conn, `SELECT coalesce(max(k), 0) FROM (${ledger})`));
          // Acknowledged: printed `committed` in this run, or recovered by an earlier trial.
          const acknowledged = Math.max(run.committed, longest);
          assert.ok(
            K === acknowledged || (K === acknowledged + 1 && run.committing === K),
            `trial ${trial}: recovered commit ${K}, acknowledged ${acknowledged}, in flight ${run.committing}`,
          );
          longest = K;
          assert.is(
            Number(await scalar(f.conn, `SELECT count(DISTINCT k) FROM (${ledger})`)),
            K,
            'ledger has 1..K once each',
          );
          assert.is(Number(await scalar(f.conn, `SELECT count(*) FROM (${ledger})`)), K);
          const items = f.storage.relation(snap, ITEMS);
          const missing = await scalar(
            f.conn,
            `SELECT count(*) FROM ((${expectedItems(K)}) EXCEPT ALL (SELECT k, j FROM (${items})))`,
          );
          const extra = await scalar(
            f.conn,
            `SELECT count(*) FROM ((SELECT k, j FROM (${items})) EXCEPT ALL (${expectedItems(K)}))`,
          );
          assert.is(Number(missing), 0, `trial ${trial}: committed rows missing after commit ${K}`);
          assert.is(Number(extra), 0, `trial ${trial}: rows that were never committed after commit ${K}`);
          // Recovery left exactly the referenced files, and the catalog directory holds no temporary.
          assert.equal(
            await listFiles(dir, 'tables'),
            [...referencedPaths(snap.state)].sort(),
            `trial ${trial}: orphans`,
          );
          const catalogFiles = await readdir(join(dir, 'catalog'));
          assert.ok(
            catalogFiles.every(
              (n) => n.startsWith('checkpoint-') || n.startsWith('log-') || n === 'owner.pid',
            ),
            `catalog files: ${catalogFiles}`,
          );
        } finally {
          snap.release();
        }
      } finally {
        await closeFixture(f);
      }
    }
    assert.ok(longest > 25, `the writer got through a 50 000-row COPY (reached commit ${longest})`);
    assert.ok(orphansRemoved > 0, 'some kill landed mid-write and recovery removed what it left');
    console.log(
      `crash trials: ${TRIALS}, commits reached ${longest}, orphan files removed ${orphansRemoved}`,
    );
  } finally {
    await removeDir(dir);
  }
});

test.run();
