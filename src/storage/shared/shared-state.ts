/**
 * State several instances of the bot change at the same time, with the store's own atomic operations: counters
 * (usage), and sections no other instance runs at the same time for the same keys (rate limits, budget holds, "told
 * once" marks, history appends). Each backend provides one (store.shared); in one process on SQLite or in memory it
 * costs no more than the in-process queues it replaces.
 */
import { KeyedQueue } from "../../util/keyed-queue.js";

/** A numeric record kept field by field: `{ promptTokens: 120, costUsd: 0.01 }`. */
export type Counters = Record<string, number>;

export interface SharedState {
  /** Adds each field of `delta` to the record at `key` in one atomic step (no lost increment across instances). */
  addCounters(key: string, delta: Counters, ttlMs?: number): Promise<void>;
  /** The record at `key` ({} when there is none or it expired). */
  counters(key: string): Promise<Counters>;
  /**
   * Runs `fn` while no other caller holding any of `keys`, in this instance or another sharing the store, runs.
   * Keys are taken in sorted order so overlapping sets never deadlock. Sections must not nest.
   */
  exclusive<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T>;
  /**
   * A sliding window in one atomic step, where the store has one (Redis: a script over a sorted set): takes a place
   * at `nowMs` if fewer than `max` were taken in the last `windowMs`, else says how long until one frees. Stores
   * without it leave callers to their exclusive read-modify-write.
   */
  takeInWindow?(key: string, nowMs: number, windowMs: number, max: number): Promise<{ ok: true } | { ok: false; retryAfterMs: number }>;
}

/** Sections of one process: a queue per key (what every store did before it was shared). */
export class LocalExclusive {
  readonly #queue = new KeyedQueue();
  run<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    return this.#queue.runAll(keys, fn);
  }
}

/** memory://: one process by definition, so plain maps and the in-process queue. */
export class MemorySharedState implements SharedState {
  readonly #counters = new Map<string, { values: Counters; until: number | undefined }>();
  readonly #local = new LocalExclusive();
  constructor(private readonly now: () => number = Date.now) {}

  addCounters(key: string, delta: Counters, ttlMs?: number): Promise<void> {
    const current = this.#live(key) ?? {};
    for (const [field, n] of Object.entries(delta)) current[field] = (current[field] ?? 0) + n;
    this.#counters.set(key, { values: current, until: ttlMs === undefined ? undefined : this.now() + ttlMs });
    return Promise.resolve();
  }

  counters(key: string): Promise<Counters> {
    return Promise.resolve({ ...this.#live(key) });
  }

  exclusive<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    return this.#local.run(keys, fn);
  }

  #live(key: string): Counters | undefined {
    const entry = this.#counters.get(key);
    if (entry?.until !== undefined && entry.until <= this.now()) {
      this.#counters.delete(key);
      return undefined;
    }
    return entry?.values;
  }
}

/** Turns a stored number (a string from Redis, a string or number from SQL drivers) into a finite number or 0. */
export function toNumber(value: unknown): number {
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}
