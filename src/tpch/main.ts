import { generateTpch } from './generate.js';

/**
 * `mallard tpch --sf N --out DIR`: generates the TPC-H tables at scale factor N into DIR and prints one
 * line per table (rows and file) and the elapsed time.
 */
export async function tpchMain(options: { sf: number; out: string }): Promise<void> {
  const started = performance.now();
  const files = await generateTpch({ sf: options.sf, out: options.out });
  const seconds = (performance.now() - started) / 1000;
  const width = Math.max(...files.map((f) => f.table.length));
  for (const f of files) {
    process.stdout.write(`${f.table.padEnd(width)}  ${String(f.rows).padStart(12)}  ${f.file}\n`);
  }
  process.stdout.write(`TPC-H SF ${options.sf}: ${files.length} tables in ${seconds.toFixed(1)} s\n`);
}
