/**
 * Replies the bot writes itself (refusals, /help, …) are paced like answers, so they never run into Telegram's flood
 * control; and a user over a limit is told once per window, not once per message.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeUser } from "../servers/bot-api.js";
import { newGroup, newPrivateChat, say, startHarness, type Harness, shownMessages } from "../helpers/harness.js";

let h: Harness;
let clock = new Date("2026-07-01T10:00:00Z");
const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));

beforeAll(async () => {
  h = await startHarness({
    env: { RATE_LIMIT_MAX_CALLS: "1", RATE_LIMIT_WINDOW_SECONDS: "60", DAILY_TOKEN_LIMIT_PER_USER: "1000", MAX_ANSWER_TOKENS: "200" },
    now: () => clock,
  });
});
afterAll(() => h.close());

const RATE_LIMITED = /^You're asking faster than this bot allows/;
const texts = (chatId: number) => shownMessages(h, chatId).map((m) => m.text ?? "");

describe("a flood of questions over the rate limit", () => {
  it(
    "gets one refusal line, no 429 from Telegram, and leaves the group free for everyone else",
    async () => {
      advance(3_600_000);
      const { user, chat } = newGroup(h);
      const other: FakeUser = { id: user.id + 500_000_000, first_name: "Other", language_code: "en" };
      h.openai.enqueue({ text: "the one answer" }, { text: "answer for the other member" });
      const before = h.telegram.stats.tooManyRequests;
      const target = h.app.handled + 26;
      for (let i = 0; i < 25; i++) h.telegram.userSends({ chat: chat.id, from: user, text: `/ask question ${i}` });
      h.telegram.userSends({ chat: chat.id, from: other, text: "/ask my turn" });
      await h.app.whenHandled(target, 110_000);

      expect(h.telegram.stats.tooManyRequests - before).toBe(0);
      const shown = texts(chat.id);
      expect(shown.filter((t) => RATE_LIMITED.test(t))).toHaveLength(1);
      expect(shown).toEqual(["the one answer", expect.stringMatching(RATE_LIMITED), "answer for the other member"]);
      // The other 23 were noted in the log only.
      expect(h.logs.filter((l) => l.includes(`"chatId":${chat.id}`) && l.includes("already told")).length).toBe(23);
    },
    120_000,
  );

  it("is told again once the window has freed and the limit is hit anew", async () => {
    advance(3_600_000);
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "first" }, { text: "second" });
    await say(h, { chat: chat.id, from: user, text: "one" });
    await say(h, { chat: chat.id, from: user, text: "two" });
    advance(30_000);
    await say(h, { chat: chat.id, from: user, text: "three" });
    expect(texts(chat.id)).toEqual(["first", "You're asking faster than this bot allows. Please try again in 60 s."]);
    advance(30_000);
    await say(h, { chat: chat.id, from: user, text: "four" });
    await say(h, { chat: chat.id, from: user, text: "five" });
    expect(texts(chat.id)).toEqual([
      "first",
      "You're asking faster than this bot allows. Please try again in 60 s.",
      "second",
      "You're asking faster than this bot allows. Please try again in 60 s.",
    ]);
  });

  it("is told about a spent budget once until it renews", async () => {
    advance(24 * 3_600_000);
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "spent it", usage: { prompt_tokens: 700, completion_tokens: 200 } }, { text: "a new day" });
    await say(h, { chat: chat.id, from: user, text: "spend" });
    for (let i = 0; i < 3; i++) {
      advance(120_000);
      await say(h, { chat: chat.id, from: user, text: `more ${i}` });
    }
    expect(texts(chat.id)).toEqual(["spent it", expect.stringMatching(/^Your daily token budget doesn't cover this question/)]);
    advance(24 * 3_600_000);
    await say(h, { chat: chat.id, from: user, text: "again" });
    expect(texts(chat.id).at(-1)).toBe("a new day");
  });
});

describe("short replies", () => {
  it("are paced: six /help at once in a private chat never meet Telegram's flood control", async () => {
    const { user, chat } = newPrivateChat(h);
    const before = h.telegram.stats.tooManyRequests;
    const target = h.app.handled + 6;
    for (let i = 0; i < 6; i++) h.telegram.userSends({ chat: chat.id, from: user, text: "/help" });
    await h.app.whenHandled(target);
    expect(h.telegram.stats.tooManyRequests - before).toBe(0);
    expect(texts(chat.id)).toHaveLength(6);
  });
});
