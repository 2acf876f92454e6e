/**
 * Runs tasks for one key one after another (read-modify-write of a keyv value has no atomic form), tasks for
 * different keys concurrently. Finished chains are forgotten, so memory follows the keys in use.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    // A failed task must not block the ones queued behind it.
    const next = previous.catch(() => undefined).then(task);
    this.#tails.set(key, next);
    void next
      .catch(() => undefined)
      .finally(() => {
        if (this.#tails.get(key) === next) this.#tails.delete(key);
      });
    return next;
  }

  /**
   * Runs `task` while holding every one of `keys` (each key's earlier tasks done, its later ones waiting). Keys are
   * taken in sorted order, so two callers holding overlapping sets never wait on each other.
   */
  runAll<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const step = (i: number): Promise<T> => (i === sorted.length ? task() : this.run(sorted[i]!, () => step(i + 1)));
    return step(0);
  }

  /** Resolves when every task queued so far for `key` has finished (successfully or not). */
  async settled(key: string): Promise<void> {
    await this.#tails.get(key)?.catch(() => undefined);
  }
}
