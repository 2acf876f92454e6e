import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ErrorScript } from "../servers/openai.js";
import { botText, chatCalls, newGroup, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  // A short idle timeout so the stalled-model case takes a second, not a minute.
  h = await startHarness({ env: { MODEL_IDLE_TIMEOUT_SECONDS: "1" } });
});
afterAll(() => h.close());

describe("when the model fails", () => {
  const cases: Array<{ name: string; script: ErrorScript; note: RegExp; attempts?: number }> = [
    { name: "401 bad key", script: { error: { status: 401 } }, note: /refused the bot's API key/, attempts: 1 },
    {
      name: "429 rate limit",
      script: { error: { status: 429, headers: { "retry-after": "0" }, body: { error: { message: "Rate limit", type: "requests", code: "rate_limit_exceeded" } } } },
      note: /too many requests/,
      attempts: 2,
    },
    {
      name: "429 out of quota",
      script: { error: { status: 429, body: { error: { message: "quota", type: "insufficient_quota", code: "insufficient_quota" } } } },
      note: /run out of credit/,
    },
    { name: "500 server error", script: { error: { status: 500 } }, note: /internal error/ },
  ];
  for (const c of cases) {
    it(`tells the user clearly on ${c.name}`, async () => {
      const { user, chat } = newPrivateChat(h);
      // The SDK retries 429 and 5xx once (not 401): give every attempt the same failure.
      for (let i = 0; i < (c.attempts ?? 2); i++) h.openai.enqueue(c.script);
      await say(h, { chat: chat.id, from: user, text: "hello?" });
      expect(botText(h, chat.id)).toMatch(c.note);
    });
  }

  it("keeps what arrived and adds a note when the stream is cut mid-answer", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "The first half of the answer, and then", cutAfterChars: 30, chunkSize: 3 });
    await say(h, { chat: chat.id, from: user, text: "tell me" });
    const [message] = h.telegram.botMessages(chat.id);
    expect(message!.text).toBe(
      "The first half of the answer,\n\nThe answer was cut off by a connection problem. Ask again to get the rest.",
    );
    expect(message!.entities).toEqual(expect.arrayContaining([expect.objectContaining({ type: "italic" })]));
  });

  it("reports a timeout when the model goes silent", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "Partial answer before silence", stallAfterChars: 14, stallMs: 5000 });
    await say(h, { chat: chat.id, from: user, text: "slow one" });
    expect(botText(h, chat.id)).toMatch(/^Partial answer\n\nThe AI service took too long to answer/);
  });

  it("answers in the user's language", async () => {
    const { user, chat } = newPrivateChat(h, { language_code: "zh-hans" });
    h.openai.enqueue({ error: { status: 500 } }, { error: { status: 500 } });
    await say(h, { chat: chat.id, from: user, text: "你好" });
    expect(botText(h, chat.id)).toBe("AI 服务出现内部错误，请重试。");
  });

  it("keeps serving other chats while one answer fails", async () => {
    const a = newPrivateChat(h);
    const b = newGroup(h);
    h.openai.enqueue({ text: "never finishes", stallAfterChars: 5, stallMs: 3000 }, { text: "fine answer" });
    const target = h.app.handled + 2;
    h.telegram.userSends({ chat: a.chat.id, from: a.user, text: "first" });
    await new Promise((r) => setTimeout(r, 100));
    h.telegram.userSends({ chat: b.chat.id, from: b.user, text: "/ask second" });
    await h.app.whenHandled(target);
    expect(botText(h, b.chat.id)).toBe("fine answer");
    expect(botText(h, a.chat.id)).toMatch(/took too long/);
  });
});

describe("when Telegram pushes back", () => {
  it("waits retry_after on a 429 and still delivers the final text", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "final text after flood wait" });
    h.telegram.failNext("sendMessage", { error_code: 429, description: "Too Many Requests: retry after 1", parameters: { retry_after: 1 } });
    const from = h.telegram.calls.length;
    await say(h, { chat: chat.id, from: user, text: "hi" });
    const sends = chatCalls(h, chat.id, from).filter((c) => c.method === "sendMessage");
    expect(sends.map((c) => c.status)).toEqual([429, 200]);
    expect(sends[1]!.at - sends[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(botText(h, chat.id)).toBe("final text after flood wait");
  });

  it("after a 429 on a streaming edit, touches that chat again only once retry_after has passed", async () => {
    const { user, chat } = newGroup(h);
    const answer = "word ".repeat(150).trim();
    // About 4.5 s of streaming: without the hold, the next edits would go out within the 3 s Telegram asked for.
    h.openai.enqueue({ text: answer, chunkSize: 5, delayMs: 30 });
    h.telegram.failNext("editMessageText", { error_code: 429, description: "Too Many Requests: retry after 3", parameters: { retry_after: 3 } });
    const from = h.telegram.calls.length;
    await say(h, { chat: chat.id, from: user, text: "/ask tell me a story" });
    const calls = h.telegram.calls.slice(from).filter((c) => Number(c.params.chat_id) === chat.id);
    const hit = calls.findIndex((c) => c.status === 429);
    expect(hit).toBeGreaterThan(0);
    expect(calls.length).toBeGreaterThan(hit + 1);
    expect(calls[hit + 1]!.at - calls[hit]!.at).toBeGreaterThanOrEqual(3000);
    expect(botText(h, chat.id)).toBe(answer);
  });

  it("sends plain text rather than lose an answer whose entities are rejected", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "Some **bold** words" });
    h.telegram.failNext("sendMessage", { error_code: 400, description: "Bad Request: can't parse entities: test rejection" });
    await say(h, { chat: chat.id, from: user, text: "hi" });
    const [message] = h.telegram.botMessages(chat.id);
    expect(message).toMatchObject({ text: "Some bold words" });
    expect(message!.entities ?? []).toEqual([]);
  });
});

describe("a server without drafts", () => {
  it("streams private answers by editing a message instead", async () => {
    const noDrafts = await startHarness({ telegram: { draftsSupported: false } });
    try {
      const { user, chat } = newPrivateChat(noDrafts);
      noDrafts.openai.enqueue({ text: "streamed by edits ".repeat(20).trim(), chunkSize: 8, delayMs: 40 });
      await say(noDrafts, { chat: chat.id, from: user, text: "hi" });
      const calls = chatCalls(noDrafts, chat.id);
      expect(calls.filter((c) => c.method === "sendMessageDraft").length).toBe(1);
      expect(calls.filter((c) => c.method === "editMessageText" && c.status === 200).length).toBeGreaterThan(0);
      expect(botText(noDrafts, chat.id)).toBe("streamed by edits ".repeat(20).trim());
    } finally {
      await noDrafts.close();
    }
  });
});
