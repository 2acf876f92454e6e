/**
 * The configuration: one zod schema over the environment (keys are the variable names) whose last step builds the
 * nested Config the app uses; Config is its output type. Rules across variables (webhook mode needs WEBHOOK_URL)
 * and the parsing of MODEL_PRICES and STORE_URL happen inside the schema, so a bad value stops start-up with one
 * line naming the variable. A new variable is written here once (plus README.md and .env.example, which a test
 * checks).
 */
import { existsSync } from "node:fs";
import { z } from "zod";
import { parsePriceOverrides } from "./ai/pricing.js";
import { parseStoreUrl, StoreConfigError } from "./storage/store-url.js";

/** A configuration problem, reported as one line naming the variable (no stack trace). */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const emptyToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

const optionalString = z.preprocess(emptyToUndefined, z.string().trim().optional());
const httpUrl = () => z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
const optionalUrl = () => z.preprocess(emptyToUndefined, httpUrl().optional());
const urlWithDefault = (fallback: string) => z.preprocess(emptyToUndefined, httpUrl().default(fallback));
const idList = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s) return [] as number[];
      const ids: number[] = [];
      for (const part of s.split(/[\s,]+/).filter(Boolean)) {
        if (!/^-?\d+$/.test(part)) {
          ctx.addIssue({ code: "custom", message: `"${part}" is not a numeric Telegram id (use a comma-separated list)` });
          return z.NEVER;
        }
        ids.push(Number(part));
      }
      return ids;
    }),
);
const positiveInt = (fallback: number) => z.preprocess(emptyToUndefined, z.coerce.number().int().positive().default(fallback));
/** A whole number >= 0 (0 switches a limit off). */
const nonNegativeInt = (fallback: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number({ error: "must be a whole number" }).int("must be a whole number").min(0, "must be 0 or more").default(fallback));
const optionalLimit = () =>
  z.preprocess(emptyToUndefined, z.coerce.number({ error: "must be a number" }).min(0, "must be 0 or more").optional());
const booleanFlag = (fallback: boolean) =>
  z.preprocess(
    emptyToUndefined,
    z
      .enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" })
      .optional()
      .transform((v) => (v === undefined ? fallback : v === "true" || v === "1" || v === "yes")),
  );
const modelList = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .optional()
    .transform((s) => (s ?? "").split(/[\s,]+/).filter(Boolean)),
);

