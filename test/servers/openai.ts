import { EventEmitter, setMaxListeners } from "node:events";
// A local OpenAI-compatible server that streams real SSE, for end-to-end tests, benchmarks and trying the bot by hand.
// Answers are scripted (enqueue / setDefault); without a script it echoes the last user message.
//
// Token usage: unless a script gives numbers, prompt_tokens is estimated as 3 + Σ(4 + ceil(chars/4)) over the
// messages' text (+85 per image part) and completion_tokens as ceil(chars/4) of the answer text and tool-call
// names+arguments. Rough on purpose: exact counting is the bot's job (gpt-tokenizer), not this server's.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { deflateSync } from "node:zlib";
import type { ChatCompletion, ChatCompletionChunk } from "openai/resources/chat/completions";
import { closeServer, startFake, readBody, sendJson } from "./http-util.js";

// ---------------------------------------------------------------------------------------------------------------
// Public types

export interface UsageOverride {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  cached_tokens?: number;
}

export type FinishReason = "stop" | "length" | "content_filter";

export interface TextScript {
  text: string;
  /** Characters (UTF-16 code units, never splitting a surrogate pair) per content chunk. Default 4. */
  chunkSize?: number;
  /** Pause between chunks. Default 0. */
  delayMs?: number;
  /** Pause after the headers, before the first chunk (time to first token). Default 0. */
  firstDelayMs?: number;
  finishReason?: FinishReason;
  usage?: UsageOverride;
  /** Stream this many characters, then destroy the socket: no finish_reason, no [DONE]. */
  cutAfterChars?: number;
  /** Stream this many characters, then stay silent for stallMs, then go on. */
  stallAfterChars?: number;
  stallMs?: number;
  /** Model name in the answer (default: the request's model). */
  model?: string;
}

export interface ToolCallScript {
  toolCalls: Array<{ id?: string; name: string; arguments: string }>;
  /** Optional content streamed before the tool calls. */
  text?: string;
  chunkSize?: number;
  delayMs?: number;
  firstDelayMs?: number;
  usage?: UsageOverride;
  model?: string;
}

export interface ErrorScript {
  error: { status: number; body?: object; headers?: Record<string, string> };
}

/** Headers (200, event-stream) and then silence for stallMs; afterwards an empty answer ends the stream. */
export interface StallScript {
  stallMs: number;
  /** Stay silent before even sending the headers (the SDK's `timeout` covers only this phase). */
  beforeHeaders?: boolean;
}

export type ChatScriptObject = TextScript | ToolCallScript | ErrorScript | StallScript;
export type ChatScript = ChatScriptObject | ((body: ChatRequestBody) => ChatScript | Promise<ChatScript>);

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
export type ImageScript =
  | ImageScriptObject
  | ErrorScript
  | StallScript
  | ((body: Record<string, unknown>) => ImageScript | Promise<ImageScript>);

/** The parsed body of a chat completion request (loosely typed: tests assert on what the bot really sent). */
export interface ChatRequestBody {
  model: string;
  messages: Array<{ role: string; content?: unknown; tool_calls?: unknown; tool_call_id?: string; name?: string }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: unknown[];
  [key: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Parsed JSON body (undefined when the body is empty or not JSON). */
  body: unknown;
  at: number;
}

export interface OpenAIServerOptions {
  /** Default `sk-test`. */
  apiKey?: string;
}

// ---------------------------------------------------------------------------------------------------------------

const ERROR_DEFAULTS: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: "Bad request", type: "invalid_request_error", code: null },
  401: { message: "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key" },
  403: { message: "You are not allowed to sample from this model", type: "invalid_request_error", code: null },
  404: { message: "The model does not exist or you do not have access to it.", type: "invalid_request_error", code: "model_not_found" },
  429: { message: "Rate limit reached for requests. Please try again in 1s.", type: "requests", code: "rate_limit_exceeded" },
  500: { message: "The server had an error while processing your request. Sorry about that!", type: "server_error", code: null },
  503: { message: "The engine is currently overloaded, please try again later.", type: "server_error", code: null },
};

function errorBody(status: number, message?: string, code?: string | null): object {
  const base = ERROR_DEFAULTS[status] ?? { message: `Error ${status}`, type: "server_error", code: null };
  return { error: { message: message ?? base.message, type: base.type, param: null, code: code === undefined ? base.code : code } };
}

