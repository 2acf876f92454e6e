/**
 * Inline mode: `@bot question` in any chat. While the user types, every query is answered with one result, "Ask:
 * question", without spending anything (results cached briefly by Telegram and in this process). The result carries
 * a small inline keyboard, so Telegram gives its message an inline_message_id; when the user picks it
 * (chosen_inline_result: inline feedback must be on in BotFather) the answer streams into that message by edits,
 * paced like a group message. Access control, rate limits and budgets apply to the user; there is no chat history.
 */
import { Composer } from "grammy";
import type { InlineQueryResultArticle } from "grammy/types";
import { LRUCache } from "lru-cache";
import type { BotContext } from "../bot/context.js";
import { answerInInlineMessage, articleResult, questionWithLine } from "../bot/inline-answer.js";

export const inlineFeature = new Composer<BotContext>();

/** The one result's id: a chosen result with it is a question to answer. */
const ASK_RESULT_ID = "ask";
const WAIT_BUTTON = "inline:wait";
/**
 * How long Telegram may show the same results again for the same query and user (personal: the texts are in the
 * user's language, and whether they may ask at all is theirs).
 */
const INLINE_CACHE_SECONDS = 30;
/** Results built in this process, per language and query: typing back and forth builds nothing twice. */
const results = new LRUCache<string, InlineQueryResultArticle>({ max: 2000, ttl: INLINE_CACHE_SECONDS * 1000 });
/** The result's title shows the start of the question. */
const TITLE_QUESTION_CHARACTERS = 60;

inlineFeature.on("inline_query", async (ctx) => {
  const question = ctx.inlineQuery.query.trim();
  if (!question) return ctx.answerInlineQuery([], { cache_time: INLINE_CACHE_SECONDS, is_personal: true });
  const locale = await ctx.i18n.getLocale();
  const key = `${locale}\n${question}`;
  let result = results.get(key);
  if (result) ctx.log.debug({ locale }, "inline result from the cache");
  else {
    const chars = [...question];
    const title = chars.length > TITLE_QUESTION_CHARACTERS ? `${chars.slice(0, TITLE_QUESTION_CHARACTERS).join("")}…` : question;
    result = articleResult(ASK_RESULT_ID, ctx.t("inline-ask-title", { question: title }), questionWithLine(question, ctx.t("inline-thinking")), {
      description: ctx.t("inline-ask-description"),
      // The keyboard is what makes Telegram hand out an inline_message_id; the first edit of the answer removes it.
      keyboard: { inline_keyboard: [[{ text: ctx.t("inline-button-wait"), callback_data: WAIT_BUTTON }]] },
    });
    results.set(key, result);
  }
  await ctx.answerInlineQuery([result], { cache_time: INLINE_CACHE_SECONDS, is_personal: true });
});

inlineFeature.on("chosen_inline_result", async (ctx) => {
  const { result_id: resultId, inline_message_id: inlineMessageId, query } = ctx.chosenInlineResult;
  const question = query.trim();
  if (resultId !== ASK_RESULT_ID || !question) return;
  if (!inlineMessageId) {
    // Only a result without a keyboard comes back without an id: never one of ours.
    ctx.log.warn({ resultId }, "chosen inline result without an inline_message_id: nothing to answer into");
    return;
  }
  await answerInInlineMessage(ctx, inlineMessageId, { text: question, shown: question });
});

// Pressed before the first edit took the button away.
inlineFeature.callbackQuery(WAIT_BUTTON, (ctx) => ctx.answerCallbackQuery({ text: ctx.t("inline-wait") }));
