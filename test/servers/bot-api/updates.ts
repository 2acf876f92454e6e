// Updates, as the Bot API hands them to a bot: a queue with increasing update_ids, read by getUpdates long polling
// (offset confirms, limit 1-100, timeout in seconds; allowed_updates remembered across calls, and chat_member and
// reactions only when asked for). A newer poll ends the older one with 409 ("terminated by other getUpdates
// request"), and getUpdates answers 409 while a webhook is set. setWebhook/deleteWebhook/getWebhookInfo keep the
// webhook's settings (updates are not POSTed to it). Callback queries can be answered once.
import { NO_ANSWER, type MethodContext, type Methods } from "./dispatch.js";
import { isObject, stripUndefined, type Json } from "./json.js";
import { ApiError, badRequest, isValidUrl, type Params } from "./params.js";

/** Update types delivered when allowed_updates is empty/unset (Telegram's default excludes these). */
const OPT_IN_UPDATES = new Set(["chat_member", "message_reaction", "message_reaction_count"]);

/** The settings stored by setWebhook. */
export interface Webhook {
  url: string;
  secret_token?: string;
  allowed_updates?: string[];
  max_connections?: number;
}

type PollOutcome = { result: unknown[] } | { error: ApiError };

interface PendingPoll {
  limit: number;
  resolve: (outcome: PollOutcome) => void;
}

export class UpdateQueue {
  /** Stored webhook (setWebhook); while set, getUpdates answers 409 like Telegram. */
  webhook: Webhook | undefined;

  /** Updates not yet confirmed by an offset, oldest first. */
  private updates: Json[] = [];
  private nextUpdateId = 1;
  /** The allowed_updates of the last getUpdates that gave them ([] = Telegram's default set). */
  private allowedUpdates: string[] = [];
  private pendingPoll: PendingPoll | undefined;
  private closed = false;
  /** Callback query ids not answered yet. */
  private readonly callbackQueries = new Set<string>();

  /** `onUpdate` sees every update as it is queued. */
  constructor(private readonly onUpdate: (update: Json) => void) {}

  /** Queues any update (update_id assigned when missing). Callback query ids become answerable. */
  push(raw: Json): Json {
    const updateId = typeof raw.update_id === "number" ? raw.update_id : this.nextUpdateId;
    const update: Json = { update_id: updateId, ...raw };
    update.update_id = updateId;
    this.nextUpdateId = Math.max(this.nextUpdateId, updateId + 1);
    const cbq = update.callback_query;
    if (isObject(cbq) && typeof cbq.id === "string") this.callbackQueries.add(cbq.id);
    this.updates.push(update);
    this.onUpdate(update);
    this.flushPoll();
    return update;
  }

  /** Updates not yet confirmed by getUpdates. */
  pending(): Json[] {
    return [...this.updates];
  }

  /** An id for a new callback query (unique per update and time, like Telegram's opaque ids). */
  newCallbackQueryId(): string {
    return `cbq-${this.nextUpdateId}-${Date.now()}`;
  }

  /** Answers a waiting poll with [] and every later one at once. */
  close(): void {
    this.closed = true;
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
        if (!isValidUrl(url, false) || !url.startsWith("https://")) throw badRequest("bad webhook: An HTTPS URL must be provided for webhook");
        const allowed = p.json("allowed_updates", "can't parse allowed updates");
        const secret = p.str("secret_token");
        if (secret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) throw badRequest("secret token contains unallowed characters");
        if (p.bool("drop_pending_updates")) this.updates = [];
        this.webhook = stripUndefined({
          url,
          secret_token: secret,
          allowed_updates: Array.isArray(allowed) ? (allowed as string[]) : undefined,
          max_connections: p.int("max_connections"),
        });
        return true;
      },
      deleteWebhook: (p) => {
        if (p.bool("drop_pending_updates")) this.updates = [];
        this.webhook = undefined;
        return true;
      },
      getWebhookInfo: () =>
        stripUndefined({
          url: this.webhook?.url ?? "",
          has_custom_certificate: false,
          pending_update_count: this.updates.length,
          max_connections: this.webhook?.max_connections,
          allowed_updates: this.webhook?.allowed_updates,
        }),

      answerCallbackQuery: (p) => {
        const id = p.str("callback_query_id");
        if (id === undefined || id === "") throw badRequest("parameter \"callback_query_id\" is required");
        p.str("text");
        p.bool("show_alert");
        p.int("cache_time");
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
    const allowed = p.json("allowed_updates", "can't parse allowed updates");
    if (allowed !== undefined) {
      if (!Array.isArray(allowed) || !allowed.every((t) => typeof t === "string")) throw badRequest("can't parse allowed updates");
      this.allowedUpdates = allowed;
    }
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

  /** The first `limit` updates of the types the bot asked for; updates of other types are dropped, as Telegram does. */
  private takeUpdates(limit: number): Json[] {
    const allowed = this.allowedUpdates;
    this.updates = this.updates.filter((u) => {
      const type = Object.keys(u).find((k) => k !== "update_id") ?? "";
      return allowed.length > 0 ? allowed.includes(type) : !OPT_IN_UPDATES.has(type);
    });
    return this.updates.slice(0, limit);
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
