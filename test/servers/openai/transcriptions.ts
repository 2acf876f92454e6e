/**
 * POST /v1/audio/transcriptions of the OpenAI test server: a multipart upload checked as OpenAI checks it, answered
 * with the transcript the test registered for those exact bytes (by SHA-256), or a default.
 *
 * Like OpenAI:
 * - `file` must be real audio by its content (magic bytes: OGG/Opus or Vorbis, MP3, M4A/MP4, WAV, WebM, FLAC) and
 *   its filename must end in a supported extension, else 400 "Invalid file format. Supported formats: …". A file
 *   with the right magic bytes that cannot be parsed is 400 "Audio file might be corrupted or unsupported". Over
 *   25 MB is 413.
 * - response_format json (default), text, verbose_json, srt, vtt; the gpt-4o transcribe models take only json and
 *   text (400 otherwise) and stream with `stream: true` (transcript.text.delta / transcript.text.done events).
 * - usage: gpt-4o(-mini)-transcribe report tokens ({ type: "tokens", input_tokens, input_token_details: { text_tokens,
 *   audio_tokens }, output_tokens, total_tokens }); whisper-1 reports { type: "duration", seconds } with the seconds
 *   rounded up, and verbose_json carries `duration` (float seconds) and the language's English name.
 * Approximations: audio_tokens = ceil(seconds × 10) (OpenAI's audio models take one input token per 100 ms of audio;
 * the transcribe models publish no exact rule; `audioTokensPerSecond` changes it); text tokens are counted with
 * o200k_base. The duration is the container's (music-metadata: for OGG/Opus the last page's granule position minus
 * the pre-skip, over 48 kHz; for WAV the data size over the byte rate).
 * Silence: an unregistered clip whose loudest sample is below -60 dBFS (decoded with opusdec or sox, see
 * test/fixtures/audio.ts) is transcribed as "" — what OpenAI returns for silence. AAC-in-MP4 and WebM cannot be
 * decoded here, so they are never judged silent.
 * Looser: any language code is accepted; segments and words are spread evenly over the duration.
 */
import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { GptEncoding } from "gpt-tokenizer/GptEncoding";
import { fileTypeFromBuffer } from "file-type";
import { parseBuffer } from "music-metadata";
import { peakLevel } from "../../fixtures/audio.js";
import { multipartBoundary, parseMultipart, sendJson, type MultipartPart } from "../http-util.js";
import { errorBody } from "./errors.js";
import { ResponseLife, type EndpointScript } from "./lifetime.js";

/** Largest upload OpenAI accepts: 25 MB. */
export const MAX_TRANSCRIPTION_BYTES = 25 * 1024 * 1024;
/** The longest audio the gpt-4o transcribe models take, in seconds. */
export const MAX_GPT4O_TRANSCRIBE_SECONDS = 1500;
/** Extensions OpenAI accepts for `file`. */
export const TRANSCRIPTION_EXTENSIONS = ["flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm"] as const;

const WHISPER = "whisper-1";
const TRANSCRIBE_MODELS = new Set([
  WHISPER,
  "gpt-4o-transcribe",
  "gpt-4o-mini-transcribe",
  "gpt-4o-mini-transcribe-2025-03-20",
  "gpt-4o-mini-transcribe-2025-12-15",
  "gpt-4o-transcribe-diarize",
]);

/** file-type's answer → the containers OpenAI takes (by content). */
const AUDIO_CONTENT: Record<string, string> = {
  opus: "ogg-opus",
  ogg: "ogg",
  oga: "ogg",
  ogx: "ogg",
  mp3: "mp3",
  m4a: "m4a",
  mp4: "mp4",
  wav: "wav",
  webm: "webm",
  flac: "flac",
};

const LANGUAGE_NAMES: Record<string, string> = {
  en: "english",
  zh: "chinese",
  de: "german",
  fr: "french",
  es: "spanish",
  it: "italian",
  pt: "portuguese",
  ru: "russian",
  uk: "ukrainian",
  ja: "japanese",
  ko: "korean",
};

