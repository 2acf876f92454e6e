import type { UpdateHooks } from "../bot/middleware/update-accounting.js";

/**
 * Counts updates in flight and handled: the graceful stop waits until none is in flight, the polling ingress
 * confirms the highest one started, and tests and benchmarks wait for a number handled.
 *
 * A message waiting for the rest of a joined question (a paste, an album, forwards: bot/middleware/message-joining.ts)
 * is in flight until that question is answered: its update's handling has not ended, so the graceful stop (which
 * first hands every waiting group over at once) waits for it like for any answer. The messages joined to it end
 * when the group is handed over.
 */
export class UpdateTracker {
  /** The highest update that started being handled (-1: none yet). */
  lastUpdateId = -1;
  #handled = 0;
  #inFlight = 0;
  readonly #waiters = new Set<{ count: number; resolve: () => void }>();
  #onIdle: (() => void) | undefined;

  /** For createBot: called as each update starts and ends. */
  readonly hooks: Required<UpdateHooks> = {
    onUpdate: (id) => {
      this.#inFlight++;
      if (id > this.lastUpdateId) this.lastUpdateId = id;
    },
    onUpdateDone: () => {
      this.#inFlight--;
      this.#handled++;
      for (const w of this.#waiters) {
        if (this.#handled < w.count) continue;
        this.#waiters.delete(w);
        w.resolve();
      }
      if (this.#inFlight === 0) this.#onIdle?.();
    },
  };

  /** Number of updates whose handling has ended. */
  get handled(): number {
    return this.#handled;
  }

  /** Resolves when no update is being handled. */
  idle(): Promise<void> {
    return this.#inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => (this.#onIdle = r));
  }

  /** Resolves once at least `count` updates have been handled; rejects after `timeoutMs`. */
  whenHandled(count: number, timeoutMs = 20_000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#handled >= count) return resolve();
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`only ${this.#handled} of ${count} updates handled within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }
}
