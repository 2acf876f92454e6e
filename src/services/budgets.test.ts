import Keyv from "keyv";
import { describe, expect, it } from "vitest";
import { UsageStore } from "../storage/usage.js";
import { budgetRefusal, budgetStatus, nextUtcMidnight, type BudgetLimits } from "./budgets.js";
import { LimitRefusalError, ModelCallLimits } from "./limits.js";
import { RateLimiter } from "./rate-limiter.js";

const NOW = new Date("2026-03-10T10:00:00Z");
const none: BudgetLimits = { userTokens: undefined, chatTokens: undefined, userCostUsd: undefined, chatCostUsd: undefined };

async function spent(userId: number, chatId: number, promptTokens: number, completionTokens: number, costUsd: number) {
  const usage = new UsageStore(new Keyv(), { now: () => NOW });
  await usage.record({ userId, chatId, model: "gpt-4.1-mini", promptTokens, completionTokens, costUsd });
  return usage;
}

describe("nextUtcMidnight", () => {
  it("is the start of the next UTC day, across months and years", () => {
    expect(nextUtcMidnight(new Date("2026-03-10T10:00:00Z")).toISOString()).toBe("2026-03-11T00:00:00.000Z");
    expect(nextUtcMidnight(new Date("2026-02-28T23:59:59Z")).toISOString()).toBe("2026-03-01T00:00:00.000Z");
    expect(nextUtcMidnight(new Date("2026-12-31T00:00:00Z")).toISOString()).toBe("2027-01-01T00:00:00.000Z");
  });
});

describe("budgets", () => {
  it("are nothing when none is configured", async () => {
    const usage = await spent(1, -5, 10, 10, 0.1);
    expect(await budgetStatus(usage, none, { userId: 1, chatId: -5 }, { now: NOW, exempt: false })).toBeUndefined();
  });

  it("say what is left today per user and per chat, and when they renew", async () => {
    const usage = await spent(1, -5, 700, 100, 0.25);
    const limits = { ...none, userTokens: 1000, chatCostUsd: 1 };
    expect(await budgetStatus(usage, limits, { userId: 1, chatId: -5 }, { now: NOW, exempt: false })).toEqual({
      user: { tokens: { limit: 1000, used: 800, left: 200 }, costUsd: undefined },
      chat: { tokens: undefined, costUsd: { limit: 1, used: 0.25, left: 0.75 } },
      resetsAt: new Date("2026-03-11T00:00:00Z"),
      exempt: false,
    });
  });

  it("refuse the first call whose tokens or cost do not fit in what is left", async () => {
    const usage = await spent(1, -5, 700, 100, 0.25);
    const status = (await budgetStatus(usage, { ...none, userTokens: 1000, chatCostUsd: 0.2502 }, { userId: 1, chatId: -5 }, { now: NOW, exempt: false }))!;
    expect(budgetRefusal(status, { model: "gpt-4.1-mini", promptTokens: 50, maxAnswerTokens: 50 })).toBeUndefined();
    expect(budgetRefusal(status, { model: "gpt-4.1-mini", promptTokens: 150, maxAnswerTokens: 100 })).toEqual({
      kind: "budget", scope: "user", unit: "tokens", left: 200, limit: 1000, needed: 250,
    });
    // gpt-4.1-mini: $1.60 per 1M output tokens, so 150 answer tokens may cost $0.00024 of the $0.0002 left.
    expect(budgetRefusal(status, { model: "gpt-4.1-mini", promptTokens: 0, maxAnswerTokens: 150 })).toMatchObject({
      scope: "chat", unit: "cost", needed: expect.closeTo(0.00024, 10),
    });
    // A model without a known price is held to the token budgets only.
    expect(budgetRefusal(status, { model: "my-local-model", promptTokens: 0, maxAnswerTokens: 150 })).toBeUndefined();
  });
});

describe("ModelCallLimits", () => {
  it("checks budgets before taking a rate-limit slot, and exempts owners from both", async () => {
    const keyv = new Keyv();
    const usage = await spent(1, -5, 990, 0, 0);
    const rateLimiter = new RateLimiter(keyv, { windowMs: 60_000, maxCalls: 1, now: () => NOW });
    const limits = new ModelCallLimits({ ownerIds: [9], budgets: { ...none, userTokens: 1000 }, usage, rateLimiter, now: () => NOW });
    const call = { model: "gpt-4.1-mini", promptTokens: 5, maxAnswerTokens: 5 };
    expect(await limits.check({ userId: 1, chatId: -5 }, { ...call, maxAnswerTokens: 6 })).toMatchObject({ kind: "budget", unit: "tokens" });
    // The refused call took no slot: the next one that fits still gets it.
    expect(await limits.check({ userId: 1, chatId: -5 }, call)).toBeUndefined();
    expect(await limits.check({ userId: 1, chatId: -5 }, { ...call, maxAnswerTokens: 0 })).toEqual({ kind: "rate", retryAfterMs: 60_000 });
    for (let i = 0; i < 3; i++) expect(await limits.check({ userId: 9, chatId: -5 }, { ...call, maxAnswerTokens: 5000 })).toBeUndefined();
    expect(await limits.budgetStatus({ userId: 9 })).toMatchObject({ exempt: true });
  });

  it("carries a refusal in its own error type", () => {
    const err = new LimitRefusalError({ kind: "rate", retryAfterMs: 1000 });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("LimitRefusalError");
    expect(err.refusal).toEqual({ kind: "rate", retryAfterMs: 1000 });
  });
});
