import { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { answerTracked } from "../bot/answer.js";
import { addressedQuestion } from "../bot/addressing.js";
import { replyMarkdown } from "../bot/reply.js";
import { withReplyContext } from "../bot/reply-context.js";
import { linksIn } from "../bot/links.js";
import { knowledgeContext } from "../bot/question-context.js";
import { questionTools } from "../bot/question-tools.js";

/**
 * The question as answerQuestion takes it: history pictures, tools (weather, web), and the knowledge context.
 * Tracked: an edit of the question aborts this answer and replaces it (features/edit.ts).
 */
function ask(ctx: BotContext, question: string) {
  return answerTracked(ctx, {
    // What the question replies to (another's message and its author, a quote) goes with it.
    text: withReplyContext(ctx, question),
    seesPictures: true,
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
