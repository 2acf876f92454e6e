/**
 * Voice messages the bot speaks (/say, spoken answers to voice notes): admitted and counted like every model call,
 * made by the speech model as OGG/Opus while the chat shows "recording a voice message…", and sent with sendVoice.
 */
import { anySignal } from "any-signal";
import { GrammyError, InputFile } from "grammy";
import type { BotContext } from "./context.js";
import { admitModelCall } from "./admission.js";
import { modelErrorNoteKey } from "./model-error-notes.js";
import { recordUsage } from "./record-usage.js";
import { replyMarkdown } from "./reply.js";
import { targetOf } from "./target.js";
import { estimateSpeechSeconds, MAX_SPEECH_CHARACTERS, type Speech } from "../ai/speech.js";
import { keepChatAction } from "../telegram/chat-action.js";
import { CAPTION_LIMIT } from "../telegram/formatted-text.js";
import { markdownToEntities } from "../telegram/markdown.js";
import { firstMessageOptions, replyToOptions, topicOptions } from "../telegram/target.js";

/** A spoken answer is at most this long (about two minutes); a longer answer is spoken up to a sentence's end. */
export const SPOKEN_ANSWER_MAX_CHARACTERS = 1500;

/**
 * Speaks `text` (at most MAX_SPEECH_CHARACTERS) and sends the voice message: to the chat (quoting the question in
 * groups), or as a reply to `replyTo`. Returns true when it was sent; otherwise the user has been told why.
 */
export async function sendSpeech(ctx: BotContext, text: string, opts: { caption?: string; replyTo?: number } = {}): Promise<boolean> {
  const { deps } = ctx;
  const model = deps.speech.model;
  const characters = [...text].length;
  if (characters === 0 || characters > MAX_SPEECH_CHARACTERS) throw new RangeError(`speech input of ${characters} characters`);
  const estimate = { model, promptTokens: 0, maxAnswerTokens: 0, characters, audioSeconds: estimateSpeechSeconds(characters) };
  if (!(await admitModelCall(ctx, estimate))) return false;

  const target = targetOf(ctx);
  const signal = anySignal([deps.shutdown, AbortSignal.timeout(SPEECH_TIMEOUT_MS)]);
  let stopAction = keepChatAction(ctx.fastApi, target, "record_voice");
  let speech: Speech;
  try {
    speech = await deps.speech.speak(text, signal);
  } catch (err) {
    stopAction();
    signal.clear();
    ctx.log.warn({ err, model }, "speech failed");
    await replyMarkdown(ctx, ctx.t("speech-failed", { reason: ctx.t(modelErrorNoteKey(err)) }));
    return false;
  }
  signal.clear();
  stopAction();
  // Billed once the model answered, whatever happens to the upload; written while it runs.
  const usage = recordUsage(ctx, [
    { model, promptTokens: 0, completionTokens: 0, cachedTokens: 0, spokenSeconds: speech.seconds, spokenCharacters: characters },
  ]);
  stopAction = keepChatAction(ctx.fastApi, target, "upload_voice");
  const caption = opts.caption?.slice(0, CAPTION_LIMIT);
  try {
    await ctx.api.sendVoice(target.chatId, new InputFile(speech.bytes, "voice.ogg"), {
      ...(speech.seconds > 0 ? { duration: speech.seconds } : {}),
      ...(caption ? { caption, caption_entities: [{ type: "italic" as const, offset: 0, length: caption.length }] } : {}),
      ...(opts.replyTo !== undefined ? replyToOptions(target, opts.replyTo) : firstMessageOptions(target)),
    });
    return true;
  } catch (err) {
    ctx.log.warn({ err }, "sendVoice failed");
    // Premium users may refuse voice messages (VOICE_MESSAGES_FORBIDDEN): say so instead of failing silently.
    const forbidden = err instanceof GrammyError && /VOICE_MESSAGES_FORBIDDEN/i.test(err.description);
    await ctx.api
      .sendMessage(target.chatId, ctx.t(forbidden ? "speech-forbidden" : "speech-send-failed"), topicOptions(target))
      .catch(() => undefined);
    return false;
  } finally {
    stopAction();
    await usage;
  }
}

/** Making speech takes a while for long texts; a stalled call must not hold the chat forever. */
const SPEECH_TIMEOUT_MS = 120_000;

/**
 * An answer's Markdown as something to say aloud: the text without its markup, code blocks replaced by `codeNote`,
 * and at most SPOKEN_ANSWER_MAX_CHARACTERS (cut at the end of a sentence, else of a word). `cut` says whether some
 * was left out.
 */
export function speakableText(markdown: string, codeNote: string): { text: string; cut: boolean } {
  const { text, entities } = markdownToEntities(markdown);
  let spoken = "";
  let at = 0;
  for (const e of [...entities].filter((x) => x.type === "pre").sort((a, b) => a.offset - b.offset)) {
    if (e.offset < at) continue;
    spoken += `${text.slice(at, e.offset)}${codeNote}`;
    at = e.offset + e.length;
  }
  spoken = (spoken + text.slice(at)).replace(/[ \t]+\n/g, "\n").replace(/\n{3,}/g, "\n\n").trim();
  const chars = [...spoken];
  if (chars.length <= SPOKEN_ANSWER_MAX_CHARACTERS) return { text: spoken, cut: false };
  const head = chars.slice(0, SPOKEN_ANSWER_MAX_CHARACTERS).join("");
  const sentenceEnd = Math.max(...[". ", "! ", "? ", ".\n", "!\n", "?\n", "。", "！", "？", "\n\n"].map((s) => head.lastIndexOf(s)));
  const wordEnd = head.lastIndexOf(" ");
  const end = sentenceEnd > head.length / 2 ? sentenceEnd + 1 : wordEnd > head.length / 2 ? wordEnd : head.length;
  return { text: head.slice(0, end).trim(), cut: true };
}
