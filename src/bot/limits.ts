/**
 * What may be spent: a per-user rate limit on model calls and daily token/cost budgets per user and per chat, both
 * checked before a model is called. State lives in keyv so every instance of the bot sees the same counts.
 */
import type Keyv from "keyv";
import type { BotContext } from "./context.js";
import type { Config } from "../config.js";
import { estimateCost, formatUsd } from "../ai/pricing.js";
import { isOwner } from "./admins.js";
import { replyMarkdown } from "./reply.js";
import type { UsageRecord } from "../storage/usage.js";
import { KeyedQueue } from "../util/keyed-queue.js";

export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * A sliding window per key: at most `maxCalls` in any `windowMs`. The value is the list of call times inside the
 * window, so "try again in N s" is exact. keyv has no atomic update: updates are serialised per key inside this
 * process; two instances taking a slot for the same user at the same instant can each admit one call (a bounded
 * overshoot of one call per extra instance).
 */
export class RateLimiter {
  readonly #keyv: Keyv;
  readonly #windowMs: number;
  readonly #maxCalls: number;
  readonly #now: () => Date;
  readonly #queue = new KeyedQueue();

  constructor(keyv: Keyv, opts: { windowMs: number; maxCalls: number; now?: () => Date }) {
    this.#keyv = keyv;
    this.#windowMs = opts.windowMs;
    this.#maxCalls = opts.maxCalls;
    this.#now = opts.now ?? (() => new Date());
  }

  get enabled(): boolean {
    return this.#maxCalls > 0;
  }

