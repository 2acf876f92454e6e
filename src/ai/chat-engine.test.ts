import OpenAI from "openai";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAIServer, StreamGate, type OpenAIServer } from "../../test/servers/openai.js";
import { ChatEngine, type ChatEvent } from "./chat-engine.js";
import { defineTool } from "./tools/tool.js";

let server: OpenAIServer;
let engine: ChatEngine;
beforeAll(async () => {
  server = await startOpenAIServer();
  engine = new ChatEngine({ openai: new OpenAI({ apiKey: server.apiKey, baseURL: server.baseURL, maxRetries: 0 }), idleTimeoutMs: 10_000 });
});
afterAll(() => server.close());

const ask = [{ role: "user" as const, content: "hi" }];

/** Reads the stream until `stopWhen` says so, then aborts; returns what was read and how the stream ended. */
async function readThenStop(events: AsyncIterable<ChatEvent>, controller: AbortController, stopWhen: (e: ChatEvent) => boolean) {
  const seen: ChatEvent[] = [];
  try {
    for await (const event of events) {
      seen.push(event);
      if (stopWhen(event)) controller.abort(new Error("stopped by the user"));
    }
    return { seen, error: undefined };
  } catch (error) {
    return { seen, error };
  }
}

describe("ChatEngine stopped by its signal", () => {
  it("closes the model's HTTP stream at once, mid-answer, and says it was aborted", async () => {
    const gate = new StreamGate();
    server.enqueue({ text: "one two three four five six seven", chunkSize: 4, hold: gate, holdAfterChars: 8 });
    const controller = new AbortController();
    const started = performance.now();
    const { seen, error } = await readThenStop(
      engine.stream({ model: "m", messages: ask, maxTokens: 100, signal: controller.signal }),
      controller,
      (e) => e.type === "text" && e.delta.includes("two"),
    );
    const record = await server.lastChatStream()!.ended;
    expect(error).toMatchObject({ name: "ModelError", kind: "aborted" });
    expect(seen.filter((e) => e.type === "text").map((e) => (e as { delta: string }).delta).join("")).toBe("one two ");
    // Not read to the end: the server saw the client close, before the gate let the rest through.
    expect(record).toMatchObject({ aborted: true, completed: false, text: "one two " });
    expect(record.abortedAt! - started).toBeLessThan(5_000);
    gate.release();
  });

  it("abandons a tool round in flight: a tool that ignores its signal is not waited for", async () => {
    server.enqueue({ toolCalls: [{ name: "slow", arguments: "{}" }] });
    let ran = false;
    const controller = new AbortController();
    const slow = defineTool({
      name: "slow",
      description: "never answers",
      schema: z.object({}),
      timeoutMs: 60_000,
      status: () => "working…",
      // Ignores the signal on purpose; the user stops the answer while it runs.
      run: () => {
        ran = true;
        setTimeout(() => controller.abort(new Error("stopped by the user")), 20);
        return new Promise(() => undefined);
      },
    });
    const requests = server.chatRequests().length;
    const { error } = await readThenStop(
      engine.stream({ model: "m", messages: ask, maxTokens: 100, signal: controller.signal, tools: [slow], translate: (k) => k }),
      controller,
      () => false,
    );
    expect(ran).toBe(true);
    expect(error).toMatchObject({ name: "ModelError", kind: "aborted" });
    // No further model call after the abandoned round.
    expect(server.chatRequests().length - requests).toBe(1);
  });
});
