/**
 * Users' pictures for the vision model: downloaded through the Bot API (getFile at TELEGRAM_API_ROOT) and handed on
 * as bytes in data URLs, never as links: a Bot API file link carries the bot token. History keeps the file_id, so a
 * follow-up question downloads the picture again and the model still sees it.
 */
import { anySignal } from "any-signal";
import type { ChatCompletionContentPart } from "openai/resources/chat/completions";
import type { BotContext } from "./context.js";
import type { Question } from "./answer.js";
import { imageInfo, toDataUrl } from "../ai/images.js";
import type { HistoryTurn } from "../storage/history.js";
import { downloadTelegramFile } from "../telegram/files.js";

/** Largest picture of a user's the bot downloads and sends to the vision model (well inside OpenAI's per-image limit). */
export const MAX_PICTURE_BYTES = 10 * 1024 * 1024;
/** A stalled Bot API file download must not hold the chat forever. */
const DOWNLOAD_TIMEOUT_MS = 30_000;

/** The bytes of a user's picture (by file_id), at most MAX_PICTURE_BYTES, within DOWNLOAD_TIMEOUT_MS. */
export async function downloadPicture(ctx: BotContext, fileId: string, signal: AbortSignal): Promise<Uint8Array> {
  const { telegram } = ctx.deps.config;
  const bounded = anySignal([signal, AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS)]);
  try {
    return await downloadTelegramFile(ctx.api, fileId, {
      apiRoot: telegram.apiRoot,
      token: telegram.token,
      maxBytes: MAX_PICTURE_BYTES,
      signal: bounded,
    });
  } finally {
    bounded.clear();
  }
}

/**
 * For answerQuestion: turns the pictures a history turn refers to (by file_id) back into image parts, so follow-up
 * questions still see them. A picture that can no longer be fetched is left out (the turn's text stays).
 */
export function historyImageResolver(ctx: BotContext): NonNullable<Question["resolveImages"]> {
  return async (turn: HistoryTurn, signal: AbortSignal): Promise<ChatCompletionContentPart[]> => {
    const parts: ChatCompletionContentPart[] = [];
    for (const image of turn.images ?? []) {
      try {
        const bytes = await downloadPicture(ctx, image.fileId, signal);
        const info = imageInfo(bytes);
        if (!info) continue;
        parts.push({ type: "image_url", image_url: { url: toDataUrl(bytes, info.mime), detail: image.detail } });
      } catch (err) {
        if (signal.aborted) throw err;
        ctx.log.warn({ err }, "history picture could not be fetched again");
      }
    }
    return parts;
  };
}
