/**
 * Regenerate: /retry and the Regenerate button under the last answer ask the same question again; the new answer is a
 * new message and replaces the old exchange in history (the model never sees both); the button moves to the newest
 * answer; an old button says the answer is finished without calling the model; in groups only the asker regenerates.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeChat, FakeUser } from "../servers/bot-api.js";
import { newGroup, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";
import { makePng } from "../fixtures/images.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { OPENAI_MODEL: "gpt-4o-mini", OPENAI_VISION_MODEL: "gpt-4o" } });
});
afterAll(() => h.close());

const history = async (key: string) => (await h.app.deps.history.load(key)).map((t) => `${t.role}: ${t.content}`);
const lastRequest = () => h.openai.chatRequests().at(-1)!.messages.slice(1).map((m) => `${m.role}: ${String(m.content)}`);
const regenerate = (question: number) => ({ inline_keyboard: [[{ text: "🔄 Regenerate", callback_data: `regen:${question}` }]] });

/** Presses a button and waits until the bot has handled it; returns the callback answer's text (or true without). */
async function press(chat: number, from: FakeUser, messageId: number, data: string): Promise<unknown> {
  const target = h.app.handled + 1;
  const id = h.telegram.userPresses({ chat, from, messageId, data });
  await h.app.whenHandled(target, 10_000);
  const answer = h.telegram.calls.find((c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === id && c.status === 200);
  expect(answer).toBeDefined();
  return answer!.params.text ?? true;
}

async function ask(chat: FakeChat, from: FakeUser, text: string): Promise<number> {
  const target = h.app.handled + 1;
  const { message_id } = h.telegram.userSends({ chat: chat.id, from, text });
  await h.app.whenHandled(target, 10_000);
  return message_id;
}

describe("regenerate in a private chat", () => {
  it("the button under the last answer asks again: a new message replaces the exchange; the button moves; old buttons are finished", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "Paris." }, { text: "Berlin, first try." }, { text: "Berlin, second try." });
    const q1 = await ask(chat, user, "Capital of France?");
    const [a1] = h.telegram.botMessages(chat.id);
    expect(a1!.reply_markup).toEqual(regenerate(q1));
    const q2 = await ask(chat, user, "Capital of Germany?");
    const [, a2] = h.telegram.botMessages(chat.id);
    // The button moved to the newest answer.
    expect(a2!.reply_markup).toEqual(regenerate(q2));
    expect(h.telegram.message(chat.id, a1!.message_id)!.reply_markup).toBeUndefined();

    expect(await press(chat.id, user, a2!.message_id, `regen:${q2}`)).toBe(true);
    const messages = h.telegram.botMessages(chat.id);
    expect(messages.map((m) => m.text)).toEqual(["Paris.", "Berlin, first try.", "Berlin, second try."]);
    const a3 = messages[2]!;
    expect(a3.message_id).not.toBe(a2!.message_id);
    expect(a3.reply_markup).toEqual(regenerate(q2));
    expect(h.telegram.message(chat.id, a2!.message_id)!.reply_markup).toBeUndefined();
    // The model saw the question once, without the answer it replaces; history holds only the new exchange.
    expect(lastRequest()).toEqual(["user: Capital of France?", "assistant: Paris.", "user: Capital of Germany?"]);
    expect(await history(`history:${chat.id}`)).toEqual([
      "user: Capital of France?",
      "assistant: Paris.",
      "user: Capital of Germany?",
      "assistant: Berlin, second try.",
    ]);
    const turns = await h.app.deps.history.load(`history:${chat.id}`);
    expect(turns[2]).toMatchObject({ messageId: q2 });
    expect(turns[3]).toMatchObject({ messageIds: [a3.message_id] });

    // Old buttons (the replaced answer's, an older answer's): finished, no model call, nothing changes.
    const requests = h.openai.chatRequests().length;
    expect(await press(chat.id, user, a2!.message_id, `regen:${q2}`)).toBe("This answer is finished.");
    expect(await press(chat.id, user, a1!.message_id, `regen:${q1}`)).toBe("This answer is finished.");
    expect(await press(chat.id, user, a1!.message_id, `stop:${q1}`)).toBe("This answer is finished.");
    expect(h.openai.chatRequests()).toHaveLength(requests);
    expect(h.telegram.botMessages(chat.id)).toHaveLength(3);
  });

  it("/retry asks the last question again; with no history it says there is nothing to retry", async () => {
    const { user, chat } = newPrivateChat(h);
    await say(h, { chat: chat.id, from: user, text: "/retry" });
    expect(h.telegram.botMessages(chat.id).map((m) => m.text)).toEqual(["There is no question to answer again yet."]);
    h.openai.enqueue({ text: "One." }, { text: "Two." });
    const q = await ask(chat, user, "Pick a number");
    await say(h, { chat: chat.id, from: user, text: "/retry" });
    const texts = h.telegram.botMessages(chat.id).map((m) => m.text);
    expect(texts.slice(1)).toEqual(["One.", "Two."]);
    expect(lastRequest()).toEqual(["user: Pick a number"]);
    expect(await history(`history:${chat.id}`)).toEqual(["user: Pick a number", "assistant: Two."]);
    expect(h.telegram.botMessages(chat.id).at(-1)!.reply_markup).toEqual(regenerate(q));
  });

  it("a question about a photo is asked again with the photo, by the vision model", async () => {
    const { user, chat } = newPrivateChat(h);
    const png = makePng(64, 48, 7);
    h.openai.enqueue({ text: "A small picture." }, { text: "Still a small picture." });
    const target = h.app.handled + 1;
    const { message_id: q } = h.telegram.userSends({ chat: chat.id, from: user, photoSizes: [{ bytes: png, width: 64, height: 48 }], caption: "what is this?" });
    await h.app.whenHandled(target, 10_000);
    const first = h.openai.chatRequests().at(-1)!;
    const [a] = h.telegram.botMessages(chat.id);
    expect(a!.reply_markup).toEqual(regenerate(q));
    expect(await press(chat.id, user, a!.message_id, `regen:${q}`)).toBe(true);
    const again = h.openai.chatRequests().at(-1)!;
    expect(again.model).toBe("gpt-4o");
    // The same question, picture included.
    expect(again.messages.at(-1)).toEqual(first.messages.at(-1));
    expect(JSON.stringify(again.messages.at(-1))).toContain("image_url");
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("Still a small picture.");
    const turns = await h.app.deps.history.load(`history:${chat.id}`);
    expect(turns).toHaveLength(2);
    expect(turns[0]!.images).toHaveLength(1);
  });

  it("in Chinese, the button and the replies are Chinese", async () => {
    const { user, chat } = newPrivateChat(h, { language_code: "zh" });
    await say(h, { chat: chat.id, from: user, text: "/retry" });
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("还没有可以重新回答的问题。");
    h.openai.enqueue({ text: "好。" });
    const q = await ask(chat, user, "你好");
    expect(h.telegram.botMessages(chat.id).at(-1)!.reply_markup).toEqual({ inline_keyboard: [[{ text: "🔄 重新生成", callback_data: `regen:${q}` }]] });
  });
});

