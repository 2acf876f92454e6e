/** The environment every bench section starts the built bot with: the local test servers, and nothing of the shell's. */
import { join } from "node:path";

/** The test servers a bot process talks to (the parts of BotApiServer and OpenAIServer the environment needs). */
export interface BenchServers {
  telegram: { token: string; apiRoot: string };
  openai: { apiKey: string; baseURL: string };
}

/**
 * The bot's variables: the test servers, warnings only, and a SQLite store in `dir` unless `extra` says otherwise
 * (STORE_URL, webhook mode, ports).
 */
export function botEnv({ telegram, openai }: BenchServers, dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    TELEGRAM_BOT_TOKEN: telegram.token,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    OPENAI_API_KEY: openai.apiKey,
    OPENAI_BASE_URL: openai.baseURL,
    STORE_URL: `sqlite://${join(dir, "bot.sqlite")}`,
    LOG_LEVEL: "warn",
    ...extra,
  };
}
