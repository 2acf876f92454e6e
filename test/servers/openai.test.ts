import { afterEach, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { imageSize } from "image-size";
import { startOpenAIServer, type OpenAIServer } from "./openai.js";

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

describe("chat completions", () => {
  it("streams a text script chunk by chunk with a usage chunk at the end", async () => {
    server.enqueue({ text: "Hello, world! 😀", chunkSize: 5, usage: { prompt_tokens: 11, cached_tokens: 3 } });
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: ask("hi"),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(chunks[0]!.choices[0]!.delta).toMatchObject({ role: "assistant", content: "" });
    const contents = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? "")).filter(Boolean);
    // The emoji is one surrogate pair: never split across chunks.
    expect(contents).toEqual(["Hello", ", wor", "ld! 😀"]);
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish?.choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 4, total_tokens: 15, prompt_tokens_details: { cached_tokens: 3 } });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.model === "gpt-4o-mini")).toBe(true);
  });

  it("records exactly what was sent, including image data", async () => {
    const image = "data:image/png;base64,iVBORw0KGgo=";
    const answer = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "What is it?" }, { type: "image_url", image_url: { url: image, detail: "low" } }] },
      ],
    });
    expect(answer.object).toBe("chat.completion");
    expect(answer.choices[0]!.message.content).toBe("You said: What is it? (with 1 image)");
    expect(answer.usage!.prompt_tokens).toBeGreaterThan(85);
    const [request] = server.requests;
    expect(request!.headers.authorization).toBe(`Bearer ${server.apiKey}`);
    expect(server.chatRequests()[0]!.messages[1]!.content).toEqual([
      { type: "text", text: "What is it?" },
      { type: "image_url", image_url: { url: image, detail: "low" } },
    ]);
  });

  it("streams tool calls as deltas that the SDK assembles", async () => {
    server.enqueue({
      toolCalls: [
        { id: "call_weather", name: "get_weather", arguments: JSON.stringify({ city: "Berlin" }) },
        { name: "get_time", arguments: "{}" },
      ],
      chunkSize: 3,
    });
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("weather?"), stream: true });
    const deltas = [];
    for await (const chunk of stream) deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
    expect(deltas[0]).toEqual({ index: 0, id: "call_weather", type: "function", function: { name: "get_weather", arguments: "" } });
    expect(deltas.filter((d) => d.index === 0 && d.id === undefined).length).toBeGreaterThan(2);

    server.enqueue({ toolCalls: [{ id: "call_weather", name: "get_weather", arguments: '{"city":"Berlin"}' }] });
    const runner = client.chat.completions.stream({ model: "gpt-4o-mini", messages: ask("weather?") });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    expect(final.choices[0]!.message.tool_calls).toEqual([
      expect.objectContaining({ id: "call_weather", type: "function", function: { name: "get_weather", arguments: '{"city":"Berlin"}' } }),
    ]);
  });

  it("refuses a tool message that answers no tool call, and unanswered tool calls", async () => {
    const orphan = client.chat.completions.create({
      model: "m",
      messages: [...ask("x"), { role: "tool", tool_call_id: "call_1", content: "{}" }],
    });
    await expect(orphan).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/role 'tool' must be a response/) });
    const unanswered = client.chat.completions.create({
      model: "m",
      messages: [
        ...ask("x"),
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: "{}" } }] },
        ...ask("y"),
      ],
    });
    await expect(unanswered).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/call_1/) });
  });

  it("answers 401 with OpenAI's error shape for a wrong key", async () => {
    const wrong = new OpenAI({ apiKey: "sk-wrong-key-1234", baseURL: server.baseURL, maxRetries: 0 });
    const err = await wrong.chat.completions.create({ model: "m", messages: ask("x") }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err).toMatchObject({ status: 401, code: "invalid_api_key", type: "invalid_request_error" });
    expect((err as Error).message).not.toContain("sk-wrong-key-1234");
  });

  it("serves scripted errors; the SDK retries a 429 honouring retry-after", async () => {
    server.enqueue({ error: { status: 429, headers: { "retry-after-ms": "50" } } }, { text: "after retry" });
    const retrying = new OpenAI({ apiKey: server.apiKey, baseURL: server.baseURL, maxRetries: 1 });
    const answer = await retrying.chat.completions.create({ model: "m", messages: ask("x") });
    expect(answer.choices[0]!.message.content).toBe("after retry");
    expect(server.chatRequests()).toHaveLength(2);

    server.enqueue({ error: { status: 503 } });
    await expect(client.chat.completions.create({ model: "m", messages: ask("x") })).rejects.toBeInstanceOf(OpenAI.InternalServerError);
  });

  it("a stream cut mid-answer throws from the iteration after the partial text (no finish_reason)", async () => {
    server.enqueue({ text: "This answer will be cut off", cutAfterChars: 10, chunkSize: 4 });
    const stream = await client.chat.completions.create({ model: "m", messages: ask("x"), stream: true });
    let text = "";
    let finish: string | null | undefined;
    const err = await (async () => {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        finish ??= chunk.choices[0]?.finish_reason;
      }
    })().catch((e: unknown) => e);
    expect(text).toBe("This answe");
    expect(finish).toBeFalsy();
    // Observed with openai 6.x on Node 20: undici's `TypeError: terminated` (cause: SocketError "other side
    // closed"), not an OpenAI APIError subclass.
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toBe("terminated");
    expect(err).not.toBeInstanceOf(OpenAI.APIError);
  });

  it("a stall after the headers is not covered by the SDK timeout; one before the headers is", async () => {
    const impatient = new OpenAI({ apiKey: server.apiKey, baseURL: server.baseURL, maxRetries: 0, timeout: 300 });
    server.enqueue({ text: "slow answer", stallAfterChars: 4, stallMs: 700 });
    const started = Date.now();
    const stream = await impatient.chat.completions.create({ model: "m", messages: ask("x"), stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("slow answer");
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);

    server.enqueue({ stallMs: 2000, beforeHeaders: true });
    const timedOut = impatient.chat.completions.create({ model: "m", messages: ask("x"), stream: true });
    await expect(timedOut).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });

  it("aborting a stream through its signal ends the iteration silently", async () => {
    server.enqueue({ text: "abcdefghijklmnop", chunkSize: 2, delayMs: 60 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ model: "m", messages: ask("x"), stream: true }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 150);
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan(16);
    expect(controller.signal.aborted).toBe(true);
  });

  it("uses function scripts and the default, and 404s unknown paths", async () => {
    server.setDefault((body) => ({ text: `model=${body.model}` }));
    server.enqueue((body) => ({ text: `messages=${body.messages.length}` }));
    const first = await client.chat.completions.create({ model: "a", messages: ask("x") });
    const second = await client.chat.completions.create({ model: "b", messages: ask("x") });
    expect([first.choices[0]!.message.content, second.choices[0]!.message.content]).toEqual(["messages=1", "model=b"]);
    const res = await fetch(`${server.baseURL}/nope`, { method: "POST" });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { type: "invalid_request_error" } });
  });
});

describe("images", () => {
  it("generates a real PNG as b64_json by default, or a URL served by this server", async () => {
    const b64 = await client.images.generate({ model: "gpt-image-1", prompt: "a red cat", size: "1024x1536" });
    const bytes = Buffer.from(b64.data![0]!.b64_json!, "base64");
    expect(imageSize(bytes)).toMatchObject({ width: 1024, height: 1536, type: "png" });

    server.enqueueImages({ image: { bytes: new Uint8Array(bytes), format: "url" } });
    const byUrl = await client.images.generate({ model: "dall-e-3", prompt: "a cat" });
    const url = byUrl.data![0]!.url!;
    expect(url.startsWith(`http://127.0.0.1:`)).toBe(true);
    const download = await fetch(url);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(bytes);

    server.enqueueImages({ error: { status: 400, body: { error: { message: "Your request was rejected by the safety system.", type: "image_generation_user_error", param: null, code: "moderation_blocked" } } } });
    await expect(client.images.generate({ model: "gpt-image-1", prompt: "bad" })).rejects.toMatchObject({ status: 400, code: "moderation_blocked" });
  });
});
