/**
 * Daily (UTC) token and cost budgets per user and per chat: what is left today, and whether a model call's estimate
 * fits in it. Plain arithmetic over the usage store and the holds of calls in progress (budget-holds.ts); the texts
 * users see are built in bot/ and features/.
 */
import { estimateCost, type PriceTable } from "../ai/pricing.js";
import type { Sender, UsageRecord, UsageScope, UsageStore } from "../storage/usage.js";
import type { Amount, BudgetHolds } from "./budget-holds.js";

/** Daily limits; undefined is no limit. Tokens are prompt + completion. */
export interface BudgetLimits {
  userTokens: number | undefined;
  chatTokens: number | undefined;
  userCostUsd: number | undefined;
  chatCostUsd: number | undefined;
}

/** Who spends: the sender (a user, or a chat writing as itself; absent without a sender) and the chat. */
export interface Spender {
  sender?: Sender;
  chatId?: number;
}

export interface BudgetLine {
  limit: number;
  /** Recorded today. */
  used: number;
  /** Held by calls in progress (their maximum, until they end). */
  reserved: number;
  /** What is left today: limit − used − reserved, never below 0. */
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

/** What a model call may use at most, checked against the budgets before it is made. */
export interface ModelCallEstimate {
  model: string;
  /** The request's counted prompt tokens (system prompt, history, question, images). */
  promptTokens: number;
  /** The answer's maximum (max_tokens); 0 for calls without a text answer. */
  maxAnswerTokens: number;
  /** Pictures the call generates (image models), priced at the model's default size and quality. */
  images?: number;
  /** Seconds of audio the call hears or (estimated) speaks (audio models, priced per minute). */
  audioSeconds?: number;
  /** Characters the call speaks (speech models priced per character). */
  characters?: number;
}

export type BudgetRefusal =
  | { kind: "budget"; scope: "user" | "chat"; unit: "tokens"; left: number; limit: number; needed: number }
  | { kind: "budget"; scope: "user" | "chat"; unit: "cost"; left: number; limit: number; needed: number };

const usedTokens = (r: UsageRecord) => r.promptTokens + r.completionTokens;

function line(limit: number | undefined, used: number, reserved: number): BudgetLine | undefined {
  return limit === undefined ? undefined : { limit, used, reserved, left: Math.max(0, limit - used - reserved) };
}

/** What a call may use at most: its tokens, and their estimated cost (0 when the model has no known price). */
export function maximumOf(call: ModelCallEstimate, prices?: PriceTable): Amount {
  const costUsd = estimateCost(
    { model: call.model, promptTokens: call.promptTokens, completionTokens: call.maxAnswerTokens, images: call.images },
    prices,
  );
  return { tokens: call.promptTokens + call.maxAnswerTokens, costUsd: costUsd ?? 0 };
}

/** The scopes whose budgets a spender is held to: their own (with a sender) and their chat's, when configured. */
export function budgetScopes(limits: BudgetLimits, who: Spender): UsageScope[] {
  const scopes: UsageScope[] = [];
  if (who.sender !== undefined && (limits.userTokens !== undefined || limits.userCostUsd !== undefined)) scopes.push(who.sender);
  if (who.chatId !== undefined && (limits.chatTokens !== undefined || limits.chatCostUsd !== undefined)) scopes.push({ chatId: who.chatId });
  return scopes;
}

export function budgetsConfigured(limits: BudgetLimits): boolean {
  return [limits.userTokens, limits.chatTokens, limits.userCostUsd, limits.chatCostUsd].some((v) => v !== undefined);
}

/** The next 00:00 UTC after `now`: when UsageStore's "today" starts over. */
export function nextUtcMidnight(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

/** Where budgets read what was spent today: recorded usage, and what calls in progress hold. */
export interface BudgetSources {
  usage: UsageStore;
  holds?: BudgetHolds;
}

/** What is left of today's budgets for a sender and chat, or undefined when no budget is configured. */
export async function budgetStatus(
  sources: BudgetSources,
  limits: BudgetLimits,
  who: Spender,
  opts: { now: Date; exempt: boolean },
): Promise<BudgetStatus | undefined> {
  if (!budgetsConfigured(limits)) return undefined;
  const none: Amount = { tokens: 0, costUsd: 0 };
  const scopeStatus = async (scope: UsageScope, tokenLimit: number | undefined, costLimit: number | undefined): Promise<BudgetScopeStatus> => {
    const [{ today }, held] = await Promise.all([sources.usage.get(scope), sources.holds?.held(scope) ?? none]);
    return { tokens: line(tokenLimit, usedTokens(today), held.tokens), costUsd: line(costLimit, today.costUsd, held.costUsd) };
  };
  const status: BudgetStatus = { resetsAt: nextUtcMidnight(opts.now), exempt: opts.exempt };
  await Promise.all(
    budgetScopes(limits, who).map(async (scope) => {
      if ("chatId" in scope) status.chat = await scopeStatus(scope, limits.chatTokens, limits.chatCostUsd);
      else status.user = await scopeStatus(scope, limits.userTokens, limits.userCostUsd);
    }),
  );
  return status;
}

/**
 * The first budget a call would overrun: the request's tokens plus the answer's maximum must fit in what is left
 * today. Unknown prices cannot be checked against a cost limit; the token limits still apply to them.
 */
export function budgetRefusal(status: BudgetStatus, call: ModelCallEstimate, prices?: PriceTable): BudgetRefusal | undefined {
  const needed = call.promptTokens + call.maxAnswerTokens;
  const neededUsd = estimateCost(
    {
      model: call.model,
      promptTokens: call.promptTokens,
      completionTokens: call.maxAnswerTokens,
      images: call.images,
      audioSeconds: call.audioSeconds,
      characters: call.characters,
    },
    prices,
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
  return undefined;
}
