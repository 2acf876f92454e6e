/**
 * Daily (UTC) token and cost budgets per user and per chat: what is left today, and whether a model call's estimate
 * fits in it. Plain arithmetic over the usage store; the texts users see are built in bot/ and features/.
 */
import { estimateCost, type PriceTable } from "../ai/pricing.js";
import type { UsageRecord, UsageStore } from "../storage/usage.js";

/** Daily limits; undefined is no limit. Tokens are prompt + completion. */
export interface BudgetLimits {
  userTokens: number | undefined;
  chatTokens: number | undefined;
  userCostUsd: number | undefined;
  chatCostUsd: number | undefined;
}

/** Who spends: the sender (absent for channel posts) and the chat. */
export interface Spender {
  userId?: number;
  chatId?: number;
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

/** What a model call may use at most, checked against the budgets before it is made. */
export interface ModelCallEstimate {
  model: string;
  /** The request's counted prompt tokens (system prompt, history, question, images). */
  promptTokens: number;
  /** The answer's maximum (max_tokens); 0 for calls without a text answer. */
  maxAnswerTokens: number;
  /** Pictures the call generates (image models), priced at the model's default size and quality. */
  images?: number;
}

export type BudgetRefusal =
  | { kind: "budget"; scope: "user" | "chat"; unit: "tokens"; left: number; limit: number; needed: number }
  | { kind: "budget"; scope: "user" | "chat"; unit: "cost"; left: number; limit: number; needed: number };

const usedTokens = (r: UsageRecord) => r.promptTokens + r.completionTokens;

function line(limit: number | undefined, used: number): BudgetLine | undefined {
  return limit === undefined ? undefined : { limit, used, left: Math.max(0, limit - used) };
}

export function budgetsConfigured(limits: BudgetLimits): boolean {
  return [limits.userTokens, limits.chatTokens, limits.userCostUsd, limits.chatCostUsd].some((v) => v !== undefined);
}

/** The next 00:00 UTC after `now`: when UsageStore's "today" starts over. */
export function nextUtcMidnight(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

/** What is left of today's budgets for a sender and chat, or undefined when no budget is configured. */
export async function budgetStatus(
  usage: UsageStore,
  limits: BudgetLimits,
  who: Spender,
  opts: { now: Date; exempt: boolean },
): Promise<BudgetStatus | undefined> {
  if (!budgetsConfigured(limits)) return undefined;
  const { userId, chatId } = who;
  const wantUser = userId !== undefined && (limits.userTokens !== undefined || limits.userCostUsd !== undefined);
  const wantChat = chatId !== undefined && (limits.chatTokens !== undefined || limits.chatCostUsd !== undefined);
  const [userUsage, chatUsage] = await Promise.all([
    wantUser ? usage.get({ userId }) : undefined,
    wantChat ? usage.get({ chatId }) : undefined,
  ]);
  const status: BudgetStatus = { resetsAt: nextUtcMidnight(opts.now), exempt: opts.exempt };
  if (userUsage) {
    status.user = { tokens: line(limits.userTokens, usedTokens(userUsage.today)), costUsd: line(limits.userCostUsd, userUsage.today.costUsd) };
  }
  if (chatUsage) {
    status.chat = { tokens: line(limits.chatTokens, usedTokens(chatUsage.today)), costUsd: line(limits.chatCostUsd, chatUsage.today.costUsd) };
  }
  return status;
}

/**
 * The first budget a call would overrun: the request's tokens plus the answer's maximum must fit in what is left
 * today. Unknown prices cannot be checked against a cost limit; the token limits still apply to them.
 */
export function budgetRefusal(status: BudgetStatus, call: ModelCallEstimate, prices?: PriceTable): BudgetRefusal | undefined {
  const needed = call.promptTokens + call.maxAnswerTokens;
  const neededUsd = estimateCost(
    { model: call.model, promptTokens: call.promptTokens, completionTokens: call.maxAnswerTokens, images: call.images },
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
