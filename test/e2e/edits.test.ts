/**
 * Editing a question: the last one answered (or the one being answered) is answered again in place, in the chat and
 * in history; older edits and edits the bot has nothing to do with are ignored.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UserSendsOptions } from "../servers/bot-api.js";
import { edit } from "../helpers/edits.js";
import { botText, chatCalls, newGroup, newPrivateChat, startHarness, type Harness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

/** Sends a message and waits until the bot has handled it; returns its message_id. */
async function ask(opts: UserSendsOptions): Promise<number> {
  const target = h.app.handled + 1;
  const { message_id } = h.telegram.userSends(opts);
  await h.app.whenHandled(target);
  return message_id;
}

const history = (key: string) => h.app.deps.history.load(key);
const lastRequest = () => h.openai.chatRequests().at(-1)!.messages.map((m) => `${m.role}: ${String(m.content)}`);

describe("an edited question", () => {
  it("just answered (the last turn): the answer is replaced in place, and so is the exchange in history", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "Paris is the capital of France." }, { text: "Berlin is the capital of Germany." }, { text: "Madrid is the capital of Spain." });
    await ask({ chat: chat.id, from: user, text: "hello" });
    const question = await ask({ chat: chat.id, from: user, text: "What is the capital of Germany?" });
    const [, answer] = h.telegram.botMessages(chat.id);
    expect(answer!.text).toBe("Berlin is the capital of Germany.");
    const from = h.telegram.calls.length;

    await edit(h, chat.id, question, "What is the capital of Spain?");

    // The same message now holds the new answer; nothing new was sent.
    expect(h.telegram.botMessages(chat.id).map((m) => m.text)).toEqual(["Paris is the capital of France.", "Madrid is the capital of Spain."]);
    expect(h.telegram.message(chat.id, answer!.message_id)!.text).toBe("Madrid is the capital of Spain.");
    expect(chatCalls(h, chat.id, from).filter((c) => c.method === "sendMessage")).toEqual([]);
    // The model saw the conversation without the question that was edited away.
    expect(lastRequest().slice(1)).toEqual(["user: hello", "assistant: Paris is the capital of France.", "user: What is the capital of Spain?"]);
    // History: the last exchange replaced, never both.
    const turns = await history(`history:${chat.id}`);
    expect(turns.map((t) => `${t.role}: ${t.content}`)).toEqual([
      "user: hello",
      "assistant: Paris is the capital of France.",
      "user: What is the capital of Spain?",
      "assistant: Madrid is the capital of Spain.",
    ]);
    expect(turns[2]).toMatchObject({ messageId: question });
    expect(turns[3]).toMatchObject({ messageIds: [answer!.message_id] });
  });

  it("while its answer is still streaming: that answer is aborted at once and replaced by the new one", async () => {
    const { user, chat } = newPrivateChat(h);
    // Twenty seconds of answer: the edit must not wait for it.
    h.openai.enqueue({ text: "slow ".repeat(400).trim(), chunkSize: 4, delayMs: 50 }, { text: "The new answer." });
    const started = Date.now();
    const target = h.app.handled + 2;
    const { message_id: question } = h.telegram.userSends({ chat: chat.id, from: user, text: "tell me a long story" });
    await h.telegram.waitFor((c) => c.method === "sendMessageDraft" && Number(c.params.chat_id) === chat.id && c.status === 200, 10_000);
    h.telegram.userEdits({ chat: chat.id, messageId: question, text: "tell me a short one" });
    await h.app.whenHandled(target, 15_000);
    expect(Date.now() - started).toBeLessThan(10_000);

    // One answer in the chat: the new one, without a "stopped" note, the old text gone.
    expect(botText(h, chat.id)).toBe("The new answer.");
    expect(h.telegram.botMessages(chat.id)).toHaveLength(1);
    expect(lastRequest().slice(1)).toEqual(["user: tell me a short one"]);
    const turns = await history(`history:${chat.id}`);
    expect(turns.map((t) => `${t.role}: ${t.content}`)).toEqual(["user: tell me a short one", "assistant: The new answer."]);
    expect(h.app.deps.answers.size).toBe(0);
  });

  it("in a group while its answer streams: the answer being edited is taken over by the new one", async () => {
    const { user, chat } = newGroup(h);
    const username = h.app.bot.botInfo.username;
    h.openai.enqueue({ text: "long ".repeat(300).trim(), chunkSize: 4, delayMs: 40 }, { text: "Short answer." });
    const target = h.app.handled + 2;
    const { message_id: question } = h.telegram.userSends({ chat: chat.id, from: user, text: `@${username} a long one please` });
    await h.telegram.waitFor((c) => c.method === "sendMessage" && Number(c.params.chat_id) === chat.id && c.status === 200, 10_000);
    const [streaming] = h.telegram.botMessages(chat.id);
    h.telegram.userEdits({ chat: chat.id, messageId: question, text: `@${username} a short one please` });
    await h.app.whenHandled(target, 15_000);
    expect(h.telegram.botMessages(chat.id).map((m) => [m.message_id, m.text, m.reply_to_message_id])).toEqual([
      [streaming!.message_id, "Short answer.", question],
    ]);
    const turns = await history(`history:${chat.id}`);
    expect(turns.map((t) => t.content)).toEqual(["a short one please", "Short answer."]);
  });

  it("that no longer addresses the bot does not stop its answer, and is not answered", async () => {
    const { user, chat } = newGroup(h);
    const username = h.app.bot.botInfo.username;
    const full = "steady ".repeat(40).trim();
    h.openai.enqueue({ text: full, chunkSize: 8, delayMs: 30 });
    const target = h.app.handled + 2;
    const { message_id: question } = h.telegram.userSends({ chat: chat.id, from: user, text: `@${username} go on` });
    await h.telegram.waitFor((c) => c.method === "sendMessage" && Number(c.params.chat_id) === chat.id, 10_000);
    const requests = h.openai.chatRequests().length;
    h.telegram.userEdits({ chat: chat.id, messageId: question, text: "never mind, friends" });
    await h.app.whenHandled(target, 15_000);
    expect(botText(h, chat.id)).toBe(full);
    expect(h.openai.chatRequests()).toHaveLength(requests);
  });

  it("in a group (/ask edited): the reply to it is edited in place", async () => {
    const { user, chat } = newGroup(h);
    h.openai.enqueue({ text: "Two." }, { text: "Three." });
    const question = await ask({ chat: chat.id, from: user, text: "/ask what is 1+1?" });
    const [answer] = h.telegram.botMessages(chat.id);
    await edit(h, chat.id, question, "/ask what is 1+2?");
    expect(h.telegram.botMessages(chat.id).map((m) => [m.message_id, m.text, m.reply_to_message_id])).toEqual([
      [answer!.message_id, "Three.", question],
    ]);
    const turns = await history(`history:${chat.id}`);
    expect(turns.map((t) => t.content)).toEqual(["what is 1+2?", "Three."]);
  });

  it("that is not the last turn is ignored: no call, history unchanged", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "first answer" }, { text: "second answer" });
    const first = await ask({ chat: chat.id, from: user, text: "first" });
    await ask({ chat: chat.id, from: user, text: "second" });
    const before = await history(`history:${chat.id}`);
    const requests = h.openai.chatRequests().length;
    const from = h.telegram.calls.length;
    await edit(h, chat.id, first, "first, edited");
    expect(h.openai.chatRequests()).toHaveLength(requests);
    expect(chatCalls(h, chat.id, from)).toEqual([]);
    expect(await history(`history:${chat.id}`)).toEqual(before);
  });

  it("in a group, not addressed to the bot or never answered, is ignored", async () => {
    const { user, chat } = newGroup(h);
    const username = h.app.bot.botInfo.username;
    const chatter = await ask({ chat: chat.id, from: user, text: "just chatting" });
    const requests = h.openai.chatRequests().length;
    const from = h.telegram.calls.length;
    await edit(h, chat.id, chatter, "still just chatting");
    // Now mentioning the bot, but the bot never answered it: an edit is not a new question.
    await edit(h, chat.id, chatter, `@${username} what now?`);
    expect(h.openai.chatRequests()).toHaveLength(requests);
    expect(chatCalls(h, chat.id, from)).toEqual([]);
  });

  it("with the same text (Telegram re-sends unchanged messages, e.g. a link preview) is not answered again", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "once" });
    const question = await ask({ chat: chat.id, from: user, text: "same" });
    const requests = h.openai.chatRequests().length;
    await edit(h, chat.id, question, "same");
    expect(h.openai.chatRequests()).toHaveLength(requests);
    expect(botText(h, chat.id)).toBe("once");
  });

  it("whose old answer was longer: the parts the new answer does not need are deleted", async () => {
    const { user, chat } = newPrivateChat(h);
    const long = Array.from({ length: 12 }, (_, i) => `Paragraph ${i}: ${"lorem ipsum dolor sit amet ".repeat(15).trim()}.`).join("\n\n");
    h.openai.enqueue({ text: long, chunkSize: 500 }, { text: "Short now." });
    const question = await ask({ chat: chat.id, from: user, text: "long please" });
    const old = h.telegram.botMessages(chat.id);
    expect(old.length).toBeGreaterThan(1);
    await edit(h, chat.id, question, "short please");
    expect(h.telegram.botMessages(chat.id).map((m) => [m.message_id, m.text])).toEqual([[old[0]!.message_id, "Short now."]]);
    const turns = await history(`history:${chat.id}`);
    expect(turns.at(-1)).toMatchObject({ content: "Short now.", messageIds: [old[0]!.message_id] });
  });

  it("whose old answer can no longer be edited: it is deleted and the new answer sent, never two answers", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "old answer" }, { text: "new answer" });
    const question = await ask({ chat: chat.id, from: user, text: "old question" });
    const [old] = h.telegram.botMessages(chat.id);
    h.telegram.failNext("editMessageText", { error_code: 400, description: "Bad Request: message can't be edited" });
    await edit(h, chat.id, question, "new question");
    const now = h.telegram.botMessages(chat.id);
    expect(now.map((m) => m.text)).toEqual(["new answer"]);
    expect(now[0]!.message_id).not.toBe(old!.message_id);
    const turns = await history(`history:${chat.id}`);
    expect(turns.map((t) => t.content)).toEqual(["new question", "new answer"]);
    expect(turns[1]).toMatchObject({ messageIds: [now[0]!.message_id] });
  });
});
