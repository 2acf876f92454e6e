/**
 * Where a reply goes. Usually a chat: its forum topic and the message it answers; every message the bot sends for an
 * update (streamed answers, short replies, photos, chat actions) takes its options from here. In inline mode and guest
 * mode the answer goes into one message known only by its inline_message_id, which the bot may edit and nothing else.
 */
import type { ReplyParameters } from "grammy/types";

/** A chat the bot writes to: drafts or sent messages, edited as the answer grows, split at 4096. */
export interface ChatTarget {
  chatId: number;
  chatType: "private" | "group" | "supergroup" | "channel";
  /** Forum topic (message_thread_id) the answer belongs in. */
  threadId?: number;
  /** The question's message: the first part of the answer replies to it (groups). */
  replyToMessageId?: number;
}

/**
 * A message sent through the bot (an inline result the user chose, or a guest answer): edits only, by
 * inline_message_id. No drafts, no reply parameters, no chat actions, and no second message: an answer longer than one
 * message is cut to fit, with a note.
 */
export interface InlineMessageTarget {
  inlineMessageId: string;
}

/** Where a streamed answer goes. */
export type StreamTarget = ChatTarget | InlineMessageTarget;

export function isInlineTarget(target: StreamTarget): target is InlineMessageTarget {
  return "inlineMessageId" in target;
}

/** The key the pacer keeps an answer's windows under: the chat, or the inline message (paced like a group message). */
export function paceKeyOf(target: StreamTarget): number | string {
  return isInlineTarget(target) ? `inline:${target.inlineMessageId}` : target.chatId;
}

/** The forum topic: for every message, draft and chat action of a reply. */
export function topicOptions(target: ChatTarget): { message_thread_id?: number } {
  return target.threadId ? { message_thread_id: target.threadId } : {};
}

/**
 * The first message of a reply: in its topic and, in groups, quoting the question (many people talk there; a private
 * chat has one, so no quote). The question may have been deleted meanwhile: the reply goes out anyway.
 */
export function firstMessageOptions(target: ChatTarget): { message_thread_id?: number; reply_parameters?: ReplyParameters } {
  return {
    ...topicOptions(target),
    ...(target.chatType !== "private" && target.replyToMessageId ? replyParameters(target.replyToMessageId) : {}),
  };
}

/** A message that answers one of the bot's own (e.g. a note under a photo): in the topic, quoting that message. */
export function replyToOptions(target: ChatTarget, messageId: number): { message_thread_id?: number; reply_parameters: ReplyParameters } {
  return { ...topicOptions(target), ...replyParameters(messageId) };
}

function replyParameters(messageId: number): { reply_parameters: ReplyParameters } {
  return { reply_parameters: { message_id: messageId, allow_sending_without_reply: true } };
}
