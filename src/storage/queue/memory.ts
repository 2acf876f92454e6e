/** memory://: the queue in a Map. Nothing survives the process, like the rest of a memory store; dedup still holds. */
import type { Update } from "grammy/types";
import { LocalQueue, type LocalQueueOptions, type LocalStorage } from "./local.js";
import { DONE_TTL_MS, MAX_ATTEMPTS, type QueueStats } from "./update-queue.js";

interface Row {
  update: Update;
  receivedAt: number;
  doneAt?: number;
  attempts: number;
}

class MemoryStorage implements LocalStorage {
  readonly #rows = new Map<number, Row>();

  insertNew(updates: readonly Update[], receivedAt: number): Promise<Update[]> {
    this.#forgetOld(receivedAt);
    const fresh = updates.filter((u) => !this.#rows.has(u.update_id));
    for (const update of fresh) this.#rows.set(update.update_id, { update, receivedAt, attempts: 0 });
    return Promise.resolve(fresh);
  }

  markDone(updateId: number, doneAt: number): Promise<void> {
    const row = this.#rows.get(updateId);
    if (row) row.doneAt = doneAt;
    return Promise.resolve();
  }

  takeUnfinished(): Promise<Update[]> {
    const rows = [...this.#rows.values()].filter((r) => r.doneAt === undefined).sort((a, b) => a.update.update_id - b.update.update_id);
    for (const r of rows) if (++r.attempts > MAX_ATTEMPTS) r.doneAt = Date.now();
    return Promise.resolve(rows.filter((r) => r.doneAt === undefined).map((r) => r.update));
  }

  stats(now: number): Promise<QueueStats> {
    let depth = 0;
    let oldest = now;
    for (const r of this.#rows.values()) {
      if (r.doneAt !== undefined) continue;
      depth++;
      oldest = Math.min(oldest, r.receivedAt);
    }
    return Promise.resolve({ depth, oldestAgeMs: now - oldest });
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #forgetOld(now: number): void {
    for (const [id, r] of this.#rows) if (r.doneAt !== undefined && r.doneAt < now - DONE_TTL_MS) this.#rows.delete(id);
  }
}

export function openMemoryQueue(opts: LocalQueueOptions = {}): LocalQueue {
  return new LocalQueue("memory", new MemoryStorage(), opts);
}
