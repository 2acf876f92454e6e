import Keyv from "keyv";
import { RedisSharedState } from "../shared/redis.js";
import { StoreConnectionError, describeFailure, onceClose, watchErrors, withTimeout, type OpenStoreOptions, type Store } from "./backend.js";

/** redis:// and rediss://: fails fast at start-up, reconnects (capped back-off) once it has been up. */
export async function openRedis(url: string, displayUrl: string, namespace: string, opts: OpenStoreOptions): Promise<Store> {
  const { default: KeyvRedis, createClient } = await import("@keyv/redis");
  const connectTimeout = opts.connectTimeoutMs ?? 5_000;
  let everReady = false;
  const client = createClient({
    url,
    socket: {
      connectTimeout,
      // Before the first successful connection a failure is final, so start-up fails fast. After
      // it, keep reconnecting with a capped backoff: Redis restarts must not need a bot restart.
      reconnectStrategy: (retries: number, cause: Error) =>
        everReady ? Math.min(100 * 2 ** Math.min(retries, 5), 3_000) + Math.floor(Math.random() * 100) : cause,
    },
    // Commands issued while disconnected wait in the offline queue at most this long, so a handler
    // gets an error instead of hanging for the whole outage.
    commandOptions: { timeout: Math.max(connectTimeout, 5_000) },
  });
  // node-redis throws from an 'error' event nobody listens to. KeyvRedis adds its own listener
  // (forwarded to keyv and onError); this one covers the window before that and after close.
  client.on("error", () => {});
  client.on("ready", () => {
    everReady = true;
  });
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
