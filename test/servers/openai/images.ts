/**
 * POST /v1/images/generations of the OpenAI test server. By default it answers a real PNG of one colour derived from
 * the prompt, at the requested size, as b64_json (or as a URL this server serves, like DALL·E's `url` answers).
 *
 * Looser than OpenAI: no moderation unless scripted, any model name, `n` ignored (always one image).
 */
import type { ServerResponse } from "node:http";
import { deflateSync } from "node:zlib";
import { sendJson } from "../http-util.js";
import type { ErrorScript, StallScript } from "./chat.js";
import { errorBody, isObject } from "./errors.js";
import { ResponseLife } from "./lifetime.js";

/** A scripted image answer. */
export interface ImageScriptObject {
  image: {
    b64_json?: string;
    /** Returned verbatim. */
    url?: string;
    /** Served by this server at /files/<name>: answered as a url or b64_json (default: the request's response_format, else b64_json). */
    bytes?: Uint8Array;
    format?: "url" | "b64_json";
    revised_prompt?: string;
  };
}
/** A scripted image answer, failure or stall, or a function of the request that makes one. */
export type ImageScript =
  | ImageScriptObject
  | ErrorScript
  | StallScript
  | ((body: Record<string, unknown>) => ImageScript | Promise<ImageScript>);

/** What the image endpoint needs from the server that owns it. */
export interface ImageContext {
  readonly stop: AbortSignal;
  nextId(): number;
  addFile(name: string, bytes: Uint8Array, contentType?: string): string;
}

/** The image generation endpoint: script queue and default answer. */
export class ImageEndpoint {
  readonly queue: ImageScript[] = [];
  defaultImage: (body: Record<string, unknown>) => ImageScript = (body) => ({
    image: { bytes: solidPng(parseSize(body.size), typeof body.prompt === "string" ? body.prompt : "") },
  });

  constructor(private readonly ctx: ImageContext) {}

  async handle(rawBody: unknown, res: ServerResponse): Promise<void> {
    if (!isObject(rawBody)) return sendJson(res, 400, errorBody(400, "We could not parse the JSON body of your request.", null));
    if (typeof rawBody.prompt !== "string" || rawBody.prompt.trim() === "") {
      return sendJson(res, 400, errorBody(400, "Invalid 'prompt': empty string.", "empty_string"));
    }
    let script: ImageScript = this.queue.shift() ?? this.defaultImage(rawBody);
    for (;;) {
      while (typeof script === "function") script = await script(rawBody);
      if ("error" in script) {
        const { status, body, headers } = script.error;
        return sendJson(res, status, body ?? errorBody(status), headers);
      }
      if (!("stallMs" in script)) break;
      // A stall, then the default answer.
      const life = new ResponseLife(res, this.ctx.stop);
      await life.sleep(script.stallMs);
      if (life.gone) return;
      script = this.defaultImage(rawBody);
    }
    const image = script.image;
    const datum: Record<string, unknown> = {};
    if (image.bytes) {
      const format = image.format ?? (rawBody.response_format === "url" ? "url" : "b64_json");
      if (format === "url") datum.url = this.ctx.addFile(`img-${this.ctx.nextId()}.png`, image.bytes);
      else datum.b64_json = Buffer.from(image.bytes).toString("base64");
    }
    if (image.b64_json !== undefined) datum.b64_json = image.b64_json;
    if (image.url !== undefined) datum.url = image.url;
    if (image.revised_prompt !== undefined) datum.revised_prompt = image.revised_prompt;
    const textTokens = Math.ceil(rawBody.prompt.length / 4);
    sendJson(res, 200, {
      created: Math.floor(Date.now() / 1000),
      data: [datum],
      usage: {
        input_tokens: textTokens,
        output_tokens: 4160,
        total_tokens: textTokens + 4160,
        input_tokens_details: { text_tokens: textTokens, image_tokens: 0 },
      },
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A real PNG for the default image answer (solid colour from the prompt, at the requested size).

function parseSize(size: unknown): { width: number; height: number } {
  const match = typeof size === "string" ? /^(\d{2,4})x(\d{2,4})$/.exec(size) : null;
  return match ? { width: Number(match[1]), height: Number(match[2]) } : { width: 1024, height: 1024 };
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A valid RGB PNG of one colour derived from `seed`. */
export function solidPng(size: { width: number; height: number }, seed = ""): Uint8Array {
  let hash = 2166136261;
  for (let i = 0; i < seed.length; i++) hash = Math.imul(hash ^ seed.charCodeAt(i), 16777619) >>> 0;
  const rgb = [hash & 0xff, (hash >>> 8) & 0xff, (hash >>> 16) & 0xff];
  const row = Buffer.alloc(1 + size.width * 3);
  for (let x = 0; x < size.width; x++) row.set(rgb, 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: size.height }, () => row));
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size.width, 0);
  ihdr.writeUInt32BE(size.height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(
    Buffer.concat([signature, pngChunk("IHDR", ihdr), pngChunk("IDAT", deflateSync(raw)), pngChunk("IEND", Buffer.alloc(0))]),
  );
}
