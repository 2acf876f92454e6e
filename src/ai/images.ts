/**
 * What the vision and token-cost code needs to know about an image: its format and displayed size.
 */
import { Buffer } from "node:buffer";
import { imageSize } from "image-size";

/** The formats the OpenAI vision models accept. */
export type ImageMime = "image/png" | "image/jpeg" | "image/webp" | "image/gif";

export interface ImageInfo {
  width: number;
  height: number;
  mime: ImageMime;
}

const MIME_BY_TYPE: Partial<Record<string, ImageMime>> = {
  png: "image/png",
  jpg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
};

/**
 * Format and size of a PNG, JPEG, WebP or GIF; null for anything else or for bytes that do not parse.
 *
 * - JPEG: the size as displayed, i.e. width and height swapped when the Exif orientation rotates by 90° (5–8).
 * - GIF: the logical screen (canvas) size, which is the size the first frame is shown at.
 */
export function imageInfo(bytes: Uint8Array): ImageInfo | null {
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(bytes);
  } catch {
    return null;
  }
  const mime = size.type === undefined ? undefined : MIME_BY_TYPE[size.type];
  if (mime === undefined) return null;
  const { width, height } = size;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) return null;
  const rotated = mime === "image/jpeg" && size.orientation !== undefined && size.orientation >= 5 && size.orientation <= 8;
  return rotated ? { width: height, height: width, mime } : { width, height, mime };
}

/** A `data:` URL for an image_url part of a vision request (bytes, never a URL that could carry the bot token). */
export function toDataUrl(bytes: Uint8Array, mime: ImageMime): string {
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")}`;
}

const EXTENSIONS: Record<ImageMime, string> = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif" };

/** The usual file name extension of an image format ("png", "jpg", …). */
export function fileExtension(mime: ImageMime): string {
  return EXTENSIONS[mime];
}
