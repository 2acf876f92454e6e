/**
 * Work shared while it runs: callers asking for the same key while a task for it is in flight get the same result
 * instead of starting it again. Nothing is kept once the task has settled (no cache).
 */
export class InFlight<T> {
  readonly #running = new Map<string, Promise<T>>();

  /**
   * The result of `task` for `key`, joining a run already in flight. `signal` ends only this caller's wait (it
   * rejects with the signal's reason); the task goes on for the others.
   */
  run(key: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    let running = this.#running.get(key);
    if (!running) {
      running = task();
      this.#running.set(key, running);
      const forget = () => {
        if (this.#running.get(key) === running) this.#running.delete(key);
      };
      running.then(forget, forget);
    }
    return signal ? untilAborted(running, signal) : running;
  }

  /** Keys with a task in flight (for tests of memory use). */
  get size(): number {
    return this.#running.size;
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    // Settles the caller's promise either way; the listener goes with it.
    void promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
