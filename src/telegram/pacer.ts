/**
 * Decides when the bot may touch a chat, so that Telegram's flood control never has to.
 *
 * Telegram allows a bot about 30 messages a second overall, about 20 messages (sends and edits) a minute in a group,
 * and a handful a second in one chat. Streaming makes many small updates, so they are split in two classes:
 * - intermediate updates (a draft or an edit showing more of a growing answer) are optional: when there is no room
 *   they are skipped, never queued, and the next one carries the newer text anyway;
 * - final updates (the finished text, each part of a long answer) must go out: they wait for room, and intermediate
 *   updates leave them a reserve in every window so they rarely wait at all.
 *
 * Pacer keeps its windows in memory, which is right for one process; several instances behind one webhook share
 * them in Redis instead (SharedPacer, shared-pacer.ts), behind the same Pacing interface.
 */

export type UpdateKind = "draft" | "message";
/** What the windows are kept per: a chat id, or a key of an inline message (paced like a group, see paceKeyOf). */
export type PacerKey = number | string;
export type ChatKind = "private" | "group";

export interface PacerLimits {
  /** All sends/edits/drafts of the bot in one window (Telegram: about 30 per second). */
  global: { limit: number; windowMs: number; reserve: number };
  /** Sends and edits in one group (Telegram: about 20 per minute). */
  group: { limit: number; windowMs: number; reserve: number };
  /** Sends and edits in any one chat (Telegram: about one a second, with small bursts). */
  chat: { limit: number; windowMs: number };
  /** Drafts in one private chat. */
  draft: { limit: number; windowMs: number };
  /** Least time between an update and the next intermediate update of one chat. */
  intermediateIntervalMs: { draft: number; privateEdit: number; groupEdit: number };
  /** Least time between any two sends/edits in one group, finals included (Telegram: about one a second). */
  groupIntervalMs: number;
}

/**
 * Slightly under Telegram's published limits, and with windows a little longer than theirs: requests are counted
 * here when sent and there when received, and the difference in latency must not push two of them into one window.
 */
export const DEFAULT_LIMITS: PacerLimits = {
  global: { limit: 28, windowMs: 1100, reserve: 8 },
  group: { limit: 19, windowMs: 61_000, reserve: 4 },
  chat: { limit: 3, windowMs: 1100 },
  draft: { limit: 4, windowMs: 1100 },
  intermediateIntervalMs: { draft: 300, privateEdit: 1000, groupEdit: 1100 },
  groupIntervalMs: 1000,
};

/** One update in the windows. Its time moves to when Telegram answered (see Pacer.settle). */
export interface Slot {
  at: number;
}

/** What the answer stream and replies pace with: Pacer in one process, SharedPacer across instances. */
export interface Pacing {
  /** Milliseconds until an update of this kind may go out (0: now, or: ask). `intermediate` updates respect the reserves. */
  delay(chatId: PacerKey, chatKind: ChatKind, kind: UpdateKind, intermediate: boolean): number;
  /** Takes a slot for an intermediate update if one is free now; never waits. */
  tryIntermediate(chatId: PacerKey, chatKind: ChatKind, kind: UpdateKind): Slot | undefined | Promise<Slot | undefined>;
  /** Waits for a slot for a final update and takes it. */
  acquireFinal(chatId: PacerKey, chatKind: ChatKind, kind: UpdateKind, signal?: AbortSignal): Promise<Slot>;
  /** The request of this slot has been answered. */
  settle(slot: Slot): void;
  /** Telegram answered 429 with retry_after: hold this chat (and, if it says so, the whole bot) until then. */
  penalize(chatId: PacerKey, chatKind: ChatKind, retryAfterSeconds: number, global?: boolean): void | Promise<void>;
}

/** Recent updates in one sliding window (a handful of entries: linear scans are cheapest). */
class Window {
  private slots: Slot[] = [];
  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  private prune(now: number): void {
    if (this.slots.some((s) => s.at <= now - this.windowMs)) this.slots = this.slots.filter((s) => s.at > now - this.windowMs);
  }

  /** Milliseconds until the window holds fewer than `limit - reserve` updates. */
  waitFor(now: number, reserve = 0): number {
    this.prune(now);
    const allowed = this.limit - reserve;
    if (this.slots.length < allowed) return 0;
    const times = this.slots.map((s) => s.at).sort((a, b) => a - b);
    return times[times.length - allowed]! + this.windowMs - now + 1;
  }

  add(slot: Slot): void {
    this.slots.push(slot);
  }
}

interface ChatState {
  kind: ChatKind;
  chat: Window;
  draft: Window;
  group: Window | undefined;
  /** When the last update of each kind went out. */
  last: Record<UpdateKind, number>;
  blockedUntil: number;
  lastUsed: number;
}

