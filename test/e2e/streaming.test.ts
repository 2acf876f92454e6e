import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkEntities } from "../../src/telegram/entity-check.js";
import { botText, chatCalls, newGroup, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const ANSWER =
  "# Plan\n\nHere is **bold** and *italic* text, a [link](https://example.com) and `inline code`.\n\n" +
  "```ts\nconst x: Array<number> = [1, 2] && a_b_c * d;\nif (x < y && y > z) console.log(\"<>&_*[]\");\n```\n\n" +
  "- first item\n- second item\n\nDone.";

describe("a question in a private chat", () => {
  it("streams drafts, then sends the whole formatted answer as one message", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: ANSWER, chunkSize: 6, delayMs: 25 });
    const from = h.telegram.calls.length;
    await say(h, { chat: chat.id, from: user, text: "Make a plan" });

    const calls = chatCalls(h, chat.id, from);
    const drafts = calls.filter((c) => c.method === "sendMessageDraft" && c.status === 200);
    const finals = calls.filter((c) => c.method === "sendMessage");
    expect(drafts.length).toBeGreaterThan(1);
    // Drafts only grow, and every one of them was valid for Telegram (the server validates entities strictly).
    const draftTexts = drafts.map((c) => String(c.params.text));
    for (let i = 1; i < draftTexts.length; i++) expect(draftTexts[i]!.length).toBeGreaterThanOrEqual(draftTexts[i - 1]!.length - 3);
    expect(calls.every((c) => c.status === 200)).toBe(true);
    expect(finals).toHaveLength(1);

    const [message] = h.telegram.botMessages(chat.id);
    expect(message!.text).toContain("Plan\n\nHere is bold and italic text");
    expect(message!.text).toContain('console.log("<>&_*[]");');
    expect(message!.text).not.toContain("**");
    expect(message!.text).not.toContain("```");
    const types = message!.entities!.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["bold", "italic", "text_link", "code", "pre"]));
    const pre = message!.entities!.find((e) => e.type === "pre")!;
    expect(pre).toMatchObject({ language: "ts" });
    expect(message!.text!.slice(pre.offset, pre.offset + pre.length)).toBe(
      'const x: Array<number> = [1, 2] && a_b_c * d;\nif (x < y && y > z) console.log("<>&_*[]");',
    );
    expect(checkEntities({ text: message!.text!, entities: message!.entities! })).toBeNull();
  });

  it("shows a typing action before the first token", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "Hello there", firstDelayMs: 300 });
    const from = h.telegram.calls.length;
    await say(h, { chat: chat.id, from: user, text: "hi" });
    const mine = h.telegram.calls.slice(from).filter((c) => Number(c.params.chat_id) === chat.id);
    expect(mine[0]).toMatchObject({ method: "sendChatAction", params: { action: "typing" } });
    expect(botText(h, chat.id)).toBe("Hello there");
  });

  it("keeps every update valid while Markdown is half-written (unclosed ``` and **)", async () => {
    const { user, chat } = newPrivateChat(h);
    const text = "Start **bold that goes on and on** then\n\n```python\nprint('a * b')\n# __init__ [x]\n```\n\n**end**";
    h.openai.enqueue({ text, chunkSize: 1, delayMs: 25 });
    const from = h.telegram.calls.length;
    await say(h, { chat: chat.id, from: user, text: "go" });
    const calls = chatCalls(h, chat.id, from);
    expect(calls.filter((c) => c.status !== 200)).toEqual([]);
    const drafts = calls.filter((c) => c.method === "sendMessageDraft");
    expect(drafts.length).toBeGreaterThan(3);
    // Mid-stream, the open code block already shows as code, not as literal backticks.
    expect(drafts.some((c) => String(c.params.text).includes("print(") && !String(c.params.text).includes("```"))).toBe(true);
    const [message] = h.telegram.botMessages(chat.id);
    expect(message!.text).toBe("Start bold that goes on and on then\n\nprint('a * b')\n# __init__ [x]\n\nend");
  });

  it("splits a long answer at block boundaries into messages of at most 4096 characters", async () => {
    const { user, chat } = newPrivateChat(h);
    const paragraphs = Array.from({ length: 40 }, (_, i) => `Paragraph ${i}: ${"lorem ipsum dolor sit amet ".repeat(12).trim()}.`);
    const code = "```js\n" + Array.from({ length: 60 }, (_, i) => `const line${i} = "${"x".repeat(40)}";`).join("\n") + "\n```";
    const text = [...paragraphs.slice(0, 20), code, ...paragraphs.slice(20)].join("\n\n");
    h.openai.enqueue({ text, chunkSize: 200 });
    await say(h, { chat: chat.id, from: user, text: "long please" });
    const messages = h.telegram.botMessages(chat.id);
    expect(messages.length).toBeGreaterThan(2);
    for (const m of messages) {
      expect(m.text!.length).toBeLessThanOrEqual(4096);
      expect(checkEntities({ text: m.text!, entities: m.entities ?? [] })).toBeNull();
    }
    // Together the parts are the whole answer: every paragraph and every code line, in order, none cut.
    const joined = messages.map((m) => m.text).join("\n\n");
    const expected = [...paragraphs.slice(0, 20), code.split("\n").slice(1, -1).join("\n"), ...paragraphs.slice(20)].join("\n\n");
    expect(joined.replace(/\s+/g, " ")).toBe(expected.replace(/\s+/g, " "));
    for (const m of messages) {
      for (const line of m.text!.split("\n")) if (line.startsWith("const line")) expect(line).toMatch(/^const line\d+ = "x{40}";$/);
    }
  });

  it("answers two quick messages in one chat in order", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "first answer", delayMs: 40, chunkSize: 2 }, { text: "second answer" });
    const target = h.app.handled + 2;
    h.telegram.userSends({ chat: chat.id, from: user, text: "one" });
    h.telegram.userSends({ chat: chat.id, from: user, text: "two" });
    await h.app.whenHandled(target);
    expect(h.telegram.botMessages(chat.id).map((m) => m.text)).toEqual(["first answer", "second answer"]);
    // The second request already saw the first exchange.
    const second = h.openai.chatRequests().at(-1)!;
    expect(second.messages.map((m) => m.content)).toEqual(expect.arrayContaining(["one", "first answer", "two"]));
  });
});

