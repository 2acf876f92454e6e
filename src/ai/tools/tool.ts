import { z } from "zod";
import type { ChatCompletionFunctionTool } from "openai/resources/chat/completions";

/** What a running tool may use: the cancellation signal of the answer it belongs to, the user's language, a logger. */
/** The bot's own texts in the chat's language (Fluent keys, see locales/). */
export type Translate = (key: string, vars?: Record<string, string | number>) => string;

export interface ToolContext {
  signal: AbortSignal;
  language?: string;
  log?: { warn(obj: object, msg?: string): void };
}

export interface Tool<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  schema: S;
  /** Resolves to a JSON-serialisable result the model reads. Throw a ToolError for a failure the model may see. */
  run(args: z.infer<S>, ctx: ToolContext): Promise<unknown>;
  /** Short status shown while it runs, e.g. "Checking the weather in Tokyo…", written with the bot's translations. */
  status?(args: z.infer<S>, t: Translate): string;
  /** Upper bound for one run; runToolCall gives up after it. Default DEFAULT_TOOL_TIMEOUT_MS. */
  timeoutMs?: number;
}

export const DEFAULT_TOOL_TIMEOUT_MS = 20_000;

/**
 * An error whose message is safe to show to the model (and so to the user): no secrets, no URLs with tokens.
 * Any other error thrown by a tool is logged and reported to the model only as "failed unexpectedly".
 */
export class ToolError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ToolError";
  }
}

/** Identity function that ties `run` and `status` argument types to the schema. */
export function defineTool<S extends z.ZodType>(tool: Tool<S>): Tool<S> {
  return tool;
}

const SAFE_INT_LIMITS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/** Drops what the model does not need: $schema, and the safe-integer bounds zod adds to every .int(). */
function tidySchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidySchema);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$schema") continue;
    if ((key === "minimum" || key === "maximum") && typeof value === "number" && SAFE_INT_LIMITS.has(value)) continue;
    out[key] = tidySchema(value);
  }
  return out;
}

/** JSON schema of a tool's arguments as OpenAI expects it: always an object with properties and required. */
export function toolParameters(schema: z.ZodType): Record<string, unknown> {
  // io "input": the model writes the input side, so fields with defaults are optional for it.
  const json = tidySchema(z.toJSONSchema(schema, { io: "input", unrepresentable: "any" })) as Record<string, unknown>;
  if (json.type !== "object") {
    throw new Error(`Tool arguments must be a zod object schema, got ${JSON.stringify(json.type ?? "unknown")}`);
  }
  return { ...json, properties: json.properties ?? {}, required: json.required ?? [] };
}

export function toOpenAITools(tools: Tool[]): ChatCompletionFunctionTool[] {
  return tools.map((tool) => ({
    type: "function",
    function: { name: tool.name, description: tool.description, parameters: toolParameters(tool.schema) },
  }));
}

export interface ToolCallResult {
  /** JSON text for the `tool` message. */
  content: string;
  ok: boolean;
}

const MAX_ISSUES = 5;
const MAX_ERROR_LENGTH = 500;

function failure(error: string, extra?: Record<string, unknown>): ToolCallResult {
  const message = error.length > MAX_ERROR_LENGTH ? `${error.slice(0, MAX_ERROR_LENGTH - 1)}…` : error;
  return { ok: false, content: JSON.stringify({ error: message, ...extra }) };
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.slice(0, MAX_ISSUES).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join(".") : "(arguments)";
    return `${path}: ${issue.message}`;
  });
  if (issues.length > MAX_ISSUES) lines.push(`…and ${issues.length - MAX_ISSUES} more`);
  return lines.join("; ");
}

class ToolTimeout extends Error {}

/**
 * Runs one tool call the model asked for. Never throws: every failure becomes `{ ok: false }` with a JSON
 * `{ "error": "..." }` the model can read and react to (retry with fixed arguments, or tell the user).
 */
export async function runToolCall(
  tools: Tool[],
  call: { id: string; name: string; arguments: string },
  ctx: ToolContext,
): Promise<ToolCallResult> {
  const tool = tools.find((t) => t.name === call.name);
  if (!tool) {
    return failure(`Unknown tool "${call.name}".`, { available: tools.map((t) => t.name) });
  }

  let raw: unknown;
  // Models send "" for a call without arguments.
  const text = call.arguments.trim() === "" ? "{}" : call.arguments;
  try {
    raw = JSON.parse(text);
  } catch {
    return failure(`Arguments for ${tool.name} are not valid JSON.`);
  }
  const parsed = tool.schema.safeParse(raw);
  if (!parsed.success) {
    return failure(`Invalid arguments for ${tool.name}: ${describeIssues(parsed.error.issues)}`);
  }

  if (ctx.signal.aborted) return failure("Cancelled.");
  const timeoutMs = tool.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
  const timeout = new AbortController();
  const signal = AbortSignal.any([ctx.signal, timeout.signal]);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    // Race the run against the deadline and the caller's signal: a tool that ignores its signal must not hang us.
    const stop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const reason = new ToolTimeout(`${tool.name} timed out`);
        timeout.abort(reason);
        reject(reason);
      }, timeoutMs);
      onAbort = () => reject(ctx.signal.reason);
      ctx.signal.addEventListener("abort", onAbort, { once: true });
    });
    const running = (async () => tool.run(parsed.data, { ...ctx, signal }))();
    // If the deadline wins, a late rejection of the run must not become an unhandled rejection.
    running.catch(() => undefined);
    const result = await Promise.race([running, stop]);
    const content = JSON.stringify(result ?? null);
    return { ok: true, content };
  } catch (err) {
    if (ctx.signal.aborted) return failure("Cancelled.");
    if (err instanceof ToolTimeout || timeout.signal.aborted) {
      const limit = timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 100) / 10} s`;
      return failure(`${tool.name} did not answer within ${limit}. Try again later.`);
    }
    if (err instanceof ToolError) return failure(err.message);
    ctx.log?.warn({ err, tool: tool.name, callId: call.id }, "tool failed");
    return failure(`${tool.name} failed unexpectedly.`);
  } finally {
    clearTimeout(timer);
    if (onAbort) ctx.signal.removeEventListener("abort", onAbort);
  }
}
