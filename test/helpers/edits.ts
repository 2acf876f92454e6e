/**
 * A user edits one of their messages: the stored message gets the new text (with Telegram's automatic /command and
 * @mention entities) and an edit_date, and the bot receives the `edited_message` update Telegram would send.
 *
 * Built on the Bot API test server's public API (`message`, `toApiMessage`, `pushUpdate`) until the server has a
 * helper of its own for edits.
 */
import { autoEntities } from "../servers/bot-api.js";
import type { Harness } from "./harness.js";

export function userEdits(h: Harness, chatId: number, messageId: number, text: string): void {
  const msg = h.telegram.message(chatId, messageId);
  if (!msg) throw new Error(`userEdits: message ${messageId} not found in chat ${chatId}`);
  if (msg.from.id === h.telegram.botUser.id) throw new Error("userEdits: users edit their own messages, not the bot's");
  msg.text = text;
  const entities = autoEntities(text);
  if (entities.length > 0) msg.entities = entities;
  else delete msg.entities;
  msg.edit_date = Math.max(msg.date + 1, Math.floor(Date.now() / 1000));
  h.telegram.pushUpdate({ edited_message: h.telegram.toApiMessage(msg) });
}

/** The edit, then the bot's whole handling of it. */
export async function edit(h: Harness, chatId: number, messageId: number, text: string): Promise<void> {
  const target = h.app.handled + 1;
  userEdits(h, chatId, messageId, text);
  await h.app.whenHandled(target);
}
