/**
 * The buttons under an answer: Stop while it streams by edits (groups, and private chats without drafts), Regenerate
 * under the last answer of a history. Their callback data names the question the answer answers (its message id in
 * the chat the button is in), so a press finds the answer in flight or the exchange in history, and a press on an old
 * message finds neither.
 */
import type { InlineKeyboardMarkup } from "grammy/types";
import type { BotContext } from "./context.js";

/** `stop:<question message id>` */
export const STOP_DATA = /^stop:(\d+)$/;
/** `regen:<question message id>` */
export const REGENERATE_DATA = /^regen:(\d+)$/;

/** The Stop button under a message that is still streaming. */
export function stopButton(ctx: BotContext, questionMessageId: number): InlineKeyboardMarkup {
  return { inline_keyboard: [[{ text: ctx.t("button-stop"), callback_data: `stop:${questionMessageId}` }]] };
}

/** The Regenerate button under the last answer. */
export function regenerateButton(ctx: BotContext, questionMessageId: number): InlineKeyboardMarkup {
  return { inline_keyboard: [[{ text: ctx.t("button-regenerate"), callback_data: `regen:${questionMessageId}` }]] };
}
