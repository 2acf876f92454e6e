import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, Pacer } from "./pacer.js";

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
