/**
 * Text to speech with the speech endpoint (OPENAI_TTS_MODEL, OPENAI_TTS_VOICE) at OPENAI_BASE_URL, as OGG/Opus
 * (`response_format: "opus"`): what Telegram plays as a voice note. The length of what was made is read from the file,
 * for sendVoice's duration and for models priced per minute of speech.
 */
import type OpenAI from "openai";
import { toModelError } from "./errors.js";
import { BodyTooLargeError, readBoundedBody } from "../util/bounded-body.js";

/** Longest input the speech endpoint takes, in characters. */
export const MAX_SPEECH_CHARACTERS = 4096;
/** A bound on the answer: 4,096 characters are a few minutes of Opus, well under a megabyte or two. */
const MAX_SPEECH_BYTES = 20 * 1024 * 1024;
/** About how fast speech goes (150 words a minute): for the cost estimate before a call priced per minute. */
const CHARACTERS_PER_SECOND = 12;

/** Seconds of speech `characters` characters make, estimated on the long side (budgets check it before the call). */
export function estimateSpeechSeconds(characters: number): number {
  return Math.ceil(characters / CHARACTERS_PER_SECOND);
}

export interface Speech {
  /** An OGG/Opus file. */
  bytes: Uint8Array;
  /** Its length, from the file (rounded up; at least 1). */
  seconds: number;
}

/** Speaks text with the configured model and voice. */
export class SpeechSynthesizer {
  readonly model: string;
  readonly voice: string;
  readonly #openai: OpenAI;

  constructor(opts: { openai: OpenAI; model: string; voice: string }) {
    this.#openai = opts.openai;
    this.model = opts.model;
    this.voice = opts.voice;
  }

  /** `text` (at most MAX_SPEECH_CHARACTERS) as an OGG/Opus voice note. Throws a ModelError when the call fails. */
  async speak(text: string, signal: AbortSignal): Promise<Speech> {
    let bytes: Uint8Array;
    try {
      const response = await this.#openai.audio.speech.create(
        { model: this.model, voice: this.voice, input: text, response_format: "opus" },
        { signal },
      );
      bytes = await readBoundedBody(response, MAX_SPEECH_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLargeError) throw toModelError(new Error("speech answer too large"));
      throw toModelError(err, { aborted: signal.aborted });
    }
    return { bytes, seconds: await durationOf(bytes) };
  }
}

/** Seconds of an OGG/Opus file (0 when it cannot be read: then the speech is priced by its characters only). */
async function durationOf(bytes: Uint8Array): Promise<number> {
  try {
    // music-metadata is loaded on the first spoken answer, not at start-up (it is ~14 MB resident).
    const { parseBuffer } = await import("music-metadata");
    const { format } = await parseBuffer(bytes, { mimeType: "audio/ogg", size: bytes.length }, { duration: true });
    return format.duration !== undefined && Number.isFinite(format.duration) ? Math.max(1, Math.ceil(format.duration)) : 0;
  } catch {
    return 0;
  }
}
