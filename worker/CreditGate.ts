/**
 * The worker side of credit-based flow control for one task attempt: each result batch needs a credit, and
 * with none left the task waits, which leaves DuckDB's result unread, until the coordinator raises the
 * attempt's limit or the attempt is stopped. Limits are cumulative (batches in all), so a grant that
 * arrives twice changes nothing.
 */
export class CreditGate {
  private limit: number;
  private used = 0;
  private waiter: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private stopped: Error | null = null;

  constructor(initialLimit: number) {
    this.limit = initialLimit;
  }

  /** Credits left before the next send has to wait. */
  get available(): number {
    return this.limit - this.used;
  }

  /** Raises the limit from a CreditGrant (a lower one is stale) and wakes a waiting send. */
  grant(limit: number): void {
    if (limit <= this.limit) return;
    this.limit = limit;
    if (this.used < this.limit && this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = null;
      this.used++;
      resolve();
    }
  }

  /** Spends one credit, waiting for a grant when there is none. Rejects once stop() was called. */
  take(): Promise<void> {
    if (this.stopped) return Promise.reject(this.stopped);
    if (this.used < this.limit) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Fails the pending and every later take() with `reason`: the attempt was canceled or handed back. */
  stop(reason: Error): void {
    this.stopped = reason;
    if (this.waiter) {
      const { reject } = this.waiter;
      this.waiter = null;
      reject(reason);
    }
  }
}
