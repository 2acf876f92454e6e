import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { defineTool, runToolCall, toOpenAITools, ToolError, type Tool } from "./tool.js";

const echo = defineTool({
  name: "echo",
  description: "Echoes the text n times.",
  schema: z.object({
    text: z.string().min(1).describe("What to echo"),
    times: z.number().int().min(1).max(5).default(1),
  }),
  run({ text, times }) {
    return Promise.resolve({ echoed: Array.from({ length: times }, () => text).join(" ") });
  },
  status: ({ text }) => `Echoing ${text}…`,
});

const noArgs = defineTool({
  name: "now",
  description: "A fixed moment.",
  schema: z.object({}),
  run() {
    return Promise.resolve("2026-11-25T00:00:00Z");
  },
});

function ctx(signal = new AbortController().signal) {
  return { signal, log: { warn: vi.fn() } };
}

const call = (name: string, args: string) => ({ id: "call_1", name, arguments: args });

describe("toOpenAITools", () => {
  it("produces function tools with an object schema OpenAI accepts", () => {
    const tools = toOpenAITools([echo, noArgs]);
    expect(tools).toEqual([
      {
        type: "function",
        function: {
          name: "echo",
          description: "Echoes the text n times.",
          parameters: {
            type: "object",
            properties: {
              text: { type: "string", minLength: 1, description: "What to echo" },
              times: { type: "integer", minimum: 1, maximum: 5, default: 1 },
            },
            required: ["text"],
          },
        },
      },
      {
        type: "function",
        function: { name: "now", description: "A fixed moment.", parameters: { type: "object", properties: {}, required: [] } },
      },
    ]);
    expect(JSON.stringify(tools)).not.toContain("$schema");
  });

  it("refuses a schema that is not an object", () => {
    const bad = defineTool({ name: "bad", description: "", schema: z.string(), run: () => Promise.resolve(null) });
    expect(() => toOpenAITools([bad as Tool])).toThrow(/zod object/);
  });
});

describe("runToolCall", () => {
  it("runs a tool with parsed, defaulted arguments and returns JSON", async () => {
    expect(await runToolCall([echo], call("echo", '{"text":"hi","times":2}'), ctx())).toEqual({
      ok: true,
      content: '{"echoed":"hi hi"}',
    });
    expect(await runToolCall([echo], call("echo", '{"text":"hi"}'), ctx())).toEqual({ ok: true, content: '{"echoed":"hi"}' });
  });

  it("accepts empty arguments for a tool without parameters", async () => {
    expect(await runToolCall([noArgs], call("now", ""), ctx())).toEqual({ ok: true, content: '"2026-11-25T00:00:00Z"' });
  });

  it("reports an unknown tool with the names that exist", async () => {
    const result = await runToolCall([echo, noArgs], call("get_stock_price", "{}"), ctx());
    expect(result.ok).toBe(false);
    expect(JSON.parse(result.content)).toEqual({ error: 'Unknown tool "get_stock_price".', available: ["echo", "now"] });
  });

  it("reports arguments that are not JSON", async () => {
    const result = await runToolCall([echo], call("echo", '{"text": "hi"'), ctx());
    expect(result).toEqual({ ok: false, content: JSON.stringify({ error: "Arguments for echo are not valid JSON." }) });
  });

  it("reports schema failures briefly, with the path of each issue", async () => {
    const result = await runToolCall([echo], call("echo", '{"text":"","times":9}'), ctx());
    expect(result.ok).toBe(false);
    const { error } = JSON.parse(result.content) as { error: string };
    expect(error).toMatch(/^Invalid arguments for echo: text: .+; times: .+$/);
    expect(error.length).toBeLessThan(300);
    const root = await runToolCall([echo], call("echo", "[1,2]"), ctx());
    expect((JSON.parse(root.content) as { error: string }).error).toMatch(/^Invalid arguments for echo: \(arguments\): /);
  });

  it("shows a ToolError's message but hides other errors, logging them", async () => {
    const failing = (err: Error) =>
      defineTool({ name: "f", description: "", schema: z.object({}), run: async () => Promise.reject(err) });
    const shown = await runToolCall([failing(new ToolError("The service is down."))], call("f", "{}"), ctx());
    expect(shown).toEqual({ ok: false, content: JSON.stringify({ error: "The service is down." }) });

    const c = ctx();
    const hidden = await runToolCall([failing(new Error("connect to https://x.test/?token=SECRET failed"))], call("f", "{}"), c);
    expect(hidden).toEqual({ ok: false, content: JSON.stringify({ error: "f failed unexpectedly." }) });
    expect(c.log.warn).toHaveBeenCalledOnce();
  });

  it("catches a tool that throws synchronously or returns something unserialisable", async () => {
    const sync = { name: "s", description: "", schema: z.object({}), run: () => { throw new Error("boom"); } } as unknown as Tool;
    expect((await runToolCall([sync], call("s", "{}"), ctx())).ok).toBe(false);
    const cyclic = defineTool({
      name: "c",
      description: "",
      schema: z.object({}),
      run: () => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return Promise.resolve(o);
      },
    });
    expect(await runToolCall([cyclic], call("c", "{}"), ctx())).toEqual({
      ok: false,
      content: JSON.stringify({ error: "c failed unexpectedly." }),
    });
  });

  it("gives up on a tool that outlives its timeout, aborting its signal", async () => {
    let seen: AbortSignal | undefined;
    const stuck = defineTool({
      name: "stuck",
      description: "",
      schema: z.object({}),
      timeoutMs: 50,
      run: (_args, { signal }) => {
        seen = signal;
        return new Promise(() => undefined); // ignores its signal
      },
    });
    const result = await runToolCall([stuck], call("stuck", "{}"), ctx());
    expect(result).toEqual({ ok: false, content: JSON.stringify({ error: "stuck did not answer within 50 ms. Try again later." }) });
    expect(seen?.aborted).toBe(true);
  });

  it("stops when the caller cancels, and does not start when already cancelled", async () => {
    const controller = new AbortController();
    let started = 0;
    const slow = defineTool({
      name: "slow",
      description: "",
      schema: z.object({}),
      run: () => {
        started++;
        return new Promise(() => undefined);
      },
    });
    const pending = runToolCall([slow], call("slow", "{}"), ctx(controller.signal));
    setTimeout(() => controller.abort(), 20);
    expect(await pending).toEqual({ ok: false, content: JSON.stringify({ error: "Cancelled." }) });
    expect(await runToolCall([slow], call("slow", "{}"), ctx(controller.signal))).toEqual({
      ok: false,
      content: JSON.stringify({ error: "Cancelled." }),
    });
    expect(started).toBe(1);
  });

  it("types status() from the schema", () => {
    expect(echo.status?.({ text: "x", times: 1 }, (key) => key)).toBe("Echoing x…");
  });
});
