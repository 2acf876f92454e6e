// Updates, as the Bot API hands them to a bot: a queue with increasing update_ids, read by getUpdates long polling
// (offset confirms, limit 1-100, timeout in seconds) or POSTed to a webhook (webhook-delivery.ts). allowed_updates is
// one setting, changed by getUpdates and setWebhook when they give it and kept otherwise: an empty list means every
// type but chat_member, message_reaction and message_reaction_count (the opt-in ones); updates of types not allowed
// are dropped, as Telegram does. A newer poll ends the older one with 409 ("terminated by other getUpdates
// request"), and getUpdates answers 409 while a webhook is set. setWebhook requires an HTTPS URL on port 443, 80, 88
// or 8443 (plain http on any port too with the allowHttpWebhooks option, for tests). Callback queries can be answered
// once.
import { NO_ANSWER, type MethodContext, type Methods } from "./dispatch.js";
import { isObject, stripUndefined, type Json } from "./json.js";
import { ApiError, badRequest, isValidUrl, type Params } from "./params.js";
import type { WebhookDeliveryOptions } from "./types.js";
import { WebhookDelivery } from "./webhook-delivery.js";

/** Update types delivered when allowed_updates is empty/unset (Telegram's default excludes these). */
export const OPT_IN_UPDATES = new Set(["chat_member", "message_reaction", "message_reaction_count"]);

const WEBHOOK_PORTS = new Set(["443", "80", "88", "8443"]);

/** The type of an update: its one field besides update_id. */
export const updateType = (update: Json) => Object.keys(update).find((k) => k !== "update_id") ?? "";

/** The settings stored by setWebhook. */
export interface Webhook {
  url: string;
  secret_token?: string;
  allowed_updates?: string[];
  max_connections?: number;
}

/** What the server remembers of a callback query until it is answered. */
export interface CallbackQueryInfo {
  fromId: number;
  chatId?: number;
  messageId?: number;
  /** Pressed on an ephemeral message. */
  ephemeral: boolean;
}

type PollOutcome = { result: unknown[] } | { error: ApiError };

interface PendingPoll {
  limit: number;
  resolve: (outcome: PollOutcome) => void;
}

export class UpdateQueue {
  /** Stored webhook (setWebhook); while set, updates are POSTed to it and getUpdates answers 409 like Telegram. */
  webhook: Webhook | undefined;

  /** Updates not yet confirmed by an offset, oldest first. */
  private updates: Json[] = [];
  // Telegram's update ids start at an arbitrary positive number; a random one here keeps bots whose queue outlives a
  // test (Redis: update ids are remembered for a day) from taking a new server's updates for redeliveries.
  private nextUpdateId = 1 + Math.floor(Math.random() * 1e9);
  /** The allowed_updates of the last getUpdates that gave them ([] = Telegram's default set). */
  private allowedUpdates: string[] = [];
  private pendingPoll: PendingPoll | undefined;
  private closed = false;
  /** Callback queries not answered yet, by id. */
  private readonly callbackQueries = new Map<string, CallbackQueryInfo>();

  /** POSTs updates while a webhook is set. */
  readonly delivery: WebhookDelivery;

  /**
   * `onUpdate` sees every update as it is queued; `runReply` executes a method named in a webhook's answer.
   */
  constructor(
    private readonly onUpdate: (update: Json) => void,
    runReply: (method: string, params: Json) => void,
    deliveryOptions: WebhookDeliveryOptions,
    /** Mutable: accept http:// webhook URLs on any port (tests). */
    public allowHttpWebhooks: boolean,
  ) {
    this.delivery = new WebhookDelivery(
      {
        target: () => this.webhook,
        pending: () => this.deliverable(),
        confirm: (update) => {
          this.updates = this.updates.filter((u) => u !== update);
        },
        runReply,
      },
      deliveryOptions,
    );
  }

  /** The allowed_updates in force ([] = Telegram's default set). */
  get allowed(): string[] {
    return [...this.allowedUpdates];
  }

