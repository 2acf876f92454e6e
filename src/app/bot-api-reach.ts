/**
 * Start-up's first question to Telegram (getMe), bounded in time. grammY's auto-retry retries network errors without
 * limit and its client waits 500 s for an answer, so an unreachable Bot API would hang start-up silently; here every
 * attempt has its own timeout, failures are retried with a growing, jittered pause, and after the deadline the
 * operator reads one line saying what went wrong.
 */
import { Api, GrammyError, HttpError } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import pRetry, { AbortError } from "p-retry";
import { StartupError } from "./startup-error.js";

export interface ReachOptions {
  /** How long start-up keeps trying before it gives up (ms). */
  deadlineMs?: number;
  /** How long one getMe may take (ms): a server that accepts and never answers must not use up the deadline. */
  attemptTimeoutMs?: number;
}

/** Within 30 s of `npm start` the operator knows, with the process's own start-up time included. */
export const REACH_DEADLINE_MS = 10_000;
const ATTEMPT_TIMEOUT_MS = 6000;

/**
 * The bot's own user, from getMe at `apiRoot` without auto-retry. Rejects with a StartupError: at once when the token
 * is refused, after the deadline when the Bot API cannot be reached or keeps failing (5xx). The message never
 * contains the token (node-fetch's errors carry the request URL, and the URL carries the token).
 */
export async function reachBotApi(token: string, apiRoot: string, opts: ReachOptions = {}): Promise<UserFromGetMe> {
  const deadlineMs = opts.deadlineMs ?? REACH_DEADLINE_MS;
  const attemptTimeoutMs = opts.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const api = new Api(token, { apiRoot });
  const deadline = Date.now() + deadlineMs;
  // What the Bot API last said (or how reaching it last failed): an attempt that the deadline cut short says less.
  let telling: unknown;
  try {
    return await pRetry(
      async () => {
        const budget = deadline - Date.now();
        const timeout = AbortSignal.timeout(Math.max(1, Math.min(attemptTimeoutMs, budget)));
        try {
          return await api.getMe(timeout as Parameters<Api["getMe"]>[0]);
        } catch (err) {
          // A refusal is final: retrying cannot make the token valid.
          if (err instanceof GrammyError && err.error_code < 500 && err.error_code !== 429) throw new AbortError(err);
          if (!(timeout.aborted && budget < attemptTimeoutMs) || telling === undefined) telling = err;
          throw err;
        }
      },
      {
        retries: Infinity,
        minTimeout: 500,
        factor: 2,
        maxTimeout: 4000,
        randomize: true,
        maxRetryTime: deadlineMs,
      },
    );
  } catch (err) {
    throw new StartupError(explain(err instanceof GrammyError ? err : (telling ?? err), token, apiRoot, deadlineMs));
  }
}

function explain(err: unknown, token: string, apiRoot: string, deadlineMs: number): string {
  if (err instanceof GrammyError) {
    if (err.error_code === 401 || err.error_code === 404) {
      return "TELEGRAM_BOT_TOKEN was rejected by Telegram (401 Unauthorized): check the token";
    }
    const tried = err.error_code >= 500 || err.error_code === 429 ? ` (tried for ${Math.round(deadlineMs / 1000)} s)` : "";
    return scrub(`cannot reach the Telegram Bot API at ${apiRoot}: it answered ${err.error_code} ${err.description}${tried}`, token);
  }
  const reason = err instanceof HttpError ? networkReason(err.error) : err instanceof Error ? err.message : String(err);
  return scrub(`cannot reach the Telegram Bot API at ${apiRoot}: ${reason} (tried for ${Math.round(deadlineMs / 1000)} s)`, token);
}

/** What went wrong on the way, without the request URL (it carries the token). */
function networkReason(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  if (cause.name === "AbortError" || /timed out|aborted/i.test(cause.message)) return "no answer in time";
  const code = (cause as { code?: unknown }).code;
  const reason = /reason: (.*)$/.exec(cause.message)?.[1];
  if (typeof code === "string") return reason ?? code;
  return reason ?? cause.message;
}

function scrub(line: string, token: string): string {
  return line.split(token).join("[redacted]");
}
