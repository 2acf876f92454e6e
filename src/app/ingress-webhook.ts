import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { GrammyError, webhookCallback, type Bot } from "grammy";
import type { BotContext } from "../bot/context.js";
import type { Logger } from "../util/logger.js";
import { ALLOWED_UPDATES, type Ingress } from "./ingress.js";
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
const HEALTH_PATH = "/healthz";

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
 * An HTTP server for Telegram's webhook calls and health checks. Updates are served only as POSTs on the webhook's
 * own path with the right secret header: anything else is answered here and never reaches the bot (a forged update
 * "from" an owner would otherwise pass every check the bot makes). GET /healthz answers 200.
 */
export async function startWebhook(bot: Bot<BotContext>, webhook: WebhookOptions, log: Logger): Promise<Ingress> {
  const secret = webhook.secret ?? deriveWebhookSecret(bot.token);
  if (webhook.secret === undefined) log.info("WEBHOOK_SECRET is not set: the webhook uses a secret derived from the bot token");
  // Answers take longer than Telegram waits for a webhook reply: acknowledge and keep working. The secret is checked
  // before the request gets here.
  const handle = webhookCallback(bot, "http", { onTimeout: "return", timeoutMilliseconds: 8000 });
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
    if (path === HEALTH_PATH) {
      if (req.method === "GET" || req.method === "HEAD") return refuse(req, res, 200);
      return refuse(req, res, 405, { allow: "GET, HEAD" });
    }
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
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    // Telegram counts an update as delivered once the webhook call was answered.
    confirm: () => Promise.resolve(),
  };
}