function maskKey(key: string): string {
  return key.length <= 8 ? "***" : `${key.slice(0, 3)}***${key.slice(-4)}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Splits text into pieces of `size` code units without cutting a surrogate pair. */
function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(text.length, i + Math.max(1, size));
    const code = text.charCodeAt(end - 1);
    if (end < text.length && code >= 0xd800 && code <= 0xdbff) end++;
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}

function lastUserText(body: ChatRequestBody): { text: string; images: number } {
  for (let i = body.messages.length - 1; i >= 0; i--) {
    const m = body.messages[i]!;
    if (m.role !== "user") continue;
    if (typeof m.content === "string") return { text: m.content, images: 0 };
    if (Array.isArray(m.content)) {
      const text = m.content
        .filter((p): p is { type: "text"; text: string } => isObject(p) && p.type === "text" && typeof p.text === "string")
        .map((p) => p.text)
        .join(" ");
      const images = m.content.filter((p) => isObject(p) && p.type === "image_url").length;
      return { text, images };
    }
  }
  return { text: "", images: 0 };
}

/** The default answer: deterministic, derived from the last user message. */
export function echoScript(body: ChatRequestBody): TextScript {
  const { text, images } = lastUserText(body);
  const suffix = images > 0 ? ` (with ${images} image${images > 1 ? "s" : ""})` : "";
  return { text: `You said: ${text}${suffix}` };
}

function estimatePromptTokens(body: ChatRequestBody): number {
  let tokens = 3;
  for (const m of body.messages) {
    tokens += 4;
    if (typeof m.content === "string") tokens += Math.ceil(m.content.length / 4);
    else if (Array.isArray(m.content)) {
      for (const part of m.content) {
        if (!isObject(part)) continue;
        if (part.type === "text" && typeof part.text === "string") tokens += Math.ceil(part.text.length / 4);
        if (part.type === "image_url") tokens += 85;
      }
    }
    if (m.tool_calls !== undefined) tokens += Math.ceil(JSON.stringify(m.tool_calls).length / 4);
  }
  return tokens;
}

/** OpenAI's own 400s for malformed conversations; the tool loop must never produce these. */
function validateChatBody(body: unknown): string | undefined {
  if (!isObject(body)) return "We could not parse the JSON body of your request.";
  if (typeof body.model !== "string" || body.model === "") return "you must provide a model parameter";
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.";
  }
  const pending = new Set<string>();
  let lastAssistantHadTools = false;
  for (let i = 0; i < body.messages.length; i++) {
    const m: unknown = body.messages[i];
    if (!isObject(m) || typeof m.role !== "string") return `Invalid value for 'messages[${i}]'.`;
    if (!["system", "developer", "user", "assistant", "tool"].includes(m.role)) {
      return `Invalid value: '${m.role}'. Supported values are: 'system', 'assistant', 'user', 'tool', 'developer'.`;
    }
    if (m.role === "tool") {
      if (!lastAssistantHadTools || typeof m.tool_call_id !== "string" || !pending.has(m.tool_call_id)) {
        return "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.";
      }
      pending.delete(m.tool_call_id);
      continue;
    }
    if (pending.size > 0) {
      return `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pending].join(", ")}`;
    }
    lastAssistantHadTools = false;
    if (m.role === "assistant" && Array.isArray(m.tool_calls) && m.tool_calls.length > 0) {
      lastAssistantHadTools = true;
      for (const call of m.tool_calls) if (isObject(call) && typeof call.id === "string") pending.add(call.id);
    } else if (m.content === undefined || m.content === null) {
      return `Invalid value for 'content': expected a string, got null.`;
    }
    if (Array.isArray(m.content)) {
      for (const part of m.content) {
        if (!isObject(part) || typeof part.type !== "string") return `Invalid content part in 'messages[${i}]'.`;
        if (part.type === "image_url") {
          const url = isObject(part.image_url) ? part.image_url.url : undefined;
          if (typeof url !== "string" || !/^(data:image\/[a-z+.-]+;base64,|https?:\/\/)/i.test(url)) {
            return `Invalid image URL in 'messages[${i}]': expected a base64 data URL or an http(s) URL.`;
          }
        }
      }
    }
  }
  if (pending.size > 0) {
    return `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pending].join(", ")}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------

export class OpenAIServer {
  readonly baseURL: string;
  readonly origin: string;
  readonly apiKey: string;
  readonly requests: RecordedRequest[] = [];
  /** "first-token" / "last-token" with `{ at: performance.now(), body }` as content chunks are written. */
  readonly events = new EventEmitter();

