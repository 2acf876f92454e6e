import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEncoding, messageTokens, REPLY_PRIMING_TOKENS } from "../../src/ai/tokens.js";
import { contextWindowForModel } from "../../src/ai/models.js";
import { newGroup, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const sent = (h: Harness) => h.openai.chatRequests().at(-1)!.messages.map((m) => `${m.role}: ${String(m.content)}`);

// The same restart on the other stores, when CI provides them (.ci/run sets both, and checks that these ran: the
// variable in the title is what test/ci/store-tests-ran.ts looks for).
const backends = [
  { name: "Redis (REDIS_URL)", url: process.env.REDIS_URL },
  { name: "PostgreSQL (DATABASE_URL)", url: process.env.DATABASE_URL },
];
for (const backend of backends) {
  describe.skipIf(!backend.url)(`memory on ${backend.name}`, () => {
    it("survives a restart", async () => {
      const other = await startHarness({ env: { STORE_URL: backend.url! } });
      try {
        const { user, chat } = newPrivateChat(other);
        other.openai.enqueue({ text: "Noted: blue." }, { text: "Blue." });
        await say(other, { chat: chat.id, from: user, text: "My favourite colour is blue." });
        await other.restart();
        await say(other, { chat: chat.id, from: user, text: "What is my favourite colour?" });
        expect(sent(other).slice(1)).toEqual([
          "user: My favourite colour is blue.",
          "assistant: Noted: blue.",
          "user: What is my favourite colour?",
        ]);
        await say(other, { chat: chat.id, from: user, text: "/reset" });
        expect(await other.app.deps.history.load(`history:${chat.id}`)).toEqual([]);
      } finally {
        await other.close();
      }
    });
  });
}

describe("per-chat memory", () => {
  it("remembers the conversation across a restart (SQLite file)", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "Nice to meet you, Ada." });
    await say(h, { chat: chat.id, from: user, text: "My name is Ada." });
    await h.restart();
    h.openai.enqueue({ text: "Your name is Ada." });
    await say(h, { chat: chat.id, from: user, text: "What is my name?" });
    expect(sent(h).slice(1)).toEqual([
      "user: My name is Ada.",
      "assistant: Nice to meet you, Ada.",
      "user: What is my name?",
    ]);
    expect(sent(h)[0]).toMatch(/^system: /);
  });

  it("forgets the chat on /reset, and only that chat", async () => {
    const a = newPrivateChat(h);
    const b = newPrivateChat(h);
    h.openai.enqueue({ text: "a1" }, { text: "b1" });
    await say(h, { chat: a.chat.id, from: a.user, text: "a question" });
    await say(h, { chat: b.chat.id, from: b.user, text: "b question" });
    await say(h, { chat: a.chat.id, from: a.user, text: "/reset" });
    expect(h.telegram.botMessages(a.chat.id).at(-1)!.text).toMatch(/forgotten this chat's history/);
    h.openai.enqueue({ text: "a2" }, { text: "b2" });
    await say(h, { chat: a.chat.id, from: a.user, text: "again" });
    expect(sent(h).slice(1)).toEqual(["user: again"]);
    await say(h, { chat: b.chat.id, from: b.user, text: "more" });
    expect(sent(h).slice(1)).toEqual(["user: b question", "assistant: b1", "user: more"]);
  });

  it("keeps separate histories per forum topic and names speakers in groups", async () => {
    const { user, chat } = newGroup(h, { is_forum: true });
    h.openai.enqueue({ text: "t1" }, { text: "t2" }, { text: "t1 again" });
    await say(h, { chat: chat.id, from: user, text: "/ask in topic one", threadId: 11 });
    await say(h, { chat: chat.id, from: user, text: "/ask in topic two", threadId: 22 });
    await say(h, { chat: chat.id, from: user, text: "/ask back in one", threadId: 11 });
    expect(sent(h).slice(1)).toEqual([
      `user: ${user.first_name}: in topic one`,
      "assistant: t1",
      `user: ${user.first_name}: back in one`,
    ]);
  });

  it("trims old turns to the token budget and keeps the newest", async () => {
    const small = await startHarness({ env: { HISTORY_TOKEN_BUDGET: "60" } });
    try {
      const { user, chat } = newPrivateChat(small);
      for (let i = 0; i < 6; i++) {
        small.openai.enqueue({ text: `answer number ${i} with a few more words` });
        await say(small, { chat: chat.id, from: user, text: `question number ${i} with some words` });
      }
      const messages = small.openai.chatRequests().at(-1)!.messages.slice(1);
      expect(messages.length).toBeLessThan(11);
      expect(messages.at(-1)!.content).toBe("question number 5 with some words");
      expect(messages[0]!.role).toBe("user");
      expect(messages.at(-2)!.content).toBe("answer number 4 with a few more words");
    } finally {
      await small.close();
    }
  });

  it("leaves the system prompt its room: a long prompt shrinks the history sent, and every request fits the window", async () => {
    // gpt-4's window is 8,192 tokens; with 4,000 kept for the answer, history must share the rest with the prompt.
    const model = "gpt-4";
    const maxAnswer = 4000;
    const small = await startHarness({ env: { OPENAI_MODEL: model, MAX_ANSWER_TOKENS: String(maxAnswer) } });
    try {
      await loadEncoding("cl100k_base");
      const plain = newPrivateChat(small);
      const prompted = newPrivateChat(small);
      // About 900 tokens, under SYSTEM_PROMPT_MAX_TOKENS (1,000).
      const longPrompt = Array.from({ length: 130 }, (_, i) => `Rule ${i}: be kind.`).join(" ");
      await say(small, { chat: prompted.chat.id, from: prompted.user, text: `/system ${longPrompt}` });
      // Twelve exchanges of about 400 tokens each in both chats: more than either request can take.
      const answer = (i: number) => `Answer ${i}: ${"lorem ipsum dolor sit amet ".repeat(70).trim()}`;
      for (let i = 0; i < 12; i++) {
        for (const c of [plain, prompted]) {
          small.openai.enqueue({ text: answer(i), chunkSize: 2000 });
          await say(small, { chat: c.chat.id, from: c.user, text: `question ${i}` });
        }
      }
      const sentTurns: number[] = [];
      for (const c of [plain, prompted]) {
        small.openai.enqueue({ text: "ok" });
        await say(small, { chat: c.chat.id, from: c.user, text: "the last question" });
        const request = small.openai.chatRequests().at(-1)!;
        expect(request.messages.at(-1)!.content).toBe("the last question");
        const counted = request.messages.reduce((n, m) => n + messageTokens(String(m.content), "cl100k_base"), 0);
        expect(counted + REPLY_PRIMING_TOKENS + maxAnswer).toBeLessThanOrEqual(contextWindowForModel(model));
        sentTurns.push(request.messages.length - 2);
      }
      expect(small.openai.chatRequests().at(-1)!.messages[0]!.content).toBe(longPrompt);
      const [withDefault, withLong] = sentTurns as [number, number];
      expect(withDefault).toBeGreaterThan(4);
      expect(withLong).toBeLessThan(withDefault);
    } finally {
      await small.close();
    }
  }, 60_000);
});
