/**
 * The one keyv store the bot keeps everything in, chosen by STORE_URL.
 *
 *   sqlite://./data/bot.sqlite, sqlite://data/bot.sqlite  relative to the working directory
 *   sqlite:///var/lib/bot/bot.sqlite                       absolute
 *   redis://[user:pass@]host:port[/db], rediss://…         Redis (rediss = TLS)
 *   postgres://…, postgresql://…                           PostgreSQL (table "keyv")
 *   memory://                                              in-process Map, gone on exit
 *
 * openStore() does one round trip before it returns, so a wrong URL or an unreachable server fails
 * start-up with one clear line instead of at the first message. URLs in errors have their
 * credentials and query string removed.
 *
 * Every Keyv is created with throwOnErrors: a storage failure rejects the call that hit it. Keyv's
 * default would be to emit the error and answer `undefined`, and a history read that silently
 * answers "empty" would be written back and erase the chat's memory.
 */
import { mkdir } from "node:fs/promises";
import type pg from "pg";
import path from "node:path";
import Keyv from "keyv";

export type StoreKind = "sqlite" | "redis" | "postgres" | "memory";

export interface Store {
  readonly keyv: Keyv;
  readonly kind: StoreKind;
  /** STORE_URL without credentials or query string, safe to log. */
  readonly displayUrl: string;
  /** Closes the connection (or file) so the process can exit. Safe to call twice. */
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Key prefix for everything this store writes (default "keyv"). Tests use a unique one per run. */
  namespace?: string;
  /** Adapter errors after start-up (lost connection, failed query). Never thrown from an event. */
  onError?: (error: Error) => void;
  /** How long to wait for the server on open, in ms (default 5000). */
  connectTimeoutMs?: number;
  /** SQLite busy timeout in ms (default 5000). */
  busyTimeoutMs?: number;
}

const ACCEPTED = "sqlite://path, redis://, rediss://, postgres://, postgresql:// or memory://";

/** STORE_URL is not something we can open: bad scheme, malformed URL, empty path. */
export class StoreConfigError extends Error {
  override name = "StoreConfigError";
}

/** The store is configured correctly but cannot be reached or opened. */
export class StoreConnectionError extends Error {
  override name = "StoreConnectionError";
}

/** Removes user:password@ and the query string (which may carry ?password=). */
export function redactStoreUrl(url: string): string {
  const trimmed = url.trim();
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/i.exec(trimmed);
  if (!match) return "<malformed>";
  const [, scheme = "", authority = "", rest = ""] = match;
  const at = authority.lastIndexOf("@");
  const host = at >= 0 ? `***@${authority.slice(at + 1)}` : authority;
  const pathOnly = rest.replace(/[?#].*$/, "");
  return `${scheme}${host}${pathOnly}`;
}

function configError(url: string, problem: string): StoreConfigError {
  const shown = redactStoreUrl(url);
  const subject = shown === "<malformed>" ? "STORE_URL" : `STORE_URL ${JSON.stringify(shown)}`;
  return new StoreConfigError(`${subject} ${problem}; expected ${ACCEPTED}`);
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** "ECONNREFUSED" for system errors (also when wrapped, or in an AggregateError from dual-stack connects), else the message. */
function describeFailure(error: unknown): string {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return code;
    if (current instanceof AggregateError && current.errors.length > 0) {
      const inner = describeFailure(current.errors[0]);
      if (inner) return inner;
    }
    // node-redis wraps the socket error in a ReconnectStrategyError.
    const wrapped = (current as { originalError?: unknown; socketError?: unknown }).socketError ??
      (current as { originalError?: unknown }).originalError;
    if (wrapped instanceof Error && !seen.has(wrapped)) {
      current = wrapped;
      continue;
    }
    if (current.message) return scrubCredentials(current.message.split("\n")[0] ?? current.message);
    current = current.cause;
  }
  return scrubCredentials(String(error));
}

/** Driver messages rarely echo the URL, but if one does, its password stays out of the log. */
function scrubCredentials(text: string): string {
  return text.replace(/(\/\/)[^\s/@]*@/g, "$1***@");
}

type ParsedUrl =
  | { kind: "sqlite"; file: string }
  | { kind: "redis"; url: string }
  | { kind: "postgres"; url: string }
  | { kind: "memory" };

export function parseStoreUrl(raw: string): ParsedUrl {
  const url = raw.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (!scheme) throw configError(url, "is not a URL");
  switch (scheme) {
    case "sqlite": {
      // Not parsed with URL(): "sqlite://./data/x" would make "." a host name.
      const file = url.slice("sqlite://".length);
      if (file.length === 0) throw configError(url, "has no file path");
      if (file === ":memory:") return { kind: "sqlite", file };
      return { kind: "sqlite", file: path.resolve(file) };
    }
    case "redis":
    case "rediss":
    case "postgres":
    case "postgresql": {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw configError(url, "is malformed");
      }
      if (scheme.startsWith("redis")) {
        if (!parsed.hostname) throw configError(url, "has no host");
        return { kind: "redis", url };
      }
      // A Postgres URL may name no host and put a socket directory in ?host= instead.
      return { kind: "postgres", url };
    }
    case "memory":
      return { kind: "memory" };
    default:
      throw configError(url, `has an unknown scheme "${scheme}://"`);
  }
}

export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  const parsed = parseStoreUrl(url);
  const namespace = opts.namespace ?? "keyv";
  const displayUrl = parsed.kind === "sqlite" ? `sqlite://${parsed.file}` : redactStoreUrl(url);
  switch (parsed.kind) {
    case "memory":
      return openMemory(namespace, opts);
    case "sqlite":
      return openSqlite(parsed.file, displayUrl, namespace, opts);
    case "redis":
      return openRedis(parsed.url, displayUrl, namespace, opts);
    case "postgres":
      return openPostgres(parsed.url, displayUrl, namespace, opts);
  }
}

