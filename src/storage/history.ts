/**
 * Per-chat conversation memory: one keyv value per chat (and forum topic, and later per member),
 * holding the turns newest-last and trimmed to a token budget when they are written.
 *
 * Token counts are computed once, when a turn is created (src/ai/turn-tokens.ts), and stored with
 * the turn; trimming and fitToBudget only add stored numbers, so nothing is ever re-tokenized.
 *
 * Concurrency: append() and replaceLast() are read-modify-write, run in the store's exclusive section for the key
 * (store.shared: a lock key in Redis, an advisory lock in PostgreSQL, a per-key lock in the one SQLite process), so
 * instances writing the same chat at the same moment lose nothing. Given a bare Keyv, sections are exclusive in this process.
 */
import Keyv from "keyv";
import type { Store } from "./store.js";
import type { DocumentRef } from "./documents.js";
import { MemorySharedState, type SharedState } from "./shared/shared-state.js";

export interface ImageRef {
  /** Telegram file_id: the bytes are fetched again when a follow-up question needs the photo. */
  fileId: string;
  width: number;
  height: number;
  detail: "low" | "high" | "auto";
  /** Vision input tokens for this image at this detail, computed from its size. */
  tokens: number;
  /** Bytes, as Telegram reported them: a follow-up that cannot carry them any more skips it without asking. */
  fileSize?: number;
}

export interface HistoryTurn {
  role: "user" | "assistant";
  /** Text only (never base64). */
  content: string;
  /** Counted once when stored: content tokens + per-message overhead + image tokens. */
  tokens: number;
  /** Epoch ms. */
  at: number;
  /** Photos by Telegram file_id, so a follow-up question still sees them. */
  images?: ImageRef[];
  /** Sender's first name in shared group histories. */
  name?: string;
  /** Documents and pages the question brought (their text is in the document store), so follow-ups still use them. */
  documents?: DocumentRef[];
  /** User turns: the question's Telegram message (an edit of it replaces this exchange). Absent in older histories. */
  messageId?: number;
  /** Assistant turns: the Telegram messages that show the answer, in order. Absent in older histories. */
  messageIds?: number[];
  /** User turns: who asked (a user, or the chat an anonymous admin writes as): only they may regenerate the answer. */
  senderId?: number;
  /** Assistant turns: the answer was stopped by the user part way (the model sees it marked so). */
  stopped?: boolean;
}

/** The newest question in a history and the answer that followed it, if any. */
export interface LastExchange {
  question: HistoryTurn;
  answer: HistoryTurn | undefined;
}

export interface StoredHistory {
  version: 1;
  turns: HistoryTurn[];
  totalTokens: number;
}

export const HISTORY_VERSION = 1;
export const DEFAULT_MAX_TURNS = 200;

export interface HistoryStoreOptions {
  /** Stored turns are trimmed (oldest first) until their tokens fit this. */
  budgetTokens: number;
  /** Hard cap on stored turns whatever their size (default 200). */
  maxTurns?: number;
}

function assertId(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) throw new TypeError(`${what} must be an integer, got ${String(value)}`);
}

/**
 * `history:<chat>`, `history:<chat>:t<thread>` for a forum topic, `…:u<user>` for a per-member
 * history. Telegram ids are integers that fit in a double; group ids are negative.
 */
export function historyKey(chatId: number, threadId?: number, userId?: number): string {
  assertId(chatId, "chatId");
  let key = `history:${chatId}`;
  if (threadId !== undefined) {
    assertId(threadId, "threadId");
    key += `:t${threadId}`;
  }
  if (userId !== undefined) {
    assertId(userId, "userId");
    key += `:u${userId}`;
  }
  return key;
}

const isCount = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value) && value >= 0;
const isMessageId = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;

function isImageRef(value: unknown): value is ImageRef {
  if (typeof value !== "object" || value === null) return false;
  const image = value as Record<string, unknown>;
  return (
    typeof image.fileId === "string" &&
    isCount(image.width) &&
    isCount(image.height) &&
    (image.detail === "low" || image.detail === "high" || image.detail === "auto") &&
    isCount(image.tokens) &&
    (image.fileSize === undefined || isCount(image.fileSize))
  );
}

