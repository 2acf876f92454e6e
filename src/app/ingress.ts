/** How updates reach the bot: long polling or a webhook (BOT_MODE). */

/** The updates the bot asks Telegram for, in both modes. */
export const ALLOWED_UPDATES = [
  "message",
  "edited_message",
  "callback_query",
  // The stop button of a draft (Bot API 10.3): must be asked for explicitly.
  "stopped_message_generation",
  "my_chat_member",
  // Inline mode (`@bot question` in any chat) and guest mode (the bot summoned into a chat it is not in).
  "inline_query",
  "chosen_inline_result",
  "guest_message",
] as const;

export interface Ingress {
  /** Stops taking new updates (bounded in time); updates already being handled are not awaited here. */
  stop(): Promise<void>;
  /** Tells Telegram the updates taken so far are safe (stored), so a restart does not fetch them again. */
  confirm(): Promise<void>;
}