/** The one schema for everything the bot reads from the environment. Keys are the variable names. */
export const envSchema = z.object({
  TELEGRAM_BOT_TOKEN: z
    .string({ error: "is missing (get one from @BotFather)" })
    .trim()
    .regex(/^\d+:[A-Za-z0-9_-]+$/, "is malformed (expected <digits>:<secret> from @BotFather)"),
  TELEGRAM_API_ROOT: urlWithDefault("https://api.telegram.org"),
  OPENAI_API_KEY: z.string({ error: "is missing" }).trim().min(1, "is empty"),
  OPENAI_BASE_URL: optionalUrl(),
  OPENAI_MODEL: z.preprocess(emptyToUndefined, z.string().trim().default("gpt-4.1-mini")),
  OPENAI_VISION_MODEL: optionalString,
  OPENAI_IMAGE_MODEL: z.preprocess(emptyToUndefined, z.string().trim().default("gpt-image-1")),
  OPENAI_TRANSCRIBE_MODEL: z.preprocess(emptyToUndefined, z.string().trim().default("gpt-4o-mini-transcribe")),
  OPENAI_TTS_MODEL: z.preprocess(emptyToUndefined, z.string().trim().default("gpt-4o-mini-tts")),
  OPENAI_TTS_VOICE: z.preprocess(emptyToUndefined, z.string().trim().default("alloy")),
  STORE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .default("sqlite://./data/bot.sqlite")
      .transform((url, ctx) => {
        try {
          return parseStoreUrl(url);
        } catch (err) {
          if (!(err instanceof StoreConfigError)) throw err;
          ctx.addIssue({ code: "custom", message: err.problem });
          return z.NEVER;
        }
      }),
  ),
  IPFS_API_URL: optionalUrl(),
  IPFS_GATEWAY_URL: urlWithDefault("https://ipfs.io/ipfs/"),
  WEATHER_API_URL: urlWithDefault("https://api.open-meteo.com"),
  GEOCODING_API_URL: urlWithDefault("https://geocoding-api.open-meteo.com"),
  BOT_MODE: z.preprocess(
    emptyToUndefined,
    z.enum(["polling", "webhook"], { error: "must be polling or webhook" }).default("polling"),
  ),
  ALLOWED_USER_IDS: idList,
  ALLOWED_CHAT_IDS: idList,
  BOT_OWNER_IDS: idList,
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
        error: "must be one of fatal, error, warn, info, debug, trace, silent",
      })
      .default("info"),
  ),
  // Settings beyond the outside contract; all optional with sensible defaults.
  /** Tokens of past turns kept per chat (well under every supported model's context). */
  HISTORY_TOKEN_BUDGET: positiveInt(8000),
  /** Upper bound for one answer's completion tokens. */
  MAX_ANSWER_TOKENS: positiveInt(4000),
  /** Seconds without a single streamed token before the model call counts as timed out. */
  MODEL_IDLE_TIMEOUT_SECONDS: positiveInt(60),
  SYSTEM_PROMPT: optionalString,
  /** A JSON or YAML file of personas for /persona: adds presets to the built-in ones or replaces them by id. */
  PERSONAS_FILE: optionalString,
  /** JSON price overrides, e.g. {"gpt-4.1-mini":{"input":0.4,"output":1.6}} (USD per 1M tokens). */
  MODEL_PRICES: optionalString.transform((json, ctx) => {
    if (json === undefined) return undefined;
    try {
      return parsePriceOverrides(json);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
      return z.NEVER;
    }
  }),
  /** Models admins may pick in /settings (comma-separated); the configured model is always one of them. */
  ALLOWED_MODELS: modelList,
  /** Megabytes of users' pictures one model request may carry (the newest that fit); bounds memory and downloads. */
  MAX_PICTURE_MB_PER_REQUEST: z.preprocess(
    emptyToUndefined,
    z.coerce.number({ error: "must be a number of megabytes" }).positive("must be more than 0").default(20),
  ),
  /** Longest system prompt /system accepts, in tokens of the chat model's encoding. */
  SYSTEM_PROMPT_MAX_TOKENS: positiveInt(1000),
  /** How long a group admin check (getChatMember) is trusted before Telegram is asked again. */
  ADMIN_CACHE_SECONDS: nonNegativeInt(60),
  /** Per-user rate limit on model calls: at most RATE_LIMIT_MAX_CALLS in any RATE_LIMIT_WINDOW_SECONDS (0: off). */
  RATE_LIMIT_WINDOW_SECONDS: positiveInt(60),
  RATE_LIMIT_MAX_CALLS: nonNegativeInt(20),
  /** Daily (UTC) budgets; unset or 0 means no limit. */
  DAILY_TOKEN_LIMIT_PER_USER: optionalLimit(),
  DAILY_TOKEN_LIMIT_PER_CHAT: optionalLimit(),
  DAILY_COST_LIMIT_PER_USER_USD: optionalLimit(),
  DAILY_COST_LIMIT_PER_CHAT_USD: optionalLimit(),
  // Knowledge: documents, links, web search and retrieval by embeddings (issue 12).
  OPENAI_EMBEDDING_MODEL: z.preprocess(emptyToUndefined, z.string().trim().default("text-embedding-3-small")),
  /** A SearXNG instance (JSON format enabled): the model gets web_search and read_page. Unset: no web search. */
  SEARXNG_URL: optionalUrl(),
  /** Lets links and read_page reach loopback and private networks (never link-local or metadata addresses). */
  WEB_FETCH_ALLOW_PRIVATE: booleanFlag(false),
  /** Tokens of documents, excerpts and pages sent with one question (a smaller context window lowers it). */
  KNOWLEDGE_TOKEN_BUDGET: positiveInt(16_000),
  /** Excerpts retrieved for a question from documents too long to send whole and from the chat's knowledge. */
  KNOWLEDGE_CHUNKS_PER_QUESTION: positiveInt(6),
  /** Per chat: documents /learn keeps, and their chunks (about 500 tokens each) together. */
  KNOWLEDGE_MAX_DOCUMENTS: positiveInt(50),
  KNOWLEDGE_MAX_CHUNKS: positiveInt(10_000),
  /** Longest voice note, audio file or video note transcribed (Telegram's duration, checked before downloading). */
  VOICE_MAX_SECONDS: positiveInt(600),
  WEBHOOK_URL: optionalUrl(),
  /** Checked on every webhook call (X-Telegram-Bot-Api-Secret-Token); without it one is derived from the bot token. */
  WEBHOOK_SECRET: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{1,256}$/, "must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
      .optional(),
  ),
  /** The path updates are served on, when a reverse proxy changes WEBHOOK_URL's path (default: WEBHOOK_URL's path). */
  WEBHOOK_PATH: z.preprocess(emptyToUndefined, z.string().trim().regex(/^\/\S*$/, "must be a path starting with /").optional()),
  PORT: positiveInt(8080),
  /** Polling mode: the port of GET /healthz and GET /metrics (unset: not served; webhook mode serves them on PORT). */
  METRICS_PORT: z.preprocess(
    emptyToUndefined,
    z.coerce.number({ error: "must be a port number" }).int("must be a port number").min(1, "must be a port number").max(65535, "must be a port number").optional(),
  ),
});

