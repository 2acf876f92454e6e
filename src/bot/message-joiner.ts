/**
 * Messages that Telegram delivers apart but that a user meant as one question, grouped before the chat's queue:
 * - a long paste: Telegram clients cut a text over 4,096 characters into several messages, each but the last just
 *   under the limit, so a text of LONG_PART_CHARS or more may be followed by more of it (PASTE_WINDOW_MS);
 * - an album: photos or documents sharing a media_group_id, delivered one update each within moments;
 * - forwards with a comment: the forwarded messages and the user's comment, which clients send right before or
 *   right after the forwards.
 *
 * Nothing else waits: a short text that does not follow a pending long one goes through at once. The price is paid
 * by the comment sent *before* forwards: it is answered at once, and when forwards follow within the window the
 * group takes it over (`supersedes`; the middleware aborts its answer and the joined question replaces it).
 *
 * Pure grouping (no grammY context), with an injectable clock, so it is unit tested with a fake one. The leader of a
 * group is told synchronously when the group is complete (`lead`), so it enters the chat's queue before any later
 * message of that chat.
 */
import type { Message } from "grammy/types";

/** A pasted part this long may be followed by more (clients cut a little before 4,096). */
export const LONG_PART_CHARS = 3500;
/** How long a long text waits for its continuation (from the last part). */
export const PASTE_WINDOW_MS = 1500;
/** How long an album or forwards wait for the rest of the group (from the last message); Telegram sends them together. */
export const GROUP_WINDOW_MS = 1000;

/** The joiner's clock: real timers in the bot, a fake one in unit tests. */
export interface JoinClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: JoinClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export type JoinKind = "paste" | "album" | "forwards";

/** Messages joined into one question, in the order they were sent. */
export interface JoinedMessages {
  kind: JoinKind;
  messages: Message[];
  /** Forwards: the user's own comment (also in `messages`), if any. */
  comment?: Message;
  /** The comment came first and went through alone: its answer is to be aborted and replaced by this question's. */
  supersedes?: Message;
}

/** What becomes of an offered message. */
export type JoinTicket =
  /** Handle it now, alone. */
  | { kind: "alone" }
  /** It starts a group: `lead` is called (synchronously, from a later offer, a timer or flush) when the group is complete. */
  | { kind: "leads"; supersedes?: Message }
  /** It was added to a group; resolves with the group once it was handed to its leader. */
  | { kind: "joined"; handedOver: Promise<JoinedMessages> };

interface Group {
  kind: JoinKind;
  key: string;
  messages: Message[];
  mediaGroupId?: string;
  comment?: Message;
  supersedes?: Message;
  timer: unknown;
  lead: (joined: JoinedMessages) => void;
  handOvers: Array<(joined: JoinedMessages) => void>;
}

type Shape = "command" | "album" | "forward" | "long" | "text" | "other";

export interface MessageJoinerOptions {
  clock?: JoinClock;
  pasteWindowMs?: number;
  groupWindowMs?: number;
  /** How long after a comment that went through alone forwards still join it (default: groupWindowMs). */
  commentWindowMs?: number;
}

export class MessageJoiner {
  readonly #clock: JoinClock;
  readonly #pasteWindowMs: number;
  readonly #groupWindowMs: number;
  readonly #commentWindowMs: number;
  readonly #open = new Map<string, Group>();
  /** The last short text of each sender that went through alone: a comment that forwards may follow. */
  readonly #recent = new Map<string, { msg: Message; at: number }>();
  /** Comments a group took over that may still wait their turn in the chat's queue: they are not answered alone. */
  readonly #superseded = new Set<string>();
  #draining = false;

  constructor(opts: MessageJoinerOptions = {}) {
    this.#clock = opts.clock ?? realClock;
    this.#pasteWindowMs = opts.pasteWindowMs ?? PASTE_WINDOW_MS;
    this.#groupWindowMs = opts.groupWindowMs ?? GROUP_WINDOW_MS;
    this.#commentWindowMs = opts.commentWindowMs ?? this.#groupWindowMs;
  }

  /** Groups waiting for more messages. */
  get pending(): number {
    return this.#open.size;
  }