describe("regenerate in a group", () => {
  it("only the asker regenerates their last answer; the new answer replies to the question", async () => {
    const { user: asker, chat } = newGroup(h);
    const other: FakeUser = { id: 90_000 + Math.floor(Math.random() * 1e6), first_name: "Other", language_code: "en" };
    h.telegram.setChatMember(chat.id, other, "member");
    h.openai.enqueue({ text: "First answer." }, { text: "Second answer." });
    const q = await ask(chat, asker, "/ask something");
    const [a] = h.telegram.botMessages(chat.id);
    expect(a!.reply_markup).toEqual(regenerate(q));

    const requests = h.openai.chatRequests().length;
    expect(await press(chat.id, other, a!.message_id, `regen:${q}`)).toBe("Only the person who asked can regenerate this answer.");
    await say(h, { chat: chat.id, from: other, text: "/retry" });
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("Only the person who asked can regenerate this answer.");
    expect(h.openai.chatRequests()).toHaveLength(requests);

    expect(await press(chat.id, asker, a!.message_id, `regen:${q}`)).toBe(true);
    const last = h.telegram.botMessages(chat.id).at(-1)!;
    expect(last.text).toBe("Second answer.");
    expect(last.reply_to_message_id).toBe(q);
    expect(last.reply_markup).toEqual(regenerate(q));
    expect(h.telegram.message(chat.id, a!.message_id)!.reply_markup).toBeUndefined();
    expect(await history(`history:${chat.id}`)).toEqual(["user: something", "assistant: Second answer."]);
  });
});
