/**
 * The dispatch shared by the queues of one process (SQLite, memory): an update is handed to the handler as soon as
 * it is stored, with no polling of the storage; what was left unfinished by an earlier run is handed out first.
 */
import type { Update } from "grammy/types";
import { MAX_IN_FLIGHT, type QueueStats, type UpdateHandler, type UpdateQueue } from "./update-queue.js";

/** What a one-process backend stores and reads. */
export interface LocalStorage {
  /** Stores the updates not seen before, atomically; returns those (the others are redeliveries). */
  insertNew(updates: readonly Update[], receivedAt: number): Promise<Update[]>;
  /** Marks an update done (its id is kept for a day against redeliveries). */
  markDone(updateId: number, doneAt: number): Promise<void>;
  /** The updates not done, oldest first (each counted as one more attempt). */
  takeUnfinished(): Promise<Update[]>;
  stats(now: number): Promise<QueueStats>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** How long close() waits for the done marks of updates still being handled (ms). */
const CLOSE_WAIT_MS = 5000;
/** How many handed-out ids are remembered in memory (the race they guard against spans milliseconds). */
const RECENT_IDS = 10_000;

export interface LocalQueueOptions {
  /** A done mark that could not be written (the update will be handled again after a restart). */
  onError?: (err: unknown, what: string) => void;
}

export class LocalQueue implements UpdateQueue {
  readonly kind;
  readonly #storage: LocalStorage;
  readonly #onError: (err: unknown, what: string) => void;
  #handle: UpdateHandler | undefined;
  #stopped = false;
  /** Updates stored before start(): handed out, in order, after the unfinished ones. */
  #early: Update[] = [];
  #starting: Promise<void> | undefined;
  /** Updates handed out whose done mark is not written yet: close() waits for them (bounded). */
  #pending = 0;
  /**
   * Ids handed out by this process (the last RECENT_IDS): an update stored while the unfinished ones are read can be
   * in both lists, and must run once.
   */
  readonly #handedOut = new Set<number>();
  /** Stored updates waiting for one of the MAX_IN_FLIGHT places, oldest first. */
  readonly #waiting: Update[] = [];
  #onSettled: (() => void) | undefined;

  constructor(kind: UpdateQueue["kind"], storage: LocalStorage, opts: LocalQueueOptions = {}) {
    this.kind = kind;
    this.#storage = storage;
    this.#onError = opts.onError ?? (() => undefined);
  }

  async add(updates: readonly Update[]): Promise<void> {
    if (updates.length === 0) return;
    const fresh = await this.#storage.insertNew(updates, Date.now());
    if (this.#handle && !this.#starting) for (const u of fresh) this.#dispatch(u);
    else this.#early.push(...fresh);
  }

  start(handle: UpdateHandler): void {
    this.#handle = handle;
    this.#starting = (async () => {
      let unfinished: Update[] = [];
      try {
        unfinished = await this.#storage.takeUnfinished();
      } catch (err) {
        this.#onError(err, "reading unfinished updates");
      }
      const seen = new Set(unfinished.map((u) => u.update_id));
      const early = this.#early.filter((u) => !seen.has(u.update_id));
      this.#early = [];
      this.#starting = undefined;
      for (const u of [...unfinished, ...early]) this.#dispatch(u);
    })();
  }

  #dispatch(update: Update): void {
    if (this.#stopped || !this.#handle || this.#handedOut.has(update.update_id)) return;
    this.#handedOut.add(update.update_id);
    if (this.#handedOut.size > RECENT_IDS) this.#handedOut.delete(this.#handedOut.values().next().value!);
    if (this.#pending >= MAX_IN_FLIGHT) {
      this.#waiting.push(update);
      return;
    }
    this.#run(update, this.#handle);
  }

  #run(update: Update, handle: UpdateHandler): void {
    this.#pending++;
    void handle(update)
      .then(
        async (done) => {
          if (!done) return;
          await this.#storage.markDone(update.update_id, Date.now()).catch((err: unknown) => this.#onError(err, "marking an update done"));
        },
        (err: unknown) => this.#onError(err, "handling an update"),
      )
      .finally(() => {
        this.#pending--;
        const next = this.#waiting.shift();
        if (next && !this.#stopped) this.#run(next, handle);
        else if (this.#pending === 0) this.#onSettled?.();
      });
  }

  async stop(): Promise<void> {
    await this.#starting;
    this.#stopped = true;
  }

  stats(): Promise<QueueStats> {
    return this.#storage.stats(Date.now());
  }

  ping(): Promise<void> {
    return this.#storage.ping();
  }

  async close(): Promise<void> {
    this.#stopped = true;
    // The last done marks are written before the storage closes; a handler stuck past the shutdown is not awaited.
    if (this.#pending > 0) {
      await Promise.race([new Promise<void>((r) => (this.#onSettled = r)), new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref())]);
    }
    await this.#storage.close();
  }
}
