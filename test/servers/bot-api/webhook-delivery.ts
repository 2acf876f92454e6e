// Webhook delivery, as Telegram does it: while a webhook is set, every queued update is POSTed to its URL as JSON
// (with `X-Telegram-Bot-Api-Secret-Token` when a secret_token was set), at most max_connections at a time and in
// order within a chat (the next update of a chat waits for the previous one). An update stays pending until the
// webhook answers 2xx; a failure (non-2xx, timeout, refused connection) is retried with a doubling back-off and
// recorded for getWebhookInfo (last_error_date, last_error_message). A 2xx answer whose JSON body names a `method`
// is executed as a Bot API call (Telegram's webhook replies). Updates are POSTed to loopback addresses only: this is
// a test server, and any other host is recorded as an error without a connection.
import { isObject, type Json } from "./json.js";
import type { WebhookDeliveryOptions } from "./types.js";

export const DEFAULT_WEBHOOK_DELIVERY: WebhookDeliveryOptions = { timeoutMs: 10_000, retryMinMs: 1000, retryMaxMs: 60_000 };

/** What delivery needs from the update queue and the server. */
export interface DeliverySource {
  /** The webhook's URL, secret and connection limit, or undefined when none is set. */
  target(): { url: string; secret_token?: string; max_connections?: number } | undefined;
  /** Updates waiting for delivery (already filtered by allowed_updates), oldest first. */
  pending(): Json[];
  /** The webhook took an update: it leaves the queue. */
  confirm(update: Json): void;
  /** A webhook reply asked for a Bot API method. */
  runReply(method: string, params: Json): void;
}

const LOOPBACK = /^(127(?:\.\d{1,3}){3}|localhost|\[::1\])$/i;

/** The chat whose order an update belongs to (updates without one are ordered among themselves). */
export function orderKey(update: Json): string {
  for (const [key, value] of Object.entries(update)) {
    if (key === "update_id" || !isObject(value)) continue;
    if (isObject(value.chat)) return `chat:${String(value.chat.id)}`;
    if (isObject(value.message) && isObject(value.message.chat)) return `chat:${String(value.message.chat.id)}`;
    if (isObject(value.from)) return `user:${String(value.from.id)}`;
  }
  return "none";
}

interface Attempts {
  failures: number;
  nextAt: number;
}

export class WebhookDelivery {
  lastErrorDate: number | undefined;
  lastErrorMessage: string | undefined;

  private readonly inFlight = new Map<number, AbortController>();
  private readonly attempts = new Map<number, Attempts>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly source: DeliverySource,
    private readonly options: WebhookDeliveryOptions,
  ) {}

  /** Starts what can start now (call after updates arrive or the webhook changes). */
  kick(): void {
    if (this.closed) return;
    const target = this.source.target();
    if (!target) return;
    const max = target.max_connections ?? 40;
    const now = Date.now();
    const busy = new Set<string>();
    const pending = this.source.pending();
    // Back-off of updates that left the queue (dropped, or taken by getUpdates after deleteWebhook) is forgotten.
    const ids = new Set(pending.map((u) => u.update_id as number));
    for (const id of this.attempts.keys()) if (!ids.has(id)) this.attempts.delete(id);
    for (const update of pending) {
      const id = update.update_id as number;
      const key = orderKey(update);
      if (busy.has(key)) continue;
      busy.add(key);
      if (this.inFlight.has(id)) continue;
      const attempt = this.attempts.get(id);
      if (attempt && attempt.nextAt > now) continue;
      if (this.inFlight.size >= max) break;
      this.post(target, update);
    }
    this.schedule();
  }

  /** Forgets errors and back-off (a new webhook was set). */
  reset(): void {
    this.attempts.clear();
    this.lastErrorDate = undefined;
    this.lastErrorMessage = undefined;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const controller of this.inFlight.values()) controller.abort();
    this.inFlight.clear();
  }

  /** Wakes up for the earliest retry still ahead (due ones start when a delivery of their chat or a slot ends). */
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = Date.now();
    const next = Math.min(...[...this.attempts.values()].map((a) => a.nextAt).filter((at) => at > now));
    if (!Number.isFinite(next)) return;
    this.timer = setTimeout(() => this.kick(), Math.max(0, next - Date.now()));
    this.timer.unref();
  }

  private post(target: { url: string; secret_token?: string }, update: Json): void {
    const id = update.update_id as number;
    const controller = new AbortController();
    this.inFlight.set(id, controller);
    void this.attempt(target, update, controller).then((error) => {
      this.inFlight.delete(id);
      if (this.closed) return;
      if (error === undefined) {
        this.attempts.delete(id);
        this.source.confirm(update);
      } else {
        const failures = (this.attempts.get(id)?.failures ?? 0) + 1;
        const wait = Math.min(this.options.retryMaxMs, this.options.retryMinMs * 2 ** (failures - 1));
        this.attempts.set(id, { failures, nextAt: Date.now() + wait });
        this.lastErrorDate = Math.floor(Date.now() / 1000);
        this.lastErrorMessage = error;
      }
      this.kick();
    });
  }

  /** One POST; resolves with the error text, or undefined when the webhook took the update. */
  private async attempt(target: { url: string; secret_token?: string }, update: Json, controller: AbortController): Promise<string | undefined> {
    const url = new URL(target.url);
    if (!LOOPBACK.test(url.hostname)) return "Connection refused: this test server delivers webhooks to loopback addresses only";
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (target.secret_token !== undefined) headers["x-telegram-bot-api-secret-token"] = target.secret_token;
    const timeout = setTimeout(() => controller.abort(new Error("timeout")), this.options.timeoutMs);
    try {
      const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(update), signal: controller.signal });
      const body = await res.text();
      if (res.status < 200 || res.status > 299) return `Wrong response from the webhook: ${res.status} ${res.statusText}`;
      this.webhookReply(body);
      return undefined;
    } catch (err) {
      if (controller.signal.aborted) return "Read timeout expired";
      const cause = (err as { cause?: { code?: string } }).cause;
      return cause?.code === "ECONNREFUSED" ? "Connection refused" : `Connection failed: ${(err as Error).message}`;
    } finally {
      clearTimeout(timeout);
    }
  }

  private webhookReply(body: string): void {
    if (body.trim() === "") return;
    let reply: unknown;
    try {
      reply = JSON.parse(body);
    } catch {
      return;
    }
    if (isObject(reply) && typeof reply.method === "string") {
      const { method, ...params } = reply;
      this.source.runReply(method, params);
    }
  }
}
