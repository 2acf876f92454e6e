import { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { answerTracked } from "../bot/answer.js";
import { editedQuestion } from "../bot/addressing.js";
import { withReplyContext } from "../bot/reply-context.js";
import { historyKeyOf } from "../bot/target.js";
import { weatherTool } from "../ai/tools/weather.js";
import { HistoryStore } from "../storage/history.js";

/**
 * An edited question is answered again, in place: when it is the last question answered in its history (or its
 * answer was still being written: bot/middleware/edit-interrupt.ts aborted it before this update's turn), the new
 * answer is edited into the old answer's messages and replaces the exchange in history. Edits of older questions,
 * of messages the bot never answered and, in groups, of messages not addressed to it are ignored.
 */
export const editFeature = new Composer<BotContext>();

editFeature.on("edited_message:text", async (ctx) => {
  const asked = editedQuestion(ctx);
  if (!asked) return;
  // As it was asked: with what it replies to (bot/reply-context.ts).
  const question = withReplyContext(ctx, asked);
  const messageId = ctx.editedMessage.message_id;
  const last = HistoryStore.lastExchange(await ctx.deps.history.load(historyKeyOf(ctx, await ctx.chatSettings())));
  const isLast = last?.question.messageId === messageId;
  if (!isLast && !ctx.editAbortedAnswer) {
    ctx.log.debug({ messageId }, "edit of a question that is not the last one answered: ignored");
    return;
  }
  // Telegram also reports edits that change nothing the bot reads (formatting, a link preview).
  if (isLast && !ctx.editAbortedAnswer && last.question.content === question) return;
  await answerTracked(ctx, {
    text: question,
    seesPictures: true,
    tools: [weatherTool(ctx.deps.weather)],
    replaces: isLast ? { questionMessageId: messageId, messageIds: last.answer?.messageIds ?? [] } : undefined,
  });
});
