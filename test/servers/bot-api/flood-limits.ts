// Telegram's flood control: a bot may send about 30 messages a second in all, 20 a minute in one group and about one
// a second in one chat (bursts of 3 tolerated here), and past that every request is answered
// `429 Too Many Requests: retry after N` with parameters.retry_after. Every request that changes what a chat shows
// counts: sends of any kind, edits (text, caption, reply markup), deletions, ephemeral messages; sendChatAction and
// answerCallbackQuery do not. Drafts (sendMessageDraft) have their own per-chat window. Messages sent through inline
// mode or as a guest and edited by inline_message_id are paced like a group message (20 a minute each, plus the
// per-chat burst). Windows slide; a refused request is not counted.
import { ApiError } from "./params.js";
import type { BotApiStats, FakeChat, FloodLimits, RateWindow } from "./types.js";

export const DEFAULT_LIMITS: FloodLimits = {
  global: { max: 30, windowMs: 1000 },
  perGroup: { max: 20, windowMs: 60_000 },
  perChat: { max: 3, windowMs: 1000 },
  perChatDrafts: { max: 5, windowMs: 1000 },
  perInlineMessage: { max: 20, windowMs: 60_000 },
};

/** What a counted request writes to: a chat, or a message sent in inline mode (known only by its id). */
export type FloodTarget = FakeChat | { inlineMessageId: string };

/** The sliding windows of one bot. Reads `limits` on every request, so tests may change them at any time. */
export class FloodControl {
  /** Request times (ms) per window key, oldest first. */
  private readonly windows = new Map<string, number[]>();

  constructor(
    private readonly limits: FloodLimits,
    private readonly stats: BotApiStats,
  ) {}

  /** Refuses with 429 if any window is full; otherwise counts the request in every window. */
  gate(target: FloodTarget, kind: "message" | "draft"): void {
    const now = Date.now();
    const checks: Array<[string, RateWindow]> = [["global", this.limits.global]];
    if ("inlineMessageId" in target) {
      checks.push([`inline:${target.inlineMessageId}`, this.limits.perInlineMessage]);
      checks.push([`inline-burst:${target.inlineMessageId}`, this.limits.perChat]);
    } else {
      if (target.type === "group" || target.type === "supergroup") checks.push([`group:${target.id}`, this.limits.perGroup]);
      checks.push(kind === "draft" ? [`draft:${target.id}`, this.limits.perChatDrafts] : [`chat:${target.id}`, this.limits.perChat]);
    }
    let retryMs = 0;
    for (const [key, window] of checks) {
      const entries = (this.windows.get(key) ?? []).filter((t) => t > now - window.windowMs);
      this.windows.set(key, entries);
      if (entries.length >= window.max) {
        const oldest = entries[entries.length - window.max] ?? now;
        retryMs = Math.max(retryMs, oldest + window.windowMs - now);
      }
    }
    const blocked = checks.some(([key, window]) => (this.windows.get(key)?.length ?? 0) >= window.max);
    if (blocked) {
      const retryAfter = Math.max(1, Math.ceil(retryMs / 1000));
      this.stats.tooManyRequests++;
      if (!("inlineMessageId" in target)) {
        this.stats.tooManyRequestsByChat.set(target.id, (this.stats.tooManyRequestsByChat.get(target.id) ?? 0) + 1);
      }
      throw new ApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
    }
    for (const [key] of checks) this.windows.get(key)!.push(now);
    this.stats.counted++;
  }
}
