// Inline mode, guest mode and allowed_updates on the test Bot API server.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Api } from "grammy";
import type { InlineQueryResultArticle } from "grammy/types";
import type { BotApiServer } from "./bot-api.js";
import { alice, bob, failure, GROUP, startTestBed } from "./bot-api-testing.js";

let server: BotApiServer;
let api: Api;

beforeEach(async () => {
  ({ server, api } = await startTestBed());
});
afterEach(() => server.close());

const article = (id: string, text: string, keyboard = true): InlineQueryResultArticle => ({
  type: "article",
  id,
  title: `Ask: ${text}`,
  input_message_content: { message_text: text },
  ...(keyboard ? { reply_markup: { inline_keyboard: [[{ text: "…", callback_data: "wait" }]] } } : {}),
});

describe("inline mode", () => {
  it("queues inline_query, takes one valid answer, and sends the chosen result via the bot with an inline_message_id", async () => {
    expect(await api.getMe()).toMatchObject({ supports_inline_queries: true, supports_guest_queries: true });
    const queryId = server.userTypesInline({ from: alice, query: "what is rust?", chatType: "supergroup" });
    expect(server.pendingUpdates()[0]).toMatchObject({ inline_query: { id: queryId, from: { id: alice.id }, query: "what is rust?", offset: "", chat_type: "supergroup" } });

    await api.answerInlineQuery(queryId, [article("ask", "what is rust?")], { cache_time: 5, is_personal: true });
    expect(server.inlineAnswer(queryId)).toMatchObject({ cache_time: 5, is_personal: true });
    const twice = await failure(api.answerInlineQuery(queryId, [article("ask", "x")]));
    expect(twice.description).toBe("Bad Request: query is too old and response timeout expired or query ID is invalid");

    const { message, inlineMessageId } = server.userChoosesInlineResult({ queryId, resultId: "ask", chat: GROUP });
    expect(message).toMatchObject({ from: { id: alice.id }, via_bot: { id: server.botUser.id }, text: "what is rust?" });
    expect(inlineMessageId).toEqual(expect.any(String));
    expect(server.pendingUpdates().at(-1)).toMatchObject({ chosen_inline_result: { result_id: "ask", query: "what is rust?", inline_message_id: inlineMessageId } });

    // Edited by inline_message_id (no chat_id), answered with true, paced like a group message.
    const stop = { inline_keyboard: [[{ text: "Stop", callback_data: "stop" }]] };
    expect(await api.editMessageTextInline(inlineMessageId!, "Rust is a language", { reply_markup: stop })).toBe(true);
    expect(server.inlineMessage(inlineMessageId!)).toMatchObject({ text: "Rust is a language", edits: 1, reply_markup: stop });
    const press = server.userPresses({ from: bob, inlineMessageId: inlineMessageId!, data: "stop" });
    expect(server.pendingUpdates().at(-1)).toMatchObject({ callback_query: { id: press, inline_message_id: inlineMessageId, data: "stop" } });
    // Removing the keyboard is an edit of its own.
    expect(await api.editMessageReplyMarkupInline(inlineMessageId!)).toBe(true);
    const withChat = await failure(api.raw.editMessageText({ inline_message_id: inlineMessageId!, chat_id: GROUP, text: "x" }));
    expect(withChat.error_code).toBe(400);
    server.limits.perInlineMessage = { max: 3, windowMs: 60_000 };
    await api.editMessageTextInline(inlineMessageId!, "Rust is a language.");
    expect((await failure(api.editMessageTextInline(inlineMessageId!, "Rust is a language!"))).error_code).toBe(429);
  });

  it("sends no inline_message_id without an inline keyboard, and nothing chosen without inline feedback", async () => {
    const q1 = server.userTypesInline({ from: alice, query: "plain" });
    await api.answerInlineQuery(q1, [article("p", "plain", false)]);
    expect(server.userChoosesInlineResult({ queryId: q1, resultId: "p", chat: alice.id }).inlineMessageId).toBeUndefined();
    expect(server.pendingUpdates().at(-1)!.chosen_inline_result).not.toHaveProperty("inline_message_id");

    server.inlineFeedback = false;
    const q2 = server.userTypesInline({ from: alice, query: "quiet" });
    await api.answerInlineQuery(q2, [article("q", "quiet")]);
    const before = server.pendingUpdates().length;
    server.userChoosesInlineResult({ queryId: q2, resultId: "q", chat: alice.id });
    expect(server.pendingUpdates().length).toBe(before);
  });

  it("validates results: ids, count, titles, text, markup", async () => {
    const cases: Array<[unknown[], RegExp]> = [
      [[article("a", "x"), article("a", "y")], /RESULT_ID_DUPLICATE/],
      [[article("x".repeat(65), "x")], /RESULT_ID_INVALID/],
      [Array.from({ length: 51 }, (_, i) => article(`r${i}`, "x")), /RESULTS_TOO_MUCH/],
      [[{ type: "article", id: "t", input_message_content: { message_text: "x" } }], /title/],
      [[{ type: "article", id: "t", title: "T", input_message_content: { message_text: " " } }], /MESSAGE_EMPTY/],
      [[{ type: "article", id: "t", title: "T", input_message_content: { message_text: "*x*", parse_mode: "MarkdownV2" } }], /entities only/],
      [[{ ...article("t", "x"), reply_markup: { inline_keyboard: [[{ text: "plain" }]] } }], /Text buttons are unallowed/],
      [[{ type: "wormhole", id: "t" }], /unsupported inline query result type/],
    ];
    for (const [results, reason] of cases) {
      const queryId = server.userTypesInline({ from: alice, query: "q" });
      const err = await failure(api.raw.answerInlineQuery({ inline_query_id: queryId, results } as never));
      expect(err.description).toMatch(reason);
    }
    const offset = server.userTypesInline({ from: alice, query: "q" });
    expect((await failure(api.answerInlineQuery(offset, [], { next_offset: "o".repeat(65) }))).description).toMatch(/NEXT_OFFSET_INVALID/);
  });
});

