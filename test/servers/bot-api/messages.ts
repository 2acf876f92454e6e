// Messages, as the Bot API sends, edits and deletes them: text of 1-4096 UTF-16 code units with validated entities
// (never parse_mode), captions up to 1024, replies that must exist unless allow_sending_without_reply (and quotes
// that must be found in the replied text), threads checked as forum-topics.ts says, edits that must change something
// ("message is not modified"), bots editing only their own messages (and messages sent through them in inline mode,
// by inline_message_id) and deleting others' only as group admins. The bot must be allowed to write to the chat
// (membership.ts). Every send, edit and deletion passes flood control. The server keeps each message with its edit
// history; a message the bot sends ends the draft the user sees in that chat and thread.
import type { MessageEntity } from "grammy/types";
import type { Chats, ChatState } from "./chats.js";
import type { Methods } from "./dispatch.js";
import type { Ephemeral } from "./ephemeral.js";
import { entitiesFrom, noParseMode, sameEntities, utf16Length } from "./entities.js";
import type { FloodControl, FloodTarget } from "./flood-limits.js";
import { botThread, hasTopics } from "./forum-topics.js";
import { isObject, stripUndefined, type Json } from "./json.js";
import { markupFrom, sameMarkup } from "./markup.js";
import { writableChat } from "./membership.js";
import { renderMessage } from "./message-render.js";
import { badRequest, Params } from "./params.js";
import type { BotUser, FakeUser, MessageVersion, StoredMessage, TextQuote } from "./types.js";

export const MESSAGE_NOT_MODIFIED =
  "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a content and reply markup of the current message";

/** Longest message text, in UTF-16 code units. */
export const MAX_TEXT = 4096;
/** Longest media caption, in UTF-16 code units. */
const MAX_CAPTION = 1024;
/** Longest quote of a replied message. */
const MAX_QUOTE = 1024;

const notModified = () => badRequest(MESSAGE_NOT_MODIFIED.slice("Bad Request: ".length));

/** What `send` needs beyond the content: the reply, the thread and the quote, already checked. */
export interface SendOptions {
  thread: number | undefined;
  replyTo: StoredMessage | undefined;
  quote: TextQuote | undefined;
  /** The replied message was not found and allow_sending_without_reply let the send go on without it. */
  replyMissing?: boolean;
}

/** A message the bot may edit: by chat and id, or by inline_message_id (then the answer is `true`). */
interface EditTarget {
  state: ChatState;
  msg: StoredMessage;
  inlineMessageId?: string;
}

export class Messages {
  /** inline_message_id → the chat and message it names (inline mode and guest answers). */
  private readonly inline = new Map<string, { chatId: number; messageId: number }>();
  private nextInline = 1;
  /** Runs after every message the bot sends (a channel post is then copied into the discussion group). */
  afterBotSend: ((msg: StoredMessage) => void) | undefined;

  constructor(
    private readonly chats: Chats,
    private readonly botUser: BotUser,
    private readonly flood: FloodControl,
    private readonly ephemeral: Ephemeral,
  ) {}

  // ---- the store -----------------------------------------------------------------------------------------

  /** Current messages of a chat (bot and user), by message_id, deleted ones excluded. */
  list(chatId: number): StoredMessage[] {
    const state = this.chats.state(chatId);
    return state ? [...state.messages.values()] : [];
  }

  get(chatId: number, messageId: number): StoredMessage | undefined {
    return this.chats.state(chatId)?.messages.get(messageId);
  }

  /**
   * Stores a new message in the chat with the next message_id (or `messageId`, which must be free). A message in a
   * topic that replies to nothing replies to the topic's opening message, as in Telegram.
   */
  create(
    state: ChatState,
    from: FakeUser,
    extra: { reply_to_message_id?: number; message_thread_id?: number; messageId?: number } = {},
  ): StoredMessage {
    const id = extra.messageId ?? state.nextMessageId;
    if (state.messages.has(id)) throw new Error(`message ${id} already exists in chat ${state.chat.id}`);
    state.nextMessageId = Math.max(state.nextMessageId, id + 1);
    const now = Date.now();
    const msg: StoredMessage = { message_id: id, chat_id: state.chat.id, from, date: Math.floor(now / 1000), sentAt: now, edits: 0, editHistory: [] };
    let replyTo = extra.reply_to_message_id;
    const thread = extra.message_thread_id;
    if (replyTo === undefined && thread !== undefined && hasTopics(this.chats, state) && state.topics.get(thread)?.hasOpeningMessage) replyTo = thread;
    if (replyTo !== undefined) msg.reply_to_message_id = replyTo;
    if (thread !== undefined) msg.message_thread_id = thread;
    state.messages.set(id, msg);
    if (from.id === this.botUser.id) {
      for (const draft of state.drafts.values()) if (draft.message_thread_id === thread) draft.visible = false;
    }
    return msg;
  }

  /** The Bot API `Message` for a stored message. */
  toApi(msg: StoredMessage, withReply = true): Json {
    return renderMessage(this.chats, this.botUser, msg, withReply);
  }

