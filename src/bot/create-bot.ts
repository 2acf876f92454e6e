/**
 * The grammY bot: middleware every update passes (accounting, context, the chat's settings, one chat at a time, the
 * user's language, the access gate), then the features the composition root hands in, inside one error boundary.
 */
import { Api, Bot, type BotConfig, type Middleware, type Transformer } from "grammy";
import { autoRetry } from "@grammyjs/auto-retry";
import { sequentialize } from "@grammyjs/runner";
import type { BotContext, BotDeps } from "./context.js";
import { replyMarkdown } from "./reply.js";
import { accessGate } from "./middleware/access-gate.js";
import { chatSettingsOncePerUpdate } from "./middleware/chat-settings.js";
import { contextSetup } from "./middleware/context-setup.js";
import { editInterrupt } from "./middleware/edit-interrupt.js";
import { messageJoining, supersededSkip } from "./middleware/message-joining.js";
import { stopInterrupt } from "./middleware/stop-interrupt.js";
import { updateAccounting, type UpdateHooks } from "./middleware/update-accounting.js";
import { answers, telegram429 } from "../util/metrics.js";

/** Methods whose success is a message users see (counted as answers in /metrics). */
const MESSAGE_METHODS = new Set(["sendMessage", "editMessageText", "sendPhoto", "sendVoice", "sendDocument", "editMessageMedia"]);

/** Counts every raw Bot API answer for /metrics: inside auto-retry, so each 429 is seen, retried or not. */
const countCalls: Transformer = async (prev, method, payload, signal) => {
  const result = await prev(method, payload, signal);
  if (result.ok) {
    if (MESSAGE_METHODS.has(method)) answers.inc({ method });
  } else if (result.error_code === 429) telegram429.inc({ method });
  return result;
};

/** Updates of one chat are handled one after another; different chats run concurrently. */
function chatKeyOf(ctx: { chat?: { id: number } }): string | undefined {
  return ctx.chat?.id.toString();
}

export interface CreateBotOptions extends Pick<BotConfig<BotContext>, "botInfo">, UpdateHooks {
  /** The features, in the order they see updates (src/features/index.ts). */
  features: ReadonlyArray<Middleware<BotContext>>;
}

export function createBot(token: string, deps: BotDeps, opts: CreateBotOptions): Bot<BotContext> {
  const apiRoot = deps.config.telegram.apiRoot;
  const bot = new Bot<BotContext>(token, { botInfo: opts.botInfo, client: { apiRoot } });
  bot.api.config.use(countCalls);
  // Every 429 waits retry_after; network errors and 5xx are retried too (bounded).
  bot.api.config.use(autoRetry({ maxRetryAttempts: 6, maxDelaySeconds: 120 }));
  const fastApi = new Api(token, { apiRoot });
  fastApi.config.use(countCalls);

  bot.use(updateAccounting(opts));
  bot.use(contextSetup(deps, fastApi));
  bot.use(chatSettingsOncePerUpdate(deps.settings));
  // Before the chat's queue: a stop must not wait behind the answer it stops (stop-interrupt.ts). A /stop is never
  // part of a joined question, so it comes before the joining too.
  bot.use(stopInterrupt(deps.i18n));
  // Before the chat's queue (waiting for the rest of a paste, album or forwards holds no chat's line), and right
  // before it: nothing that awaits may come between, so a joined group enters the queue before later messages.
  bot.use(messageJoining);
  // Before the chat's queue: an edited question must not wait behind the answer it replaces (edit-interrupt.ts).
  bot.use(editInterrupt);
  bot.use(sequentialize(chatKeyOf));
  bot.use(supersededSkip);
  bot.use(deps.i18n);

  const protectedFeatures = bot.errorBoundary(async (err) => {
    const ctx = err.ctx;
    ctx.log.error({ err: err.error }, "update handler failed");
    if (ctx.chat || ctx.inlineMessage) await replyMarkdown(ctx, ctx.t("error-unexpected")).catch(() => undefined);
  });
  // Before every feature: senders who may not use the bot stop here, before anything is spent on them.
  protectedFeatures.use(accessGate);
  protectedFeatures.use(...opts.features);

  bot.catch((err) => deps.log.error({ err: err.error, updateId: err.ctx.update.update_id }, "unhandled bot error"));
  return bot;
}
