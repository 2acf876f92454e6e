import { Api, GrammyError } from "grammy";
import { describe, expect, it } from "vitest";
import { startBotApiServer } from "../../test/servers/bot-api.js";
import { DEFAULT_LIMITS, Pacer } from "./pacer.js";

/**
 * Telegram's limit of messages a minute in one group, measured at the test Bot API (whose limits are Telegram's):
 * messages into one group, spaced under the per-chat limit, until it answers 429.
 */
async function measuredGroupLimit(): Promise<number> {
  const telegram = await startBotApiServer();
  try {
    const api = new Api(telegram.token, { apiRoot: telegram.apiRoot });
    const group = -1_000_000_777;
    telegram.addChat({ id: group, type: "supergroup", title: "Measured" });
    for (let accepted = 0; ; accepted++) {
      try {
        await api.sendMessage(group, `message ${accepted}`);
      } catch (err) {
        if (!(err instanceof GrammyError) || err.error_code !== 429) throw err;
        // The per-minute window, not the per-second one, refused it: it frees up only well into the next minute.
        expect(err.parameters.retry_after).toBeGreaterThan(10);
        return accepted;
      }
      await new Promise((r) => setTimeout(r, 350));
    }
  } finally {
    await telegram.close();
  }
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("Pacer", () => {
  it("lets the first update of a chat through and spaces intermediate drafts", () => {
    const c = clock();
    const pacer = new Pacer(DEFAULT_LIMITS, c.now);
    expect(pacer.tryIntermediate(1, "private", "draft")).toBeDefined();
    expect(pacer.tryIntermediate(1, "private", "draft")).toBeUndefined();
    c.advance(DEFAULT_LIMITS.intermediateIntervalMs.draft);
    expect(pacer.tryIntermediate(1, "private", "draft")).toBeDefined();
  });

  it("keeps group edits at most one per interval and under the per-minute limit, leaving a reserve for finals", () => {
    const c = clock();
    const pacer = new Pacer(DEFAULT_LIMITS, c.now);
    let intermediates = 0;
    for (let ms = 0; ms < 60_000; ms += 100) {
      if (pacer.tryIntermediate(-100, "group", "message")) intermediates++;
      c.advance(100);
    }
    const { limit, reserve } = DEFAULT_LIMITS.group;
    expect(intermediates).toBe(limit - reserve);
    // The reserve is there for the final text: it may go now, without waiting for the minute to pass.
    expect(pacer.delay(-100, "group", "message", false)).toBe(0);
  });

  it("keeps a group under Telegram's per-minute limit as measured at the test Bot API, finals included", async () => {
    const telegramPerMinute = await measuredGroupLimit();
    expect(telegramPerMinute).toBeGreaterThan(5);
    const c = clock();
    const pacer = new Pacer(DEFAULT_LIMITS, c.now);
    const group = -42;
    // Three minutes of a busy group: an intermediate edit whenever one is allowed, a final text every 3 s.
    const sent: number[] = [];
    for (let ms = 0; ms < 180_000; ms += 50) {
      const slot = pacer.tryIntermediate(group, "group", "message");
      if (slot) sent.push(c.now());
      if (ms % 3000 === 0 && pacer.delay(group, "group", "message", false) === 0) {
        await pacer.acquireFinal(group, "group", "message");
        sent.push(c.now());
      }
      c.advance(50);
    }
    // In every minute, counted the way Telegram counts (a sliding 60 s), at most what Telegram accepts.
    const busiest = Math.max(...sent.map((t) => sent.filter((u) => u >= t && u < t + 60_000).length));
    expect(busiest).toBeLessThanOrEqual(telegramPerMinute);
    expect(busiest).toBeGreaterThan(telegramPerMinute / 2);
  }, 30_000);

  it("never lets more than the global limit through in one window, intermediate or final", async () => {
    const c = clock();
    const pacer = new Pacer(DEFAULT_LIMITS, c.now);
    let granted = 0;
    for (let chat = 1; chat <= 100; chat++) if (pacer.tryIntermediate(chat, "private", "draft")) granted++;
    const { limit, reserve } = DEFAULT_LIMITS.global;
    expect(granted).toBe(limit - reserve);
    // Finals may use the reserve, and then must wait.
    for (let i = 0; i < reserve; i++) {
      expect(pacer.delay(1000 + i, "private", "message", false)).toBe(0);
      await pacer.acquireFinal(1000 + i, "private", "message");
    }
    expect(pacer.delay(2000, "private", "message", false)).toBeGreaterThan(0);
    c.advance(DEFAULT_LIMITS.global.windowMs + 1);
    expect(pacer.delay(2000, "private", "message", false)).toBe(0);
  });

  it("counts a slow request from when Telegram answered it", () => {
    const c = clock();
    const pacer = new Pacer(DEFAULT_LIMITS, c.now);
    const { limit, windowMs } = DEFAULT_LIMITS.global;
    const slots = Array.from({ length: limit }, (_, i) => pacer.tryIntermediate(i + 1, "private", "draft") ?? pacer.delay(0, "private", "message", false));
    expect(slots.filter((s) => typeof s === "object")).toHaveLength(limit - DEFAULT_LIMITS.global.reserve);
    // The requests took 500 ms to be answered: the window frees up 500 ms later than it would have.
    c.advance(500);
    for (const s of slots) if (typeof s === "object") pacer.settle(s);
    c.advance(windowMs - 400);
    expect(pacer.delay(999, "private", "draft", true)).toBeGreaterThan(0);
    c.advance(500);
    expect(pacer.delay(999, "private", "draft", true)).toBe(0);
  });

  it("holds a chat after a 429 for retry_after seconds", () => {
    const c = clock();
    const pacer = new Pacer(DEFAULT_LIMITS, c.now);
    pacer.penalize(7, "private", 3);
    expect(pacer.delay(7, "private", "message", false)).toBe(3000);
    expect(pacer.delay(8, "private", "message", false)).toBe(0);
    c.advance(3000);
    expect(pacer.delay(7, "private", "message", false)).toBe(0);
  });

  it("forgets quiet chats so memory stays bounded", () => {
    const c = clock();
    const pacer = new Pacer(DEFAULT_LIMITS, c.now);
    for (let chat = 1; chat <= 1000; chat++) {
      pacer.tryIntermediate(chat, "private", "draft");
      c.advance(100);
    }
    expect(pacer.size).toBeLessThan(1000);
  });
});
