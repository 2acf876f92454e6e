/**
 * Admission of model calls: asks the limits (services/limits.ts) and tells the user, in their language, why a call
 * may not happen. Every model call goes through here: answers (and each round of a tool loop) and /image.
 */
import type { BotContext } from "./context.js";
import { replyToSender } from "./reply.js";
import { formatUsd } from "../ai/pricing.js";
import { nextUtcMidnight, type ModelCallEstimate, type Spender } from "../services/budgets.js";
import { LimitRefusalError, type CallPermit, type Refusal } from "../services/limits.js";
import { senderOf } from "./sender.js";

/** The sender and chat of this update, as the limits and budgets know them. */
export function spenderOf(ctx: BotContext): Spender {
  return { sender: senderOf(ctx), chatId: ctx.chat?.id };
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
 * The guard before a model call: a permit when the call may go ahead (release it once the call's usage is recorded,
 * or it failed); otherwise undefined, and the user has been told why (nothing was spent), once per window: later
 * refusals in the same window get no reply.
 */
export async function admitModelCall(ctx: BotContext, call: ModelCallEstimate): Promise<CallPermit | undefined> {
  const admission = await ctx.deps.limits.admit(spenderOf(ctx), call);
  if (admission.ok) return admission.permit;
  const { refusal } = admission;
  const sender = senderOf(ctx);
  // An inline or guest answer's message waits for this answer: it is always told there. In chats, once per window.
  const chatId = ctx.inlineMessage ? undefined : ctx.chat?.id;
  if (chatId !== undefined && !(await ctx.deps.limitNotices.shouldTell(refusal, chatId, sender))) {
    ctx.log.debug({ refusal, sender }, "model call refused by a limit (already told)");
    return undefined;
  }
  ctx.log.info({ refusal, sender }, "model call refused by a limit");
  await replyToSender(ctx, refusalText(ctx, refusal));
  return undefined;
}

/** The same guard inside a running answer (a further round of a tool loop): throws LimitRefusalError when refused. */
export async function admitFurtherCall(ctx: BotContext, call: ModelCallEstimate): Promise<CallPermit> {
  const admission = await ctx.deps.limits.admit(spenderOf(ctx), call);
  if (!admission.ok) throw new LimitRefusalError(admission.refusal);
  return admission.permit;
}
