import type { DistributedPlan, MergeSpec } from './types.js';

/**
 * The rows of EXPLAIN for a plan: the execution mode (and why), then per stage the partitioning, the
 * task count (and whether they write shuffle files), the output relation's schema and each task's
 * files, shuffle file and SQL, then the merge strategy and the coordinator's SQL.
 */
export function explainPlan(plan: DistributedPlan): string[] {
  const rows = [`mode: ${plan.mode}`];
  if (plan.reason) rows.push(`reason: ${plan.reason}`);
  plan.stages.forEach((stage, s) => {
    const columns = stage.columns.map((c) => `${c.name} ${c.type}`).join(', ');
    const count = `${stage.tasks.length} task${stage.tasks.length === 1 ? '' : 's'}`;
    const writes = stage.kind === 'shuffle-write' ? ', writing shuffle files' : '';
    rows.push(`stage ${s + 1}: ${stage.partitioning}, ${count}${writes} -> ${stage.output}(${columns})`);
    if (stage.replicated.length) rows.push(`  read whole by every task: ${stage.replicated.join(', ')}`);
    stage.tasks.forEach((task, t) => {
      const files = Object.entries(task.files)
        .map(([table, list]) => `${table} ${list.length} file${list.length === 1 ? '' : 's'}`)
        .join(', ');
      const buckets = task.buckets ? ` buckets ${task.buckets.join(',')};` : '';
      const writes = task.writes ? `; writes ${task.writes}` : '';
      rows.push(`  task ${t + 1}:${buckets} ${files}${writes}`);
      rows.push(`    ${task.sql}`);
    });
  });
  rows.push(`merge: ${describeMerge(plan.merge)}`);
  rows.push(`  ${plan.merge.sql}`);
  return rows;
}

function describeMerge(merge: MergeSpec): string {
  const parts: string[] = [merge.kind];
  if (merge.orderBy?.length) {
    const keys = merge.orderBy.map(
      (o) =>
        `${o.column}${o.descending ? ' DESC' : ''}${o.nulls === 'default' ? '' : ` NULLS ${o.nulls.toUpperCase()}`}`,
    );
    parts.push(`by ${keys.join(', ')}`);
  }
  if (merge.limit !== undefined) parts.push(`limit ${merge.limit}`);
  if (merge.offset !== undefined) parts.push(`offset ${merge.offset}`);
  return parts.join(' ');
}
