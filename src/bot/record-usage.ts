import type { BotContext } from "./context.js";
import { estimateCost } from "../ai/pricing.js";
import { senderOf } from "./sender.js";

/** What one model call used, as the model server reported it. */
export interface ModelUsage {
  model: string;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  /** Pictures generated (image models). */
  images?: number;
}

/**
 * Records what model calls used, priced, for /usage and the budgets (per user and per chat); never fails the
 * answer: a store error is logged.
 */
export async function recordUsage(ctx: BotContext, usage: ModelUsage[]): Promise<void> {
  const { deps } = ctx;
  for (const u of usage) {
    const costUsd = estimateCost(
      { model: u.model, promptTokens: u.promptTokens, cachedTokens: u.cachedTokens, completionTokens: u.completionTokens, images: u.images },
      deps.config.modelPrices,
    );
    await deps.usage
      .record({ sender: senderOf(ctx), chatId: ctx.chat!.id, ...u, costUsd })
      .catch((err: unknown) => ctx.log.warn({ err }, "usage not recorded"));
  }
}