function isDocumentRef(value: unknown): value is DocumentRef {
  const ref = value as Partial<DocumentRef> | null;
  return typeof ref?.id === "string" && typeof ref.title === "string";
}

function isHistoryTurn(value: unknown): value is HistoryTurn {
  if (typeof value !== "object" || value === null) return false;
  const turn = value as Record<string, unknown>;
  return (
    (turn.role === "user" || turn.role === "assistant") &&
    typeof turn.content === "string" &&
    isCount(turn.tokens) &&
    typeof turn.at === "number" &&
    Number.isFinite(turn.at) &&
    (turn.images === undefined || (Array.isArray(turn.images) && turn.images.every(isImageRef))) &&
    (turn.name === undefined || typeof turn.name === "string") &&
    (turn.documents === undefined || (Array.isArray(turn.documents) && turn.documents.every(isDocumentRef))) &&
    (turn.messageId === undefined || isMessageId(turn.messageId)) &&
    (turn.messageIds === undefined || (Array.isArray(turn.messageIds) && turn.messageIds.every(isMessageId))) &&
    (turn.senderId === undefined || Number.isSafeInteger(turn.senderId)) &&
    (turn.stopped === undefined || typeof turn.stopped === "boolean")
  );
}

/** The turns and their token sum, or undefined for anything that is not a version-1 history. */
function readStored(value: unknown): { turns: HistoryTurn[]; totalTokens: number } | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const stored = value as Partial<Record<keyof StoredHistory, unknown>>;
  if (stored.version !== HISTORY_VERSION || !Array.isArray(stored.turns)) return undefined;
  let totalTokens = 0;
  for (const turn of stored.turns) {
    if (!isHistoryTurn(turn)) return undefined;
    totalTokens += turn.tokens;
  }
  // The sum is recomputed from the per-turn counts (cheap) rather than trusted from storage.
  return { turns: stored.turns as HistoryTurn[], totalTokens };
}

function assertTurns(turns: readonly HistoryTurn[]): void {
  for (const turn of turns) {
    if (!isHistoryTurn(turn)) throw new TypeError(`not a valid history turn: ${JSON.stringify(turn).slice(0, 200)}`);
  }
}

const sumTokens = (turns: readonly HistoryTurn[]): number => turns.reduce((n, t) => n + t.tokens, 0);

function lastQuestionIndex(turns: readonly HistoryTurn[]): number {
  for (let i = turns.length - 1; i >= 0; i--) if (turns[i]!.role === "user") return i;
  return -1;
}

export class HistoryStore {
  private readonly keyv: Keyv;
  private readonly budgetTokens: number;
  private readonly maxTurns: number;
  private readonly shared: SharedState;

  constructor(store: Keyv | Store, opts: HistoryStoreOptions) {
    this.keyv = store instanceof Keyv ? store : store.keyv;
    this.shared = store instanceof Keyv ? new MemorySharedState() : store.shared;
    if (!isCount(opts.budgetTokens)) throw new RangeError(`budgetTokens must be a non-negative number, got ${String(opts.budgetTokens)}`);
    const maxTurns = opts.maxTurns ?? DEFAULT_MAX_TURNS;
    if (!Number.isSafeInteger(maxTurns) || maxTurns < 1) throw new RangeError(`maxTurns must be a positive integer, got ${maxTurns}`);
    this.budgetTokens = opts.budgetTokens;
    this.maxTurns = maxTurns;
  }

  /**
   * The stored turns, oldest first. A value that is not a version-1 history (corrupt, foreign,
   * older format) reads as empty and is overwritten by the next append. Storage failures (server
   * down) reject: an outage must not look like an empty history that then gets written back.
   */
  async load(key: string): Promise<HistoryTurn[]> {
    return (await this.read(key)).turns;
  }

