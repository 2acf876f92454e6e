import { Api, GrammyError, type Bot } from "grammy";
import type { Update } from "grammy/types";
import pRetry from "p-retry";
import type { UpdateQueue } from "../storage/queue/update-queue.js";
import { updatesReceived } from "../util/metrics.js";
import type { BotContext } from "../bot/context.js";
import type { Logger } from "../util/logger.js";
import { ALLOWED_UPDATES, type Ingress } from "./ingress.js";
import { StartupError } from "./startup-error.js";

/** Pauses between failed getUpdates calls: from half a second, doubling, jittered (×1–2), never above 30 s. */
export interface PollBackoff {
  minMs: number;
  maxMs: number;
}

const DEFAULT_BACKOFF: PollBackoff = { minMs: 500, maxMs: 30_000 };
/** Telegram holds a long poll this long when nothing happens (s). */
const LONG_POLL_SECONDS = 30;
/** A poll that has not been answered this long after its own timeout hangs: give up on it and poll again (ms). */
const POLL_GRACE_MS = 15_000;

export interface PollingOptions {
  token: string;
  apiRoot: string;
  log: Logger;
  backoff?: PollBackoff;
}

/**
 * Long polling into the update queue: each batch getUpdates returns is stored (queue.add) before the next getUpdates
 * confirms its offset to Telegram, so an update is never lost between the two; the queue hands updates to the bot.
 *
 * getUpdates runs without grammY's auto-retry (which retries network errors forever with pauses that grow to an
 * hour, and 5xx unboundedly too): each call is bounded in time, and every failure is followed by a jittered pause of
 * at most 30 s (PollBackoff), so the process stays up through an outage and is back within that bound once Telegram
 * is. A batch the queue cannot store (the store is unreachable) is kept in memory and stored again with the same
 * back-off, and no further update is asked for until it is safe.
 */
export async function startPolling(bot: Bot<BotContext>, queue: UpdateQueue, opts: PollingOptions): Promise<Ingress> {
  try {
    await bot.api.deleteWebhook(undefined, AbortSignal.timeout(15_000) as Parameters<Api["deleteWebhook"]>[1]);
  } catch (err) {
    const reason = err instanceof GrammyError ? `${err.error_code} ${err.description}` : "no answer in time";
    throw new StartupError(`cannot reach the Telegram Bot API at ${opts.apiRoot}: deleteWebhook failed (${reason})`);
  }
  const api = new Api(opts.token, { apiRoot: opts.apiRoot });
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const stopping = new AbortController();
  /** The offset of the next getUpdates: everything below it is stored. */
  let offset = 0;
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      let updates: Update[];
      try {
        updates = await fetchUpdates(api, offset, opts.log, backoff, stopping.signal);
        await storeUpdates(queue, updates, opts.log, backoff, stopping.signal);
      } catch {
        break; // stopped
      }
      const last = updates[updates.length - 1];
      if (last) offset = last.update_id + 1;
      updatesReceived.inc(updates.length);
    }
  })();
  return {
    async stop() {
      stopping.abort(new Error("polling stopped"));
      // Bounded: a poll in flight is aborted at once, but an unreachable Bot API must not hold the shutdown.
      await Promise.race([loop, new Promise((r) => setTimeout(r, 5000).unref())]);
    },
    async confirm() {
      if (offset === 0) return;
      // Everything fetched is stored: tell Telegram, so a restart does not fetch it again (it would be dropped as a
      // redelivery anyway). Without retries and bounded: an unreachable Bot API must not hold the shutdown.
      await api
        .getUpdates({ offset, limit: 1, timeout: 0 }, AbortSignal.timeout(5000) as Parameters<Api["getUpdates"]>[1])
        .catch((err: unknown) => opts.log.warn({ err }, "could not confirm stored updates"));
    },
  };
}

/**
 * getUpdates, retried until it succeeds or polling stops, with a bounded, jittered back-off; a 429 waits its
 * retry_after.
 */
async function fetchUpdates(api: Api, offset: number, log: Logger, backoff: PollBackoff, signal: AbortSignal): Promise<Update[]> {
  let outageSince: number | undefined;
  const updates = await pRetry(
    () =>
      api.getUpdates(
        { offset, limit: 100, timeout: LONG_POLL_SECONDS, allowed_updates: [...ALLOWED_UPDATES] },
        AbortSignal.any([signal, AbortSignal.timeout(LONG_POLL_SECONDS * 1000 + POLL_GRACE_MS)]) as Parameters<Api["getUpdates"]>[1],
      ),
    {
      retries: Infinity,
      minTimeout: backoff.minMs,
      maxTimeout: backoff.maxMs,
      factor: 2,
      randomize: true,
      signal,
      onFailedAttempt: async ({ error, attemptNumber }) => {
        // Polling stopped: the poll in flight was aborted on purpose, nothing failed.
        if (signal.aborted) return;
        outageSince ??= Date.now();
        const retryAfter = error instanceof GrammyError ? error.parameters.retry_after : undefined;
        // Said once at warn level, then quieter while it lasts; the error itself is logged (scrubbed of the token).
        log[attemptNumber === 1 ? "warn" : "debug"]({ err: error, attempt: attemptNumber }, "cannot fetch updates from the Telegram Bot API; retrying");
        if (retryAfter !== undefined) await sleep(retryAfter * 1000, signal);
      },
    },
  );
  if (outageSince !== undefined) log.info({ outageMs: Date.now() - outageSince }, "Telegram Bot API reachable again");
  return updates;
}

/** queue.add, retried with the same back-off while the store is unreachable; rejects only when polling stops. */
async function storeUpdates(queue: UpdateQueue, updates: Update[], log: Logger, backoff: PollBackoff, signal: AbortSignal): Promise<void> {
  if (updates.length === 0) return;
  let outageSince: number | undefined;
  await pRetry(() => queue.add(updates), {
    retries: Infinity,
    minTimeout: backoff.minMs,
    maxTimeout: Math.min(backoff.maxMs, 5000),
    factor: 2,
    randomize: true,
    signal,
    onFailedAttempt: ({ error, attemptNumber }) => {
      if (signal.aborted) return;
      outageSince ??= Date.now();
      log[attemptNumber === 1 ? "warn" : "debug"]({ err: error, attempt: attemptNumber }, "cannot store updates; retrying before taking more");
    },
  });
  if (outageSince !== undefined) log.info({ outageMs: Date.now() - outageSince }, "updates are stored again");
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
