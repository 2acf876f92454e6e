/**
 * Inline mode and guest mode end to end: `@bot question` answered with one cached result and no model call, the
 * chosen result's message filled with the streamed answer by edits (inline_message_id), limits and access applied to
 * the user, answers too long for one message cut with a note, and guest messages answered with answerGuestQuery and
 * edits, the replied message going along as context. No chat history anywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newGroup, newPrivateChat, startHarness, type Harness } from "../helpers/harness.js";
import type { Call } from "../servers/bot-api.js";

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_MAX_CALLS: "3" } });
});
afterAll(() => h.close());

const BOT = "test_ai_bot";

/** The user types an inline query; resolves once the bot has handled it. */
async function typeInline(harness: Harness, from: number, query: string): Promise<string> {
  const target = harness.app.handled + 1;
  const id = harness.telegram.userTypesInline({ from, query, chatType: "supergroup" });
  await harness.app.whenHandled(target);
  return id;
}

/** The user picks the "Ask" result into `chat`; resolves once the bot has answered into it. */
async function choose(harness: Harness, queryId: string, chat: number): Promise<string> {
  const target = harness.app.handled + 1;
  const { inlineMessageId } = harness.telegram.userChoosesInlineResult({ queryId, resultId: "ask", chat });
  await harness.app.whenHandled(target);
  return inlineMessageId!;
}

/** Takes the bot out of a group (it hears of it: one my_chat_member update, handled before going on). */
async function removeBot(harness: Harness, chatId: number): Promise<void> {
  const target = harness.app.handled + 1;
  harness.telegram.removeBot(chatId);
  await harness.app.whenHandled(target);
}

const inlineEdits = (harness: Harness, inlineMessageId: string): Call[] =>
  harness.telegram.calls.filter((c) => c.method === "editMessageText" && c.params.inline_message_id === inlineMessageId);