  /** Queues any update (update_id assigned when missing). Callback query ids become answerable. */
  push(raw: Json): Json {
    const updateId = typeof raw.update_id === "number" ? raw.update_id : this.nextUpdateId;
    const update: Json = { update_id: updateId, ...raw };
    update.update_id = updateId;
    this.nextUpdateId = Math.max(this.nextUpdateId, updateId + 1);
    const cbq = update.callback_query;
    if (isObject(cbq) && typeof cbq.id === "string") {
      const from = isObject(cbq.from) ? cbq.from : {};
      const message = isObject(cbq.message) ? cbq.message : {};
      const chat = isObject(message.chat) ? message.chat : {};
      this.callbackQueries.set(cbq.id, {
        fromId: Number(from.id),
        chatId: typeof chat.id === "number" ? chat.id : undefined,
        messageId: typeof message.message_id === "number" ? message.message_id : undefined,
        ephemeral: message.ephemeral_message_id !== undefined,
      });
    }
    this.updates.push(update);
    this.onUpdate(update);
    this.flushPoll();
    this.delivery.kick();
    return update;
  }

  /** Updates not yet confirmed by getUpdates. */
  pending(): Json[] {
    return [...this.updates];
  }

  /** An unanswered callback query. */
  callbackQuery(id: string): CallbackQueryInfo | undefined {
    return this.callbackQueries.get(id);
  }

  /** An id for a new callback query (unique per update and time, like Telegram's opaque ids). */
  newCallbackQueryId(): string {
    return `cbq-${this.nextUpdateId}-${Date.now()}`;
  }

  /** Answers a waiting poll with [] and every later one at once. */
  close(): void {
    this.closed = true;
    this.delivery.close();
    const poll = this.pendingPoll;
    this.pendingPoll = undefined;
    poll?.resolve({ result: [] });
  }

  methods(): Methods {
    return {
      getUpdates: (p, ctx) => this.getUpdates(p, ctx),

      setWebhook: (p) => {
        const url = p.str("url");
        if (url === undefined) throw badRequest("parameter \"url\" is required");
        if (url === "") {
          this.webhook = undefined;
          return true;
        }
        this.checkWebhookUrl(url);
        const allowed = this.allowedFrom(p);
        const secret = p.str("secret_token");
        if (secret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) throw badRequest("secret token contains unallowed characters");
        const maxConnections = p.int("max_connections");
        if (maxConnections !== undefined && (maxConnections < 1 || maxConnections > 100)) throw badRequest("bad webhook: max_connections must be between 1 and 100");
        if (p.bool("drop_pending_updates")) this.updates = [];
        if (allowed !== undefined) this.allowedUpdates = allowed;
        this.webhook = stripUndefined({ url, secret_token: secret, allowed_updates: allowed, max_connections: maxConnections });
        this.delivery.reset();
        this.delivery.kick();
        return true;
      },
      deleteWebhook: (p) => {
        if (p.bool("drop_pending_updates")) this.updates = [];
        this.webhook = undefined;
        this.delivery.reset();
        return true;
      },
      getWebhookInfo: () =>
        stripUndefined({
          url: this.webhook?.url ?? "",
          has_custom_certificate: false,
          pending_update_count: this.deliverable().length,
          last_error_date: this.webhook ? this.delivery.lastErrorDate : undefined,
          last_error_message: this.webhook ? this.delivery.lastErrorMessage : undefined,
          max_connections: this.webhook ? (this.webhook.max_connections ?? 40) : undefined,
          allowed_updates: this.webhook && this.allowedUpdates.length > 0 ? [...this.allowedUpdates] : undefined,
        }),

      answerCallbackQuery: (p) => {
        const id = p.str("callback_query_id");
        if (id === undefined || id === "") throw badRequest("parameter \"callback_query_id\" is required");
        // The notification or alert a press shows: 0-200 characters.
        const text = p.str("text");
        if (text !== undefined && [...text].length > 200) throw badRequest("MESSAGE_TOO_LONG");
        p.bool("show_alert");
        p.int("cache_time");
        if (p.str("url") !== undefined && !isValidUrl(p.str("url")!, true)) throw badRequest("URL_INVALID");
        if (!this.callbackQueries.delete(id)) {
          throw badRequest("query is too old and response timeout expired or query ID is invalid");
        }
        return true;
      },
    };
  }

