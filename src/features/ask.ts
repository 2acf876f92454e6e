import { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { answerTracked } from "../bot/answer.js";
import { addressedQuestion } from "../bot/addressing.js";
import { replyMarkdown } from "../bot/reply.js";
import { weatherTool } from "../ai/tools/weather.js";

export const askFeature = new Composer<BotContext>();

askFeature.command("ask", async (ctx) => {
  const question = ctx.match.trim();
  if (!question) return replyMarkdown(ctx, ctx.t("ask-usage"));
  // Tracked: an edit of the question aborts this answer and replaces it (features/edit.ts).
  await answerTracked(ctx, { text: question, seesPictures: true, tools: [weatherTool(ctx.deps.weather)] });
});

askFeature.on("message:text", async (ctx, next) => {
  const question = addressedQuestion(ctx);
  if (question === undefined) return next();
  if (!question) return replyMarkdown(ctx, ctx.t("ask-usage"));
  await answerTracked(ctx, { text: question, seesPictures: true, tools: [weatherTool(ctx.deps.weather)] });
});
