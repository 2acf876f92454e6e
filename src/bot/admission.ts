/**
 * Admission of model calls: asks the limits (services/limits.ts) and tells the user, in their language, why a call
 * may not happen. Every model call goes through here: answers (and each round of a tool loop) and /image.
 */
import type { BotContext } from "./context.js";
import { replyMarkdown } from "./reply.js";
import { formatUsd } from "../ai/pricing.js";
import { nextUtcMidnight, type ModelCallEstimate, type Spender } from "../services/budgets.js";
import { LimitRefusalError, type Refusal } from "../services/limits.js";

/** The sender and chat of this update, as the limits and budgets know them. */
export function spenderOf(ctx: BotContext): Spender {
  return { userId: ctx.from?.id, chatId: ctx.chat?.id };
}

/** "5 h 12 min" in the user's language, rounded up to the minute. */
export function formatDuration(ctx: BotContext, ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  return ctx.t("duration-hours-minutes", { hours: Math.floor(minutes / 60), minutes: minutes % 60 });
}

/** The short reply for a refused call, in the user's language. */
export function refusalText(ctx: BotContext, refusal: Refusal): string {
  if (refusal.kind === "rate") return ctx.t("rate-limited", { seconds: Math.ceil(refusal.retryAfterMs / 1000) });
  const now = ctx.deps.now();
  const time = formatDuration(ctx, nextUtcMidnight(now).getTime() - now.getTime());
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
 * The guard before a model call: true when the call may go ahead; otherwise the user has been told why (and
 * nothing was spent).
 */
export async function admitModelCall(ctx: BotContext, call: ModelCallEstimate): Promise<boolean> {
  const refusal = await ctx.deps.limits.check(spenderOf(ctx), call);
  if (!refusal) return true;
  ctx.log.info({ refusal, userId: ctx.from?.id }, "model call refused by a limit");
  await replyMarkdown(ctx, refusalText(ctx, refusal));
  return false;
}

/** The same guard inside a running answer (a further round of a tool loop): throws LimitRefusalError when refused. */
export async function assertModelCallAllowed(ctx: BotContext, call: ModelCallEstimate): Promise<void> {
  const refusal = await ctx.deps.limits.check(spenderOf(ctx), call);
  if (refusal) throw new LimitRefusalError(refusal);
}
