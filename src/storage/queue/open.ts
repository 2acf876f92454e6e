/** Opens the update queue beside the store STORE_URL names (the same SQLite file, the same Redis). */
import type { StoreLocation } from "../store-url.js";
import { openMemoryQueue } from "./memory.js";
import type { UpdateQueue } from "./update-queue.js";

export interface OpenQueueOptions {
  /** Key prefix in Redis (the store's namespace and the bot's id). */
  prefix: string;
  onError?: (err: unknown, what: string) => void;
  /** Redis: partitions gained and lost. */
  onRebalance?: (held: number[]) => void;
  /** Redis: how long a dead instance's lease lasts (ms). */
  leaseMs?: number;
}

export async function openUpdateQueue(location: StoreLocation, opts: OpenQueueOptions): Promise<UpdateQueue> {
  switch (location.kind) {
    case "memory":
      return openMemoryQueue(opts);
    case "sqlite": {
      const { openSqliteQueue } = await import("./sqlite.js");
      return openSqliteQueue(location.file, opts);
    }
    case "redis": {
      const { RedisQueue } = await import("./redis.js");
      return RedisQueue.open(location.url, opts);
    }
    case "postgres": {
      const { openPostgresQueue } = await import("./postgres.js");
      return openPostgresQueue(location.url, opts);
    }
  }
}
