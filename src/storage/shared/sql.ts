/**
 * Shared state in SQL: counters are rows (key, field) incremented by an upsert (INSERT … ON CONFLICT DO UPDATE SET
 * value = value + excluded.value, the same syntax on SQLite and PostgreSQL), so concurrent increments from any number
 * of connections add up. Exclusive sections: on PostgreSQL transaction-scoped advisory locks (released by the server
 * even if the process dies); on SQLite, per key in the process (below).
 */
import { resolve } from "node:path";
import type pg from "pg";
import { LocalExclusive, toNumber, type Counters, type SharedState } from "./shared-state.js";

const TABLE = "shared_counters";
const CREATE = `CREATE TABLE IF NOT EXISTS ${TABLE} (key TEXT NOT NULL, field TEXT NOT NULL, value DOUBLE PRECISION NOT NULL, expires BIGINT, PRIMARY KEY (key, field))`;

/** The upsert for `n` fields, with `?` (SQLite) or `$i` (PostgreSQL) placeholders. */
function upsert(n: number, placeholder: (i: number) => string): string {
  const rows = Array.from({ length: n }, (_, r) => `(${[1, 2, 3, 4].map((c) => placeholder(r * 4 + c)).join(", ")})`);
  return (
    `INSERT INTO ${TABLE} (key, field, value, expires) VALUES ${rows.join(", ")} ` +
    `ON CONFLICT (key, field) DO UPDATE SET value = ${TABLE}.value + excluded.value, expires = excluded.expires`
  );
}

function rowsOf(key: string, delta: Counters, ttlMs: number | undefined, now: number): unknown[] {
  const expires = ttlMs === undefined ? null : now + Math.ceil(ttlMs);
  return Object.entries(delta).flatMap(([field, n]) => [key, field, n, expires]);
}

function toCounters(rows: unknown[]): Counters {
  const out: Counters = {};
  for (const row of rows as Array<{ field: string; value: unknown }>) out[row.field] = toNumber(row.value);
  return out;
}

type SqliteQuery = (sql: string, ...params: unknown[]) => Promise<unknown[]>;

/** The sections of each SQLite file, shared by every store object of this process on that file. */
const sqliteSections = new Map<string, LocalExclusive>();

/**
 * SQLite, on the keyv adapter's own connection. A SQLite file serves one bot process (its update queue is a table
 * in the same file, and several instances need Redis), so an exclusive section is a lock per key inside the process,
 * shared by every connection of the process to the same file. Not BEGIN IMMEDIATE: the file has one write lock, and
 * holding it for a section's read-modify-write made every other writer (the update queue's connection, the vectors')
 * wait in SQLite's busy handler, whose sleeps grow to 100 ms: 50 chats streaming at once took 60 s instead of 11.
 */
export class SqliteSharedState implements SharedState {
  private constructor(
    private readonly query: SqliteQuery,
    private readonly prefix: string,
    private readonly sections: LocalExclusive,
  ) {}

  /** `file` names the database, so that store objects on the same file share their sections (":memory:" does not). */
  static async open(query: SqliteQuery, namespace: string, file: string): Promise<SqliteSharedState> {
    await query(CREATE);
    await query(`DELETE FROM ${TABLE} WHERE expires IS NOT NULL AND expires <= ?`, Date.now());
    let sections = file === ":memory:" ? new LocalExclusive() : sqliteSections.get(resolve(file));
    if (!sections) {
      sections = new LocalExclusive();
      sqliteSections.set(resolve(file), sections);
    }
    return new SqliteSharedState(query, `${namespace}:`, sections);
  }

  async addCounters(key: string, delta: Counters, ttlMs?: number): Promise<void> {
    const n = Object.keys(delta).length;
    if (n === 0) return;
    await this.query(upsert(n, () => "?"), ...rowsOf(this.prefix + key, delta, ttlMs, Date.now()));
  }

  async counters(key: string): Promise<Counters> {
    const rows = await this.query(`SELECT field, value FROM ${TABLE} WHERE key = ? AND (expires IS NULL OR expires > ?)`, this.prefix + key, Date.now());
    return toCounters(rows);
  }

  exclusive<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    return this.sections.run(keys.map((k) => this.prefix + k), fn);
  }
}

/** PostgreSQL, with its own small pool (a section holds one connection while it runs). */
export class PostgresSharedState implements SharedState {
  readonly #local = new LocalExclusive();

  private constructor(
    private readonly pool: pg.Pool,
    private readonly prefix: string,
  ) {}

  static async open(pool: pg.Pool, namespace: string): Promise<PostgresSharedState> {
    // Two instances starting together may race on CREATE TABLE IF NOT EXISTS (a unique violation on pg_type).
    await pool.query(CREATE).catch(async () => pool.query(CREATE));
    await pool.query(`DELETE FROM ${TABLE} WHERE expires IS NOT NULL AND expires <= $1`, [Date.now()]);
    return new PostgresSharedState(pool, `${namespace}:`);
  }

  async addCounters(key: string, delta: Counters, ttlMs?: number): Promise<void> {
    const n = Object.keys(delta).length;
    if (n === 0) return;
    await this.pool.query(upsert(n, (i) => `$${i}`), rowsOf(this.prefix + key, delta, ttlMs, Date.now()));
  }

  async counters(key: string): Promise<Counters> {
    const result = await this.pool.query(`SELECT field, value FROM ${TABLE} WHERE key = $1 AND (expires IS NULL OR expires > $2)`, [
      this.prefix + key,
      Date.now(),
    ]);
    return toCounters(result.rows);
  }

  /** In-process callers queue first (so they do not each hold a connection waiting), then advisory locks per key. */
  exclusive<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    return this.#local.run(sorted, async () => {
      const client = await this.pool.connect();
      let broken = false;
      try {
        await client.query("BEGIN");
        for (const key of sorted) await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [this.prefix + key]);
        const result = await fn();
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => (broken = true));
        throw error;
      } finally {
        client.release(broken);
      }
    });
  }
}
