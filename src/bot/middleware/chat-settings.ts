import type { MiddlewareFn } from "grammy";
import type { BotContext } from "../context.js";
import type { ChatSettings, ChatSettingsStore } from "../../storage/settings.js";

/**
 * ctx.chatSettings(): the chat's settings read once per update, on first use (the locale, the limits and the answer
 * all need them); ctx.updateChatSettings() writes a change and is what later reads of this update see.
 */
export function chatSettingsOncePerUpdate(store: ChatSettingsStore): MiddlewareFn<BotContext> {
  return (ctx, next) => {
    let settings: Promise<ChatSettings> | undefined;
    ctx.chatSettings = () => (settings ??= ctx.chat ? store.get(ctx.chat.id) : Promise.resolve({}));
    ctx.updateChatSettings = (patch) => {
      settings = store.update(ctx.chat!.id, patch);
      return settings;
    };
    return next();
  };
}
