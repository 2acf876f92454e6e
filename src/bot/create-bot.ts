import { Api, Bot, type BotConfig } from "grammy";
import { autoRetry } from "@grammyjs/auto-retry";
import { sequentialize } from "@grammyjs/runner";
import type { BotCommand, BotCommandScope } from "grammy/types";
import type { BotContext, BotDeps } from "./context.js";
import { replyMarkdown } from "./reply.js";
import { accessMiddleware } from "./access.js";
import { adminMenuCommands, features, menuCommands } from "../features/index.js";
import { LOCALES } from "./i18n.js";
import type { ChatSettings } from "../storage/settings.js";

/** Updates of one chat are handled one after another; different chats run concurrently. */
export function chatKeyOf(ctx: { chat?: { id: number } }): string | undefined {
  return ctx.chat?.id.toString();
}

export interface CreateBotOptions extends Pick<BotConfig<BotContext>, "botInfo"> {
  /** Called with every update's id as its handling starts. */
  onUpdate?: (updateId: number) => void;
  /** Called with every update's id when its handling has ended (successfully or not). */
  onUpdateDone?: (updateId: number) => void;
}

export function createBot(token: string, deps: BotDeps, opts: CreateBotOptions = {}): Bot<BotContext> {
  const apiRoot = deps.config.telegram.apiRoot;
  const bot = new Bot<BotContext>(token, { botInfo: opts.botInfo, client: { apiRoot } });
  // Every 429 waits retry_after; network errors and 5xx are retried too (bounded).
  bot.api.config.use(autoRetry({ maxRetryAttempts: 6, maxDelaySeconds: 120 }));
  const fastApi = new Api(token, { apiRoot });

  bot.use(async (ctx, next) => {
    const id = ctx.update.update_id;
    opts.onUpdate?.(id);
    ctx.deps = deps;
    let settings: Promise<ChatSettings> | undefined;
    ctx.chatSettings = () => (settings ??= ctx.chat ? deps.settings.get(ctx.chat.id) : Promise.resolve({}));
    ctx.updateChatSettings = (patch) => {
      settings = deps.settings.update(ctx.chat!.id, patch);
      return settings;
    };
    ctx.fastApi = fastApi;
    ctx.log = deps.log.child({ updateId: id, chatId: ctx.chat?.id });
    try {
      await next();
    } finally {
      opts.onUpdateDone?.(id);
    }
  });
  bot.use(sequentialize(chatKeyOf));
  bot.use(deps.i18n);

  const protectedFeatures = bot.errorBoundary(async (err) => {
    const ctx = err.ctx;
    ctx.log.error({ err: err.error }, "update handler failed");
    if (ctx.chat) await replyMarkdown(ctx, ctx.t("error-unexpected")).catch(() => undefined);
  });
  // Before every feature: senders who may not use the bot stop here, before anything is spent on them.
  protectedFeatures.use(accessMiddleware);
  protectedFeatures.use(...features);

  bot.catch((err) => deps.log.error({ err: err.error, updateId: err.ctx.update.update_id }, "unhandled bot error"));
  return bot;
}

/**
 * The command menu per scope and language (setMyCommands), derived from the features' `menuCommands` plus the
 * admin-only commands: a private chat's user is their own admin, so private chats show both lists; groups show the
 * everyday list to members and both to their administrators. Telegram picks the most specific scope that applies.
 */
export function commandMenus(): Array<{ scope: BotCommandScope; commands: string[] }> {
  const everyone = [...new Set(menuCommands)];
  const withAdmin = [...new Set([...menuCommands, ...adminMenuCommands])];
  return [
    { scope: { type: "default" }, commands: everyone },
    { scope: { type: "all_private_chats" }, commands: withAdmin },
    { scope: { type: "all_group_chats" }, commands: everyone },
    { scope: { type: "all_chat_administrators" }, commands: withAdmin },
  ];
}

export async function registerCommands(bot: Bot<BotContext>, deps: BotDeps): Promise<void> {
  const calls: Array<Promise<true>> = [];
  for (const { scope, commands: names } of commandMenus()) {
    for (const locale of LOCALES) {
      const commands: BotCommand[] = names.map((name) => ({
        command: name,
        description: deps.i18n.t(locale, `cmd-${name}`),
      }));
      // English is the menu for every language without its own; Chinese users (language_code zh*) get theirs.
      calls.push(bot.api.setMyCommands(commands, { scope, ...(locale === "en" ? {} : { language_code: locale }) }));
    }
  }
  await Promise.all(calls);
}
