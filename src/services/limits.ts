/**
 * The guard before every model call: daily budgets first (the call's maximum must fit in what is left today, and is
 * then held until the call ends), then the per-sender rate limit (a slot is only taken for a call that will happen).
 * Owners are exempt from both.
 */
import type { PriceTable } from "../ai/pricing.js";
import type { UsageStore } from "../storage/usage.js";
import { isOwner } from "./access.js";
import type { BudgetHolds, HoldRef } from "./budget-holds.js";
import {
  budgetRefusal,
  budgetScopes,
  budgetStatus,
  maximumOf,
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

/**
 * An admitted call's claim on the budgets. Release it when the call has ended and its usage is recorded (or it
 * failed, or was never made); releasing twice is harmless. An unreleased permit lapses after HOLD_TTL_MS.
 */
export interface CallPermit {
  release(): Promise<void>;
}

export type Admission = { ok: true; permit: CallPermit } | { ok: false; refusal: Refusal };

export interface ModelCallLimitsOptions {
  ownerIds: readonly number[];
  budgets: BudgetLimits;
  usage: UsageStore;
  /** What calls in progress hold against the budgets. */
  holds: BudgetHolds;
  rateLimiter: RateLimiter;
  /** Price overrides (MODEL_PRICES) on top of the built-in table, for cost budgets. */
  prices?: PriceTable;
  now: () => Date;
  /** Failures releasing a hold (a store error): the hold then lapses on its own. */
  onReleaseError?: (err: unknown) => void;
}

const NOTHING_HELD: CallPermit = { release: () => Promise.resolve() };

/** Decides whether a model call may happen; shared by every instance through the store. */
export class ModelCallLimits {
  readonly #opts: ModelCallLimitsOptions;

  constructor(opts: ModelCallLimitsOptions) {
    this.#opts = opts;
  }

  /** What is left of today's budgets for this sender and chat (calls in progress counted), or undefined without budgets. */
  budgetStatus(who: Spender): Promise<BudgetStatus | undefined> {
    const { usage, holds, budgets, now } = this.#opts;
    return budgetStatus({ usage, holds }, budgets, who, { now: now(), exempt: this.#exempt(who) });
  }

  /**
   * Admits a call or says why not. An admitted call holds its maximum (counted prompt plus the answer's maximum, and
   * their estimated cost) against today's budgets until the permit is released, so calls running at the same time
   * can never together spend more than a budget.
   */
  async admit(who: Spender, call: ModelCallEstimate): Promise<Admission> {
    if (this.#exempt(who)) return { ok: true, permit: NOTHING_HELD };
    const { budgets, holds, prices } = this.#opts;
    let hold: HoldRef | undefined;
    const scopes = budgetScopes(budgets, who);
    if (scopes.length > 0) {
      const outcome = await holds.reserve(scopes, maximumOf(call, prices), async () => {
        const status = await this.budgetStatus(who);
        return status && budgetRefusal(status, call, prices);
      });
      if ("refusal" in outcome) return { ok: false, refusal: outcome.refusal };
      hold = outcome.hold;
    }
    const permit = hold ? this.#permit(hold) : NOTHING_HELD;
    if (who.sender !== undefined) {
      const decision = await this.#opts.rateLimiter.take(who.sender).catch(async (err: unknown) => {
        await permit.release();
        throw err;
      });
      if (!decision.ok) {
        await permit.release();
        return { ok: false, refusal: { kind: "rate", retryAfterMs: decision.retryAfterMs } };
      }
    }
    return { ok: true, permit };
  }

  #permit(hold: HoldRef): CallPermit {
    let released: Promise<void> | undefined;
    return {
      release: () =>
        (released ??= this.#opts.holds.release(hold).catch((err: unknown) => this.#opts.onReleaseError?.(err))),
    };
  }

  /** Owners are people: a chat writing as itself is never one. */
  #exempt(who: Spender): boolean {
    return who.sender !== undefined && "userId" in who.sender && isOwner(this.#opts, who.sender.userId);
  }
}
