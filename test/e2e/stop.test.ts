/**
 * Stopping an answer: the draft's stop button (stopped_message_generation) in private chats, the Stop button under a
 * message streaming by edits in groups, and /stop. The model's HTTP stream is closed early (the OpenAI test server
 * sees it), the text so far is the final message with a "stopped" note, history keeps it marked, and only what was
 * used is counted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeChat, FakeUser } from "../servers/bot-api.js";
import { botText, newGroup, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";
import { countTokens } from "../../src/ai/tokens.js";

let h: Harness;
beforeAll(async () => {
  // A budget, so what answers hold and use is tracked against it.
  h = await startHarness({ env: { DAILY_TOKEN_LIMIT_PER_USER: "10000000" } });
});
afterAll(() => h.close());

const LONG = Array.from({ length: 400 }, (_, i) => `word${i}`).join(" ");
const history = (key: string) => h.app.deps.history.load(key);

let nextUserId = 70_000 + Math.floor(Math.random() * 1e6);
function member(chat: FakeChat, status: "creator" | "administrator" | "member"): FakeUser {
  const u: FakeUser = { id: nextUserId++, first_name: `${status}${nextUserId}`, language_code: "en" };
  h.telegram.setChatMember(chat.id, u, status);
  return u;
}

/** The text of the callback answer to the press with this id. */
function callbackAnswer(id: string): unknown {
  return h.telegram.calls.find((c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === id)?.params.text;
}

/** A long answer starts streaming in a group: returns the question and the message it is being edited into. */
async function groupAnswerStreaming(chat: FakeChat, from: FakeUser) {
  h.openai.enqueue({ text: LONG, chunkSize: 4, delayMs: 25 });
  const stream = h.openai.nextChatStream();
  const { message_id: question } = h.telegram.userSends({ chat: chat.id, from, text: "/ask tell me a long story" });
  await h.telegram.waitFor(
    (c) => c.method === "sendMessage" && Number(c.params.chat_id) === chat.id && c.status === 200 && c.params.reply_markup !== undefined,
    10_000,
  );
  const message = h.telegram.botMessages(chat.id).at(-1)!;
  return { question, message, stream: await stream };
}

describe("the draft's stop button (private chat)", () => {
  it("stops the answer at once: stream closed early, partial text final with a note, history marked, usage of what was used", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: LONG, chunkSize: 4, delayMs: 20 });
    const streamStarted = h.openai.nextChatStream();
    const target = h.app.handled + 2;
    h.telegram.userSends({ chat: chat.id, from: user, text: "tell me a long story" });
    await h.telegram.waitFor((c) => c.method === "sendMessageDraft" && Number(c.params.chat_id) === chat.id && c.status === 200 && String(c.params.text).length > 20, 10_000);
    const stream = await streamStarted;
    const abortedBefore = h.openai.abortedChatStreams().length;

    expect(h.telegram.userStopsDraft({ chat: chat.id })).toBe(true);
    await h.app.whenHandled(target, 10_000);
    const record = await stream.ended;

    // The model request was aborted: the HTTP stream closed by the bot, not read to the end.
    expect(record.aborted).toBe(true);
    expect(record.completed).toBe(false);
    expect(h.openai.abortedChatStreams()).toHaveLength(abortedBefore + 1);
    expect(record.text.length).toBeLessThan(LONG.length);
    // Every draft had Telegram's stop button.
    const drafts = h.telegram.drafts(chat.id);
    expect(drafts.length).toBeGreaterThan(0);
    expect(drafts.flatMap((d) => d.history).every((u) => u.can_stop === true)).toBe(true);

    // One final message: the text so far and the note.
    const messages = h.telegram.botMessages(chat.id);
    expect(messages).toHaveLength(1);
    const shown = messages[0]!.text!;
    expect(shown.endsWith("\n\nStopped.")).toBe(true);
    const partial = shown.slice(0, -"\n\nStopped.".length);
    expect(partial.length).toBeGreaterThan(0);
    expect(LONG.startsWith(partial)).toBe(true);
    expect(record.text.startsWith(partial)).toBe(true);

    // History keeps the partial answer, marked as stopped.
    const turns = await history(`history:${chat.id}`);
    expect(turns.map((t) => t.role)).toEqual(["user", "assistant"]);
    expect(turns[1]).toMatchObject({ content: partial, stopped: true, messageIds: [messages[0]!.message_id] });

    // Only what was used is counted: the request's prompt and the partial answer's tokens, counted locally.
    const usage = await h.app.deps.usage.get({ userId: user.id });
    expect(usage.today.calls).toBe(1);
    // At least what was shown, at most what the server wrote before the close (a chunk may arrive just as the stop
    // does: it was generated, so it counts, though it is not shown).
    expect(usage.today.completionTokens).toBeGreaterThanOrEqual(countTokens(partial, h.app.deps.encoding));
    expect(usage.today.completionTokens).toBeLessThanOrEqual(countTokens(record.text, h.app.deps.encoding));
    expect(usage.today.completionTokens).toBeLessThan(countTokens(LONG, h.app.deps.encoding));
    expect(usage.today.promptTokens).toBeGreaterThan(0);
    // The budget's hold settled to what was used: nothing is left held.
    const used = usage.today.promptTokens + usage.today.completionTokens;
    expect(await h.app.deps.limits.budgetStatus({ sender: { userId: user.id } })).toMatchObject({ user: { tokens: { used, reserved: 0 } } });
    expect(h.app.deps.answers.size).toBe(0);

    // A follow-up sees the stopped answer, marked.
    h.openai.enqueue({ text: "Going on." });
    await say(h, { chat: chat.id, from: user, text: "why did you stop?" });
    const request = h.openai.chatRequests().at(-1)!.messages;
    expect(request.at(-2)).toEqual({ role: "assistant", content: `${partial}\n\n[The user stopped this answer here.]` });
  });

  it("in Chinese, the note is Chinese", async () => {
    const { user, chat } = newPrivateChat(h, { language_code: "zh-hans" });
    h.openai.enqueue({ text: LONG, chunkSize: 4, delayMs: 20 });
    const target = h.app.handled + 2;
    h.telegram.userSends({ chat: chat.id, from: user, text: "讲个长故事" });
    await h.telegram.waitFor((c) => c.method === "sendMessageDraft" && Number(c.params.chat_id) === chat.id && c.status === 200, 10_000);
    h.telegram.userStopsDraft({ chat: chat.id });
    await h.app.whenHandled(target, 10_000);
    expect(botText(h, chat.id).endsWith("\n\n已停止。")).toBe(true);
  });

  it("for an unknown or finished draft is ignored: nothing sent, no model call", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "A short answer." });
    await say(h, { chat: chat.id, from: user, text: "hi" });
    const [draft] = h.telegram.drafts(chat.id);
    const calls = h.telegram.calls.length;
    const requests = h.openai.chatRequests().length;
    for (const draftId of [draft!.draft_id, 424242]) {
      const target = h.app.handled + 1;
      h.telegram.pushUpdate({ stopped_message_generation: { chat: { id: chat.id, type: "private", first_name: user.first_name }, draft_id: draftId } });
      await h.app.whenHandled(target);
    }
    expect(h.telegram.calls.slice(calls).filter((c) => c.method !== "getUpdates")).toEqual([]);
    expect(h.openai.chatRequests()).toHaveLength(requests);
    expect(botText(h, chat.id)).toBe("A short answer.");
  });
});

