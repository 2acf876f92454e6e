import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { GrammyError, type Bot } from "grammy";
import type { BotContext } from "../bot/context.js";
import type { Logger } from "../util/logger.js";
import { isUpdate, type UpdateQueue } from "../storage/queue/update-queue.js";
import { updatesReceived } from "../util/metrics.js";
import { ALLOWED_UPDATES, type Ingress } from "./ingress.js";
import { serveOps, type ReadinessProbe } from "./ops-server.js";
import { StartupError } from "./startup-error.js";

export interface WebhookOptions {
  /** The public URL Telegram posts to (WEBHOOK_URL). */
  url: string;
  /** WEBHOOK_SECRET; when absent, one is derived from the bot token (deriveWebhookSecret). */
  secret: string | undefined;
  /** The path updates are served on: WEBHOOK_PATH, else the path of WEBHOOK_URL. */
  path: string;
  port: number;
}

/** The header Telegram sends the webhook's secret_token in. */
const SECRET_HEADER = "x-telegram-bot-api-secret-token";
/** Telegram's updates are far smaller; a body above this is refused unread. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The webhook's secret when the operator gave none: an HMAC of the bot token, so it is as hard to guess as the token,
 * never shows the token itself, and is the same after a restart and on every instance of the bot (a random one would
 * lock out the instances that did not register it last).
 */
export function deriveWebhookSecret(token: string): string {
  return createHmac("sha256", token).update("telegram-webhook-secret-token").digest("base64url");
}

/** Whether the header carries the secret, compared in constant time (over digests, so lengths do not leak either). */
export function secretMatches(given: string | string[] | undefined, secret: string): boolean {
  if (typeof given !== "string") return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(secret));
}

/**
 * An HTTP server for Telegram's webhook calls and the operations endpoints (/healthz, /metrics). Updates are served
 * only as POSTs on the webhook's own path with the right secret header: anything else is answered here and never
 * reaches the bot (a forged update "from" an owner would otherwise pass every check the bot makes).
 *
 * An update is stored in the queue before the 200: Telegram forgets it only once it is safe. When the queue cannot
 * store it (the store is unreachable), the answer is 503 and Telegram delivers it again later.
 */
export async function startWebhook(bot: Bot<BotContext>, webhook: WebhookOptions, queue: UpdateQueue, ready: ReadinessProbe, log: Logger): Promise<Ingress> {
  const secret = webhook.secret ?? deriveWebhookSecret(bot.token);
  if (webhook.secret === undefined) log.info("WEBHOOK_SECRET is not set: the webhook uses a secret derived from the bot token");
  let outageSince: number | undefined;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let update: unknown;
    try {
      update = JSON.parse((await readBody(req)).toString("utf8"));
    } catch {
      return res.writeHead(400, { connection: "close" }).end();
    }
    if (!isUpdate(update)) return res.writeHead(400).end();
    try {
      await queue.add([update]);
    } catch (err) {
      outageSince ??= Date.now();
      log.warn({ err, updateId: update.update_id }, "cannot store an update; Telegram will deliver it again");
      return res.writeHead(503, { "retry-after": "1" }).end();
    }
    if (outageSince !== undefined) {
      log.info({ outageMs: Date.now() - outageSince }, "updates are stored again");
      outageSince = undefined;
    }
    updatesReceived.inc();
    res.writeHead(200).end();
  };
  const refuse = (req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string> = {}) => {
    // The body of a refused request is never read: drop it with the connection.
    req.resume();
    res.writeHead(status, { connection: "close", ...headers }).end();
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://webhook").pathname;
    if (path === webhook.path) {
      if (req.method !== "POST") return refuse(req, res, 405, { allow: "POST" });
      if (!secretMatches(req.headers[SECRET_HEADER], secret)) {
        log.warn({ remote: req.socket.remoteAddress }, "webhook call without the right secret refused");
        return refuse(req, res, 401);
      }
      handle(req, res).catch((err: unknown) => {
        log.error({ err }, "webhook update failed");
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    if (serveOps(req, res, ready)) return;
    refuse(req, res, 404);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(webhook.port, resolve);
  });
  try {
    await bot.api.setWebhook(webhook.url, { secret_token: secret, allowed_updates: [...ALLOWED_UPDATES] });
  } catch (err) {
    server.close();
    if (err instanceof GrammyError) throw new StartupError(`WEBHOOK_URL was refused by Telegram: ${err.description}`);
    throw err;
  }
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
    // Telegram counts an update as delivered once the webhook call was answered.
    confirm: () => Promise.resolve(),
  };
}

/** The request's body, at most MAX_BODY_BYTES (a longer one is refused with the connection). */
async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      req.destroy();
      throw new Error("body too large");
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
