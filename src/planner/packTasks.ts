/**
 * Packs work units into at most `bins` tasks of even weight (longest processing time first: heaviest
 * unit to the lightest task), each task keeping its units in their original order. Fewer units than
 * bins give one task per unit.
 */
export function packTasks<T>(units: readonly T[], weight: (unit: T) => number, bins: number): T[][] {
  if (units.length <= bins) return units.map((u) => [u]);
  const order = units.map((u, i) => ({ i, w: weight(u) })).sort((a, b) => b.w - a.w || a.i - b.i);
  const tasks = Array.from({ length: bins }, () => ({ w: 0, members: [] as number[] }));
  for (const { i, w } of order) {
    let lightest = tasks[0]!;
    for (const t of tasks) if (t.w < lightest.w) lightest = t;
    lightest.w += w;
    lightest.members.push(i);
  }
  return tasks
    .filter((t) => t.members.length)
    .map((t) => t.members.sort((a, b) => a - b).map((i) => units[i]!));
}