describe("a question in a group", () => {
  it("answers /ask with a reply that is edited as the answer grows, within Telegram's pace", async () => {
    const { user, chat } = newGroup(h);
    h.openai.enqueue({ text: "word ".repeat(120).trim(), chunkSize: 5, delayMs: 30 });
    const from = h.telegram.calls.length;
    const question = h.telegram.userSends({ chat: chat.id, from: user, text: "/ask tell me a story" });
    await h.app.whenHandled(h.app.handled + 1);
    const calls = chatCalls(h, chat.id, from);
    expect(calls.some((c) => c.method === "sendMessageDraft")).toBe(false);
    expect(calls[0]).toMatchObject({ method: "sendMessage", params: { reply_parameters: { message_id: question.message_id } } });
    const edits = calls.filter((c) => c.method === "editMessageText");
    expect(edits.length).toBeGreaterThan(0);
    // At most about one edit a second, and no 429 from the strict server.
    for (let i = 1; i < calls.length; i++) expect(calls[i]!.at - calls[i - 1]!.at).toBeGreaterThanOrEqual(900);
    expect(calls.every((c) => c.status === 200)).toBe(true);
    const [answer] = h.telegram.botMessages(chat.id);
    expect(answer!.text).toBe("word ".repeat(120).trim());
    expect(answer!.reply_to_message_id).toBe(question.message_id);
  });

  it("answers a mention and a reply to the bot, ignores other messages, and explains /ask without text", async () => {
    const { user, chat } = newGroup(h);
    const username = h.app.bot.botInfo.username;
    h.openai.enqueue({ text: "mention answer" }, { text: "reply answer" });
    await say(h, { chat: chat.id, from: user, text: `@${username} what is 2+2?` });
    expect(h.openai.chatRequests().at(-1)!.messages.at(-1)!.content).toMatch(/what is 2\+2\?$/);
    const [first] = h.telegram.botMessages(chat.id);
    await say(h, { chat: chat.id, from: user, text: "and 3+3?", replyTo: first!.message_id });
    await say(h, { chat: chat.id, from: user, text: "just chatting with friends" });
    await say(h, { chat: chat.id, from: user, text: `/ask@${username}` });
    const texts = h.telegram.botMessages(chat.id).map((m) => m.text);
    expect(texts.slice(0, 2)).toEqual(["mention answer", "reply answer"]);
    expect(texts[2]).toMatch(/^Usage: \/ask/);
    expect(texts).toHaveLength(3);
  });

  it("lands in the question's forum topic", async () => {
    const { user, chat } = newGroup(h, { is_forum: true });
    h.openai.enqueue({ text: "topic answer" });
    await say(h, { chat: chat.id, from: user, text: "/ask in a topic", threadId: 77 });
    const [answer] = h.telegram.botMessages(chat.id);
    expect(answer).toMatchObject({ text: "topic answer", message_thread_id: 77 });
  });
});

