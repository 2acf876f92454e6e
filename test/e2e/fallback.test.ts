import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { botText, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe("messages nobody else handles", () => {
  it("answers an unknown command in a private chat with a hint", async () => {
    const { user, chat } = newPrivateChat(h);
    await say(h, { chat: chat.id, from: user, text: "/frobnicate" });
    expect(botText(h, chat.id)).toBe("I don't know that command. Send /help to see what I can do.");
    expect(h.openai.chatRequests().some((r) => JSON.stringify(r.messages).includes("frobnicate"))).toBe(false);
  });

  it("stops the spinner of a button nobody handles", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "an answer" });
    await say(h, { chat: chat.id, from: user, text: "hi" });
    const [message] = h.telegram.botMessages(chat.id);
    const target = h.app.handled + 1;
    const id = h.telegram.userPresses({ chat: chat.id, from: user.id, messageId: message!.message_id, data: "stale:button" });
    await h.app.whenHandled(target);
    expect(h.telegram.calls.find((c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === id)?.status).toBe(200);
  });
});
