// What users do, for tests to drive the bot: send a message (text, photo, document, voice note, audio, round video,
// caption; in reply to anyone's message with an optional quote, in a topic, forwarded from elsewhere, as an anonymous
// admin on behalf of the group or as a channel), send an album, paste a text too long for one message (split the way
// Telegram clients split it), edit their message, or press an inline button. Each action is stored the way Telegram
// stores it (a user photo in several sizes, automatic /command and @mention entities, the thread of a reply) and
// queued as the update the bot will receive, only when the bot would receive it (it is a member of the group). A user
// who writes in a group is a member of it from then on.
import type { Message } from "grammy/types";
import { CHANNEL_BOT, GROUP_ANONYMOUS_BOT, type Chats, type ChatState } from "./chats.js";
import { autoEntities, utf16Length } from "./entities.js";
import { extensionOf, photoSize, type FileStore } from "./files.js";
import type { ForumTopics } from "./forum-topics.js";
import { stripUndefined, type Json } from "./json.js";
import type { Messages } from "./messages.js";
import type { BotUser, FakeChat, FakeUser, ForwardOrigin, StoredMessage, TextQuote, UserSendsOptions } from "./types.js";
import type { UpdateQueue } from "./updates.js";

export interface World {
  chats: Chats;
  messages: Messages;
  files: FileStore;
  updates: UpdateQueue;
  topics: ForumTopics;
  botUser: BotUser;
}

/** Longest message a Telegram client sends; longer pastes become several messages. */
const CLIENT_MESSAGE_LIMIT = 4096;
/** How far back from the limit a client looks for a break to cut a long text at. */
const CUT_SEARCH = 500;

/** Whether the bot gets updates from the chat: a member of the group, not blocked in a private chat. */
export function botReceives(chats: Chats, state: ChatState): boolean {
  const status = chats.botStatus(state);
  return status === "member" || status === "administrator" || status === "creator";
}

const chatOf = (chats: Chats, chat: FakeChat | number): FakeChat =>
  typeof chat === "number" ? chats.requireState(chat).chat : (chats.state(chat.id)?.chat ?? chat);

/** The Bot API `MessageOrigin` for a forward. */
function renderOrigin(chats: Chats, origin: ForwardOrigin): Json {
  const date = origin.date ?? Math.floor(Date.now() / 1000) - 60;
  switch (origin.type) {
    case "user": {
      const user = chats.userOf(origin.user);
      return { type: "user", date, sender_user: stripUndefined({ ...user, is_bot: user.is_bot ?? false }) };
    }
    case "hidden_user":
      return { type: "hidden_user", date, sender_user_name: origin.sender_user_name };
    case "chat":
      return stripUndefined({ type: "chat", date, sender_chat: chats.info(chatOf(chats, origin.chat)), author_signature: origin.author_signature });
    case "channel":
      return stripUndefined({ type: "channel", date, chat: chats.info(chatOf(chats, origin.chat)), message_id: origin.message_id, author_signature: origin.author_signature });
  }
}

/** The quote of a reply, found in the replied text or caption (a mistake in the test when it is not there). */
function quoteOf(replied: StoredMessage, quote: NonNullable<UserSendsOptions["quote"]>): TextQuote {
  const source = replied.text ?? replied.caption ?? "";
  const position = quote.position ?? source.indexOf(quote.text);
  if (position < 0 || !source.startsWith(quote.text, position)) {
    throw new Error(`userSends: quote ${JSON.stringify(quote.text)} is not in message ${replied.message_id}`);
  }
  if (utf16Length(quote.text) > 1024) throw new Error("userSends: a quote is at most 1024 characters");
  const entities = quote.entities ?? quotedEntities(replied.text !== undefined ? replied.entities : replied.caption_entities, position, quote.text.length);
  if (entities?.some((e) => !QUOTE_ENTITY_TYPES.has(e.type))) throw new Error("userSends: a quote keeps only bold, italic, underline, strikethrough, spoiler and custom_emoji entities");
  return stripUndefined({ text: quote.text, entities: entities?.length ? entities : undefined, position, is_manual: quote.is_manual ?? true });
}

/** The only entities a TextQuote keeps (Bot API: "Only bold, italic, underline, strikethrough, spoiler, and custom_emoji entities are kept in quotes"). */
const QUOTE_ENTITY_TYPES = new Set(["bold", "italic", "underline", "strikethrough", "spoiler", "custom_emoji"]);

/** The replied message's entities inside the quote, cut to it and made relative to it, of the kinds a quote keeps. */
function quotedEntities(entities: StoredMessage["entities"], position: number, length: number): StoredMessage["entities"] {
  const out: NonNullable<StoredMessage["entities"]> = [];
  for (const e of entities ?? []) {
    if (!QUOTE_ENTITY_TYPES.has(e.type)) continue;
    const start = Math.max(e.offset, position);
    const end = Math.min(e.offset + e.length, position + length);
    if (end > start) out.push({ ...e, offset: start - position, length: end - start });
  }
  return out;
}

