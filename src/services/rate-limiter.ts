/**
 * The per-user rate limit on model calls (RATE_LIMIT_MAX_CALLS in any RATE_LIMIT_WINDOW_SECONDS). State lives in
 * keyv so every instance of the bot sees the same counts.
 */
import type Keyv from "keyv";
import type { Sender } from "../storage/usage.js";
import { KeyedQueue } from "../util/keyed-queue.js";

export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

export interface RateLimiterOptions {
  windowMs: number;
  /** Calls allowed in any window; 0 switches the limit off. */
  maxCalls: number;
  now?: () => Date;
}

/**
 * A sliding window per sender (a user, or a chat writing as itself): at most `maxCalls` in any `windowMs`. The value is the list of call times inside the
 * window, so "try again in N s" is exact. keyv has no atomic update: updates are serialised per key inside this
 * process; two instances taking a slot for the same user at the same instant can each admit one call (a bounded
 * overshoot of one call per extra instance).
 */
export class RateLimiter {
  readonly #keyv: Keyv;
  readonly #windowMs: number;
  readonly #maxCalls: number;
  readonly #now: () => Date;
  readonly #queue = new KeyedQueue();

  constructor(keyv: Keyv, opts: RateLimiterOptions) {
    this.#keyv = keyv;
    this.#windowMs = opts.windowMs;
    this.#maxCalls = opts.maxCalls;
    this.#now = opts.now ?? (() => new Date());
  }

  get enabled(): boolean {
    return this.#maxCalls > 0;
  }

  /** Takes one call for the sender if their window has room; otherwise says how long until it has. */
  take(sender: Sender): Promise<RateDecision> {
    if (!this.enabled) return Promise.resolve({ ok: true });
    const key = "userId" in sender ? `ratelimit:u:${sender.userId}` : `ratelimit:s:${sender.senderChatId}`;
    return this.#queue.run(key, async (): Promise<RateDecision> => {
      const now = this.#now().getTime();
      const stored: unknown = await this.#keyv.get(key);
      const times = (Array.isArray(stored) ? stored : [])
        .filter((t): t is number => typeof t === "number" && t > now - this.#windowMs && t <= now)
        .sort((a, b) => a - b);
      if (times.length >= this.#maxCalls) {
        // The call that frees a slot is the one `maxCalls` back from the end.
        const freeing = times[times.length - this.#maxCalls]!;
        return { ok: false, retryAfterMs: Math.max(1, freeing + this.#windowMs - now) };
      }
      times.push(now);
      // The TTL only collects garbage; what counts is the times themselves (compared with the injectable clock).
      await this.#keyv.set(key, times.slice(-this.#maxCalls), this.#windowMs + 60_000);
      return { ok: true };
    });
  }
}
