/**
 * Vectors in the Redis that holds the history: one hash per document, `<namespace>:vectors:<docId>`, with a `meta`
 * field (scope, dimensions, chunk count) and one field per chunk (text, citation, tokens, the normalized float32
 * embedding in base64). A document that expires carries a Redis expiry, so nothing has to sweep. Search reads the
 * named documents of the chat and ranks their chunks exactly, by cosine similarity, in this process.
 */
import { normalized, topByCosine, vectorBytes, vectorFromBytes, type VectorChunk, type VectorHit, type VectorStore, type VectorStoreOptions } from "./vector-store.js";

/** Chunks per HSET: keeps single commands to a few megabytes. */
const HSET_BATCH = 200;

interface Meta {
  scope: string;
  dims: number;
  chunks: number;
}

interface StoredChunk {
  text: string;
  location: string;
  tokens: number;
  /** Base64 of the float32 embedding. */
  v: string;
}

/** Connects as the history store does: fail fast at start-up, reconnect with a capped back-off once it has been up. */
async function connectRedis(url: string, onError: ((err: Error) => void) | undefined, connectTimeout: number) {
  const { createClient } = await import("@keyv/redis");
  let everReady = false;
  const client = createClient({
    url,
    socket: {
      connectTimeout,
      reconnectStrategy: (retries: number, cause: Error) => (everReady ? Math.min(100 * 2 ** Math.min(retries, 5), 3_000) : cause),
    },
    commandOptions: { timeout: Math.max(connectTimeout, 5_000) },
  });
  client.on("error", (err: Error) => onError?.(err));
  client.on("ready", () => (everReady = true));
  await client.connect();
  return client;
}

type RedisClient = Awaited<ReturnType<typeof connectRedis>>;

export class RedisVectorStore implements VectorStore {
  readonly kind = "redis";
  readonly #client: RedisClient;
  readonly #ns: string;

  private constructor(client: RedisClient, opts: VectorStoreOptions) {
    this.#client = client;
    this.#ns = opts.namespace;
  }

  static async open(url: string, opts: VectorStoreOptions & { onError?: (err: Error) => void; connectTimeoutMs?: number }): Promise<RedisVectorStore> {
    const client = await connectRedis(url, opts.onError, opts.connectTimeoutMs ?? 5_000);
    return new RedisVectorStore(client, opts);
  }

  #key(docId: string): string {
    return `${this.#ns}:vectors:${docId}`;
  }

  async put(scope: string, docId: string, chunks: readonly VectorChunk[], expiresAt?: number): Promise<void> {
    const key = this.#key(docId);
    const meta: Meta = { scope, dims: chunks[0]?.vector.length ?? 0, chunks: chunks.length };
    const multi = this.#client.multi().del(key).hSet(key, "meta", JSON.stringify(meta));
    for (let start = 0; start < chunks.length; start += HSET_BATCH) {
      const fields: Record<string, string> = {};
      for (const chunk of chunks.slice(start, start + HSET_BATCH)) {
        const stored: StoredChunk = { text: chunk.text, location: chunk.location, tokens: chunk.tokens, v: vectorBytes(normalized(chunk.vector)).toString("base64") };
        fields[`c:${chunk.index}`] = JSON.stringify(stored);
      }
      multi.hSet(key, fields);
    }
    if (expiresAt !== undefined) multi.pExpireAt(key, expiresAt);
    await multi.exec();
  }

  async setExpiry(docId: string, expiresAt: number | undefined): Promise<void> {
    if (expiresAt === undefined) await this.#client.persist(this.#key(docId));
    else await this.#client.pExpireAt(this.#key(docId), expiresAt);
  }

  async count(docId: string): Promise<number> {
    const meta = await this.#client.hGet(this.#key(docId), "meta");
    return meta ? (JSON.parse(meta) as Meta).chunks : 0;
  }

  async search(scope: string, docIds: readonly string[], query: Float32Array, k: number): Promise<VectorHit[]> {
    if (docIds.length === 0 || k <= 0) return [];
    const docs = await Promise.all(docIds.map((docId) => this.#client.hGetAll(this.#key(docId))));
    const candidates: Array<Omit<VectorHit, "similarity"> & { vector: Float32Array }> = [];
    docs.forEach((fields, i) => {
      const meta = fields.meta ? (JSON.parse(fields.meta) as Meta) : undefined;
      if (!meta || meta.scope !== scope || meta.dims !== query.length) return;
      for (const [field, value] of Object.entries(fields)) {
        if (!field.startsWith("c:")) continue;
        const stored = JSON.parse(value) as StoredChunk;
        candidates.push({
          docId: docIds[i]!,
          index: Number(field.slice(2)),
          text: stored.text,
          location: stored.location,
          tokens: stored.tokens,
          vector: vectorFromBytes(Buffer.from(stored.v, "base64")),
        });
      }
    });
    return topByCosine(candidates, query, k).map(({ vector: _, ...hit }) => hit);
  }

  async remove(docId: string): Promise<void> {
    await this.#client.del(this.#key(docId));
  }

  async close(): Promise<void> {
    if (!this.#client.isOpen) return;
    try {
      await this.#client.close();
    } catch {
      this.#client.destroy();
    }
  }
}
