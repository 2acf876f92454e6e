// Messages, as the Bot API sends, edits and deletes them: text of 1-4096 UTF-16 code units with validated entities
// (never parse_mode), captions up to 1024, replies that must exist unless allow_sending_without_reply, edits that
// must change something ("message is not modified"), bots editing only their own messages and deleting others' only
// as group admins. Sends, text and caption edits and deletions pass flood control. The server keeps each message with
// its edit history, and renders the Bot API `Message` object from it.
import type { MessageEntity } from "grammy/types";
import type { Chats, ChatState } from "./chats.js";
import type { Methods } from "./dispatch.js";
import { entitiesFrom, noParseMode, sameEntities, utf16Length } from "./entities.js";
import type { FloodControl } from "./flood-limits.js";
import { isObject, stripUndefined, type Json } from "./json.js";
import { hasMarkup, markupFrom, sameMarkup } from "./markup.js";
import { badRequest, Params } from "./params.js";
import type { BotUser, FakeUser, MessageVersion, StoredMessage } from "./types.js";

export const MESSAGE_NOT_MODIFIED =
  "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a content and reply markup of the current message";

/** Longest message text, in UTF-16 code units. */
export const MAX_TEXT = 4096;
/** Longest media caption, in UTF-16 code units. */
const MAX_CAPTION = 1024;