describe("inline mode", () => {
  it("answers each query with one 'Ask' result carrying a keyboard, spends nothing, and caches it", async () => {
    const { user } = newPrivateChat(h);
    const requests = h.openai.requests.length;
    const queryId = await typeInline(h, user.id, "why is the sky blue?");
    const answer = h.telegram.inlineAnswer(queryId)!;
    expect(answer).toMatchObject({ cache_time: 30, is_personal: true });
    expect(answer.results).toEqual([
      expect.objectContaining({
        type: "article",
        id: "ask",
        title: "Ask: why is the sky blue?",
        input_message_content: expect.objectContaining({ message_text: "❓ why is the sky blue?\n\nThinking…" }),
        reply_markup: { inline_keyboard: [[{ text: "⏳ Answering…", callback_data: "inline:wait" }]] },
      }),
    ]);
    // The same query again: the result comes from this process's cache; nothing reached the model at all.
    const logs = h.logs.length;
    const again = await typeInline(h, user.id, "why is the sky blue?");
    expect(h.telegram.inlineAnswer(again)!.results).toEqual(answer.results);
    expect(h.logs.slice(logs).some((l) => l.includes("inline result from the cache"))).toBe(true);
    const empty = await typeInline(h, user.id, "   ");
    expect(h.telegram.inlineAnswer(empty)!.results).toEqual([]);
    expect(h.openai.requests.length).toBe(requests);
    // Chinese users read it in Chinese.
    const zh = newPrivateChat(h, { language_code: "zh" }).user;
    const zhQuery = await typeInline(h, zh.id, "天空为什么是蓝色的？");
    expect(h.telegram.inlineAnswer(zhQuery)!.results[0]).toMatchObject({ title: "提问：天空为什么是蓝色的？" });
  });

  it("streams the chosen result's answer into its message by edits, formatted, keyboard gone, no history", async () => {
    const { user } = newPrivateChat(h);
    const { chat: group } = newGroup(h);
    await removeBot(h, group.id);
    const queryId = await typeInline(h, user.id, "explain rust ownership");
    h.openai.enqueue({ text: "Every value has **one owner**; when the owner goes, the value is dropped.", chunkSize: 8, delayMs: 5 });
    const inlineMessageId = await choose(h, queryId, group.id);

    const request = h.openai.chatRequests().at(-1)!;
    expect(request.messages.map((m) => m.role)).toEqual(["system", "user"]);
    expect(request.messages[1]!.content).toBe("explain rust ownership");
    const message = h.telegram.inlineMessage(inlineMessageId)!;
    expect(message.text).toBe("❓ explain rust ownership\n\nEvery value has one owner; when the owner goes, the value is dropped.");
    expect(message.entities).toEqual(
      expect.arrayContaining([
        { type: "blockquote", offset: 0, length: "❓ explain rust ownership".length },
        { type: "bold", offset: message.text!.indexOf("one owner"), length: "one owner".length },
      ]),
    );
    expect(message.reply_markup).toBeUndefined();
    const edits = inlineEdits(h, inlineMessageId);
    expect(edits.length).toBeGreaterThanOrEqual(1);
    for (const edit of edits) expect(edit.params).not.toHaveProperty("chat_id");
    expect(h.telegram.stats.tooManyRequests).toBe(0);
    // Spent by the user, in no chat.
    expect((await h.app.deps.usage.get({ userId: user.id })).today.calls).toBe(1);
  });

  it("tells a rate-limited user in the message, and cuts an answer longer than one message with a note", async () => {
    const { user } = newPrivateChat(h);
    const long = `${"Ownership keeps memory safe without a garbage collector. ".repeat(90)}\n\nThe end.`;
    h.openai.setDefault(() => ({ text: long, chunkSize: 400 }));
    try {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push(await choose(h, await typeInline(h, user.id, `question ${i}`), user.id));
      const cut = h.telegram.inlineMessage(ids[0]!)!.text!;
      expect(cut.length).toBeLessThanOrEqual(4096);
      expect(cut).toMatch(/^❓ question 0\n\nOwnership keeps memory safe/);
      expect(cut).toMatch(/Ownership keeps memory safe without a garbage collector\.\n\nThe answer was longer than one message allows; ask me in a private chat for all of it\.$/);
      // Three calls a minute: the fourth question is refused in its own message, and nothing is spent on it.
      expect(h.telegram.inlineMessage(ids[3]!)!.text).toMatch(/^You're asking faster than this bot allows/);
      expect(h.openai.chatRequests().filter((r) => JSON.stringify(r.messages).includes("question 3"))).toEqual([]);
    } finally {
      h.openai.setDefault(() => ({ text: "ok" }));
    }
  });

  it("refuses users outside the allow list without spending anything", async () => {
    const locked = await startHarness({ env: { ALLOWED_USER_IDS: "1" } });
    try {
      const { user } = newPrivateChat(locked);
      const queryId = await typeInline(locked, user.id, "hello?");
      expect(locked.telegram.inlineAnswer(queryId)!.results).toEqual([
        expect.objectContaining({ id: "denied", title: "Not available", input_message_content: expect.objectContaining({ message_text: expect.stringMatching(/^Sorry, this bot is private/) }) }),
      ]);
      expect(locked.openai.requests).toEqual([]);
    } finally {
      await locked.close();
    }
  });
});

describe("guest mode", () => {
  it("answers a guest message with answerGuestQuery, then streams into that message with the replied message as context", async () => {
    const { user, chat } = newGroup(h);
    await removeBot(h, chat.id);
    const other = newPrivateChat(h).user;
    const context = h.telegram.userSends({ chat: chat.id, from: other, text: "Paris is in Germany." });
    h.openai.enqueue({ text: "No: Paris is the capital of **France**.", chunkSize: 6, delayMs: 5 });
    const target = h.app.handled + 1;
    h.telegram.userSummonsGuest({ chat: chat.id, from: user, text: `@${BOT} is that right?`, replyTo: context.message_id });
    await h.app.whenHandled(target);

    const answered = h.telegram.calls.find((c) => c.method === "answerGuestQuery")!;
    expect(answered.params.result).toMatchObject({ type: "article", input_message_content: { message_text: "❓ is that right?\n\nThinking…" } });
    const inlineMessageId = (answered.result as { inline_message_id: string }).inline_message_id;
    const message = h.telegram.inlineMessage(inlineMessageId)!;
    expect(message.text).toBe("❓ is that right?\n\nNo: Paris is the capital of France.");
    expect(message.guest_bot_caller_user_id).toBe(user.id);
    expect(inlineEdits(h, inlineMessageId).length).toBeGreaterThanOrEqual(1);
    const asked = h.openai.chatRequests().at(-1)!;
    expect(asked.messages.map((m) => m.role)).toEqual(["system", "user"]);
    expect(asked.messages[1]!.content).toBe(`is that right?\n\nThe message this refers to, by ${other.first_name}:\n"""\nParis is in Germany.\n"""`);
    expect(await h.app.deps.history.load(`history:${chat.id}`)).toEqual([]);
  });
});
