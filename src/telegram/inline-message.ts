/**
 * A text the bot wrote itself (a refusal, a note) shown in an inline message: the message's one final update, paced
 * like every other (see pacer.ts) and retried on flood control. Such texts are short; one longer than a message keeps
 * its first part.
 */
import { GrammyError, type Api } from "grammy";
import type { InlineKeyboardMarkup } from "grammy/types";
import type { Logger } from "../util/logger.js";
import type { FormattedText } from "./formatted-text.js";
import type { Pacing } from "./pacer.js";
import { splitFormatted } from "./split.js";
import { paceKeyOf, type InlineMessageTarget } from "./target.js";

/** Replaces the inline message's text (and keyboard: none unless given). Never throws: a failure is logged. */
export async function showInInlineMessage(
  deps: { api: Api; pacer: Pacing; log: Logger },
  target: InlineMessageTarget,
  formatted: FormattedText,
  replyMarkup?: InlineKeyboardMarkup,
): Promise<void> {
  const part = splitFormatted(formatted)[0];
  if (!part) return;
  const edit = (text: FormattedText) =>
    deps.api.editMessageTextInline(target.inlineMessageId, text.text, {
      entities: text.entities,
      link_preview_options: { is_disabled: true },
      ...(replyMarkup ? { reply_markup: replyMarkup } : {}),
    });
  const slot = await deps.pacer.acquireFinal(paceKeyOf(target), "group", "message");
  try {
    await edit(part);
  } catch (err) {
    if (err instanceof GrammyError && /not modified/i.test(err.description)) return;
    if (err instanceof GrammyError && /entities/i.test(err.description) && part.entities.length > 0) {
      await edit({ text: part.text, entities: [] }).catch((e: unknown) => deps.log.warn({ err: e }, "inline message not updated"));
      return;
    }
    deps.log.warn({ err, inlineMessageId: target.inlineMessageId }, "inline message not updated");
  } finally {
    deps.pacer.settle(slot);
  }
}
