// The bot's own profile: getMe (with the BotFather settings the server was started with: inline mode, guest mode,
// topics in private chats), and the command menus set with setMyCommands. Telegram keeps one list per scope and
// language code (up to 100 commands of 1-32 lower-case letters, digits and underscores, each with a description of
// 1-256 characters), and getMyCommands answers [] for a scope nobody set.
import type { Methods } from "./dispatch.js";
import { canonical, isObject, type Json } from "./json.js";
import { badRequest, type Params } from "./params.js";
import type { BotUser } from "./types.js";

export class BotProfile {
  /** Command lists by scope and language code (commandsKey). */
  private readonly commands = new Map<string, unknown[]>();

  constructor(
    private readonly botUser: BotUser,
    /** What BotFather settings getMe reports (read on every call: tests may switch them). */
    private readonly settings: () => { inline: boolean; guest: boolean; privateTopics: boolean },
  ) {}

  /** Commands stored by setMyCommands for a scope (default `{type:"default"}`) and language code. */
  myCommands(scope?: Json, languageCode = ""): unknown[] | undefined {
    return this.commands.get(commandsKey(scope, languageCode));
  }

  methods(): Methods {
    return {
      getMe: () => {
        const settings = this.settings();
        return {
          ...this.botUser,
          can_join_groups: true,
          can_read_all_group_messages: false,
          supports_inline_queries: settings.inline,
          can_connect_to_business: false,
          has_main_web_app: false,
          has_topics_enabled: settings.privateTopics,
          allows_users_to_create_topics: settings.privateTopics,
          supports_guest_queries: settings.guest,
        };
      },

      setMyCommands: (p) => {
        const commands = p.json("commands", "can't parse commands JSON object");
        if (!Array.isArray(commands)) throw badRequest("can't parse commands JSON object");
        if (commands.length > 100) throw badRequest("too many commands specified");
        for (const c of commands) {
          if (!isObject(c) || typeof c.command !== "string" || !/^[a-z0-9_]{1,32}$/.test(c.command)) {
            throw badRequest("BOT_COMMAND_INVALID");
          }
          if (typeof c.description !== "string" || c.description.trim() === "" || c.description.length > 256) {
            throw badRequest("command description is empty");
          }
        }
        const scope = scopeFrom(p);
        this.commands.set(commandsKey(scope, p.str("language_code") ?? ""), commands);
        return true;
      },
      getMyCommands: (p) => this.commands.get(commandsKey(scopeFrom(p), p.str("language_code") ?? "")) ?? [],
      deleteMyCommands: (p) => {
        this.commands.delete(commandsKey(scopeFrom(p), p.str("language_code") ?? ""));
        return true;
      },
    };
  }
}

function scopeFrom(p: Params): Json {
  const scope = p.json("scope", "can't parse BotCommandScope JSON object");
  if (scope === undefined) return { type: "default" };
  if (!isObject(scope) || typeof scope.type !== "string") throw badRequest("can't parse BotCommandScope JSON object");
  return scope;
}

function commandsKey(scope: Json | undefined, languageCode: string): string {
  return `${canonical(scope ?? { type: "default" })}|${languageCode}`;
}
