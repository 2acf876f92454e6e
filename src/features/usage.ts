import { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { replyToSender } from "../bot/reply.js";
import { formatUsd } from "../ai/pricing.js";
import { formatDuration, spenderOf } from "../bot/admission.js";
import { senderOf } from "../bot/sender.js";
import type { UsageRecord, UsageSummary } from "../storage/usage.js";

/**
 * /usage: what you and this chat have spent today, this month and in total (UTC days and months), as recorded by
 * answerQuestion and /image, and what is left of today's budgets when any is configured. In a private chat "you"
 * and "this chat" are the same thing, so it is shown once.
 */
export const usageFeature = new Composer<BotContext>();

usageFeature.command("usage", async (ctx) => {
  const usage = ctx.deps.usage;
  const sender = senderOf(ctx);
  const mine = sender ? await usage.get(sender) : undefined;
  const chat = ctx.chat.type === "private" && mine ? undefined : await usage.get({ chatId: ctx.chat.id });
  const blocks: string[] = [];
  if (mine) blocks.push(summary(ctx, ctx.t("usage-you"), mine));
  if (chat) blocks.push(summary(ctx, ctx.t("usage-chat"), chat));
  // What is left of today's budgets (when DAILY_* limits are configured), so nobody runs into them blind.
  const budget = await describeBudget(ctx);
  if (budget) blocks.push(budget);
  blocks.push(ctx.t("usage-footnote"));
  // In groups, one person's spending is theirs to see (an ephemeral reply where the server allows it).
  await replyToSender(ctx, blocks.join("\n\n"));
});

function summary(ctx: BotContext, title: string, s: UsageSummary): string {
  return [
    `**${title}**`,
    line(ctx, ctx.t("usage-today"), s.today),
    line(ctx, ctx.t("usage-month"), s.month),
    line(ctx, ctx.t("usage-total"), s.total),
  ].join("\n");
}

function line(ctx: BotContext, period: string, r: UsageRecord): string {
  if (r.calls === 0) return ctx.t("usage-line-none", { period });
  const tokens = r.promptTokens + r.completionTokens;
  // Calls of models without a known price add nothing to the cost, so it is then a lower bound.
  const cost = r.unpricedCalls > 0 ? ctx.t("usage-cost-at-least", { cost: formatUsd(r.costUsd) }) : formatUsd(r.costUsd);
  const text = ctx.t(r.cachedTokens > 0 ? "usage-line-cached" : "usage-line", {
    period,
    tokens: fmt(tokens),
    prompt: fmt(r.promptTokens),
    cached: fmt(r.cachedTokens),
    completion: fmt(r.completionTokens),
    cost,
  });
  const extras = [
    r.images > 0 ? ctx.t("usage-images", { images: r.images }) : "",
    r.transcribedSeconds > 0 ? ctx.t("usage-transcribed", { minutes: minutes(r.transcribedSeconds) }) : "",
    r.spokenSeconds > 0 ? ctx.t("usage-spoken", { minutes: minutes(r.spokenSeconds) }) : "",
  ];
  return text + extras.join("");
}

/** Today's budgets as a few Markdown lines in the user's language; undefined when none is configured. */
export async function describeBudget(ctx: BotContext): Promise<string | undefined> {
  const status = await ctx.deps.limits.budgetStatus(spenderOf(ctx));
  if (!status) return undefined;
  const lines: string[] = [ctx.t("budget-title")];
  for (const scope of ["user", "chat"] as const) {
    const s = status[scope];
    // What answers being written right now hold is not spent yet, but not free either: said, so "left" adds up.
    const held = (reserved: number, shown: string) => (reserved > 0 ? ` ${ctx.t("budget-held", { held: shown })}` : "");
    if (s?.tokens) {
      const { left, limit, reserved } = s.tokens;
      lines.push(ctx.t("budget-line-tokens", { scope, left, limit }) + held(reserved, fmt(reserved)));
    }
    if (s?.costUsd) {
      const { left, limit, reserved } = s.costUsd;
      lines.push(ctx.t("budget-line-cost", { scope, left: formatUsd(left), limit: formatUsd(limit) }) + held(reserved, formatUsd(reserved)));
    }
  }
  lines.push(ctx.t("budget-resets", { time: formatDuration(ctx, status.resetsAt.getTime() - ctx.deps.now().getTime()) }));
  if (status.exempt) lines.push(ctx.t("budget-owner-exempt"));
  return lines.join("\n");
}

const fmt = (n: number) => n.toLocaleString("en-US");
/** Audio minutes with one decimal ("0.2"), never "0.0" for some seconds. */
const minutes = (seconds: number) => Math.max(0.1, Math.round(seconds / 6) / 10).toFixed(1);
