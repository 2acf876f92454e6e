/**
 * Daily budgets under pressure: calls that run at the same time cannot spend more than the budget (each reserves its
 * maximum before it starts and settles to what it used), the chat's budget holds for everyone in it, a model without
 * a price is held to the token budgets only, and the bot's owners are held to nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeChat, FakeUser } from "../servers/bot-api.js";
import { newGroup, say, startHarness, type Harness, shownMessages } from "../helpers/harness.js";

const OWNER = 8_800_001;

describe("daily budgets", () => {
  let h: Harness;
  let clock = new Date("2026-06-01T09:00:00Z");
  const nextDay = () => (clock = new Date(clock.getTime() + 24 * 3_600_000));

  beforeAll(async () => {
    h = await startHarness({
      env: {
        DAILY_TOKEN_LIMIT_PER_USER: "1000",
        DAILY_TOKEN_LIMIT_PER_CHAT: "1500",
        MAX_ANSWER_TOKENS: "300",
        RATE_LIMIT_MAX_CALLS: "5",
        BOT_OWNER_IDS: String(OWNER),
      },
      now: () => clock,
    });
  });
  afterAll(() => h.close());

  const lastText = (chatId: number) => shownMessages(h, chatId).at(-1)?.text ?? "";
  const spentToday = async (userId: number) => {
    const { today } = await h.app.deps.usage.get({ userId });
    return today.promptTokens + today.completionTokens;
  };

  it("admits only what fits when one user asks in five groups at once, and refuses the rest with the budget line", async () => {
    nextDay();
    const user: FakeUser = { id: 8_800_100, first_name: "Eager", language_code: "en" };
    const groups: FakeChat[] = [];
    for (let i = 0; i < 5; i++) groups.push(newGroup(h, {}, user).chat);
    // Slow answers, so every question is being answered while the others are admitted; each uses 290 tokens.
    h.openai.setDefault(() => ({ text: "a considered answer", firstDelayMs: 400, usage: { prompt_tokens: 40, completion_tokens: 250 } }));
    try {
      const calls = h.openai.chatRequests().length;
      const target = h.app.handled + groups.length;
      for (const group of groups) h.telegram.userSends({ chat: group.id, from: user, text: "/ask what is the meaning of life?" });
      await h.app.whenHandled(target);

      expect(await spentToday(user.id)).toBeLessThanOrEqual(1000);
      const answered = groups.filter((g) => lastText(g.id) === "a considered answer");
      const refused = groups.filter((g) => lastText(g.id).startsWith("Your daily token budget doesn't cover this question"));
      expect(answered.length + refused.length).toBe(5);
      expect(refused.length).toBeGreaterThan(0);
      // What one question may need (its counted prompt plus MAX_ANSWER_TOKENS), as the refusal says.
      const needed = Number(/may need up to ([\d,]+)/.exec(lastText(refused[0]!.id))![1]!.replace(/,/g, ""));
      expect(needed).toBeGreaterThan(300);
      expect(answered.length).toBe(Math.floor(1000 / needed));
      expect(h.openai.chatRequests().length - calls).toBe(answered.length);
      expect(await spentToday(user.id)).toBe(answered.length * 290);
      // Everything settled: nothing is still held.
      expect(await h.app.deps.limits.budgetStatus({ sender: { userId: user.id } })).toMatchObject({
        user: { tokens: { used: answered.length * 290, reserved: 0, left: 1000 - answered.length * 290 } },
      });
    } finally {
      h.openai.setDefault(() => ({ text: "ok" }));
    }
  });

  it("shows in /usage what answers being written hold", async () => {
    nextDay();
    const user: FakeUser = { id: 8_800_400, first_name: "Busy", language_code: "en" };
    const a = newGroup(h, {}, user).chat;
    const b = newGroup(h, {}, user).chat;
    let started!: () => void;
    const answering = new Promise<void>((r) => (started = r));
    h.openai.enqueue(() => {
      started();
      return { text: "slow answer", firstDelayMs: 1500, usage: { prompt_tokens: 50, completion_tokens: 50 } };
    });
    const target = h.app.handled + 1;
    h.telegram.userSends({ chat: a.id, from: user, text: "/ask take your time" });
    await answering;
    await say(h, { chat: b.id, from: user, text: "/usage" });
    const needed = 1000 - Number(/You: ([\d,]+) of 1,000 tokens left/.exec(lastText(b.id))![1]!.replace(/,/g, ""));
    expect(needed).toBeGreaterThan(300);
    expect(lastText(b.id)).toContain(`You: ${1000 - needed} of 1,000 tokens left (another ${needed} held for answers being written now)`);
    await h.app.whenHandled(target + 1);
    expect(lastText(a.id)).toBe("slow answer");
    await say(h, { chat: b.id, from: user, text: "/usage" });
    expect(lastText(b.id)).toContain("You: 900 of 1,000 tokens left\n");
  });

  it("releases what a failed call held", async () => {
    nextDay();
    const { user, chat } = newGroup(h);
    h.openai.enqueue({ error: { status: 400 } });
    await say(h, { chat: chat.id, from: user, text: "/ask fail please" });
    expect(lastText(chat.id)).toBe("The AI service could not handle this request.");
    expect(await h.app.deps.limits.budgetStatus({ sender: { userId: user.id }, chatId: chat.id })).toMatchObject({
      user: { tokens: { used: 0, reserved: 0, left: 1000 } },
      chat: { tokens: { used: 0, reserved: 0, left: 1500 } },
    });
  });

  it("holds everyone in a chat to DAILY_TOKEN_LIMIT_PER_CHAT", async () => {
    nextDay();
    const { user: first, chat } = newGroup(h);
    const second: FakeUser = { id: 8_800_200, first_name: "Second", language_code: "en" };
    const third: FakeUser = { id: 8_800_300, first_name: "Third", language_code: "en" };
    h.openai.enqueue({ text: "first", usage: { prompt_tokens: 700, completion_tokens: 300 } }, { text: "second", usage: { prompt_tokens: 200, completion_tokens: 100 } });
    await say(h, { chat: chat.id, from: first, text: "/ask one" });
    await say(h, { chat: chat.id, from: second, text: "/ask two" });
    expect(lastText(chat.id)).toBe("second");
    const calls = h.openai.chatRequests().length;
    // 1,300 of the chat's 1,500 are spent; the third member's own budget is untouched, the chat's is not enough.
    await say(h, { chat: chat.id, from: third, text: "/ask three" });
    expect(h.openai.chatRequests().length).toBe(calls);
    expect(lastText(chat.id)).toMatch(/^This chat's daily token budget doesn't cover this question: 200 of 1,500 tokens left today/);
  });

  it("does not hold the bot's owners to the rate limit or the budgets", async () => {
    nextDay();
    const { chat } = newGroup(h);
    const owner: FakeUser = { id: OWNER, first_name: "Owner", language_code: "en" };
    h.openai.setDefault(() => ({ text: "as you wish", usage: { prompt_tokens: 400, completion_tokens: 300 } }));
    try {
      for (let i = 0; i < 7; i++) {
        await say(h, { chat: chat.id, from: owner, text: `/ask question ${i}` });
        expect(lastText(chat.id)).toBe("as you wish");
      }
    } finally {
      h.openai.setDefault(() => ({ text: "ok" }));
    }
    expect(await spentToday(OWNER)).toBe(4900);
    await say(h, { chat: chat.id, from: owner, text: "/usage" });
    expect(lastText(chat.id)).toContain("As the bot's owner you are not limited.");
  });
});

describe("a model without a known price", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      env: {
        OPENAI_MODEL: "my-local-model",
        DAILY_TOKEN_LIMIT_PER_USER: "1000",
        DAILY_COST_LIMIT_PER_USER_USD: "0.000001",
        MAX_ANSWER_TOKENS: "300",
      },
    });
  });
  afterAll(() => h.close());

  it("is held to the token budget only: the cost budget cannot price it", async () => {
    const { user, chat } = newGroup(h);
    h.openai.enqueue({ text: "free one", usage: { prompt_tokens: 400, completion_tokens: 200 } }, { text: "free two", usage: { prompt_tokens: 200, completion_tokens: 100 } });
    await say(h, { chat: chat.id, from: user, text: "/ask one" });
    expect(shownMessages(h, chat.id).at(-1)!.text).toBe("free one");
    await say(h, { chat: chat.id, from: user, text: "/ask two" });
    expect(shownMessages(h, chat.id).at(-1)!.text).toBe("free two");
    const calls = h.openai.chatRequests().length;
    await say(h, { chat: chat.id, from: user, text: "/ask three" });
    expect(h.openai.chatRequests().length).toBe(calls);
    expect(shownMessages(h, chat.id).at(-1)!.text).toMatch(/^Your daily token budget doesn't cover this question: 100 of 1,000 tokens left today/);
  });
});
