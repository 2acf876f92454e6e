/**
 * The chat engine: one streamed Chat Completions call, or a bounded loop of them when the model calls tools.
 * It yields answer text as it arrives, a short status while tools run, and the usage of every call; it throws
 * ModelError for every way a call can fail, so callers tell the user one clear thing.
 */
import type OpenAI from "openai";
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionToolChoiceOption,
} from "openai/resources/chat/completions";
import type { Logger } from "../util/logger.js";
import { APIError } from "openai";
import { ModelError, toModelError } from "./errors.js";
import { ToolCallAccumulator } from "./tool-calls.js";
import { runToolCall, toOpenAITools, type Tool, type Translate } from "./tools/tool.js";

export type ChatEvent =
  | { type: "text"; delta: string }
  | { type: "status"; text: string }
  | { type: "usage"; model: string; promptTokens: number; completionTokens: number; cachedTokens: number }
  | { type: "finish"; reason: string };

export interface ChatRequest {
  model: string;
  messages: ChatCompletionMessageParam[];
  maxTokens: number;
  signal?: AbortSignal;
  tools?: Tool[];
  /** "required" forces a tool call in the first round (e.g. /weather); later rounds are "auto". */
  toolChoice?: "auto" | "required";
  /** The chat's language, for tools (e.g. place names). */
  language?: string;
  /** The bot's texts in the chat's language, for tool statuses; without it no status is shown. */
  translate?: Translate;
  /** Called before every model call after the first (tool rounds): may throw to stop, e.g. a spent budget. */
  beforeCall?: (round: number) => Promise<void>;
}

export interface ChatEngineOptions {
  openai: OpenAI;
  /** A call that yields no chunk for this long is abandoned as timed out. */
  idleTimeoutMs: number;
  /** Most model calls in one answer when tools are involved. */
  maxToolRounds?: number;
  log?: Logger;
}

export class ChatEngine {
  private readonly maxToolRounds: number;
  private readonly compat: Compat = { maxTokensField: "max_completion_tokens", streamUsage: true, tools: true };

  constructor(private readonly opts: ChatEngineOptions) {
    this.maxToolRounds = opts.maxToolRounds ?? 4;
  }

