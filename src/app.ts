/**
 * Wires the bot together and runs it; main.ts adds the process around it (env, signals, exit codes) and tests start
 * it in-process against the local test servers exactly the same way.
 */
import { setMaxListeners } from "node:events";
import { createServer, type Server } from "node:http";
import { Api, GrammyError, HttpError, webhookCallback } from "grammy";
import { run, type RunnerHandle } from "@grammyjs/runner";
import OpenAI from "openai";
import type { Config } from "./config.js";
import { createLogger, type Logger } from "./logger.js";
import { createI18n } from "./i18n.js";
import { ChatEngine } from "./ai/chat-engine.js";
import { encodingForModel } from "./ai/models.js";
import { loadEncoding } from "./ai/tokens.js";
import { openStore } from "./storage/store.js";
import { HistoryStore } from "./storage/history.js";
import { UsageStore } from "./storage/usage.js";
import { ChatSettingsStore } from "./storage/settings.js";
import { AccessControl } from "./bot/access.js";
import { parsePriceOverrides, type PriceTable } from "./ai/pricing.js";
import { createWeatherClient } from "./ai/tools/weather.js";
import { createIpfsPinner } from "./ipfs/pin.js";
import { Pacer } from "./telegram/pacer.js";
import { DraftSupport } from "./telegram/answer-stream.js";
import { createBot, registerCommands } from "./bot/create-bot.js";
import type { BotContext, BotDeps } from "./bot/context.js";
import type { Bot } from "grammy";

/** Start-up failed for a reason the operator must fix; main.ts prints the message as one line. */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

export interface App {
  bot: Bot<BotContext>;
  deps: BotDeps;
  /** Stops taking updates, lets answers in flight finish (bounded), then closes everything. Idempotent. */
  stop(reason?: string): Promise<void>;
  /** Resolves when the app has stopped. */
  stopped: Promise<void>;
  /** Number of updates whose handling has ended. */
  readonly handled: number;
  /** Resolves once at least `count` updates have been handled (tests and benchmarks wait on it). */
  whenHandled(count: number, timeoutMs?: number): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  /** How long answers in flight may take to finish on shutdown before they are cut short (ms). */
  gracePeriodMs?: number;
  /** The clock of usage days, rate limits, budgets and the admin cache (tests move it instead of waiting). */
  now?: () => Date;
}

