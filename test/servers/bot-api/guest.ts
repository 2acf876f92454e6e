// Guest mode (Bot API 10.0): a user mentions the bot in a chat it is not a member of (userSummonsGuest); the bot gets
// a `guest_message` update (the user's Message with guest_query_id, and what it replies to) and answers once with
// answerGuestQuery({ guest_query_id, result: InlineQueryResult }): the result is posted into the chat as the bot's
// message (with guest_bot_caller_user and guest_bot_caller_chat), and a SentGuestMessage with its
// inline_message_id comes back, by which the bot then edits it (messages.ts), paced like an inline message. Off
// (`enabled = false`) like a bot without guest mode.
import type { Message } from "grammy/types";
import type { Chats } from "./chats.js";
import type { Methods } from "./dispatch.js";
import type { FloodControl } from "./flood-limits.js";
import { checkResult } from "./inline-results.js";
import { isObject } from "./json.js";
import type { Messages } from "./messages.js";
import { badRequest } from "./params.js";
import type { BotUser, FakeUser } from "./types.js";
import type { UpdateQueue } from "./updates.js";
import { botReceives, storeUserMessage, type World } from "./user-actions.js";

const QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid";

interface GuestQuery {
  chatId: number;
  messageId: number;
  from: FakeUser;
  answered: boolean;
}

export class GuestMode {
  private readonly queries = new Map<string, GuestQuery>();
  private nextId = 1;

  constructor(
    private readonly world: World,
    private readonly flood: FloodControl,
    /** Mutable: guest mode on. */
    public enabled: boolean,
  ) {}

  private get chats(): Chats {
    return this.world.chats;
  }

  private get messages(): Messages {
    return this.world.messages;
  }

  private get updates(): UpdateQueue {
    return this.world.updates;
  }

  private get botUser(): BotUser {
    return this.world.botUser;
  }

  /**
   * A user summons the bot as a guest: their message is posted in the chat (which the bot is not in) and a
   * guest_message update queued. Returns that update's Message (with guest_query_id).
   */
  userSummons(opts: { chat: number; from: FakeUser | number; text: string; replyTo?: number }): Message {
    if (!this.enabled) throw new Error("userSummonsGuest: guest mode is off (server option guestMode)");
    const state = this.chats.requireState(opts.chat);
    if (state.chat.type !== "group" && state.chat.type !== "supergroup") throw new Error("userSummonsGuest: this server models guest queries in groups and supergroups");
    if (botReceives(this.chats, state)) {
      throw new Error(`userSummonsGuest: the bot is a member of chat ${opts.chat} (remove it first: server.removeBot)`);
    }
    const from = this.chats.userOf(opts.from);
    // Stored like any message in the chat, without a `message` update (the bot is not there): the guest query
    // carries it.
    const { apiMessage } = storeUserMessage(this.world, { chat: opts.chat, from, text: opts.text, replyTo: opts.replyTo });
    const id = `gq${this.nextId++}${Date.now()}`;
    this.queries.set(id, { chatId: opts.chat, messageId: apiMessage.message_id as number, from, answered: false });
    const message = { ...apiMessage, guest_query_id: id };
    this.updates.push({ guest_message: message });
    return message as unknown as Message;
  }

  methods(): Methods {
    return {
      answerGuestQuery: (p) => {
        const id = p.str("guest_query_id");
        if (id === undefined || id === "") throw badRequest("parameter \"guest_query_id\" is required");
        const raw = p.json("result", "can't parse inline query result JSON object");
        if (!isObject(raw)) throw badRequest("can't parse inline query result JSON object");
        const result = checkResult(raw);
        const query = this.queries.get(id);
        if (!query || query.answered) throw badRequest(QUERY_INVALID);
        const state = this.chats.requireState(query.chatId);
        this.flood.gate(state.chat, "message");
        query.answered = true;
        const msg = this.messages.create(state, this.botUser, { reply_to_message_id: query.messageId });
        msg.guest_bot_caller_user_id = query.from.id;
        msg.guest_bot_caller_chat_id = query.chatId;
        const { content } = result;
        if (content.text !== undefined) msg.text = content.text;
        if (content.entities) msg.entities = content.entities;
        if (content.caption !== undefined) msg.caption = content.caption;
        if (content.photoUrl !== undefined) msg.photo_url = content.photoUrl;
        if (content.reply_markup !== undefined) msg.reply_markup = content.reply_markup;
        return { inline_message_id: this.messages.registerInline(msg) };
      },
    };
  }
}