/**
 * A user writes: stores the message and queues a `message` update (when the bot is in the chat). Returns the Bot API
 * Message.
 */
export function userSends(world: World, opts: UserSendsOptions): Message {
  const { state, apiMessage } = storeUserMessage(world, opts);
  if (botReceives(world.chats, state)) world.updates.push({ message: apiMessage });
  return apiMessage as unknown as Message;
}

/** Stores a user's message as Telegram would (no update queued); returns its chat and its Bot API Message. */
export function storeUserMessage(world: World, opts: UserSendsOptions): { state: ChatState; apiMessage: Json } {
  const { chats, messages, files, topics } = world;
  const chat = typeof opts.chat === "number" ? chats.requireState(opts.chat).chat : chats.addChat(opts.chat);
  const state = chats.requireState(chat.id);
  if (chat.type === "channel") throw new Error("userSends: channel posts are made with channelPost");
  if (chat.type === "private" && chats.blockedBy.has(chat.id)) throw new Error(`userSends: user ${chat.id} blocked the bot (userUnblocksBot first)`);
  const senderChat = opts.senderChat === undefined ? undefined : chatOf(chats, opts.senderChat);
  if (senderChat && !chats.state(senderChat.id)) chats.addChat(senderChat);
  const defaultFrom = senderChat ? (senderChat.type === "channel" ? CHANNEL_BOT : GROUP_ANONYMOUS_BOT) : undefined;
  const fromSpec = opts.from ?? defaultFrom;
  if (fromSpec === undefined) throw new Error("userSends needs `from` (or senderChat)");
  const from = chats.userOf(fromSpec);
  const replied = opts.replyTo !== undefined ? state.messages.get(opts.replyTo) : undefined;
  if (opts.replyTo !== undefined && !replied) throw new Error(`userSends: message ${opts.replyTo} not found in chat ${chat.id}`);
  if (opts.quote && !replied) throw new Error("userSends: a quote needs replyTo");
  const hasContent = opts.text !== undefined || opts.photo || opts.photoSizes || opts.document || opts.voice || opts.audio || opts.videoNote;
  if (!hasContent) throw new Error("userSends needs text, photo, photoSizes, document, voice, audio or videoNote");
  // Whoever writes in a group is in it: a user the test did not make a member becomes one.
  if ((chat.type === "group" || chat.type === "supergroup") && !senderChat && !state.members.has(from.id)) {
    state.members.set(from.id, { user: from, status: "member" });
  }
  const thread = topics.userThread(state, opts.threadId, replied, from);
  const msg = messages.create(state, from, { reply_to_message_id: opts.replyTo, message_thread_id: thread });
  if (senderChat) msg.sender_chat_id = senderChat.id;
  if (opts.quote && replied) msg.quote = quoteOf(replied, opts.quote);
  if (opts.forwardOrigin) msg.forward_origin = renderOrigin(chats, opts.forwardOrigin);
  if (opts.mediaGroupId !== undefined) msg.media_group_id = opts.mediaGroupId;
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
    msg.document = { file_id: info.file_id, file_unique_id: info.file_unique_id, file_name: opts.document.file_name, mime_type: opts.document.mime_type, file_size: info.file_size };
  }
  if (opts.voice) {
    const mime = opts.voice.mime_type ?? "audio/ogg";
    const info = files.add(opts.voice.bytes, { mime, filePath: files.autoPath("voice", "oga") });
    msg.voice = { file_id: info.file_id, file_unique_id: info.file_unique_id, duration: opts.voice.duration, mime_type: mime, file_size: info.file_size };
  }
  if (opts.audio) {
    const a = opts.audio;
    const info = files.add(a.bytes, { mime: a.mime_type, filePath: files.autoPath("music", extensionOf(a.file_name ?? "") ?? "mp3") });
    msg.audio = stripUndefined({
      file_id: info.file_id,
      file_unique_id: info.file_unique_id,
      duration: a.duration,
      performer: a.performer,
      title: a.title,
      file_name: a.file_name,
      mime_type: a.mime_type,
      file_size: info.file_size,
    });
  }
  if (opts.videoNote) {
    const info = files.add(opts.videoNote.bytes, { mime: "video/mp4", filePath: files.autoPath("video_notes", "mp4") });
    msg.video_note = { file_id: info.file_id, file_unique_id: info.file_unique_id, length: opts.videoNote.length ?? 384, duration: opts.videoNote.duration, file_size: info.file_size };
  }
  if (opts.caption !== undefined) {
    msg.caption = opts.caption;
    const entities = opts.caption_entities ?? autoEntities(opts.caption);
    if (entities.length > 0) msg.caption_entities = entities;
  }
  return { state, apiMessage: messages.toApi(msg) };
}

/** One item of an album: a photo or a document. */
export type AlbumItem = { photo: Uint8Array } | { document: { bytes: Uint8Array; file_name: string; mime_type: string } };

/**
 * A user sends an album: one message per item sharing a media_group_id, the caption on the first, each queued as
 * its own update in quick succession (as Telegram delivers albums).
 */