  /** Gives a message an inline_message_id (inline mode, guest answers): the bot may then edit it by that id. */
  registerInline(msg: StoredMessage): string {
    const id = `BAAAA${(this.nextInline++).toString().padStart(6, "0")}_${msg.chat_id}_${msg.message_id}`;
    this.inline.set(id, { chatId: msg.chat_id, messageId: msg.message_id });
    return id;
  }

  /** The message an inline_message_id names. */
  inlineMessage(inlineMessageId: string): StoredMessage | undefined {
    const ref = this.inline.get(inlineMessageId);
    return ref ? this.get(ref.chatId, ref.messageId) : undefined;
  }

  // ---- parameters shared by the send methods -------------------------------------------------------------

  /** The reply target, its quote and the thread; reads the notification flags so the call log shows them decoded. */
  sendOptions(p: Params, state: ChatState): SendOptions {
    const { replyTo, quote, missing } = this.replyFrom(p, state);
    const thread = botThread(this.chats, this.botUser, state, p.int("message_thread_id"), replyTo);
    p.bool("disable_notification");
    p.bool("protect_content");
    return { thread, replyTo, quote, ...(missing ? { replyMissing: true } : {}) };
  }

  /**
   * Sends a bot message: the common options checked, `ephemeral_message_parameters` honoured, flood control passed,
   * then `fill` sets the content. Returns the Bot API Message.
   */
  send(p: Params, state: ChatState, fill: (msg: StoredMessage) => void): Json {
    const options = this.sendOptions(p, state);
    const ephemeral = this.ephemeral.paramsFrom(p, state);
    // allow_sending_without_reply is "always False for sent ephemeral messages" (Bot API 10.3).
    if (ephemeral && options.replyMissing) throw badRequest("message to be replied not found");
    this.flood.gate(state.chat, "message");
    const msg = ephemeral
      ? this.ephemeral.store(state, this.botUser, ephemeral, options.thread, options.replyTo?.message_id)
      : this.create(state, this.botUser, { reply_to_message_id: options.replyTo?.message_id, message_thread_id: options.thread });
    if (options.quote && !ephemeral) msg.quote = options.quote;
    fill(msg);
    if (!ephemeral) this.afterBotSend?.(msg);
    return this.toApi(msg);
  }

  /** The replied message (reply_parameters or the older reply_to_message_id), checked to exist, and its quote. */
  private replyFrom(p: Params, state: ChatState): { replyTo?: StoredMessage; quote?: TextQuote; missing?: boolean } {
    let messageId: number | undefined;
    let allowWithout = p.bool("allow_sending_without_reply") ?? false;
    let targetChat = state;
    let sub: Params | undefined;
    const parameters = p.json("reply_parameters", "can't parse reply parameters JSON object");
    if (parameters !== undefined) {
      if (!isObject(parameters)) throw badRequest("can't parse reply parameters JSON object");
      sub = new Params(parameters, new Map());
      messageId = sub.int("message_id");
      if (messageId === undefined && !sub.has("ephemeral_message_id")) throw badRequest("message to be replied not found");
      allowWithout = sub.bool("allow_sending_without_reply") ?? allowWithout;
      if (sub.has("chat_id")) targetChat = this.chats.fromParam(sub);
    } else {
      messageId = p.int("reply_to_message_id");
    }
    if (messageId === undefined) return {};
    const replied = targetChat.messages.get(messageId);
    if (!replied) {
      if (allowWithout) return { missing: true };
      throw badRequest("message to be replied not found");
    }
    if (targetChat !== state) return {};
    return { replyTo: replied, quote: sub ? quoteFrom(sub, replied) : undefined };
  }

  /** `caption` and `caption_entities`; an empty caption is none. */
  captionFrom(p: Params): { caption?: string; caption_entities?: MessageEntity[] } {
    const caption = p.str("caption");
    if (caption !== undefined && utf16Length(caption) > MAX_CAPTION) throw badRequest("message caption is too long");
    const entities = entitiesFrom(p, "caption_entities", caption ?? "");
    const out: { caption?: string; caption_entities?: MessageEntity[] } = {};
    if (caption !== undefined && caption !== "") out.caption = caption;
    if (entities) out.caption_entities = entities;
    return out;
  }

  /** `text` of 1-4096 UTF-16 code units. */
  textFrom(p: Params): string {
    const text = p.str("text");
    if (text === undefined || text.trim() === "") throw badRequest("message text is empty");
    if (utf16Length(text) > MAX_TEXT) throw badRequest("message is too long");
    return text;
  }

  // ---- edits ---------------------------------------------------------------------------------------------

  /** The bot's own message named by chat_id and message_id, or a message sent through the bot by inline_message_id. */
  private editTarget(p: Params): EditTarget {
    const inlineId = p.str("inline_message_id");
    if (inlineId !== undefined && inlineId !== "") {
      if (p.has("chat_id") || p.has("message_id")) throw badRequest("chat_id and message_id must be empty for inline messages");
      const msg = this.inlineMessage(inlineId);
      if (!msg) throw badRequest("MESSAGE_ID_INVALID");
      return { state: this.chats.requireState(msg.chat_id), msg, inlineMessageId: inlineId };
    }
    const state = writableChat(this.chats, p);
    const messageId = p.int("message_id");
    if (messageId === undefined) throw badRequest("message identifier is not specified");
    const msg = state.messages.get(messageId);
    if (!msg || msg.from.id !== this.botUser.id) throw badRequest("message to edit not found");
    return { state, msg };
  }

