/**
 * Vectors in the PostgreSQL database that holds the history: knowledge_docs (one row per document) and
 * knowledge_chunks (text, citation, tokens and the normalized embedding as real[]), both keyed by the store's
 * namespace. With the pgvector extension (created if the database allows it, or already there) the ranking runs as
 * `embedding::vector <=> query` in the database ("pgvector"); without it, as an exact dot product of the normalized
 * arrays in SQL ("postgres"), so no vectors travel to the bot either way. Neither uses an index: a chat's documents
 * are searched exactly.
 */
import type pg from "pg";
import { normalized, type VectorChunk, type VectorHit, type VectorStore, type VectorStoreOptions } from "./vector-store.js";

/** Rows per INSERT: 1,536 floats each, well under PostgreSQL's 65,535 parameters. */
const INSERT_BATCH = 200;
/** Serializes the schema set-up of concurrent openers (two tests, two instances). */
const SCHEMA_LOCK = 0x6b6e6f77; // "know"

export class PostgresVectorStore implements VectorStore {
  kind: "pgvector" | "postgres" = "postgres";
  readonly #pool: pg.Pool;
  readonly #ns: string;
  readonly #now: () => number;

  private constructor(pool: pg.Pool, opts: VectorStoreOptions) {
    this.#pool = pool;
    this.#ns = opts.namespace;
    this.#now = opts.now ?? Date.now;
  }

  static async open(url: string, opts: VectorStoreOptions & { onError?: (err: Error) => void; connectTimeoutMs?: number }): Promise<PostgresVectorStore> {
    const { Pool } = (await import("pg")).default;
    const pool = new Pool({ connectionString: url, max: 3, connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000, idleTimeoutMillis: 30_000 });
    pool.on("error", (err) => opts.onError?.(err));
    const store = new PostgresVectorStore(pool, opts);
    try {
      await store.#setUp();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return store;
  }

  async #setUp(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
      await client.query("SAVEPOINT vector_extension");
      try {
        await client.query("CREATE EXTENSION IF NOT EXISTS vector");
      } catch {
        // Not installed on the server, or not ours to create: exact search in SQL instead.
        await client.query("ROLLBACK TO SAVEPOINT vector_extension");
      }
      const has = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'vector'");
      this.kind = has.rowCount ? "pgvector" : "postgres";
      await client.query(
        "CREATE TABLE IF NOT EXISTS knowledge_docs (namespace text NOT NULL, doc_id text NOT NULL, scope text NOT NULL, dims integer NOT NULL, chunks integer NOT NULL, expires_at bigint, PRIMARY KEY (namespace, doc_id))",
      );
      await client.query(
        "CREATE TABLE IF NOT EXISTS knowledge_chunks (namespace text NOT NULL, doc_id text NOT NULL, idx integer NOT NULL, text text NOT NULL, location text NOT NULL, tokens integer NOT NULL, embedding real[] NOT NULL, PRIMARY KEY (namespace, doc_id, idx))",
      );
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async #transaction<T>(task: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query("BEGIN");
      const result = await task(client);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async #delete(client: pg.PoolClient, where: string, params: unknown[]): Promise<void> {
    await client.query(`DELETE FROM knowledge_chunks c USING knowledge_docs d WHERE c.namespace = d.namespace AND c.doc_id = d.doc_id AND ${where}`, params);
    await client.query(`DELETE FROM knowledge_docs d WHERE ${where}`, params);
  }

  put(scope: string, docId: string, chunks: readonly VectorChunk[], expiresAt?: number): Promise<void> {
    const dims = chunks[0]?.vector.length ?? 0;
    return this.#transaction(async (client) => {
      await this.#delete(client, "d.namespace = $1 AND d.expires_at IS NOT NULL AND d.expires_at <= $2", [this.#ns, this.#now()]);
      await this.#delete(client, "d.namespace = $1 AND d.doc_id = $2", [this.#ns, docId]);
      await client.query("INSERT INTO knowledge_docs (namespace, doc_id, scope, dims, chunks, expires_at) VALUES ($1, $2, $3, $4, $5, $6)", [
        this.#ns,
        docId,
        scope,
        dims,
        chunks.length,
        expiresAt ?? null,
      ]);
      for (let start = 0; start < chunks.length; start += INSERT_BATCH) {
        const batch = chunks.slice(start, start + INSERT_BATCH);
        const values: unknown[] = [];
        const rows = batch.map((chunk, i) => {
          if (chunk.vector.length !== dims) throw new RangeError(`chunk ${chunk.index} has ${chunk.vector.length} dimensions, not ${dims}`);
          values.push(this.#ns, docId, chunk.index, chunk.text, chunk.location, chunk.tokens, Array.from(normalized(chunk.vector)));
          const at = i * 7;
          return `($${at + 1}, $${at + 2}, $${at + 3}, $${at + 4}, $${at + 5}, $${at + 6}, $${at + 7})`;
        });
        await client.query(`INSERT INTO knowledge_chunks (namespace, doc_id, idx, text, location, tokens, embedding) VALUES ${rows.join(", ")}`, values);
      }
    });
  }

  async setExpiry(docId: string, expiresAt: number | undefined): Promise<void> {
    await this.#pool.query("UPDATE knowledge_docs SET expires_at = $3 WHERE namespace = $1 AND doc_id = $2", [this.#ns, docId, expiresAt ?? null]);
  }

  async count(docId: string): Promise<number> {
    const result = await this.#pool.query<{ chunks: number }>(
      "SELECT chunks FROM knowledge_docs WHERE namespace = $1 AND doc_id = $2 AND (expires_at IS NULL OR expires_at > $3)",
      [this.#ns, docId, this.#now()],
    );
    return result.rows[0]?.chunks ?? 0;
  }

  async search(scope: string, docIds: readonly string[], query: Float32Array, k: number): Promise<VectorHit[]> {
    if (docIds.length === 0 || k <= 0) return [];
    const q = Array.from(normalized(query));
    const similarity =
      this.kind === "pgvector"
        ? "1 - (c.embedding::vector <=> $3::vector)"
        : "(SELECT sum(a * b) FROM unnest(c.embedding, $3::real[]) AS t(a, b))";
    const result = await this.#pool.query<{ doc_id: string; idx: number; text: string; location: string; tokens: number; similarity: number }>(
      `SELECT c.doc_id, c.idx, c.text, c.location, c.tokens, ${similarity}::float8 AS similarity
       FROM knowledge_chunks c JOIN knowledge_docs d ON d.namespace = c.namespace AND d.doc_id = c.doc_id
       WHERE c.namespace = $1 AND c.doc_id = ANY($2) AND d.scope = $4 AND d.dims = $5 AND (d.expires_at IS NULL OR d.expires_at > $6)
       ORDER BY similarity DESC LIMIT $7`,
      [this.#ns, [...docIds], this.kind === "pgvector" ? JSON.stringify(q) : q, scope, query.length, this.#now(), k],
    );
    return result.rows.map((r) => ({ docId: r.doc_id, index: r.idx, text: r.text, location: r.location, tokens: r.tokens, similarity: r.similarity }));
  }

  remove(docId: string): Promise<void> {
    return this.#transaction((client) => this.#delete(client, "d.namespace = $1 AND d.doc_id = $2", [this.#ns, docId]));
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => undefined);
  }
}
