/** Short replies the bot writes itself (not streamed answers: those go through answer.ts). */
import type { InlineKeyboardMarkup } from "grammy/types";
import type { BotContext } from "./context.js";
import { targetOf } from "./target.js";
import type { FormattedText } from "../telegram/formatted-text.js";
import { markdownToEntities } from "../telegram/markdown.js";
import { splitFormatted } from "../telegram/split.js";
import { firstMessageOptions, topicOptions } from "../telegram/target.js";

/**
 * Sends text the bot built itself (already entities) where the update came from: the chat, its forum topic, and in
 * groups as a reply. Split at 4096; a keyboard goes on the last part. Returns the message ids.
 */
export async function sendFormatted(
  ctx: BotContext,
  formatted: FormattedText,
  opts: { replyMarkup?: InlineKeyboardMarkup } = {},
): Promise<number[]> {
  const target = targetOf(ctx);
  const parts = splitFormatted(formatted);
  const ids: number[] = [];
  for (const [i, part] of parts.entries()) {
    const sent = await ctx.api.sendMessage(target.chatId, part.text, {
      entities: part.entities,
      link_preview_options: { is_disabled: true },
      ...(i === 0 ? firstMessageOptions(target) : topicOptions(target)),
      ...(i === parts.length - 1 && opts.replyMarkup ? { reply_markup: opts.replyMarkup } : {}),
    });
    ids.push(sent.message_id);
  }
  return ids;
}

/** Sends a short text the bot wrote itself, as Markdown (turned into entities). */
export async function replyMarkdown(ctx: BotContext, markdown: string): Promise<void> {
  await sendFormatted(ctx, markdownToEntities(markdown));
}
