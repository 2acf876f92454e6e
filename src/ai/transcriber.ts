/**
 * Speech to text with the transcription endpoint (OPENAI_TRANSCRIBE_MODEL: gpt-4o-mini-transcribe, gpt-4o-transcribe or
 * whisper-1) at OPENAI_BASE_URL. The audio goes up as bytes with a file name whose extension says the format (the
 * endpoint checks both the bytes and the name); nothing here knows Telegram.
 */
import type OpenAI from "openai";
import { toFile } from "openai";
import { toModelError } from "./errors.js";

/** Extensions the transcription endpoint accepts (OpenAI's list). */
export const TRANSCRIBABLE_EXTENSIONS = ["flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm"] as const;

/** MIME types of audio (and video with audio) the endpoint reads, and the extension each is uploaded with. */
const EXTENSION_BY_MIME: Readonly<Record<string, string>> = {
  "audio/ogg": "ogg",
  "audio/opus": "ogg",
  "audio/x-opus+ogg": "ogg",
  "audio/mpeg": "mp3",
  "audio/mp3": "mp3",
  "audio/mp4": "m4a",
  "audio/x-m4a": "m4a",
  "audio/m4a": "m4a",
  "audio/aac": "m4a",
  "audio/wav": "wav",
  "audio/x-wav": "wav",
  "audio/wave": "wav",
  "audio/flac": "flac",
  "audio/x-flac": "flac",
  "audio/webm": "webm",
  "video/mp4": "mp4",
  "video/webm": "webm",
};

/**
 * The file name (`<base>.<extension>`) to upload a user's audio with, or undefined when the endpoint cannot read that
 * format. The file's own extension wins when it is one the endpoint takes; otherwise the MIME type decides, and
 * without either the caller's `defaultExtension` (Telegram always types voice and video notes).
 */
export function transcriptionFileName(opts: { base: string; fileName?: string; mimeType?: string; defaultExtension: string }): string | undefined {
  const ext = /\.([a-z0-9]{1,5})$/i.exec(opts.fileName ?? "")?.[1]?.toLowerCase();
  if (ext && (TRANSCRIBABLE_EXTENSIONS as readonly string[]).includes(ext)) return `${opts.base}.${ext}`;
  const mime = opts.mimeType?.toLowerCase().split(";")[0]?.trim();
  if (mime) {
    const byMime = EXTENSION_BY_MIME[mime];
    return byMime ? `${opts.base}.${byMime}` : undefined;
  }
  return ext ? undefined : `${opts.base}.${opts.defaultExtension}`;
}

/** A transcription refused because of the audio itself (not the service): unreadable or of an unknown format. */
export class UnsupportedAudioError extends Error {
  override readonly name = "UnsupportedAudioError";
}

export interface Transcript {
  /** The words heard; "" for silence. */
  text: string;
}

/** Transcribes audio with the configured model. */
export class Transcriber {
  readonly model: string;
  readonly #openai: OpenAI;

  constructor(opts: { openai: OpenAI; model: string }) {
    this.#openai = opts.openai;
    this.model = opts.model;
  }

  /**
   * The transcript of `bytes` (uploaded as `fileName`). Throws UnsupportedAudioError when the endpoint says the file is
   * not audio it can read, and a ModelError for anything else.
   */
  async transcribe(bytes: Uint8Array, fileName: string, signal: AbortSignal): Promise<Transcript> {
    try {
      const file = await toFile(bytes, fileName);
      const result = await this.#openai.audio.transcriptions.create({ file, model: this.model, response_format: "json" }, { signal });
      return { text: result.text.trim() };
    } catch (err) {
      const modelError = toModelError(err, { aborted: signal.aborted });
      // 400 with "Invalid file format" / "might be corrupted or unsupported": the file, not the request.
      if (modelError.kind === "bad_request" && /file format|corrupted|unsupported|could not be decoded/i.test(errorMessage(err))) {
        throw new UnsupportedAudioError("the transcription endpoint cannot read this audio", { cause: err });
      }
      throw modelError;
    }
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
