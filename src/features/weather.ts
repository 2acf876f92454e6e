import { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { answerQuestion } from "../bot/answer.js";
import { replyMarkdown } from "../bot/reply.js";
import { weatherTool } from "../ai/tools/weather.js";

/** The weather tool's own limit on a place name; a longer "place" is a mistake, not a city. */
const MAX_PLACE_LENGTH = 200;

/**
 * /weather Tokyo: a question to the model with the weather tool required, so the answer is built from a real
 * forecast rather than the model's memory. It goes through answerQuestion like any question: streamed, with the
 * tool's status line while Open-Meteo answers, kept in history, and counted in /usage.
 */
export const weatherFeature = new Composer<BotContext>();

weatherFeature.command("weather", async (ctx) => {
  const place = ctx.match.trim().replace(/\s+/g, " ");
  if (!place) return replyMarkdown(ctx, ctx.t("weather-usage"));
  if (place.length > MAX_PLACE_LENGTH) return replyMarkdown(ctx, ctx.t("weather-place-too-long", { max: MAX_PLACE_LENGTH }));
  await answerQuestion(ctx, {
    text: ctx.t("weather-question", { place }),
    tools: [weatherTool(ctx.deps.weather)],
    toolChoice: "required",
  });
});
