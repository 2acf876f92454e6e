/** OpenAI-compatible servers that refuse newer request fields still get answered. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { botText, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const refuse = (message: string) => ({
  error: { status: 400, body: { error: { message, type: "invalid_request_error", param: null, code: null } } },
});

describe("an older OpenAI-compatible server", () => {
  it("steps down to max_tokens and no stream_options when it names them, and stays there", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue(
      refuse("Unrecognized request argument supplied: max_completion_tokens"),
      refuse("Unrecognized request argument supplied: stream_options"),
      { text: "answered anyway" },
      { text: "and again" },
    );
    const before = h.openai.chatRequests().length;
    await say(h, { chat: chat.id, from: user, text: "hello" });
    expect(botText(h, chat.id)).toBe("answered anyway");
    await say(h, { chat: chat.id, from: user, text: "more" });
    const sent = h.openai.chatRequests().slice(before);
    expect(sent).toHaveLength(4);
    expect(sent[0]).toMatchObject({ max_completion_tokens: expect.any(Number), stream_options: { include_usage: true } });
    expect(sent[1]).toMatchObject({ max_tokens: expect.any(Number), stream_options: { include_usage: true } });
    for (const body of sent.slice(2)) {
      expect(body).toMatchObject({ max_tokens: expect.any(Number) });
      expect(body).not.toHaveProperty("max_completion_tokens");
      expect(body).not.toHaveProperty("stream_options");
    }
  });

  it("does not retry a request that is refused for its content", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue(refuse("This model's maximum context length is 8192 tokens."));
    const before = h.openai.chatRequests().length;
    await say(h, { chat: chat.id, from: user, text: "a very long question" });
    expect(h.openai.chatRequests().length - before).toBe(1);
    expect(botText(h, chat.id)).toBe("The AI service could not handle this request.");
  });
});