export async function startApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const log =
    opts.logger ?? createLogger({ level: config.logLevel, secrets: [config.telegram.token, config.openai.apiKey] });
  const gracePeriodMs = opts.gracePeriodMs ?? 25_000;

  // The model's token table is read while the store opens and Telegram answers (milliseconds: a built file), and
  // awaited before the first update is taken; a failure before then must not surface as an unhandled rejection.
  const encoding = encodingForModel(config.openai.model);
  const tokenizerReady = loadEncoding(encoding);
  tokenizerReady.catch(() => undefined);

  let prices: PriceTable | undefined;
  try {
    prices = config.modelPrices ? parsePriceOverrides(config.modelPrices) : undefined;
  } catch (err) {
    throw new StartupError(`MODEL_PRICES ${err instanceof Error ? err.message : String(err)}`);
  }
  const store = await openStore(config.storeUrl, { onError: (err) => log.error({ err }, "store error") }).catch(
    (err: unknown) => {
      throw new StartupError(`STORE_URL: ${err instanceof Error ? err.message : String(err)}`);
    },
  );

  const shutdown = new AbortController();
  // Every answer in flight listens to it (hundreds at once under load): not a leak.
  setMaxListeners(0, shutdown.signal);
  const openai = new OpenAI({
    apiKey: config.openai.apiKey,
    baseURL: config.openai.baseURL,
    // One quick retry for connection errors before streaming starts; the user hears about anything longer.
    maxRetries: 1,
    timeout: config.openai.idleTimeoutMs,
  });
  const deps: BotDeps = {
    config,
    log,
    openai,
    engine: new ChatEngine({ openai, idleTimeoutMs: config.openai.idleTimeoutMs, log }),
    store,
    history: new HistoryStore(store.keyv, { budgetTokens: config.historyTokenBudget }),
    pacer: new Pacer(),
    drafts: new DraftSupport(),
    // The chat's language (/settings) wins over the user's Telegram language.
    i18n: createI18n<BotContext>({ chatLocale: async (ctx) => (await ctx.chatSettings()).language }),
    shutdown: shutdown.signal,
    encoding,
    usage: new UsageStore(store.keyv, { now: opts.now }),
    prices,
    settings: new ChatSettingsStore(store.keyv),
    access: new AccessControl(store.keyv, config, { now: opts.now }),
    weather: createWeatherClient(config.weather),
    ipfs: config.ipfs.apiUrl ? createIpfsPinner({ apiUrl: config.ipfs.apiUrl, gatewayUrl: config.ipfs.gatewayUrl }) : undefined,
  };

  // The highest update that started being handled: confirmed to Telegram on shutdown so it is not delivered again.
  let lastUpdateId = -1;
  let handled = 0;
  let inFlight = 0;
  const waiters = new Set<{ count: number; resolve: () => void }>();
  let onIdle: (() => void) | undefined;
  const bot = createBot(config.telegram.token, deps, {
    onUpdate: (id) => {
      inFlight++;
      if (id > lastUpdateId) lastUpdateId = id;
    },
    onUpdateDone: () => {
      inFlight--;
      handled++;
      for (const w of waiters) {
        if (handled < w.count) continue;
        waiters.delete(w);
        w.resolve();
      }
      if (inFlight === 0) onIdle?.();
    },
  });
  // The runner's stop() only stops fetching; updates already being handled are awaited here.
  const idle = () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => (onIdle = r)));
  try {
    await bot.init();
  } catch (err) {
    await store.close().catch(() => undefined);
    if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404)) {
      throw new StartupError("TELEGRAM_BOT_TOKEN was rejected by Telegram (401 Unauthorized): check the token");
    }
    if (err instanceof HttpError) {
      throw new StartupError(`cannot reach the Telegram Bot API at ${config.telegram.apiRoot}: ${err.error instanceof Error ? err.error.message : String(err.error)}`);
    }
    throw err;
  }
  await registerCommands(bot, deps).catch((err: unknown) => log.warn({ err }, "setMyCommands failed"));

  await tokenizerReady;
  let runner: RunnerHandle | undefined;
  let server: Server | undefined;
  if (config.mode === "polling") {
    await bot.api.deleteWebhook();
    runner = run(bot, {
      runner: { fetch: { allowed_updates: ["message", "edited_message", "callback_query", "my_chat_member"] }, silent: true },
      sink: { concurrency: 500 },
    });
  } else {
    server = await startWebhook(bot, config, log);
  }
  log.info({ username: bot.botInfo.username, mode: config.mode, store: config.storeUrl.split(":")[0] }, "bot started");

  let stopping: Promise<void> | undefined;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));

  const stop = (reason = "stop") => {
    stopping ??= (async () => {
      log.info({ reason }, "stopping: finishing answers in flight");
      const graceTimer = setTimeout(() => shutdown.abort(new Error("shutdown")), gracePeriodMs);
      try {
        // The runner's stop() also waits out its reconnect back-off, which grows to minutes while the Bot API is
        // unreachable; updates in flight are awaited below anyway, so give it a few seconds at most.
        if (runner?.isRunning()) await Promise.race([runner.stop(), new Promise((r) => setTimeout(r, 5000).unref())]);
        if (server) await new Promise<void>((r) => server!.close(() => r()));
        // Bounded: answers are aborted at the grace period and finish within moments; a handler stuck beyond
        // that does not keep the process alive.
        await Promise.race([idle(), new Promise((r) => setTimeout(r, gracePeriodMs + 10_000).unref())]);
        if (runner && lastUpdateId >= 0) {
          // Confirm what was handled; the runner would only do so with its next getUpdates call.
          // Without retries and bounded: an unreachable Bot API must not hold the shutdown.
          await new Api(config.telegram.token, { apiRoot: config.telegram.apiRoot })
            .getUpdates({ offset: lastUpdateId + 1, limit: 1, timeout: 0 }, AbortSignal.timeout(5000) as Parameters<Api["getUpdates"]>[1])
            .catch((err: unknown) => log.warn({ err }, "could not confirm handled updates"));
        }
      } finally {
        clearTimeout(graceTimer);
        shutdown.abort(new Error("shutdown"));
        await store.close().catch((err: unknown) => log.warn({ err }, "store close failed"));
        log.info("stopped");
        resolveStopped();
      }
    })();
    return stopping;
  };

  const whenHandled = (count: number, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      if (handled >= count) return resolve();
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`only ${handled} of ${count} updates handled within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(waiter);
    });

  return {
    bot,
    deps,
    stop,
    stopped,
    get handled() {
      return handled;
    },
    whenHandled,
  };
}

async function startWebhook(bot: Bot<BotContext>, config: Config, log: Logger): Promise<Server> {
  const secret = config.webhook.secret;
  // Answers take longer than Telegram waits for a webhook reply: acknowledge and keep working.
  const handle = webhookCallback(bot, "http", { onTimeout: "return", timeoutMilliseconds: 8000, secretToken: secret });
  const server = createServer((req, res) => {
    if (req.method !== "POST") {
      res.writeHead(req.url === "/healthz" ? 200 : 404).end();
      return;
    }
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, "webhook update failed");
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.webhook.port, resolve);
  });
  try {
    await bot.api.setWebhook(config.webhook.url!, {
      secret_token: secret,
      allowed_updates: ["message", "edited_message", "callback_query", "my_chat_member"],
    });
  } catch (err) {
    server.close();
    if (err instanceof GrammyError) throw new StartupError(`WEBHOOK_URL was refused by Telegram: ${err.description}`);
    throw err;
  }
  return server;
}
