// The method table: Telegram matches method names case-insensitively (`/bot<token>/SENDMESSAGE` works), and each
// concern of the server contributes the handlers of its methods. A handler validates its parameters, changes state
// and returns the `result`, or throws an ApiError; only a long poll answers later (a Promise).
import type { Params } from "./params.js";

/** What a handler may know about the HTTP exchange beyond its parameters. */
export interface MethodContext {
  /** Runs `listener` when the client hangs up (a long poll stops waiting for updates for a client that left). */
  onClientGone(listener: () => void): void;
}

/** Resolved by a handler whose client left: nothing is answered and nothing is logged. */
export const NO_ANSWER: unique symbol = Symbol("no answer");

export type Handler = (p: Params, ctx: MethodContext) => unknown;

/** Handlers by method name as written in the Bot API documentation (`sendMessage`). */
export type Methods = Record<string, Handler>;

/** One table for all concerns, keyed by the lower-cased method name. */
export function methodTable(...groups: Methods[]): ReadonlyMap<string, Handler> {
  const table = new Map<string, Handler>();
  for (const group of groups) {
    for (const [name, handler] of Object.entries(group)) {
      const key = name.toLowerCase();
      if (table.has(key)) throw new Error(`Bot API method ${name} is handled twice`);
      table.set(key, handler);
    }
  }
  return table;
}
