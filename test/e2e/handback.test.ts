/**
 * A stop that cannot wait for an answer (the grace period runs out) hands the update back to the queue: the next
 * start answers it again, in full, once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newPrivateChat, startHarness, type Harness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ gracePeriodMs: 400 });
});
afterAll(() => h.close());

describe("stopping mid-answer after the grace period", () => {
  it("leaves the cut answer's update in the queue, and the next start answers it in full once", async () => {
    const { user, chat } = newPrivateChat(h);
    const full = "an answer far too slow to finish within the grace period of the stop";
    h.openai.enqueue({ text: full, chunkSize: 2, delayMs: 100 }, { text: full });
    h.telegram.userSends({ chat: chat.id, from: user, text: "a slow one" });
    await h.telegram.waitFor((c) => c.method === "sendMessageDraft" && Number(c.params.chat_id) === chat.id, 10_000);
    await h.restart();
    await h.app.whenHandled(1, 15_000);
    const texts = h.telegram.botMessages(chat.id).map((m) => m.text);
    expect(texts.filter((t) => t === full)).toHaveLength(1);
    expect(texts.at(-1)).toBe(full);
    expect(h.openai.chatRequests()).toHaveLength(2);
  }, 40_000);
});
