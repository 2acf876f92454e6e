import Keyv from "keyv";
import { RedisSharedState } from "../shared/redis.js";
import { createRedisClient } from "./redis-client.js";
import { StoreConnectionError, describeFailure, onceClose, watchErrors, withTimeout, type OpenStoreOptions, type Store } from "./backend.js";

/** redis:// and rediss://: fails fast at start-up, reconnects (capped back-off) once it has been up. */
export async function openRedis(url: string, displayUrl: string, namespace: string, opts: OpenStoreOptions): Promise<Store> {
  const { default: KeyvRedis } = await import("@keyv/redis");
  const connectTimeout = opts.connectTimeoutMs ?? 5_000;
  const client = await createRedisClient(url, { connectTimeoutMs: connectTimeout, maxBackoffMs: 3_000 });
  try {
    await withTimeout(client.connect(), connectTimeout + 1_000, "connect");
    await client.ping();
  } catch (error) {
    if (client.isOpen) client.destroy();
    throw new StoreConnectionError(`cannot reach redis at ${displayUrl}: ${describeFailure(error)}`, { cause: error });
  }
  const adapter = new KeyvRedis(client, { namespace, throwOnErrors: true, throwOnConnectError: true });
  // Same layout as @keyv/redis createKeyv(): the adapter prefixes "namespace::key" itself.
  const keyv = new Keyv({ store: adapter, namespace, useKeyPrefix: false, throwOnErrors: true });
  watchErrors(keyv, opts.onError).opened();
  const close = async () => {
    if (!client.isOpen) return;
    try {
      // Graceful close waits for in-flight replies; if Redis is down it may never come.
      await withTimeout(adapter.disconnect(), 2_000, "redis close");
    } catch {
      if (client.isOpen) client.destroy();
    }
  };
  const shared = new RedisSharedState(client, namespace);
  return { keyv, kind: "redis", displayUrl, shared, scripts: shared, close: onceClose(close) };
}
