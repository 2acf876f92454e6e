/**
 * Shared state in SQL: counters are rows (key, field) incremented by an upsert (INSERT … ON CONFLICT DO UPDATE SET
 * value = value + excluded.value, the same syntax on SQLite and PostgreSQL), so concurrent increments from any number
 * of connections add up. Exclusive sections are the database's own: on PostgreSQL transaction-scoped advisory locks
 * (released by the server even if the process dies), on SQLite BEGIN IMMEDIATE (the file's one write lock).
 */
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

/** SQLite, on the keyv adapter's own connection (a second connection would wait on our write lock). */
export class SqliteSharedState implements SharedState {
  /** One transaction at a time on the connection: BEGIN cannot nest. */
  readonly #transactions = new LocalExclusive();

  private constructor(
    private readonly query: SqliteQuery,
    private readonly prefix: string,
  ) {}

  static async open(query: SqliteQuery, namespace: string): Promise<SqliteSharedState> {
    await query(CREATE);
    await query(`DELETE FROM ${TABLE} WHERE expires IS NOT NULL AND expires <= ?`, Date.now());
    return new SqliteSharedState(query, `${namespace}:`);
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

  /**
   * BEGIN IMMEDIATE takes the database's write lock at once (another process waits, within the busy timeout), so
   * the section's reads and writes on this connection see and leave a consistent state. Whatever else this process
   * writes on the connection meanwhile commits with it; the section always commits what it did, like the plain
   * writes it replaces.
   */
  exclusive<T>(_keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    return this.#transactions.run(["tx"], async () => {
      await this.query("BEGIN IMMEDIATE");
      try {
        return await fn();
      } finally {
        // A transaction left open would make every later BEGIN fail: if COMMIT cannot finish, roll back.
        await this.query("COMMIT").catch(async (error: unknown) => {
          await this.query("ROLLBACK").catch(() => undefined);
          throw error;
        });
      }
    });
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