export function userSendsAlbum(
  world: World,
  opts: Omit<UserSendsOptions, "text" | "photo" | "photoSizes" | "document" | "voice" | "audio" | "videoNote" | "mediaGroupId"> & { items: AlbumItem[] },
): Message[] {
  if (opts.items.length < 2 || opts.items.length > 10) throw new Error("userSendsAlbum: an album has 2-10 items");
  const mediaGroupId = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const { items, caption, caption_entities, ...common } = opts;
  return items.map((item, i) => userSends(world, { ...common, ...item, mediaGroupId, ...(i === 0 ? { caption, caption_entities } : {}) }));
}

/**
 * Where a Telegram client cuts a long text: before 4096 UTF-16 code units, at a paragraph, line or word break near
 * the end (the last CUT_SEARCH code units), else at the limit; so every part but the last is at least
 * 4096 - CUT_SEARCH long, which is what a bot can tell a cut part by.
 */
export function splitLikeClient(text: string, limit = CLIENT_MESSAGE_LIMIT): string[] {
  const parts: string[] = [];
  let rest = text;
  while (utf16Length(rest) > limit) {
    let cut = limit;
    const window = rest.slice(0, limit);
    for (const sep of ["\n\n", "\n", " "]) {
      const at = window.lastIndexOf(sep);
      if (at >= limit - CUT_SEARCH) {
        cut = at;
        break;
      }
    }
    // Never split a surrogate pair.
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut--;
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length > 0) parts.push(rest);
  return parts;
}

/** A user pastes a long text: the client sends it as several messages (splitLikeClient), one update each. */
export function userPastes(world: World, opts: Omit<UserSendsOptions, "text"> & { text: string }): Message[] {
  return splitLikeClient(opts.text).map((text) => userSends(world, { ...opts, text, entities: undefined }));
}

/** A user edits their message: its text (or caption) changes and an `edited_message` update with edit_date is queued. */
export function userEdits(world: World, opts: { chat: number; messageId: number; text: string; entities?: StoredMessage["entities"] }): Message {
  const { chats, messages, updates } = world;
  const state = chats.requireState(opts.chat);
  const msg = state.messages.get(opts.messageId);
  if (!msg) throw new Error(`userEdits: message ${opts.messageId} not found in chat ${opts.chat}`);
  if (msg.from.id === world.botUser.id) throw new Error("userEdits: that is the bot's message");
  const at = Date.now();
  const entities = opts.entities ?? autoEntities(opts.text);
  const change = msg.text !== undefined ? { text: opts.text, entities } : { caption: opts.text, caption_entities: entities };
  msg.editHistory.push({ at, ...change });
  Object.assign(msg, change);
  msg.edits++;
  // Telegram's edit_date is never the send date, even for an edit within the same second.
  msg.edit_date = Math.max(Math.floor(at / 1000), msg.date + 1);
  const apiMessage = messages.toApi(msg);
  if (botReceives(chats, state)) updates.push({ [state.chat.type === "channel" ? "edited_channel_post" : "edited_message"]: apiMessage });
  return apiMessage as unknown as Message;
}

/**
 * A user presses an inline button: queues a callback_query update and returns its id (answerCallbackQuery accepts it
 * once). The message is a bot message by id, an ephemeral message shown to this user, or an inline-mode message by
 * inline_message_id. `data` is whatever the client had: Telegram delivers it even when the keyboard has changed since.
 */
export function userPresses(
  world: World,
  opts: { chat?: number; from: FakeUser | number; messageId?: number; ephemeralMessageId?: number; inlineMessageId?: string; data: string },
): string {
  const { chats, messages, updates } = world;
  const from = chats.userOf(opts.from);
  const id = updates.newCallbackQueryId();
  if (opts.inlineMessageId !== undefined) {
    if (!messages.inlineMessage(opts.inlineMessageId)) throw new Error(`userPresses: no inline message ${opts.inlineMessageId}`);
    updates.push({ callback_query: { id, from, inline_message_id: opts.inlineMessageId, chat_instance: `ci-inline-${opts.inlineMessageId}`, data: opts.data } });
    return id;
  }
  if (opts.chat === undefined) throw new Error("userPresses needs chat (or inlineMessageId)");
  const state = chats.requireState(opts.chat);
  let msg: StoredMessage | undefined;
  if (opts.ephemeralMessageId !== undefined) {
    msg = state.ephemeral.get(opts.ephemeralMessageId);
    if (!msg || msg.receiver_user_id !== from.id) throw new Error(`userPresses: user ${from.id} sees no ephemeral message ${opts.ephemeralMessageId}`);
  } else {
    msg = opts.messageId !== undefined ? state.messages.get(opts.messageId) : undefined;
    if (!msg) throw new Error(`userPresses: message ${opts.messageId} not found in chat ${opts.chat}`);
  }
  updates.push({ callback_query: { id, from, message: messages.toApi(msg), chat_instance: `ci${opts.chat}`, data: opts.data } });
  return id;
}
