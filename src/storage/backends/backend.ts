/** What every store backend provides, and the helpers they share for opening and closing. */
import type Keyv from "keyv";
import type { SharedState } from "../shared/shared-state.js";
import type { LuaScript } from "../shared/redis.js";

export type StoreKind = "sqlite" | "redis" | "postgres" | "memory";

export interface Store {
  readonly keyv: Keyv;
  readonly kind: StoreKind;
  /** STORE_URL without credentials or query string, safe to log. */
  readonly displayUrl: string;
  /** Counters and exclusive sections that hold across instances sharing this store (shared/). */
  readonly shared: SharedState;
  /** Redis only: Lua scripts run by EVALSHA, for state that must be decided in one step (the pacer's windows). */
  readonly scripts?: ScriptRunner;
  /** Closes the connection (or file) so the process can exit. Safe to call twice. */
  close(): Promise<void>;
}

/** Runs Lua scripts in the store's Redis, on keys under the store's namespace. */
export interface ScriptRunner {
  runScript(script: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown>;
  /** The full Redis key for a shared-state key. */
  key(key: string): string;
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

/** The store is configured correctly but cannot be reached or opened. */
export class StoreConnectionError extends Error {
  override name = "StoreConnectionError";
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** "ECONNREFUSED" for system errors (also when wrapped, or in an AggregateError from dual-stack connects), else the message. */
export function describeFailure(error: unknown): string {
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

/**
 * Errors an adapter emits while we are opening it are kept (the first one usually says more than
 * the failed probe: "permission denied for schema public" rather than "relation does not exist");
 * after a successful open they go to onError.
 */
export function watchErrors(keyv: Keyv, onError: OpenStoreOptions["onError"]): { first: () => Error | undefined; opened: () => void } {
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

export function onceClose(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
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
