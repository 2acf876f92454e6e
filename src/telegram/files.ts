/**
 * Downloading a user's file from the Bot API. The download URL contains the bot token, so it never leaves this
 * module: errors carry a reason and a short message, never the URL, the token, or a lower-level error that might.
 */
import { GrammyError, type Api } from "grammy";
import type { PhotoSize } from "grammy/types";
import { BodyTooLargeError, readBoundedBody } from "../util/bounded-body.js";

export type TelegramFileErrorReason = "too_big" | "not_found" | "download_failed" | "aborted";

export class TelegramFileError extends Error {
  override readonly name = "TelegramFileError";
  readonly reason: TelegramFileErrorReason;

  constructor(reason: TelegramFileErrorReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

export const DEFAULT_MAX_PHOTO_SIDE = 2048;
export const DEFAULT_MAX_PHOTO_BYTES = 10 * 1024 * 1024;

export interface PickPhotoSizeOptions {
  /** Longest side allowed. Default 2048 (larger is scaled down by the vision model anyway). */
  maxSide?: number;
  /** Default 10 MB. Sizes without a known file_size are not excluded by it. */
  maxBytes?: number;
}

/**
 * The largest photo size within the bounds; the smallest one when every size exceeds them.
 * Throws RangeError for an empty list (Telegram always sends at least one size).
 */
export function pickPhotoSize(sizes: readonly PhotoSize[], opts: PickPhotoSizeOptions = {}): PhotoSize {
  const maxSide = opts.maxSide ?? DEFAULT_MAX_PHOTO_SIDE;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_PHOTO_BYTES;
  if (sizes.length === 0) throw new RangeError("no photo sizes to pick from");
  const bySize = [...sizes].sort((a, b) => a.width * a.height - b.width * b.height || (a.file_size ?? 0) - (b.file_size ?? 0));
  const fitting = bySize.filter((s) => Math.max(s.width, s.height) <= maxSide && (s.file_size ?? 0) <= maxBytes);
  return (fitting.length > 0 ? fitting[fitting.length - 1] : bySize[0])!;
}

export interface DownloadOptions {
  /** Bot API root, e.g. `https://api.telegram.org` (TELEGRAM_API_ROOT). */
  apiRoot: string;
  token: string;
  maxBytes: number;
  signal?: AbortSignal;
}

/** getFile, then the file's bytes; at most `maxBytes` are ever read. */
export async function downloadTelegramFile(api: Api, fileId: string, opts: DownloadOptions): Promise<Uint8Array> {
  const { signal, maxBytes } = opts;
  const tooBig = () => new TelegramFileError("too_big", `file is larger than ${maxBytes} bytes`);
  const abortedError = () => new TelegramFileError("aborted", "download aborted");
  // A function, so TypeScript does not keep `signal.aborted` narrowed to false across awaits.
  const aborted = () => signal?.aborted === true;
  if (aborted()) throw abortedError();

  let filePath: string | undefined;
  try {
    // grammY types its signal parameter with the abort-controller polyfill's AbortSignal; the runtime object is the same.
    const file = await api.getFile(fileId, signal as Parameters<Api["getFile"]>[1]);
    if (file.file_size !== undefined && file.file_size > maxBytes) throw tooBig();
    filePath = file.file_path;
  } catch (err) {
    if (err instanceof TelegramFileError) throw err;
    if (aborted()) throw abortedError();
    if (err instanceof GrammyError) {
      const description = err.description.toLowerCase();
      if (description.includes("file is too big")) throw new TelegramFileError("too_big", "Telegram refuses to hand out files this big");
      if (err.error_code === 400 || err.error_code === 404) {
        throw new TelegramFileError("not_found", `getFile failed: ${err.description}`);
      }
      throw new TelegramFileError("download_failed", `getFile failed: ${err.error_code}`);
    }
    throw new TelegramFileError("download_failed", "getFile request failed");
  }
  if (filePath === undefined || filePath === "") throw new TelegramFileError("not_found", "Telegram gave no file path");

  const url = `${opts.apiRoot.replace(/\/+$/, "")}/file/bot${opts.token}/${filePath.split("/").map(encodeURIComponent).join("/")}`;
  let response: Response;
  try {
    response = await fetch(url, signal === undefined ? {} : { signal });
  } catch {
    if (aborted()) throw abortedError();
    // The fetch error (and its cause) may quote the URL: none of it is kept.
    throw new TelegramFileError("download_failed", "file download failed: network error");
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    if (response.status === 404) throw new TelegramFileError("not_found", "file not found on the Bot API server");
    throw new TelegramFileError("download_failed", `file download failed: HTTP ${response.status}`);
  }
  try {
    return await readBoundedBody(response, opts.maxBytes);
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw tooBig();
    if (aborted()) throw abortedError();
    throw new TelegramFileError("download_failed", "file download failed while reading the body");
  }
}
