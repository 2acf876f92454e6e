import type { Api, MiddlewareFn } from "grammy";
import type { BotContext, BotDeps } from "../context.js";

/** Gives every update the bot's services, its own logger (update id and chat) and the Api without retries. */
export function contextSetup(deps: BotDeps, fastApi: Api): MiddlewareFn<BotContext> {
  return (ctx, next) => {
    ctx.deps = deps;
    ctx.fastApi = fastApi;
    ctx.log = deps.log.child({ updateId: ctx.update.update_id, chatId: ctx.chat?.id });
    return next();
  };
}
