/**
 * Guest mode (Bot API 10.0): a user mentions the bot in a chat it is not a member of, and a guest_message arrives
 * (the user's message with a guest_query_id). Its text is the question, and the message it replies to, if any, comes
 * along as context. The bot answers once with answerGuestQuery (an article showing the question and a short
 * "thinking" line), which gives the message's inline_message_id; the answer then streams into that message by edits,
 * like inline mode. Access control, rate limits and budgets apply to the user; there is no chat history.
 */
import { Composer } from "grammy";
import type { Message } from "grammy/types";
import type { BotContext } from "../bot/context.js";
import { addressedQuestion } from "../bot/addressing.js";
import { answerInInlineMessage, articleResult, questionWithLine } from "../bot/inline-answer.js";

export const guestFeature = new Composer<BotContext>();

/** The replied message is context, not a document: a long one is cut here. */
const CONTEXT_MAX_CHARACTERS = 4000;

guestFeature.on("guest_message", async (ctx) => {
  const msg = ctx.update.guest_message;
  const queryId = msg.guest_query_id;
  if (!queryId) return;
  // The mention that summoned the bot is not part of the question.
  const asked = (addressedQuestion(ctx) ?? msg.text ?? msg.caption ?? "").trim();
  const replied = repliedText(msg);
  if (!asked && !replied) {
    await ctx.api.answerGuestQuery(queryId, articleResult("guest", ctx.t("guest-title"), { text: ctx.t("guest-usage"), entities: [] }));
    return;
  }
  const shown = asked || ctx.t("guest-default-question");
  const sent = await ctx.api.answerGuestQuery(queryId, articleResult("guest", ctx.t("guest-title"), questionWithLine(shown, ctx.t("inline-thinking"))));
  const text = replied ? `${shown}\n\n${ctx.t("guest-context", { name: replied.author })}\n"""\n${replied.text}\n"""` : shown;
  await answerInInlineMessage(ctx, sent.inline_message_id, { text, shown });
});

/** The text of the message the guest message replies to, and who wrote it. */
function repliedText(msg: Message): { text: string; author: string } | undefined {
  const reply = msg.reply_to_message;
  const text = (reply?.text ?? reply?.caption ?? "").trim();
  if (!reply || !text) return undefined;
  const author = reply.from?.first_name ?? reply.sender_chat?.title ?? reply.author_signature ?? "?";
  const chars = [...text];
  return { text: chars.length > CONTEXT_MAX_CHARACTERS ? `${chars.slice(0, CONTEXT_MAX_CHARACTERS).join("")}…` : text, author };
}
