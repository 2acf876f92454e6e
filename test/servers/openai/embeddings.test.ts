// POST /v1/embeddings through the real openai SDK: shapes, both encodings, the deterministic vectors' nearness, usage
// counted with the real tokenizer, and OpenAI's errors.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { countTokens, encode } from "gpt-tokenizer/encoding/cl100k_base";
import { cosineSimilarity, embedText, embeddingWords, startOpenAIServer, StreamGate, type OpenAIServer } from "../openai.js";

let server: OpenAIServer;
let client: OpenAI;

beforeEach(async () => {
  server = await startOpenAIServer();
  client = new OpenAI({ apiKey: server.apiKey, baseURL: server.baseURL, maxRetries: 0 });
});

afterEach(async () => {
  await server.close();
});

const CHUNKS = [
  "The lighthouse keeper on Skerryvore logged every storm in a leather journal from 1844 onwards.",
  "Sourdough bread needs a starter of flour and water, fed daily, and a long cold proof in the fridge.",
  "Quarterly revenue grew eleven percent, driven by subscriptions in the Nordic markets.",
  "2022年1月10号到13号，俄罗斯分别与美国和北约开展对话。",
  "美国国防部宣布：将向欧洲增派部队，应对边境地区的紧张局势。",
];

describe("embeddings", () => {
  it("answers one unit vector per input, 1536 floats for text-embedding-3-small, decoded from base64 by the SDK", async () => {
    const answer = await client.embeddings.create({ model: "text-embedding-3-small", input: CHUNKS });
    // The SDK asked for base64 and decoded it.
    expect((server.embeddingRequests()[0] as { encoding_format?: string }).encoding_format).toBe("base64");
    expect(answer.object).toBe("list");
    expect(answer.model).toBe("text-embedding-3-small");
    expect(answer.data.map((d) => [d.object, d.index, d.embedding.length])).toEqual(CHUNKS.map((_, i) => ["embedding", i, 1536]));
    for (const { embedding } of answer.data) {
      expect(Math.hypot(...embedding)).toBeCloseTo(1, 5);
    }
    expect(answer.data[2]!.embedding).toEqual(embedText(CHUNKS[2]!));
    expect(answer.usage).toEqual({
      prompt_tokens: CHUNKS.reduce((n, c) => n + countTokens(c), 0),
      total_tokens: CHUNKS.reduce((n, c) => n + countTokens(c), 0),
    });
  });

  it("gives the same numbers as floats when the client asks for float", async () => {
    const [viaBase64, viaFloat] = await Promise.all([
      client.embeddings.create({ model: "text-embedding-3-small", input: CHUNKS[0]! }),
      client.embeddings.create({ model: "text-embedding-3-small", input: CHUNKS[0]!, encoding_format: "float" }),
    ]);
    expect(viaFloat.data[0]!.embedding).toEqual(viaBase64.data[0]!.embedding);
    const raw = await fetch(`${server.baseURL}/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "text-embedding-3-small", input: "x", encoding_format: "base64" }),
    });
    const body = (await raw.json()) as { data: Array<{ embedding: unknown }> };
    expect(typeof body.data[0]!.embedding).toBe("string");
    expect(Buffer.from(body.data[0]!.embedding as string, "base64").length).toBe(1536 * 4);
  });

  it("makes the chunk that shares the question's rare words the nearest, in English and in Chinese", async () => {
    const { data } = await client.embeddings.create({ model: "text-embedding-3-small", input: CHUNKS });
    const nearest = async (question: string) => {
      const [q] = (await client.embeddings.create({ model: "text-embedding-3-small", input: question })).data;
      const scores = data.map((d) => cosineSimilarity(q!.embedding, d.embedding));
      return scores.indexOf(Math.max(...scores));
    };
    expect(await nearest("What did the Skerryvore lighthouse keeper write in his journal?")).toBe(0);
    expect(await nearest("How long should sourdough proof?")).toBe(1);
    expect(await nearest("Which markets drove subscription revenue?")).toBe(2);
    expect(await nearest("俄罗斯和北约什么时候开展对话？")).toBe(3);
    expect(await nearest("美国向欧洲增派部队了吗？")).toBe(4);
    // Unrelated texts are near orthogonal; a text is identical to itself.
    expect(Math.abs(cosineSimilarity(data[0]!.embedding, data[1]!.embedding))).toBeLessThan(0.15);
    expect(cosineSimilarity(embedText(CHUNKS[1]!), data[1]!.embedding)).toBeCloseTo(1, 6);
  });

  it("splits words as documented: stop words out, plural and possessive folded, Chinese by dictionary", () => {
    expect(embeddingWords("The cats' owner's Cats and the dog")).toEqual(["cat", "owner", "cat", "dog"]);
    expect(embeddingWords("俄罗斯分别与美国和北约开展对话")).toEqual(["俄罗斯", "分别", "美国", "北约", "开展", "对话"]);
    expect(embedText("!!!")).toHaveLength(1536);
    expect(embedText("!!!")).not.toEqual(embedText("???"));
  });

  it("shortens vectors with `dimensions` as text-embedding-3 does: a re-normalised prefix", async () => {
    for (const dimensions of [256, 512, 1024]) {
      const { data } = await client.embeddings.create({ model: "text-embedding-3-small", input: CHUNKS[0]!, dimensions });
      expect(data[0]!.embedding).toHaveLength(dimensions);
      expect(Math.hypot(...data[0]!.embedding)).toBeCloseTo(1, 5);
      const full = embedText(CHUNKS[0]!);
      expect(cosineSimilarity(data[0]!.embedding, full.slice(0, dimensions))).toBeCloseTo(1, 5);
    }
    const large = await client.embeddings.create({ model: "text-embedding-3-large", input: "x" });
    expect(large.data[0]!.embedding).toHaveLength(3072);
    await expect(client.embeddings.create({ model: "text-embedding-ada-002", input: "x", dimensions: 256 })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("does not support specifying dimensions"),
    });
    await expect(client.embeddings.create({ model: "text-embedding-3-small", input: "x", dimensions: 2000 })).rejects.toMatchObject({
      status: 400,
      param: "dimensions",
    });
  });

  it("takes token arrays and embeds the text they decode to", async () => {
    const tokens = encode(CHUNKS[0]!);
    const one = await client.embeddings.create({ model: "text-embedding-3-small", input: tokens });
    expect(one.data[0]!.embedding).toEqual(embedText(CHUNKS[0]!));
    expect(one.usage.prompt_tokens).toBe(tokens.length);
    const two = await client.embeddings.create({ model: "text-embedding-3-small", input: [tokens, encode("hello")] });
    expect(two.data).toHaveLength(2);
    await expect(client.embeddings.create({ model: "text-embedding-3-small", input: [-1, 5] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it("refuses what OpenAI refuses", async () => {
    const refused = (input: Parameters<typeof client.embeddings.create>[0]) => client.embeddings.create(input).catch((e: unknown) => e);
    const empty = await refused({ model: "text-embedding-3-small", input: "" });
    expect(empty).toBeInstanceOf(OpenAI.BadRequestError);
    expect((empty as Error).message).toContain("'$.input' is invalid");
    expect(await refused({ model: "text-embedding-3-small", input: ["ok", ""] })).toBeInstanceOf(OpenAI.BadRequestError);
    expect(await refused({ model: "text-embedding-3-small", input: [] })).toBeInstanceOf(OpenAI.BadRequestError);

    const long = "lighthouse ".repeat(8200);
    expect(countTokens(long)).toBeGreaterThan(8192);
    const tooLong = await refused({ model: "text-embedding-3-small", input: long });
    expect(tooLong).toMatchObject({ status: 400, message: expect.stringContaining("maximum context length is 8192 tokens") });

    const tooMany = await refused({ model: "text-embedding-3-small", input: Array.from({ length: 2049 }, (_, i) => `item ${i}`) });
    expect(tooMany).toMatchObject({ status: 400, code: "array_above_max_length", param: "input" });

    const item = "hello ".repeat(8000);
    expect(countTokens(item)).toBeLessThanOrEqual(8192);
    const overTotal = await refused({ model: "text-embedding-3-small", input: Array.from({ length: 38 }, () => item) });
    expect(overTotal).toMatchObject({ status: 400, message: expect.stringContaining("max 300000 tokens per request") });

    expect(await refused({ model: "text-embedding-4-tiny", input: "x" })).toMatchObject({ status: 404, code: "model_not_found" });
    const wrongKey = new OpenAI({ apiKey: "sk-wrong-key-1234", baseURL: server.baseURL, maxRetries: 0 });
    await expect(wrongKey.embeddings.create({ model: "text-embedding-3-small", input: "x" })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("fails, delays or holds on script, then answers normally", async () => {
    server.enqueueEmbeddings({ error: { status: 429, headers: { "retry-after-ms": "10" } } }, { error: { status: 500 } });
    await expect(client.embeddings.create({ model: "text-embedding-3-small", input: "x" })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await expect(client.embeddings.create({ model: "text-embedding-3-small", input: "x" })).rejects.toBeInstanceOf(OpenAI.InternalServerError);

    const gate = new StreamGate();
    server.enqueueEmbeddings({ hold: gate });
    let done = false;
    const held = client.embeddings.create({ model: "text-embedding-3-small", input: "x" }).then((r) => {
      done = true;
      return r;
    });
    await gate.reached;
    expect(done).toBe(false);
    gate.release();
    expect((await held).data[0]!.embedding).toHaveLength(1536);

    server.enqueueEmbeddings({ delayMs: 50 });
    const started = Date.now();
    await client.embeddings.create({ model: "text-embedding-3-small", input: "x" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(server.embeddingRequests()).toHaveLength(4);
  });

  it("accepts extra embedding models given at start", async () => {
    const custom = await startOpenAIServer({ embeddingModels: { "local-embed": 384 } });
    try {
      const c = new OpenAI({ apiKey: custom.apiKey, baseURL: custom.baseURL, maxRetries: 0 });
      const { data } = await c.embeddings.create({ model: "local-embed", input: "hello there" });
      expect(data[0]!.embedding).toHaveLength(384);
    } finally {
      await custom.close();
    }
  });
});
