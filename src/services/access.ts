/**
 * Who may use the bot at all (ALLOWED_USER_IDS, ALLOWED_CHAT_IDS, BOT_OWNER_IDS), and who has already been told
 * that they may not. The gate itself (which updates get the line) is bot/access-gate.ts.
 */
import type Keyv from "keyv";
import type { SharedState } from "../storage/shared/shared-state.js";
import { ToldOnce } from "./told-once.js";

/** The allow lists and the owners, as configured. */
export interface AccessLists {
  allowedUserIds: readonly number[];
  allowedChatIds: readonly number[];
  ownerIds: readonly number[];
}

/** Owners may do everything everywhere: they are admins in every chat and not held to limits or budgets. */
export function isOwner(lists: Pick<AccessLists, "ownerIds">, userId: number | undefined): boolean {
  return userId !== undefined && lists.ownerIds.includes(userId);
}

/**
 * Whether a sender in a chat may use the bot. Owners always may. With both lists empty, everyone may. Otherwise a
 * user in ALLOWED_USER_IDS may (in any chat), and so may everyone in a chat of ALLOWED_CHAT_IDS; a private chat's
 * id is its user's id, so either list can admit a private chat.
 */
export function isAllowed(lists: AccessLists, userId: number | undefined, chatId: number | undefined): boolean {
  if (isOwner(lists, userId)) return true;
  if (lists.allowedUserIds.length === 0 && lists.allowedChatIds.length === 0) return true;
  if (userId !== undefined && lists.allowedUserIds.includes(userId)) return true;
  return chatId !== undefined && lists.allowedChatIds.includes(chatId);
}

/** How long a refused sender stays told: long enough not to nag, short enough that the store forgets them. */
export const ACCESS_TOLD_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** Remembers who was told they may not use the bot, so they are told once and then ignored. */
export class AccessRefusals {
  readonly #told: ToldOnce;

  constructor(keyv: Keyv, opts: { now?: () => Date; shared?: SharedState } = {}) {
    this.#told = new ToldOnce(keyv, opts);
  }

  /**
   * True the first time a refused sender is seen in a chat (within 30 days), false afterwards. Kept in the store, so
   * the line is said once across restarts and instances.
   */
  firstRefusal(chatId: number, userId: number | undefined): Promise<boolean> {
    return this.#told.first(`access:told:${chatId}:${userId ?? "chat"}`, ACCESS_TOLD_TTL_MS);
  }
}
