/**
 * Vectors in the SQLite file that holds the history. keyv's SQLite adapter keeps its sqlite3 connection to itself,
 * so this is a second sqlite3 connection to the same file (WAL mode, which the store sets, lets both work at once),
 * with the sqlite-vec extension loaded into it (db.loadExtension(getLoadablePath())).
 *
 * Tables: knowledge_docs (one row per document: scope, dimensions, chunk count, expiry), knowledge_chunks (text,
 * citation, tokens and the float32 embedding of each chunk) and one vec0 virtual table per dimension,
 * knowledge_vec_<dims>, partitioned by scope (the chat) with the document as a metadata column, holding each chunk's
 * embedding quantized to one bit per dimension.
 *
 * Search runs in two steps inside SQLite: vec0 finds the nearest candidates by Hamming distance of the bit vectors
 * (1/32 of the bytes of the float ones, so 10,000 chunks are scanned in a few milliseconds), then the candidates are
 * ranked exactly by cosine distance of their float vectors (vec_distance_cosine). Candidates are
 * max(CANDIDATES_PER_RESULT·k, MIN_CANDIDATES): for embeddings whose nearest neighbours are much nearer than the rest,
 * the true top k is among them (sqlite-vec's documented binary-quantization-and-rescore pattern).
 * Where the extension cannot load, the same tables without vec0 are searched exactly in this process ("sqlite").
 */
import sqlite3 from "sqlite3";
import { getLoadablePath } from "sqlite-vec";
import { normalized, topByCosine, vectorBytes, vectorFromBytes, type VectorChunk, type VectorHit, type VectorStore, type VectorStoreOptions } from "./vector-store.js";

export const CANDIDATES_PER_RESULT = 10;
export const MIN_CANDIDATES = 100;

type Row = Record<string, unknown>;

export class SqliteVectorStore implements VectorStore {
  kind: "sqlite-vec" | "sqlite" = "sqlite";
  readonly #db: sqlite3.Database;
  readonly #ns: string;
  readonly #now: () => number;
  /** Write transactions one at a time: this connection is shared by every chat. */
  #writes: Promise<unknown> = Promise.resolve();
  readonly #vecTables = new Set<number>();

  private constructor(db: sqlite3.Database, opts: VectorStoreOptions) {
    this.#db = db;
    this.#ns = opts.namespace;
    this.#now = opts.now ?? Date.now;
  }

