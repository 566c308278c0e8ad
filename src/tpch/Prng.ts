/** Words with their relative weights, as in dbgen's distribution files. */
export type Weighted = readonly (readonly [string, number])[];

/**
 * A small, fast, seeded PRNG (mulberry32) for the generator's JS-side choices (text pools, the suppliers
 * with complaints), which must be identical on every run.
 */
export class Prng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** A uniform float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick(dist: Weighted): string {
    let total = 0;
    for (const [, w] of dist) total += w;
    let x = this.next() * total;
    for (const [word, w] of dist) {
      x -= w;
      if (x < 0) return word;
    }
    return dist[dist.length - 1]![0];
  }
}
