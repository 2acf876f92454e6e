/**
 * /image: a picture from the image model, sent to the chat as soon as its bytes are here, pinned to IPFS in parallel;
 * when the pin lands the photo's caption is edited to carry the CID and a gateway link.
 */
import { Buffer } from "node:buffer";
import { Composer, InputFile } from "grammy";
import type { MessageEntity } from "grammy/types";
import type { BotContext } from "../bot/context.js";
import { errorNoteKey, historyKeyOf, recordUsage, targetOf } from "../bot/answer.js";
import { replyMarkdown } from "../bot/reply.js";
import { admitModelCall } from "../bot/limits.js";
import { toModelError } from "../ai/errors.js";
import { imageInfo, type ImageMime } from "../ai/images.js";
import { messageTokens } from "../ai/tokens.js";
import { IpfsPinError, type PinResult } from "../ipfs/pin.js";
import type { StreamTarget } from "../telegram/answer-stream.js";
import { BodyTooLargeError, readBoundedBody } from "../util/bounded-body.js";

export const imageFeature = new Composer<BotContext>();

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
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
/** Telegram shows a chat action for about 5 s: it is repeated until the photo is sent. */
const CHAT_ACTION_EVERY_MS = 4000;

export function promptLimit(model: string): number {
  const id = model.trim().toLowerCase().replace(/^openai\//, "");
  return PROMPT_LIMITS.find(([pattern]) => pattern.test(id))?.[1] ?? DEFAULT_PROMPT_LIMIT;
}

/** Why the model's answer could not be turned into a photo (the user gets one short line for each). */
class ImageAnswerError extends Error {
  constructor(
    readonly reason: "no_image" | "not_an_image" | "too_big" | "download_failed",
    message: string,
  ) {
    super(message);
  }
}

const EXTENSIONS: Record<ImageMime, string> = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif" };

imageFeature.command("image", async (ctx) => {
  const { deps } = ctx;
  const prompt = ctx.match.trim();
  if (!prompt) return replyMarkdown(ctx, ctx.t("image-usage"));
  const model = deps.config.openai.imageModel;
  const limit = promptLimit(model);
  // Characters as OpenAI counts them (code points), checked before a call that would be refused anyway.
  const length = [...prompt].length;
  if (length > limit) return replyMarkdown(ctx, ctx.t("image-prompt-too-long", { length, max: limit }));
  // Rate limit and budgets, like every model call; the user has been told when it may not go ahead.
  const promptTokens = messageTokens(prompt, deps.encoding);
  if (!(await admitModelCall(ctx, { model, promptTokens, maxAnswerTokens: 0, images: 1 }))) return;

  const target = targetOf(ctx);
  const controller = new AbortController();
  const onShutdown = () => controller.abort(deps.shutdown.reason);
  if (deps.shutdown.aborted) onShutdown();
  else deps.shutdown.addEventListener("abort", onShutdown, { once: true });
  const stopAction = keepChatAction(ctx, target, controller.signal);
  try {
    let generated: { bytes: Uint8Array; mime: ImageMime; revisedPrompt?: string; promptTokens: number };
    try {
      generated = await generate(ctx, model, prompt, controller.signal);
    } catch (err) {
      stopAction();
      if (err instanceof ImageAnswerError) {
        ctx.log.warn({ reason: err.reason, msg: err.message, model }, "image answer unusable");
        return await replyMarkdown(ctx, ctx.t(err.reason === "download_failed" ? "image-download-failed" : "image-bad-answer"));
      }
      const modelError = toModelError(err, { aborted: controller.signal.aborted });
      ctx.log.warn({ err: modelError, model }, "image generation failed");
      return await replyMarkdown(ctx, ctx.t(modelError.kind === "refused" ? "image-refused" : errorNoteKey(modelError)));
    }
    // The pin starts with the upload, not after it: the photo never waits for IPFS.
    const pinning = deps.ipfs
      ? deps.ipfs.pin(generated.bytes, controller.signal).then(
          (pin): PinOutcome => ({ pin }),
          (err: unknown): PinOutcome => ({ error: err }),
        )
      : undefined;

    const sending = ctx.api.sendPhoto(target.chatId, new InputFile(generated.bytes, `image.${EXTENSIONS[generated.mime]}`), {
      ...(pinning ? { caption: ctx.t("image-pinning") } : {}),
      ...(target.threadId ? { message_thread_id: target.threadId } : {}),
      ...(target.chatType !== "private" && target.replyToMessageId
        ? { reply_parameters: { message_id: target.replyToMessageId, allow_sending_without_reply: true } }
        : {}),
    });
    // Awaited below; this only keeps a failure during the usage write from counting as an unhandled rejection.
    sending.catch(() => undefined);
    // Billed once the model answered, whatever happens to the photo; recorded while the upload runs, not before it.
    // GPT image models report the prompt's tokens; the picture itself is priced per image (pricing.ts).
    await recordUsage(ctx, [{ model, promptTokens: generated.promptTokens, completionTokens: 0, cachedTokens: 0, images: 1 }]);

    let messageId: number;
    try {
      messageId = (await sending).message_id;
    } catch (err) {
      ctx.log.warn({ err }, "sendPhoto failed");
      controller.abort(new Error("photo not sent"));
      await pinning;
      return await replyMarkdown(ctx, ctx.t("image-send-failed"));
    } finally {
      stopAction();
    }

    // The handler waits for the (bounded) pin so the history note carries the CID and is written while this chat's
    // updates are still serialized (history appends are read-modify-write). The photo is already visible.
    const outcome = pinning ? await pinning : undefined;
    if (outcome) await showPinOutcome(ctx, target, messageId, outcome);

    const note = [
      `[Generated an image for this prompt and sent it to the chat.`,
      generated.revisedPrompt ? ` Revised prompt: ${generated.revisedPrompt}.` : "",
      outcome?.pin ? ` IPFS CID: ${outcome.pin.cid} (${outcome.pin.url}).` : outcome ? " It could not be pinned to IPFS." : "",
      "]",
    ].join("");
    await appendHistoryNote(ctx, `/image ${prompt}`, note);
  } finally {
    stopAction();
    deps.shutdown.removeEventListener("abort", onShutdown);
  }
});

type PinOutcome = { pin: PinResult; error?: undefined } | { pin?: undefined; error: unknown };

/** Edits the photo's caption to the CID with a gateway link, or to one line saying the pin failed. */
async function showPinOutcome(ctx: BotContext, target: StreamTarget, messageId: number, outcome: PinOutcome): Promise<void> {
  let caption: string;
  let entities: MessageEntity[] = [];
  if (outcome.pin) {
    const { cid, url } = outcome.pin;
    caption = ctx.t("image-pinned", { cid });
    // Offsets in UTF-16 code units, which is what both JavaScript strings and Telegram entities use.
    const at = caption.indexOf(cid);
    if (at >= 0) entities = [{ type: "text_link", offset: at, length: cid.length, url }];
  } else {
    const reason = outcome.error instanceof IpfsPinError ? outcome.error.reason : "other";
    ctx.log.warn({ err: outcome.error }, "IPFS pin failed");
    caption = ctx.t("image-pin-failed", { reason });
  }
  try {
    // Entities, not parse_mode: a CID or URL can never break the formatting.
    await ctx.api.editMessageCaption(target.chatId, messageId, { caption, caption_entities: entities });
  } catch (err) {
    // The photo is there; the outcome still reaches the user as a reply to it.
    ctx.log.warn({ err }, "could not edit the photo caption");
    await ctx.api
      .sendMessage(target.chatId, caption, {
        entities,
        link_preview_options: { is_disabled: true },
        ...(target.threadId ? { message_thread_id: target.threadId } : {}),
        reply_parameters: { message_id: messageId, allow_sending_without_reply: true },
      })
      .catch((e: unknown) => ctx.log.warn({ err: e }, "could not report the pin outcome"));
  }
}

async function generate(
  ctx: BotContext,
  model: string,
  prompt: string,
  signal: AbortSignal,
): Promise<{ bytes: Uint8Array; mime: ImageMime; revisedPrompt?: string; promptTokens: number }> {
  const id = model.toLowerCase();
  const response = await ctx.deps.openai.images.generate(
    {
      model,
      prompt,
      n: 1,
      size: "1024x1024",
      // DALL·E answers a URL unless asked otherwise; GPT image models always answer base64 and reject the parameter.
      ...(id.startsWith("dall-e") ? { response_format: "b64_json" as const } : {}),
    },
    // No retry: a generation that timed out may still be billed, and the user can simply ask again.
    { signal, timeout: IMAGE_TIMEOUT_MS, maxRetries: 0 },
  );
  const datum = response.data?.[0];
  let bytes: Uint8Array;
  if (datum?.b64_json) bytes = new Uint8Array(Buffer.from(datum.b64_json, "base64"));
  else if (datum?.url) bytes = await fetchImage(datum.url, signal);
  else throw new ImageAnswerError("no_image", "the answer carried no image");
  if (bytes.byteLength > MAX_IMAGE_BYTES) throw new ImageAnswerError("too_big", `image of ${bytes.byteLength} bytes`);
  const info = imageInfo(bytes);
  if (!info) throw new ImageAnswerError("not_an_image", "the answer's bytes are not a PNG, JPEG, WebP or GIF image");
  return { bytes, mime: info.mime, revisedPrompt: datum.revised_prompt, promptTokens: response.usage?.input_tokens ?? 0 };
}

/** The bytes behind an image URL of the model's answer, bounded in size and time. */
export async function fetchImage(url: string, signal: AbortSignal, maxBytes = MAX_IMAGE_BYTES): Promise<Uint8Array> {
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

/** "upload_photo" now and every few seconds until stopped; chat actions are best effort (no retries, no errors). */
function keepChatAction(ctx: BotContext, target: StreamTarget, signal: AbortSignal): () => void {
  const send = () => {
    ctx.fastApi
      .sendChatAction(target.chatId, "upload_photo", target.threadId ? { message_thread_id: target.threadId } : {})
      .catch(() => undefined);
  };
  send();
  const timer = setInterval(send, CHAT_ACTION_EVERY_MS);
  const stop = () => {
    clearInterval(timer);
    signal.removeEventListener("abort", stop);
  };
  signal.addEventListener("abort", stop, { once: true });
  return stop;
}

/**
 * The generation as a short exchange in the chat's history (prompt and CID, never the bytes), so a later question
 * like "make it bluer" or "what was the link?" has context. The note is for the model, not shown to anyone.
 */
async function appendHistoryNote(ctx: BotContext, question: string, note: string): Promise<void> {
  const { deps } = ctx;
  try {
    const settings = await ctx.chatSettings();
    const key = historyKeyOf(ctx, settings);
    const group = ctx.chat!.type !== "private";
    const now = Date.now();
    await deps.history.append(
      key,
      {
        role: "user",
        content: question,
        tokens: messageTokens(question, deps.encoding),
        at: now,
        ...(group && ctx.from ? { name: ctx.from.first_name } : {}),
      },
      { role: "assistant", content: note, tokens: messageTokens(note, deps.encoding), at: now },
    );
  } catch (err) {
    ctx.log.warn({ err }, "image note not stored in history");
  }
}
