import type pg from "pg";
import Keyv from "keyv";
import { PostgresSharedState } from "../shared/sql.js";
import { StoreConnectionError, describeFailure, onceClose, watchErrors, withTimeout, type OpenStoreOptions, type Store } from "./backend.js";

/** postgres:// and postgresql://: table "keyv", one pool per store. */
export async function openPostgres(url: string, displayUrl: string, namespace: string, opts: OpenStoreOptions): Promise<Store> {
  const { KeyvPostgres } = await import("@keyv/postgres");
  const { Pool } = (await import("pg")).default;
  const connectTimeout = opts.connectTimeoutMs ?? 5_000;

  /**
   * @keyv/postgres 2.x keeps one module-wide pg.Pool: a second store with another URL replaces it,
   * disconnect() ends whichever pool is current (possibly another store's), and nobody listens to
   * the pool's 'error' event, so Postgres restarting would crash the process. Each store here owns
   * its pool instead; connect() is the adapter's hook for exactly that.
   */
  class OwnPoolPostgres extends KeyvPostgres {
    // `declare`: connect() runs inside super(), before field initializers would run and reset it.
    declare private ownPool: pg.Pool | undefined;

    override connect(): Promise<(sql: string, values?: unknown) => Promise<unknown[]>> {
      if (!this.ownPool) {
        const pool = new Pool({
          connectionString: url,
          max: 5,
          connectionTimeoutMillis: connectTimeout,
          idleTimeoutMillis: 30_000,
        });
        // An idle client losing its connection is reported here; unhandled, it would be fatal.
        pool.on("error", (error) => this.emit("error", error));
        this.ownPool = pool;
      }
      const pool = this.ownPool;
      return Promise.resolve(async (sql: string, values?: unknown): Promise<unknown[]> => {
        const result = await pool.query<Record<string, unknown>>(sql, values as unknown[] | undefined);
        return result.rows;
      });
    }

    override async disconnect(): Promise<void> {
      const pool = this.ownPool;
      this.ownPool = undefined;
      await pool?.end();
    }
  }

  const adapter = new OwnPoolPostgres({ uri: url });
  const keyv = new Keyv({ store: adapter, namespace, throwOnErrors: true });
  const errors = watchErrors(keyv, opts.onError);
  // Shared state (counters, advisory locks) has a pool of its own: a section holds a connection while the keyv
  // calls inside it use the adapter's pool, so the two can never wait on each other.
  const sharedPool = new Pool({ connectionString: url, max: 10, connectionTimeoutMillis: connectTimeout, idleTimeoutMillis: 30_000 });
  sharedPool.on("error", (error) => keyv.emit("error", error));
  let shared: PostgresSharedState;
  try {
    // Waits for the adapter's CREATE TABLE, then one SELECT.
    await withTimeout(keyv.get("__store_probe__"), connectTimeout + 1_000, "connect");
    shared = await withTimeout(PostgresSharedState.open(sharedPool, namespace), connectTimeout + 1_000, "connect");
  } catch (error) {
    await adapter.disconnect().catch(() => {});
    await sharedPool.end().catch(() => {});
    throw new StoreConnectionError(`cannot reach postgres at ${displayUrl}: ${describeFailure(errors.first() ?? error)}`, {
      cause: error,
    });
  }
  errors.opened();
  const close = async () => {
    await Promise.all([adapter.disconnect(), sharedPool.end()]);
  };
  return { keyv, kind: "postgres", displayUrl, shared, close: onceClose(close) };
}
