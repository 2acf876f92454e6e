/**
 * /say text (or /say replying to a message): the text spoken by the speech model (OPENAI_TTS_MODEL, OPENAI_TTS_VOICE)
 * and sent as a voice message. Admitted and counted like every model call (src/bot/spoken-reply.ts).
 */
import { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { repliedTo } from "../bot/addressing.js";
import { replyMarkdown } from "../bot/reply.js";
import { sendSpeech } from "../bot/spoken-reply.js";
import { MAX_SPEECH_CHARACTERS } from "../ai/speech.js";

export const sayFeature = new Composer<BotContext>();

sayFeature.command("say", async (ctx) => {
  let text = ctx.match.trim();
  if (!text) {
    const replied = repliedTo(ctx.msg);
    text = (replied?.text ?? replied?.caption ?? "").trim();
  }
  if (!text) return replyMarkdown(ctx, ctx.t("say-usage"));
  // Characters as OpenAI counts them (code points), checked before a call that would be refused anyway.
  const length = [...text].length;
  if (length > MAX_SPEECH_CHARACTERS) return replyMarkdown(ctx, ctx.t("say-too-long", { length, max: MAX_SPEECH_CHARACTERS }));
  await sendSpeech(ctx, text);
});
