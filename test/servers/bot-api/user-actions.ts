// What users do, for tests to drive the bot: send a message (text, photo, document, caption; in reply, in a topic,
// or as an anonymous admin on behalf of the group) or press an inline button of a bot message. Each action is stored
// the way Telegram stores it (a user photo in several sizes, automatic /command and @mention entities) and queued as
// the update the bot will receive.
import type { Message } from "grammy/types";
import type { Chats } from "./chats.js";
import { autoEntities } from "./entities.js";
import { extensionOf, photoSize, type FileStore } from "./files.js";
import type { Messages } from "./messages.js";
import type { FakeUser, UserSendsOptions } from "./types.js";
import type { UpdateQueue } from "./updates.js";

export interface World {
  chats: Chats;
  messages: Messages;
  files: FileStore;
  updates: UpdateQueue;
}

/** A user writes to the bot: stores the message and queues a `message` update. Returns the Bot API Message. */
export function userSends({ chats, messages, files, updates }: World, opts: UserSendsOptions): Message {
  const chat = typeof opts.chat === "number" ? chats.requireState(opts.chat).chat : chats.addChat(opts.chat);
  const from = chats.userOf(opts.from);
  const state = chats.requireState(chat.id);
  if (opts.replyTo !== undefined && !state.messages.has(opts.replyTo)) {
    throw new Error(`userSends: message ${opts.replyTo} not found in chat ${chat.id}`);
  }
  if (opts.text === undefined && !opts.photo && !opts.photoSizes && !opts.document) {
    throw new Error("userSends needs text, photo, photoSizes or document");
  }
  const msg = messages.create(state, from, {
    reply_to_message_id: opts.replyTo,
    message_thread_id: opts.threadId,
  });
  if (opts.senderChat !== undefined) {
    msg.sender_chat_id = typeof opts.senderChat === "number" ? chats.requireState(opts.senderChat).chat.id : chats.addChat(opts.senderChat).id;
  }
  if (opts.text !== undefined) {
    msg.text = opts.text;
    const entities = opts.entities ?? autoEntities(opts.text);
    if (entities.length > 0) msg.entities = entities;
  }
  if (opts.photo || opts.photoSizes) {
    msg.photo = opts.photoSizes
      ? opts.photoSizes.map((s) => photoSize(files.add(s.bytes, { mime: "image/jpeg", filePath: files.autoPath("photos", "jpg") }), s.width, s.height))
      : files.photoSizesFor(opts.photo!);
  }
  if (opts.document) {
    const info = files.add(opts.document.bytes, {
      mime: opts.document.mime_type,
      filePath: files.autoPath("documents", extensionOf(opts.document.file_name) ?? "dat"),
    });
    msg.document = {
      file_id: info.file_id,
      file_unique_id: info.file_unique_id,
      file_name: opts.document.file_name,
      mime_type: opts.document.mime_type,
      file_size: info.file_size,
    };
  }
  if (opts.caption !== undefined) {
    msg.caption = opts.caption;
    const entities = opts.caption_entities ?? autoEntities(opts.caption);
    if (entities.length > 0) msg.caption_entities = entities;
  }
  const apiMessage = messages.toApi(msg);
  updates.push({ message: apiMessage });
  return apiMessage as unknown as Message;
}

/**
 * A user presses an inline button of a bot message: queues a callback_query update and returns its id
 * (answerCallbackQuery accepts it once).
 */
export function userPresses(
  { chats, messages, updates }: World,
  opts: { chat: number; from: FakeUser | number; messageId: number; data: string },
): string {
  const state = chats.requireState(opts.chat);
  const msg = state.messages.get(opts.messageId);
  if (!msg) throw new Error(`userPresses: message ${opts.messageId} not found in chat ${opts.chat}`);
  const from = chats.userOf(opts.from);
  const id = updates.newCallbackQueryId();
  updates.push({
    callback_query: { id, from, message: messages.toApi(msg), chat_instance: `ci${opts.chat}`, data: opts.data },
  });
  return id;
}