  private readonly queue: ChatScript[] = [];
  private readonly imageQueue: ImageScript[] = [];
  private defaultScript: (body: ChatRequestBody) => ChatScript = echoScript;
  private defaultImage: (body: Record<string, unknown>) => ImageScript = (body) => ({
    image: { bytes: solidPng(parseSize(body.size), typeof body.prompt === "string" ? body.prompt : "") },
  });
  private readonly files = new Map<string, { bytes: Uint8Array; contentType: string }>();
  private readonly stop = (() => {
    // Every stream in progress waits on it (60 at once in the flood benchmark): not a leak.
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    return controller;
  })();
  private nextId = 1;

  /** Use startOpenAIServer(). */
  constructor(
    private readonly server: Server,
    origin: string,
    opts: OpenAIServerOptions,
  ) {
    this.origin = origin;
    this.baseURL = `${origin}/v1`;
    this.apiKey = opts.apiKey ?? "sk-test";
  }

  /** Scripts for the next chat completion requests, used in order, one per request. */
  enqueue(...scripts: ChatScript[]): void {
    this.queue.push(...scripts);
  }

  /** Scripts for the next image generation requests. */
  enqueueImages(...scripts: ImageScript[]): void {
    this.imageQueue.push(...scripts);
  }

  /** What to answer when the queue is empty (default: echoScript). */
  setDefault(fn: (body: ChatRequestBody) => ChatScript): void {
    this.defaultScript = fn;
  }

  setImageDefault(fn: (body: Record<string, unknown>) => ImageScript): void {
    this.defaultImage = fn;
  }

  /** Scripts still queued (a test can assert all were used). */
  pending(): number {
    return this.queue.length;
  }

  /** Chat completion request bodies, oldest first. */
  chatRequests(): ChatRequestBody[] {
    return this.requests.filter((r) => r.path === "/v1/chat/completions").map((r) => r.body as ChatRequestBody);
  }

  /** Serves bytes at GET /files/<name>; returns the URL. */
  addFile(name: string, bytes: Uint8Array, contentType = "image/png"): string {
    this.files.set(name, { bytes, contentType });
    return `${this.origin}/files/${encodeURIComponent(name)}`;
  }

  async close(): Promise<void> {
    this.stop.abort();
    await closeServer(this.server);
  }

  // ---- HTTP ----------------------------------------------------------------------------------------------