  async *stream(req: ChatRequest): AsyncGenerator<ChatEvent, void, undefined> {
    const messages = [...req.messages];
    const tools = req.tools ?? [];
    // The end of the text yielded so far: a round's text that follows an earlier round's ("Let me check." then the
    // answer) starts a new paragraph instead of running on in the same sentence.
    let shownTail = "";
    for (let round = 0; ; round++) {
      const lastRound = round >= this.maxToolRounds;
      const toolChoice: ChatCompletionToolChoiceOption | undefined =
        tools.length === 0 ? undefined : lastRound ? "none" : round === 0 && req.toolChoice === "required" ? "required" : "auto";
      const calls = new ToolCallAccumulator();
      let content = "";
      if (round > 0) await req.beforeCall?.(round);
      for await (const event of this.call(req, messages, tools, toolChoice, calls)) {
        if (event.type === "text") {
          if (content === "" && shownTail.trim() !== "" && !shownTail.endsWith("\n\n")) {
            yield { type: "text", delta: shownTail.endsWith("\n") ? "\n" : "\n\n" };
          }
          content += event.delta;
          shownTail = (shownTail + event.delta).slice(-2);
        }
        yield event;
      }
      if (calls.size === 0) return;
      if (lastRound) {
        // Told "none" and still only calling tools: without this the user would get no answer and no note at all.
        if (!content.trim()) throw new ModelError("bad_request", `the model kept calling tools after ${round} rounds`);
        return;
      }

      const toolCalls = calls.calls();
      messages.push({
        role: "assistant",
        content: content || null,
        tool_calls: toolCalls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } })),
      });
      const statuses = toolCalls
        .map((c) => statusFor(tools, c, req.translate))
        .filter((s): s is string => Boolean(s));
      if (statuses.length > 0) yield { type: "status", text: statuses.join("\n") };
      const signal = req.signal ?? new AbortController().signal;
      // Several calls in one answer run in parallel (e.g. the weather in three cities).
      // A stop abandons the round at once: a tool that does not heed its signal is not waited for.
      const results = await untilAborted(
        Promise.all(toolCalls.map((c) => runToolCall(tools, c, { signal, language: req.language, log: this.opts.log }))),
        signal,
      );
      if (req.signal?.aborted) throw toModelError(req.signal.reason, { aborted: true });
      toolCalls.forEach((c, i) => messages.push({ role: "tool", tool_call_id: c.id, content: results[i]!.content }));
    }
  }

  /** Starts the stream, stepping down to what an older compatible server accepts when it names a field it refuses. */
  private async create(
    req: ChatRequest,
    messages: ChatCompletionMessageParam[],
    tools: Tool[],
    toolChoice: ChatCompletionToolChoiceOption | undefined,
    signal: AbortSignal,
  ) {
    for (let attempt = 0; ; attempt++) {
      const { maxTokensField, streamUsage } = this.compat;
      const withTools = tools.length > 0 && this.compat.tools;
      try {
        return await this.opts.openai.chat.completions.create(
          {
            model: req.model,
            messages,
            stream: true,
            ...(streamUsage ? { stream_options: { include_usage: true } } : {}),
            ...(maxTokensField === "max_tokens" ? { max_tokens: req.maxTokens } : { max_completion_tokens: req.maxTokens }),
            ...(withTools ? { tools: toOpenAITools(tools), tool_choice: toolChoice } : {}),
          },
          { signal },
        );
      } catch (err) {
        const field = refusedField(err);
        if (!field || attempt >= 3) throw err;
        if (field === "maxTokensField") {
          if (maxTokensField === "max_tokens") throw err;
          this.compat.maxTokensField = "max_tokens";
        } else if (field === "streamUsage") {
          if (!streamUsage) throw err;
          this.compat.streamUsage = false;
        } else {
          if (!withTools) throw err;
          this.compat.tools = false;
        }
        this.opts.log?.warn({ field }, "the model server refused a request field; leaving it out from now on");
      }
    }
  }

  /** One streamed call. Yields text and usage; fills `calls` with the tool calls the model made. */
  private async *call(
    req: ChatRequest,
    messages: ChatCompletionMessageParam[],
    tools: Tool[],
    toolChoice: ChatCompletionToolChoiceOption | undefined,
    calls: ToolCallAccumulator,
  ): AsyncGenerator<ChatEvent, void, undefined> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(req.signal?.reason);
    req.signal?.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new ModelError("timeout", "the model did not answer in time"));
      }, this.opts.idleTimeoutMs);
    };
    let finish: string | null = null;
    try {
      if (req.signal?.aborted) throw toModelError(req.signal.reason, { aborted: true });
      arm();
      const stream = await this.create(req, messages, tools, toolChoice, controller.signal);
      for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
        arm();
        const choice = chunk.choices[0];
        if (choice) {
          const delta = choice.delta;
          if (delta?.content) yield { type: "text", delta: delta.content };
          if (delta?.tool_calls) calls.add(delta.tool_calls);
          if (choice.finish_reason) finish = choice.finish_reason;
        }
        if (chunk.usage) {
          yield {
            type: "usage",
            model: chunk.model || req.model,
            promptTokens: chunk.usage.prompt_tokens,
            completionTokens: chunk.usage.completion_tokens,
            cachedTokens: chunk.usage.prompt_tokens_details?.cached_tokens ?? 0,
          };
        }
      }
    } catch (err) {
      throw toModelError(err, { timedOut, aborted: req.signal?.aborted });
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener("abort", onAbort);
    }
    // An aborted stream may end the iteration quietly instead of throwing: say why it ended.
    if (timedOut) throw new ModelError("timeout", "the model did not answer in time");
    if (req.signal?.aborted) throw toModelError(req.signal.reason, { aborted: true });
    // A stream that ends without a finish reason was cut (the SDK ends the iteration silently when the socket closes).
    if (finish === null) throw new ModelError("interrupted", "the answer stream ended before the model finished");
    if (finish === "content_filter") throw new ModelError("refused", "the answer was stopped by the content filter");
    yield { type: "finish", reason: finish };
  }
}

/**
 * Request fields that not every OpenAI-compatible server knows. A server that refuses one by name (400) gets the
 * request again without it, and this engine leaves it out from then on.
 */
interface Compat {
  /** Older servers know only max_tokens (deprecated at OpenAI, refused by its reasoning models). */
  maxTokensField: "max_completion_tokens" | "max_tokens";
  streamUsage: boolean;
  tools: boolean;
}

function refusedField(err: unknown): keyof Compat | undefined {
  if (!(err instanceof APIError) || err.status !== 400) return undefined;
  const text = `${err.message} ${JSON.stringify(err.error ?? "")}`;
  if (/max_completion_tokens/.test(text)) return "maxTokensField";
  if (/stream_options|include_usage/.test(text)) return "streamUsage";
  if (/\btools?\b|tool_choice|function/i.test(text) && /not support|unsupported|unrecognized|unknown|extra/i.test(text)) return "tools";
  return undefined;
}

/** `work`, or the signal's reason as a ModelError as soon as it aborts (the work goes on unobserved). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(toModelError(signal.reason, { aborted: true }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(toModelError(signal.reason, { aborted: true }));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function statusFor(tools: Tool[], call: { name: string; arguments: string }, translate?: Translate): string | undefined {
  const tool = tools.find((t) => t.name === call.name);
  if (!tool?.status || !translate) return undefined;
  try {
    const args = tool.schema.safeParse(JSON.parse(call.arguments || "{}"));
    return args.success ? tool.status(args.data, translate) : undefined;
  } catch {
    return undefined;
  }
}
