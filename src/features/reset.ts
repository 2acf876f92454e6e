import { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { isChatAdmin } from "../bot/chat-admin.js";
import { historyKeyOf, isPerMemberHistory } from "../bot/target.js";
import { replyMarkdown, replyToSender } from "../bot/reply.js";

/**
 * /reset forgets the history this update belongs to. A group's shared history (or a forum topic's) belongs to
 * everyone in it, so only its admins may forget it; in per-member mode each member forgets their own; in a private
 * chat the user forgets theirs.
 */
export const resetFeature = new Composer<BotContext>();

resetFeature.command("reset", async (ctx) => {
  const settings = await ctx.chatSettings();
  const own = isPerMemberHistory(ctx, settings);
  if (ctx.chat.type !== "private" && !own && !(await isChatAdmin(ctx))) return replyToSender(ctx, ctx.t("reset-admin-only"));
  await ctx.deps.history.clear(historyKeyOf(ctx, settings));
  ctx.log.info({ chatId: ctx.chat.id, own }, "history reset");
  await replyMarkdown(ctx, ctx.t(own ? "reset-done-own" : "reset-done"));
});
