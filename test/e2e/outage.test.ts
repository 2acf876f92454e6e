/**
 * Telegram unreachable or failing while the bot runs: polling backs off (bounded, jittered), the bot stays up, and
 * what users sent meanwhile is answered once the Bot API is back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { botText, newPrivateChat, startHarness, type Harness } from "../helpers/harness.js";

/** The tests shorten the 30 s bound so an outage of a few seconds shows it. */
const BACKOFF = { minMs: 200, maxMs: 1000 };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ viaProxy: true, pollBackoff: BACKOFF });
});
afterAll(() => h.close());

const until = async (condition: () => boolean, timeoutMs: number, what: string) => {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("when the Bot API goes away while the bot runs", () => {
  it("keeps polling through the outage, within the back-off bound, answers what was asked meanwhile, and logs no token", async () => {
    const { user, chat } = newPrivateChat(h);
    const proxy = h.proxy!;
    const logsBefore = h.logs.length;
    await proxy.down();
    // The long poll in flight was cut: the bot notices and starts backing off.
    await until(() => h.logs.slice(logsBefore).some((l) => l.includes("cannot fetch updates")), 5000, "the failed poll");
    h.openai.enqueue({ text: "answered after the outage" });
    const target = h.app.handled + 1;
    h.telegram.userSends({ chat: chat.id, from: user, text: "are you there?" });
    // Long enough for an unbounded back-off to grow well past the bound.
    await new Promise((r) => setTimeout(r, 6000));
    const connectionsBefore = proxy.connections;
    await proxy.up();
    const back = Date.now();
    await h.app.whenHandled(target, 15_000);
    // Back within the bound (plus the request itself), not after a pause that grew with the outage.
    expect(proxy.connections).toBeGreaterThan(connectionsBefore);
    expect(Date.now() - back).toBeLessThan(BACKOFF.maxMs * 2 + 2000);
    expect(botText(h, chat.id)).toBe("answered after the outage");
    const logs = h.logs.slice(logsBefore).join("");
    expect(logs).toContain("Telegram Bot API reachable again");
    // The secret scrub: node-fetch's errors name the request URL, /bot<token>/getUpdates. They reached the log, and
    // the token did not.
    expect(logs).toContain("/bot[redacted]/getUpdates");
    expect(h.logs.join("")).not.toContain(h.telegram.token);
    expect(h.logs.join("")).not.toContain(h.telegram.token.split(":")[1]);
  }, 40_000);

  it("backs off on 5xx answers, jittered and bounded, and resumes", async () => {
    const { user, chat } = newPrivateChat(h);
    const from = h.telegram.calls.length;
    // The poll already waiting takes the first message; the next five polls are answered 502.
    h.telegram.failNext("getUpdates", { error_code: 502, description: "Bad Gateway" }, 5);
    h.openai.enqueue({ text: "first answer" }, { text: "answered after the 502s" });
    const target = h.app.handled + 2;
    h.telegram.userSends({ chat: chat.id, from: user, text: "one" });
    await h.telegram.waitFor((c) => c.method === "getUpdates" && c.status === 502, { after: from, timeoutMs: 5000 });
    h.telegram.userSends({ chat: chat.id, from: user, text: "still there?" });
    await h.app.whenHandled(target, 15_000);
    expect(botText(h, chat.id)).toBe("first answer\n\nanswered after the 502s");
    const polls = h.telegram.calls.slice(from).filter((c) => c.method === "getUpdates");
    const firstFailure = polls.findIndex((c) => c.status === 502);
    const tried = polls.slice(firstFailure, firstFailure + 6);
    expect(tried.map((c) => c.status)).toEqual([502, 502, 502, 502, 502, 200]);
    // Each pause at least the minimum and at most the bound (plus scheduling slack); they grow, with jitter.
    const gaps = tried.slice(1).map((c, i) => c.at - tried[i]!.at);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(BACKOFF.minMs - 20);
      expect(gap).toBeLessThanOrEqual(BACKOFF.maxMs + 500);
    }
    expect(gaps[2]!).toBeGreaterThan(gaps[0]! * 1.2);
  }, 30_000);

  it("finishes an answer in flight once the Bot API is back after 15 s away, and answers what was asked meanwhile", async () => {
    const { user, chat } = newPrivateChat(h);
    const other = newPrivateChat(h);
    const proxy = h.proxy!;
    h.openai.enqueue({ text: "a slow answer that is streaming when Telegram goes away", chunkSize: 4, delayMs: 100 }, { text: "asked while Telegram was away" });
    const target = h.app.handled + 2;
    h.telegram.userSends({ chat: chat.id, from: user, text: "tell me slowly" });
    await h.telegram.waitFor((c) => c.method === "sendMessageDraft" && Number(c.params.chat_id) === chat.id, 10_000);
    await proxy.down();
    h.telegram.userSends({ chat: other.chat.id, from: other.user, text: "and me?" });
    await new Promise((r) => setTimeout(r, 15_000));
    await proxy.up();
    await h.app.whenHandled(target, 30_000);
    expect(h.telegram.botMessages(chat.id).map((m) => m.text)).toEqual(["a slow answer that is streaming when Telegram goes away"]);
    expect(h.telegram.botMessages(other.chat.id).map((m) => m.text)).toEqual(["asked while Telegram was away"]);
  }, 60_000);
});
