/**
 * Answers that live in an inline message (inline mode's chosen result, guest mode's answer): the question on top as a
 * quote, the answer streamed in below it by edits (src/telegram/answer-stream.ts), with no chat history. Also the
 * inline result such a message starts from.
 */
import type { InlineKeyboardMarkup, InlineQueryResultArticle } from "grammy/types";
import type { BotContext } from "./context.js";
import { answerQuestion, type AnswerResult } from "./answer.js";
import { weatherTool } from "../ai/tools/weather.js";
import { joinFormatted, type FormattedText } from "../telegram/formatted-text.js";

/** The question as it heads an inline message: "❓ question" in a quote. */
export function questionHeader(question: string): FormattedText {
  const text = `❓ ${question}`;
  return { text, entities: [{ type: "blockquote", offset: 0, length: text.length }] };
}

/** The question with an italic line under it (e.g. "Thinking…"): what an inline message shows before the answer. */
export function questionWithLine(question: string, line: string): FormattedText {
  return joinFormatted([questionHeader(question), { text: line, entities: [{ type: "italic", offset: 0, length: line.length }] }]);
}

/** An article result whose message shows `content` (entities, never parse_mode). */
export function articleResult(
  id: string,
  title: string,
  content: FormattedText,
  opts: { description?: string; keyboard?: InlineKeyboardMarkup } = {},
): InlineQueryResultArticle {
  return {
    type: "article",
    id,
    title,
    ...(opts.description ? { description: opts.description } : {}),
    input_message_content: { message_text: content.text, entities: content.entities, link_preview_options: { is_disabled: true } },
    ...(opts.keyboard ? { reply_markup: opts.keyboard } : {}),
  };
}

/**
 * Answers `text` into the inline message: rate limits and budgets apply to the user as everywhere (a refusal is shown
 * in the message), no history is read or kept. `shown` is the question as the header shows it.
 */
export async function answerInInlineMessage(
  ctx: BotContext,
  inlineMessageId: string,
  question: { text: string; shown: string },
): Promise<AnswerResult> {
  ctx.inlineMessage = { inlineMessageId };
  return answerQuestion(ctx, { text: question.text, header: questionHeader(question.shown), tools: [weatherTool(ctx.deps.weather)] });
}