  private gateEdit(target: EditTarget): void {
    const flood: FloodTarget = target.inlineMessageId !== undefined ? { inlineMessageId: target.inlineMessageId } : target.state.chat;
    this.flood.gate(flood, "message");
  }

  private applyEdit(target: EditTarget, version: Omit<MessageVersion, "at">): Json | true {
    const { msg } = target;
    const at = Date.now();
    msg.editHistory.push({ at, ...stripUndefined(version as Json) });
    if ("text" in version) msg.text = version.text;
    if ("text" in version) msg.entities = version.entities;
    if ("caption" in version) msg.caption = version.caption;
    if ("caption" in version) msg.caption_entities = version.caption_entities;
    msg.reply_markup = version.reply_markup;
    msg.edits++;
    msg.edit_date = Math.floor(at / 1000);
    return target.inlineMessageId !== undefined ? true : this.toApi(msg);
  }

  // ---- methods -------------------------------------------------------------------------------------------

  methods(): Methods {
    return {
      sendMessage: (p) => {
        const state = writableChat(this.chats, p);
        noParseMode(p);
        const text = this.textFrom(p);
        const entities = entitiesFrom(p, "entities", text);
        const markup = markupFrom(p);
        p.json("link_preview_options", "can't parse link preview options JSON object");
        return this.send(p, state, (msg) => {
          msg.text = text;
          if (entities) msg.entities = entities;
          if (markup !== undefined) msg.reply_markup = markup;
        });
      },

      editMessageText: (p) => {
        const target = this.editTarget(p);
        const { msg } = target;
        noParseMode(p);
        const text = this.textFrom(p);
        const entities = entitiesFrom(p, "entities", text);
        const markup = markupFrom(p);
        p.json("link_preview_options", "can't parse link preview options JSON object");
        if (msg.text === undefined) throw badRequest("there is no text in the message to edit");
        if (msg.text === text && sameEntities(msg.entities, entities) && sameMarkup(msg.reply_markup, markup)) throw notModified();
        this.gateEdit(target);
        return this.applyEdit(target, { text, entities, reply_markup: markup });
      },

      editMessageCaption: (p) => {
        const target = this.editTarget(p);
        const { msg } = target;
        noParseMode(p);
        const { caption, caption_entities } = this.captionFrom(p);
        const markup = markupFrom(p);
        if (!msg.photo && !msg.document && !msg.voice && !msg.audio && msg.photo_url === undefined) {
          throw badRequest("there is no caption in the message to edit");
        }
        if ((msg.caption ?? "") === (caption ?? "") && sameEntities(msg.caption_entities, caption_entities) && sameMarkup(msg.reply_markup, markup)) {
          throw notModified();
        }
        this.gateEdit(target);
        return this.applyEdit(target, { caption, caption_entities, reply_markup: markup });
      },

      editMessageReplyMarkup: (p) => {
        const target = this.editTarget(p);
        const markup = markupFrom(p);
        if (markup !== undefined && !(isObject(markup) && Array.isArray(markup.inline_keyboard))) {
          throw badRequest("reply markup must be an inline keyboard");
        }
        if (sameMarkup(target.msg.reply_markup, markup)) throw notModified();
        this.gateEdit(target);
        return this.applyEdit(target, { reply_markup: markup });
      },

      deleteMessage: (p) => {
        const state = writableChat(this.chats, p);
        const messageId = p.int("message_id");
        if (messageId === undefined) throw badRequest("message identifier is not specified");
        const msg = state.messages.get(messageId);
        if (!msg) throw badRequest("message to delete not found");
        if (msg.forum_topic_created) throw badRequest("message can't be deleted");
        if (state.chat.type !== "private" && msg.from.id !== this.botUser.id && !this.chats.isAdmin(state, this.botUser.id)) {
          throw badRequest("message can't be deleted");
        }
        this.flood.gate(state.chat, "message");
        state.messages.delete(messageId);
        return true;
      },
    };
  }
}

/** reply_parameters.quote: an exact part of the replied text or caption (at quote_position when given). */
function quoteFrom(sub: Params, replied: StoredMessage): TextQuote | undefined {
  const quote = sub.str("quote");
  if (sub.has("quote_parse_mode")) throw badRequest("can't parse entities: this test server accepts entities only");
  if (quote === undefined || quote === "") return undefined;
  if (utf16Length(quote) > MAX_QUOTE) throw badRequest("QUOTE_TEXT_INVALID");
  const source = replied.text ?? replied.caption ?? "";
  const wanted = sub.int("quote_position");
  const position = wanted !== undefined ? (source.startsWith(quote, wanted) ? wanted : -1) : source.indexOf(quote);
  if (position < 0) throw badRequest("QUOTE_TEXT_INVALID");
  const entities = entitiesFrom(sub, "quote_entities", quote);
  return stripUndefined({ text: quote, entities, position });
}
