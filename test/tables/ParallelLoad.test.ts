// COPY FROM STDIN loaded by the workers in parallel: the data is cut into parts (`--load-part-mb 1` here,
// 64 MiB by default), each written to Parquet by a worker as it arrives. Checked through real clients:
// the rows land exactly, bucketed tables keep their bucketing, a constraint or a bad row anywhere still
// leaves the table as it was with no file behind, and `kill -9` of a worker in the middle of a load
// costs nothing: its part is written again by another worker.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import postgres from 'postgres';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { filesUnder } from '../helpers/files.js';
import { type MallardServer, startMallard } from '../helpers/mallard.js';
import { run } from '../helpers/run.js';

const ROWS = 120_000;

/** Row i of the test data: an id, a group, a double, and a note with commas, quotes or NULL. */
function row(i: number): string {
  const note = i % 97 === 0 ? '' : i % 13 === 0 ? `"say ""hi"", ${i}"` : `note ${i} ${'x'.repeat(i % 40)}`;
  return `${i},${i % 17},${(i * 0.25).toFixed(2)},${note}\n`;
}

function expectedNote(i: number): string | null {
  if (i % 97 === 0) return null;
  return i % 13 === 0 ? `say "hi", ${i}` : `note ${i} ${'x'.repeat(i % 40)}`;
}