describe("the Stop button (groups)", () => {
  it("stops for the asker; another member is refused and nothing stops; the button is gone once final", async () => {
    const { user: asker, chat } = newGroup(h);
    const other = member(chat, "member");
    const target = h.app.handled + 3;
    const { question, message, stream } = await groupAnswerStreaming(chat, asker);
    expect(message.reply_markup).toEqual({ inline_keyboard: [[{ text: "⏹ Stop", callback_data: `stop:${question}` }]] });

    const refused = h.telegram.userPresses({ chat: chat.id, from: other, messageId: message.message_id, data: `stop:${question}` });
    await h.telegram.waitFor((c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === refused);
    expect(callbackAnswer(refused)).toBe("Only the person who asked (or an admin) can stop this answer.");
    expect(stream.aborted).toBe(false);

    const pressed = h.telegram.userPresses({ chat: chat.id, from: asker, messageId: message.message_id, data: `stop:${question}` });
    await h.app.whenHandled(target, 10_000);
    expect(callbackAnswer(pressed)).toBe("Stopped.");
    expect((await stream.ended).aborted).toBe(true);
    const final = h.telegram.message(chat.id, message.message_id)!;
    expect(final.text!.endsWith("\n\nStopped.")).toBe(true);
    // No Stop button on the final text; the Regenerate button of the last answer instead.
    expect(JSON.stringify(final.reply_markup)).not.toContain("stop:");
    expect(final.reply_markup).toEqual({ inline_keyboard: [[{ text: "🔄 Regenerate", callback_data: `regen:${question}` }]] });
    const turns = await history(`history:${chat.id}`);
    expect(turns[1]).toMatchObject({ stopped: true });
  });

  it("stops for an admin; an old Stop button says the answer is finished", async () => {
    const { user: asker, chat } = newGroup(h);
    const admin = member(chat, "administrator");
    const target = h.app.handled + 2;
    const { question, message, stream } = await groupAnswerStreaming(chat, asker);
    const pressed = h.telegram.userPresses({ chat: chat.id, from: admin, messageId: message.message_id, data: `stop:${question}` });
    await h.app.whenHandled(target, 10_000);
    expect(callbackAnswer(pressed)).toBe("Stopped.");
    expect((await stream.ended).aborted).toBe(true);

    const requests = h.openai.chatRequests().length;
    const late = h.telegram.userPresses({ chat: chat.id, from: asker, messageId: message.message_id, data: `stop:${question}` });
    await h.app.whenHandled(target + 1);
    expect(callbackAnswer(late)).toBe("This answer is finished.");
    expect(h.openai.chatRequests()).toHaveLength(requests);
  });
});

describe("the Stop button (private chat without drafts)", () => {
  it("streams by edits with a Stop button, which stops the answer; the final text has no Stop button", async () => {
    const { user, chat } = newPrivateChat(h);
    h.telegram.failNext("sendMessageDraft", { error_code: 400, description: "Bad Request: TEXTDRAFT_PEER_INVALID" });
    h.openai.enqueue({ text: LONG, chunkSize: 4, delayMs: 20 });
    const stream = h.openai.nextChatStream();
    const target = h.app.handled + 2;
    const { message_id: question } = h.telegram.userSends({ chat: chat.id, from: user, text: "tell me a long story" });
    await h.telegram.waitFor((c) => c.method === "sendMessage" && Number(c.params.chat_id) === chat.id && c.status === 200, 10_000);
    const message = h.telegram.botMessages(chat.id)[0]!;
    expect(message.reply_markup).toEqual({ inline_keyboard: [[{ text: "⏹ Stop", callback_data: `stop:${question}` }]] });
    const pressed = h.telegram.userPresses({ chat: chat.id, from: user, messageId: message.message_id, data: `stop:${question}` });
    await h.app.whenHandled(target, 10_000);
    expect(callbackAnswer(pressed)).toBe("Stopped.");
    expect((await (await stream).ended).aborted).toBe(true);
    const final = h.telegram.message(chat.id, message.message_id)!;
    expect(final.text!.endsWith("\n\nStopped.")).toBe(true);
    expect(final.reply_markup).toEqual({ inline_keyboard: [[{ text: "🔄 Regenerate", callback_data: `regen:${question}` }]] });
  });
});

describe("/stop", () => {
  it("in a private chat stops the answer in flight; with none, says there is nothing to stop", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: LONG, chunkSize: 4, delayMs: 20 });
    const stream = h.openai.nextChatStream();
    const target = h.app.handled + 2;
    h.telegram.userSends({ chat: chat.id, from: user, text: "tell me a long story" });
    await h.telegram.waitFor((c) => c.method === "sendMessageDraft" && Number(c.params.chat_id) === chat.id && c.status === 200, 10_000);
    h.telegram.userSends({ chat: chat.id, from: user, text: "/stop" });
    await h.app.whenHandled(target, 10_000);
    expect((await (await stream).ended).aborted).toBe(true);
    expect(h.telegram.botMessages(chat.id).map((m) => m.text!.endsWith("\n\nStopped."))).toEqual([true]);

    await say(h, { chat: chat.id, from: user, text: "/stop" });
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("There is no answer being written to stop.");
  });

  it("in a group stops only the sender's own answers, or every one for an admin", async () => {
    const { user: asker, chat } = newGroup(h);
    const other = member(chat, "member");
    const admin = member(chat, "administrator");
    const target = h.app.handled + 3;
    const { stream } = await groupAnswerStreaming(chat, asker);
    await say(h, { chat: chat.id, from: other, text: "/stop" }).catch(() => undefined);
    expect(stream.aborted).toBe(false);
    h.telegram.userSends({ chat: chat.id, from: admin, text: "/stop" });
    await h.app.whenHandled(target, 10_000);
    expect((await stream.ended).aborted).toBe(true);
    const texts = h.telegram.botMessages(chat.id).map((m) => m.text!);
    expect(texts.filter((t) => t === "There is no answer being written to stop.")).toHaveLength(1);
    expect(texts.some((t) => t.endsWith("\n\nStopped."))).toBe(true);
  });
});
