#!/usr/bin/env node
// npm test: installs missing system prerequisites, type-checks, lints, then runs every uvu suite
// under dist/test in its own process. The last line printed is exactly `N passed, N failed`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensurePrerequisites } from './prerequisites.js';

const root = new URL('..', import.meta.url).pathname;
const filter = process.argv.slice(2);
const FILE_TIMEOUT_MS = 8 * 60_000;
let passed = 0;
let failed = 0;
const failures = [];

function step(name, cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status === 0) passed++;
  else {
    failed++;
    failures.push(name);
  }
}

function listTests(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTests(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

function runFile(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--enable-source-maps', file], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => process.stderr.write(d));
    const timer = setTimeout(() => {
      process.stderr.write(`\n${file}: timed out after ${FILE_TIMEOUT_MS / 1000}s\n`);
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal) process.stderr.write(`\n${file}: exited on ${signal}\n`);
      else if (code !== 0) process.stderr.write(`\n${file}: exited with code ${code}\n`);
      const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
      let bad = total - ok;
      // A suite that died before uvu printed its summary, or exited non-zero with nothing failed, counts as one failure.
      if (total === 0 || (code !== 0 && bad === 0)) bad += 1;
      passed += ok;
      failed += bad;
      if (bad) failures.push(relative(root, file));
      resolve();
    });
  });
}

const prereq = ensurePrerequisites();
if (!prereq.ok) {
  failed++;
  failures.push(`prerequisites: ${prereq.message}`);
}
step('typecheck (tsc)', 'npx', ['--no-install', 'tsc', '-p', '.']);
step('lint (biome)', 'npx', [
  '--no-install',
  'biome',
  'check',
  'protocol',
  'src',
  'worker',
  'test',
  'bench',
  'scripts',
]);
const files = listTests(join(root, 'dist/test')).filter(
  (f) => filter.length === 0 || filter.some((s) => f.includes(s)),
);
for (const f of files) await runFile(f);
if (failures.length) console.log(`\nFailed: ${failures.join(', ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
