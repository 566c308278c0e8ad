// kill -9 of the server right after a client's COMMIT returns: after a restart on the same data
// directory the committed rows are there, the uncommitted ones are not, and no orphan file is left.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { filesUnder } from '../helpers/files.js';
import { type MallardServer, startMallard } from '../helpers/mallard.js';
import { connect } from './pgDiff.js';

const dataDir = mkdtempSync(join(tmpdir(), 'mallard-crash-'));
let server: MallardServer | null = null;

test.after(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function start(): Promise<MallardServer> {
  // A later --data wins over the helper's fresh one: every start shares one directory.
  return startMallard({ args: ['--data', dataDir, '--table-storage', 'parquet'] });
}

async function kill9(s: MallardServer): Promise<void> {
  process.kill(s.pid, 'SIGKILL');
  for (let i = 0; i < 100 && s.alive(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.not.ok(s.alive(), 'the server died');
}

/** Every Parquet file under the data directory's tables/ (absolute paths). */
function parquetFiles(): string[] {
  return filesUnder(join(dataDir, 'tables'), '/')
    .map((f) => `/${f}`)
    .filter((f) => f.endsWith('.parquet'));
}

test('a committed INSERT survives kill -9; an uncommitted one does not', async () => {
  server = await start();
  const c = await connect(server.url);
  const open = await connect(server.url);
  await c.query('CREATE TABLE ledger (id int PRIMARY KEY, note text)');
  await c.query('BEGIN');
  await c.query("INSERT INTO ledger VALUES (1, 'committed')");
  await c.query('COMMIT');
  await c.query("INSERT INTO ledger VALUES (2, 'autocommit')");
  // A bulk load committed, written to Parquet (more rows than the inline buffer takes).
  await c.query('INSERT INTO ledger SELECT i, $1 FROM generate_series(100, 5099) AS t(i)', ['bulk']);
  // An open transaction with a bulk write of its own: its files exist, its commit never happens.
  await open.query('BEGIN');
  await open.query("INSERT INTO ledger SELECT i, 'never' FROM generate_series(10000, 19999) AS t(i)");
  assert.ok(parquetFiles().length >= 2, 'both bulk loads wrote files');
  await kill9(server);
  c.on('error', () => {});
  open.on('error', () => {});

  server = await start();
  const d = await connect(server.url);
  const r = await d.query('SELECT note, count(*)::int AS n FROM ledger GROUP BY note ORDER BY note');
  assert.equal(r.rows, [
    { note: 'autocommit', n: 1 },
    { note: 'bulk', n: 5000 },
    { note: 'committed', n: 1 },
  ]);
  // The uncommitted load's files were removed at restart; the committed one's remain.
  const files = parquetFiles();
  assert.ok(files.length >= 1, 'the committed load kept its file');
  const t = await d.query("SELECT files FROM mallard_tables WHERE table_name = 'ledger'");
  assert.is(Number(t.rows[0].files), files.length, 'no orphan file beside the catalog');
  await d.end();
});

test('kill -9 at once after COMMIT returns, repeated', async () => {
  for (let trial = 0; trial < 5; trial++) {
    const c = await connect(server!.url);
    if (trial === 0) await c.query('CREATE TABLE trials (trial int, v int)');
    await c.query('BEGIN');
    await c.query('INSERT INTO trials SELECT $1::int, i FROM generate_series(1, 200) AS t(i)', [trial]);
    await c.query('COMMIT');
    c.on('error', () => {});
    await kill9(server!);
    server = await start();
    const d = await connect(server.url);
    const r = await d.query('SELECT count(*)::int AS n, count(DISTINCT trial)::int AS t FROM trials');
    assert.equal(r.rows, [{ n: 200 * (trial + 1), t: trial + 1 }], `after trial ${trial}`);
    await d.end();
  }
});

test.run();
