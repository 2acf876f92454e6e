/**
 * /image: a picture from the image model, sent to the chat as soon as its bytes are here, pinned to IPFS in parallel;
 * when the pin lands the photo's caption is edited to carry the CID and a gateway link. The generation itself is
 * src/ai/image-generator.ts; this is the orchestration: admit, generate, send, pin, caption, history note.
 */
import { anySignal } from "any-signal";
import { Composer, InputFile } from "grammy";
import type { MessageEntity } from "grammy/types";
import type { BotContext } from "../bot/context.js";
import { admitModelCall } from "../bot/admission.js";
import { modelErrorNoteKey } from "../bot/model-error-notes.js";
import { recordUsage } from "../bot/record-usage.js";
import { paced, replyMarkdown } from "../bot/reply.js";
import { historyKeyOf, targetOf } from "../bot/target.js";
import { toModelError } from "../ai/errors.js";
import { ImageAnswerError, promptLimit, type GeneratedImage } from "../ai/image-generator.js";
import { fileExtension } from "../ai/images.js";
import { messageTokens } from "../ai/tokens.js";
import { IpfsPinError, type PinResult } from "../ipfs/pin.js";
import { keepChatAction } from "../telegram/chat-action.js";
import { firstMessageOptions, replyToOptions, type ChatTarget } from "../telegram/target.js";

export const imageFeature = new Composer<BotContext>();

imageFeature.command("image", async (ctx) => {
  const { deps } = ctx;
  const prompt = ctx.match.trim();
  if (!prompt) return replyMarkdown(ctx, ctx.t("image-usage"));
  const model = deps.images.model;
  const limit = promptLimit(model);
  // Characters as OpenAI counts them (code points), checked before a call that would be refused anyway.
  const length = [...prompt].length;
  if (length > limit) return replyMarkdown(ctx, ctx.t("image-prompt-too-long", { length, max: limit }));
  // Rate limit and budgets, like every model call; the user has been told when it may not go ahead.
  const promptTokens = messageTokens(prompt, deps.encoding);
  const permit = await admitModelCall(ctx, { model, promptTokens, maxAnswerTokens: 0, images: 1 });
  if (!permit) return;

  const target = targetOf(ctx);
  // One signal for the generation, the download and the pin: shutdown, or this handler giving up on the photo.
  const own = new AbortController();
  const signal = anySignal([deps.shutdown, own.signal]);
  const stopAction = keepChatAction(ctx.fastApi, target, "upload_photo");
  try {
    let generated: GeneratedImage;
    try {
      generated = await deps.images.generate(prompt, signal);
    } catch (err) {
      stopAction();
      if (err instanceof ImageAnswerError) {
        ctx.log.warn({ reason: err.reason, msg: err.message, model }, "image answer unusable");
        return await replyMarkdown(ctx, ctx.t(err.reason === "download_failed" ? "image-download-failed" : "image-bad-answer"));
      }
      const modelError = toModelError(err, { aborted: signal.aborted });
      ctx.log.warn({ err: modelError, model }, "image generation failed");
      return await replyMarkdown(ctx, ctx.t(modelError.kind === "refused" ? "image-refused" : modelErrorNoteKey(modelError)));
    }
    // The pin starts with the upload, not after it: the photo never waits for IPFS.
    const pinning = deps.ipfs
      ? deps.ipfs.pin(generated.bytes, signal).then(
          (pin): PinOutcome => ({ pin }),
          (err: unknown): PinOutcome => ({ error: err }),
        )
      : undefined;

    const sending = paced(ctx, () =>
      ctx.api.sendPhoto(target.chatId, new InputFile(generated.bytes, `image.${fileExtension(generated.mime)}`), {
        ...(pinning ? { caption: ctx.t("image-pinning") } : {}),
        ...firstMessageOptions(target),
      }),
    );
    // Awaited below; this only keeps a failure during the usage write from counting as an unhandled rejection.
    sending.catch(() => undefined);
    // Billed once the model answered, whatever happens to the photo; recorded while the upload runs, not before it.
    // GPT image models report the prompt's tokens; the picture itself is priced per image (pricing.ts).
    await recordUsage(ctx, [{ model, promptTokens: generated.promptTokens, completionTokens: 0, cachedTokens: 0, images: 1 }]);
    await permit.release();

    let messageId: number;
    try {
      messageId = (await sending).message_id;
    } catch (err) {
      ctx.log.warn({ err }, "sendPhoto failed");
      own.abort(new Error("photo not sent"));
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
    signal.clear();
    // A failed generation spent nothing: its hold goes (a second release after the usage was recorded is harmless).
    await permit.release();
  }
});

type PinOutcome = { pin: PinResult; error?: undefined } | { pin?: undefined; error: unknown };

/** Edits the photo's caption to the CID with a gateway link, or to one line saying the pin failed. */
async function showPinOutcome(ctx: BotContext, target: ChatTarget, messageId: number, outcome: PinOutcome): Promise<void> {
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
    await paced(ctx, () => ctx.api.editMessageCaption(target.chatId, messageId, { caption, caption_entities: entities }));
  } catch (err) {
    // The photo is there; the outcome still reaches the user as a reply to it.
    ctx.log.warn({ err }, "could not edit the photo caption");
    await paced(ctx, () =>
      ctx.api.sendMessage(target.chatId, caption, { entities, link_preview_options: { is_disabled: true }, ...replyToOptions(target, messageId) }),
    ).catch((e: unknown) => ctx.log.warn({ err: e }, "could not report the pin outcome"));
  }
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
