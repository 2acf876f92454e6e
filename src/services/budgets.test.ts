import Keyv from "keyv";
import { describe, expect, it } from "vitest";
import { UsageStore } from "../storage/usage.js";
import { budgetRefusal, budgetStatus, nextUtcMidnight, type BudgetLimits } from "./budgets.js";
import { BudgetHolds, HOLD_TTL_MS } from "./budget-holds.js";
import { LimitRefusalError, ModelCallLimits } from "./limits.js";
import { RateLimiter } from "./rate-limiter.js";

const NOW = new Date("2026-03-10T10:00:00Z");
const none: BudgetLimits = { userTokens: undefined, chatTokens: undefined, userCostUsd: undefined, chatCostUsd: undefined };

async function spent(userId: number, chatId: number, promptTokens: number, completionTokens: number, costUsd: number) {
  const usage = new UsageStore(new Keyv(), { now: () => NOW });
  await usage.record({ sender: { userId }, chatId, model: "gpt-4.1-mini", promptTokens, completionTokens, costUsd });
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
    expect(await budgetStatus({ usage }, none, { sender: { userId: 1 }, chatId: -5 }, { now: NOW, exempt: false })).toBeUndefined();
  });

  it("say what is left today per user and per chat, and when they renew", async () => {
    const usage = await spent(1, -5, 700, 100, 0.25);
    const limits = { ...none, userTokens: 1000, chatCostUsd: 1 };
    expect(await budgetStatus({ usage }, limits, { sender: { userId: 1 }, chatId: -5 }, { now: NOW, exempt: false })).toEqual({
      user: { tokens: { limit: 1000, used: 800, reserved: 0, left: 200 }, costUsd: undefined },
      chat: { tokens: undefined, costUsd: { limit: 1, used: 0.25, reserved: 0, left: 0.75 } },
      resetsAt: new Date("2026-03-11T00:00:00Z"),
      exempt: false,
    });
  });

  it("refuse the first call whose tokens or cost do not fit in what is left", async () => {
    const usage = await spent(1, -5, 700, 100, 0.25);
    const status = (await budgetStatus({ usage }, { ...none, userTokens: 1000, chatCostUsd: 0.2502 }, { sender: { userId: 1 }, chatId: -5 }, { now: NOW, exempt: false }))!;
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
    // Audio is priced by the minute (or character) before the call: 5 s of transcription fits, 10 s does not.
    expect(budgetRefusal(status, { model: "gpt-4o-mini-transcribe", promptTokens: 0, maxAnswerTokens: 0, audioSeconds: 3 })).toBeUndefined();
    expect(budgetRefusal(status, { model: "gpt-4o-mini-transcribe", promptTokens: 0, maxAnswerTokens: 0, audioSeconds: 10 })).toMatchObject({
      scope: "chat", unit: "cost", needed: expect.closeTo(0.0005, 10),
    });
    expect(budgetRefusal(status, { model: "tts-1", promptTokens: 0, maxAnswerTokens: 0, characters: 20 })).toMatchObject({
      unit: "cost", needed: expect.closeTo(0.0003, 10),
    });
  });
});

