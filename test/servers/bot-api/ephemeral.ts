// Ephemeral messages (Bot API 10.3): a send method given `ephemeral_message_parameters` shows the message in a group
// to one member only (receiver_user_id). The result has message_id 0, the receiver and an ephemeral_message_id; the
// message is kept apart from the chat's messages and `visibleTo` shows what one user sees. Checked here as this server
// models them (Telegram's documentation is thin): groups and supergroups only, the receiver must be a member, a
// callback_query_id must name an unanswered query pressed by the receiver in that chat, and
// replace_callback_query_message needs one (and not from an ephemeral message: those are edited with the
// editEphemeralMessage… methods). The message then replaces the pressed one for the receiver. A server without
// support (`supported = false`) refuses them, so the bot's fallback can be tested. Edits and deletion by
// (chat, receiver, ephemeral_message_id), flood-limited like other edits.
import type { Chats, ChatState } from "./chats.js";
import type { Methods } from "./dispatch.js";
import { entitiesFrom, noParseMode, sameEntities } from "./entities.js";
import type { FloodControl } from "./flood-limits.js";
import { isObject } from "./json.js";
import { markupFrom, sameMarkup } from "./markup.js";
import { writableChat } from "./membership.js";
import { badRequest, Params } from "./params.js";
import type { BotUser, FakeUser, StoredMessage } from "./types.js";
import type { UpdateQueue } from "./updates.js";

export const EPHEMERAL_UNSUPPORTED = "ephemeral messages are not supported in the chat";

/** Checked ephemeral_message_parameters. */
export interface EphemeralParams {
  receiverUserId: number;
  callbackQueryId?: string;
  /** The message the ephemeral one replaces for its receiver. */
  replacesMessageId?: number;
}

export class Ephemeral {
  /** Per chat and receiver: the message ids replaced by an ephemeral message (hidden from that receiver). */
  private readonly hidden = new Map<string, Set<number>>();

  constructor(
    private readonly chats: Chats,
    private readonly updates: UpdateQueue,
    private readonly flood: FloodControl,
    private readonly botUser: BotUser,
    /** Mutable: false refuses every ephemeral message. */
    public supported: boolean,
  ) {}

  /** The ephemeral_message_parameters of a send, checked; undefined when absent. */
  paramsFrom(p: Params, state: ChatState): EphemeralParams | undefined {
    const raw = p.json("ephemeral_message_parameters", "can't parse ephemeral message parameters JSON object");
    if (raw === undefined) return undefined;
    if (!this.supported) throw badRequest(EPHEMERAL_UNSUPPORTED);
    if (!isObject(raw)) throw badRequest("can't parse ephemeral message parameters JSON object");
    if (state.chat.type !== "group" && state.chat.type !== "supergroup") throw badRequest(EPHEMERAL_UNSUPPORTED);
    const sub = new Params(raw, new Map());
    const receiverUserId = sub.int("receiver_user_id");
    if (receiverUserId === undefined) throw badRequest("ephemeral message receiver is not specified");
    if (!this.chats.isMember(state, receiverUserId) || receiverUserId === this.botUser.id) throw badRequest("USER_NOT_PARTICIPANT");
    const callbackQueryId = sub.str("callback_query_id");
    const replace = sub.bool("replace_callback_query_message") ?? false;
    const out: EphemeralParams = { receiverUserId };
    if (callbackQueryId !== undefined) {
      const query = this.updates.callbackQuery(callbackQueryId);
      if (!query || query.chatId !== state.chat.id) throw badRequest("query is too old and response timeout expired or query ID is invalid");
      if (query.fromId !== receiverUserId) throw badRequest("the ephemeral message receiver must be the user who pressed the button");
      out.callbackQueryId = callbackQueryId;
      if (replace) {
        if (query.ephemeral) throw badRequest("an ephemeral message can't replace an ephemeral message: edit it instead");
        out.replacesMessageId = query.messageId;
      }
    } else if (replace) {
      throw badRequest("replace_callback_query_message needs callback_query_id");
    }
    return out;
  }