  /**
   * Answers at once when updates are ready (or timeout is 0); otherwise waits up to `timeout` seconds for the first
   * one. A client that gives up (bot.stop() aborts its fetch) gets no answer and must not take the next updates.
   */
  private getUpdates(p: Params, ctx: MethodContext): unknown[] | Promise<unknown[] | typeof NO_ANSWER> {
    if (this.webhook) {
      throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    }
    const offset = p.int("offset");
    const limit = Math.min(100, Math.max(1, p.int("limit") ?? 100));
    const timeout = Math.max(0, p.int("timeout") ?? 0);
    const allowed = this.allowedFrom(p);
    if (allowed !== undefined) this.allowedUpdates = allowed;
    if (offset !== undefined) {
      if (offset > 0) this.updates = this.updates.filter((u) => (u.update_id as number) >= offset);
      else if (offset < 0) this.updates = this.updates.slice(offset);
    }
    // Telegram ends an older poll when a newer one arrives (two bot instances polling).
    const previous = this.pendingPoll;
    this.pendingPoll = undefined;
    previous?.resolve({
      error: new ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"),
    });
    const ready = this.takeUpdates(limit);
    if (ready.length > 0 || timeout === 0 || this.closed) return ready;
    return new Promise<unknown[] | typeof NO_ANSWER>((resolve, reject) => {
      let done = false;
      const poll: PendingPoll = {
        limit,
        resolve: (outcome) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          if (this.pendingPoll === poll) this.pendingPoll = undefined;
          if ("error" in outcome) reject(outcome.error);
          else resolve(outcome.result);
        },
      };
      const timer = setTimeout(() => poll.resolve({ result: [] }), timeout * 1000);
      ctx.onClientGone(() => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (this.pendingPoll === poll) this.pendingPoll = undefined;
        resolve(NO_ANSWER);
      });
      this.pendingPoll = poll;
    });
  }

  /** Whether the bot asked for updates of this type. */
  private isAllowed(type: string): boolean {
    return this.allowedUpdates.length > 0 ? this.allowedUpdates.includes(type) : !OPT_IN_UPDATES.has(type);
  }

  /** The pending updates of the types the bot asked for; updates of other types are dropped, as Telegram does. */
  private deliverable(): Json[] {
    this.updates = this.updates.filter((u) => this.isAllowed(updateType(u)));
    return this.updates;
  }

  /** The first `limit` updates of the types the bot asked for. */
  private takeUpdates(limit: number): Json[] {
    return this.deliverable().slice(0, limit);
  }

  /** The allowed_updates parameter, checked; undefined when absent. */
  private allowedFrom(p: Params): string[] | undefined {
    const allowed = p.json("allowed_updates", "can't parse allowed updates");
    if (allowed === undefined) return undefined;
    if (!Array.isArray(allowed) || !allowed.every((t) => typeof t === "string")) throw badRequest("can't parse allowed updates");
    return allowed;
  }

  /** Telegram's rules for a webhook URL (loosened for local http listeners by allowHttpWebhooks). */
  private checkWebhookUrl(url: string): void {
    if (!isValidUrl(url, false)) throw badRequest("bad webhook: Failed to resolve host: Name or service not known");
    const parsed = new URL(url);
    if (parsed.protocol === "http:" && this.allowHttpWebhooks) return;
    if (parsed.protocol !== "https:") throw badRequest("bad webhook: An HTTPS URL must be provided for webhook");
    if (!WEBHOOK_PORTS.has(parsed.port || "443")) throw badRequest("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443");
  }

  private flushPoll(): void {
    const poll = this.pendingPoll;
    if (!poll) return;
    const ready = this.takeUpdates(poll.limit);
    if (ready.length === 0) return;
    this.pendingPoll = undefined;
    poll.resolve({ result: ready });
  }
}
