import { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { answerQuestion } from "../bot/answer.js";
import { REGENERATE_DATA } from "../bot/answer-buttons.js";
import { knowledgeContext } from "../bot/question-context.js";
import { questionTools } from "../bot/question-tools.js";
import { replyMarkdown } from "../bot/reply.js";
import { senderIdOf } from "../bot/sender.js";
import { historyKeyOf } from "../bot/target.js";
import { HistoryStore, type HistoryTurn, type LastExchange } from "../storage/history.js";

/**
 * Regenerate: /retry and the Regenerate button under the last answer ask the history's last question again. The new
 * answer streams as a new message and replaces that exchange in history (bot/answer.ts, `regenerates`): the model
 * never sees both answers, and the button moves to the new one. In groups only the asker regenerates their answer.
 * A button on an older answer (history moved on, or was reset) says the answer is finished; no model call.
 */
export const retryFeature = new Composer<BotContext>();

/** The last exchange of this update's history. */
async function lastExchange(ctx: BotContext): Promise<LastExchange | undefined> {
  return HistoryStore.lastExchange(await ctx.deps.history.load(historyKeyOf(ctx, await ctx.chatSettings())));
}

/** Whether the sender asked `question` (always in a private chat: the chat has one user). */
function askedBy(ctx: BotContext, question: HistoryTurn): boolean {
  return ctx.chat?.type === "private" || (question.senderId !== undefined && question.senderId === senderIdOf(ctx));
}

function regenerate(ctx: BotContext, question: HistoryTurn) {
  return answerQuestion(ctx, {
    text: question.content,
    regenerates: question,
    seesPictures: true,
    tools: questionTools(ctx),
    context: knowledgeContext(ctx),
  });
}

retryFeature.command("retry", async (ctx) => {
  const last = await lastExchange(ctx);
  if (!last || last.question.messageId === undefined) return replyMarkdown(ctx, ctx.t("retry-nothing"));
  if (!askedBy(ctx, last.question)) return replyMarkdown(ctx, ctx.t("retry-not-yours"));
  await regenerate(ctx, last.question);
});

retryFeature.callbackQuery(REGENERATE_DATA, async (ctx) => {
  const last = await lastExchange(ctx);
  const pressedOn = ctx.callbackQuery.message?.message_id;
  // Only the last answer's own button regenerates: one left on an older message is finished.
  const current =
    last?.question.messageId === Number(ctx.match[1]) && pressedOn !== undefined && (last.answer?.messageIds ?? []).includes(pressedOn);
  if (!last || !current) return ctx.answerCallbackQuery({ text: ctx.t("answer-finished") });
  if (!askedBy(ctx, last.question)) return ctx.answerCallbackQuery({ text: ctx.t("retry-not-yours") });
  await ctx.answerCallbackQuery();
  await regenerate(ctx, last.question);
});