  /** Takes one call for `userId` if the window has room; otherwise says how long until it has. */
  take(userId: number): Promise<RateDecision> {
    if (!this.enabled) return Promise.resolve({ ok: true });
    const key = `ratelimit:u:${userId}`;
    return this.#queue.run(key, async (): Promise<RateDecision> => {
      const now = this.#now().getTime();
      const stored: unknown = await this.#keyv.get(key);
      const times = (Array.isArray(stored) ? stored : [])
        .filter((t): t is number => typeof t === "number" && t > now - this.#windowMs && t <= now)
        .sort((a, b) => a - b);
      if (times.length >= this.#maxCalls) {
        // The call that frees a slot is the one `maxCalls` back from the end.
        const freeing = times[times.length - this.#maxCalls]!;
        return { ok: false, retryAfterMs: Math.max(1, freeing + this.#windowMs - now) };
      }
      times.push(now);
      // The TTL only collects garbage; what counts is the times themselves (compared with the injectable clock).
      await this.#keyv.set(key, times.slice(-this.#maxCalls), this.#windowMs + 60_000);
      return { ok: true };
    });
  }
}

export interface BudgetLine {
  limit: number;
  used: number;
  /** What is left today (never below 0). */
  left: number;
}

export interface BudgetScopeStatus {
  tokens?: BudgetLine;
  costUsd?: BudgetLine;
}

export interface BudgetStatus {
  /** The sender's own daily budget (absent when none is configured or the update has no sender). */
  user?: BudgetScopeStatus;
  /** The chat's daily budget (absent when none is configured). */
  chat?: BudgetScopeStatus;
  /** When the budgets renew (next 00:00 UTC). */
  resetsAt: Date;
  /** Owners are not limited; the figures are still shown. */
  exempt: boolean;
}

const usedTokens = (r: UsageRecord) => r.promptTokens + r.completionTokens;

function line(limit: number | undefined, used: number): BudgetLine | undefined {
  return limit === undefined ? undefined : { limit, used, left: Math.max(0, limit - used) };
}

export function budgetsConfigured(config: Config): boolean {
  const b = config.budgets;
  return [b.userTokens, b.chatTokens, b.userCostUsd, b.chatCostUsd].some((v) => v !== undefined);
}

/** The next 00:00 UTC after `now`: when UsageStore's "today" starts over. */
export function nextUtcMidnight(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

/**
 * What is left of today's budgets for this update's sender and chat, or undefined when no budget is configured.
 * For /usage: call it and show the lines (or use {@link describeBudget} for ready-made text in the user's language).
 */
export async function budgetStatus(ctx: BotContext): Promise<BudgetStatus | undefined> {
  const { config, usage } = ctx.deps;
  if (!budgetsConfigured(config)) return undefined;
  const b = config.budgets;
  const userId = ctx.from?.id;
  const chatId = ctx.chat?.id;
  const wantUser = userId !== undefined && (b.userTokens !== undefined || b.userCostUsd !== undefined);
  const wantChat = chatId !== undefined && (b.chatTokens !== undefined || b.chatCostUsd !== undefined);
  const [userUsage, chatUsage] = await Promise.all([
    wantUser ? usage.get({ userId }) : undefined,
    wantChat ? usage.get({ chatId }) : undefined,
  ]);
  const status: BudgetStatus = { resetsAt: nextUtcMidnight(ctx.deps.access.now()), exempt: isOwner(ctx) };
  if (userUsage) {
    status.user = { tokens: line(b.userTokens, usedTokens(userUsage.today)), costUsd: line(b.userCostUsd, userUsage.today.costUsd) };
  }
  if (chatUsage) {
    status.chat = { tokens: line(b.chatTokens, usedTokens(chatUsage.today)), costUsd: line(b.chatCostUsd, chatUsage.today.costUsd) };
  }
  return status;
}

/** "5 h 12 min" in the user's language, rounded up to the minute. */
export function formatDuration(ctx: BotContext, ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  return ctx.t("duration-hours-minutes", { hours: Math.floor(minutes / 60), minutes: minutes % 60 });
}

/** Today's budgets as a few Markdown lines for /usage (replyMarkdown), in the user's language; undefined when none is configured. */
export async function describeBudget(ctx: BotContext): Promise<string | undefined> {
  const status = await budgetStatus(ctx);
  if (!status) return undefined;
  const lines: string[] = [ctx.t("budget-title")];
  for (const scope of ["user", "chat"] as const) {
    const s = status[scope];
    if (s?.tokens) lines.push(ctx.t("budget-line-tokens", { scope, left: s.tokens.left, limit: s.tokens.limit }));
    if (s?.costUsd) {
      lines.push(ctx.t("budget-line-cost", { scope, left: formatUsd(s.costUsd.left), limit: formatUsd(s.costUsd.limit) }));
    }
  }
  lines.push(ctx.t("budget-resets", { time: formatDuration(ctx, status.resetsAt.getTime() - ctx.deps.access.now().getTime()) }));
  if (status.exempt) lines.push(ctx.t("budget-owner-exempt"));
  return lines.join("\n");
}

export interface ModelCallEstimate {
  model: string;
  /** The request's counted prompt tokens (system prompt, history, question, images). */
  promptTokens: number;
  /** The answer's maximum (max_tokens); 0 for calls without a text answer. */
  maxAnswerTokens: number;
  /** Pictures the call generates (image models), priced at the model's default size and quality. */
  images?: number;
}

export type Refusal =
  | { kind: "rate"; retryAfterMs: number }
  | { kind: "budget"; scope: "user" | "chat"; unit: "tokens"; left: number; limit: number; needed: number }
  | { kind: "budget"; scope: "user" | "chat"; unit: "cost"; left: number; limit: number; needed: number };

/**
 * Decides whether this model call may happen: budgets first (the request's tokens plus the answer's maximum must
 * fit in what is left today), then the rate limit (a slot is only taken for a call that will happen). Owners are
 * exempt from both.
 */
export async function checkModelCall(ctx: BotContext, call: ModelCallEstimate): Promise<Refusal | undefined> {
  if (isOwner(ctx)) return undefined;
  const status = await budgetStatus(ctx);
  if (status) {
    const needed = call.promptTokens + call.maxAnswerTokens;
    // Unknown prices cannot be checked against a cost limit; the token limits still apply to them.
    const neededUsd = estimateCost(
      { model: call.model, promptTokens: call.promptTokens, completionTokens: call.maxAnswerTokens, images: call.images },
      ctx.deps.prices,
    );
    for (const scope of ["user", "chat"] as const) {
      const s = status[scope];
      if (s?.tokens && needed > s.tokens.left) {
        return { kind: "budget", scope, unit: "tokens", left: s.tokens.left, limit: s.tokens.limit, needed };
      }
      if (s?.costUsd && neededUsd !== null && neededUsd > s.costUsd.left) {
        return { kind: "budget", scope, unit: "cost", left: s.costUsd.left, limit: s.costUsd.limit, needed: neededUsd };
      }
    }
  }
  const userId = ctx.from?.id;
  if (userId !== undefined) {
    const decision = await ctx.deps.access.rateLimiter.take(userId);
    if (!decision.ok) return { kind: "rate", retryAfterMs: decision.retryAfterMs };
  }
  return undefined;
}

/** The short reply for a refused call, in the user's language. */
export function refusalText(ctx: BotContext, refusal: Refusal): string {
  if (refusal.kind === "rate") return ctx.t("rate-limited", { seconds: Math.ceil(refusal.retryAfterMs / 1000) });
  const time = formatDuration(ctx, nextUtcMidnight(ctx.deps.access.now()).getTime() - ctx.deps.access.now().getTime());
  if (refusal.unit === "tokens") {
    return ctx.t("budget-exceeded-tokens", { scope: refusal.scope, left: refusal.left, limit: refusal.limit, needed: refusal.needed, time });
  }
  return ctx.t("budget-exceeded-cost", {
    scope: refusal.scope,
    left: formatUsd(refusal.left),
    limit: formatUsd(refusal.limit),
    needed: formatUsd(refusal.needed),
    time,
  });
}

/**
 * The guard before every model call: true when the call may go ahead; otherwise the user has been told why (and
 * nothing was spent). answerQuestion calls it; features that call a model another way (e.g. /image) should too.
 */
export async function admitModelCall(ctx: BotContext, call: ModelCallEstimate): Promise<boolean> {
  const refusal = await checkModelCall(ctx, call);
  if (!refusal) return true;
  ctx.log.info({ refusal, userId: ctx.from?.id }, "model call refused by a limit");
  await replyMarkdown(ctx, refusalText(ctx, refusal));
  return false;
}
