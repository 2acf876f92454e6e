/**
 * Adds bytes to an IPFS node through the Kubo RPC API and pins them.
 *
 * `add` with `pin: true` pins the root recursively inside the same RPC (Kubo's `ipfs add` pins before it answers, and
 * fails the request if pinning fails), so no separate `pin/add` round trip is made.
 */
import { Buffer } from "node:buffer";
import type { KuboRPCClient } from "kubo-rpc-client";

export interface PinResult {
  cid: string;
  /** Gateway URL of the content: gateway + cid. */
  url: string;
}

export type IpfsPinErrorReason = "unreachable" | "timeout" | "rejected";

export class IpfsPinError extends Error {
  override readonly name = "IpfsPinError";
  readonly reason: IpfsPinErrorReason;

  constructor(reason: IpfsPinErrorReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

export interface IpfsPinnerOptions {
  /** Kubo RPC endpoint, e.g. `http://127.0.0.1:5001` (`/api/v0` is appended when the URL has no path). */
  apiUrl: string;
  /** e.g. `https://ipfs.io/ipfs/` or `https://ipfs.io` (then `/ipfs/` is appended). */
  gatewayUrl: string;
  /** Upper bound for one pin, whole request included. Default 20 000 ms. */
  timeoutMs?: number;
}

export interface IpfsPinner {
  /**
   * Adds and pins `bytes` (CIDv0, Kubo's default DAG). Throws IpfsPinError, or the caller's `signal.reason` when the
   * caller aborted.
   */
  pin(bytes: Uint8Array, signal?: AbortSignal): Promise<PinResult>;
}

export const DEFAULT_PIN_TIMEOUT_MS = 20_000;

export function createIpfsPinner(opts: IpfsPinnerOptions): IpfsPinner {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PIN_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new RangeError("timeoutMs must be positive");
  const gateway = gatewayPrefix(opts.gatewayUrl);
  const client = createClient(opts.apiUrl);

  return {
    async pin(bytes, signal) {
      signal?.throwIfAborted();
      const timeout = AbortSignal.timeout(timeoutMs);
      const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
      // kubo-rpc-client does not stop on its own `timeout` option (it only forwards it to Kubo as `?timeout=`), so the
      // bound comes from our signal; the forwarded timeout lets Kubo give up on its side too.
      const aborted = new Promise<never>((_, reject) => {
        const onAbort = () => reject(new Error("aborted"));
        if (combined.aborted) onAbort();
        else combined.addEventListener("abort", onAbort, { once: true });
      });
      aborted.catch(() => undefined);
      try {
        const adding = client().then((kubo) => kubo.add(bytes, { pin: true, cidVersion: 0, signal: combined, timeout: timeoutMs }));
        // When `aborted` wins the race, a late rejection of `adding` must not become an unhandled rejection.
        adding.catch(() => undefined);
        const added = await Promise.race([adding, aborted]);
        const cid = added.cid.toString();
        return { cid, url: gateway + cid };
      } catch (err) {
        if (signal?.aborted === true) throw signal.reason;
        if (timeout.aborted) throw new IpfsPinError("timeout", `IPFS node did not answer within ${timeoutMs} ms`);
        throw toPinError(err);
      }
    },
  };
}

/** The gateway URL with a trailing slash, `/ipfs/` added when it has no path. */
export function gatewayPrefix(gatewayUrl: string): string {
  let url: URL;
  try {
    url = new URL(gatewayUrl);
  } catch {
    throw new TypeError("IPFS gateway URL is not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError("IPFS gateway URL must be http(s)");
  let path = url.pathname;
  if (path === "" || path === "/") path = "/ipfs/";
  if (!path.endsWith("/")) path += "/";
  return `${url.origin}${path}`;
}

/**
 * The URL is checked now; kubo-rpc-client (a quarter of a second and several MB to load) is imported on the first pin,
 * so a bot that never pins a picture never loads it.
 */
function createClient(apiUrl: string): () => Promise<KuboRPCClient> {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new TypeError("IPFS API URL is not a valid URL");
  }
  // fetch refuses URLs with credentials; send them as Basic auth instead (common for a Kubo behind a proxy).
  const headers: Record<string, string> = {};
  if (url.username !== "" || url.password !== "") {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    url.username = "";
    url.password = "";
  }
  const options = { url: url.toString().replace(/\/$/, ""), headers };
  let client: Promise<KuboRPCClient> | undefined;
  return () => (client ??= import("kubo-rpc-client").then(({ create }) => create(options)));
}

/** Maps kubo-rpc-client and fetch failures; messages carry no URL (it may hold credentials). */
function toPinError(err: unknown): IpfsPinError {
  const error = err instanceof Error ? err : new Error(String(err));
  if (error.name === "TimeoutError") return new IpfsPinError("timeout", "IPFS node timed out");
  const response = (error as { response?: unknown }).response;
  if (error.name === "HTTPError" && response instanceof Response) {
    const status = response.status;
    // A proxy in front of a stopped or overloaded node.
    if (status === 502 || status === 503) return new IpfsPinError("unreachable", `IPFS node unavailable (HTTP ${status})`);
    if (status === 504 || status === 408) return new IpfsPinError("timeout", `IPFS node timed out (HTTP ${status})`);
    // Kubo's own errors carry a short message (never the URL); proxies answer HTML, keep only the status then.
    const isKuboMessage = (response.headers.get("content-type") ?? "").startsWith("application/json");
    const detail = isKuboMessage ? `: ${truncate(error.message, 200)}` : "";
    return new IpfsPinError("rejected", `IPFS node rejected the upload (HTTP ${status})${detail}`);
  }
  const code = networkErrorCode(error);
  if (code !== undefined || (error instanceof TypeError && error.message === "fetch failed")) {
    return new IpfsPinError("unreachable", `IPFS node unreachable${code === undefined ? "" : ` (${code})`}`);
  }
  // Anything else (a malformed answer) means the node did not give us a usable CID.
  return new IpfsPinError("rejected", "IPFS node gave an unusable answer");
}

function networkErrorCode(error: Error): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) return code;
  }
  return undefined;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
