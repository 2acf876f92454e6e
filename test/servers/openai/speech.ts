/**
 * POST /v1/audio/speech of the OpenAI test server: the input really spoken (espeak-ng, see test/fixtures/audio.ts) and
 * answered as bytes in the asked format, streamed in chunks like the real endpoint: mp3 (default), opus (an OGG/Opus
 * file, what Telegram's sendVoice wants), flac, wav, pcm (raw 24 kHz 16-bit little-endian mono) and aac (ADTS; silent,
 * see the fixture). Each answer's bytes are registered with the transcriptions endpoint, so transcribing the bot's own
 * voice message gives back the text it was made from.
 *
 * Like OpenAI: model, input (1…4096 characters), voice (a built-in name or `{ id }`) are required; speed 0.25…4;
 * `instructions` refused by tts-1 and tts-1-hd; 404 for an unknown model. Looser: every voice sounds the same (espeak's
 * English or Mandarin voice, picked by the text). Stricter: `stream_format: "sse"` is refused (not modelled).
 */
import type { ServerResponse } from "node:http";
import { makeSpeech, type AudioFormat } from "../../fixtures/audio.js";
import { sendJson } from "../http-util.js";
import { errorBody, isObject } from "./errors.js";
import { ResponseLife, type EndpointScript } from "./lifetime.js";

/** Longest `input` OpenAI speaks. */
export const MAX_SPEECH_INPUT_CHARS = 4096;

const SPEECH_MODELS = new Set(["tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-03-20", "gpt-4o-mini-tts-2025-12-15"]);
const VOICES = ["alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse", "marin", "cedar"];
const FORMATS: Record<string, { fixture: AudioFormat; contentType: string }> = {
  mp3: { fixture: "mp3", contentType: "audio/mpeg" },
  opus: { fixture: "ogg-opus", contentType: "audio/ogg" },
  aac: { fixture: "aac", contentType: "audio/aac" },
  flac: { fixture: "flac", contentType: "audio/flac" },
  wav: { fixture: "wav", contentType: "audio/wav" },
  pcm: { fixture: "pcm", contentType: "audio/pcm" },
};

/** The parsed body of a speech request. */
export interface SpeechRequestBody {
  model: string;
  input: string;
  voice: string | { id: string };
  response_format?: string;
  speed?: number;
  instructions?: string;
  [key: string]: unknown;
}

/** The speech endpoint: scripts (failures, delays, gates) and the request log. */
export class SpeechEndpoint {
  readonly queue: EndpointScript[] = [];
  readonly requests: SpeechRequestBody[] = [];

  constructor(
    private readonly stop: AbortSignal,
    private readonly registerTranscript: (bytes: Uint8Array, text: string) => void,
  ) {}

  async handle(body: unknown, res: ServerResponse): Promise<void> {
    const life = new ResponseLife(res, this.stop);
    if (!isObject(body)) return sendJson(res, 400, errorBody(400, "We could not parse the JSON body of your request.", null));
    this.requests.push(body as SpeechRequestBody);
    const invalid = (message: string, param: string | null, code: string | null = "invalid_value") =>
      sendJson(res, 400, errorBody(400, message, code, param));
    if (typeof body.model !== "string" || body.model === "") return invalid("you must provide a model parameter", null, null);
    if (!SPEECH_MODELS.has(body.model)) {
      return sendJson(res, 404, errorBody(404, `The model \`${body.model}\` does not exist or you do not have access to it.`, "model_not_found"));
    }
    if (typeof body.input !== "string" || body.input === "") return invalid("Invalid 'input': empty string.", "input", "empty_string");
    if (body.input.length > MAX_SPEECH_INPUT_CHARS) {
      return invalid(
        `Invalid 'input': string too long. Expected a string with maximum length ${MAX_SPEECH_INPUT_CHARS}, but got a string with length ${body.input.length} instead.`,
        "input",
        "string_above_max_length",
      );
    }
    const voiceOk = (typeof body.voice === "string" && VOICES.includes(body.voice)) || (isObject(body.voice) && typeof body.voice.id === "string");
    if (!voiceOk) {
      return invalid(`Invalid value: '${String(body.voice)}'. Supported values are: ${VOICES.map((v) => `'${v}'`).join(", ")}.`, "voice");
    }
    const format = body.response_format ?? "mp3";
    const output = typeof format === "string" ? FORMATS[format] : undefined;
    if (!output) {
      return invalid(`Invalid value: '${typeof format === "string" ? format : JSON.stringify(format)}'. Supported values are: 'mp3', 'opus', 'aac', 'flac', 'wav', and 'pcm'.`, "response_format");
    }
    const speed = body.speed ?? 1;
    if (typeof speed !== "number" || speed < 0.25 || speed > 4) {
      return invalid(`Invalid 'speed': expected a number between 0.25 and 4.0, got ${typeof speed === "string" ? speed : JSON.stringify(speed)}.`, "speed");
    }
    if (body.instructions !== undefined && (body.model === "tts-1" || body.model === "tts-1-hd")) {
      return invalid(`Instructions are not supported for model '${body.model}'.`, "instructions", "unsupported_parameter");
    }
    if (body.stream_format !== undefined && body.stream_format !== "audio") {
      return invalid("stream_format 'sse' is not supported by this test server.", "stream_format", "unsupported_value");
    }

    const script = this.queue.shift();
    if (script && "error" in script) {
      const { status, body: errBody, headers } = script.error;
      return sendJson(res, status, errBody ?? errorBody(status), headers);
    }
    if (script && "delayMs" in script) await life.sleep(script.delayMs);
    if (script && "hold" in script) await life.hold(script.hold);
    if (life.gone) return;

    const clip = await makeSpeech(body.input, { format: output.fixture, speed });
    this.registerTranscript(clip.bytes, body.input);
    if (life.gone) return;
    res.writeHead(200, { "content-type": output.contentType, "transfer-encoding": "chunked" });
    for (let at = 0; at < clip.bytes.length && !life.gone; at += 16 * 1024) {
      res.write(clip.bytes.subarray(at, at + 16 * 1024));
      await life.flushed();
    }
    if (!life.gone) res.end();
  }
}