export class Pacer implements Pacing {
  private readonly global: Window;
  private readonly chats = new Map<PacerKey, ChatState>();
  private globalBlockedUntil = 0;
  private sweeps = 0;

  constructor(
    private readonly limits: PacerLimits = DEFAULT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.global = new Window(limits.global.limit, limits.global.windowMs);
  }

  private state(chatId: PacerKey, kind: ChatKind): ChatState {
    let s = this.chats.get(chatId);
    if (!s) {
      s = {
        kind,
        chat: new Window(this.limits.chat.limit, this.limits.chat.windowMs),
        draft: new Window(this.limits.draft.limit, this.limits.draft.windowMs),
        group: kind === "group" ? new Window(this.limits.group.limit, this.limits.group.windowMs) : undefined,
        last: { draft: 0, message: 0 },
        blockedUntil: 0,
        lastUsed: 0,
      };
      this.chats.set(chatId, s);
      if (++this.sweeps % 256 === 0) this.sweep();
    }
    return s;
  }

  /** Forget chats that have been quiet for longer than every window, so memory stays bounded. */
  private sweep(): void {
    const horizon = this.now() - Math.max(this.limits.group.windowMs, this.limits.chat.windowMs) - 1000;
    for (const [id, s] of this.chats) if (s.lastUsed < horizon && s.blockedUntil < this.now()) this.chats.delete(id);
  }

  /** Milliseconds until an update of this kind may go out (0: now). `intermediate` updates respect the reserves. */
  delay(chatId: PacerKey, chatKind: ChatKind, kind: UpdateKind, intermediate: boolean): number {
    const now = this.now();
    const s = this.state(chatId, chatKind);
    const waits = [
      this.global.waitFor(now, intermediate ? this.limits.global.reserve : 0),
      Math.max(0, this.globalBlockedUntil - now),
      Math.max(0, s.blockedUntil - now),
    ];
    if (kind === "draft") waits.push(s.draft.waitFor(now));
    else {
      waits.push(s.chat.waitFor(now));
      if (s.group) waits.push(s.group.waitFor(now, intermediate ? this.limits.group.reserve : 0));
    }
    if (intermediate) {
      const interval =
        kind === "draft"
          ? this.limits.intermediateIntervalMs.draft
          : chatKind === "group"
            ? this.limits.intermediateIntervalMs.groupEdit
            : this.limits.intermediateIntervalMs.privateEdit;
      waits.push(Math.max(0, s.last[kind] + interval - now));
    } else if (kind === "message" && chatKind === "group") {
      waits.push(Math.max(0, s.last.message + this.limits.groupIntervalMs - now));
    }
    return Math.max(...waits);
  }

  /** Takes a slot for an intermediate update if one is free now; never waits. */
  tryIntermediate(chatId: PacerKey, chatKind: ChatKind, kind: UpdateKind): Slot | undefined {
    if (this.delay(chatId, chatKind, kind, true) > 0) return undefined;
    return this.record(chatId, chatKind, kind);
  }

  /** Waits for a slot for a final update and takes it. */
  async acquireFinal(chatId: PacerKey, chatKind: ChatKind, kind: UpdateKind, signal?: AbortSignal): Promise<Slot> {
    for (;;) {
      const wait = this.delay(chatId, chatKind, kind, false);
      if (wait <= 0) return this.record(chatId, chatKind, kind);
      await sleep(wait, signal);
    }
  }

  /**
   * The request of this slot has been answered. Telegram counted it somewhere between our sending and its answer;
   * counting it from the answer keeps our windows behind Telegram's however long the request took, so a burst
   * that queued up on the way can never look like it fits into Telegram's next second.
   */
  settle(slot: Slot): void {
    slot.at = Math.max(slot.at, this.now());
  }

  private record(chatId: PacerKey, chatKind: ChatKind, kind: UpdateKind): Slot {
    const now = this.now();
    const s = this.state(chatId, chatKind);
    const slot: Slot = { at: now };
    this.global.add(slot);
    if (kind === "draft") s.draft.add(slot);
    else {
      s.chat.add(slot);
      s.group?.add(slot);
    }
    s.last[kind] = now;
    s.lastUsed = now;
    return slot;
  }

  /** Telegram answered 429 with retry_after: hold this chat (and, if it says so, the whole bot) until then. */
  penalize(chatId: PacerKey, chatKind: ChatKind, retryAfterSeconds: number, global = false): void {
    const until = this.now() + retryAfterSeconds * 1000;
    const s = this.state(chatId, chatKind);
    s.blockedUntil = Math.max(s.blockedUntil, until);
    if (global) this.globalBlockedUntil = Math.max(this.globalBlockedUntil, until);
  }

  /** Number of chats with state in memory (for tests and benchmarks of memory use). */
  get size(): number {
    return this.chats.size;
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
