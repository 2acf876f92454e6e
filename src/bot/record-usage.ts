import type { BotContext } from "./context.js";
import { estimateCost } from "../ai/pricing.js";
import { senderOf } from "./sender.js";
import { tokens } from "../util/metrics.js";

/** What one model call used, as the model server reported it (audio: as measured by the bot). */
export interface ModelUsage {
  model: string;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  /** Pictures generated (image models). */
  images?: number;
  /** Seconds of audio transcribed (transcription models). */
  transcribedSeconds?: number;
  /** Seconds of speech made, and the characters it was made from (speech models). */
  spokenSeconds?: number;
  spokenCharacters?: number;
}

/**
 * Records what model calls used, priced, for /usage and the budgets (per user and per chat; inline answers, which
 * belong to no chat, per user only); never fails the answer: a store error is logged.
 */
export async function recordUsage(ctx: BotContext, usage: ModelUsage[]): Promise<void> {
  const { deps } = ctx;
  for (const u of usage) {
    tokens.inc({ model: u.model, kind: "prompt" }, u.promptTokens);
    tokens.inc({ model: u.model, kind: "completion" }, u.completionTokens);
    const { spokenCharacters, ...recorded } = u;
    const costUsd = estimateCost(
      {
        model: u.model,
        promptTokens: u.promptTokens,
        cachedTokens: u.cachedTokens,
        completionTokens: u.completionTokens,
        images: u.images,
        audioSeconds: (u.transcribedSeconds ?? 0) + (u.spokenSeconds ?? 0),
        characters: spokenCharacters,
      },
      deps.config.modelPrices,
    );
    await deps.usage
      .record({ sender: senderOf(ctx), chatId: ctx.chat?.id, ...recorded, costUsd })
      .catch((err: unknown) => ctx.log.warn({ err }, "usage not recorded"));
  }
}
