/**
 * Pictures from an image model (OpenAI's Images API or a compatible server): one generation per call, its bytes
 * fetched when the answer is a URL, bounded in size and time, and checked to be an image Telegram can show.
 */
import { Buffer } from "node:buffer";
import type OpenAI from "openai";
import { imageInfo, type ImageMime } from "./images.js";
import { BodyTooLargeError, readBoundedBody } from "../util/bounded-body.js";

/** Longest prompt (characters) each image model accepts, per OpenAI's API reference. */
const PROMPT_LIMITS: ReadonlyArray<readonly [RegExp, number]> = [
  [/^dall-e-2/, 1000],
  [/^dall-e-3/, 4000],
  [/^gpt-image/, 32000],
];
/** Unknown (compatible) models: the loosest known limit, so we never refuse what the server might accept. */
const DEFAULT_PROMPT_LIMIT = 32000;

/** GPT image models can take a minute or more at high quality; the client's idle timeout is meant for streams. */
export const IMAGE_TIMEOUT_MS = 180_000;
/** An image answered as a URL is fetched within this time… */
export const IMAGE_FETCH_TIMEOUT_MS = 30_000;
/** …and up to this size, which is also what Telegram accepts for sendPhoto. */
export const MAX_GENERATED_IMAGE_BYTES = 10 * 1024 * 1024;

/** The longest prompt (in characters, as OpenAI counts them: code points) the image model accepts. */
export function promptLimit(model: string): number {
  const id = model.trim().toLowerCase().replace(/^openai\//, "");
  return PROMPT_LIMITS.find(([pattern]) => pattern.test(id))?.[1] ?? DEFAULT_PROMPT_LIMIT;
}

/** Why the model's answer could not be turned into a photo (the user gets one short line for each). */
export class ImageAnswerError extends Error {
  override readonly name = "ImageAnswerError";
  constructor(
    readonly reason: "no_image" | "not_an_image" | "too_big" | "download_failed",
    message: string,
  ) {
    super(message);
  }
}

export interface GeneratedImage {
  bytes: Uint8Array;
  mime: ImageMime;
  /** The prompt as the model rewrote it (DALL·E 3), if it says. */
  revisedPrompt?: string;
  /** The prompt's tokens as the model server reports them (GPT image models); 0 when it does not. */
  promptTokens: number;
}

export interface ImageGeneratorOptions {
  openai: OpenAI;
  /** OPENAI_IMAGE_MODEL. */
  model: string;
}

/** Generates pictures with the configured image model. */
export class ImageGenerator {
  readonly model: string;
  readonly #openai: OpenAI;

  constructor(opts: ImageGeneratorOptions) {
    this.model = opts.model;
    this.#openai = opts.openai;
  }

  /**
   * One picture for `prompt`. Throws ImageAnswerError when the answer is not a usable image, the caller's abort
   * reason when `signal` aborts, and whatever the openai SDK throws otherwise (see toModelError).
   */
  async generate(prompt: string, signal: AbortSignal): Promise<GeneratedImage> {
    const model = this.model;
    const response = await this.#openai.images.generate(
      {
        model,
        prompt,
        n: 1,
        size: "1024x1024",
        // DALL·E answers a URL unless asked otherwise; GPT image models always answer base64 and reject the parameter.
        ...(model.toLowerCase().startsWith("dall-e") ? { response_format: "b64_json" as const } : {}),
      },
      // No retry: a generation that timed out may still be billed, and the user can simply ask again.
      { signal, timeout: IMAGE_TIMEOUT_MS, maxRetries: 0 },
    );
    const datum = response.data?.[0];
    let bytes: Uint8Array;
    if (datum?.b64_json) bytes = new Uint8Array(Buffer.from(datum.b64_json, "base64"));
    else if (datum?.url) bytes = await fetchImage(datum.url, signal);
    else throw new ImageAnswerError("no_image", "the answer carried no image");
    if (bytes.byteLength > MAX_GENERATED_IMAGE_BYTES) throw new ImageAnswerError("too_big", `image of ${bytes.byteLength} bytes`);
    const info = imageInfo(bytes);
    if (!info) throw new ImageAnswerError("not_an_image", "the answer's bytes are not a PNG, JPEG, WebP or GIF image");
    return { bytes, mime: info.mime, revisedPrompt: datum.revised_prompt, promptTokens: response.usage?.input_tokens ?? 0 };
  }
}

/** The bytes behind an image URL of the model's answer, bounded in size and time. */
export async function fetchImage(url: string, signal: AbortSignal, maxBytes = MAX_GENERATED_IMAGE_BYTES): Promise<Uint8Array> {
  const combined = AbortSignal.any([signal, AbortSignal.timeout(IMAGE_FETCH_TIMEOUT_MS)]);
  // Errors name no URL: the model server's links are often signed (they carry a credential of their own).
  let response: Response;
  try {
    response = await fetch(url, { signal: combined, redirect: "follow" });
  } catch {
    if (signal.aborted) throw signal.reason;
    throw new ImageAnswerError("download_failed", combined.aborted ? "image download timed out" : "image download failed");
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new ImageAnswerError("download_failed", `image download failed: HTTP ${response.status}`);
  }
  try {
    return await readBoundedBody(response, maxBytes);
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new ImageAnswerError("too_big", `image over ${maxBytes} bytes`);
    if (signal.aborted) throw signal.reason;
    throw new ImageAnswerError("download_failed", combined.aborted ? "image download timed out" : "image download broke off");
  }
}
