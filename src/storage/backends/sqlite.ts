import { mkdir } from "node:fs/promises";
import path from "node:path";
import Keyv from "keyv";
import { SqliteSharedState } from "../shared/sql.js";
import { StoreConnectionError, describeFailure, onceClose, watchErrors, type OpenStoreOptions, type Store } from "./backend.js";

/** sqlite://path: one file, in WAL mode so a second process on the same file waits instead of failing. */
export async function openSqlite(file: string, displayUrl: string, namespace: string, opts: OpenStoreOptions): Promise<Store> {
  const fail = (error: unknown) =>
    new StoreConnectionError(`cannot open sqlite database at ${file}: ${describeFailure(error)}`, { cause: error });
  if (file !== ":memory:") {
    try {
      await mkdir(path.dirname(file), { recursive: true });
    } catch (error) {
      throw fail(error);
    }
  }
  const { KeyvSqlite } = await import("@keyv/sqlite");
  // The adapter takes "sqlite://" + a path it hands to sqlite3 unchanged.
  const adapter = new KeyvSqlite({ uri: `sqlite://${file}`, busyTimeout: opts.busyTimeoutMs ?? 5_000 });
  const keyv = new Keyv({ store: adapter, namespace, throwOnErrors: true });
  const errors = watchErrors(keyv, opts.onError);
  let shared: SqliteSharedState;
  try {
    // WAL lets readers run while a write is in progress and survives a crash mid-write; with the
    // busy timeout, a second process on the same file waits instead of failing with SQLITE_BUSY.
    // The pragma is also the round trip that proves the file opens and the table exists.
    if (file !== ":memory:") await adapter.query("PRAGMA journal_mode=WAL");
    await keyv.get("__store_probe__");
    shared = await SqliteSharedState.open((sql, ...params) => adapter.query(sql, ...params) as Promise<unknown[]>, namespace, file);
  } catch (error) {
    await adapter.disconnect().catch(() => {});
    throw fail(errors.first() ?? error);
  }
  errors.opened();
  return { keyv, kind: "sqlite", displayUrl, shared, close: onceClose(() => adapter.disconnect()) };
}
