// Inline mode: a user types `@bot query` in any chat (userTypesInline queues an inline_query), the bot answers once
// with answerInlineQuery within 10 s (up to 50 results with unique ids, cache_time, is_personal, a next_offset of at
// most 64 bytes), and the user picks a result (userChoosesInlineResult): it is sent into that chat as the user's
// message "via" the bot, and — with inline feedback on — a chosen_inline_result is queued, carrying an
// inline_message_id only when the result had an inline keyboard (as Telegram does). The bot then edits that message
// by inline_message_id (messages.ts), paced like a group message. Off (`enabled = false`) like a bot without inline
// mode in BotFather.
import type { Message } from "grammy/types";
import type { Chats } from "./chats.js";
import type { Methods } from "./dispatch.js";
import { checkResult, type CheckedResult } from "./inline-results.js";
import { stripUndefined, type Json } from "./json.js";
import type { Messages } from "./messages.js";
import { badRequest } from "./params.js";
import type { FakeUser } from "./types.js";
import type { UpdateQueue } from "./updates.js";
import { botReceives } from "./user-actions.js";

/** A bot has 10 s to answer an inline query. */
const ANSWER_WINDOW_MS = 10_000;
const QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid";

/** What the bot answered to an inline query. */
export interface InlineAnswer {
  results: Json[];
  cache_time: number;
  is_personal: boolean;
  next_offset?: string;
  button?: unknown;
}

interface InlineQueryState {
  from: FakeUser;
  query: string;
  at: number;
  answer?: InlineAnswer;
  checked?: CheckedResult[];
}

export class InlineMode {
  private readonly queries = new Map<string, InlineQueryState>();
  private nextId = 1;

  constructor(
    private readonly chats: Chats,
    private readonly messages: Messages,
    private readonly updates: UpdateQueue,
    /** Mutable: inline mode on in BotFather. */
    public enabled: boolean,
    /** Mutable: inline feedback on (chosen_inline_result updates). */
    public feedback: boolean,
  ) {}

  /** A user types an inline query; returns its id. */
  userTypes(opts: { from: FakeUser | number; query: string; chatType?: "sender" | "private" | "group" | "supergroup" | "channel"; offset?: string }): string {
    if (!this.enabled) throw new Error("userTypesInline: inline mode is off (server option inlineMode)");
    if (opts.query.length > 256) throw new Error("userTypesInline: an inline query is at most 256 characters");
    const from = this.chats.userOf(opts.from);
    const id = `iq${this.nextId++}${Date.now()}`;
    this.queries.set(id, { from, query: opts.query, at: Date.now() });
    this.updates.push({
      inline_query: stripUndefined({ id, from: stripUndefined({ ...from, is_bot: false }), query: opts.query, offset: opts.offset ?? "", chat_type: opts.chatType }),
    });
    return id;
  }

  /** The bot's answer to an inline query, if any. */
  answer(queryId: string): InlineAnswer | undefined {
    return this.queries.get(queryId)?.answer;
  }

  /**
   * The user picks a result of the answer: it is sent into `chat` as their message via the bot. Returns the message
   * and, when the result had an inline keyboard, its inline_message_id.
   */
  userChooses(opts: { queryId: string; resultId: string; chat: number }): { message: Message; inlineMessageId?: string } {
    const query = this.queries.get(opts.queryId);
    if (!query?.checked) throw new Error(`userChoosesInlineResult: query ${opts.queryId} has no answer`);
    const result = query.checked.find((r) => r.id === opts.resultId);
    if (!result) throw new Error(`userChoosesInlineResult: no result ${opts.resultId} in the answer`);
    const state = this.chats.requireState(opts.chat);
    const msg = this.messages.create(state, query.from);
    msg.via_bot = true;
    const { content } = result;
    if (content.text !== undefined) msg.text = content.text;
    if (content.entities) msg.entities = content.entities;
    if (content.caption !== undefined) msg.caption = content.caption;
    if (content.photoUrl !== undefined) msg.photo_url = content.photoUrl;
    if (content.reply_markup !== undefined) msg.reply_markup = content.reply_markup;
    const inlineMessageId = result.hasKeyboard ? this.messages.registerInline(msg) : undefined;
    const message = this.messages.toApi(msg);
    if (botReceives(this.chats, state) && state.chat.type !== "private") this.updates.push({ message });
    if (this.feedback) {
      this.updates.push({
        chosen_inline_result: stripUndefined({
          result_id: result.id,
          from: stripUndefined({ ...query.from, is_bot: false }),
          query: query.query,
          inline_message_id: inlineMessageId,
        }),
      });
    }
    return { message: message as unknown as Message, inlineMessageId };
  }

  methods(): Methods {
    return {
      answerInlineQuery: (p) => {
        const id = p.str("inline_query_id");
        if (id === undefined || id === "") throw badRequest("parameter \"inline_query_id\" is required");
        const raw = p.json("results", "can't parse inline query results JSON object");
        if (!Array.isArray(raw)) throw badRequest("can't parse inline query results JSON object");
        if (raw.length > 50) throw badRequest("RESULTS_TOO_MUCH");
        const checked = raw.map(checkResult);
        const ids = new Set(checked.map((r) => r.id));
        if (ids.size !== checked.length) throw badRequest("RESULT_ID_DUPLICATE");
        const cacheTime = p.int("cache_time") ?? 300;
        if (cacheTime < 0) throw badRequest("CACHE_TIME_INVALID");
        const isPersonal = p.bool("is_personal") ?? false;
        const nextOffset = p.str("next_offset");
        if (nextOffset !== undefined && Buffer.byteLength(nextOffset) > 64) throw badRequest("NEXT_OFFSET_INVALID");
        const button = p.json("button", "can't parse inline query results button JSON object");
        const query = this.queries.get(id);
        if (!query || query.answer || Date.now() - query.at > ANSWER_WINDOW_MS) throw badRequest(QUERY_TOO_OLD);
        query.answer = stripUndefined({ results: raw as Json[], cache_time: cacheTime, is_personal: isPersonal, next_offset: nextOffset, button });
        query.checked = checked;
        return true;
      },
    };
  }
}