export class Messages {
  constructor(
    private readonly chats: Chats,
    private readonly botUser: BotUser,
    private readonly flood: FloodControl,
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

  /** Stores a new message in the chat with the next message_id. */
  create(state: ChatState, from: FakeUser, extra: Partial<StoredMessage>): StoredMessage {
    const msg: StoredMessage = {
      message_id: state.nextMessageId++,
      chat_id: state.chat.id,
      from,
      date: Math.floor(Date.now() / 1000),
      edits: 0,
      editHistory: [],
    };
    if (extra.reply_to_message_id !== undefined) msg.reply_to_message_id = extra.reply_to_message_id;
    if (extra.message_thread_id !== undefined) msg.message_thread_id = extra.message_thread_id;
    state.messages.set(msg.message_id, msg);
    return msg;
  }

  /** The Bot API `Message` for a stored message. */
  toApi(msg: StoredMessage, withReply = true): Json {
    const state = this.chats.state(msg.chat_id)!;
    const out: Json = {
      message_id: msg.message_id,
      from: stripUndefined({ ...msg.from, is_bot: msg.from.is_bot ?? false }),
      chat: this.chats.info(state.chat),
      date: msg.date,
    };
    if (msg.sender_chat_id !== undefined) out.sender_chat = this.chats.info(this.chats.state(msg.sender_chat_id)!.chat);
    if (msg.message_thread_id !== undefined) {
      out.message_thread_id = msg.message_thread_id;
      if (state.chat.is_forum) out.is_topic_message = true;
    }
    if (withReply && msg.reply_to_message_id !== undefined) {
      const replied = state.messages.get(msg.reply_to_message_id);
      if (replied) out.reply_to_message = this.toApi(replied, false);
    }
    if (msg.edit_date !== undefined) out.edit_date = msg.edit_date;
    if (msg.text !== undefined) out.text = msg.text;
    if (msg.entities?.length) out.entities = msg.entities;
    if (msg.photo) out.photo = msg.photo;
    if (msg.document) out.document = msg.document;
    if (msg.caption !== undefined) out.caption = msg.caption;
    if (msg.caption_entities?.length) out.caption_entities = msg.caption_entities;
    if (hasMarkup(msg.reply_markup)) out.reply_markup = msg.reply_markup;
    return out;
  }

  // ---- parameters shared by the send methods -------------------------------------------------------------

  /** message_thread_id and the reply target; reads the notification flags so the call log shows them decoded. */
  sendOptions(p: Params, state: ChatState): { thread: number | undefined; replyTo: number | undefined } {
    const thread = p.int("message_thread_id");
    const replyTo = this.replyFrom(p, state);
    p.bool("disable_notification");
    p.bool("protect_content");
    return { thread, replyTo };
  }

  /** The replied message_id (reply_parameters or the older reply_to_message_id), checked to exist. */
  private replyFrom(p: Params, state: ChatState): number | undefined {
    let messageId: number | undefined;
    let allowWithout = p.bool("allow_sending_without_reply") ?? false;
    let targetChat = state;
    const parameters = p.json("reply_parameters", "can't parse reply parameters JSON object");
    if (parameters !== undefined) {
      if (!isObject(parameters)) throw badRequest("can't parse reply parameters JSON object");
      const sub = new Params(parameters, new Map());
      messageId = sub.int("message_id");
      if (messageId === undefined) throw badRequest("message to be replied not found");
      allowWithout = sub.bool("allow_sending_without_reply") ?? allowWithout;
      if (sub.has("chat_id")) targetChat = this.chats.fromParam(sub);
    } else {
      messageId = p.int("reply_to_message_id");
    }
    if (messageId === undefined) return undefined;
    if (targetChat.messages.has(messageId)) return targetChat === state ? messageId : undefined;
    if (allowWithout) return undefined;
    throw badRequest("message to be replied not found");
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

  private textFrom(p: Params): string {
    const text = p.str("text");
    if (text === undefined || text.trim() === "") throw badRequest("message text is empty");
    if (utf16Length(text) > MAX_TEXT) throw badRequest("message is too long");
    return text;
  }

  // ---- edits ---------------------------------------------------------------------------------------------

  /** The bot's own message named by chat_id and message_id (inline messages are not modelled). */
  private editTarget(p: Params): { state: ChatState; msg: StoredMessage } {
    if (p.has("inline_message_id")) throw badRequest("inline messages are not supported by this test server");
    const state = this.chats.fromParam(p);
    const messageId = p.int("message_id");
    if (messageId === undefined) throw badRequest("message identifier is not specified");
    const msg = state.messages.get(messageId);
    if (!msg || msg.from.id !== this.botUser.id) throw badRequest("message to edit not found");
    return { state, msg };
  }

  private applyEdit(msg: StoredMessage, version: Omit<MessageVersion, "at">): Json {
    const at = Date.now();
    msg.editHistory.push({ at, ...stripUndefined(version as Json) });
    if ("text" in version) msg.text = version.text;
    if ("text" in version) msg.entities = version.entities;
    if ("caption" in version) msg.caption = version.caption;
    if ("caption" in version) msg.caption_entities = version.caption_entities;
    msg.reply_markup = version.reply_markup;
    msg.edits++;
    msg.edit_date = Math.floor(at / 1000);
    return this.toApi(msg);
  }

  // ---- methods -------------------------------------------------------------------------------------------

  methods(): Methods {
    return {
      sendMessage: (p) => {
        const state = this.chats.fromParam(p);
        noParseMode(p);
        const text = this.textFrom(p);
        const entities = entitiesFrom(p, "entities", text);
        const markup = markupFrom(p);
        p.json("link_preview_options", "can't parse link preview options JSON object");
        const { thread, replyTo } = this.sendOptions(p, state);
        this.flood.gate(state.chat, "message");
        const msg = this.create(state, this.botUser, { reply_to_message_id: replyTo, message_thread_id: thread });
        msg.text = text;
        if (entities) msg.entities = entities;
        if (markup !== undefined) msg.reply_markup = markup;
        return this.toApi(msg);
      },

      editMessageText: (p) => {
        const { state, msg } = this.editTarget(p);
        noParseMode(p);
        const text = this.textFrom(p);
        const entities = entitiesFrom(p, "entities", text);
        const markup = markupFrom(p);
        p.json("link_preview_options", "can't parse link preview options JSON object");
        if (msg.text === undefined) throw badRequest("there is no text in the message to edit");
        if (msg.text === text && sameEntities(msg.entities, entities) && sameMarkup(msg.reply_markup, markup)) {
          throw badRequest(MESSAGE_NOT_MODIFIED.slice("Bad Request: ".length));
        }
        this.flood.gate(state.chat, "message");
        return this.applyEdit(msg, { text, entities, reply_markup: markup });
      },

      editMessageCaption: (p) => {
        const { state, msg } = this.editTarget(p);
        noParseMode(p);
        const { caption, caption_entities } = this.captionFrom(p);
        const markup = markupFrom(p);
        if (!msg.photo && !msg.document && msg.photo_url === undefined) throw badRequest("there is no caption in the message to edit");
        if ((msg.caption ?? "") === (caption ?? "") && sameEntities(msg.caption_entities, caption_entities) && sameMarkup(msg.reply_markup, markup)) {
          throw badRequest(MESSAGE_NOT_MODIFIED.slice("Bad Request: ".length));
        }
        this.flood.gate(state.chat, "message");
        return this.applyEdit(msg, { caption, caption_entities, reply_markup: markup });
      },

      editMessageReplyMarkup: (p) => {
        const { msg } = this.editTarget(p);
        const markup = markupFrom(p);
        if (sameMarkup(msg.reply_markup, markup)) throw badRequest(MESSAGE_NOT_MODIFIED.slice("Bad Request: ".length));
        return this.applyEdit(msg, { reply_markup: markup });
      },

      deleteMessage: (p) => {
        const state = this.chats.fromParam(p);
        const messageId = p.int("message_id");
        if (messageId === undefined) throw badRequest("message identifier is not specified");
        const msg = state.messages.get(messageId);
        if (!msg) throw badRequest("message to delete not found");
        if (state.chat.type !== "private" && msg.from.id !== this.botUser.id) {
          const status = state.members.get(this.botUser.id)?.status;
          if (status !== "administrator" && status !== "creator") throw badRequest("message can't be deleted");
        }
        this.flood.gate(state.chat, "message");
        state.messages.delete(messageId);
        return true;
      },
    };
  }
}
