/** Opens the vector store beside the history: the backend STORE_URL names (see vector-store.ts for each). */
import type { StoreLocation } from "../store-url.js";
import { MemoryVectorStore } from "./memory.js";
import { PostgresVectorStore } from "./postgres.js";
import { RedisVectorStore } from "./redis.js";
import { SqliteVectorStore } from "./sqlite.js";
import type { VectorStore } from "./vector-store.js";

export type { VectorChunk, VectorHit, VectorStore, VectorStoreKind } from "./vector-store.js";

export interface OpenVectorStoreOptions {
  /** The keyv namespace of the history store (default "keyv"). */
  namespace?: string;
  now?: () => number;
  /** Errors after opening (a lost connection); also why sqlite-vec could not load, if it could not. */
  onError?: (err: Error) => void;
}

export async function openVectorStore(location: StoreLocation, opts: OpenVectorStoreOptions = {}): Promise<VectorStore> {
  const common = { namespace: opts.namespace ?? "keyv", ...(opts.now ? { now: opts.now } : {}) };
  switch (location.kind) {
    case "memory":
      return new MemoryVectorStore(common);
    case "sqlite":
      return SqliteVectorStore.open(location.file, { ...common, ...(opts.onError ? { onExtensionError: opts.onError } : {}) });
    case "redis":
      return RedisVectorStore.open(location.url, { ...common, ...(opts.onError ? { onError: opts.onError } : {}) });
    case "postgres":
      return PostgresVectorStore.open(location.url, { ...common, ...(opts.onError ? { onError: opts.onError } : {}) });
  }
}
