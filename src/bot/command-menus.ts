/**
 * The command menu (setMyCommands) per scope and language, from the commands the features list
 * (src/features/index.ts); descriptions come from the locale key `cmd-<name>`.
 */
import type { Api } from "grammy";
import type { BotCommand, BotCommandScope } from "grammy/types";
import type { I18n } from "@grammyjs/i18n";
import type { BotContext } from "./context.js";
import { LOCALES } from "./i18n.js";

export interface CommandMenu {
  /** Everyday commands, in menu order. */
  everyone: readonly string[];
  /** Commands only admins can use. */
  admins: readonly string[];
}

/**
 * A private chat's user is their own admin, so private chats show both lists; groups show the everyday list to
 * members and both to their administrators. Telegram picks the most specific scope that applies.
 */
export function commandMenus(menu: CommandMenu): Array<{ scope: BotCommandScope; commands: string[] }> {
  const everyone = [...new Set(menu.everyone)];
  const withAdmin = [...new Set([...menu.everyone, ...menu.admins])];
  return [
    { scope: { type: "default" }, commands: everyone },
    { scope: { type: "all_private_chats" }, commands: withAdmin },
    { scope: { type: "all_group_chats" }, commands: everyone },
    { scope: { type: "all_chat_administrators" }, commands: withAdmin },
  ];
}

/** Sets the menus in every language the bot speaks; `signal` bounds the calls (auto-retry included). */
export async function registerCommands(api: Api, i18n: I18n<BotContext>, menu: CommandMenu, signal?: AbortSignal): Promise<void> {
  const calls: Array<Promise<true>> = [];
  for (const { scope, commands: names } of commandMenus(menu)) {
    for (const locale of LOCALES) {
      const commands: BotCommand[] = names.map((name) => ({ command: name, description: i18n.t(locale, `cmd-${name}`) }));
      // English is the menu for every language without its own; Chinese users (language_code zh*) get theirs.
      calls.push(
        api.setMyCommands(
          commands,
          { scope, ...(locale === "en" ? {} : { language_code: locale }) },
          signal as Parameters<Api["setMyCommands"]>[2],
        ),
      );
    }
  }
  await Promise.all(calls);
}
