/**
 * Where sendMessageDraft may be used. Drafts are an optional nicety, so a failure of one draft usually means nothing
 * more than "skip this update" (a 5xx, a 403, a timeout: the next draft carries newer text anyway). Only Telegram's
 * definitive refusals of the method switch to edits:
 * - 404 `Not Found`: the server does not know the method (a Bot API server older than 9.3): every chat;
 * - 400 `TEXTDRAFT_PEER_INVALID` (or the test server's "draft can't be sent to this chat"): not in this chat.
 * Even those are remembered for a while only (an hour by default): servers get upgraded, and chats change.
 */
import { GrammyError } from "grammy";

/** Refusals that say drafts cannot be sent to this chat. */
const CHAT_REFUSAL = /TEXTDRAFT_PEER_INVALID|draft can't be sent to this chat/i;

export interface DraftSupportOptions {
  /** How long a refusal is remembered before drafts are tried again (ms). */
  retryAfterMs?: number;
  /** Epoch ms (tests move it instead of waiting an hour). */
  now?: () => number;
}

export type DraftRefusal = "server" | "chat";

export class DraftSupport {
  private serverRefusedUntil = 0;
  /** Chat id → until when drafts stay off there. */
  private readonly refusingChats = new Map<number, number>();
  private readonly retryAfterMs: number;
  private readonly now: () => number;

  constructor(opts: DraftSupportOptions = {}) {
    this.retryAfterMs = opts.retryAfterMs ?? 60 * 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** May this chat's answer stream by drafts now? */
  usable(chatId: number): boolean {
    const now = this.now();
    if (now < this.serverRefusedUntil) return false;
    const until = this.refusingChats.get(chatId);
    if (until === undefined) return true;
    if (now < until) return false;
    this.refusingChats.delete(chatId);
    return true;
  }

  /**
   * A sendMessageDraft to this chat failed with `err`: remembers a definitive refusal and says which one it was, or
   * returns undefined for a failure that only costs that one draft.
   */
  failed(chatId: number, err: unknown): DraftRefusal | undefined {
    if (!(err instanceof GrammyError)) return undefined;
    const until = this.now() + this.retryAfterMs;
    if (err.error_code === 404) {
      this.serverRefusedUntil = until;
      return "server";
    }
    if (err.error_code === 400 && CHAT_REFUSAL.test(err.description)) {
      this.sweep();
      this.refusingChats.set(chatId, until);
      return "chat";
    }
    return undefined;
  }

  /** Chats whose refusal has run out are forgotten, so memory follows the chats that refuse now. */
  private sweep(): void {
    const now = this.now();
    for (const [chatId, until] of this.refusingChats) if (until <= now) this.refusingChats.delete(chatId);
  }
}
