/**
 * Builds every service the bot uses from the configuration: the one place where the layers below src/bot are
 * created and wired to each other.
 */
import OpenAI from "openai";
import type { Config } from "../config.js";
import type { Logger } from "../util/logger.js";
import { InFlight } from "../util/in-flight.js";
import type { BotContext, BotDeps } from "../bot/context.js";
import { createI18n } from "../bot/i18n.js";
import { ChatEngine } from "../ai/chat-engine.js";
import { ImageGenerator } from "../ai/image-generator.js";
import { SpeechSynthesizer } from "../ai/speech.js";
import { Transcriber } from "../ai/transcriber.js";
import { encodingForModel } from "../ai/models.js";
import { createWeatherClient } from "../ai/tools/weather.js";
import { createIpfsPinner } from "../ipfs/pin.js";
import type { Store } from "../storage/store.js";
import { HistoryStore } from "../storage/history.js";
import { UsageStore } from "../storage/usage.js";
import { ChatSettingsStore } from "../storage/settings.js";
import { PersonaChoiceStore } from "../storage/persona-choices.js";
import type { PersonaCatalogue } from "../services/personas.js";
import { Pacer } from "../telegram/pacer.js";
import { SharedPacer } from "../telegram/shared-pacer.js";
import { DraftSupport } from "../telegram/draft-support.js";
import { EphemeralSupport } from "../telegram/ephemeral-support.js";
import { AccessRefusals } from "../services/access.js";
import { AdminCache } from "../services/admins.js";
import { BudgetHolds } from "../services/budget-holds.js";
import { LimitNotices } from "../services/limit-notices.js";
import { ModelCallLimits } from "../services/limits.js";
import { RateLimiter } from "../services/rate-limiter.js";
import { Embedder } from "../ai/embeddings.js";
import { DocumentStore } from "../storage/documents.js";
import type { VectorStore } from "../storage/vectors/open.js";
import { SafeFetcher } from "../web/safe-fetch.js";
import { SearxngClient } from "../web/searxng.js";
import { AnswersInFlight } from "../bot/answers-in-flight.js";
import { MessageJoiner } from "../bot/message-joiner.js";
import { modelLatency } from "../util/metrics.js";

/** The OpenAI SDK's fetch, timed to the response's headers for /metrics (labelled by endpoint, never by URL). */
const timedFetch: typeof fetch = async (input, init) => {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  const endpoint = /\/(chat\/completions|responses|embeddings|images\/\w+|audio\/\w+)/.exec(url)?.[1] ?? "other";
  const end = modelLatency.startTimer({ endpoint });
  try {
    return await fetch(input, init);
  } finally {
    end();
  }
};

export interface ServiceOptions {
  log: Logger;
  store: Store;
  /** Document vectors, beside the history (storage/vectors). */
  vectors: VectorStore;
  /** Aborts every answer in flight (the app's one shutdown controller). */
  shutdown: AbortSignal;
  /** The clock of usage days, rate limits, budgets and the admin cache. */
  now: () => Date;
  /** The presets /persona offers (read and checked by the app before anything starts). */
  personas: PersonaCatalogue;
}

export function buildServices(config: Config, opts: ServiceOptions): BotDeps {
  const { log, store, now } = opts;
  // The encoding's table is loaded by the app while Telegram answers; counting awaits nothing after start-up.
  const encoding = encodingForModel(config.openai.model);
  const openai = new OpenAI({
    apiKey: config.openai.apiKey,
    baseURL: config.openai.baseURL,
    // One quick retry for connection errors before streaming starts; the user hears about anything longer.
    maxRetries: 1,
    timeout: config.openai.idleTimeoutMs,
    fetch: timedFetch,
  });
  const { shared } = store;
  const usage = new UsageStore(store.keyv, { now, shared });
  return {
    config,
    log,
    now,
    shutdown: opts.shutdown,
    engine: new ChatEngine({ openai, idleTimeoutMs: config.openai.idleTimeoutMs, log }),
    images: new ImageGenerator({ openai, model: config.openai.imageModel }),
    transcriber: new Transcriber({ openai, model: config.openai.transcribeModel }),
    speech: new SpeechSynthesizer({ openai, model: config.openai.ttsModel, voice: config.openai.ttsVoice }),
    encoding,
    history: new HistoryStore(store, { budgetTokens: config.historyTokenBudget }),
    usage,
    settings: new ChatSettingsStore(store.keyv),
    personas: opts.personas,
    personaChoices: new PersonaChoiceStore(store.keyv),
    // With Redis, every instance paces in the same windows; otherwise one process owns them (in memory, no round trip).
    pacer: store.scripts
      ? new SharedPacer(store.scripts, undefined, everyMinute((err) => log.warn({ err }, "shared pacer unreachable: pacing in memory meanwhile")))
      : new Pacer(),
    drafts: new DraftSupport({ now: () => now().getTime() }),
    ephemeral: new EphemeralSupport({ now: () => now().getTime() }),
    pictureDownloads: new InFlight<Uint8Array>(),
    // The chat's language (/settings) wins over the user's Telegram language.
    i18n: createI18n<BotContext>({ chatLocale: async (ctx) => (await ctx.chatSettings()).language }),
    accessRefusals: new AccessRefusals(store.keyv, { now, shared }),
    limitNotices: new LimitNotices(store.keyv, { now, shared }),
    admins: new AdminCache({ ttlMs: config.adminCacheMs, now }),
    limits: new ModelCallLimits({
      ownerIds: config.access.ownerIds,
      budgets: config.budgets,
      usage,
      holds: new BudgetHolds(store.keyv, { now, shared }),
      rateLimiter: new RateLimiter(store.keyv, { ...config.rateLimit, now, shared }),
      prices: config.modelPrices,
      now,
      onReleaseError: (err) => log.warn({ err }, "budget hold not released (it lapses on its own)"),
    }),
    weather: createWeatherClient(config.weather),
    ipfs: config.ipfs.apiUrl ? createIpfsPinner({ apiUrl: config.ipfs.apiUrl, gatewayUrl: config.ipfs.gatewayUrl }) : undefined,
    knowledge: {
      embedder: new Embedder({ openai, model: config.knowledge.embeddingModel }),
      documents: new DocumentStore(store.keyv),
      vectors: opts.vectors,
      fetcher: new SafeFetcher({ allowPrivate: config.web.allowPrivate }),
      search: config.web.searxngUrl ? new SearxngClient({ baseUrl: config.web.searxngUrl }) : undefined,
    },
    answers: new AnswersInFlight(),
    joiner: new MessageJoiner(),
  };
}

/** `report`, at most once a minute: an outage fails every attempt, and one line says it. */
function everyMinute(report: (err: unknown) => void): (err: unknown) => void {
  let last = 0;
  return (err) => {
    if (Date.now() - last < 60_000) return;
    last = Date.now();
    report(err);
  };
}