  /** @internal */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.route(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody(500, `test server failure: ${String(err)}`));
      else res.destroy();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.origin);
    const raw = req.method === "POST" ? await readBody(req) : Buffer.alloc(0);
    if (req.method !== "POST") req.resume();
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        body = undefined;
      }
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    this.requests.push({ method: req.method ?? "GET", path: url.pathname, headers, body, at: Date.now() });

    const file = /^\/files\/(.+)$/.exec(url.pathname);
    if (file && req.method === "GET") {
      const stored = this.files.get(decodeURIComponent(file[1]!));
      if (!stored) return sendJson(res, 404, errorBody(404, "file not found", null));
      res.writeHead(200, { "content-type": stored.contentType, "content-length": stored.bytes.length });
      res.end(Buffer.from(stored.bytes));
      return;
    }
    const known =
      (req.method === "POST" && (url.pathname === "/v1/chat/completions" || url.pathname === "/v1/images/generations")) ||
      (req.method === "GET" && url.pathname === "/v1/models");
    if (!known) {
      return sendJson(res, 404, errorBody(404, `Invalid URL (${req.method} ${url.pathname})`, null));
    }
    const auth = headers.authorization ?? "";
    if (auth !== `Bearer ${this.apiKey}`) {
      const given = auth.startsWith("Bearer ") ? auth.slice(7) : "";
      const message = given
        ? `Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`
        : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
      return sendJson(res, 401, errorBody(401, message, given ? "invalid_api_key" : null));
    }
    if (url.pathname === "/v1/models") {
      return sendJson(res, 200, {
        object: "list",
        data: ["gpt-4o-mini", "gpt-4o", "gpt-image-1"].map((id) => ({ id, object: "model", created: 1700000000, owned_by: "system" })),
      });
    }
    if (url.pathname === "/v1/images/generations") return this.images(body, res);
    return this.chat(body, res);
  }

  // ---- chat completions ------------------------------------------------------------------------------------

  private async chat(rawBody: unknown, res: ServerResponse): Promise<void> {
    const invalid = validateChatBody(rawBody);
    if (invalid) return sendJson(res, 400, errorBody(400, invalid, null));
    const body = rawBody as ChatRequestBody;
    let script: ChatScript = this.queue.shift() ?? this.defaultScript(body);
    while (typeof script === "function") script = await script(body);

    if ("error" in script) {
      const { status, body: errBody, headers } = script.error;
      return sendJson(res, status, errBody ?? errorBody(status), headers);
    }
    const plan = toPlan(script);
    const model = plan.model ?? body.model;
    const id = `chatcmpl-test${String(this.nextId++).padStart(6, "0")}`;
    const created = Math.floor(Date.now() / 1000);
    const completionText = plan.text + plan.toolCalls.map((c) => c.name + c.arguments).join("");
    const promptTokens = plan.usage?.prompt_tokens ?? estimatePromptTokens(body);
    const completionTokens = plan.usage?.completion_tokens ?? Math.ceil(completionText.length / 4);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: plan.usage?.total_tokens ?? promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: plan.usage?.cached_tokens ?? 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    };
    const finishReason = plan.toolCalls.length > 0 ? "tool_calls" : plan.finishReason;
    if (plan.headersDelayMs > 0) {
      await this.sleep(plan.headersDelayMs);
      if (res.destroyed || this.stop.signal.aborted) return;
    }

    if (!body.stream) {
      if (plan.stallAfterChars !== undefined) await this.sleep(plan.stallMs);
      if (plan.cutAfterChars !== undefined) {
        res.destroy();
        return;
      }
      await this.sleep(plan.firstDelayMs);
      const completion: ChatCompletion = {
        id,
        object: "chat.completion",
        created,
        model,
        system_fingerprint: "fp_test",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: plan.toolCalls.length > 0 && plan.text === "" ? null : plan.text,
              refusal: null,
              ...(plan.toolCalls.length > 0
                ? { tool_calls: plan.toolCalls.map((c) => ({ id: c.id, type: "function" as const, function: { name: c.name, arguments: c.arguments } })) }
                : {}),
            },
            logprobs: null,
            finish_reason: finishReason,
          },
        ],
        usage,
      };
      return sendJson(res, 200, completion, { "x-request-id": id });
    }

    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-request-id": id,
    });
    res.flushHeaders();
    const write = (delta: ChatCompletionChunk.Choice.Delta, finish: ChatCompletionChunk.Choice["finish_reason"] = null) => {
      const chunk: ChatCompletionChunk = {
        id,
        object: "chat.completion.chunk",
        created,
        model,
        system_fingerprint: "fp_test",
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      };
      if (!res.destroyed) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    };
    const gone = () => res.destroyed || this.stop.signal.aborted;

    await this.sleep(plan.firstDelayMs);
    if (gone()) return;
    write({ role: "assistant", content: plan.text === "" && plan.toolCalls.length > 0 ? null : "", refusal: null });
    let sent = 0;
    let stalled = false;
    const textPieces = pieces(plan.text, plan.chunkSize);
    for (let i = 0; i < textPieces.length; i++) {
      let piece = textPieces[i]!;
      if (plan.cutAfterChars !== undefined && sent + piece.length >= plan.cutAfterChars) {
        piece = piece.slice(0, Math.max(0, plan.cutAfterChars - sent));
        if (piece) write({ content: piece });
        // Let the bytes reach the client before the connection dies mid-answer.
        await new Promise<void>((resolve) => res.write("", () => resolve()));
        res.destroy();
        return;
      }
      if (!stalled && plan.stallAfterChars !== undefined && sent + piece.length > plan.stallAfterChars) {
        const before = piece.slice(0, Math.max(0, plan.stallAfterChars - sent));
        if (before) write({ content: before });
        sent += before.length;
        piece = piece.slice(before.length);
        stalled = true;
        await this.sleep(plan.stallMs);
        if (gone()) return;
      }
      if (i > 0) await this.sleep(plan.delayMs);
      if (gone()) return;
      write({ content: piece });
      sent += piece.length;
      // Benchmarks time the bot from the model's first and last token.
      if (i === 0) this.events.emit("first-token", { at: performance.now(), body });
      if (i === textPieces.length - 1) this.events.emit("last-token", { at: performance.now(), body });
    }
    if (!stalled && plan.stallAfterChars !== undefined) {
      await this.sleep(plan.stallMs);
      if (gone()) return;
    }
    if (plan.cutAfterChars !== undefined) {
      res.destroy();
      return;
    }
    for (let index = 0; index < plan.toolCalls.length; index++) {
      const call = plan.toolCalls[index]!;
      write({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] });
      for (const fragment of pieces(call.arguments, plan.chunkSize)) {
        await this.sleep(plan.delayMs);
        if (gone()) return;
        write({ tool_calls: [{ index, function: { arguments: fragment } }] });
      }
    }
    write({}, finishReason);
    if (body.stream_options?.include_usage) {
      const usageChunk: ChatCompletionChunk = { id, object: "chat.completion.chunk", created, model, system_fingerprint: "fp_test", choices: [], usage };
      res.write(`data: ${JSON.stringify(usageChunk)}\n\n`);
    }
    res.end("data: [DONE]\n\n");
  }

  // ---- images ----------------------------------------------------------------------------------------------

  private async images(rawBody: unknown, res: ServerResponse): Promise<void> {
    if (!isObject(rawBody)) return sendJson(res, 400, errorBody(400, "We could not parse the JSON body of your request.", null));
    if (typeof rawBody.prompt !== "string" || rawBody.prompt.trim() === "") {
      return sendJson(res, 400, errorBody(400, "Invalid 'prompt': empty string.", "empty_string"));
    }
    let script: ImageScript = this.imageQueue.shift() ?? this.defaultImage(rawBody);
    while (typeof script === "function") script = await script(rawBody);
    if ("error" in script) {
      const { status, body, headers } = script.error;
      return sendJson(res, status, body ?? errorBody(status), headers);
    }
    if ("stallMs" in script) {
      await this.sleep(script.stallMs);
      script = this.defaultImage(rawBody);
      if (typeof script === "function" || !("image" in script)) throw new Error("the default image script must be an image");
    }
    const image = script.image;
    const datum: Record<string, unknown> = {};
    if (image.bytes) {
      const format = image.format ?? (rawBody.response_format === "url" ? "url" : "b64_json");
      if (format === "url") datum.url = this.addFile(`img-${this.nextId++}.png`, image.bytes);
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

  /** Sleeps, cut short when the server closes. */
  private sleep(ms: number | undefined): Promise<void> {
    if (!ms || ms <= 0 || this.stop.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.stop.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done);
    });
  }
}

