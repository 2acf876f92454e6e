/**
 * Where a reply goes: the chat, its forum topic, and the message it answers. Every message the bot sends for an
 * update (streamed answers, short replies, photos, chat actions) takes its options from here.
 */
import type { ReplyParameters } from "grammy/types";

export interface StreamTarget {
  chatId: number;
  chatType: "private" | "group" | "supergroup" | "channel";
  /** Forum topic (message_thread_id) the answer belongs in. */
  threadId?: number;
  /** The question's message: the first part of the answer replies to it (groups). */
  replyToMessageId?: number;
}

/** The forum topic: for every message, draft and chat action of a reply. */
export function topicOptions(target: StreamTarget): { message_thread_id?: number } {
  return target.threadId ? { message_thread_id: target.threadId } : {};
}

/**
 * The first message of a reply: in its topic and, in groups, quoting the question (many people talk there; a private
 * chat has one, so no quote). The question may have been deleted meanwhile: the reply goes out anyway.
 */
export function firstMessageOptions(target: StreamTarget): { message_thread_id?: number; reply_parameters?: ReplyParameters } {
  return {
    ...topicOptions(target),
    ...(target.chatType !== "private" && target.replyToMessageId ? replyParameters(target.replyToMessageId) : {}),
  };
}

/** A message that answers one of the bot's own (e.g. a note under a photo): in the topic, quoting that message. */
export function replyToOptions(target: StreamTarget, messageId: number): { message_thread_id?: number; reply_parameters: ReplyParameters } {
  return { ...topicOptions(target), ...replyParameters(messageId) };
}

function replyParameters(messageId: number): { reply_parameters: ReplyParameters } {
  return { reply_parameters: { message_id: messageId, allow_sending_without_reply: true } };
}
