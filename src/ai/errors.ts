import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from "openai";

/** Why a model call failed, in the terms the user is told about. */
export type ModelErrorKind =
  | "auth" // 401/403: the key is wrong or lacks access
  | "quota" // 429 insufficient_quota: the account has no credit
  | "rate_limit" // 429: too many requests right now
  | "server" // 5xx
  | "timeout" // no answer (or no new token) in time
  | "interrupted" // the stream stopped mid-answer
  | "connection" // the server could not be reached
  | "refused" // content policy
  | "bad_request" // 400/404/422: the request itself (e.g. an unknown model)
  | "length" // the answer reached its token limit
  | "aborted"; // we cancelled it (shutdown, stop button)

export class ModelError extends Error {
  override readonly name = "ModelError";
  constructor(
    readonly kind: ModelErrorKind,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Maps whatever the openai SDK (or the network) threw to a ModelError. */
export function toModelError(err: unknown, context: { timedOut?: boolean; aborted?: boolean } = {}): ModelError {
  if (err instanceof ModelError) return err;
  if (context.timedOut) return new ModelError("timeout", "the model did not answer in time", undefined, { cause: err });
  if (context.aborted || err instanceof APIUserAbortError) {
    return new ModelError("aborted", "the answer was cancelled", undefined, { cause: err });
  }
  if (err instanceof APIConnectionTimeoutError) return new ModelError("timeout", "the model request timed out", undefined, { cause: err });
  if (err instanceof APIConnectionError) return new ModelError("connection", "cannot reach the model server", undefined, { cause: err });
  if (err instanceof APIError) {
    // instanceof narrows to APIError<any>: the SDK's own declaration says what status is.
    const status = (err as APIError).status;
    const code = typeof err.code === "string" ? err.code : "";
    const message = `model server answered ${status ?? "an error"}${code ? ` (${code})` : ""}`;
    if (status === 401 || status === 403) return new ModelError("auth", message, status, { cause: err });
    if (status === 429) return new ModelError(code === "insufficient_quota" ? "quota" : "rate_limit", message, status, { cause: err });
    if (status !== undefined && status >= 500) return new ModelError("server", message, status, { cause: err });
    if (code === "content_policy_violation" || code === "moderation_blocked") {
      return new ModelError("refused", message, status, { cause: err });
    }
    return new ModelError("bad_request", message, status, { cause: err });
  }
  // The SDK reading a socket that was cut surfaces as a plain Error (e.g. "terminated", ECONNRESET).
  return new ModelError("interrupted", "the answer stream was interrupted", undefined, { cause: err });
}
