/**
 * The guard before every model call: daily budgets first (a call must fit in what is left today), then the per-user
 * rate limit (a slot is only taken for a call that will happen). Owners are exempt from both.
 */
import type { PriceTable } from "../ai/pricing.js";
import type { UsageStore } from "../storage/usage.js";
import { isOwner } from "./access.js";
import {
  budgetRefusal,
  budgetStatus,
  type BudgetLimits,
  type BudgetRefusal,
  type BudgetStatus,
  type ModelCallEstimate,
  type Spender,
} from "./budgets.js";
import type { RateLimiter } from "./rate-limiter.js";

/** Why a model call may not happen now. */
export type Refusal = { kind: "rate"; retryAfterMs: number } | BudgetRefusal;

/**
 * A rate limit or budget of ours stopped a model call (nothing was spent). Distinct from ModelError, which is
 * about the model server: this one carries the refusal, so the user is told which limit and until when.
 */
export class LimitRefusalError extends Error {
  override readonly name = "LimitRefusalError";
  constructor(readonly refusal: Refusal) {
    super(refusal.kind === "rate" ? "rate limited" : `${refusal.scope} ${refusal.unit} budget spent`);
  }
}

export interface ModelCallLimitsOptions {
  ownerIds: readonly number[];
  budgets: BudgetLimits;
  usage: UsageStore;
  rateLimiter: RateLimiter;
  /** Price overrides (MODEL_PRICES) on top of the built-in table, for cost budgets. */
  prices?: PriceTable;
  now: () => Date;
}

/** Decides whether a model call may happen; shared by every instance through the store. */
export class ModelCallLimits {
  readonly #opts: ModelCallLimitsOptions;

  constructor(opts: ModelCallLimitsOptions) {
    this.#opts = opts;
  }

  /** What is left of today's budgets for this sender and chat, or undefined when no budget is configured. */
  budgetStatus(who: Spender): Promise<BudgetStatus | undefined> {
    const { usage, budgets, now } = this.#opts;
    return budgetStatus(usage, budgets, who, { now: now(), exempt: isOwner(this.#opts, who.userId) });
  }

  /** undefined when the call may go ahead; otherwise why not. */
  async check(who: Spender, call: ModelCallEstimate): Promise<Refusal | undefined> {
    if (isOwner(this.#opts, who.userId)) return undefined;
    const status = await this.budgetStatus(who);
    const overBudget = status && budgetRefusal(status, call, this.#opts.prices);
    if (overBudget) return overBudget;
    if (who.userId !== undefined) {
      const decision = await this.#opts.rateLimiter.take(who.userId);
      if (!decision.ok) return { kind: "rate", retryAfterMs: decision.retryAfterMs };
    }
    return undefined;
  }
}
