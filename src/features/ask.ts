import { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { answerQuestion } from "../bot/answer.js";
import { addressedQuestion } from "../bot/addressing.js";
import { replyMarkdown } from "../bot/reply.js";
import { historyImageResolver } from "../bot/pictures.js";
import { weatherTool } from "../ai/tools/weather.js";

export const askFeature = new Composer<BotContext>();

askFeature.command("ask", async (ctx) => {
  const question = ctx.match.trim();
  if (!question) return replyMarkdown(ctx, ctx.t("ask-usage"));
  await answerQuestion(ctx, { text: question, resolveImages: historyImageResolver(ctx), tools: [weatherTool(ctx.deps.weather)] });
});

askFeature.on("message:text", async (ctx, next) => {
  const question = addressedQuestion(ctx);
  if (question === undefined) return next();
  if (!question) return replyMarkdown(ctx, ctx.t("ask-usage"));
  await answerQuestion(ctx, { text: question, resolveImages: historyImageResolver(ctx), tools: [weatherTool(ctx.deps.weather)] });
});
