/**
 * Where a chat's document vectors live: beside the history, in the same backend (STORE_URL). One interface, one file
 * per backend:
 *
 * - sqlite:   the same database file, through a second sqlite3 connection with the sqlite-vec extension loaded
 *             (sqlite.ts); without the extension (a platform it has no binary for) the same tables with exact search
 *             in this process.
 * - postgres: one table of float arrays; ordered in the database by pgvector when the extension is there, otherwise
 *             exact cosine search in SQL (postgres.ts).
 * - redis:    one hash per document; exact search over the chat's documents in this process (redis.ts).
 * - memory:   in this process (memory.ts).
 *
 * Every vector belongs to a document (docId) in a scope (the chat); a search names the documents it may draw from,
 * so a chat only ever gets its own. Documents sent for one question expire (they are swept after expiresAt); learned
 * ones are kept until forgotten.
 */

/** One chunk of a document, with its embedding. */
export interface VectorChunk {
  /** 0-based position in its document. */
  index: number;
  text: string;
  /** "p. 3", "pp. 2–3" or a heading: how it is cited. */
  location: string;
  tokens: number;
  vector: Float32Array;
}

/** A chunk found by a search, nearest first. */
export interface VectorHit {
  docId: string;
  index: number;
  text: string;
  location: string;
  tokens: number;
  /** Cosine similarity to the query, -1…1. */
  similarity: number;
}

/** Which backend (and method) a store uses, for logs and the README's table. */
export type VectorStoreKind = "sqlite-vec" | "sqlite" | "pgvector" | "postgres" | "redis" | "memory";

export interface VectorStore {
  readonly kind: VectorStoreKind;
  /** Stores a document's chunks under a scope, replacing what it had. `expiresAt` (epoch ms): swept after; undefined keeps them. */
  put(scope: string, docId: string, chunks: readonly VectorChunk[], expiresAt?: number): Promise<void>;
  /** Changes when a document's vectors expire (undefined: never). */
  setExpiry(docId: string, expiresAt: number | undefined): Promise<void>;
  /** How many chunks of a document are stored (0: none, or expired). */
  count(docId: string): Promise<number>;
  /** The `k` chunks of the named documents (in `scope`) nearest to `query` by cosine similarity, nearest first. */
  search(scope: string, docIds: readonly string[], query: Float32Array, k: number): Promise<VectorHit[]>;
  remove(docId: string): Promise<void>;
  close(): Promise<void>;
}

/** Options every backend takes. */
export interface VectorStoreOptions {
  /** Separates this store's data from others in the same database (the keyv namespace). */
  namespace: string;
  /** The clock expiry is judged by. */
  now?: () => number;
}

/** Bytes of a Float32Array (little-endian, as sqlite-vec and the blobs here store them). */
export function vectorBytes(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** A Float32Array over stored bytes (copied, so it is aligned). */
export function vectorFromBytes(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer, 0, Math.floor(copy.byteLength / 4));
}

/** The vector scaled to length 1 (cosine similarity is then a dot product). A zero vector stays zero. */
export function normalized(vector: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
  norm = Math.sqrt(norm);
  if (norm === 0 || Math.abs(norm - 1) < 1e-6) return vector;
  const out = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! / norm;
  return out;
}

/**
 * Exact top-k by cosine similarity over candidates whose vectors are already normalized, as the stores without an
 * index search: one pass, a small sorted list of the best so far.
 */
export function topByCosine<T extends { vector: Float32Array }>(candidates: Iterable<T>, query: Float32Array, k: number): Array<T & { similarity: number }> {
  const q = normalized(query);
  const best: Array<T & { similarity: number }> = [];
  for (const candidate of candidates) {
    const v = candidate.vector;
    if (v.length !== q.length) continue;
    let dot = 0;
    for (let i = 0; i < q.length; i++) dot += q[i]! * v[i]!;
    if (best.length === k && dot <= best[k - 1]!.similarity) continue;
    let at = best.length;
    while (at > 0 && best[at - 1]!.similarity < dot) at--;
    best.splice(at, 0, { ...candidate, similarity: dot });
    if (best.length > k) best.pop();
  }
  return best;
}
