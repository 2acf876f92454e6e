import type { BotContext } from "./context.js";
import type { ChatSettings } from "../storage/settings.js";
import { historyKey } from "../storage/history.js";
import { senderIdOf } from "./sender.js";
import type { ChatTarget, StreamTarget } from "../telegram/target.js";

/** Where an answer to this update belongs: the chat, its forum topic, and the message it replies to. */
export function targetOf(ctx: BotContext): ChatTarget {
  const chat = ctx.chat!;
  const msg = ctx.msg;
  return {
    chatId: chat.id,
    chatType: chat.type,
    threadId: msg?.is_topic_message ? msg.message_thread_id : undefined,
    replyToMessageId: msg?.message_id,
  };
}

/** Whether this update's history is the sender's own in a group (per-member mode), rather than shared. */
export function isPerMemberHistory(ctx: BotContext, settings: ChatSettings): boolean {
  return settings.historyMode === "per-user" && ctx.chat?.type !== "private";
}

/** The history this update belongs to: the chat (or forum topic), or the member's own in per-user groups. */
export function historyKeyOf(ctx: BotContext, settings: ChatSettings): string {
  const target = targetOf(ctx);
  // A chat writing as itself (anonymous admins, a channel) is one member, keyed by its own (negative) id.
  return historyKey(target.chatId, target.threadId, isPerMemberHistory(ctx, settings) ? senderIdOf(ctx) : undefined);
}

/** Where this update's answer goes: the inline message of inline or guest mode when there is one, else the chat. */
export function answerTargetOf(ctx: BotContext): StreamTarget {
  return ctx.inlineMessage ?? targetOf(ctx);
}
