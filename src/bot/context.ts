import type { Api, Context } from "grammy";
import type { I18n, I18nFlavor } from "@grammyjs/i18n";
import type OpenAI from "openai";
import type { Config } from "../config.js";
import type { Logger } from "../util/logger.js";
import type { ChatEngine } from "../ai/chat-engine.js";
import type { HistoryStore } from "../storage/history.js";
import type { Store } from "../storage/store.js";
import type { Pacer } from "../telegram/pacer.js";
import type { DraftSupport } from "../telegram/answer-stream.js";
import type { EncodingName } from "../ai/models.js";
import type { PriceTable } from "../ai/pricing.js";
import type { WeatherClient } from "../ai/tools/weather.js";
import type { IpfsPinner } from "../ipfs/pin.js";
import type { UsageStore } from "../storage/usage.js";
import type { ChatSettings, ChatSettingsStore } from "../storage/settings.js";
import type { AccessControl } from "./access.js";

/** Everything a feature needs, built once in main.ts and injected into every context. */
export interface BotDeps {
  config: Config;
  log: Logger;
  openai: OpenAI;
  engine: ChatEngine;
  store: Store;
  history: HistoryStore;
  pacer: Pacer;
  drafts: DraftSupport;
  i18n: I18n<BotContext>;
  /** Aborts every answer in flight when the bot shuts down. */
  shutdown: AbortSignal;
  /** Encoding of the chat model, loaded at start-up so counting is synchronous afterwards. */
  encoding: EncodingName;
  /** What every user and chat spends. */
  usage: UsageStore;
  /** Price overrides from the configuration (on top of the built-in table). */
  prices: PriceTable | undefined;
  /** Per-chat settings (system prompt, model, history mode, language). */
  settings: ChatSettingsStore;
  /** Admin checks (cached), the per-user rate limiter, "told once" marks, and the clock for limits and budgets. */
  access: AccessControl;
  weather: WeatherClient;
  /** Undefined when IPFS_API_URL is not set: pictures are sent but not pinned. */
  ipfs: IpfsPinner | undefined;
}

export interface BotExtras {
  /** This chat's settings, read once per update (the locale, limits and the answer all need them). */
  chatSettings(): Promise<ChatSettings>;
  /** Changes this chat's settings (see ChatSettingsStore.update) and what chatSettings() returns from now on. */
  updateChatSettings(patch: Partial<ChatSettings>): Promise<ChatSettings>;
  deps: BotDeps;
  log: Logger;
  /** Api without automatic retries, for updates that are better skipped than delayed. */
  fastApi: Api;
}

export type BotContext = Context & I18nFlavor & BotExtras;
