import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_EXTRA_MODELS, loadConfig } from "./config.js";

const base = { TELEGRAM_BOT_TOKEN: "123:abc", OPENAI_API_KEY: "sk-x" };

describe("limits and group settings in the configuration", () => {
  it("has defaults: the configured model first in the allowed list, a rate limit on, budgets off", () => {
    const config = loadConfig({ ...base, OPENAI_MODEL: "gpt-4o" });
    expect(config.allowedModels).toEqual(["gpt-4o", ...DEFAULT_EXTRA_MODELS]);
    expect(config.rateLimit).toEqual({ windowMs: 60_000, maxCalls: 20 });
    expect(config.budgets).toEqual({ userTokens: undefined, chatTokens: undefined, userCostUsd: undefined, chatCostUsd: undefined });
    expect(config.systemPromptMaxTokens).toBe(1000);
    expect(config.adminCacheMs).toBe(60_000);
  });

  it("reads the variables, keeping the configured model allowed and the list free of repeats", () => {
    const config = loadConfig({
      ...base,
      OPENAI_MODEL: "gpt-4.1-mini",
      ALLOWED_MODELS: "gpt-4.1, gpt-4.1-mini  gpt-5-mini",
      RATE_LIMIT_WINDOW_SECONDS: "30",
      RATE_LIMIT_MAX_CALLS: "0",
      DAILY_TOKEN_LIMIT_PER_USER: "50000",
      DAILY_COST_LIMIT_PER_CHAT_USD: "1.5",
      DAILY_TOKEN_LIMIT_PER_CHAT: "0",
    });
    expect(config.allowedModels).toEqual(["gpt-4.1-mini", "gpt-4.1", "gpt-5-mini"]);
    expect(config.rateLimit).toEqual({ windowMs: 30_000, maxCalls: 0 });
    expect(config.budgets).toEqual({ userTokens: 50_000, chatTokens: undefined, userCostUsd: undefined, chatCostUsd: 1.5 });
  });

  it("names the variable when a value is bad", () => {
    expect(() => loadConfig({ ...base, RATE_LIMIT_MAX_CALLS: "-1" })).toThrow(new ConfigError("RATE_LIMIT_MAX_CALLS must be 0 or more"));
    expect(() => loadConfig({ ...base, DAILY_COST_LIMIT_PER_USER_USD: "lots" })).toThrow(/^DAILY_COST_LIMIT_PER_USER_USD /);
    expect(() => loadConfig({ ...base, SYSTEM_PROMPT_MAX_TOKENS: "0" })).toThrow(/^SYSTEM_PROMPT_MAX_TOKENS /);
  });
});

describe("rules inside the schema", () => {
  it("reads BOT_MODE as polling, or a webhook with its URL, secret and port", () => {
    expect(loadConfig(base).ingress).toEqual({ mode: "polling" });
    expect(loadConfig({ ...base, BOT_MODE: "webhook", WEBHOOK_URL: "https://bot.example/hook", WEBHOOK_SECRET: "s3cret", PORT: "9000" }).ingress).toEqual({
      mode: "webhook",
      url: "https://bot.example/hook",
      secret: "s3cret",
      path: "/hook",
      port: 9000,
    });
    expect(loadConfig({ ...base, BOT_MODE: "webhook", WEBHOOK_URL: "https://bot.example", WEBHOOK_PATH: "/tg" }).ingress).toEqual({
      mode: "webhook",
      url: "https://bot.example",
      secret: undefined,
      path: "/tg",
      port: 8080,
    });
    expect(loadConfig({ ...base, BOT_MODE: "webhook", WEBHOOK_URL: "https://bot.example" }).ingress).toMatchObject({ path: "/" });
    expect(() => loadConfig({ ...base, WEBHOOK_SECRET: "has spaces" })).toThrow(/^WEBHOOK_SECRET must be 1-256 characters/);
    expect(() => loadConfig({ ...base, WEBHOOK_PATH: "tg" })).toThrow(new ConfigError("WEBHOOK_PATH must be a path starting with /"));
    expect(() => loadConfig({ ...base, BOT_MODE: "webhook" })).toThrow(new ConfigError("WEBHOOK_URL is missing (required when BOT_MODE=webhook)"));
    expect(() => loadConfig({ ...base, BOT_MODE: "push" })).toThrow(new ConfigError("BOT_MODE must be polling or webhook"));
  });

  it("parses MODEL_PRICES, and names it in one line when it is bad", () => {
    expect(loadConfig(base).modelPrices).toBeUndefined();
    expect(loadConfig({ ...base, MODEL_PRICES: '{"My-Model":{"input":1,"output":2}}' }).modelPrices).toEqual({ "my-model": { input: 1, output: 2 } });
    expect(() => loadConfig({ ...base, MODEL_PRICES: "{oops" })).toThrow(new ConfigError("MODEL_PRICES Price overrides are not valid JSON."));
    expect(() => loadConfig({ ...base, MODEL_PRICES: '{"gpt-4o":{"input":-1,"output":1}}' })).toThrow(/^MODEL_PRICES Invalid price overrides: gpt-4o\.input: /);
  });

  it("parses STORE_URL once, and names it in one line without credentials when it is bad", () => {
    expect(loadConfig(base).store).toEqual({ kind: "sqlite", file: resolve("data/bot.sqlite") });
    expect(loadConfig({ ...base, STORE_URL: "redis://127.0.0.1:6379" }).store).toEqual({ kind: "redis", url: "redis://127.0.0.1:6379" });
    expect(loadConfig({ ...base, STORE_URL: "memory://" }).store).toEqual({ kind: "memory" });
    let message = "";
    try {
      loadConfig({ ...base, STORE_URL: "mongodb://user:hunter2@db.example/bot" });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/^STORE_URL "mongodb:\/\/\*\*\*@db\.example\/bot" has an unknown scheme "mongodb:\/\/"; expected sqlite:\/\/path, /);
    expect(message).not.toContain("hunter2");
    expect(() => loadConfig({ ...base, STORE_URL: "sqlite://" })).toThrow(/^STORE_URL "sqlite:\/\/" has no file path; /);
  });
});

describe("knowledge and web in the configuration", () => {
  it("has defaults: text-embedding-3-small, no web search, private addresses refused", () => {
    const config = loadConfig(base);
    expect(config.knowledge).toEqual({ embeddingModel: "text-embedding-3-small", tokenBudget: 16_000, chunksPerQuestion: 6, maxDocuments: 50, maxChunks: 10_000 });
    expect(config.web).toEqual({ searxngUrl: undefined, allowPrivate: false });
  });

  it("reads the variables and names a bad one", () => {
    const config = loadConfig({
      ...base,
      OPENAI_EMBEDDING_MODEL: "text-embedding-3-large",
      SEARXNG_URL: "http://searx.lan:8888",
      WEB_FETCH_ALLOW_PRIVATE: "true",
      KNOWLEDGE_MAX_DOCUMENTS: "5",
    });
    expect(config.knowledge).toMatchObject({ embeddingModel: "text-embedding-3-large", maxDocuments: 5 });
    expect(config.web).toEqual({ searxngUrl: "http://searx.lan:8888", allowPrivate: true });
    expect(() => loadConfig({ ...base, WEB_FETCH_ALLOW_PRIVATE: "sometimes" })).toThrow(new ConfigError("WEB_FETCH_ALLOW_PRIVATE must be true or false"));
    expect(() => loadConfig({ ...base, SEARXNG_URL: "searx" })).toThrow(/^SEARXNG_URL /);
  });
});
