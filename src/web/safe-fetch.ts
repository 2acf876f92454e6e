/**
 * Fetching a URL on a user's behalf (a link in a question, a page the model wants to read), so that nothing reaches
 * an address the bot may not connect to (address-policy.ts: loopback, private, link-local, metadata, …).
 *
 * How: an undici Agent whose connect step resolves the host itself, checks every address it resolves to, and then
 * connects to the checked address (pinned, so DNS cannot answer differently between the check and the connection);
 * TLS still verifies the certificate against the host name. The same step sees IP literals (for which Node would not
 * even call a DNS lookup hook) and every redirect hop, because redirects are followed here, one request at a time,
 * each through that Agent. Nothing is connected before its address passed the check.
 *
 * Bounds (issue 12): at most 5 MB of body (after decompression), 10 s for all hops and the body together, 5 redirects.
 * Why not request-filtering-agent or ssrf-req-filter: both are http.Agent subclasses for node:http clients; fetch
 * (undici) takes a dispatcher instead, so the check is the connect step of undici's own Agent, with ipaddr.js (which
 * those libraries use too) classifying the addresses.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Agent, fetch as undiciFetch } from "undici";
import { BodyTooLargeError, readBoundedBody } from "../util/bounded-body.js";
import { checkAddress } from "./address-policy.js";
import { WebFetchError } from "./web-error.js";

export const MAX_PAGE_BYTES = 5 * 1024 * 1024;
export const FETCH_TIMEOUT_MS = 10_000;
export const MAX_REDIRECTS = 5;

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to every address it has (tests inject one that answers private or metadata addresses). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

export interface SafeFetcherOptions {
  /** WEB_FETCH_ALLOW_PRIVATE: loopback and private networks too (never link-local or metadata). */
  allowPrivate: boolean;
  resolve?: Resolver;
  maxBytes?: number;
  timeoutMs?: number;
  maxRedirects?: number;
  userAgent?: string;
  /** Sees each connection the guard lets through, just before it is made (tests watch where the bot connects). */
  onConnect?: (target: { host: string; address: string; port: string }) => void;
}

/** What a fetch delivered. */
export interface FetchedResource {
  /** The URL after redirects. */
  url: string;
  status: number;
  /** The Content-Type header, lower-cased ("" when absent). */
  contentType: string;
  bytes: Uint8Array;
  redirects: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/pdf;q=0.9,text/plain;q=0.8,*/*;q=0.5";
const DEFAULT_USER_AGENT = "Mozilla/5.0 (compatible; telegram-ai-assistant/0.1; reads a link a user sent)";

/** The first WebFetchError in an error's cause chain (undici wraps what the connect step threw in "fetch failed"). */
function foundWebError(err: unknown): WebFetchError | undefined {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    if (e instanceof WebFetchError) return e;
    if (e instanceof AggregateError) for (const inner of e.errors) if (inner instanceof WebFetchError) return inner;
  }
  return undefined;
}