/** The CSV of rows [from, to), in chunks of about 64 KiB as a client streams a file. */
function* csvChunks(from: number, to: number, edit?: (i: number, line: string) => string): Generator<string> {
  let chunk = '';
  for (let i = from; i < to; i++) {
    const line = row(i);
    chunk += edit ? edit(i, line) : line;
    if (chunk.length >= 65536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

type Sql = postgres.Sql;

/** `psql \copy <table> from stdin` of `chunks`: psql's exit code and its verbose error (SQLSTATE first). */
async function psqlCopy(
  server: MallardServer,
  table: string,
  chunks: Iterable<string>,
): Promise<{ code: number | null; error: string }> {
  const r = await run(
    'psql',
    ['-X', '-v', 'VERBOSITY=verbose', '-d', server.url, '-c', `\\copy ${table} from stdin with (format csv)`],
    { input: [...chunks].join(''), timeoutMs: 120_000 },
  );
  return { code: r.code, error: r.stderr };
}

function client(server: MallardServer): Sql {
  return postgres(server.url, { max: 2, onnotice: () => {} });
}

/** Streams `chunks` into `COPY <table> FROM STDIN (FORMAT csv)`; `between` runs after each chunk. */
async function copyIn(
  sql: Sql,
  table: string,
  chunks: Iterable<string>,
  between?: (n: number) => Promise<void>,
): Promise<void> {
  const writable = await sql.unsafe(`COPY ${table} FROM STDIN (FORMAT csv)`).writable();
  const done = new Promise<void>((resolve, reject) => {
    writable.on('finish', resolve);
    writable.on('error', reject);
  });
  let n = 0;
  for (const c of chunks) {
    if (!writable.write(c)) await new Promise((r) => writable.once('drain', r));
    await between?.(++n);
  }
  writable.end();
  await done;
}

/** Every file under the data directory's tables/, relative to it. */
function filesOnDisk(dataDir: string): string[] {
  return filesUnder(join(dataDir, 'tables'), dataDir);
}

async function filesInCatalog(sql: Sql, table?: string): Promise<string[]> {
  const rows = await sql`
    SELECT path FROM mallard_table_files
    WHERE kind = 'parquet' AND (${table ?? null}::text IS NULL OR table_name = ${table ?? null}::text) ORDER BY path`;
  return rows.map((r) => String(r['path']));
}

/** The table's rows as the test data writes them, compared whole. */
async function assertRows(sql: Sql, table: string, from: number, to: number): Promise<void> {
  const rows = await sql.unsafe(`SELECT id, grp, val::text AS val, note FROM ${table} ORDER BY id`);
  assert.is(rows.length, to - from, `${table}: row count`);
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    const i = from + k;
    const want = { id: String(i), grp: i % 17, val: (i * 0.25).toFixed(2), note: expectedNote(i) };
    const got = { id: String(r['id']), grp: r['grp'], val: r['val'], note: r['note'] };
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      assert.equal(got, want, `${table}: row ${k}`);
    }
  }
}

const CREATE = (name: string) =>
  `CREATE TABLE ${name} (id bigint PRIMARY KEY, grp int NOT NULL, val decimal(12,2), note text)`;

test('embedded workers write a COPY in parallel parts; bucketing, constraints and bad rows hold', async () => {
  const server = await startMallard({
    args: ['--table-storage', 'parquet', '--load-part-mb', '1', '--local-max-rows', '0'],
  });
  const sql = client(server);
  try {
    // A balanced table: every part is a worker's write folder `a<attempt>`.
    await sql.unsafe(CREATE('plain'));
    assert.equal(await psqlCopy(server, 'plain', csvChunks(0, ROWS)), { code: 0, error: '' });
    await assertRows(sql, 'plain', 0, ROWS);
    const paths = await filesInCatalog(sql, 'plain');
    assert.ok(paths.length >= 4, `${paths.length} files for ${ROWS} rows in 1 MiB parts`);
    for (const p of paths)
      assert.ok(p.split('/').includes('t0a1'), `${p} was written by a worker's first attempt`);
    const loads =
      await sql`SELECT count(DISTINCT query_id)::int AS n FROM mallard_tasks WHERE status = 'succeeded'`;
    assert.ok(loads[0]!['n'] >= paths.length, 'each part ran as a task on a worker');

    // Two co-located hash tables, one filled by INSERT ... SELECT on the coordinator and one by COPY on
    // the workers: a co-located join finds every pair only if both put each key in the same bucket.
    await sql.unsafe(CREATE('orders_h'));
    await sql.unsafe(CREATE('items_h'));
    await sql`SELECT create_distributed_table('orders_h', 'id', shard_count => 8)`;
    await sql`SELECT create_distributed_table('items_h', 'id', colocate_with => 'orders_h', shard_count => 8)`;
    await sql`INSERT INTO orders_h SELECT * FROM plain`;
    assert.equal(await psqlCopy(server, 'items_h', csvChunks(0, ROWS)), { code: 0, error: '' });
    const buckets = await sql`
      SELECT count(*)::int AS files, count(DISTINCT bucket)::int AS buckets, count(*) FILTER (WHERE bucket IS NULL)::int AS unbucketed
      FROM mallard_table_files WHERE table_name = 'items_h'`;
    assert.equal(buckets[0], { files: buckets[0]!['files'], buckets: 8, unbucketed: 0 });
    const join = await sql`
      EXPLAIN ANALYZE SELECT count(*) FROM orders_h o JOIN items_h i ON o.id = i.id AND o.note IS NOT DISTINCT FROM i.note`;
    assert.ok(
      join.some((r) => String(r['QUERY PLAN']).includes('split by hash bucket')),
      join.map((r) => r['QUERY PLAN']).join('\n'),
    );
    const pairs =
      await sql`SELECT count(*)::int AS n FROM orders_h o JOIN items_h i ON o.id = i.id AND o.note IS NOT DISTINCT FROM i.note`;
    assert.is(pairs[0]!['n'], ROWS);

    // A duplicate key in a late part: 23505, nothing added, no file left behind.
    const before = await filesInCatalog(sql, 'plain');
    const dup = await psqlCopy(
      server,
      'plain',
      csvChunks(ROWS, 2 * ROWS, (i, line) => (i === 2 * ROWS - 5 ? row(ROWS + 3) : line)),
    );
    assert.match(dup.error, 'ERROR:  23505: duplicate key value violates unique constraint');
    assert.equal(await filesInCatalog(sql, 'plain'), before);
    await assertRows(sql, 'plain', 0, ROWS);

    // A value DuckDB refuses in a late part: the COPY goes row by row and fails as PostgreSQL does.
    const bad = await psqlCopy(
      server,
      'plain',
      csvChunks(ROWS, 2 * ROWS, (i, line) => (i === 2 * ROWS - 7 ? `${i},seven,1.00,x\n` : line)),
    );
    assert.match(bad.error, 'ERROR:  22P02: invalid input syntax for type integer: "seven"');
    assert.match(bad.error, `COPY plain, line ${ROWS - 6}, column grp: "seven"`);
    assert.equal(await filesInCatalog(sql, 'plain'), before);
    await assertRows(sql, 'plain', 0, ROWS);

    // INSERT ... SELECT and CREATE TABLE AS over a large table: each task's rows go to files on its
    // worker (folders t<task>a<attempt>), into a balanced and into a bucketed table.
    const tasksRun = async () =>
      (await sql`SELECT count(*)::int AS n FROM mallard_tasks WHERE status = 'succeeded'`)[0]!['n'] as number;
    const t0 = await tasksRun();
    await sql`CREATE TABLE copied AS SELECT id, grp, val, note FROM plain WHERE grp <> 3`;
    const t1 = await tasksRun();
    await sql.unsafe(CREATE('copied_h'));
    await sql`SELECT create_distributed_table('copied_h', 'id', colocate_with => 'orders_h')`;
    await sql`INSERT INTO copied_h SELECT id, grp, val, note FROM plain WHERE grp <> 3`;
    const t2 = await tasksRun();
    assert.ok(t1 - t0 >= 2 && t2 - t1 >= 2, `tasks: ${t0}, ${t1}, ${t2}`);
    const wanted = ROWS - Array.from({ length: ROWS }, (_, i) => i % 17 === 3).filter(Boolean).length;
    for (const t of ['copied', 'copied_h']) {
      const [n] = await sql.unsafe(
        `SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, sum(val)::text AS total FROM ${t}`,
      );
      const [m] = await sql`SELECT sum(val)::text AS total FROM plain WHERE grp <> 3`;
      assert.equal(n, { n: wanted, ids: wanted, total: m!['total'] }, t);
    }
    const [joined] = await sql`SELECT count(*)::int AS n FROM orders_h o JOIN copied_h c ON o.id = c.id`;
    assert.is(joined!['n'], wanted, 'copied_h is bucketed as orders_h');
    // A duplicate key among the written rows: 23505, and the table is as it was.
    const dupInsert =
      await sql`INSERT INTO copied_h SELECT id + 1, grp, val, note FROM plain WHERE grp <> 3`.then(
        () => null,
        (err: postgres.PostgresError) => err,
      );
    assert.is(dupInsert?.code, '23505');
    assert.is((await sql`SELECT count(*)::int AS n FROM copied_h`)[0]!['n'], wanted);

    // Nothing on disk that the catalog does not list. Compaction of the small bucket files may be
    // writing or removing files in the background: compare once both sides settle.
    let disk: string[] = [];
    let listed: string[] = [];
    for (let i = 0; i < 100; i++) {
      disk = filesOnDisk(server.dataDir).filter((f) => f.endsWith('.parquet'));
      listed = (await filesInCatalog(sql)).sort();
      if (JSON.stringify(disk) === JSON.stringify(listed)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(disk, listed);
  } finally {
    await sql.end();
    await server.stop();
  }
});

test('kill -9 of a worker in the middle of a distributed COPY: every row lands once, no orphan files', async () => {
  const server = await startMallard({
    args: [
      '--table-storage',
      'parquet',
      '--load-part-mb',
      '4',
      'cluster',
      '--workers',
      '2',
      '--threads',
      '1',
    ],
  });
  const sql = client(server);
  const watch = client(server);
  try {
    await sql.unsafe(CREATE('victims'));
    // The worker processes join the cluster a moment after the coordinator listens.
    for (let i = 0; i < 200; i++) {
      const ready = await sql`SELECT count(*)::int AS n FROM mallard_workers WHERE state = 'ready'`;
      if (ready[0]!['n'] === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const total = 5 * ROWS;
    let killed: { worker: string; pid: number } | null = null;
    let loading = true;
    // Watches from another session for a part's load running on a worker, and kills that worker.
    const killer = (async () => {
      while (loading && !killed) {
        const running = await watch`
          SELECT t.worker_id, w.pid FROM mallard_tasks t JOIN mallard_workers w ON w.id = t.worker_id
          WHERE t.status = 'running' LIMIT 1`;
        if (running.length) {
          killed = { worker: String(running[0]!['worker_id']), pid: Number(running[0]!['pid']) };
          process.kill(killed.pid, 'SIGKILL');
        } else await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      // Once a part is cut (every ~64 chunks of 64 KiB), the client pauses while the killer looks.
      await copyIn(sql, 'victims', csvChunks(0, total), async (n) => {
        if (n % 64 !== 8) return;
        for (let i = 0; i < 100 && !killed; i++) await new Promise((r) => setTimeout(r, 10));
      });
    } finally {
      loading = false;
      await killer;
    }
    const victim = killed as { worker: string; pid: number } | null;
    assert.ok(victim, 'a worker was killed while it wrote a part');
    await assertRows(sql, 'victims', 0, total);
    const attempts = await sql`
      SELECT task_id, attempt, worker_id, status FROM mallard_tasks WHERE worker_id = ${victim!.worker} AND status <> 'succeeded'`;
    assert.ok(attempts.length >= 1, 'the killed worker lost an attempt, which ran again elsewhere');
    const catalog = await filesInCatalog(sql);
    assert.equal(
      filesOnDisk(server.dataDir).filter((f) => f.endsWith('.parquet')),
      catalog.concat().sort(),
      'no orphan files',
    );
  } finally {
    await watch.end();
    await sql.end();
    await server.stop();
  }
});

test('CREATE TABLE AS and INSERT ... SELECT over read_parquet of several files are written by the workers', async () => {
  const filesDir = mkdtempSync(join(tmpdir(), 'mallard-load-files-'));
  const db = await DuckDBInstance.create(':memory:');
  const duck = await db.connect();
  for (let f = 0; f < 5; f++) {
    const target = join(filesDir, `part-${f}.parquet`);
    await duck.run(
      `COPY (SELECT i AS id, i % 17 AS grp, CAST(i * 0.25 AS DECIMAL(12,2)) AS val, 'n' || i AS note FROM range(${f * 20_000}, ${(f + 1) * 20_000}) AS t(i)) TO '${target}' (FORMAT parquet)`,
    );
  }
  duck.closeSync();
  db.closeSync();
  const server = await startMallard({ args: ['--table-storage', 'parquet', '--readable-dir', filesDir] });
  const sql = client(server);
  try {
    const tasksRun = async () =>
      (await sql`SELECT count(*)::int AS n FROM mallard_tasks WHERE status = 'succeeded'`)[0]!['n'] as number;
    const glob = join(filesDir, '*.parquet');
    const t0 = await tasksRun();
    await sql.unsafe(`CREATE TABLE from_files AS SELECT * FROM read_parquet('${glob}') WHERE grp <> 3`);
    const t1 = await tasksRun();
    await sql.unsafe(CREATE('into_files'));
    await sql.unsafe(
      `INSERT INTO into_files SELECT id, grp + 1, val, upper(note) FROM read_parquet(ARRAY['${join(filesDir, 'part-0.parquet')}', '${join(filesDir, 'part-3.parquet')}'])`,
    );
    const t2 = await tasksRun();
    assert.ok(t1 - t0 >= 2 && t2 - t1 >= 2, `tasks: ${t0}, ${t1}, ${t2}`);
    const [a] =
      await sql`SELECT count(*)::int AS n, sum(id)::text AS ids, sum(val)::text AS v FROM from_files`;
    let ids = 0n;
    let n = 0;
    for (let i = 0; i < 100_000; i++) {
      if (i % 17 === 3) continue;
      ids += BigInt(i);
      n++;
    }
    assert.equal(a, { n, ids: String(ids), v: (Number(ids) * 0.25).toFixed(2) });
    const [b] = await sql`SELECT count(*)::int AS n, min(note) AS lo, max(grp)::int AS g FROM into_files`;
    assert.equal(b, { n: 40_000, lo: 'N0', g: 17 });
    // Files outside the readable directories are refused as on the coordinator's own path: 42501.
    for (const outside of [
      "'/etc/*.parquet'",
      `ARRAY['${join(filesDir, 'part-0.parquet')}', '${filesDir}/../../etc/passwd']`,
    ]) {
      const denied = await sql.unsafe(`CREATE TABLE denied AS SELECT * FROM read_parquet(${outside})`).then(
        () => null,
        (err: postgres.PostgresError) => err,
      );
      assert.is(denied?.code, '42501', String(denied));
    }
    // An aggregate over the files is computed on the coordinator, whole.
    await sql.unsafe(
      `CREATE TABLE file_counts AS SELECT grp, count(*) AS n FROM read_parquet('${glob}') GROUP BY grp`,
    );
    assert.equal(await tasksRun(), t2, 'no tasks for an aggregate');
    const [c] = await sql`SELECT count(*)::int AS groups, sum(n)::int AS n FROM file_counts`;
    assert.equal(c, { groups: 17, n: 100_000 });
  } finally {
    await sql.end();
    await server.stop();
    rmSync(filesDir, { recursive: true, force: true });
  }
});

test('kill -9 of the coordinator during a distributed COPY, 3 times: committed rows exact, no orphan files', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mallard-load-crash-'));
  // A later --data wins over the helper's fresh directory: every start shares this one.
  const start = () =>
    startMallard({ args: ['--data', dataDir, '--table-storage', 'parquet', '--load-part-mb', '1'] });
  let committed = 0;
  let interrupted = 0;
  try {
    for (let trial = 0; trial < 3; trial++) {
      const server = await start();
      const sql = client(server);
      try {
        if (trial === 0) await sql.unsafe(CREATE('crashy'));
        // A committed load of the next ROWS ids, then one killed at a random point while its parts load.
        assert.equal(await psqlCopy(server, 'crashy', csvChunks(committed, committed + ROWS)), {
          code: 0,
          error: '',
        });
        committed += ROWS;
        // 2.4M rows take seconds to load; the kill comes within the first 0.8 s of sending them.
        const copy = psqlCopy(server, 'crashy', csvChunks(committed, committed + 20 * ROWS));
        await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 700)));
        process.kill(server.pid, 'SIGKILL');
        // A COPY that psql saw complete was committed before the kill.
        if ((await copy).code === 0) committed += 20 * ROWS;
        else interrupted++;
        for (let i = 0; i < 100 && server.alive(); i++) await new Promise((r) => setTimeout(r, 50));
        assert.not.ok(server.alive(), 'the coordinator died');
      } finally {
        await sql.end({ timeout: 1 }).catch(() => {});
      }
      const again = await start();
      const check = client(again);
      try {
        await assertRows(check, 'crashy', 0, committed);
        assert.equal(
          filesUnder(join(dataDir, 'tables'), dataDir).filter((f) => f.endsWith('.parquet')),
          (await filesInCatalog(check)).sort(),
          `trial ${trial}: no orphan files`,
        );
      } finally {
        await check.end();
        await again.stop();
      }
    }
    assert.ok(interrupted > 0, 'a kill landed while a COPY was loading');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
