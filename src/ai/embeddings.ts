/**
 * Embeddings (OPENAI_EMBEDDING_MODEL, default text-embedding-3-small) through the openai SDK at OPENAI_BASE_URL.
 * One call embeds one batch; planBatches cuts a document's chunks into batches within the API's limits (2,048 inputs,
 * 300,000 tokens a request) with room to spare, so a long document takes a few calls, each admitted and recorded on
 * its own by the caller. Failures are ModelErrors like any other model call's.
 */
import type OpenAI from "openai";
import { toModelError } from "./errors.js";

export const DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small";

/** Inputs per request: far under the API's 2,048, so one request stays quick and a failure costs little. */
export const MAX_BATCH_INPUTS = 256;
/** Tokens per request, counted with the chat model's encoding: a third of the API's 300,000, for the difference in encodings. */
export const MAX_BATCH_TOKENS = 100_000;
/** Longest text embedded whole; a longer question is cut (every embedding model takes at most 8,192 tokens). */
export const MAX_EMBEDDING_INPUT_CHARS = 8_000;

export interface EmbeddingResult {
  vectors: Float32Array[];
  model: string;
  /** What the server counted. */
  promptTokens: number;
}

/** Batches of input positions ([start, end) ranges), each within MAX_BATCH_INPUTS and MAX_BATCH_TOKENS. */
export function planBatches(tokens: readonly number[], limits = { maxInputs: MAX_BATCH_INPUTS, maxTokens: MAX_BATCH_TOKENS }): Array<[number, number]> {
  const batches: Array<[number, number]> = [];
  let start = 0;
  let sum = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (i > start && (i - start >= limits.maxInputs || sum + t > limits.maxTokens)) {
      batches.push([start, i]);
      start = i;
      sum = 0;
    }
    sum += t;
  }
  if (tokens.length > start) batches.push([start, tokens.length]);
  return batches;
}

export class Embedder {
  constructor(private readonly opts: { openai: OpenAI; model: string }) {}

  get model(): string {
    return this.opts.model;
  }

  /** Embeds the texts in one request, vectors in input order. Throws ModelError. */
  async embed(texts: readonly string[], opts: { signal?: AbortSignal } = {}): Promise<EmbeddingResult> {
    const input = texts.map((t) => (t.length > MAX_EMBEDDING_INPUT_CHARS ? t.slice(0, MAX_EMBEDDING_INPUT_CHARS) : t) || " ");
    try {
      const response = await this.opts.openai.embeddings.create({ model: this.opts.model, input }, { signal: opts.signal });
      const vectors: Float32Array[] = new Array<Float32Array>(input.length);
      for (const item of response.data) vectors[item.index] = Float32Array.from(item.embedding);
      if (vectors.some((v) => v === undefined) || response.data.length !== input.length) {
        throw new Error(`the embeddings answer has ${response.data.length} vectors for ${input.length} inputs`);
      }
      return { vectors, model: response.model || this.opts.model, promptTokens: response.usage?.prompt_tokens ?? 0 };
    } catch (err) {
      throw toModelError(err, { aborted: opts.signal?.aborted });
    }
  }
}
