/**
 * Messages the Bot API test server cannot make yet, queued as raw updates (`pushUpdate`): people posting in a group
 * as a channel, and a linked channel's automatic forwards. The server has no channel chats, so the message is not
 * stored there; the bot's reply quotes it with allow_sending_without_reply and lands in the group all the same.
 */
import type { Message } from "grammy/types";
import { autoEntities, type FakeUser } from "../servers/bot-api.js";
import type { Harness } from "./harness.js";

/** The user Telegram puts in `from` of messages sent on behalf of a channel (sender_chat is then the channel). */
export const CHANNEL_BOT: FakeUser = { id: 136817688, is_bot: true, first_name: "Channel", username: "Channel_Bot" };
/** The user Telegram puts in `from` of a linked channel's automatic forwards into its discussion group. */
export const TELEGRAM_SERVICE: FakeUser = { id: 777000, is_bot: false, first_name: "Telegram" };

export interface FakeChannel {
  id: number;
  title: string;
}

let nextMessageId = 900_000;
let nextChannelId = -1_009_000_000_000 - Math.floor(Math.random() * 1e9);

/** A new channel (id and title) to post as. */
export function newChannel(title = "Some channel"): FakeChannel {
  return { id: nextChannelId--, title };
}

export interface ChannelPost {
  /** The group the message is posted in (registered with the test server). */
  chat: number;
  channel: FakeChannel;
  text: string;
  /** A linked channel's post copied into its discussion group (from Telegram, is_automatic_forward). */
  automaticForward?: boolean;
  threadId?: number;
}

/** Queues a message sent in a group on behalf of a channel and waits until the bot has handled it. */
export async function sayAsChannel(h: Harness, post: ChannelPost): Promise<Message> {
  const group = h.telegram.chat(post.chat);
  if (!group) throw new Error(`chat ${post.chat} is not registered`);
  const from = post.automaticForward ? TELEGRAM_SERVICE : CHANNEL_BOT;
  const entities = autoEntities(post.text);
  const message = {
    message_id: nextMessageId++,
    date: Math.floor(Date.now() / 1000),
    chat: { id: group.id, type: group.type, title: group.title ?? `Chat ${group.id}`, ...(group.is_forum ? { is_forum: true } : {}) },
    from: { ...from, is_bot: from.is_bot ?? false },
    sender_chat: { id: post.channel.id, type: "channel", title: post.channel.title },
    text: post.text,
    ...(entities.length > 0 ? { entities } : {}),
    ...(post.automaticForward
      ? { is_automatic_forward: true, forward_origin: { type: "channel", date: Math.floor(Date.now() / 1000), chat: { id: post.channel.id, type: "channel", title: post.channel.title }, message_id: 1 } }
      : {}),
    ...(post.threadId !== undefined ? { message_thread_id: post.threadId, ...(group.is_forum ? { is_topic_message: true } : {}) } : {}),
  };
  const target = h.app.handled + 1;
  h.telegram.pushUpdate({ message });
  await h.app.whenHandled(target);
  return message as unknown as Message;
}
