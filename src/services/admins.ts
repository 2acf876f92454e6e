/**
 * Whether a member is an administrator of a group, from Telegram's getChatMember, cached briefly. Who may configure
 * a chat (owners, a private chat's user, anonymous admins) is decided in bot/chat-admin.ts on top of this.
 */
import type { Api } from "grammy";

export interface AdminCacheOptions {
  /** How long an answer from Telegram is trusted; 0 asks every time. */
  ttlMs: number;
  now?: () => Date;
  /** Past this many entries, expired ones are dropped (bounds memory in busy bots). */
  maxEntries?: number;
}

/**
 * Admin status per chat and user from getChatMember, cached briefly. The cache is per process on purpose: it is
 * short-lived, a miss only costs one Bot API call, and a demoted admin loses their rights within the TTL everywhere.
 */
export class AdminCache {
  readonly #entries = new Map<string, { admin: boolean; until: number }>();
  /** Concurrent checks of the same member share one getChatMember call. */
  readonly #pending = new Map<string, Promise<boolean>>();
  readonly #ttlMs: number;
  readonly #now: () => Date;
  readonly #maxEntries: number;

  constructor(opts: AdminCacheOptions) {
    this.#ttlMs = opts.ttlMs;
    this.#now = opts.now ?? (() => new Date());
    this.#maxEntries = opts.maxEntries ?? 10_000;
  }

  async isAdmin(api: Pick<Api, "getChatMember">, chatId: number, userId: number): Promise<boolean> {
    const key = `${chatId}:${userId}`;
    const hit = this.#entries.get(key);
    if (hit && hit.until > this.#now().getTime()) return hit.admin;
    const pending = this.#pending.get(key);
    if (pending) return pending;
    const lookup = (async () => {
      try {
        const member = await api.getChatMember(chatId, userId);
        const admin = member.status === "creator" || member.status === "administrator";
        if (this.#ttlMs > 0) {
          this.#prune();
          this.#entries.set(key, { admin, until: this.#now().getTime() + this.#ttlMs });
        }
        return admin;
      } finally {
        this.#pending.delete(key);
      }
    })();
    this.#pending.set(key, lookup);
    return lookup;
  }

  #prune(): void {
    if (this.#entries.size < this.#maxEntries) return;
    const now = this.#now().getTime();
    for (const [key, entry] of this.#entries) if (entry.until <= now) this.#entries.delete(key);
    // Still full of live entries: drop the oldest insertions rather than grow without bound.
    for (const key of this.#entries.keys()) {
      if (this.#entries.size < this.#maxEntries) break;
      this.#entries.delete(key);
    }
  }
}
