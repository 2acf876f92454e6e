/**
 * The composition root: builds the services, hands the features and the command menu to the bot, takes updates by
 * polling or webhook, and stops gracefully. main.ts adds the process around it (env, signals, exit codes); tests
 * start it in-process against the local test servers exactly the same way.
 */
import { createHash } from "node:crypto";
import { setMaxListeners } from "node:events";
import { BotError, type Bot } from "grammy";
import type { Update } from "grammy/types";
import { DEFAULT_SYSTEM_PROMPT, type Config } from "./config.js";
import { createLogger, type Logger } from "./util/logger.js";
import { openStore } from "./storage/store.js";
import { openVectorStore } from "./storage/vectors/open.js";
import { encodingForModel } from "./ai/models.js";
import { loadEncoding } from "./ai/tokens.js";
import type { BotContext, BotDeps } from "./bot/context.js";
import { createBot } from "./bot/create-bot.js";
import { registerCommands } from "./bot/command-menus.js";
import { commandMenu, features } from "./features/index.js";
import type { Ingress } from "./app/ingress.js";
import { startPolling, type PollBackoff } from "./app/ingress-polling.js";
import { startWebhook } from "./app/ingress-webhook.js";
import { reachBotApi } from "./app/bot-api-reach.js";
import { buildServices } from "./app/services.js";
import { StartupError } from "./app/startup-error.js";
import { UpdateTracker } from "./app/update-tracker.js";
import { PersonaCatalogue, PersonaFileError } from "./services/personas.js";
import { startOpsServer } from "./app/ops-server.js";
import { openUpdateQueue } from "./storage/queue/open.js";
import type { UpdateQueue } from "./storage/queue/update-queue.js";
import { loadMetrics, setQueueStatsSource, updatesHandled } from "./util/metrics.js";

export { StartupError };

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
  /** Pauses between failed getUpdates calls (default: from 0.5 s, doubling, jittered, at most 30 s). */
  pollBackoff?: PollBackoff;
}

/** The most a start-up call after getMe (the command menu, deleteWebhook) may take, retries included. */
const STARTUP_CALL_TIMEOUT_MS = 15_000;

