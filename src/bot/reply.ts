import type { BotContext } from "./context.js";
import { markdownToEntities } from "../telegram/markdown.js";
import { splitFormatted } from "../telegram/split.js";
import { targetOf } from "./answer.js";

/** Sends a short text the bot wrote itself (Markdown → entities), replying to the message in groups and topics. */
export async function replyMarkdown(ctx: BotContext, markdown: string): Promise<void> {
  const target = targetOf(ctx);
  const parts = splitFormatted(markdownToEntities(markdown));
  for (const [i, part] of parts.entries()) {
    await ctx.api.sendMessage(target.chatId, part.text, {
      entities: part.entities,
      link_preview_options: { is_disabled: true },
      ...(target.threadId ? { message_thread_id: target.threadId } : {}),
      ...(i === 0 && target.chatType !== "private" && target.replyToMessageId
        ? { reply_parameters: { message_id: target.replyToMessageId, allow_sending_without_reply: true } }
        : {}),
    });
  }
}