  /**
   * Offers a message as it arrives (before the chat's queue). `lead` is only kept when the message starts a group.
   */
  offer(msg: Message, lead: (joined: JoinedMessages) => void): JoinTicket {
    const key = senderKey(msg);
    const shape = shapeOf(msg);
    const open = this.#open.get(key);
    if (open) {
      const joined = this.#tryJoin(open, msg, shape);
      if (joined) return joined;
      // Something else from the same sender: the group is complete, and goes first.
      this.#complete(open);
    }
    if (this.#draining || shape === "command" || shape === "other") return { kind: "alone" };
    if (shape === "text") {
      this.#remember(key, msg);
      return { kind: "alone" };
    }
    const group: Group = { kind: shape === "album" ? "album" : shape === "forward" ? "forwards" : "paste", key, messages: [msg], timer: undefined, lead, handOvers: [] };
    if (shape === "album") group.mediaGroupId = msg.media_group_id;
    if (shape === "forward") {
      const recent = this.#recent.get(key);
      if (recent && this.#clock.now() - recent.at <= this.#commentWindowMs) {
        group.comment = recent.msg;
        group.supersedes = recent.msg;
        group.messages.unshift(recent.msg);
        this.#superseded.add(messageKey(recent.msg));
      }
    }
    this.#recent.delete(key);
    this.#open.set(key, group);
    this.#arm(group);
    return group.supersedes ? { kind: "leads", supersedes: group.supersedes } : { kind: "leads" };
  }

  /**
   * Whether a message that went through alone was taken over by a group since (its own turn should not answer it).
   * The group's leader calls `settled` once its turn has come: the comment's turn has passed by then.
   */
  isSuperseded(msg: Message): boolean {
    return this.#superseded.has(messageKey(msg));
  }

  /** The group that took `comment` over has its turn: nothing of the comment waits any longer. */
  settled(comment: Message): void {
    this.#superseded.delete(messageKey(comment));
  }

  /** Hands every pending group to its leader now and lets everything through alone from then on (shutdown). */
  flushAll(): void {
    this.#draining = true;
    for (const group of [...this.#open.values()]) this.#complete(group);
  }

  #tryJoin(group: Group, msg: Message, shape: Shape): JoinTicket | undefined {
    let completeNow = false;
    if (group.kind === "album") {
      if (shape !== "album" || msg.media_group_id !== group.mediaGroupId) return undefined;
    } else if (group.kind === "paste") {
      if (shape !== "long" && shape !== "text") return undefined;
      // A part shorter than a cut one is the last part.
      completeNow = shape === "text";
    } else {
      if (shape === "forward") {
        // Forwards after the comment belong to it only while the client is still sending them.
      } else if ((shape === "text" || shape === "long") && group.comment === undefined) {
        group.comment = msg;
        completeNow = true;
      } else {
        return undefined;
      }
    }
    group.messages.push(msg);
    const handedOver = new Promise<JoinedMessages>((resolve) => group.handOvers.push(resolve));
    if (completeNow) this.#complete(group);
    else this.#arm(group);
    return { kind: "joined", handedOver };
  }

  #arm(group: Group): void {
    if (group.timer !== undefined) this.#clock.clearTimeout(group.timer);
    const ms = group.kind === "paste" ? this.#pasteWindowMs : this.#groupWindowMs;
    group.timer = this.#clock.setTimeout(() => this.#complete(group), ms);
  }

  #complete(group: Group): void {
    if (this.#open.get(group.key) !== group) return;
    this.#open.delete(group.key);
    if (group.timer !== undefined) this.#clock.clearTimeout(group.timer);
    const joined: JoinedMessages = { kind: group.kind, messages: group.messages };
    if (group.comment) joined.comment = group.comment;
    if (group.supersedes) joined.supersedes = group.supersedes;
    // The leader first, synchronously: it takes its place in the chat's queue before anything that came after.
    group.lead(joined);
    for (const handOver of group.handOvers) handOver(joined);
  }

  #remember(key: string, msg: Message): void {
    const now = this.#clock.now();
    // Oldest first (a sender's entry moves to the end): expired ones are dropped from the front, amortised O(1).
    this.#recent.delete(key);
    for (const [k, v] of this.#recent) {
      if (now - v.at <= this.#commentWindowMs) break;
      this.#recent.delete(k);
    }
    this.#recent.set(key, { msg, at: now });
  }
}

const messageKey = (msg: Message) => `${msg.chat.id}:${msg.message_id}`;

/** One sender in one chat (and topic): only their own messages are joined. */
function senderKey(msg: Message): string {
  const sender = msg.sender_chat?.id ?? msg.from?.id ?? 0;
  return `${msg.chat.id}:${msg.message_thread_id ?? 0}:${sender}`;
}

function shapeOf(msg: Message): Shape {
  const entities = msg.entities ?? msg.caption_entities ?? [];
  if (msg.media_group_id !== undefined) return "album";
  if (msg.forward_origin) return "forward";
  // `/ask <a long paste>` is a paste too.
  if (msg.text !== undefined && msg.text.length >= LONG_PART_CHARS) return "long";
  if (entities.some((e) => e.type === "bot_command" && e.offset === 0)) return "command";
  // Only a plain text continues a paste or comments on forwards (a captioned file is a question of its own).
  if (msg.text !== undefined) return "text";
  return "other";
}
