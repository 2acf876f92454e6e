import { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { replyMarkdown } from "../bot/reply.js";

export const startFeature = new Composer<BotContext>();

startFeature.command("start", (ctx) =>
  replyMarkdown(ctx, `${ctx.t("start", { name: ctx.from?.first_name ?? "" })}\n\n${ctx.t("help", { bot: ctx.me.username })}`),
);

startFeature.command("help", (ctx) => replyMarkdown(ctx, ctx.t("help", { bot: ctx.me.username })));
