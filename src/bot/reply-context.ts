/**
 * What a question replies to goes with it: the replied message's text or caption (or only the part the user quoted)
 * with its author's name, in front of the question. The replied picture or document itself goes through the
 * pictures and documents paths (features/photo.ts, features/documents.ts), which look at the replied message too.
 *
 * A reply to the bot's own answer without a quote adds nothing: that answer is in the history already.
 */
import type { Message } from "grammy/types";
import type { BotContext } from "./context.js";
import { repliedTo } from "./addressing.js";
import { authorName, originName } from "./authors.js";

/** The replied message (or the quoted part of it) as a line for the model, or undefined when there is none to add. */
export function replyContextOf(ctx: BotContext, msg: Message | undefined = ctx.msg): string | undefined {
  if (!msg) return undefined;
  const replied = repliedTo(msg);
  // A reply to a message of another chat (or topic) comes as external_reply, with its quote.
  const external = msg.external_reply;
  const quote = msg.quote?.text;
  if (!replied && !external) return undefined;
  const fromBot = replied?.from?.id === ctx.me.id && !replied.forward_origin;
  if (fromBot && quote === undefined) return undefined;
  const text = quote ?? replied?.text ?? replied?.caption;
  if (!text?.trim()) return undefined;
  const author = fromBot ? "you (the assistant)" : replied ? authorName(replied) : external ? originName(external.origin) : "someone";
  const what = quote !== undefined ? "this part of a message" : "a message";
  return `[The user replies to ${what} by ${author}:]\n"""\n${text}\n"""`;
}

/** The question with what it replies to in front of it (unchanged when it replies to nothing to add). */
export function withReplyContext(ctx: BotContext, question: string, msg?: Message): string {
  const context = replyContextOf(ctx, msg);
  return context ? `${context}\n\n${question}` : question;
}
