/**
 * Who may use the bot at all. Everyone else gets one polite line, once, and nothing is spent on them: this
 * middleware stops their updates before any feature sees them.
 */
import type { MiddlewareFn } from "grammy";
import type { BotContext } from "../context.js";
import { isAddressedToBot } from "../addressing.js";
import { articleResult } from "../inline-answer.js";
import { replyToSender } from "../reply.js";
import { isAllowed } from "../../services/access.js";

export const accessGate: MiddlewareFn<BotContext> = async (ctx, next) => {
  const userId = ctx.from?.id;
  const chatId = ctx.chat?.id;
  if (isAllowed(ctx.deps.config.access, userId, chatId)) return next();

  if (ctx.callbackQuery) {
    await ctx.answerCallbackQuery({ text: ctx.t("access-denied"), show_alert: true }).catch(() => undefined);
    return;
  }
  // Inline and guest queries are asked explicitly and must be answered: each gets the line (nothing is spent).
  if (ctx.inlineQuery) {
    const denied = { text: ctx.t("access-denied"), entities: [] };
    await ctx
      .answerInlineQuery([articleResult("denied", ctx.t("access-denied-title"), denied, { description: denied.text })], { cache_time: 60, is_personal: true })
      .catch((err: unknown) => ctx.log.debug({ err }, "inline refusal not delivered"));
    return;
  }
  const guestQueryId = ctx.update.guest_message?.guest_query_id;
  if (guestQueryId) {
    const denied = articleResult("denied", ctx.t("access-denied-title"), { text: ctx.t("access-denied"), entities: [] });
    await ctx.api.answerGuestQuery(guestQueryId, denied).catch((err: unknown) => ctx.log.debug({ err }, "guest refusal not delivered"));
    return;
  }
  const inlineMessageId = ctx.chosenInlineResult?.inline_message_id;
  if (inlineMessageId) {
    await ctx.api
      .editMessageTextInline(inlineMessageId, ctx.t("access-denied"))
      .catch((err: unknown) => ctx.log.debug({ err }, "inline refusal not delivered"));
    return;
  }
  // Only a message meant for the bot gets the line: with privacy mode off the bot sees all group chatter.
  if (chatId === undefined || !isAddressedToBot(ctx)) return;
  if (!(await ctx.deps.accessRefusals.firstRefusal(chatId, userId))) {
    ctx.log.debug({ userId, chatId }, "not allowed (already told)");
    return;
  }
  ctx.log.info({ userId, chatId }, "not allowed: told once");
  await replyToSender(ctx, ctx.t("access-denied"));
};
