import { Api, GrammyError, type Bot, type BotError } from "grammy";
import type { Update } from "grammy/types";
import { createConcurrentSink, createRunner, createSource, type UpdateSupplier } from "@grammyjs/runner";
import pRetry from "p-retry";
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
 * Long polling with grammY's runner: updates of different chats are handled concurrently (up to 500 at once).
 *
 * The runner's own fetcher goes through the bot's auto-retry, which retries network errors forever with pauses that
 * grow to an hour, and then retries 5xx with a back-off that is unbounded too; an outage of a few minutes could keep
 * the bot deaf for an hour. Here getUpdates runs without auto-retry, each call bounded in time, and every failure is
 * followed by a jittered pause of at most 30 s (PollBackoff): the process stays up through an outage and is back
 * within that bound once Telegram is.
 */
export async function startPolling(bot: Bot<BotContext>, opts: PollingOptions): Promise<Ingress> {
  try {
    await bot.api.deleteWebhook(undefined, AbortSignal.timeout(15_000) as Parameters<Api["deleteWebhook"]>[1]);
  } catch (err) {
    const reason = err instanceof GrammyError ? `${err.error_code} ${err.description}` : "no answer in time";
    throw new StartupError(`cannot reach the Telegram Bot API at ${opts.apiRoot}: deleteWebhook failed (${reason})`);
  }
  const source = createSource(updateSupplier(new Api(opts.token, { apiRoot: opts.apiRoot }), opts.log, opts.backoff ?? DEFAULT_BACKOFF));
  const sink = createConcurrentSink<Update, BotError<BotContext>>(
    { consume: (update) => bot.handleUpdate(update) },
    async (err: BotError<BotContext>) => {
      // The bot's error handler logs; it only throws if it fails itself.
      await Promise.resolve(bot.errorHandler(err)).catch((e: unknown) => opts.log.error({ err: e }, "error handler failed"));
    },
    { concurrency: 500 },
  );
  const runner = createRunner(source, sink);
  runner.start();
  return {
    async stop() {
      // Bounded: a poll in flight is aborted at once, but an unreachable Bot API must not hold the shutdown.
      if (runner.isRunning()) await Promise.race([runner.stop(), new Promise((r) => setTimeout(r, 5000).unref())]);
    },
    async confirm(lastUpdateId) {
      if (lastUpdateId < 0) return;
      // Confirm what was handled; the runner would only do so with its next getUpdates call.
      // Without retries and bounded: an unreachable Bot API must not hold the shutdown.
      await new Api(opts.token, { apiRoot: opts.apiRoot })
        .getUpdates({ offset: lastUpdateId + 1, limit: 1, timeout: 0 }, AbortSignal.timeout(5000) as Parameters<Api["getUpdates"]>[1])
        .catch((err: unknown) => opts.log.warn({ err }, "could not confirm handled updates"));
    },
  };
}

/**
 * getUpdates for the runner's source: retried until it succeeds or the runner stops (its signal), with a bounded,
 * jittered back-off; a 429 waits its retry_after. The offset advances past every update returned.
 */
function updateSupplier(api: Api, log: Logger, backoff: PollBackoff): UpdateSupplier<Update> {
  let offset = 0;
  let outageSince: number | undefined;
  return {
    async supply(batchSize, runnerSignal) {
      const signal = nativeSignal(runnerSignal);
      const updates = await pRetry(
        () =>
          api.getUpdates(
            { offset, limit: Math.max(1, Math.min(batchSize, 100)), timeout: LONG_POLL_SECONDS, allowed_updates: [...ALLOWED_UPDATES] },
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
            outageSince ??= Date.now();
            const retryAfter = error instanceof GrammyError ? error.parameters.retry_after : undefined;
            // Said once at warn level, then quieter while it lasts; the error itself is logged (scrubbed of the token).
            log[attemptNumber === 1 ? "warn" : "debug"]({ err: error, attempt: attemptNumber }, "cannot fetch updates from the Telegram Bot API; retrying");
            if (retryAfter !== undefined) await sleep(retryAfter * 1000, signal);
          },
        },
      );
      if (outageSince !== undefined) {
        log.info({ outageMs: Date.now() - outageSince }, "Telegram Bot API reachable again");
        outageSince = undefined;
      }
      const last = updates[updates.length - 1];
      if (last) offset = last.update_id + 1;
      return updates;
    },
  };
}

/** The runner hands out a polyfilled AbortSignal (no reason, not accepted by AbortSignal.any): follow it natively. */
function nativeSignal(signal: { aborted: boolean; addEventListener(type: "abort", listener: () => void): void }): AbortSignal {
  const controller = new AbortController();
  if (signal.aborted) controller.abort(new Error("polling stopped"));
  else signal.addEventListener("abort", () => controller.abort(new Error("polling stopped")));
  return controller.signal;
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
