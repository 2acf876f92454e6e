// The chat endpoint's record of each request's fate, and gates that hold an answer until released: through the real
// openai SDK over real HTTP.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { startOpenAIServer, StreamGate, type OpenAIServer } from "../openai.js";

let server: OpenAIServer;
let client: OpenAI;

const ask = (content: string) => [{ role: "user" as const, content }];

beforeEach(async () => {
  server = await startOpenAIServer();
  client = new OpenAI({ apiKey: server.apiKey, baseURL: server.baseURL, maxRetries: 0 });
});

afterEach(async () => {
  await server.close();
});

describe("chat stream records", () => {
  it("a stream read to its end is completed, not aborted, with every chunk counted", async () => {
    server.enqueue({ text: "abcdefgh", chunkSize: 3 });
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: ask("hi"),
      stream: true,
      stream_options: { include_usage: true },
    });
    let received = 0;
    for await (const chunk of stream) received += chunk.object === "chat.completion.chunk" ? 1 : 0;
    const record = await server.lastChatStream()!.ended;
    expect(record).toMatchObject({ kind: "text", stream: true, completed: true, aborted: false, cut: false, text: "abcdefgh" });
    // role, "abc", "def", "gh", finish, usage
    expect(record.chunks).toBe(6);
    expect(received).toBe(6);
    expect(record.abortedAt).toBeUndefined();
    expect(record.endedAt).toBeGreaterThanOrEqual(record.startedAt);
    expect(record.id).toMatch(/^chatcmpl-test/);
  });

  it("a client that stops mid-answer leaves an aborted record: the text written before the close, and when", async () => {
    const gate = new StreamGate();
    server.enqueue({ text: "0123456789abcdefghij", chunkSize: 2, hold: gate, holdAfterChars: 6 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ model: "m", messages: ask("x"), stream: true }, { signal: controller.signal });
    let text = "";
    let stoppedAt = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      // Stop once the client has read everything before the gate (the server is now waiting there).
      if (text === "012345") {
        await gate.reached;
        stoppedAt = performance.now();
        controller.abort();
      }
    }
    const record = await server.lastChatStream()!.ended;

    expect(record.aborted).toBe(true);
    expect(record.completed).toBe(false);
    expect(record.text).toBe("012345");
    expect(text).toBe("012345");
    // role + three content chunks; no finish chunk was ever written
    expect(record.chunks).toBe(4);
    expect(record.abortedAt).toBeGreaterThanOrEqual(stoppedAt);
    expect(record.endedAt).toBe(record.abortedAt);
    // Listed among the streams closed early by the client (a completed one never is).
    expect(server.abortedChatStreams().at(-1)).toBe(record);
    expect(server.abortedChatStreams().every((r) => r.aborted && !r.completed)).toBe(true);
    // Releasing the gate afterwards writes nothing more.
    gate.release();
    expect(record.text).toBe("012345");
  });

  it("breaking out of the SDK's iteration also closes the HTTP stream", async () => {
    const gate = new StreamGate();
    server.enqueue({ text: "first second third", chunkSize: 6, hold: gate, holdAfterChars: 6 });
    const stream = await client.chat.completions.create({ model: "m", messages: ask("x"), stream: true });
    const ended = server.lastChatStream()!.ended;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) break;
    }
    const record = await ended;
    expect(record).toMatchObject({ aborted: true, completed: false, text: "first " });
    expect(gate.isReached).toBe(true);
  });

  it("a released gate lets the answer go on to the end", async () => {
    const gate = new StreamGate();
    server.enqueue({ text: "held answer", hold: gate, holdAfterChars: 4 });
    const stream = await client.chat.completions.create({ model: "m", messages: ask("x"), stream: true });
    let text = "";
    const reading = (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })();
    await gate.reached;
    expect(server.lastChatStream()!.text).toBe("held");
    gate.release();
    await reading;
    expect(text).toBe("held answer");
    expect(await server.lastChatStream()!.ended).toMatchObject({ completed: true, aborted: false });
  });

  it("holdAfterChars: Infinity holds after the whole answer, before the finish chunk", async () => {
    const gate = new StreamGate();
    server.enqueue({ toolCalls: [{ id: "call_t", name: "get_time", arguments: "{}" }], hold: gate, holdAfterChars: Infinity });
    const runner = client.chat.completions.stream({ model: "m", messages: ask("time?") });
    const final = runner.finalChatCompletion();
    await gate.reached;
    const record = server.lastChatStream()!;
    expect(record.toolCalls).toEqual([{ id: "call_t", name: "get_time", arguments: "{}" }]);
    expect(record.completed).toBe(false);
    gate.release();
    expect((await final).choices[0]!.finish_reason).toBe("tool_calls");
    expect(await record.ended).toMatchObject({ completed: true, aborted: false });
  });

  it("an abandoned tool-call round shows the tool call written so far and no finish", async () => {
    const gate = new StreamGate();
    const args = JSON.stringify({ city: "Berlin", days: 3 });
    server.enqueue({ toolCalls: [{ id: "call_w", name: "get_weather", arguments: args }], chunkSize: 5, hold: gate, holdAfterChars: 10 });
    const controller = new AbortController();
    const runner = client.chat.completions.stream({ model: "m", messages: ask("weather?") }, { signal: controller.signal });
    const settled = runner.finalChatCompletion().catch((e: unknown) => e);
    await gate.reached;
    controller.abort();
    expect(await settled).toBeInstanceOf(OpenAI.APIUserAbortError);
    const record = await server.lastChatStream()!.ended;
    expect(record).toMatchObject({ kind: "tool_calls", aborted: true, completed: false });
    expect(record.toolCalls).toEqual([{ id: "call_w", name: "get_weather", arguments: args.slice(0, 10) }]);
  });

  it("a gate before the headers keeps create() pending; aborting then leaves a record with nothing written", async () => {
    const gate = new StreamGate();
    server.enqueue({ text: "never sent", hold: gate, holdBeforeHeaders: true });
    const controller = new AbortController();
    const next = server.nextChatStream();
    const creating = client.chat.completions.create({ model: "m", messages: ask("x"), stream: true }, { signal: controller.signal });
    const started = await next;
    await gate.reached;
    controller.abort();
    await expect(creating).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    const record = await started.ended;
    expect(record).toMatchObject({ aborted: true, completed: false, chunks: 0, text: "" });
  });

  it("non-streamed requests are recorded too: completed, or aborted while held", async () => {
    await client.chat.completions.create({ model: "m", messages: ask("plain") });
    expect(await server.lastChatStream()!.ended).toMatchObject({ stream: false, completed: true, aborted: false, text: "You said: plain" });

    const gate = new StreamGate();
    server.enqueue({ text: "slow", hold: gate });
    const controller = new AbortController();
    const pending = client.chat.completions.create({ model: "m", messages: ask("x") }, { signal: controller.signal });
    await gate.reached;
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(await server.lastChatStream()!.ended).toMatchObject({ stream: false, aborted: true, completed: false });
  });

  it("a script's own cut, a rejected conversation and a scripted error are not client aborts", async () => {
    server.enqueue({ text: "cut here please", cutAfterChars: 4 }, { error: { status: 500 } });
    const stream = await client.chat.completions.create({ model: "m", messages: ask("x"), stream: true });
    await (async () => {
      for await (const _ of stream) void _;
    })().catch(() => undefined);
    await expect(client.chat.completions.create({ model: "m", messages: ask("x") })).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await expect(client.chat.completions.create({ model: "m", messages: [] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    const records = await Promise.all(server.chatStreams().map((r) => r.ended));
    expect(records.map((r) => [r.kind, r.cut, r.aborted, r.completed])).toEqual([
      ["text", true, false, false],
      ["error", false, false, true],
      ["rejected", false, false, true],
    ]);
    expect(records[0]!.text).toBe("cut ");
  });

  it("closing the server ends held streams without calling them client aborts", async () => {
    const gate = new StreamGate();
    server.enqueue({ text: "held until close", hold: gate, holdAfterChars: 4 });
    const stream = await client.chat.completions.create({ model: "m", messages: ask("x"), stream: true });
    const reading = (async () => {
      for await (const _ of stream) void _;
    })().catch((e: unknown) => e);
    await gate.reached;
    const record = server.lastChatStream()!;
    await server.close();
    await reading;
    expect(await record.ended).toMatchObject({ aborted: false, completed: false, text: "held" });
    server = await startOpenAIServer();
  });

  it("emits chat-start and chat-end with the record", async () => {
    const seen: string[] = [];
    server.events.on("chat-start", () => seen.push("start"));
    server.events.on("chat-end", (record: { completed: boolean }) => seen.push(`end:${record.completed}`));
    await client.chat.completions.create({ model: "m", messages: ask("x") });
    await server.lastChatStream()!.ended;
    expect(seen).toEqual(["start", "end:true"]);
  });
});
