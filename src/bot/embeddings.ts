/**
 * Embedding calls as the bot makes them: each request admitted like any other model call (bot/admission.ts: budgets
 * and the rate limit, the refusal told to the user) and its usage recorded (bot/record-usage.ts), so embeddings count
 * in /usage and are held to the daily budgets. A document's chunks are embedded in batches (ai/embeddings.ts).
 */
import type { BotContext } from "./context.js";
import { admitModelCall } from "./admission.js";
import { recordUsage } from "./record-usage.js";
import { planBatches } from "../ai/embeddings.js";
import { DOCUMENT_TTL_MS, type StoredDocument } from "../storage/documents.js";

/**
 * Vectors for the texts, in order; undefined when a limit refused a call (the user was told). Throws ModelError when
 * the embedding service fails.
 */
export async function embedTexts(ctx: BotContext, texts: readonly string[], tokens: readonly number[], signal: AbortSignal): Promise<Float32Array[] | undefined> {
  const { embedder } = ctx.deps.knowledge;
  const vectors: Float32Array[] = [];
  for (const [start, end] of planBatches(tokens)) {
    const promptTokens = tokens.slice(start, end).reduce((a, b) => a + b, 0);
    if (!(await admitModelCall(ctx, { model: embedder.model, promptTokens, maxAnswerTokens: 0 }))) return undefined;
    const result = await embedder.embed(texts.slice(start, end), { signal });
    await recordUsage(ctx, [{ model: result.model, promptTokens: result.promptTokens, completionTokens: 0, cachedTokens: 0 }]);
    vectors.push(...result.vectors);
  }
  return vectors;
}

/**
 * Makes sure the document's chunks are in the vector store, embedded with the configured model (a document embedded
 * with another model, or whose vectors expired, is embedded again). False when a limit refused (the user was told).
 */
export async function ensureEmbedded(ctx: BotContext, doc: StoredDocument, signal: AbortSignal): Promise<boolean> {
  const { documents, vectors, embedder } = ctx.deps.knowledge;
  if (doc.embeddedWith === embedder.model && (await vectors.count(doc.id)) === doc.chunks.length) return true;
  const embedded = await embedTexts(
    ctx,
    doc.chunks.map((c) => c.text),
    doc.chunks.map((c) => c.tokens),
    signal,
  );
  if (!embedded) return false;
  const expiresAt = doc.learned ? undefined : ctx.deps.now().getTime() + DOCUMENT_TTL_MS;
  await vectors.put(
    String(doc.chatId),
    doc.id,
    doc.chunks.map((c, index) => ({ index, text: c.text, location: c.location, tokens: c.tokens, vector: embedded[index]! })),
    expiresAt,
  );
  doc.embeddedWith = embedder.model;
  await documents.save(doc);
  return true;
}