function errorCode(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

export class SafeFetcher {
  readonly #opts: SafeFetcherOptions;
  /** Made on the first fetch: undici is loaded then, not at start-up (a bot never asked to read a link does without it). */
  #client: Promise<{ agent: Agent; fetch: typeof undiciFetch }> | undefined;
  readonly #resolve: Resolver;

  constructor(opts: SafeFetcherOptions) {
    this.#opts = opts;
    this.#resolve = opts.resolve ?? systemResolver;
  }

  #undici(): Promise<{ agent: Agent; fetch: typeof undiciFetch }> {
    this.#client ??= import("undici").then(({ Agent, buildConnector, fetch }) => {
      const opts = this.#opts;
      const connect = buildConnector({ timeout: opts.timeoutMs ?? FETCH_TIMEOUT_MS });
      const agent = new Agent({
        keepAliveTimeout: 4_000,
        connect: (options, callback) => {
          this.#pinnedAddress(options.hostname).then(
            (address) => {
              opts.onConnect?.({ host: options.hostname, address, port: options.port });
              // Connect to the address that was checked; TLS (SNI and the certificate check) still uses the name.
              const servername = options.servername ?? (isIP(options.hostname) ? undefined : options.hostname);
              connect({ ...options, hostname: address, ...(servername ? { servername } : {}) }, callback);
            },
            (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), null),
          );
        },
      });
      return { agent, fetch };
    });
    return this.#client;
  }

  /** The address to connect to for `hostname`, after every address it resolves to passed the check. */
  async #pinnedAddress(hostname: string): Promise<string> {
    const host = hostname.replace(/^\[|\]$/g, "");
    let addresses: ResolvedAddress[];
    if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
    else {
      try {
        addresses = await this.#resolve(host);
      } catch (err) {
        throw new WebFetchError("not_found", `cannot resolve ${host}`, {}, { cause: err });
      }
      if (addresses.length === 0) throw new WebFetchError("not_found", `${host} has no addresses`);
    }
    // Every address must pass: a name that answers one public and one private address is refused outright.
    for (const { address } of addresses) {
      const verdict = checkAddress(address, { allowPrivate: this.#opts.allowPrivate });
      if (!verdict.allowed) {
        throw new WebFetchError("refused", `${host} resolves to ${address} (${verdict.range})`, { range: verdict.range });
      }
    }
    return addresses[0]!.address;
  }

  /**
   * GETs `url`, following up to 5 redirects, each hop behind the address check; the body (decompressed) at most
   * 5 MB, everything within 10 s. Throws WebFetchError.
   */
  async fetch(url: string, opts: { signal?: AbortSignal; accept?: string; language?: string } = {}): Promise<FetchedResource> {
    const maxRedirects = this.#opts.maxRedirects ?? MAX_REDIRECTS;
    const deadline = AbortSignal.timeout(this.#opts.timeoutMs ?? FETCH_TIMEOUT_MS);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    const fail = (err: unknown, at: URL): WebFetchError => {
      if (opts.signal?.aborted) return new WebFetchError("aborted", "the fetch was cancelled", { url: at.href }, { cause: err });
      if (deadline.aborted) return new WebFetchError("timeout", `no complete answer from ${at.host} in time`, { url: at.href }, { cause: err });
      const found = foundWebError(err);
      if (found) return found;
      const code = errorCode(err);
      if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
        return new WebFetchError("timeout", `${at.host} did not answer in time`, { url: at.href }, { cause: err });
      }
      return new WebFetchError("network", `cannot fetch from ${at.host}${code ? ` (${code})` : ""}`, { url: at.href }, { cause: err });
    };

    let current = SafeFetcher.parse(url);
    for (let redirects = 0; ; redirects++) {
      let response: Awaited<ReturnType<typeof undiciFetch>>;
      try {
        const undici = await this.#undici();
        response = await undici.fetch(current, {
          dispatcher: undici.agent,
          redirect: "manual",
          signal,
          headers: {
            accept: opts.accept ?? DEFAULT_ACCEPT,
            "user-agent": this.#opts.userAgent ?? DEFAULT_USER_AGENT,
            ...(opts.language ? { "accept-language": `${opts.language},en;q=0.5` } : {}),
          },
        });
      } catch (err) {
        throw fail(err, current);
      }
      if (REDIRECTS.has(response.status)) {
        await response.body?.cancel().catch(() => undefined);
        const location = response.headers.get("location");
        if (!location) throw new WebFetchError("status", `${response.status} without a Location`, { status: response.status, url: current.href });
        if (redirects >= maxRedirects) throw new WebFetchError("redirects", `more than ${maxRedirects} redirects`, { url: current.href });
        current = SafeFetcher.parse(location, current);
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new WebFetchError("status", `${current.host} answered ${response.status}`, { status: response.status, url: current.href });
      }
      let bytes: Uint8Array;
      try {
        bytes = await readBoundedBody(response, this.#opts.maxBytes ?? MAX_PAGE_BYTES);
      } catch (err) {
        if (err instanceof BodyTooLargeError) throw new WebFetchError("too_large", `the page is over ${err.limit} bytes`, { url: current.href });
        throw fail(err, current);
      }
      return {
        url: current.href,
        status: response.status,
        contentType: (response.headers.get("content-type") ?? "").toLowerCase(),
        bytes,
        redirects,
      };
    }
  }

  /** An http(s) URL fetch can send, resolved against `base` (a redirect's Location). */
  static parse(url: string, base?: URL): URL {
    let parsed: URL;
    try {
      parsed = new URL(url, base);
    } catch {
      throw new WebFetchError("invalid_url", "not a URL");
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new WebFetchError("invalid_url", `${parsed.protocol} URLs are not fetched`, { url: parsed.href });
    }
    if (parsed.username || parsed.password) throw new WebFetchError("invalid_url", "URLs with credentials are not fetched");
    parsed.hash = "";
    return parsed;
  }

  /** Closes idle connections; fetches in flight fail. */
  async close(): Promise<void> {
    const client = await this.#client?.catch(() => undefined);
    await client?.agent.close().catch(() => undefined);
  }
}
