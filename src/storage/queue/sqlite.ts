/**
 * sqlite://: the queue is a table in the bot's own SQLite file (its own connection, WAL). One row per update id:
 * the row is the dedup record too, kept a day after the update is done.
 *
 * synchronous=NORMAL: in WAL mode a commit is durable against the process being killed (what this queue is for);
 * only a power loss could drop the last commits, and it saves an fsync per update.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import sqlite3 from "sqlite3";
import type { Update } from "grammy/types";
import { LocalQueue, type LocalQueueOptions, type LocalStorage } from "./local.js";
import { DONE_TTL_MS, MAX_ATTEMPTS, type QueueStats } from "./update-queue.js";

const TABLE = "update_queue";

/** Table names are interpolated into SQL: only plain identifiers. */
function checkedTable(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`bad queue table name ${name}`);
  return name;
}
/** How often done rows older than a day are deleted (ms). */
const CLEANUP_EVERY_MS = 60 * 60 * 1000;

class SqliteStorage implements LocalStorage {
  readonly #db: sqlite3.Database;
  readonly #cleanup: NodeJS.Timeout;

  readonly #table: string;

  constructor(db: sqlite3.Database, table: string) {
    this.#table = checkedTable(table);
    this.#db = db;
    this.#cleanup = setInterval(() => void this.#run(`DELETE FROM ${this.#table} WHERE done_at < ?`, Date.now() - DONE_TTL_MS).catch(() => undefined), CLEANUP_EVERY_MS);
    this.#cleanup.unref();
  }

  #run(sql: string, ...params: unknown[]): Promise<void> {
    return new Promise((resolve, reject) => this.#db.run(sql, params, (err) => (err ? reject(err) : resolve())));
  }

  #all<T>(sql: string, ...params: unknown[]): Promise<T[]> {
    return new Promise((resolve, reject) => this.#db.all(sql, params, (err, rows: T[]) => (err ? reject(err) : resolve(rows))));
  }

  async init(): Promise<void> {
    await this.#run("PRAGMA journal_mode=WAL");
    await this.#run("PRAGMA synchronous=NORMAL");
    await this.#run(
      `CREATE TABLE IF NOT EXISTS ${this.#table} (update_id INTEGER PRIMARY KEY, body TEXT NOT NULL, received_at INTEGER NOT NULL, done_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0)`,
    );
    await this.#run(`CREATE INDEX IF NOT EXISTS ${this.#table}_pending ON ${this.#table}(received_at) WHERE done_at IS NULL`);
    await this.#run(`DELETE FROM ${this.#table} WHERE done_at < ?`, Date.now() - DONE_TTL_MS);
  }

  async insertNew(updates: readonly Update[], receivedAt: number): Promise<Update[]> {
    // One statement: atomic, and RETURNING says which ids were new.
    const rows = await this.#all<{ update_id: number }>(
      `INSERT INTO ${this.#table} (update_id, body, received_at) VALUES ${updates.map(() => "(?, ?, ?)").join(", ")} ON CONFLICT DO NOTHING RETURNING update_id`,
      ...updates.flatMap((u) => [u.update_id, JSON.stringify(u), receivedAt]),
    );
    const fresh = new Set(rows.map((r) => r.update_id));
    return updates.filter((u) => fresh.has(u.update_id));
  }

  markDone(updateId: number, doneAt: number): Promise<void> {
    return this.#run(`UPDATE ${this.#table} SET done_at = ? WHERE update_id = ?`, doneAt, updateId);
  }

  async takeUnfinished(): Promise<Update[]> {
    await this.#run(`UPDATE ${this.#table} SET attempts = attempts + 1 WHERE done_at IS NULL`);
    // An update that was handed out this often took the process down each time: it is given up, not retried forever.
    await this.#run(`UPDATE ${this.#table} SET done_at = ? WHERE done_at IS NULL AND attempts > ?`, Date.now(), MAX_ATTEMPTS);
    const rows = await this.#all<{ body: string }>(`SELECT body FROM ${this.#table} WHERE done_at IS NULL ORDER BY update_id`);
    return rows.map((r) => JSON.parse(r.body) as Update);
  }

  async stats(now: number): Promise<QueueStats> {
    const [row] = await this.#all<{ depth: number; oldest: number | null }>(
      `SELECT count(*) AS depth, min(received_at) AS oldest FROM ${this.#table} WHERE done_at IS NULL`,
    );
    return { depth: row?.depth ?? 0, oldestAgeMs: row?.oldest == null ? 0 : now - row.oldest };
  }

  async ping(): Promise<void> {
    await this.#all("SELECT 1");
  }

  close(): Promise<void> {
    clearInterval(this.#cleanup);
    return new Promise((resolve) => this.#db.close(() => resolve()));
  }
}

/** Opens (and creates) the queue table in the SQLite file at `file`. */
export async function openSqliteQueue(file: string, opts: LocalQueueOptions & { busyTimeoutMs?: number; table?: string } = {}): Promise<LocalQueue> {
  if (file !== ":memory:") await mkdir(path.dirname(file), { recursive: true });
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const d = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(d)));
  });
  db.configure("busyTimeout", opts.busyTimeoutMs ?? 5000);
  const storage = new SqliteStorage(db, opts.table ?? TABLE);
  try {
    await storage.init();
  } catch (err) {
    await storage.close();
    throw err;
  }
  return new LocalQueue("sqlite", storage, opts);
}
