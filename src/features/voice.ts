/**
 * Voice in: voice notes, audio files and round video notes are transcribed (OPENAI_TRANSCRIBE_MODEL) and answered
 * like text, the transcript shown first as a short expandable quote so the user sees what was understood. With the
 * chat's "answer voice with voice" setting a voice or video note also gets the final answer spoken.
 *
 * When the bot listens:
 * - private chat: every voice note, audio file and video note (a caption is asked along with it), or a text that
 *   replies to one;
 * - groups: one whose caption mentions the bot or starts with /ask, one replying to the bot, or a message addressed to
 *   the bot (`/ask …`, a mention) that replies to one;
 * - `/transcribe` replying to one, in any chat: the transcript only, no answer.
 *
 * Limits are checked before anything is downloaded: Telegram's duration against VOICE_MAX_SECONDS, the file size
 * against the Bot API's 20 MB download limit, the format against what the transcription endpoint reads. The audio
 * reaches the model as bytes, never as a Bot API link (it carries the token); history keeps the transcript.
 */
import { anySignal } from "any-signal";
import { Composer } from "grammy";
import type { Message, MessageEntity } from "grammy/types";
import type { BotContext } from "../bot/context.js";
import { admitModelCall } from "../bot/admission.js";
import { addressedQuestion, captionQuestion, repliedTo } from "../bot/addressing.js";
import { answerQuestion } from "../bot/answer.js";
import { modelErrorNoteKey } from "../bot/model-error-notes.js";
import { recordUsage } from "../bot/record-usage.js";
import { replyMarkdown, sendFormatted } from "../bot/reply.js";
import { sendSpeech, speakableText } from "../bot/spoken-reply.js";
import { targetOf } from "../bot/target.js";
import { weatherTool } from "../ai/tools/weather.js";
import { transcriptionFileName, UnsupportedAudioError } from "../ai/transcriber.js";
import { keepChatAction } from "../telegram/chat-action.js";
import { downloadTelegramFile, TelegramFileError } from "../telegram/files.js";
import type { FormattedText } from "../telegram/formatted-text.js";

export const voiceFeature = new Composer<BotContext>();

/** Bots may download files up to 20 MB through the Bot API. */
const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;
/** A stalled download or transcription must not hold the chat forever. */
const TRANSCRIPTION_TIMEOUT_MS = 120_000;
/** The transcript quoted above an answer is cut here (the whole of it is the question and stays in history). */
const QUOTE_MAX_CHARACTERS = 700;

/** Audio a message carries, as the transcription needs it. */
interface AudioSource {
  kind: "voice" | "audio" | "video_note";
  fileId: string;
  /** Seconds, as Telegram reports them. */
  duration: number;
  fileSize?: number;
  fileName?: string;
  mimeType?: string;
}

function audioSourceOf(msg: Message | undefined): AudioSource | undefined {
  if (msg?.voice) {
    const v = msg.voice;
    return { kind: "voice", fileId: v.file_id, duration: v.duration, fileSize: v.file_size, mimeType: v.mime_type ?? "audio/ogg" };
  }
  if (msg?.audio) {
    const a = msg.audio;
    return { kind: "audio", fileId: a.file_id, duration: a.duration, fileSize: a.file_size, fileName: a.file_name, mimeType: a.mime_type };
  }
  if (msg?.video_note) {
    const v = msg.video_note;
    return { kind: "video_note", fileId: v.file_id, duration: v.duration, fileSize: v.file_size, mimeType: "video/mp4" };
  }
  return undefined;
}

/** Audio the user sent (not one of the bot's own voice messages: their text is in history already). */
function userAudioOf(ctx: BotContext, msg: Message | undefined): AudioSource | undefined {
  if (msg?.from?.id === ctx.me.id) return undefined;
  return audioSourceOf(msg);
}

voiceFeature.command("transcribe", async (ctx) => {
  const source = audioSourceOf(repliedTo(ctx.msg));
  if (!source) return replyMarkdown(ctx, ctx.t("transcribe-usage"));
  const transcript = await transcribe(ctx, source);
  if (transcript === undefined) return;
  await sendFormatted(ctx, { text: transcript, entities: [] });
});

// `/ask` replying to audio. Before the ask feature, which answers every other /ask.
voiceFeature.command("ask", async (ctx, next) => {
  const source = userAudioOf(ctx, repliedTo(ctx.msg));
  if (!source) return next();
  await answerAudio(ctx, source, ctx.match.trim());
});

voiceFeature.on(["message:voice", "message:audio", "message:video_note"], async (ctx, next) => {
  const source = audioSourceOf(ctx.msg);
  const question = source ? captionQuestion(ctx) : undefined;
  if (!source || question === undefined) return next();
  await answerAudio(ctx, source, question);
});

// A question replying to audio is about that audio (in private chats any text; in groups when addressed).
voiceFeature.on("message:text", async (ctx, next) => {
  const source = userAudioOf(ctx, repliedTo(ctx.msg));
  if (!source) return next();
  const question = addressedQuestion(ctx);
  if (question === undefined) return next();
  await answerAudio(ctx, source, question);
});

