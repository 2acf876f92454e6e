/**
 * Who may use the bot at all (ALLOWED_USER_IDS, ALLOWED_CHAT_IDS, BOT_OWNER_IDS). Everyone else gets one polite line,
 * once, and nothing is spent on them: this middleware stops their updates before any feature sees them.
 */
import type Keyv from "keyv";
import type { MiddlewareFn } from "grammy";
import type { MessageEntity } from "grammy/types";
import type { Config } from "../config.js";
import type { BotContext } from "./context.js";
import { AdminCache } from "./admins.js";
import { RateLimiter } from "./limits.js";
import { addressedQuestion } from "./addressing.js";
import { replyMarkdown } from "./reply.js";

/** The shared state of access control: the admin cache, the rate limiter, "told once" marks, and the clock. */
export class AccessControl {
  readonly admins: AdminCache;
  readonly rateLimiter: RateLimiter;
  readonly now: () => Date;
  readonly #keyv: Keyv;

  constructor(keyv: Keyv, config: Config, opts: { now?: () => Date } = {}) {
    this.#keyv = keyv;
    this.now = opts.now ?? (() => new Date());
    this.admins = new AdminCache({ ttlMs: config.adminCacheMs, now: this.now });
    this.rateLimiter = new RateLimiter(keyv, { ...config.rateLimit, now: this.now });
  }

  /**
   * True the first time a refused sender is seen in a chat, false afterwards. Kept in keyv (no expiry) so the line
   * is said once across restarts and instances. Two instances seeing the very first message at the same moment
   * could both say it; updates of one bot go to one instance, so in practice they do not.
   */
  async firstRefusal(chatId: number, userId: number | undefined): Promise<boolean> {
    const key = `access:told:${chatId}:${userId ?? "chat"}`;
    if (await this.#keyv.get(key)) return false;
    await this.#keyv.set(key, true);
    return true;
  }
}

/**
 * Whether a sender in a chat may use the bot. Owners always may. With both lists empty, everyone may. Otherwise a
 * user in ALLOWED_USER_IDS may (in any chat), and so may everyone in a chat of ALLOWED_CHAT_IDS; a private chat's
 * id is its user's id, so either list can admit a private chat.
 */
export function isAllowed(access: Config["access"], userId: number | undefined, chatId: number | undefined): boolean {
  if (userId !== undefined && access.ownerIds.includes(userId)) return true;
  if (access.allowedUserIds.length === 0 && access.allowedChatIds.length === 0) return true;
  if (userId !== undefined && access.allowedUserIds.includes(userId)) return true;
  return chatId !== undefined && access.allowedChatIds.includes(chatId);
}

/** A message meant for the bot: anything in a private chat; in groups a command for it, a mention or a reply. */
function isAddressed(ctx: BotContext): boolean {
  const msg = ctx.message;
  if (!msg || !ctx.chat) return false;
  if (ctx.chat.type === "private") return true;
  if (isCommandForMe(msg.text ?? msg.caption, msg.entities ?? msg.caption_entities, ctx.me.username)) return true;
  return addressedQuestion(ctx) !== undefined;
}

function isCommandForMe(text: string | undefined, entities: MessageEntity[] | undefined, username: string): boolean {
  const command = entities?.find((e) => e.type === "bot_command" && e.offset === 0);
  if (!command || text === undefined) return false;
  const at = text.slice(0, command.length).split("@")[1];
  return at === undefined || at.toLowerCase() === username.toLowerCase();
}

export const accessMiddleware: MiddlewareFn<BotContext> = async (ctx, next) => {
  const userId = ctx.from?.id;
  const chatId = ctx.chat?.id;
  if (isAllowed(ctx.deps.config.access, userId, chatId)) return next();

  if (ctx.callbackQuery) {
    await ctx.answerCallbackQuery({ text: ctx.t("access-denied"), show_alert: true }).catch(() => undefined);
    return;
  }
  // Only a message meant for the bot gets the line: with privacy mode off the bot sees all group chatter.
  if (chatId === undefined || !isAddressed(ctx)) return;
  if (!(await ctx.deps.access.firstRefusal(chatId, userId))) {
    ctx.log.debug({ userId, chatId }, "not allowed (already told)");
    return;
  }
  ctx.log.info({ userId, chatId }, "not allowed: told once");
  await replyMarkdown(ctx, ctx.t("access-denied"));
};
