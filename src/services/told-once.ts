/**
 * "Told once" marks: the bot says some things (you may not use this bot, you are over a limit) once and then stays
 * quiet until the mark expires. Marks live in the store, so they hold across restarts and instances, and they
 * always expire, so the store does not fill up with them.
 */
import type Keyv from "keyv";
import { MemorySharedState, type SharedState } from "../storage/shared/shared-state.js";

export class ToldOnce {
  readonly #keyv: Keyv;
  readonly #now: () => Date;
  readonly #shared: SharedState;

  /** `shared`: the store's (store.shared); without it, marks are exclusive within this process only. */
  constructor(keyv: Keyv, opts: { now?: () => Date; shared?: SharedState } = {}) {
    this.#keyv = keyv;
    this.#shared = opts.shared ?? new MemorySharedState();
    this.#now = opts.now ?? (() => new Date());
  }

  /**
   * True the first time `key` is asked about within `ttlMs`, false afterwards. Check and mark run in the store's
   * exclusive section for the key, so two instances asking at the very same moment say it once between them.
   */
  first(key: string, ttlMs: number): Promise<boolean> {
    return this.#shared.exclusive([key], async () => {
      const now = this.#now().getTime();
      const stored: unknown = await this.#keyv.get(key);
      // What counts is the time in the mark (the injectable clock); a mark of an older version (`true`, no expiry) is
      // still a mark, rewritten below so it expires too.
      const until = typeof stored === "object" && stored !== null ? (stored as { until?: unknown }).until : undefined;
      const told = stored === true || (typeof until === "number" && until > now);
      const ttl = Math.max(1, Math.ceil(ttlMs));
      if (told && stored !== true) return false;
      // The store's own expiry collects the mark; the clock above decides.
      await this.#keyv.set(key, { until: now + ttl }, ttl);
      return !told;
    });
  }
}
