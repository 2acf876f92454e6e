import type { BotContext } from "./context.js";
import type { ChatSettings } from "../storage/settings.js";
import { historyKey } from "../storage/history.js";
import type { StreamTarget } from "../telegram/target.js";

/** Where an answer to this update belongs: the chat, its forum topic, and the message it replies to. */
export function targetOf(ctx: BotContext): StreamTarget {
  const chat = ctx.chat!;
  const msg = ctx.msg;
  return {
    chatId: chat.id,
    chatType: chat.type,
    threadId: msg?.is_topic_message ? msg.message_thread_id : undefined,
    replyToMessageId: msg?.message_id,
  };
}

/** The history this update belongs to: the chat (or forum topic), or the member's own in per-user groups. */
export function historyKeyOf(ctx: BotContext, settings: ChatSettings): string {
  const target = targetOf(ctx);
  const perUser = settings.historyMode === "per-user" && target.chatType !== "private";
  return historyKey(target.chatId, target.threadId, perUser ? ctx.from?.id : undefined);
}
