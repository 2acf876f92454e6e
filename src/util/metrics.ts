/**
 * The bot's Prometheus metrics (prom-client), served on GET /metrics (app/ops-server.ts). One registry per process:
 * each layer counts what it sees here (the Bot API calls in bot/create-bot.ts, model usage in bot/record-usage.ts,
 * updates and the queue in app/), and the app names where the queue's depth is read from.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: "bot_" });

/** Updates stored in the queue (received from Telegram: getUpdates or the webhook). */
export const updatesReceived = new Counter({ name: "bot_updates_received_total", help: "Updates received from Telegram and stored in the queue", registers: [registry] });
/** Updates whose handling has ended. */
export const updatesHandled = new Counter({
  name: "bot_updates_handled_total",
  help: "Updates whose handling ended",
  labelNames: ["outcome"] as const,
  registers: [registry],
});
/** Messages the bot sent or edited, by Bot API method (the answers users see). */
export const answers = new Counter({ name: "bot_telegram_messages_total", help: "Messages sent or edited, by Bot API method", labelNames: ["method"] as const, registers: [registry] });
/** 429 Too Many Requests answers of the Bot API. */
export const telegram429 = new Counter({ name: "bot_telegram_429_total", help: "Bot API calls answered 429 Too Many Requests", labelNames: ["method"] as const, registers: [registry] });
/** Time from a model request to its response's headers (the first token of a streamed answer follows at once). */
export const modelLatency = new Histogram({
  name: "bot_model_response_seconds",
  help: "Time from a model API request to its response headers",
  labelNames: ["endpoint"] as const,
  buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64],
  registers: [registry],
});
/** Tokens the model reported, by model and kind (prompt, completion). */
export const tokens = new Counter({ name: "bot_model_tokens_total", help: "Model tokens used", labelNames: ["model", "kind"] as const, registers: [registry] });

let queueStats: (() => Promise<{ depth: number; oldestAgeMs: number }>) | undefined;
/** Where the queue's depth and age are read at each scrape (the app's update queue). */
export function setQueueStatsSource(source: typeof queueStats): void {
  queueStats = source;
}

new Gauge({
  name: "bot_queue_depth",
  help: "Updates stored and not yet done (waiting or being handled)",
  registers: [registry],
  async collect() {
    this.set(((await queueStats?.().catch(() => undefined)) ?? { depth: 0 }).depth);
  },
});
new Gauge({
  name: "bot_queue_oldest_age_seconds",
  help: "How long the oldest update not yet done has waited",
  registers: [registry],
  async collect() {
    this.set((((await queueStats?.().catch(() => undefined)) ?? { oldestAgeMs: 0 }).oldestAgeMs) / 1000);
  },
});
