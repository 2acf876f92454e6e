/**
 * What model calls in progress may still spend: before a call starts, its maximum (counted prompt plus the answer's
 * maximum, and that priced) is held against today's budgets of its sender and chat; when it ends, the hold is
 * released and what it really used is recorded instead. Budgets count both, so calls running at the same time can
 * never spend together more than the budget (five questions at once in five groups cannot each see the whole of it).
 *
 * Holds live in the store, per scope and UTC day (`budget:hold:u:42:2026-11-25`), each with its own expiry: a process
 * that dies in the middle of a call does not keep its holds for ever, only for HOLD_TTL_MS.
 *
 * Check-and-hold is atomic across instances: it runs in the store's exclusive section for its scopes (store.shared:
 * a lock key in Redis, advisory locks in PostgreSQL, BEGIN IMMEDIATE in SQLite), so two instances admitting the same
 * sender at the same instant see each other's holds.
 */
import { randomUUID } from "node:crypto";
import type Keyv from "keyv";
import { scopeId, utcDay, type UsageScope } from "../storage/usage.js";
import { MemorySharedState, type SharedState } from "../storage/shared/shared-state.js";

/** How long a hold lasts at most: far longer than any answer takes, short enough that a crash costs little. */
export const HOLD_TTL_MS = 15 * 60_000;

/** Tokens and estimated cost. */
export interface Amount {
  tokens: number;
  costUsd: number;
}

interface StoredHold extends Amount {
  id: string;
  /** Epoch ms (the injectable clock's): after this the hold no longer counts. */
  until: number;
}

/** A hold taken by reserve(), to be released once. */
export interface HoldRef {
  id: string;
  day: string;
  scopes: readonly UsageScope[];
}

const isHold = (v: unknown): v is StoredHold =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as StoredHold).id === "string" &&
  [(v as StoredHold).tokens, (v as StoredHold).costUsd, (v as StoredHold).until].every((n) => typeof n === "number" && Number.isFinite(n));

export class BudgetHolds {
  readonly #keyv: Keyv;
  readonly #now: () => Date;
  readonly #ttlMs: number;
  readonly #shared: SharedState;

  /** `shared`: the store's (store.shared); without it, holds are exclusive within this process only. */
  constructor(keyv: Keyv, opts: { now: () => Date; ttlMs?: number; shared?: SharedState }) {
    this.#keyv = keyv;
    this.#shared = opts.shared ?? new MemorySharedState();
    this.#now = opts.now;
    this.#ttlMs = opts.ttlMs ?? HOLD_TTL_MS;
  }

  /** What calls in progress hold today in this scope. */
  async held(scope: UsageScope): Promise<Amount> {
    const now = this.#now();
    const holds = await this.#live(this.#key(scope, utcDay(now)), now.getTime());
    return holds.reduce((sum, h) => ({ tokens: sum.tokens + h.tokens, costUsd: sum.costUsd + h.costUsd }), { tokens: 0, costUsd: 0 });
  }

  /**
   * While no other reserve() or release() of these scopes runs: asks `decide` (which reads the budgets, holds
   * included) and, when it has no objection, holds `amount` in every scope. Returns the objection, or the hold.
   */
  async reserve<R>(scopes: readonly UsageScope[], amount: Amount, decide: () => Promise<R | undefined>): Promise<{ refusal: R } | { hold: HoldRef }> {
    const day = utcDay(this.#now());
    const keys = scopes.map((scope) => this.#key(scope, day));
    return this.#shared.exclusive(keys, async () => {
      const refusal = await decide();
      if (refusal !== undefined) return { refusal };
      const now = this.#now().getTime();
      const hold: StoredHold = { id: randomUUID(), tokens: amount.tokens, costUsd: amount.costUsd, until: now + this.#ttlMs };
      for (const key of keys) await this.#write(key, [...(await this.#live(key, now)), hold]);
      return { hold: { id: hold.id, day, scopes } };
    });
  }

  /** Releases a hold (the call ended; its real usage is recorded, or there was none). */
  release(ref: HoldRef): Promise<void> {
    const keys = ref.scopes.map((scope) => this.#key(scope, ref.day));
    return this.#shared.exclusive(keys, async () => {
      const now = this.#now().getTime();
      for (const key of keys) await this.#write(key, (await this.#live(key, now)).filter((h) => h.id !== ref.id));
    });
  }

  #key(scope: UsageScope, day: string): string {
    return `budget:hold:${scopeId(scope)}:${day}`;
  }

  async #live(key: string, now: number): Promise<StoredHold[]> {
    const stored: unknown = await this.#keyv.get(key);
    return (Array.isArray(stored) ? stored : []).filter((h): h is StoredHold => isHold(h) && h.until > now);
  }

  async #write(key: string, holds: StoredHold[]): Promise<void> {
    if (holds.length === 0) await this.#keyv.delete(key);
    // The store's own expiry only collects garbage; what counts is each hold's `until` (the injectable clock).
    else await this.#keyv.set(key, holds, this.#ttlMs + 60_000);
  }
}