describe("guest mode", () => {
  const OTHER = -100600;

  it("queues guest_message where the bot is not a member, answers once with an inline_message_id, then edits it", async () => {
    server.addChat({ id: OTHER, type: "supergroup", title: "Elsewhere" });
    server.removeBot(OTHER);
    server.setChatMember(OTHER, alice, "member");
    const context = server.userSends({ chat: OTHER, from: bob, text: "Paris is in Germany" });
    const guest = server.userSummonsGuest({ chat: OTHER, from: alice, text: "@test_ai_bot is that right?", replyTo: context.message_id });
    const update = server.pendingUpdates().find((u) => "guest_message" in u)!;
    expect(update.guest_message).toMatchObject({
      guest_query_id: guest.guest_query_id,
      chat: { id: OTHER },
      from: { id: alice.id },
      text: "@test_ai_bot is that right?",
      reply_to_message: { text: "Paris is in Germany" },
    });
    expect(server.pendingUpdates().some((u) => "message" in u)).toBe(false);

    const sent = await api.answerGuestQuery(guest.guest_query_id!, article("g", "Thinking…"));
    expect(sent.inline_message_id).toEqual(expect.any(String));
    const answer = server.inlineMessage(sent.inline_message_id)!;
    expect(server.toApiMessage(answer)).toMatchObject({ from: { id: server.botUser.id }, guest_bot_caller_user: { id: alice.id }, guest_bot_caller_chat: { id: OTHER }, text: "Thinking…" });
    expect(await api.editMessageTextInline(sent.inline_message_id, "No: Paris is in France.")).toBe(true);
    expect(server.inlineMessage(sent.inline_message_id)!.text).toBe("No: Paris is in France.");
    expect((await failure(api.answerGuestQuery(guest.guest_query_id!, article("g", "again")))).description).toMatch(/query ID is invalid/);
    // Where the bot is a member, users just write to it.
    expect(() => server.userSummonsGuest({ chat: GROUP, from: alice, text: "@test_ai_bot hi" })).toThrow(/is a member/);
  });
});

describe("allowed_updates", () => {
  it("delivers the new update types by default and only the asked-for ones once a list is given", async () => {
    const msg = server.userSends({ chat: alice.id, from: alice, text: "q" });
    server.userEdits({ chat: alice.id, messageId: msg.message_id, text: "q2" });
    server.userTypesInline({ from: alice, query: "x" });
    await api.sendMessageDraft(alice.id, 1, "…", { can_stop: true });
    server.userStopsDraft({ chat: alice.id });
    const all = await api.getUpdates({ timeout: 0, allowed_updates: [] });
    expect(all.map((u) => Object.keys(u).find((k) => k !== "update_id"))).toEqual(["message", "edited_message", "inline_query", "stopped_message_generation"]);

    server.userSends({ chat: alice.id, from: alice, text: "again" });
    server.userTypesInline({ from: alice, query: "y" });
    const only = await api.getUpdates({ offset: all.at(-1)!.update_id + 1, timeout: 0, allowed_updates: ["inline_query"] });
    expect(only.map((u) => Object.keys(u).find((k) => k !== "update_id"))).toEqual(["inline_query"]);
    // The setting stays for the next calls, and dropped updates are gone.
    server.userSends({ chat: alice.id, from: alice, text: "still dropped" });
    expect(await api.getUpdates({ offset: only[0]!.update_id + 1, timeout: 0 })).toEqual([]);
    expect(server.allowedUpdates).toEqual(["inline_query"]);
  });
});
