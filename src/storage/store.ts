/**
 * The one keyv store the bot keeps everything in, chosen by STORE_URL (see store-url.ts for the forms),
 * one file per backend in backends/.
 *
 * openStore() does one round trip before it returns, so a wrong URL or an unreachable server fails
 * start-up with one clear line instead of at the first message. URLs in errors have their
 * credentials and query string removed.
 *
 * Every Keyv is created with throwOnErrors: a storage failure rejects the call that hit it. Keyv's
 * default would be to emit the error and answer `undefined`, and a history read that silently
 * answers "empty" would be written back and erase the chat's memory.
 */
import { openMemory } from "./backends/memory.js";
import { openPostgres } from "./backends/postgres.js";
import { openRedis } from "./backends/redis.js";
import { openSqlite } from "./backends/sqlite.js";
import type { OpenStoreOptions, Store } from "./backends/backend.js";
import { displayStoreUrl, parseStoreUrl, type StoreLocation } from "./store-url.js";

export { StoreConnectionError, type OpenStoreOptions, type Store, type StoreKind } from "./backends/backend.js";
export { StoreConfigError, parseStoreUrl, redactStoreUrl, type StoreLocation } from "./store-url.js";

/** Opens the store at a parsed STORE_URL (or a URL string, parsed here with the same parser). */
export async function openStore(location: StoreLocation | string, opts: OpenStoreOptions = {}): Promise<Store> {
  const parsed = typeof location === "string" ? parseStoreUrl(location) : location;
  const namespace = opts.namespace ?? (parsed.kind === "redis" ? parsed.prefix : undefined) ?? "keyv";
  const displayUrl = displayStoreUrl(parsed);
  switch (parsed.kind) {
    case "memory":
      return openMemory(namespace, opts);
    case "sqlite":
      return openSqlite(parsed.file, displayUrl, namespace, opts);
    case "redis":
      return openRedis(parsed.url, displayUrl, namespace, opts);
    case "postgres":
      return openPostgres(parsed.url, displayUrl, namespace, opts);
  }
}
