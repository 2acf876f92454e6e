/**
 * A sender over a limit is told once per window, not once per message: the rate limit until its window frees, a
 * budget until it renews (per chat, where they will see it). Messages refused in between get no reply, so a flood
 * of questions costs one line, not a line each (which would also run into Telegram's flood control).
 */
import type Keyv from "keyv";
import type { SharedState } from "../storage/shared/shared-state.js";
import { scopeId, utcDay, type Sender } from "../storage/usage.js";
import { nextUtcMidnight } from "./budgets.js";
import type { Refusal } from "./limits.js";
import { ToldOnce } from "./told-once.js";

export class LimitNotices {
  readonly #told: ToldOnce;
  readonly #now: () => Date;

  constructor(keyv: Keyv, opts: { now: () => Date; shared?: SharedState }) {
    this.#now = opts.now;
    this.#told = new ToldOnce(keyv, opts);
  }

  /** True when this refusal should be told (the first of its window for this sender in this chat). */
  shouldTell(refusal: Refusal, chatId: number, sender: Sender | undefined): Promise<boolean> {
    const who = sender ? scopeId(sender) : "none";
    const now = this.#now();
    if (refusal.kind === "rate") return this.#told.first(`limits:told:rate:${chatId}:${who}`, refusal.retryAfterMs);
    const key = `limits:told:budget:${refusal.scope}:${refusal.unit}:${utcDay(now)}:${chatId}:${who}`;
    return this.#told.first(key, nextUtcMidnight(now).getTime() - now.getTime());
  }
}
