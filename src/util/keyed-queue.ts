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

  /** Resolves when every task queued so far for `key` has finished (successfully or not). */
  async settled(key: string): Promise<void> {
    await this.#tails.get(key)?.catch(() => undefined);
  }
}
