/**
 * STORE_URL: which backend and where. Parsed once, by the configuration schema (src/config.ts); openStore() takes
 * the parsed location (or a URL string, which goes through this same parser).
 *
 *   sqlite://./data/bot.sqlite, sqlite://data/bot.sqlite  relative to the working directory
 *   sqlite:///var/lib/bot/bot.sqlite                       absolute
 *   redis://[user:pass@]host:port[/db], rediss://…         Redis (rediss = TLS); ?prefix=name puts every key under
 *                                                          name (default "keyv"): bots or test runs sharing one Redis
 *   postgres://…, postgresql://…                           PostgreSQL (table "keyv")
 *   memory://                                              in-process Map, gone on exit
 *
 * URLs in errors have their credentials and query string removed.
 */
import path from "node:path";

const ACCEPTED = "sqlite://path, redis://, rediss://, postgres://, postgresql:// or memory://";

/** Where the store lives, as parsed from STORE_URL. */
export type StoreLocation =
  | { kind: "sqlite"; file: string }
  | { kind: "redis"; url: string; prefix?: string }
  | { kind: "postgres"; url: string }
  | { kind: "memory" };

/** STORE_URL is not something we can open: bad scheme, malformed URL, empty path. */
export class StoreConfigError extends Error {
  override name = "StoreConfigError";
  /** What is wrong, without the variable's name (the configuration error adds it). */
  readonly problem: string;

  constructor(problem: string) {
    super(`STORE_URL ${problem}`);
    this.problem = problem;
  }
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

/** The URL safe to log: the resolved file for SQLite, credentials and query removed for servers. */
export function displayStoreUrl(location: StoreLocation): string {
  switch (location.kind) {
    case "sqlite":
      return `sqlite://${location.file}`;
    case "memory":
      return "memory://";
    default:
      return redactStoreUrl(location.url);
  }
}

function configError(url: string, problem: string): StoreConfigError {
  const shown = redactStoreUrl(url);
  return new StoreConfigError(`${shown === "<malformed>" ? "" : `${JSON.stringify(shown)} `}${problem}; expected ${ACCEPTED}`);
}

/** Parses STORE_URL; throws StoreConfigError naming what is wrong. */
export function parseStoreUrl(raw: string): StoreLocation {
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
        const prefix = parsed.searchParams.get("prefix");
        if (prefix === null) return { kind: "redis", url };
        if (!/^[\w.-]{1,64}$/.test(prefix)) throw configError(url, "has a prefix that is not 1-64 letters, digits, '_', '.' or '-'");
        parsed.searchParams.delete("prefix");
        return { kind: "redis", url: parsed.toString(), prefix };
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
