/**
 * Times the phases of one query: `mark(name)` notes how long after the clock started the phase `name`
 * ended, in milliseconds (0.1 ms resolution). QueryRecord.phases keeps them; the coordinator logs them at
 * debug level when the query ends.
 */
export class PhaseClock {
  readonly phases: Record<string, number> = {};
  readonly #start = performance.now();
  /** When the clock started (epoch ms): a query's start, planning included. */
  readonly startedAt = Date.now();

  mark(name: string): void {
    this.phases[name] = Math.round((performance.now() - this.#start) * 10) / 10;
  }
}