describe("under load", () => {
  it("thins intermediate updates when many chats stream at once, and still delivers every final text whole without a 429", async () => {
    const text = Array.from({ length: 30 }, (_, i) => `Sentence ${i} of a streamed answer.`).join(" ");
    // About three seconds of streaming per answer.
    const script = { text, chunkSize: 12, delayMs: 35 };
    const updatesOf = (chatId: number, from: number) =>
      chatCalls(h, chatId, from).filter((c) => c.method === "sendMessageDraft" || c.method === "editMessageText").length;
    const tooMany = h.telegram.stats.tooManyRequests;

    // No load: one private chat, then one group.
    const solo = newPrivateChat(h);
    const soloGroup = newGroup(h);
    h.openai.enqueue(script, script);
    let from = h.telegram.calls.length;
    await say(h, { chat: solo.chat.id, from: solo.user, text: "alone" });
    await say(h, { chat: soloGroup.chat.id, from: soloGroup.user, text: "/ask alone" });
    const alone = { private: updatesOf(solo.chat.id, from), group: updatesOf(soloGroup.chat.id, from) };
    expect(alone.private).toBeGreaterThan(4);
    expect(alone.group).toBeGreaterThan(1);

    // Load: 40 private chats and 10 groups streaming at once (their wish is far above Telegram's 30 a second).
    const privates = Array.from({ length: 40 }, () => newPrivateChat(h));
    const groups = Array.from({ length: 10 }, () => newGroup(h));
    h.openai.enqueue(...Array.from({ length: privates.length + groups.length }, () => script));
    from = h.telegram.calls.length;
    const target = h.app.handled + privates.length + groups.length;
    for (const c of privates) h.telegram.userSends({ chat: c.chat.id, from: c.user, text: "together" });
    for (const g of groups) h.telegram.userSends({ chat: g.chat.id, from: g.user, text: "/ask together" });
    await h.app.whenHandled(target, 90_000);

    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const loaded = {
      private: mean(privates.map((c) => updatesOf(c.chat.id, from))),
      group: mean(groups.map((g) => updatesOf(g.chat.id, from))),
    };
    expect(loaded.private).toBeLessThan(alone.private * 0.75);
    expect(loaded.group).toBeLessThan(alone.group);
    // Every final text arrived, whole, as one message per chat.
    for (const c of [...privates, ...groups]) expect(h.telegram.botMessages(c.chat.id).map((m) => m.text)).toEqual([text]);
    expect(h.telegram.stats.tooManyRequests - tooMany).toBe(0);
  }, 120_000);
});

