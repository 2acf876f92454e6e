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
