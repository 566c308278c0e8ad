import type { CatalogState } from './CatalogModel.js';
import { CatalogView } from './CatalogView.js';

/**
 * A committed catalog version. While it is held, none of the files it references is deleted, so a
 * reader can take its time; `release()` (idempotent) lets compaction and DROP reclaim them.
 */
export class Snapshot extends CatalogView {
  #release: (() => void) | null;

  constructor(state: CatalogState, release: () => void) {
    super(state);
    this.#release = release;
  }

  get released(): boolean {
    return this.#release === null;
  }

  release(): void {
    const r = this.#release;
    this.#release = null;
    r?.();
  }
}
