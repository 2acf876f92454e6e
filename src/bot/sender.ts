import type { BotContext } from "./context.js";
import type { Sender } from "../storage/usage.js";

/**
 * Who sent this update, as rate limits, budgets, /usage and per-member histories count them. Anonymous group admins
 * (from GroupAnonymousBot, sender_chat = the group) and people posting as a channel (from Channel_Bot, sender_chat =
 * the channel) share one Telegram user across every group: they are the chat they write as. A button press comes
 * from its user (the pressed message's sender_chat is not the presser's).
 */
export function senderOf(ctx: BotContext): Sender | undefined {
  const senderChat = (ctx.message ?? ctx.editedMessage)?.sender_chat;
  if (senderChat) return { senderChatId: senderChat.id };
  return ctx.from ? { userId: ctx.from.id } : undefined;
}

/** The sender as one number: a user's id, or the (negative) id of the chat they write as. */
export function senderIdOf(ctx: BotContext): number | undefined {
  const sender = senderOf(ctx);
  if (!sender) return undefined;
  return "userId" in sender ? sender.userId : sender.senderChatId;
}