describe("ModelCallLimits", () => {
  function setup(budgets: Partial<BudgetLimits>, opts: { maxCalls?: number; usage?: UsageStore; clock?: { now: Date } } = {}) {
    const keyv = new Keyv();
    const clock = opts.clock ?? { now: NOW };
    const now = () => clock.now;
    const usage = opts.usage ?? new UsageStore(keyv, { now });
    const rateLimiter = new RateLimiter(keyv, { windowMs: 60_000, maxCalls: opts.maxCalls ?? 0, now });
    const holds = new BudgetHolds(keyv, { now });
    return new ModelCallLimits({ ownerIds: [9], budgets: { ...none, ...budgets }, usage, holds, rateLimiter, now });
  }
  const call = { model: "gpt-4.1-mini", promptTokens: 5, maxAnswerTokens: 5 };
  const user = (userId: number, chatId = -5) => ({ sender: { userId }, chatId });

  it("checks budgets before taking a rate-limit slot, and exempts owners from both", async () => {
    const limits = setup({ userTokens: 1000 }, { maxCalls: 1, usage: await spent(1, -5, 990, 0, 0) });
    expect(await limits.admit(user(1), { ...call, maxAnswerTokens: 6 })).toMatchObject({ ok: false, refusal: { kind: "budget", unit: "tokens" } });
    // The refused call took no slot: the next one that fits still gets it.
    const admitted = await limits.admit(user(1), call);
    expect(admitted.ok).toBe(true);
    if (admitted.ok) await admitted.permit.release();
    expect(await limits.admit(user(1), { ...call, maxAnswerTokens: 0 })).toEqual({ ok: false, refusal: { kind: "rate", retryAfterMs: 60_000 } });
    for (let i = 0; i < 3; i++) expect(await limits.admit(user(9), { ...call, maxAnswerTokens: 5000 })).toMatchObject({ ok: true });
    expect(await limits.budgetStatus({ sender: { userId: 9 } })).toMatchObject({ exempt: true, user: { tokens: { reserved: 0 } } });
    // A chat writing as itself is never an owner, whatever its id.
    expect(await limits.admit({ sender: { senderChatId: 9 } }, { ...call, maxAnswerTokens: 5000 })).toMatchObject({ ok: false });
  });

  it("holds each admitted call's maximum, so calls at the same time never overrun a budget together", async () => {
    const limits = setup({ userTokens: 1000, chatTokens: 5000 });
    const big = { model: "gpt-4.1-mini", promptTokens: 50, maxAnswerTokens: 300 };
    const admissions = await Promise.all([-1, -2, -3, -4, -5].map((chatId) => limits.admit(user(1, chatId), big)));
    expect(admissions.filter((a) => a.ok)).toHaveLength(2);
    expect(admissions.filter((a) => !a.ok)[0]).toMatchObject({ refusal: { scope: "user", left: 300, needed: 350 } });
    expect(await limits.budgetStatus(user(1, -1))).toMatchObject({
      user: { tokens: { used: 0, reserved: 700, left: 300 } },
      chat: { tokens: { used: 0, reserved: 350, left: 4650 } },
    });
    // Released (the calls ended): the room is back.
    for (const a of admissions) if (a.ok) await a.permit.release();
    expect(await limits.budgetStatus(user(1, -1))).toMatchObject({ user: { tokens: { reserved: 0, left: 1000 } } });
  });

  it("holds the chat's budget for everyone in it", async () => {
    const limits = setup({ chatTokens: 500 });
    const first = await limits.admit(user(1), { ...call, maxAnswerTokens: 400 });
    expect(first.ok).toBe(true);
    expect(await limits.admit(user(2), { ...call, maxAnswerTokens: 400 })).toMatchObject({ ok: false, refusal: { scope: "chat", unit: "tokens" } });
    expect(await limits.admit(user(2, -6), { ...call, maxAnswerTokens: 400 })).toMatchObject({ ok: true });
  });

  it("holds cost too, but a model without a price only against tokens", async () => {
    const limits = setup({ userTokens: 1000, userCostUsd: 0.0005 });
    // gpt-4.1-mini: 300 answer tokens at $1.60 per 1M may cost $0.00048 of $0.0005.
    const priced = await limits.admit(user(1), { model: "gpt-4.1-mini", promptTokens: 0, maxAnswerTokens: 300 });
    expect(priced.ok).toBe(true);
    expect(await limits.admit(user(1), { model: "gpt-4.1-mini", promptTokens: 0, maxAnswerTokens: 100 })).toMatchObject({ ok: false, refusal: { unit: "cost" } });
    expect(await limits.admit(user(1), { model: "my-local-model", promptTokens: 0, maxAnswerTokens: 600 })).toMatchObject({ ok: true });
    expect(await limits.admit(user(1), { model: "my-local-model", promptTokens: 0, maxAnswerTokens: 200 })).toMatchObject({ ok: false, refusal: { unit: "tokens" } });
  });

  it("lets the hold of a call that never ended (a crash) lapse after HOLD_TTL_MS", async () => {
    const clock = { now: NOW };
    const limits = setup({ userTokens: 1000 }, { clock });
    expect(await limits.admit(user(1), { ...call, maxAnswerTokens: 900 })).toMatchObject({ ok: true });
    expect(await limits.admit(user(1), { ...call, maxAnswerTokens: 900 })).toMatchObject({ ok: false });
    clock.now = new Date(NOW.getTime() + HOLD_TTL_MS - 1);
    expect(await limits.admit(user(1), { ...call, maxAnswerTokens: 900 })).toMatchObject({ ok: false });
    clock.now = new Date(NOW.getTime() + 2 * HOLD_TTL_MS);
    expect(await limits.admit(user(1), { ...call, maxAnswerTokens: 900 })).toMatchObject({ ok: true });
  });

  it("releases the hold when the rate limit refuses the call after the budgets admitted it", async () => {
    const limits = setup({ userTokens: 1000 }, { maxCalls: 1 });
    const first = await limits.admit(user(1), { ...call, maxAnswerTokens: 400 });
    expect(await limits.admit(user(1), { ...call, maxAnswerTokens: 400 })).toMatchObject({ ok: false, refusal: { kind: "rate" } });
    expect(first.ok).toBe(true);
    expect(await limits.budgetStatus(user(1))).toMatchObject({ user: { tokens: { reserved: 405 } } });
  });

  it("carries a refusal in its own error type", () => {
    const err = new LimitRefusalError({ kind: "rate", retryAfterMs: 1000 });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("LimitRefusalError");
    expect(err.refusal).toEqual({ kind: "rate", retryAfterMs: 1000 });
  });
});
