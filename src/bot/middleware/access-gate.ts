/**
 * Who may use the bot at all. Everyone else gets one polite line, once, and nothing is spent on them: this
 * middleware stops their updates before any feature sees them.
 */
import type { MiddlewareFn } from "grammy";
import type { BotContext } from "../context.js";
import { isAddressedToBot } from "../addressing.js";
import { replyMarkdown } from "../reply.js";
import { isAllowed } from "../../services/access.js";

export const accessGate: MiddlewareFn<BotContext> = async (ctx, next) => {
  const userId = ctx.from?.id;
  const chatId = ctx.chat?.id;
  if (isAllowed(ctx.deps.config.access, userId, chatId)) return next();

  if (ctx.callbackQuery) {
    await ctx.answerCallbackQuery({ text: ctx.t("access-denied"), show_alert: true }).catch(() => undefined);
    return;
  }
  // Only a message meant for the bot gets the line: with privacy mode off the bot sees all group chatter.
  if (chatId === undefined || !isAddressedToBot(ctx)) return;
  if (!(await ctx.deps.accessRefusals.firstRefusal(chatId, userId))) {
    ctx.log.debug({ userId, chatId }, "not allowed (already told)");
    return;
  }
  ctx.log.info({ userId, chatId }, "not allowed: told once");
  await replyMarkdown(ctx, ctx.t("access-denied"));
};