export async function startApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const log =
    opts.logger ??
    createLogger({
      level: config.logLevel,
      secrets: [config.telegram.token, config.openai.apiKey, ...(config.ingress.mode === "webhook" && config.ingress.secret ? [config.ingress.secret] : [])],
    });
  const gracePeriodMs = opts.gracePeriodMs ?? 25_000;

  // A local file with a mistake is the quickest problem to report: before anything is asked of the network.
  const personas = loadPersonas(config);

  // First, and bounded: an unreachable Bot API or a rejected token is reported within seconds, before anything opens.
  const botInfo = await reachBotApi(config.telegram.token, config.telegram.apiRoot);

  // The model's token table is read while the store opens and Telegram answers (milliseconds: a built file), and
  // awaited before the first update is taken; a failure before then must not surface as an unhandled rejection.
  const tokenizerReady = loadEncoding(encodingForModel(config.openai.model));
  tokenizerReady.catch(() => undefined);

  const store = await openStore(config.store, { onError: (err) => log.error({ err }, "store error") }).catch(
    (err: unknown) => {
      throw new StartupError(`STORE_URL: ${err instanceof Error ? err.message : String(err)}`);
    },
  );

  // Document vectors live beside the history, in the same backend (the SQLite file, Redis, PostgreSQL).
  const vectors = await openVectorStore(config.store, {
    onError: (err) => log.warn({ err }, "vector store error"),
    ...(opts.now ? { now: () => opts.now!().getTime() } : {}),
  }).catch(async (err: unknown) => {
    await store.close().catch(() => undefined);
    throw new StartupError(`STORE_URL (vectors): ${err instanceof Error ? err.message : String(err)}`);
  });
  // The update queue lives beside the store (the same SQLite file, Redis or PostgreSQL), keyed by the bot's id and
  // its Bot API server (a local Bot API server numbers its updates on its own): two bots sharing one Redis keep
  // their updates apart, and every instance of one bot shares them.
  // STORE_URL's ?prefix= (Redis) puts the queue under the same prefix as the rest of the bot's keys.
  const apiTag = createHash("sha256").update(config.telegram.apiRoot).digest("hex").slice(0, 8);
  const storePrefix = config.store.kind === "redis" && config.store.prefix ? `${config.store.prefix}:` : "";
  const queue: UpdateQueue = await openUpdateQueue(config.store, {
    prefix: `${storePrefix}tgbot:${botInfo.id}:${apiTag}:queue`,
    onError: (err, what) => log.warn({ err }, `update queue: ${what} failed`),
    onRebalance: (held) => log.info({ partitions: held }, "update queue partitions held"),
  }).catch(async (err: unknown) => {
    await vectors.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw new StartupError(`STORE_URL (update queue): ${err instanceof Error ? err.message : String(err)}`);
  });
  setQueueStatsSource(() => queue.stats());
  const closeStores = async () => {
    await queue.close().catch((err: unknown) => log.warn({ err }, "update queue close failed"));
    await vectors.close().catch((err: unknown) => log.warn({ err }, "vector store close failed"));
    await store.close();
  };

  // The one shutdown signal: every answer in flight listens to it (hundreds at once under load: not a leak).
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal);
  const deps = buildServices(config, { log, store, vectors, shutdown: shutdown.signal, now: opts.now ?? (() => new Date()), personas });
  log.info({ vectors: vectors.kind }, "vector store open");

  const updates = new UpdateTracker();
  const bot = createBot(config.telegram.token, deps, { features, botInfo, ...updates.hooks });
  // setMyCommands goes through auto-retry: bounded too, and a menu that could not be set only warrants a warning.
  await registerCommands(bot.api, deps.i18n, commandMenu, AbortSignal.timeout(STARTUP_CALL_TIMEOUT_MS)).catch((err: unknown) =>
    log.warn({ err }, "setMyCommands failed"),
  );

  await tokenizerReady;
  // Each update the queue hands out is done once its handling has ended, unless the shutdown cut it short: then it
  // stays in the queue and runs again after the restart (or on another instance).
  queue.start(async (update: Update) => {
    if (shutdown.signal.aborted) return false;
    try {
      await bot.handleUpdate(update);
    } catch (err) {
      // Errors are caught by the bot's boundary; this is its own handler failing, or middleware before it.
      if (err instanceof BotError) await Promise.resolve(bot.errorHandler(err as BotError<BotContext>)).catch(() => undefined);
      else log.error({ err, updateId: update.update_id }, "update failed");
    }
    const done = !shutdown.signal.aborted;
    updatesHandled.inc({ outcome: done ? "done" : "cut_short" });
    return done;
  });
  // Metrics are counted only where they are served (prom-client is not loaded otherwise).
  if (config.ingress.mode === "webhook" || config.metricsPort !== undefined) await loadMetrics();
  // Ready: the store and the queue answer (the load balancer's and the orchestrator's probe).
  const ready = async () => {
    await Promise.all([store.keyv.get("__health_probe__"), queue.ping()]);
  };
  const ops =
    config.ingress.mode === "polling" && config.metricsPort !== undefined ? await startOpsServer(config.metricsPort, ready) : undefined;
  const ingress: Ingress =
    config.ingress.mode === "polling"
      ? await startPolling(bot, queue, { token: config.telegram.token, apiRoot: config.telegram.apiRoot, log, backoff: opts.pollBackoff })
      : await startWebhook(bot, config.ingress, queue, ready, log);
  log.info({ username: bot.botInfo.username, mode: config.ingress.mode, store: config.store.kind }, "bot started");

  let stopping: Promise<void> | undefined;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));

  const stop = (reason = "stop") => {
    stopping ??= (async () => {
      log.info({ reason }, "stopping: finishing answers in flight");
      const graceTimer = setTimeout(() => shutdown.abort(new Error("shutdown")), gracePeriodMs);
      // Questions waiting for the rest of a paste, album or forwards are answered now with what arrived (their
      // updates are in flight: the wait below covers them).
      deps.joiner.flushAll();
      try {
        await ingress.stop();
        // Updates not yet handed out stay in the queue (handed back on close: Redis lets another instance take them).
        await queue.stop();
        // Bounded: answers are aborted at the grace period and finish within moments; a handler stuck beyond
        // that does not keep the process alive.
        await Promise.race([updates.idle(), new Promise((r) => setTimeout(r, gracePeriodMs + 10_000).unref())]);
        await ingress.confirm();
      } finally {
        clearTimeout(graceTimer);
        shutdown.abort(new Error("shutdown"));
        await deps.knowledge.fetcher.close();
        await ops?.close();
        await closeStores().catch((err: unknown) => log.warn({ err }, "store close failed"));
        log.info("stopped");
        resolveStopped();
      }
    })();
    return stopping;
  };

  return {
    bot,
    deps,
    stop,
    stopped,
    get handled() {
      return updates.handled;
    },
    whenHandled: (count, timeoutMs) => updates.whenHandled(count, timeoutMs),
  };
}

/** The /persona presets: the built-in ones, PERSONAS_FILE's, and SYSTEM_PROMPT as the default's text when it is set. */
function loadPersonas(config: Config): PersonaCatalogue {
  try {
    return PersonaCatalogue.load({
      file: config.personasFile,
      defaultPrompt: config.systemPrompt === DEFAULT_SYSTEM_PROMPT ? undefined : config.systemPrompt,
    });
  } catch (err) {
    // The operator's file is named by its variable; the built-in one can only be broken by an edit of the install.
    if (err instanceof PersonaFileError) throw new StartupError(`${err.path === config.personasFile ? "PERSONAS_FILE" : "personas:"} ${err.message}`);
    throw err;
  }
}