/** What a test registers for some audio bytes. */
export interface TranscriptEntry {
  text: string;
  /** ISO-639-1 code reported in verbose_json (default: `language` of the request, else "zh" for Chinese text, else "en"). */
  language?: string;
}

/** What the server knows about an upload when it picks the default transcript. */
export interface UploadedAudio {
  sha256: string;
  filename: string;
  /** Container by content: "ogg-opus", "ogg", "mp3", "m4a", "mp4", "wav", "webm" or "flac". */
  container: string;
  durationSeconds: number;
  size: number;
}

/** One transcription request as the server parsed it. */
export interface TranscriptionRequest {
  model: string;
  /** The text fields (language, prompt, response_format, temperature, …). */
  fields: Record<string, string>;
  file?: { filename?: string; contentType?: string; size: number; sha256: string };
}

/** A one-off answer or failure for the next transcription request. */
export type TranscriptionScript = EndpointScript | TranscriptEntry;

let o200k: Promise<GptEncoding> | undefined;

/** The gpt-4o transcribe models count with o200k_base; loaded on first use. */
export function o200kTokenizer(): Promise<GptEncoding> {
  o200k ??= import("gpt-tokenizer/encoding/o200k_base").then((m) => m.default);
  return o200k;
}

const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** Hex SHA-256 of audio bytes: the key transcripts are registered under. */
export function audioKey(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The transcriptions endpoint: registered transcripts, scripts, and the request log. */
export class TranscriptionsEndpoint {
  readonly queue: TranscriptionScript[] = [];
  readonly transcripts = new Map<string, TranscriptEntry>();
  readonly requests: TranscriptionRequest[] = [];
  defaultTranscript: (audio: UploadedAudio) => string = (audio) =>
    `Test transcript of ${audio.durationSeconds.toFixed(1)} seconds of audio (${audio.sha256.slice(0, 8)}).`;

  constructor(
    private readonly stop: AbortSignal,
    private readonly audioTokensPerSecond = 10,
  ) {}

  async handle(raw: Buffer, contentType: string, res: ServerResponse): Promise<void> {
    const life = new ResponseLife(res, this.stop);
    const boundary = multipartBoundary(contentType);
    let parts: MultipartPart[];
    try {
      if (!/^multipart\/form-data/i.test(contentType) || !boundary) throw new Error("not multipart");
      parts = parseMultipart(raw, boundary);
    } catch {
      return sendJson(res, 400, errorBody(400, "Could not parse multipart form", null));
    }
    const fields: Record<string, string> = {};
    for (const part of parts) if (part.filename === undefined) fields[part.name] = (fields[part.name] ? `${fields[part.name]},` : "") + part.data.toString("utf8");
    const upload = parts.find((p) => p.name === "file" && p.filename !== undefined);
    const model = fields.model ?? "";
    const sha256 = upload ? audioKey(upload.data) : "";
    this.requests.push({
      model,
      fields,
      file: upload ? { filename: upload.filename, contentType: upload.contentType, size: upload.data.length, sha256 } : undefined,
    });

    if (model === "") return sendJson(res, 400, errorBody(400, "you must provide a model parameter", null));
    if (!TRANSCRIBE_MODELS.has(model)) {
      return sendJson(res, 404, errorBody(404, `The model \`${model}\` does not exist or you do not have access to it.`, "model_not_found"));
    }
    if (!upload) return sendJson(res, 400, errorBody(400, "Invalid 'file': you must provide a file.", null, "file"));
    if (upload.data.length > MAX_TRANSCRIPTION_BYTES) {
      return sendJson(
        res,
        413,
        errorBody(413, `Maximum content size limit (${MAX_TRANSCRIPTION_BYTES}) exceeded (${raw.length} bytes read)`, null),
      );
    }
    const extension = /\.([a-z0-9]+)$/i.exec(upload.filename ?? "")?.[1]?.toLowerCase() ?? "";
    const detected = await fileTypeFromBuffer(upload.data);
    const container = detected ? AUDIO_CONTENT[detected.ext] : undefined;
    if (!container || !(TRANSCRIPTION_EXTENSIONS as readonly string[]).includes(extension)) {
      const list = TRANSCRIPTION_EXTENSIONS.map((e) => `'${e}'`).join(", ");
      return sendJson(res, 400, errorBody(400, `Invalid file format. Supported formats: [${list}]`, null));
    }
    let durationSeconds: number | undefined;
    try {
      durationSeconds = (await parseBuffer(upload.data, { mimeType: detected!.mime, size: upload.data.length }, { duration: true })).format.duration;
    } catch {
      durationSeconds = undefined;
    }
    if (durationSeconds === undefined || !Number.isFinite(durationSeconds)) {
      return sendJson(res, 400, errorBody(400, "Audio file might be corrupted or unsupported", "invalid_value", "file"));
    }
    const format = fields.response_format ?? "json";
    if (!["json", "text", "verbose_json", "srt", "vtt"].includes(format)) {
      return sendJson(
        res,
        400,
        errorBody(400, `Invalid value: '${format}'. Supported values are: 'json', 'text', 'srt', 'verbose_json', and 'vtt'.`, "invalid_value", "response_format"),
      );
    }
    if (model !== WHISPER && format !== "json" && format !== "text") {
      return sendJson(
        res,
        400,
        errorBody(400, `response_format '${format}' is not compatible with model '${model}'. Use 'json' or 'text' instead.`, "unsupported_value", "response_format"),
      );
    }
    if (fields.temperature !== undefined) {
      const t = Number(fields.temperature);
      if (!Number.isFinite(t) || t < 0 || t > 1) {
        return sendJson(res, 400, errorBody(400, `Invalid 'temperature': expected a number between 0 and 1.`, "invalid_value", "temperature"));
      }
    }
    if (model !== WHISPER && durationSeconds > MAX_GPT4O_TRANSCRIBE_SECONDS) {
      return sendJson(
        res,
        400,
        errorBody(
          400,
          `audio duration ${durationSeconds.toFixed(6)} seconds is longer than ${MAX_GPT4O_TRANSCRIBE_SECONDS} seconds which is the maximum for this model`,
          "invalid_value",
          "file",
        ),
      );
    }

    const script = this.queue.shift();
    if (script && "error" in script) {
      const { status, body: errBody, headers } = script.error;
      return sendJson(res, status, errBody ?? errorBody(status), headers);
    }
    if (script && "delayMs" in script) await life.sleep(script.delayMs);
    if (script && "hold" in script) await life.hold(script.hold);
    if (life.gone) return;

    const audio: UploadedAudio = { sha256, filename: upload.filename ?? "", container, durationSeconds, size: upload.data.length };
    const entry = script && "text" in script ? script : await this.transcriptOf(audio, upload.data);
    const text = entry.text;
    const language = entry.language ?? fields.language ?? (/[\u3400-\u9fff]/u.test(text) ? "zh" : "en");
    const tokenizer = await o200kTokenizer();
    const seconds = Math.ceil(durationSeconds);

    if (model !== WHISPER) {
      const audioTokens = Math.ceil(durationSeconds * this.audioTokensPerSecond);
      const textTokens = fields.prompt ? tokenizer.countTokens(fields.prompt, PLAIN_TEXT) : 0;
      const outputTokens = tokenizer.countTokens(text, PLAIN_TEXT);
      const usage = {
        type: "tokens",
        input_tokens: audioTokens + textTokens,
        input_token_details: { text_tokens: textTokens, audio_tokens: audioTokens },
        output_tokens: outputTokens,
        total_tokens: audioTokens + textTokens + outputTokens,
      };
      if (fields.stream === "true") return this.stream(res, life, text, usage);
      if (format === "text") return sendText(res, text);
      return sendJson(res, 200, { text, usage });
    }
    if (format === "text") return sendText(res, `${text}\n`);
    if (format === "json") return sendJson(res, 200, { text, usage: { type: "duration", seconds } });
    const segments = segmentsOf(text, durationSeconds, tokenizer);
    if (format === "srt" || format === "vtt") return sendText(res, subtitles(segments, format));
    const words = fields["timestamp_granularities[]"]?.split(",").includes("word") ? wordsOf(text, durationSeconds) : undefined;
    return sendJson(res, 200, {
      task: "transcribe",
      language: LANGUAGE_NAMES[language] ?? language,
      duration: durationSeconds,
      text,
      ...(words ? { words } : {}),
      segments,
      usage: { type: "duration", seconds },
    });
  }

  private async transcriptOf(audio: UploadedAudio, bytes: Buffer): Promise<TranscriptEntry> {
    const registered = this.transcripts.get(audio.sha256);
    if (registered) return registered;
    const peak = await peakLevel(bytes, audio.container).catch(() => undefined);
    if (peak !== undefined && peak < 0.001) return { text: "" };
    return { text: this.defaultTranscript(audio) };
  }

  private async stream(res: ServerResponse, life: ResponseLife, text: string, usage: object): Promise<void> {
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
    for (const delta of text.match(/\S+\s*/gu) ?? []) {
      if (life.gone) return;
      res.write(`data: ${JSON.stringify({ type: "transcript.text.delta", delta })}\n\n`);
      await life.sleep(1);
    }
    if (!life.gone) res.end(`data: ${JSON.stringify({ type: "transcript.text.done", text, usage })}\n\n`);
  }
}

function sendText(res: ServerResponse, text: string): void {
  res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

interface Segment {
  id: number;
  seek: number;
  start: number;
  end: number;
  text: string;
  tokens: number[];
  temperature: number;
  avg_logprob: number;
  compression_ratio: number;
  no_speech_prob: number;
}

/** Sentences spread over the duration in proportion to their length. */
function segmentsOf(text: string, duration: number, tokenizer: GptEncoding): Segment[] {
  const sentences = text.match(/[^.!?。！？]+[.!?。！？]*\s*/gu) ?? [];
  const total = sentences.reduce((n, s) => n + s.length, 0) || 1;
  let start = 0;
  return sentences.map((sentence, id) => {
    const end = Math.min(duration, start + (duration * sentence.length) / total);
    const segment = {
      id,
      seek: 0,
      start,
      end,
      text: ` ${sentence.trim()}`,
      tokens: tokenizer.encode(` ${sentence.trim()}`, PLAIN_TEXT),
      temperature: 0,
      avg_logprob: -0.25,
      compression_ratio: 1.2,
      no_speech_prob: 0.01,
    };
    start = end;
    return segment;
  });
}

function wordsOf(text: string, duration: number): Array<{ word: string; start: number; end: number }> {
  const words = text.match(/[\p{L}\p{N}'’-]+/gu) ?? [];
  const each = words.length > 0 ? duration / words.length : 0;
  return words.map((word, i) => ({ word, start: i * each, end: (i + 1) * each }));
}

function timestamp(seconds: number, separator: "," | "."): string {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`;
}

function subtitles(segments: Segment[], format: "srt" | "vtt"): string {
  if (format === "vtt") {
    return `WEBVTT\n\n${segments.map((s) => `${timestamp(s.start, ".")} --> ${timestamp(s.end, ".")}\n${s.text.trim()}\n`).join("\n")}\n`;
  }
  return `${segments.map((s, i) => `${i + 1}\n${timestamp(s.start, ",")} --> ${timestamp(s.end, ",")}\n${s.text.trim()}\n`).join("\n")}\n`;
}
