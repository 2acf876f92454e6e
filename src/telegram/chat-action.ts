import type { Api } from "grammy";
import { topicOptions, type ChatTarget } from "./target.js";

/** What the chat shows while the bot works ("sending a photo…"). */
export type ChatAction = Parameters<Api["sendChatAction"]>[1];

/** Telegram shows a chat action for about 5 s: it is repeated until stopped. */
const CHAT_ACTION_EVERY_MS = 4000;

/**
 * Shows a chat action ("upload_photo", …) now and every few seconds until the returned function is called. Best
 * effort: pass an Api without retries; failures are ignored (a missing "sending a photo…" is no error).
 */
export function keepChatAction(api: Api, target: ChatTarget, action: ChatAction): () => void {
  const send = () => {
    api.sendChatAction(target.chatId, action, topicOptions(target)).catch(() => undefined);
  };
  send();
  const timer = setInterval(send, CHAT_ACTION_EVERY_MS);
  return () => clearInterval(timer);
}
