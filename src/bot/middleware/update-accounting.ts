import type { MiddlewareFn } from "grammy";
import type { BotContext } from "../context.js";

export interface UpdateHooks {
  /** Called with every update's id as its handling starts. */
  onUpdate?: (updateId: number) => void;
  /** Called with every update's id when its handling has ended (successfully or not). */
  onUpdateDone?: (updateId: number) => void;
}

/** Tells the app when each update starts and ends being handled (graceful stop, confirmation, tests). */
export function updateAccounting(hooks: UpdateHooks): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    const id = ctx.update.update_id;
    hooks.onUpdate?.(id);
    try {
      await next();
    } finally {
      hooks.onUpdateDone?.(id);
    }
  };
}
