import { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { historyKeyOf } from "../bot/target.js";
import { replyMarkdown } from "../bot/reply.js";

export const resetFeature = new Composer<BotContext>();

resetFeature.command("reset", async (ctx) => {
  await ctx.deps.history.clear(historyKeyOf(ctx, await ctx.chatSettings()));
  await replyMarkdown(ctx, ctx.t("reset-done"));
});
