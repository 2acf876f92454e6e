/** A user edits one of their messages, and the bot's whole handling of that edit (test server: `userEdits`). */
import type { Harness } from "./harness.js";

/** The edit, then the bot's whole handling of it. */
export async function edit(h: Harness, chatId: number, messageId: number, text: string): Promise<void> {
  const target = h.app.handled + 1;
  h.telegram.userEdits({ chat: chatId, messageId, text });
  await h.app.whenHandled(target);
}
