import { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { replyMarkdown } from "../bot/reply.js";

/** Last in line: private messages nobody else handled get a short hint instead of silence. */
export const fallbackFeature = new Composer<BotContext>();

const privateChat = fallbackFeature.chatType("private");

privateChat.on("message:entities:bot_command", (ctx) => replyMarkdown(ctx, ctx.t("unknown-command")));
privateChat.on(["message:sticker", "message:video", "message:location"], (ctx) =>
  replyMarkdown(ctx, ctx.t("not-text")),
);

// A button press nobody handled (an old keyboard, a feature since removed): answer it so its spinner stops.
fallbackFeature.on("callback_query", (ctx) => ctx.answerCallbackQuery());
