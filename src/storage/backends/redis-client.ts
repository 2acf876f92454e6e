/**
 * The one way the bot connects to Redis (the store and the update queue): a failure before the first connection is
 * final, so start-up fails fast; after it, reconnect with a capped, jittered back-off, so a Redis restart never needs
 * a bot restart; and a command issued while disconnected waits at most a few seconds, so a handler gets an error
 * instead of hanging for the whole outage.
 */
import type { RedisClientType } from "@keyv/redis";

/** A node-redis client without modules, RESP2, as @keyv/redis creates it. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- node-redis spells "no modules" as {}
export type RedisClient = RedisClientType<{}, {}, {}, 2>;

export interface RedisClientOptions {
  connectTimeoutMs: number;
  /** The longest pause between reconnection attempts (plus up to 100 ms of jitter). */
  maxBackoffMs: number;
}

/** A client, not yet connected, with its 'error' events handled (node-redis throws from one nobody listens to). */
export async function createRedisClient(url: string, { connectTimeoutMs, maxBackoffMs }: RedisClientOptions): Promise<RedisClient> {
  const { createClient } = await import("@keyv/redis");
  let everReady = false;
  const client = createClient({
    url,
    socket: {
      connectTimeout: connectTimeoutMs,
      reconnectStrategy: (retries: number, cause: Error) =>
        everReady ? Math.min(100 * 2 ** Math.min(retries, 5), maxBackoffMs) + Math.floor(Math.random() * 100) : cause,
    },
    commandOptions: { timeout: Math.max(connectTimeoutMs, 5_000) },
  });
  // Users of the client (KeyvRedis, the queue) report failures through their own paths; this one covers the rest.
  client.on("error", () => {});
  client.on("ready", () => {
    everReady = true;
  });
  return client;
}