export type Env = z.infer<typeof envSchema>;

/** When ALLOWED_MODELS is not set: the configured model plus a couple of common OpenAI chat models. */
export const DEFAULT_EXTRA_MODELS = ["gpt-4.1-mini", "gpt-4.1", "gpt-5-mini"];

export const DEFAULT_SYSTEM_PROMPT =
  "You are a helpful assistant in a Telegram chat. Answer in the language of the question. " +
  "Be concise unless asked for detail. Use Markdown for formatting when it helps.";

/** The environment, checked, as the nested configuration the app uses. */
const configSchema = envSchema.transform((e, ctx) => {
  if (e.BOT_MODE === "webhook" && !e.WEBHOOK_URL) {
    ctx.addIssue({ code: "custom", path: ["WEBHOOK_URL"], message: "is missing (required when BOT_MODE=webhook)" });
    return z.NEVER;
  }
  const ingress =
    e.BOT_MODE === "webhook" && e.WEBHOOK_URL
      ? {
          mode: "webhook" as const,
          url: e.WEBHOOK_URL,
          secret: e.WEBHOOK_SECRET,
          path: e.WEBHOOK_PATH ?? new URL(e.WEBHOOK_URL).pathname,
          port: e.PORT,
        }
      : { mode: "polling" as const };
  return {
    telegram: { token: e.TELEGRAM_BOT_TOKEN, apiRoot: e.TELEGRAM_API_ROOT.replace(/\/+$/, "") },
    openai: {
      apiKey: e.OPENAI_API_KEY,
      baseURL: e.OPENAI_BASE_URL,
      model: e.OPENAI_MODEL,
      visionModel: e.OPENAI_VISION_MODEL ?? e.OPENAI_MODEL,
      imageModel: e.OPENAI_IMAGE_MODEL,
      transcribeModel: e.OPENAI_TRANSCRIBE_MODEL,
      ttsModel: e.OPENAI_TTS_MODEL,
      ttsVoice: e.OPENAI_TTS_VOICE,
      idleTimeoutMs: e.MODEL_IDLE_TIMEOUT_SECONDS * 1000,
      /** Upper bound for one answer's completion tokens. */
      maxAnswerTokens: e.MAX_ANSWER_TOKENS,
    },
    /** Where history, usage and settings live (STORE_URL, parsed). */
    store: e.STORE_URL,
    ipfs: { apiUrl: e.IPFS_API_URL, gatewayUrl: e.IPFS_GATEWAY_URL },
    weather: { weatherApiUrl: e.WEATHER_API_URL, geocodingApiUrl: e.GEOCODING_API_URL },
    /** How updates arrive (BOT_MODE): long polling, or a webhook with its URL, secret (if given), path and port. */
    ingress,
    access: { allowedUserIds: e.ALLOWED_USER_IDS, allowedChatIds: e.ALLOWED_CHAT_IDS, ownerIds: e.BOT_OWNER_IDS },
    logLevel: e.LOG_LEVEL,
    /** Polling mode's /healthz and /metrics port (METRICS_PORT), if any. */
    metricsPort: e.METRICS_PORT,
    /** Tokens of past turns kept per chat. */
    historyTokenBudget: e.HISTORY_TOKEN_BUDGET,
    systemPrompt: e.SYSTEM_PROMPT ?? DEFAULT_SYSTEM_PROMPT,
    /** Personas beside the built-in ones (PERSONAS_FILE), read at start-up. */
    personasFile: e.PERSONAS_FILE,
    /** Price overrides (MODEL_PRICES, parsed) on top of the built-in table. */
    modelPrices: e.MODEL_PRICES,
    /** Bytes of users' pictures one model request may carry: the newest that fit. */
    pictureBytesPerRequest: Math.floor(e.MAX_PICTURE_MB_PER_REQUEST * 1024 * 1024),
    /** Models /settings offers; the first is the configured OPENAI_MODEL. */
    allowedModels: [...new Set([e.OPENAI_MODEL, ...(e.ALLOWED_MODELS.length > 0 ? e.ALLOWED_MODELS : DEFAULT_EXTRA_MODELS)])],
    systemPromptMaxTokens: e.SYSTEM_PROMPT_MAX_TOKENS,
    /** Longest audio transcribed, in seconds. */
    voiceMaxSeconds: e.VOICE_MAX_SECONDS,
    adminCacheMs: e.ADMIN_CACHE_SECONDS * 1000,
    /** Model calls per user: at most maxCalls in any windowMs; maxCalls 0 is no limit. */
    rateLimit: { windowMs: e.RATE_LIMIT_WINDOW_SECONDS * 1000, maxCalls: e.RATE_LIMIT_MAX_CALLS },
    /** Documents, links and retrieval (issue 12). */
    knowledge: {
      embeddingModel: e.OPENAI_EMBEDDING_MODEL,
      tokenBudget: e.KNOWLEDGE_TOKEN_BUDGET,
      chunksPerQuestion: e.KNOWLEDGE_CHUNKS_PER_QUESTION,
      maxDocuments: e.KNOWLEDGE_MAX_DOCUMENTS,
      maxChunks: e.KNOWLEDGE_MAX_CHUNKS,
    },
    /** Fetching links on users' behalf, and web search. */
    web: { searxngUrl: e.SEARXNG_URL, allowPrivate: e.WEB_FETCH_ALLOW_PRIVATE },
    /** Daily (UTC) limits; undefined is no limit. Tokens are prompt + completion. */
    budgets: {
      userTokens: e.DAILY_TOKEN_LIMIT_PER_USER || undefined,
      chatTokens: e.DAILY_TOKEN_LIMIT_PER_CHAT || undefined,
      userCostUsd: e.DAILY_COST_LIMIT_PER_USER_USD || undefined,
      chatCostUsd: e.DAILY_COST_LIMIT_PER_CHAT_USD || undefined,
    },
  };
});

/** The bot's configuration: what the schema makes of the environment. */
export type Config = z.output<typeof configSchema>;

/** Parses the environment into a Config, or throws one ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const name = String(issue.path[0] ?? "environment");
  const present = env[name] !== undefined && env[name] !== "";
  const message = !present && issue.code === "invalid_type" ? "is missing" : issue.message;
  throw new ConfigError(`${name} ${message}`);
}

/** Reads `.env` from the working directory if present; variables already set win (Node's own loader). */
export function loadDotEnv(path = ".env"): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
