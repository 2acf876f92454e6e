import type Keyv from "keyv";
import { MemorySharedState, type SharedState } from "./shared/shared-state.js";

/** What was spent in one period. Tokens as OpenAI reports them; costUsd an estimate from src/ai/pricing.ts. */
export interface UsageRecord {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  images: number;
  /** Seconds of voice notes, audio files and video notes transcribed. */
  transcribedSeconds: number;
  /** Seconds of speech made (/say, spoken answers). */
  spokenSeconds: number;
  costUsd: number;
  calls: number;
  /** Calls whose model had no known price: costUsd leaves them out, so it is a lower bound when this is > 0. */
  unpricedCalls: number;
}

/**
 * Who spent: a user, or a chat writing as itself. Anonymous group admins (from GroupAnonymousBot, sender_chat = the
 * group) and people posting as a channel (from Channel_Bot, sender_chat = the channel) share one Telegram user across
 * every group, so they are told apart by the chat they write as.
 */
export type Sender = { userId: number } | { senderChatId: number };

export type UsageScope = Sender | { chatId: number };

export interface UsageSummary {
  /** The current UTC day. */
  today: UsageRecord;
  /** The current UTC month. */
  month: UsageRecord;
  total: UsageRecord;
}

export interface UsageEvent {
  /** Missing for updates without a sender: then only the chat is charged. */
  sender?: Sender;
  /** Missing for inline-mode answers (they belong to no chat the bot knows): then only the sender is charged. */
  chatId?: number;
  model: string;
  promptTokens: number;
  completionTokens: number;
  cachedTokens?: number;
  images?: number;
  transcribedSeconds?: number;
  spokenSeconds?: number;
  /** null when the price is unknown. */
  costUsd: number | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Day buckets only serve "today"; keep a little over a month of them for a later per-day view. */
export const DAY_TTL_MS = 40 * DAY_MS;
/** Month buckets live a bit over a year. Totals never expire. */
export const MONTH_TTL_MS = 400 * DAY_MS;

export function emptyUsage(): UsageRecord {
  return {
    promptTokens: 0,
    completionTokens: 0,
    cachedTokens: 0,
    images: 0,
    transcribedSeconds: 0,
    spokenSeconds: 0,
    costUsd: 0,
    calls: 0,
    unpricedCalls: 0,
  };
}

const FIELDS = Object.keys(emptyUsage()) as Array<keyof UsageRecord>;

/** Whatever is stored (older shape, foreign data) reads as a valid record: bad fields count as 0. */
function toRecord(value: unknown): UsageRecord {
  const record = emptyUsage();
  if (value && typeof value === "object") {
    for (const field of FIELDS) {
      const n = (value as Record<string, unknown>)[field];
      if (typeof n === "number" && Number.isFinite(n) && n >= 0) record[field] = n;
    }
  }
  return record;
}

const count = (n: number | undefined) => (typeof n === "number" && Number.isFinite(n) && n > 0 ? n : 0);

/** "u:<userId>", "s:<chatId>" (a chat as a sender) or "c:<chatId>": the scope's part of every key about it. */
export function scopeId(scope: UsageScope): string {
  if ("userId" in scope) return `u:${scope.userId}`;
  return "senderChatId" in scope ? `s:${scope.senderChatId}` : `c:${scope.chatId}`;
}

function scopePrefix(scope: UsageScope): string {
  return `usage:${scopeId(scope)}`;
}

/** "2026-11-25", the UTC day budgets and usage count in. */
export function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** "2026-11-25" and "2026-11", in UTC so every instance of the bot agrees where a day ends. */
function periods(now: Date): { day: string; month: string } {
  const iso = now.toISOString();
  return { day: iso.slice(0, 10), month: iso.slice(0, 7) };
}

/**
 * Token and cost totals per user and per chat, by UTC day, UTC month and all time, in keyv:
 * `usage:u:<userId>:d:2026-11-25`, `usage:u:<userId>:m:2026-11`, `usage:u:<userId>:total` (and `usage:c:<chatId>:…`
 * for chats, `usage:s:<chatId>:…` for chats as senders).
 *
 * Each record is a set of counters in the store's shared state (store.shared): one atomic increment per field
 * (HINCRBYFLOAT in Redis, an upsert adding to the row in SQL), so instances recording for the same key at the same
 * moment lose nothing. Records written by older versions as one keyv value are still read and added in.
 */
export class UsageStore {
  readonly #keyv: Keyv;
  readonly #now: () => Date;
  readonly #shared: SharedState;

  /** `shared`: the store's (store.shared); without it, counters live in this process only. */
  constructor(keyv: Keyv, opts?: { now?: () => Date; shared?: SharedState }) {
    this.#keyv = keyv;
    this.#now = opts?.now ?? (() => new Date());
    this.#shared = opts?.shared ?? new MemorySharedState();
  }

  async record(e: UsageEvent): Promise<void> {
    const add: UsageRecord = {
      promptTokens: count(e.promptTokens),
      completionTokens: count(e.completionTokens),
      cachedTokens: count(e.cachedTokens),
      images: count(e.images),
      transcribedSeconds: count(e.transcribedSeconds),
      spokenSeconds: count(e.spokenSeconds),
      costUsd: count(e.costUsd ?? undefined),
      calls: 1,
      unpricedCalls: e.costUsd === null ? 1 : 0,
    };
    const { day, month } = periods(this.#now());
    const scopes: UsageScope[] = e.chatId !== undefined ? [{ chatId: e.chatId }] : [];
    if (e.sender !== undefined) scopes.push(e.sender);
    await Promise.all(
      scopes.flatMap((scope) => {
        const prefix = scopePrefix(scope);
        return [
          this.#add(`${prefix}:d:${day}`, add, DAY_TTL_MS),
          this.#add(`${prefix}:m:${month}`, add, MONTH_TTL_MS),
          this.#add(`${prefix}:total`, add, undefined),
        ];
      }),
    );
  }

  async get(scope: UsageScope): Promise<UsageSummary> {
    const prefix = scopePrefix(scope);
    const { day, month } = periods(this.#now());
    const [today, thisMonth, total] = await Promise.all(
      [`${prefix}:d:${day}`, `${prefix}:m:${month}`, `${prefix}:total`].map(async (key) => {
        const [counters, legacy] = await Promise.all([this.#shared.counters(key), this.#keyv.get<unknown>(key)]);
        const record = toRecord(counters);
        if (legacy !== undefined) {
          const old = toRecord(legacy);
          for (const field of FIELDS) record[field] += old[field];
        }
        return record;
      }),
    );
    return { today: today!, month: thisMonth!, total: total! };
  }

  #add(key: string, add: UsageRecord, ttl: number | undefined): Promise<void> {
    // Fields that stay 0 are left out: fewer writes, and the record reads the same.
    const delta: Record<string, number> = {};
    for (const field of FIELDS) if (add[field] !== 0) delta[field] = add[field];
    return this.#shared.addCounters(key, delta, ttl);
  }
}