  /** Adds turns at the end, then trims (see write()). */
  async append(key: string, ...turns: HistoryTurn[]): Promise<void> {
    if (turns.length === 0) return;
    assertTurns(turns);
    await this.shared.exclusive([key], async () => {
      const stored = await this.read(key);
      await this.write(key, stored.turns.concat(turns), stored.totalTokens + sumTokens(turns));
    });
  }

  /**
   * Replaces the last exchange (the newest user turn and what follows it) with `turns`, if that user turn is the
   * question with Telegram message `questionMessageId` (an edited question answered again). Returns false, and
   * changes nothing, when the history's last question is another one. With no turns the exchange is removed.
   * Trimmed like append().
   */
  async replaceLast(key: string, questionMessageId: number, ...turns: HistoryTurn[]): Promise<boolean> {
    assertTurns(turns);
    return this.shared.exclusive([key], async () => {
      const stored = await this.read(key);
      const start = lastQuestionIndex(stored.turns);
      if (start < 0 || stored.turns[start]!.messageId !== questionMessageId) return false;
      const removed = sumTokens(stored.turns.slice(start));
      await this.write(key, stored.turns.slice(0, start).concat(turns), stored.totalTokens - removed + sumTokens(turns));
      return true;
    });
  }

  /** The newest question in `turns` and its answer (undefined for an empty history). */
  static lastExchange(turns: readonly HistoryTurn[]): LastExchange | undefined {
    const start = lastQuestionIndex(turns);
    if (start < 0) return undefined;
    return { question: turns[start]!, answer: turns.slice(start + 1).find((t) => t.role === "assistant") };
  }

  /** `turns` without their last exchange when its question is message `questionMessageId`; otherwise all of them. */
  static withoutLastExchange(turns: readonly HistoryTurn[], questionMessageId: number): HistoryTurn[] {
    const start = lastQuestionIndex(turns);
    return start >= 0 && turns[start]!.messageId === questionMessageId ? turns.slice(0, start) : [...turns];
  }

  /**
   * Stores `all` after dropping the oldest while over the token budget or maxTurns, and assistant turns left at the
   * front (a request must not open with the assistant). A single exchange larger than the whole budget therefore
   * leaves the history empty.
   */
  private async write(key: string, all: HistoryTurn[], totalTokens: number): Promise<void> {
    let start = 0;
    while (start < all.length && (totalTokens > this.budgetTokens || all.length - start > this.maxTurns)) {
      totalTokens -= all[start]!.tokens;
      start++;
    }
    while (start < all.length && all[start]!.role === "assistant") {
      totalTokens -= all[start]!.tokens;
      start++;
    }
    const kept = start === 0 ? all : all.slice(start);
    if (kept.length === 0) {
      await this.keyv.delete(key);
      return;
    }
    const value: StoredHistory = { version: HISTORY_VERSION, turns: kept, totalTokens };
    await this.keyv.set(key, value);
  }

  async clear(key: string): Promise<void> {
    await this.keyv.delete(key);
  }

  /**
   * The newest turns whose stored token counts fit `budget` (what is left of the context window
   * after the system prompt, the new question and the reply reserve), oldest first, never starting
   * with an assistant turn. Selection stops at the first turn that does not fit: skipping it to
   * squeeze in older ones would hand the model a conversation with a hole in it.
   */
  static fitToBudget(turns: readonly HistoryTurn[], budget: number): HistoryTurn[] {
    let used = 0;
    let start = turns.length;
    while (start > 0) {
      const tokens = turns[start - 1]!.tokens;
      if (used + tokens > budget) break;
      used += tokens;
      start--;
    }
    while (start < turns.length && turns[start]!.role === "assistant") start++;
    return turns.slice(start);
  }

  private async read(key: string): Promise<{ turns: HistoryTurn[]; totalTokens: number }> {
    let value: unknown;
    try {
      value = await this.keyv.get(key);
    } catch (error) {
      // keyv deserializes with JSON.parse: a value that is not JSON at all is corrupt, not an outage.
      if (error instanceof SyntaxError) return { turns: [], totalTokens: 0 };
      throw error;
    }
    return readStored(value) ?? { turns: [], totalTokens: 0 };
  }
}
