/**
 * OpenAI's error body (`{ error: { message, type, param, code } }`) with the messages the real API gives for the
 * statuses the test server answers, so the openai SDK maps them to the same error classes it maps real ones to.
 */

const ERROR_DEFAULTS: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: "Bad request", type: "invalid_request_error", code: null },
  401: { message: "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key" },
  403: { message: "You are not allowed to sample from this model", type: "invalid_request_error", code: null },
  404: { message: "The model does not exist or you do not have access to it.", type: "invalid_request_error", code: "model_not_found" },
  413: { message: "Request entity too large", type: "server_error", code: null },
  429: { message: "Rate limit reached for requests. Please try again in 1s.", type: "requests", code: "rate_limit_exceeded" },
  500: { message: "The server had an error while processing your request. Sorry about that!", type: "server_error", code: null },
  503: { message: "The engine is currently overloaded, please try again later.", type: "server_error", code: null },
};

/**
 * The JSON body OpenAI answers with `status`. `message` and `code` default to what the real API says for that status;
 * `param` names the offending request field where OpenAI names one.
 */
export function errorBody(status: number, message?: string, code?: string | null, param: string | null = null): object {
  const base = ERROR_DEFAULTS[status] ?? { message: `Error ${status}`, type: "server_error", code: null };
  return { error: { message: message ?? base.message, type: base.type, param, code: code === undefined ? base.code : code } };
}

/** Masks an API key as OpenAI does in its 401 message (`sk-***abcd`): the full key never appears in an error. */
export function maskKey(key: string): string {
  return key.length <= 8 ? "***" : `${key.slice(0, 3)}***${key.slice(-4)}`;
}

/** A plain JSON object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
