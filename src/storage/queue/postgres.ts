/**
 * postgres://: the queue is a table beside the store's. Like SQLite it serves one instance: updates are handed out
 * as they are stored, and those left unfinished are taken again at start-up. Several instances need Redis (the
 * partitioned streams of queue/redis.ts); see docs/ARCHITECTURE.md.
 */
import type pg from "pg";
import type { Update } from "grammy/types";
import { LocalQueue, type LocalQueueOptions, type LocalStorage } from "./local.js";
import { DONE_TTL_MS, MAX_ATTEMPTS, type QueueStats } from "./update-queue.js";

const TABLE = "bot_update_queue";

/** Table names are interpolated into SQL: only plain identifiers. */
function checkedTable(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`bad queue table name ${name}`);
  return name;
}

class PostgresStorage implements LocalStorage {
  readonly #pool: pg.Pool;
  readonly #cleanup: NodeJS.Timeout;

  readonly #table: string;

  constructor(pool: pg.Pool, table: string) {
    this.#table = checkedTable(table);
    this.#pool = pool;
    this.#cleanup = setInterval(() => void this.#pool.query(`DELETE FROM ${this.#table} WHERE done_at < $1`, [Date.now() - DONE_TTL_MS]).catch(() => undefined), 3_600_000);
    this.#cleanup.unref();
  }

  async init(): Promise<void> {
    await this.#pool.query(
      `CREATE TABLE IF NOT EXISTS ${this.#table} (update_id BIGINT PRIMARY KEY, body TEXT NOT NULL, received_at BIGINT NOT NULL, done_at BIGINT, attempts INT NOT NULL DEFAULT 0)`,
    );
    await this.#pool.query(`DELETE FROM ${this.#table} WHERE done_at < $1`, [Date.now() - DONE_TTL_MS]);
  }

  async insertNew(updates: readonly Update[], receivedAt: number): Promise<Update[]> {
    const values = updates.map((_, i) => `($${i * 3 + 1}, $${i * 3 + 2}, $${i * 3 + 3})`).join(", ");
    const { rows } = await this.#pool.query<{ update_id: string }>(
      `INSERT INTO ${this.#table} (update_id, body, received_at) VALUES ${values} ON CONFLICT DO NOTHING RETURNING update_id`,
      updates.flatMap((u) => [u.update_id, JSON.stringify(u), receivedAt]),
    );
    const fresh = new Set(rows.map((r) => Number(r.update_id)));
    return updates.filter((u) => fresh.has(u.update_id));
  }

  async markDone(updateId: number, doneAt: number): Promise<void> {
    await this.#pool.query(`UPDATE ${this.#table} SET done_at = $1 WHERE update_id = $2`, [doneAt, updateId]);
  }

  async takeUnfinished(): Promise<Update[]> {
    await this.#pool.query(`UPDATE ${this.#table} SET attempts = attempts + 1 WHERE done_at IS NULL`);
    await this.#pool.query(`UPDATE ${this.#table} SET done_at = $1 WHERE done_at IS NULL AND attempts > $2`, [Date.now(), MAX_ATTEMPTS]);
    const { rows } = await this.#pool.query<{ body: string }>(`SELECT body FROM ${this.#table} WHERE done_at IS NULL ORDER BY update_id`);
    return rows.map((r) => JSON.parse(r.body) as Update);
  }

  async stats(now: number): Promise<QueueStats> {
    const { rows } = await this.#pool.query<{ depth: string; oldest: string | null }>(
      `SELECT count(*) AS depth, min(received_at) AS oldest FROM ${this.#table} WHERE done_at IS NULL`,
    );
    const row = rows[0];
    return { depth: Number(row?.depth ?? 0), oldestAgeMs: row?.oldest == null ? 0 : now - Number(row.oldest) };
  }

  async ping(): Promise<void> {
    await this.#pool.query("SELECT 1");
  }

  async close(): Promise<void> {
    clearInterval(this.#cleanup);
    await this.#pool.end();
  }
}

export async function openPostgresQueue(url: string, opts: LocalQueueOptions & { table?: string } = {}): Promise<LocalQueue> {
  const { Pool } = (await import("pg")).default;
  const pool = new Pool({ connectionString: url, max: 3, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 });
  pool.on("error", () => undefined);
  const storage = new PostgresStorage(pool, opts.table ?? TABLE);
  try {
    await storage.init();
  } catch (err) {
    await storage.close().catch(() => undefined);
    throw err;
  }
  return new LocalQueue("postgres", storage, opts);
}