/**
 * Errors an adapter emits while we are opening it are kept (the first one usually says more than
 * the failed probe: "permission denied for schema public" rather than "relation does not exist");
 * after a successful open they go to onError.
 */
function watchErrors(keyv: Keyv, onError: OpenStoreOptions["onError"]): { first: () => Error | undefined; opened: () => void } {
  let firstError: Error | undefined;
  let isOpen = false;
  keyv.on("error", (value: unknown) => {
    const error = toError(value);
    if (!isOpen) {
      firstError ??= error;
      return;
    }
    try {
      onError?.(error);
    } catch {
      // A logger that throws must not turn a storage hiccup into a crash.
    }
  });
  return { first: () => firstError, opened: () => (isOpen = true) };
}

function onceClose(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function openMemory(namespace: string, opts: OpenStoreOptions): Promise<Store> {
  const keyv = new Keyv({ namespace, throwOnErrors: true });
  watchErrors(keyv, opts.onError).opened();
  return { keyv, kind: "memory", displayUrl: "memory://", close: onceClose(async () => {}) };
}

async function openSqlite(file: string, displayUrl: string, namespace: string, opts: OpenStoreOptions): Promise<Store> {
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
  try {
    // WAL lets readers run while a write is in progress and survives a crash mid-write; with the
    // busy timeout, a second process on the same file waits instead of failing with SQLITE_BUSY.
    // The pragma is also the round trip that proves the file opens and the table exists.
    if (file !== ":memory:") await adapter.query("PRAGMA journal_mode=WAL");
    await keyv.get("__store_probe__");
  } catch (error) {
    await adapter.disconnect().catch(() => {});
    throw fail(errors.first() ?? error);
  }
  errors.opened();
  return { keyv, kind: "sqlite", displayUrl, close: onceClose(() => adapter.disconnect()) };
}

async function openRedis(url: string, displayUrl: string, namespace: string, opts: OpenStoreOptions): Promise<Store> {
  const { default: KeyvRedis, createClient } = await import("@keyv/redis");
  const connectTimeout = opts.connectTimeoutMs ?? 5_000;
  let everReady = false;
  const client = createClient({
    url,
    socket: {
      connectTimeout,
      // Before the first successful connection a failure is final, so start-up fails fast. After
      // it, keep reconnecting with a capped backoff: Redis restarts must not need a bot restart.
      reconnectStrategy: (retries: number, cause: Error) =>
        everReady ? Math.min(100 * 2 ** Math.min(retries, 5), 3_000) + Math.floor(Math.random() * 100) : cause,
    },
    // Commands issued while disconnected wait in the offline queue at most this long, so a handler
    // gets an error instead of hanging for the whole outage.
    commandOptions: { timeout: Math.max(connectTimeout, 5_000) },
  });
  // node-redis throws from an 'error' event nobody listens to. KeyvRedis adds its own listener
  // (forwarded to keyv and onError); this one covers the window before that and after close.
  client.on("error", () => {});
  client.on("ready", () => {
    everReady = true;
  });
  try {
    await withTimeout(client.connect(), connectTimeout + 1_000, "connect");
    await client.ping();
  } catch (error) {
    if (client.isOpen) client.destroy();
    throw new StoreConnectionError(`cannot reach redis at ${displayUrl}: ${describeFailure(error)}`, { cause: error });
  }
  const adapter = new KeyvRedis(client, { namespace, throwOnErrors: true, throwOnConnectError: true });
  // Same layout as @keyv/redis createKeyv(): the adapter prefixes "namespace::key" itself.
  const keyv = new Keyv({ store: adapter, namespace, useKeyPrefix: false, throwOnErrors: true });
  watchErrors(keyv, opts.onError).opened();
  const close = async () => {
    if (!client.isOpen) return;
    try {
      // Graceful close waits for in-flight replies; if Redis is down it may never come.
      await withTimeout(adapter.disconnect(), 2_000, "redis close");
    } catch {
      if (client.isOpen) client.destroy();
    }
  };
  return { keyv, kind: "redis", displayUrl, close: onceClose(close) };
}

async function openPostgres(url: string, displayUrl: string, namespace: string, opts: OpenStoreOptions): Promise<Store> {
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

    override async connect(): Promise<(sql: string, values?: unknown) => Promise<unknown[]>> {
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
      return async (sql, values) => (await pool.query(sql, values as unknown[] | undefined)).rows;
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
  try {
    // Waits for the adapter's CREATE TABLE, then one SELECT.
    await withTimeout(keyv.get("__store_probe__"), connectTimeout + 1_000, "connect");
  } catch (error) {
    await adapter.disconnect().catch(() => {});
    throw new StoreConnectionError(`cannot reach postgres at ${displayUrl}: ${describeFailure(errors.first() ?? error)}`, {
      cause: error,
    });
  }
  errors.opened();
  return { keyv, kind: "postgres", displayUrl, close: onceClose(() => adapter.disconnect()) };
}
