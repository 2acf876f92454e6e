/**
 * The per-user rate limit on model calls (RATE_LIMIT_MAX_CALLS in any RATE_LIMIT_WINDOW_SECONDS). State lives in
 * keyv so every instance of the bot sees the same counts, and each take runs in the store's exclusive section for
 * its key (store.shared), so instances taking slots for one sender at the same instant never overshoot.
 */
import type Keyv from "keyv";
import type { Sender } from "../storage/usage.js";
import { MemorySharedState, type SharedState } from "../storage/shared/shared-state.js";

export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

export interface RateLimiterOptions {
  windowMs: number;
  /** Calls allowed in any window; 0 switches the limit off. */
  maxCalls: number;
  now?: () => Date;
  /** The store's shared state (store.shared); without it, takes are exclusive within this process only. */
  shared?: SharedState;
}

/**
 * A sliding window per sender (a user, or a chat writing as itself): at most `maxCalls` in any `windowMs`. The value is the list of call times inside the
 * window, so "try again in N s" is exact. With Redis the window is a sorted set decided by one script; elsewhere the
 * list of times is a keyv value whose read-modify-write runs in an exclusive section of the store for that key.
 */
export class RateLimiter {
  readonly #keyv: Keyv;
  readonly #windowMs: number;
  readonly #maxCalls: number;
  readonly #now: () => Date;
  readonly #shared: SharedState;

  constructor(keyv: Keyv, opts: RateLimiterOptions) {
    this.#keyv = keyv;
    this.#windowMs = opts.windowMs;
    this.#maxCalls = opts.maxCalls;
    this.#now = opts.now ?? (() => new Date());
    this.#shared = opts.shared ?? new MemorySharedState();
  }

  get enabled(): boolean {
    return this.#maxCalls > 0;
  }

  /** Takes one call for the sender if their window has room; otherwise says how long until it has. */
  take(sender: Sender): Promise<RateDecision> {
    if (!this.enabled) return Promise.resolve({ ok: true });
    const key = "userId" in sender ? `ratelimit:u:${sender.userId}` : `ratelimit:s:${sender.senderChatId}`;
    // Redis decides in one script (one round trip); other stores read and write the list in an exclusive section.
    if (this.#shared.takeInWindow) return this.#shared.takeInWindow(key, this.#now().getTime(), this.#windowMs, this.#maxCalls);
    return this.#shared.exclusive([key], async (): Promise<RateDecision> => {
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
