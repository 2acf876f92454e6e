// Channels and their discussion groups. A channel post has no `from` and the channel as sender_chat; the bot gets
// `channel_post` updates only as an administrator of the channel (bots post in channels only as one). When the
// channel has a linked discussion group, Telegram copies every post (the bot's own too) into the group as an
// automatic forward: from "Telegram" (777000), sender_chat the channel, is_automatic_forward, forward_origin of type
// "channel"; comments on the post are replies to that copy, in its thread.
import type { Message } from "grammy/types";
import { TELEGRAM_SERVICE_USER, type Chats, type ChatState } from "./chats.js";
import { autoEntities } from "./entities.js";
import type { Messages } from "./messages.js";
import type { FakeChat, StoredMessage } from "./types.js";
import type { UpdateQueue } from "./updates.js";
import { botReceives } from "./user-actions.js";

export class Channels {
  constructor(
    private readonly chats: Chats,
    private readonly messages: Messages,
    private readonly updates: UpdateQueue,
  ) {}

  /**
   * An admin of the channel posts in it: stores the post, queues channel_post (when the bot is an administrator) and
   * copies it into the linked discussion group. Returns the post and its automatic forward.
   */
  post(opts: { channel: FakeChat | number; text?: string; caption?: string; author_signature?: string }): { post: Message; forward?: Message } {
    const state = typeof opts.channel === "number" ? this.chats.requireState(opts.channel) : this.chats.requireState(this.chats.addChat(opts.channel).id);
    if (state.chat.type !== "channel") throw new Error(`channelPost: chat ${state.chat.id} is not a channel`);
    if (opts.text === undefined && opts.caption === undefined) throw new Error("channelPost needs text");
    const msg = this.messages.create(state, TELEGRAM_SERVICE_USER);
    if (opts.text !== undefined) {
      msg.text = opts.text;
      const entities = autoEntities(opts.text);
      if (entities.length > 0) msg.entities = entities;
    }
    const post = this.messages.toApi(msg);
    if (opts.author_signature !== undefined) post.author_signature = opts.author_signature;
    if (botReceives(this.chats, state)) this.updates.push({ channel_post: post });
    const forward = this.forward(state, msg);
    return { post: post as unknown as Message, forward };
  }

  /** After the bot posted in a channel: the copy in the discussion group. */
  botPosted(msg: StoredMessage): void {
    const state = this.chats.state(msg.chat_id);
    if (state?.chat.type === "channel") this.forward(state, msg);
  }

  /** Copies a channel post into the channel's discussion group as an automatic forward, queued as a `message`. */
  private forward(channel: ChatState, post: StoredMessage): Message | undefined {
    const groupId = channel.chat.linked_chat_id;
    const group = groupId !== undefined ? this.chats.state(groupId) : undefined;
    if (!group) return undefined;
    const copy = this.messages.create(group, TELEGRAM_SERVICE_USER);
    copy.sender_chat_id = channel.chat.id;
    copy.is_automatic_forward = true;
    copy.forward_origin = { type: "channel", chat: this.chats.info(channel.chat), message_id: post.message_id, date: post.date };
    for (const key of ["text", "entities", "caption", "caption_entities", "photo", "document"] as const) {
      if (post[key] !== undefined) (copy as unknown as Record<string, unknown>)[key] = post[key];
    }
    const api = this.messages.toApi(copy);
    if (botReceives(this.chats, group)) this.updates.push({ message: api });
    return api as unknown as Message;
  }
}
