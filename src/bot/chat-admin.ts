/**
 * Who may configure a chat: in groups its creator and administrators (anonymous admins included), in a private chat
 * the user, and the bot's owners everywhere.
 */
import type { BotContext } from "./context.js";
import { isOwner as isOwnerId } from "../services/access.js";

/** Whether the sender is one of the bot's owners (BOT_OWNER_IDS). */
export function isOwner(ctx: BotContext): boolean {
  return isOwnerId(ctx.deps.config.access, ctx.from?.id);
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
    return await ctx.deps.admins.isAdmin(ctx.api, chat.id, from.id);
  } catch (err) {
    ctx.log.warn({ err, chatId: chat.id, userId: from.id }, "admin check failed");
    return false;
  }
}
