import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embedText, startOpenAIServer, type OpenAIServer } from "../../test/servers/openai.js";
import { Embedder, planBatches } from "./embeddings.js";
import { ModelError } from "./errors.js";

let server: OpenAIServer;
let embedder: Embedder;
beforeAll(async () => {
  server = await startOpenAIServer();
  embedder = new Embedder({ openai: new OpenAI({ apiKey: server.apiKey, baseURL: server.baseURL, maxRetries: 0 }), model: "text-embedding-3-small" });
});
afterAll(async () => {
  await server.close();
});

describe("Embedder", () => {
  it("embeds a batch in one request, vectors in input order, with the server's token count", async () => {
    const before = server.embeddingRequests().length;
    const result = await embedder.embed(["puffins on the ledges", "copper lantern", "grey seals"]);
    expect(server.embeddingRequests().length - before).toBe(1);
    expect(server.embeddingRequests().at(-1)).toMatchObject({ model: "text-embedding-3-small", input: ["puffins on the ledges", "copper lantern", "grey seals"] });
    expect(result.vectors).toHaveLength(3);
    expect(Array.from(result.vectors[1]!)).toEqual(embedText("copper lantern"));
    expect(result).toMatchObject({ model: "text-embedding-3-small", promptTokens: expect.any(Number) });
    expect(result.promptTokens).toBeGreaterThan(5);
  });

  it("turns a failed call into a ModelError", async () => {
    server.enqueueEmbeddings({ error: { status: 429 } });
    await expect(embedder.embed(["x"])).rejects.toMatchObject({ name: "ModelError", kind: "rate_limit" });
    const unknown = new Embedder({ openai: new OpenAI({ apiKey: server.apiKey, baseURL: server.baseURL, maxRetries: 0 }), model: "no-such-model" });
    await expect(unknown.embed(["x"])).rejects.toBeInstanceOf(ModelError);
  });
});

describe("planBatches", () => {
  it("cuts at the input and token limits, never leaving an input out", () => {
    expect(planBatches([10, 10, 10, 10, 10], { maxInputs: 2, maxTokens: 1000 })).toEqual([[0, 2], [2, 4], [4, 5]]);
    expect(planBatches([40, 40, 40, 40], { maxInputs: 100, maxTokens: 100 })).toEqual([[0, 2], [2, 4]]);
    expect(planBatches([500], { maxInputs: 10, maxTokens: 100 })).toEqual([[0, 1]]);
    expect(planBatches([], { maxInputs: 10, maxTokens: 100 })).toEqual([]);
  });
});