/** Transcribes the audio and answers it (with `question` asked along); speaks the answer when the chat wants that. */
async function answerAudio(ctx: BotContext, source: AudioSource, question: string): Promise<void> {
  const transcript = await transcribe(ctx, source);
  if (transcript === undefined) return;
  const result = await answerQuestion(ctx, {
    text: question ? `${question}\n\n${transcript}` : transcript,
    header: transcriptQuote(transcript),
    seesPictures: true,
    tools: [weatherTool(ctx.deps.weather)],
  });
  const spokenInput = source.kind === "voice" || source.kind === "video_note";
  const complete = result.text.trim() && !result.limited && !result.aborted && result.error === undefined;
  if (!spokenInput || !complete || !(await ctx.chatSettings()).voiceReplies) return;
  const { text, cut } = speakableText(result.text, ctx.t("voice-code-skipped"));
  if (!text) return;
  await sendSpeech(ctx, text, {
    caption: cut ? ctx.t("voice-answer-first-part") : undefined,
    replyTo: result.messageIds[0],
  });
}

/** "🎤 what was heard", as an expandable quote (cut when long). */
function transcriptQuote(transcript: string): FormattedText {
  const chars = [...transcript];
  const shown = chars.length > QUOTE_MAX_CHARACTERS ? `${chars.slice(0, QUOTE_MAX_CHARACTERS).join("").trimEnd()}…` : transcript;
  const text = `🎤 ${shown}`;
  const quote: MessageEntity = { type: "expandable_blockquote", offset: 0, length: text.length };
  return { text, entities: [quote] };
}

/**
 * The transcript of the audio, or undefined when there is none (too long, too large, unsupported, refused by a
 * limit, failed, or silent: the user has been told in one line).
 */
async function transcribe(ctx: BotContext, source: AudioSource): Promise<string | undefined> {
  const { deps } = ctx;
  const { config, transcriber } = deps;
  const maxSeconds = config.voiceMaxSeconds;
  if (source.duration > maxSeconds) {
    await replyMarkdown(ctx, ctx.t("voice-too-long", { minutes: Math.max(1, Math.round(maxSeconds / 60)), seconds: maxSeconds }));
    return undefined;
  }
  if (source.fileSize !== undefined && source.fileSize > MAX_DOWNLOAD_BYTES) {
    await replyMarkdown(ctx, ctx.t("voice-too-large", { max: MAX_DOWNLOAD_BYTES / (1024 * 1024) }));
    return undefined;
  }
  const fileName = transcriptionFileName({
    base: source.kind === "video_note" ? "video" : source.kind,
    fileName: source.fileName,
    mimeType: source.mimeType,
    defaultExtension: source.kind === "video_note" ? "mp4" : "ogg",
  });
  if (!fileName) {
    await replyMarkdown(ctx, ctx.t("voice-unsupported"));
    return undefined;
  }
  // Billed by the minute heard: Telegram's duration (at least a second) is what the budgets check before the call.
  const seconds = Math.max(1, Math.ceil(source.duration));
  const model = transcriber.model;
  if (!(await admitModelCall(ctx, { model, promptTokens: 0, maxAnswerTokens: 0, audioSeconds: seconds }))) return undefined;

  const signal = anySignal([deps.shutdown, AbortSignal.timeout(TRANSCRIPTION_TIMEOUT_MS)]);
  const stopAction = keepChatAction(ctx.fastApi, targetOf(ctx), "typing");
  try {
    let bytes: Uint8Array;
    try {
      bytes = await downloadTelegramFile(ctx.api, source.fileId, {
        apiRoot: config.telegram.apiRoot,
        token: config.telegram.token,
        maxBytes: MAX_DOWNLOAD_BYTES,
        signal,
      });
    } catch (err) {
      const tooBig = err instanceof TelegramFileError && err.reason === "too_big";
      // TelegramFileError never carries the file URL (it contains the token).
      if (!tooBig) ctx.log.warn({ err }, "audio download failed");
      await replyMarkdown(ctx, tooBig ? ctx.t("voice-too-large", { max: MAX_DOWNLOAD_BYTES / (1024 * 1024) }) : ctx.t("voice-download-failed"));
      return undefined;
    }
    let text: string;
    try {
      ({ text } = await transcriber.transcribe(bytes, fileName, signal));
    } catch (err) {
      if (err instanceof UnsupportedAudioError) {
        ctx.log.info({ err, fileName }, "audio not readable by the transcription endpoint");
        await replyMarkdown(ctx, ctx.t("voice-unsupported"));
        return undefined;
      }
      ctx.log.warn({ err, model }, "transcription failed");
      await replyMarkdown(ctx, ctx.t(modelErrorNoteKey(err)));
      return undefined;
    }
    await recordUsage(ctx, [{ model, promptTokens: 0, completionTokens: 0, cachedTokens: 0, transcribedSeconds: seconds }]);
    if (!text) {
      await replyMarkdown(ctx, ctx.t("voice-silence"));
      return undefined;
    }
    return text;
  } finally {
    stopAction();
    signal.clear();
  }
}
