import { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { answerQuestion } from "../bot/answer.js";
import { addressedQuestion } from "../bot/addressing.js";
import { replyMarkdown } from "../bot/reply.js";
import { historyImageResolver } from "../bot/pictures.js";
import { linksIn } from "../bot/links.js";
import { knowledgeContext } from "../bot/question-context.js";
import { questionTools } from "../bot/question-tools.js";

/** The question as answerQuestion takes it: history pictures, tools (weather, web), and the knowledge context. */
function ask(ctx: BotContext, question: string) {
  return answerQuestion(ctx, {
    text: question,
    resolveImages: historyImageResolver(ctx),
    tools: questionTools(ctx),
    context: knowledgeContext(ctx, { links: linksIn(ctx.msg) }),
  });
}

export const askFeature = new Composer<BotContext>();

askFeature.command("ask", async (ctx) => {
  const question = ctx.match.trim();
  if (!question) return replyMarkdown(ctx, ctx.t("ask-usage"));
  await ask(ctx, question);
});

askFeature.on("message:text", async (ctx, next) => {
  const question = addressedQuestion(ctx);
  if (question === undefined) return next();
  if (!question) return replyMarkdown(ctx, ctx.t("ask-usage"));
  await ask(ctx, question);
});
