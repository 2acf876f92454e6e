/**
 * POST /v1/chat/completions of the OpenAI test server: scripted answers streamed as real SSE (or one JSON body), with
 * OpenAI's 400s for malformed conversations, and a record of every request's fate (completed, cut by the script, or
 * closed by the client early, and when).
 *
 * Stricter than OpenAI: the conversation rules the real API enforces (tool messages answer a preceding tool call,
 * every tool call is answered, content present, image URLs well-formed) are all checked, in one place. Looser: any
 * model name is accepted, sampling parameters are ignored.
 *
 * Token usage: unless a script gives numbers, prompt_tokens is estimated as 3 + Σ(4 + ceil(chars/4)) over the
 * messages' text (+85 per image part) and completion_tokens as ceil(chars/4) of the answer text and tool-call
 * names+arguments. Rough on purpose: exact counting is the bot's job (gpt-tokenizer), not this server's.
 */
import type { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import type { ChatCompletion, ChatCompletionChunk } from "openai/resources/chat/completions";
import { sendJson } from "../http-util.js";
import { errorBody, isObject } from "./errors.js";
import { ResponseLife, type StreamGate } from "./lifetime.js";

// ---------------------------------------------------------------------------------------------------------------
// Public types

/** Usage numbers a script imposes instead of the server's estimates. */
export interface UsageOverride {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  cached_tokens?: number;
}

/** finish_reason of a text answer (tool-call answers always finish with "tool_calls"). */
export type FinishReason = "stop" | "length" | "content_filter";

/** Where a script waits for a {@link StreamGate}: "stall until released". */
export interface HoldOptions {
  /** The gate the answer waits at; `gate.reached` resolves when it gets there. */
  hold?: StreamGate;
  /**
   * Where: after this many characters (UTF-16 code units) of content, then of tool-call arguments, have been written.
   * Default 0: right after the first chunk (`role: "assistant"`), so the SDK already holds the stream. Infinity: after
   * all content and tool calls, before the finish chunk.
   */
  holdAfterChars?: number;
  /** Wait before even sending the headers instead (the SDK's create() is still pending). */
  holdBeforeHeaders?: boolean;
}

/** A text answer, streamed in chunks, with optional pauses, stalls, a cut or a gate. */
export interface TextScript extends HoldOptions {
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

/** An answer that calls tools (arguments streamed in pieces, as OpenAI does). */
export interface ToolCallScript extends HoldOptions {
  toolCalls: Array<{ id?: string; name: string; arguments: string }>;
  /** Optional content streamed before the tool calls. */
  text?: string;
  chunkSize?: number;
  delayMs?: number;
  firstDelayMs?: number;
  usage?: UsageOverride;
  model?: string;
}

/** An HTTP error answer (body defaults to OpenAI's for the status). */
export interface ErrorScript {
  error: { status: number; body?: object; headers?: Record<string, string> };
}

/** Headers (200, event-stream) and then silence for stallMs; afterwards an empty answer ends the stream. */
export interface StallScript {
  stallMs: number;
  /** Stay silent before even sending the headers (the SDK's `timeout` covers only this phase). */
  beforeHeaders?: boolean;
}

/** Any scripted chat answer. */
export type ChatScriptObject = TextScript | ToolCallScript | ErrorScript | StallScript;
/** A scripted chat answer, or a function of the request that makes one. */
export type ChatScript = ChatScriptObject | ((body: ChatRequestBody) => ChatScript | Promise<ChatScript>);

/** The parsed body of a chat completion request (loosely typed: tests assert on what the bot really sent). */
export interface ChatRequestBody {
  model: string;
  messages: Array<{ role: string; content?: unknown; tool_calls?: unknown; tool_call_id?: string; name?: string }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: unknown[];
  [key: string]: unknown;
}

/**
 * What happened to one chat completion request, filled in as it is answered. Times are `performance.now()` of the
 * test process (the server runs in-process), so a test can compare them with its own `performance.now()`.
 */
export interface ChatStreamRecord {
  /** The completion id (`chatcmpl-…`), also sent as `x-request-id`. */
  readonly id: string;
  readonly body: ChatRequestBody;
  /** True for `stream: true` requests. */
  readonly stream: boolean;
  /** What the script made of it; "rejected" is OpenAI's 400 for a malformed conversation. */
  kind: "text" | "tool_calls" | "error" | "stall" | "rejected";
  /** When the request was routed here. */
  readonly startedAt: number;
  /** SSE `data:` events written (role, content, tool-call, finish and usage chunks; not `[DONE]`). */
  chunks: number;
  /** Content written so far. */
  text: string;
  /** Tool calls whose first delta was written, with the argument text written so far. */
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  /** The whole answer reached the socket (`[DONE]`, or the whole JSON body). */
  completed: boolean;
  /** The client closed the connection before the answer's end: the HTTP stream was not read to the end. */
  aborted: boolean;
  /** The script cut the connection on purpose (cutAfterChars). */
  cut: boolean;
  /** When the server saw the client's close (only when aborted). */
  abortedAt?: number;
  /** When the response ended, whichever way. */
  endedAt?: number;
  /** Resolves with this record once the response has ended, whichever way. */
  readonly ended: Promise<ChatStreamRecord>;
}

/** The default answer: deterministic, derived from the last user message. */
export function echoScript(body: ChatRequestBody): TextScript {
  const { text, images } = lastUserText(body);
  const suffix = images > 0 ? ` (with ${images} image${images > 1 ? "s" : ""})` : "";
  return { text: `You said: ${text}${suffix}` };
}

// ---------------------------------------------------------------------------------------------------------------

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
// The plan: a script reduced to what gets written, and the points where the stream pauses, waits or is cut.

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
  hold?: StreamGate;
  holdAfterChars: number;
  holdBeforeHeaders: boolean;
  model?: string;
}

let toolCallCounter = 1;

function toPlan(script: TextScript | ToolCallScript | StallScript): Plan {
  const base = { stallMs: 0, headersDelayMs: 0, holdAfterChars: 0, holdBeforeHeaders: false };
  if ("toolCalls" in script) {
    return {
      ...base,
      text: script.text ?? "",
      toolCalls: script.toolCalls.map((c) => ({ id: c.id ?? `call_test${toolCallCounter++}`, name: c.name, arguments: c.arguments })),
      chunkSize: script.chunkSize ?? 4,
      delayMs: script.delayMs ?? 0,
      firstDelayMs: script.firstDelayMs ?? 0,
      finishReason: "stop",
      usage: script.usage,
      hold: script.hold,
      holdAfterChars: script.holdAfterChars ?? 0,
      holdBeforeHeaders: script.holdBeforeHeaders ?? false,
      model: script.model,
    };
  }
  if (!("text" in script)) {
    const empty = { ...base, text: "", toolCalls: [], chunkSize: 4, delayMs: 0, firstDelayMs: 0, finishReason: "stop" as const };
    return script.beforeHeaders
      ? { ...empty, headersDelayMs: script.stallMs }
      : { ...empty, stallAfterChars: 0, stallMs: script.stallMs };
  }
  return {
    ...base,
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
    hold: script.hold,
    holdAfterChars: script.holdAfterChars ?? 0,
    holdBeforeHeaders: script.holdBeforeHeaders ?? false,
    model: script.model,
  };
}

/** One SSE chunk's worth of answer: a content piece, the first delta of a tool call, or a piece of its arguments. */
type Piece =
  | { kind: "content"; text: string }
  | { kind: "tool-start"; index: number; id: string; name: string }
  | { kind: "tool-args"; index: number; text: string };

/** A place in the answer (counted in characters of content, then arguments) where something happens. */
interface Stop {
  at: number;
  kind: "stall" | "hold" | "cut";
}

function piecesOf(plan: Plan): Piece[] {
  const out: Piece[] = pieces(plan.text, plan.chunkSize).map((text) => ({ kind: "content", text }));
  plan.toolCalls.forEach((call, index) => {
    out.push({ kind: "tool-start", index, id: call.id, name: call.name });
    for (const text of pieces(call.arguments, plan.chunkSize)) out.push({ kind: "tool-args", index, text });
  });
  return out;
}

function stopsOf(plan: Plan): Stop[] {
  const stops: Stop[] = [];
  if (plan.stallAfterChars !== undefined) stops.push({ at: plan.stallAfterChars, kind: "stall" });
  if (plan.hold && !plan.holdBeforeHeaders) stops.push({ at: plan.holdAfterChars, kind: "hold" });
  if (plan.cutAfterChars !== undefined) stops.push({ at: plan.cutAfterChars, kind: "cut" });
  // At one place: wait first, cut last.
  const order = { stall: 0, hold: 1, cut: 2 };
  return stops.sort((a, b) => a.at - b.at || order[a.kind] - order[b.kind]);
}

// ---------------------------------------------------------------------------------------------------------------

/** What the chat endpoint needs from the server that owns it. */
export interface ChatContext {
  readonly stop: AbortSignal;
  readonly events: EventEmitter;
  nextId(): number;
}

/** The chat completions endpoint: script queue, default answer, and the per-request records. */
export class ChatEndpoint {
  readonly queue: ChatScript[] = [];
  defaultScript: (body: ChatRequestBody) => ChatScript = echoScript;
  readonly records: ChatStreamRecord[] = [];

  constructor(private readonly ctx: ChatContext) {}

  async handle(rawBody: unknown, res: ServerResponse): Promise<void> {
    const life = new ResponseLife(res, this.ctx.stop);
    const invalid = validateChatBody(rawBody);
    const body = (isObject(rawBody) ? rawBody : { model: "", messages: [] }) as ChatRequestBody;
    const record = this.startRecord(body, res, life);
    if (invalid) {
      record.kind = "rejected";
      return sendJson(res, 400, errorBody(400, invalid, null));
    }
    let script: ChatScript = this.queue.shift() ?? this.defaultScript(body);
    while (typeof script === "function") script = await script(body);

    if ("error" in script) {
      record.kind = "error";
      const { status, body: errBody, headers } = script.error;
      return sendJson(res, status, errBody ?? errorBody(status), headers);
    }
    record.kind = "toolCalls" in script ? "tool_calls" : "text" in script ? "text" : "stall";
    const plan = toPlan(script);
    const model = plan.model ?? body.model;
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
    await life.sleep(plan.headersDelayMs);
    if (plan.hold && plan.holdBeforeHeaders) await life.hold(plan.hold);
    if (life.gone) return;

    if (!body.stream) {
      if (plan.stallAfterChars !== undefined) await life.sleep(plan.stallMs);
      if (plan.hold && !plan.holdBeforeHeaders) await life.hold(plan.hold);
      if (plan.cutAfterChars !== undefined) {
        record.cut = true;
        res.destroy();
        return;
      }
      await life.sleep(plan.firstDelayMs);
      if (life.gone) return;
      const completion: ChatCompletion = {
        id: record.id,
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
      record.text = plan.text;
      record.toolCalls = plan.toolCalls.map((c) => ({ ...c }));
      return sendJson(res, 200, completion, { "x-request-id": record.id });
    }

    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-request-id": record.id,
    });
    res.flushHeaders();
    const send = (chunk: ChatCompletionChunk) => {
      if (life.gone) return;
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      record.chunks++;
    };
    const write = (delta: ChatCompletionChunk.Choice.Delta, finish: ChatCompletionChunk.Choice["finish_reason"] = null) =>
      send({
        id: record.id,
        object: "chat.completion.chunk",
        created,
        model,
        system_fingerprint: "fp_test",
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      });

    await life.sleep(plan.firstDelayMs);
    if (life.gone) return;
    write({ role: "assistant", content: plan.text === "" && plan.toolCalls.length > 0 ? null : "", refusal: null });

    const queue = piecesOf(plan);
    const stops = stopsOf(plan);
    let position = 0;
    let written = 0;
    /** Runs the stops at the current position; false when the response is over (cut or gone). */
    const runStops = async (): Promise<boolean> => {
      while (stops.length > 0 && stops[0]!.at <= position) {
        const stop = stops.shift()!;
        if (stop.kind === "stall") await life.sleep(plan.stallMs);
        if (stop.kind === "hold") {
          await life.flushed();
          await life.hold(plan.hold!);
        }
        if (stop.kind === "cut") {
          // Let the bytes reach the client before the connection dies mid-answer.
          await life.flushed();
          record.cut = true;
          res.destroy();
          return false;
        }
        if (life.gone) return false;
      }
      return true;
    };

    while (queue.length > 0) {
      if (!(await runStops())) return;
      let piece = queue.shift()!;
      if (piece.kind !== "tool-start") {
        // Split a piece that runs past the next stop so the stop happens exactly there.
        const next = stops[0];
        if (next && next.at > position && next.at < position + piece.text.length) {
          const keep = next.at - position;
          queue.unshift({ ...piece, text: piece.text.slice(keep) });
          piece = { ...piece, text: piece.text.slice(0, keep) };
        }
      }
      if (written > 0 && piece.kind !== "tool-start") await life.sleep(plan.delayMs);
      if (life.gone) return;
      if (piece.kind === "content") {
        write({ content: piece.text });
        record.text += piece.text;
        position += piece.text.length;
        // Benchmarks time the bot from the model's first and last token.
        if (record.text.length === piece.text.length) this.ctx.events.emit("first-token", { at: performance.now(), body });
        if (record.text.length === plan.text.length) this.ctx.events.emit("last-token", { at: performance.now(), body });
      } else if (piece.kind === "tool-start") {
        write({ tool_calls: [{ index: piece.index, id: piece.id, type: "function", function: { name: piece.name, arguments: "" } }] });
        record.toolCalls.push({ id: piece.id, name: piece.name, arguments: "" });
      } else {
        write({ tool_calls: [{ index: piece.index, function: { arguments: piece.text } }] });
        record.toolCalls[piece.index]!.arguments += piece.text;
        position += piece.text.length;
      }
      written++;
    }
    position = Infinity;
    if (!(await runStops())) return;
    write({}, finishReason);
    if (body.stream_options?.include_usage) {
      send({ id: record.id, object: "chat.completion.chunk", created, model, system_fingerprint: "fp_test", choices: [], usage });
    }
    if (!life.gone) res.end("data: [DONE]\n\n");
  }

  private startRecord(body: ChatRequestBody, res: ServerResponse, life: ResponseLife): ChatStreamRecord {
    let settle!: (record: ChatStreamRecord) => void;
    const record: ChatStreamRecord = {
      id: `chatcmpl-test${String(this.ctx.nextId()).padStart(6, "0")}`,
      body,
      stream: body.stream === true,
      kind: "text",
      startedAt: performance.now(),
      chunks: 0,
      text: "",
      toolCalls: [],
      completed: false,
      aborted: false,
      cut: false,
      ended: new Promise((resolve) => (settle = resolve)),
    };
    this.records.push(record);
    res.once("finish", () => {
      record.completed = true;
    });
    res.once("close", () => {
      record.endedAt = life.closedAt ?? performance.now();
      // Closed before everything was written, not by the script and not by the server's own close(): the client.
      if (!res.writableFinished && !record.cut && !this.ctx.stop.aborted) {
        record.aborted = true;
        record.abortedAt = record.endedAt;
      }
      this.ctx.events.emit("chat-end", record);
      settle(record);
    });
    this.ctx.events.emit("chat-start", record);
    return record;
  }
}
