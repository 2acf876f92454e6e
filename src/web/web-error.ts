/** Why a page could not be fetched on a user's behalf; each reason is one line the user is told (bot/ words it). */
export type WebFetchErrorReason =
  /** Not an http(s) URL, or one fetch cannot send (credentials in it). */
  | "invalid_url"
  /** The SSRF guard: the host is (or resolves to) an address the bot may not connect to. */
  | "refused"
  /** The name does not resolve. */
  | "not_found"
  /** Over the byte limit. */
  | "too_large"
  /** Over the time limit. */
  | "timeout"
  /** Over the redirect limit (or a redirect loop). */
  | "redirects"
  /** The server answered with an error status. */
  | "status"
  /** Connection refused or reset, TLS failure. */
  | "network"
  /** The answer's own signal (stop, shutdown). */
  | "aborted";

/** A fetch on a user's behalf that did not deliver; `message` is for logs, `reason` for the user. */
export class WebFetchError extends Error {
  override readonly name = "WebFetchError";
  constructor(
    readonly reason: WebFetchErrorReason,
    message: string,
    readonly details: { status?: number; url?: string; range?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
