/**
 * Users' pictures for the vision model: downloaded through the Bot API (getFile at TELEGRAM_API_ROOT) and handed on
 * as bytes in data URLs, never as links: a Bot API file link carries the bot token. History keeps the file_id, so a
 * follow-up question downloads the picture again and the model still sees it.
 *
 * Nothing is downloaded before the model call is admitted (the picture's tokens are known from Telegram's sizes, or
 * counted at their most for a document). One request carries at most MAX_PICTURE_MB_PER_REQUEST of pictures, the
 * newest that fit; and requests that need the same file at the same time share one download of it.
 */
import { anySignal } from "any-signal";
import type { ChatCompletionContentPart } from "openai/resources/chat/completions";
import type { BotContext } from "./context.js";
import { imageInfo, toDataUrl, type ImageInfo } from "../ai/images.js";
import { imageTokens, MAX_HIGH_DETAIL_TOKENS, type ImageDetail } from "../ai/image-tokens.js";
import type { ImageRef } from "../storage/history.js";
import { downloadTelegramFile, TelegramFileError } from "../telegram/files.js";

/** Largest picture of a user's the bot downloads and sends to the vision model (well inside OpenAI's per-image limit). */
export const MAX_PICTURE_BYTES = 10 * 1024 * 1024;
/** A stalled Bot API file download must not hold the chat forever. */
const DOWNLOAD_TIMEOUT_MS = 30_000;
/** "high": the model reads small text and details; the token cost is counted from the size (image-tokens.ts). */
export const PICTURE_DETAIL: ImageDetail = "high";

/** A picture in the message being answered, as Telegram describes it before anything is downloaded. */
export interface NewPicture {
  fileId: string;
  /** Bytes, when Telegram said. */
  fileSize?: number;
  /** Known for photos (Telegram's sizes); unknown for documents until they are read. */
  width?: number;
  height?: number;
}

/** The history's reference to a picture; counted at its most while its size is not known yet. */
export function pictureRef(picture: NewPicture, size?: { width: number; height: number }): ImageRef {
  const width = size?.width ?? picture.width;
  const height = size?.height ?? picture.height;
  const known = width !== undefined && height !== undefined && width > 0 && height > 0;
  return {
    fileId: picture.fileId,
    width: known ? width : 0,
    height: known ? height : 0,
    detail: PICTURE_DETAIL,
    tokens: known ? imageTokens(width, height, PICTURE_DETAIL) : MAX_HIGH_DETAIL_TOKENS,
    ...(picture.fileSize !== undefined ? { fileSize: picture.fileSize } : {}),
  };
}

/** What one request may still carry of pictures, in bytes (MAX_PICTURE_MB_PER_REQUEST). */
export class PictureAllowance {
  #left: number;

  constructor(bytes: number) {
    this.#left = bytes;
  }

  get left(): number {
    return this.#left;
  }

  /** Whether a picture of this size may still come along (an unknown size is found out by downloading). */
  fits(bytes: number | undefined): boolean {
    return (bytes ?? 0) <= this.#left;
  }

  take(bytes: number): void {
    this.#left -= bytes;
  }
}

/** Why a picture cannot be shown to the model. */
export type PictureFailure = "too_big" | "download_failed" | "unreadable";

/** The largest picture of a message the bot reads: MAX_PICTURE_BYTES, and no more than a whole request may carry. */
export function maxPictureBytes(ctx: BotContext): number {
  return Math.min(MAX_PICTURE_BYTES, ctx.deps.config.pictureBytesPerRequest);
}

/** The reply for a picture of the user's message that cannot be shown to the model, in their language. */
export function pictureFailureText(ctx: BotContext, failure: PictureFailure): string {
  if (failure === "too_big") return ctx.t("photo-too-large", { max: Number((maxPictureBytes(ctx) / (1024 * 1024)).toFixed(1)) });
  return ctx.t(failure === "unreadable" ? "photo-unreadable" : "photo-download-failed");
}

export type FetchedPicture = { part: ChatCompletionContentPart; info: ImageInfo } | { failure: PictureFailure };

/**
 * A picture as an image part for the model, within what the request may still carry (taken from `allowance`).
 * Failures are returned, not thrown; only the answer's own cancellation throws.
 */
export async function fetchPicture(
  ctx: BotContext,
  image: Pick<ImageRef, "fileId" | "fileSize" | "detail">,
  allowance: PictureAllowance,
  signal: AbortSignal,
): Promise<FetchedPicture> {
  if (!allowance.fits(image.fileSize)) return { failure: "too_big" };
  let bytes: Uint8Array;
  try {
    bytes = await downloadPicture(ctx, image.fileId, signal);
  } catch (err) {
    if (signal.aborted) throw err;
    if (err instanceof TelegramFileError && err.reason === "too_big") return { failure: "too_big" };
    // TelegramFileError never carries the file URL (it contains the token).
    ctx.log.warn({ err }, "picture download failed");
    return { failure: "download_failed" };
  }
  if (!allowance.fits(bytes.length)) return { failure: "too_big" };
  const info = imageInfo(bytes);
  if (!info) return { failure: "unreadable" };
  allowance.take(bytes.length);
  return { part: { type: "image_url", image_url: { url: toDataUrl(bytes, info.mime), detail: image.detail } }, info };
}

/**
 * The bytes of a user's picture (by file_id), at most MAX_PICTURE_BYTES, within DOWNLOAD_TIMEOUT_MS. Requests that
 * need the same file while it downloads share the download; `signal` only ends this request's wait for it.
 */
export function downloadPicture(ctx: BotContext, fileId: string, signal: AbortSignal): Promise<Uint8Array> {
  const { config, shutdown, pictureDownloads } = ctx.deps;
  return pictureDownloads.run(
    fileId,
    async () => {
      const bounded = anySignal([shutdown, AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS)]);
      try {
        return await downloadTelegramFile(ctx.api, fileId, {
          apiRoot: config.telegram.apiRoot,
          token: config.telegram.token,
          maxBytes: MAX_PICTURE_BYTES,
          signal: bounded,
        });
      } finally {
        bounded.clear();
      }
    },
    signal,
  );
}
