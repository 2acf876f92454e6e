import { Api, type Bot } from "grammy";
import { run } from "@grammyjs/runner";
import type { BotContext } from "../bot/context.js";
import type { Logger } from "../util/logger.js";
import { ALLOWED_UPDATES, type Ingress } from "./ingress.js";

/** Long polling with grammY's runner: updates of different chats are handled concurrently. */
export async function startPolling(bot: Bot<BotContext>, opts: { token: string; apiRoot: string; log: Logger }): Promise<Ingress> {
  await bot.api.deleteWebhook();
  const runner = run(bot, {
    runner: { fetch: { allowed_updates: [...ALLOWED_UPDATES] }, silent: true },
    sink: { concurrency: 500 },
  });
  return {
    async stop() {
      // The runner's stop() also waits out its reconnect back-off, which grows to minutes while the Bot API is
      // unreachable; updates in flight are awaited by the app anyway, so give it a few seconds at most.
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