  /** Stores an ephemeral message from `from` (the bot) for its receiver, in reply to `replyTo` when given. */
  store(state: ChatState, from: FakeUser, params: EphemeralParams, thread: number | undefined, replyTo?: number): StoredMessage {
    const now = Date.now();
    const id = state.nextEphemeralId++;
    const msg: StoredMessage = {
      message_id: 0,
      chat_id: state.chat.id,
      from,
      date: Math.floor(now / 1000),
      sentAt: now,
      edits: 0,
      editHistory: [],
      receiver_user_id: params.receiverUserId,
      ephemeral_message_id: id,
    };
    if (thread !== undefined) msg.message_thread_id = thread;
    if (replyTo !== undefined) msg.reply_to_message_id = replyTo;
    state.ephemeral.set(id, msg);
    if (params.replacesMessageId !== undefined) {
      const key = `${state.chat.id}:${params.receiverUserId}`;
      const set = this.hidden.get(key) ?? new Set();
      set.add(params.replacesMessageId);
      this.hidden.set(key, set);
    }
    return msg;
  }

  /** The ephemeral messages of a chat (all receivers). */
  list(chatId: number): StoredMessage[] {
    return [...(this.chats.state(chatId)?.ephemeral.values() ?? [])];
  }

  /** What `userId` sees in the chat: its messages (less the ones replaced for them) and their own ephemeral ones. */
  visibleTo(chatId: number, userId: number): StoredMessage[] {
    const state = this.chats.state(chatId);
    if (!state) return [];
    const hidden = this.hidden.get(`${chatId}:${userId}`) ?? new Set<number>();
    const shown = [...state.messages.values()].filter((m) => !hidden.has(m.message_id));
    const own = [...state.ephemeral.values()].filter((m) => m.receiver_user_id === userId);
    return [...shown, ...own].sort((a, b) => (a.sentAt ?? 0) - (b.sentAt ?? 0));
  }

  methods(): Methods {
    const target = (p: Params): { state: ChatState; msg: StoredMessage } => {
      const state = writableChat(this.chats, p);
      const receiver = p.int("receiver_user_id");
      const id = p.int("ephemeral_message_id");
      if (receiver === undefined || id === undefined) throw badRequest("message identifier is not specified");
      const msg = state.ephemeral.get(id);
      if (!msg || msg.receiver_user_id !== receiver || msg.from.id !== this.botUser.id) throw badRequest("message to edit not found");
      return { state, msg };
    };
    const edit = (state: ChatState, msg: StoredMessage, change: Partial<StoredMessage>): true => {
      this.flood.gate(state.chat, "message");
      const at = Date.now();
      msg.editHistory.push({ at, text: change.text ?? msg.text, entities: change.entities, reply_markup: change.reply_markup });
      Object.assign(msg, change);
      msg.edits++;
      msg.edit_date = Math.floor(at / 1000);
      return true;
    };
    return {
      editEphemeralMessageText: (p) => {
        const { state, msg } = target(p);
        noParseMode(p);
        const text = p.str("text");
        if (text === undefined || text.trim() === "") throw badRequest("message text is empty");
        const entities = entitiesFrom(p, "entities", text);
        const markup = markupFrom(p);
        if (msg.text === undefined) throw badRequest("there is no text in the message to edit");
        if (msg.text === text && sameEntities(msg.entities, entities) && sameMarkup(msg.reply_markup, markup)) {
          throw badRequest("message is not modified: specified new message content and reply markup are exactly the same as a content and reply markup of the current message");
        }
        return edit(state, msg, { text, entities, reply_markup: markup });
      },
      editEphemeralMessageReplyMarkup: (p) => {
        const { state, msg } = target(p);
        const markup = markupFrom(p);
        if (sameMarkup(msg.reply_markup, markup)) {
          throw badRequest("message is not modified: specified new message content and reply markup are exactly the same as a content and reply markup of the current message");
        }
        return edit(state, msg, { reply_markup: markup });
      },
      deleteEphemeralMessage: (p) => {
        const { state, msg } = target(p);
        state.ephemeral.delete(msg.ephemeral_message_id!);
        return true;
      },
    };
  }
}
