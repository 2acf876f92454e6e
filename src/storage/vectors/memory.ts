import { normalized, topByCosine, type VectorChunk, type VectorHit, type VectorStore, type VectorStoreOptions } from "./vector-store.js";

interface StoredDoc {
  scope: string;
  chunks: VectorChunk[];
  expiresAt: number | undefined;
}

/** memory://: vectors in a Map, exact search, gone on exit. */
export class MemoryVectorStore implements VectorStore {
  readonly kind = "memory";
  readonly #docs = new Map<string, StoredDoc>();
  readonly #now: () => number;

  constructor(opts: Partial<VectorStoreOptions> = {}) {
    this.#now = opts.now ?? Date.now;
  }

  #live(docId: string): StoredDoc | undefined {
    const doc = this.#docs.get(docId);
    if (doc?.expiresAt !== undefined && doc.expiresAt <= this.#now()) {
      this.#docs.delete(docId);
      return undefined;
    }
    return doc;
  }

  put(scope: string, docId: string, chunks: readonly VectorChunk[], expiresAt?: number): Promise<void> {
    for (const id of [...this.#docs.keys()]) this.#live(id);
    this.#docs.set(docId, { scope, chunks: chunks.map((c) => ({ ...c, vector: normalized(c.vector) })), expiresAt });
    return Promise.resolve();
  }

  setExpiry(docId: string, expiresAt: number | undefined): Promise<void> {
    const doc = this.#live(docId);
    if (doc) doc.expiresAt = expiresAt;
    return Promise.resolve();
  }

  count(docId: string): Promise<number> {
    return Promise.resolve(this.#live(docId)?.chunks.length ?? 0);
  }

  search(scope: string, docIds: readonly string[], query: Float32Array, k: number): Promise<VectorHit[]> {
    const candidates = docIds.flatMap((docId) => {
      const doc = this.#live(docId);
      return doc && doc.scope === scope ? doc.chunks.map((c) => ({ ...c, docId })) : [];
    });
    return Promise.resolve(topByCosine(candidates, query, k).map(({ vector: _, ...hit }) => hit));
  }

  remove(docId: string): Promise<void> {
    this.#docs.delete(docId);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#docs.clear();
    return Promise.resolve();
  }
}
