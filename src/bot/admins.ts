/**
 * Who may configure a chat: in groups its creator and administrators (anonymous admins included), in a private chat
 * the user, and the bot's owners everywhere.
 */
import type { Api } from "grammy";
import type { BotContext } from "./context.js";

/** Telegram's stand-in `from` for messages an anonymous admin sends as the group (sender_chat is the group). */
export const GROUP_ANONYMOUS_BOT_ID = 1087968824;

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

export function isOwner(ctx: BotContext): boolean {
  const id = ctx.from?.id;
  return id !== undefined && ctx.deps.config.access.ownerIds.includes(id);
}

/**
 * Whether the sender of this update may configure its chat. Telegram errors (the bot was removed, the user is
 * unknown) count as "no": the worst case is a refusal, never a change by a non-admin.
 */
export async function isChatAdmin(ctx: BotContext): Promise<boolean> {
  const chat = ctx.chat;
  if (!chat) return false;
  if (isOwner(ctx)) return true;
  // A private chat has one user, who is their own admin.
  if (chat.type === "private") return true;
  // An anonymous admin writes as the group itself. Only a message's own sender_chat counts (a callback query's
  // message is the bot's), and a linked channel's posts (sender_chat = the channel) do not.
  if (ctx.message?.sender_chat?.id === chat.id) return true;
  const from = ctx.from;
  if (!from || from.is_bot) return false;
  try {
    return await ctx.deps.access.admins.isAdmin(ctx.api, chat.id, from.id);
  } catch (err) {
    ctx.log.warn({ err, chatId: chat.id, userId: from.id }, "admin check failed");
    return false;
  }
}
