/**
 * Shared state in Redis: counters are hashes incremented with HINCRBYFLOAT (atomic in the server), exclusive
 * sections hold a lock key per key (SET NX PX, released by a script only by its owner, lapsing on its own if the
 * process dies), and scripts run by EVALSHA (loaded on first NOSCRIPT).
 */
import { createHash, randomUUID } from "node:crypto";
import type { RedisClientType } from "@keyv/redis";
import { LocalExclusive, toNumber, type Counters, type SharedState } from "./shared-state.js";

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the client createClient() makes without modules
type RedisClient = RedisClientType<{}, {}, {}, 2, {}>;

/** A Lua script and its SHA1 (what EVALSHA names it by). */
export interface LuaScript {
  source: string;
  sha: string;
}

export function luaScript(source: string): LuaScript {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

const RELEASE = luaScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`);

/** KEYS: the window (a sorted set of times). ARGV: now, window ms, max, a unique member. Returns {1, 0} or {0, wait}. */
const TAKE_IN_WINDOW = luaScript(`local now, windowMs, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - windowMs)
-- Every place counts, also one taken with a slightly later clock by another instance a moment ago.
local n = redis.call('ZCARD', KEYS[1])
if n >= max then
  local e = redis.call('ZRANGE', KEYS[1], n - max, n - max, 'WITHSCORES')
  return {0, math.max(1, tonumber(e[2]) + windowMs - now)}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], windowMs + 60000)
return {1, 0}`);

/** How long a lock lasts if its holder never releases it (a crash): far longer than any section. */
const LOCK_TTL_MS = 15_000;

export class RedisSharedState implements SharedState {
  readonly #local = new LocalExclusive();
  readonly #prefix: string;

  constructor(
    private readonly client: RedisClient,
    namespace: string,
  ) {
    this.#prefix = `${namespace}:shared:`;
  }

  /** Runs a script by EVALSHA; the first NOSCRIPT (a new or flushed server) loads it. */
  async runScript(script: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> {
    const options = { keys, arguments: args.map(String) };
    try {
      return await this.client.evalSha(script.sha, options);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      await this.client.scriptLoad(script.source);
      return await this.client.evalSha(script.sha, options);
    }
  }

  /** The full Redis key of a shared-state key (scripts get their keys from callers). */
  key(key: string): string {
    return this.#prefix + key;
  }

  async addCounters(key: string, delta: Counters, ttlMs?: number): Promise<void> {
    const k = this.key(key);
    const multi = this.client.multi();
    for (const [field, n] of Object.entries(delta)) multi.hIncrByFloat(k, field, n);
    if (ttlMs !== undefined) multi.pExpire(k, Math.ceil(ttlMs));
    await multi.exec();
  }

  async counters(key: string): Promise<Counters> {
    const stored = await this.client.hGetAll(this.key(key));
    const out: Counters = {};
    for (const [field, value] of Object.entries(stored)) out[field] = toNumber(value);
    return out;
  }

  async takeInWindow(key: string, nowMs: number, windowMs: number, max: number): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> {
    const reply = (await this.runScript(TAKE_IN_WINDOW, [this.key(key)], [nowMs, windowMs, max, randomUUID()])) as [number, number];
    return Number(reply[0]) === 1 ? { ok: true } : { ok: false, retryAfterMs: Number(reply[1]) };
  }

  exclusive<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    return this.#local.run(sorted, async () => {
      const token = randomUUID();
      const held: string[] = [];
      try {
        for (const key of sorted) {
          const lock = this.key(`lock:${key}`);
          for (let attempt = 0; ; attempt++) {
            const ok = await this.client.set(lock, token, { condition: "NX", expiration: { type: "PX", value: LOCK_TTL_MS } });
            if (ok !== null) break;
            // Another instance holds it: sections are short, so poll soon, a little later each time.
            await new Promise((r) => setTimeout(r, Math.min(2 + attempt, 20) + Math.random() * 3));
          }
          held.push(lock);
        }
        return await fn();
      } finally {
        await Promise.all(held.map((lock) => this.runScript(RELEASE, [lock], [token]).catch(() => undefined)));
      }
    });
  }
}
