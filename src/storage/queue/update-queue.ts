/**
 * The durable update queue: every update Telegram delivers is stored here before Telegram is told it arrived (the
 * next getUpdates offset, or the webhook's 200), and marked done only when its handling has ended. A process killed
 * at any moment therefore loses no update, and a restart (or, with Redis, another instance) handles what was left
 * unfinished; update ids seen within the last day are dropped, so nothing is answered twice.
 *
 * One implementation per backend, beside the store it shares (queue/sqlite.ts, queue/redis.ts, queue/memory.ts).
 */
import type { Update } from "grammy/types";

/** Handles one update; resolves true when it is done for good, false when it was cut short and must run again. */
export type UpdateHandler = (update: Update) => Promise<boolean>;

/** How much is waiting, for /metrics. */
export interface QueueStats {
  /** Updates stored and not yet done (waiting or being handled). */
  depth: number;
  /** How long the oldest of them has been waiting (ms; 0 when none). */
  oldestAgeMs: number;
}

export interface UpdateQueue {
  /** Which backend keeps the queue. */
  readonly kind: "sqlite" | "redis" | "postgres" | "memory";
  /**
   * Stores updates durably; resolves once they are safe (the caller may then confirm them to Telegram). Updates seen
   * within the last day are dropped. Rejects when the store cannot be reached: the caller keeps them and retries.
   */
  add(updates: readonly Update[]): Promise<void>;
  /** Starts handing stored updates to `handle`: those left unfinished before come first, in order. */
  start(handle: UpdateHandler): void;
  /**
   * Stops handing out updates. Updates already handed out finish (or not) on their own; those not done stay in the
   * queue for a restart or another instance, to which they are handed back on close().
   */
  stop(): Promise<void>;
  /** Depth and age of the queue. */
  stats(): Promise<QueueStats>;
  /** One round trip to the queue's storage (readiness). */
  ping(): Promise<void>;
  /** Releases the queue's connections (and, with Redis, its chats: another instance takes them over at once). */
  close(): Promise<void>;
}

/** How long ids of done updates are remembered, so a redelivery is not answered again (ms). */
export const DONE_TTL_MS = 24 * 60 * 60 * 1000;

/** Updates handled at once by one process (as grammY's runner allowed); more wait in the queue, in order. */
export const MAX_IN_FLIGHT = 500;

/** An update handed out this many times without being done (it crashed the process each time) is given up. */
export const MAX_ATTEMPTS = 5;

/**
 * The key whose updates must be handled in order: the chat (as grammY's ctx.chat), else the sender (inline queries),
 * else none. The Bot API test server orders its webhook deliveries by the same rule.
 */
export function orderKeyOf(update: Update): string {
  for (const [key, value] of Object.entries(update)) {
    if (key === "update_id" || typeof value !== "object" || value === null) continue;
    const v = value as { chat?: { id?: number }; message?: { chat?: { id?: number } }; from?: { id?: number } };
    if (v.chat?.id !== undefined) return `chat:${String(v.chat.id)}`;
    if (v.message?.chat?.id !== undefined) return `chat:${String(v.message.chat.id)}`;
    if (v.from?.id !== undefined) return `user:${String(v.from.id)}`;
  }
  return "none";
}

/** The partition (0 ≤ p < count) an order key belongs to: FNV-1a, stable across processes and versions. */
export function partitionOf(orderKey: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < orderKey.length; i++) {
    hash ^= orderKey.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % count;
}

/** Whether a value looks like an update (a webhook body, a stored row). */
export function isUpdate(value: unknown): value is Update {
  return typeof value === "object" && value !== null && Number.isSafeInteger((value as { update_id?: unknown }).update_id);
}