interface Plan {
  text: string;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  chunkSize: number;
  delayMs: number;
  firstDelayMs: number;
  finishReason: FinishReason;
  usage?: UsageOverride;
  cutAfterChars?: number;
  stallAfterChars?: number;
  stallMs: number;
  headersDelayMs: number;
  model?: string;
}

let toolCallCounter = 1;

function toPlan(script: TextScript | ToolCallScript | StallScript): Plan {
  if ("toolCalls" in script) {
    return {
      text: script.text ?? "",
      toolCalls: script.toolCalls.map((c) => ({ id: c.id ?? `call_test${toolCallCounter++}`, name: c.name, arguments: c.arguments })),
      chunkSize: script.chunkSize ?? 4,
      delayMs: script.delayMs ?? 0,
      firstDelayMs: script.firstDelayMs ?? 0,
      finishReason: "stop",
      usage: script.usage,
      stallMs: 0,
      headersDelayMs: 0,
      model: script.model,
    };
  }
  if (!("text" in script)) {
    const base = { text: "", toolCalls: [], chunkSize: 4, delayMs: 0, firstDelayMs: 0, finishReason: "stop" as const };
    return script.beforeHeaders
      ? { ...base, stallMs: 0, headersDelayMs: script.stallMs }
      : { ...base, stallAfterChars: 0, stallMs: script.stallMs, headersDelayMs: 0 };
  }
  return {
    text: script.text,
    toolCalls: [],
    chunkSize: script.chunkSize ?? 4,
    delayMs: script.delayMs ?? 0,
    firstDelayMs: script.firstDelayMs ?? 0,
    finishReason: script.finishReason ?? "stop",
    usage: script.usage,
    cutAfterChars: script.cutAfterChars,
    stallAfterChars: script.stallAfterChars,
    stallMs: script.stallMs ?? 0,
    headersDelayMs: 0,
    model: script.model,
  };
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

/** Starts the fake OpenAI API on 127.0.0.1 with a random port; `baseURL` ends in /v1. */
export async function startOpenAIServer(opts: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  return startFake((server, origin) => new OpenAIServer(server, origin, opts));
}
