/**
 * The bot's Prometheus metrics (prom-client), served on GET /metrics (app/ops-server.ts). One registry per process:
 * each layer counts what it sees here (the Bot API calls in bot/create-bot.ts, model usage in bot/record-usage.ts,
 * updates and the queue in app/), and the app names where the queue's depth is read from.
 *
 * prom-client is loaded only when metrics are served (loadMetrics(): webhook mode, or METRICS_PORT): until then
 * every count is a no-op, and a bot that serves none never loads it (start-up time and memory).
 */
import type { Counter, Histogram, Registry } from "prom-client";

interface Instruments {
  registry: Registry;
  updatesReceived: Counter;
  updatesHandled: Counter<"outcome">;
  answers: Counter<"method">;
  telegram429: Counter<"method">;
  modelLatency: Histogram<"endpoint">;
  tokens: Counter<"model" | "kind">;
}

let instruments: Instruments | undefined;
let loading: Promise<Instruments> | undefined;
let queueStats: (() => Promise<{ depth: number; oldestAgeMs: number }>) | undefined;

/** Loads prom-client and creates the metrics (once); counting starts from here. */
export function loadMetrics(): Promise<void> {
  loading ??= import("prom-client").then(({ Counter, Gauge, Histogram, Registry, collectDefaultMetrics }) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: "bot_" });
    const registers = [registry];
    const stats = () => queueStats?.().catch(() => undefined);
    new Gauge({
      name: "bot_queue_depth",
      help: "Updates stored and not yet done (waiting or being handled)",
      registers,
      async collect() {
        this.set((await stats())?.depth ?? 0);
      },
    });
    new Gauge({
      name: "bot_queue_oldest_age_seconds",
      help: "How long the oldest update not yet done has waited",
      registers,
      async collect() {
        this.set(((await stats())?.oldestAgeMs ?? 0) / 1000);
      },
    });
    instruments = {
      registry,
      updatesReceived: new Counter({ name: "bot_updates_received_total", help: "Updates received from Telegram and stored in the queue", registers }),
      updatesHandled: new Counter({ name: "bot_updates_handled_total", help: "Updates whose handling ended", labelNames: ["outcome"], registers }),
      answers: new Counter({ name: "bot_telegram_messages_total", help: "Messages sent or edited, by Bot API method", labelNames: ["method"], registers }),
      telegram429: new Counter({ name: "bot_telegram_429_total", help: "Bot API calls answered 429 Too Many Requests", labelNames: ["method"], registers }),
      modelLatency: new Histogram({
        name: "bot_model_response_seconds",
        help: "Time from a model API request to its response headers",
        labelNames: ["endpoint"],
        buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64],
        registers,
      }),
      tokens: new Counter({ name: "bot_model_tokens_total", help: "Model tokens used", labelNames: ["model", "kind"], registers }),
    };
    return instruments;
  });
  return loading.then(() => undefined);
}

/** The metrics in Prometheus text format, and its content type. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  await loadMetrics();
  return { contentType: instruments!.registry.contentType, body: await instruments!.registry.metrics() };
}

/** Where the queue's depth and age are read at each scrape (the app's update queue). */
export function setQueueStatsSource(source: typeof queueStats): void {
  queueStats = source;
}

/** Updates stored in the queue (received from Telegram: getUpdates or the webhook). */
export const updatesReceived = { inc: (count = 1) => instruments?.updatesReceived.inc(count) };
/** Updates whose handling has ended: done, or cut short by the shutdown. */
export const updatesHandled = { inc: (labels: { outcome: "done" | "cut_short" }) => instruments?.updatesHandled.inc(labels) };
/** Messages the bot sent or edited, by Bot API method (the answers users see). */
export const answers = { inc: (labels: { method: string }) => instruments?.answers.inc(labels) };
/** 429 Too Many Requests answers of the Bot API. */
export const telegram429 = { inc: (labels: { method: string }) => instruments?.telegram429.inc(labels) };
/** Time from a model request to its response's headers (the first token of a streamed answer follows at once). */
export const modelLatency = {
  startTimer: (labels: { endpoint: string }): (() => void) => {
    const end = instruments?.modelLatency.startTimer(labels);
    return () => void end?.();
  },
};
/** Tokens the model reported, by model and kind (prompt, completion). */
export const tokens = { inc: (labels: { model: string; kind: "prompt" | "completion" }, count: number) => instruments?.tokens.inc(labels, count) };
