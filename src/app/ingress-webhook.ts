import { createServer } from "node:http";
import { GrammyError, webhookCallback, type Bot } from "grammy";
import type { BotContext } from "../bot/context.js";
import type { Logger } from "../util/logger.js";
import { ALLOWED_UPDATES, type Ingress } from "./ingress.js";
import { StartupError } from "./startup-error.js";

export interface WebhookOptions {
  url: string;
  secret: string | undefined;
  port: number;
}

/** An HTTP server for Telegram's webhook calls (POST, checked against WEBHOOK_SECRET) and /healthz. */
export async function startWebhook(bot: Bot<BotContext>, webhook: WebhookOptions, log: Logger): Promise<Ingress> {
  const { secret } = webhook;
  // Answers take longer than Telegram waits for a webhook reply: acknowledge and keep working.
  const handle = webhookCallback(bot, "http", { onTimeout: "return", timeoutMilliseconds: 8000, secretToken: secret });
  const server = createServer((req, res) => {
    if (req.method !== "POST") {
      res.writeHead(req.url === "/healthz" ? 200 : 404).end();
      return;
    }
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, "webhook update failed");
      if (!res.headersSent) res.writeHead(500).end();
    });
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
