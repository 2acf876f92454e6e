/**
 * Short replies the bot writes itself (not streamed answers: those go through answer.ts), and the one way every
 * other message the bot sends or edits outside a streamed answer takes a slot of the pacer first.
 */
import type { InlineKeyboardMarkup } from "grammy/types";
import type { BotContext } from "./context.js";
import { targetOf } from "./target.js";
import type { FormattedText } from "../telegram/formatted-text.js";
import { markdownToEntities } from "../telegram/markdown.js";
import { showInInlineMessage } from "../telegram/inline-message.js";
import { splitFormatted } from "../telegram/split.js";
import { firstMessageOptions, topicOptions } from "../telegram/target.js";

/**
 * Sends text the bot built itself (already entities) where the update came from: the chat, its forum topic, and in
 * groups as a reply. Split at 4096; a keyboard goes on the last part. Returns the message ids. In inline and guest
 * mode the text replaces the inline message's instead (no ids: it has none in a chat).
 */
export async function sendFormatted(
  ctx: BotContext,
  formatted: FormattedText,
  opts: { replyMarkup?: InlineKeyboardMarkup } = {},
): Promise<number[]> {
  if (ctx.inlineMessage) {
    await showInInlineMessage({ api: ctx.api, pacer: ctx.deps.pacer, log: ctx.log }, ctx.inlineMessage, formatted, opts.replyMarkup);
    return [];
  }
  const target = targetOf(ctx);
  const parts = splitFormatted(formatted);
  const ids: number[] = [];
  for (const [i, part] of parts.entries()) {
    const sent = await paced(ctx, () =>
      ctx.api.sendMessage(target.chatId, part.text, {
        entities: part.entities,
        link_preview_options: { is_disabled: true },
        ...(i === 0 ? firstMessageOptions(target) : topicOptions(target)),
        ...(i === parts.length - 1 && opts.replyMarkup ? { reply_markup: opts.replyMarkup } : {}),
      }),
    );
    ids.push(sent.message_id);
  }
  return ids;
}

/**
 * Runs one Bot API call that sends or edits a message in this update's chat, in a final-class slot of the pacer: it
 * waits for room in the chat's (and the group's, and the bot's) windows, so short replies, refusals and photos never
 * run into Telegram's flood control nor crowd out the answers being streamed.
 */
export async function paced<T>(ctx: BotContext, call: () => Promise<T>): Promise<T> {
  const chat = ctx.chat!;
  const { pacer, shutdown } = ctx.deps;
  const slot = await pacer.acquireFinal(chat.id, chat.type === "private" ? "private" : "group", "message", shutdown);
  try {
    return await call();
  } finally {
    pacer.settle(slot);
  }
}

/** Sends a short text the bot wrote itself, as Markdown (turned into entities). */
export async function replyMarkdown(ctx: BotContext, markdown: string): Promise<void> {
  await sendFormatted(ctx, markdownToEntities(markdown));
}