  /** Opens the file (or ":memory:") and its tables; `onExtensionError` hears why sqlite-vec could not load, if it could not. */
  static async open(file: string, opts: VectorStoreOptions & { busyTimeoutMs?: number; onExtensionError?: (err: Error) => void }): Promise<SqliteVectorStore> {
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const d = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(d)));
    });
    db.configure("busyTimeout", opts.busyTimeoutMs ?? 5_000);
    const store = new SqliteVectorStore(db, opts);
    try {
      await new Promise<void>((resolve, reject) => db.loadExtension(getLoadablePath(), (err) => (err ? reject(err) : resolve())));
      store.kind = "sqlite-vec";
    } catch (err) {
      opts.onExtensionError?.(err instanceof Error ? err : new Error(String(err)));
    }
    await store.#run(
      "CREATE TABLE IF NOT EXISTS knowledge_docs (doc_key TEXT PRIMARY KEY, scope TEXT NOT NULL, dims INTEGER NOT NULL, chunks INTEGER NOT NULL, expires_at INTEGER)",
    );
    await store.#run(
      "CREATE TABLE IF NOT EXISTS knowledge_chunks (id INTEGER PRIMARY KEY, doc_key TEXT NOT NULL, idx INTEGER NOT NULL, text TEXT NOT NULL, location TEXT NOT NULL, tokens INTEGER NOT NULL, embedding BLOB NOT NULL)",
    );
    await store.#run("CREATE INDEX IF NOT EXISTS knowledge_chunks_doc ON knowledge_chunks(doc_key)");
    await store.#run("CREATE INDEX IF NOT EXISTS knowledge_docs_expiry ON knowledge_docs(expires_at) WHERE expires_at IS NOT NULL");
    return store;
  }

  #key(docId: string): string {
    return `${this.#ns}:${docId}`;
  }

  #run(sql: string, ...params: unknown[]): Promise<void> {
    return new Promise((resolve, reject) => this.#db.run(sql, params, (err) => (err ? reject(err) : resolve())));
  }

  #all(sql: string, ...params: unknown[]): Promise<Row[]> {
    return new Promise((resolve, reject) => this.#db.all(sql, params, (err, rows: Row[]) => (err ? reject(err) : resolve(rows))));
  }

  #write<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#writes.catch(() => undefined).then(async () => {
      await this.#run("BEGIN IMMEDIATE");
      try {
        const result = await task();
        await this.#run("COMMIT");
        return result;
      } catch (err) {
        await this.#run("ROLLBACK").catch(() => undefined);
        throw err;
      }
    });
    this.#writes = next;
    return next;
  }

  async #vecTable(dims: number): Promise<string | undefined> {
    if (this.kind !== "sqlite-vec" || dims % 8 !== 0) return undefined;
    const table = `knowledge_vec_${dims}`;
    if (!this.#vecTables.has(dims)) {
      await this.#run(`CREATE VIRTUAL TABLE IF NOT EXISTS ${table} USING vec0(id INTEGER PRIMARY KEY, scope TEXT PARTITION KEY, doc_key TEXT, bits BIT[${dims}])`);
      this.#vecTables.add(dims);
    }
    return table;
  }

  /** Inside a write transaction: the document's rows gone from every table. */
  async #delete(key: string): Promise<void> {
    const doc = (await this.#all("SELECT dims FROM knowledge_docs WHERE doc_key = ?", key))[0];
    if (!doc) return;
    const table = await this.#vecTable(Number(doc.dims));
    if (table) {
      for (const row of await this.#all("SELECT id FROM knowledge_chunks WHERE doc_key = ?", key)) {
        await this.#run(`DELETE FROM ${table} WHERE id = ?`, row.id);
      }
    }
    await this.#run("DELETE FROM knowledge_chunks WHERE doc_key = ?", key);
    await this.#run("DELETE FROM knowledge_docs WHERE doc_key = ?", key);
  }

  async #sweep(): Promise<void> {
    const expired = await this.#all("SELECT doc_key FROM knowledge_docs WHERE expires_at IS NOT NULL AND expires_at <= ?", this.#now());
    for (const row of expired) await this.#delete(String(row.doc_key));
  }

  put(scope: string, docId: string, chunks: readonly VectorChunk[], expiresAt?: number): Promise<void> {
    const key = this.#key(docId);
    const scoped = `${this.#ns}:${scope}`;
    const dims = chunks[0]?.vector.length ?? 0;
    return this.#write(async () => {
      await this.#sweep();
      await this.#delete(key);
      await this.#run("INSERT INTO knowledge_docs (doc_key, scope, dims, chunks, expires_at) VALUES (?, ?, ?, ?, ?)", key, scoped, dims, chunks.length, expiresAt ?? null);
      const table = await this.#vecTable(dims);
      const insertChunk = this.#db.prepare("INSERT INTO knowledge_chunks (doc_key, idx, text, location, tokens, embedding) VALUES (?, ?, ?, ?, ?, ?)");
      const insertBits = table ? this.#db.prepare(`INSERT INTO ${table} (id, scope, doc_key, bits) VALUES (?, ?, ?, vec_quantize_binary(vec_f32(?)))`) : undefined;
      try {
        for (const chunk of chunks) {
          if (chunk.vector.length !== dims) throw new RangeError(`chunk ${chunk.index} has ${chunk.vector.length} dimensions, not ${dims}`);
          const bytes = vectorBytes(normalized(chunk.vector));
          const id = await new Promise<number>((resolve, reject) =>
            insertChunk.run([key, chunk.index, chunk.text, chunk.location, chunk.tokens, bytes], function (this: sqlite3.RunResult, err: Error | null) {
              if (err) reject(err);
              else resolve(this.lastID);
            }),
          );
          if (insertBits) await new Promise<void>((resolve, reject) => insertBits.run([id, scoped, key, bytes], (err: Error | null) => (err ? reject(err) : resolve())));
        }
      } finally {
        await new Promise<void>((resolve) => insertChunk.finalize(() => resolve()));
        if (insertBits) await new Promise<void>((resolve) => insertBits.finalize(() => resolve()));
      }
    });
  }

  setExpiry(docId: string, expiresAt: number | undefined): Promise<void> {
    return this.#write(() => this.#run("UPDATE knowledge_docs SET expires_at = ? WHERE doc_key = ?", expiresAt ?? null, this.#key(docId)));
  }

  async count(docId: string): Promise<number> {
    const row = (await this.#all("SELECT chunks, expires_at FROM knowledge_docs WHERE doc_key = ?", this.#key(docId)))[0];
    if (!row || (row.expires_at !== null && Number(row.expires_at) <= this.#now())) return 0;
    return Number(row.chunks);
  }

  async search(scope: string, docIds: readonly string[], query: Float32Array, k: number): Promise<VectorHit[]> {
    if (docIds.length === 0 || k <= 0) return [];
    const keys = JSON.stringify(docIds.map((id) => this.#key(id)));
    const scoped = `${this.#ns}:${scope}`;
    const now = this.#now();
    // Expired documents are not searched, whether or not they were swept yet.
    const live = await this.#all(
      "SELECT doc_key FROM knowledge_docs WHERE doc_key IN (SELECT value FROM json_each(?)) AND scope = ? AND dims = ? AND (expires_at IS NULL OR expires_at > ?)",
      keys,
      scoped,
      query.length,
      now,
    );
    if (live.length === 0) return [];
    const liveKeys = JSON.stringify(live.map((r) => r.doc_key));
    const table = await this.#vecTable(query.length);
    const q = vectorBytes(normalized(query));
    let rows: Row[];
    if (table) {
      rows = await this.#all(
        `WITH candidates AS (
           SELECT id FROM ${table}
           WHERE bits MATCH vec_quantize_binary(vec_f32(?)) AND k = ? AND scope = ? AND doc_key IN (SELECT value FROM json_each(?))
         )
         SELECT c.doc_key, c.idx, c.text, c.location, c.tokens, 1 - vec_distance_cosine(c.embedding, vec_f32(?)) AS similarity
         FROM candidates JOIN knowledge_chunks c USING (id)
         ORDER BY similarity DESC LIMIT ?`,
        q,
        Math.max(CANDIDATES_PER_RESULT * k, MIN_CANDIDATES),
        scoped,
        liveKeys,
        q,
        k,
      );
    } else {
      const all = await this.#all("SELECT doc_key, idx, text, location, tokens, embedding FROM knowledge_chunks WHERE doc_key IN (SELECT value FROM json_each(?))", liveKeys);
      rows = topByCosine(
        all.map((r) => ({ ...r, vector: vectorFromBytes(r.embedding as Buffer) })),
        query,
        k,
      );
    }
    const prefix = this.#ns.length + 1;
    return rows.map((r) => ({
      docId: String(r.doc_key).slice(prefix),
      index: Number(r.idx),
      text: String(r.text),
      location: String(r.location),
      tokens: Number(r.tokens),
      similarity: Number(r.similarity),
    }));
  }

  remove(docId: string): Promise<void> {
    return this.#write(() => this.#delete(this.#key(docId)));
  }

  async close(): Promise<void> {
    await this.#writes.catch(() => undefined);
    await new Promise<void>((resolve) => this.#db.close(() => resolve()));
  }
}
