/**
 * SharedPacer against the machine's Redis (REDIS_URL): two pacers, as two instances of the bot would have, share one
 * set of windows. Times asserted are the slots' own (Redis's clock), never how long the test took.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../storage/store.js";
import { DEFAULT_LIMITS, type PacerLimits } from "./pacer.js";
import { SharedPacer, type PacerWindowStore } from "./shared-pacer.js";

const REDIS_URL = process.env.REDIS_URL;

describe.skipIf(!REDIS_URL)("SharedPacer (two instances on one Redis)", () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore(REDIS_URL!, { namespace: `pacer-test-${process.pid}-${randomUUID()}` });
  });
  afterAll(async () => {
    await store?.close();
  });

  /** Two pacers on windows of their own (a fresh prefix per test). */
  function pair(limits: PacerLimits = DEFAULT_LIMITS): [SharedPacer, SharedPacer] {
    const prefix = randomUUID();
    const windows: PacerWindowStore = { runScript: (s, k, a) => store.scripts!.runScript(s, k, a), key: (name) => store.scripts!.key(`${prefix}:${name}`) };
    const errors = (err: unknown) => {
      throw err;
    };
    return [new SharedPacer(windows, limits, errors), new SharedPacer(windows, limits, errors)];
  }

  it("grants the bot's global window once between both, and keeps the reserve for final texts", async () => {
    const [a, b] = pair();
    const { limit, reserve, windowMs } = DEFAULT_LIMITS.global;
    // 60 chats, half on each instance, all asking for a draft at once.
    const slots = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).tryIntermediate(1000 + i, "private", "draft")));
    const granted = slots.filter((s) => s !== undefined);
    expect(granted).toHaveLength(limit - reserve);
    // The reserve is there for final texts, from either instance, and nothing more.
    expect(await a.tryIntermediate(2000, "private", "draft")).toBeUndefined();
    const finals = await Promise.all(Array.from({ length: reserve }, (_, i) => (i % 2 ? a : b).acquireFinal(3000 + i, "private", "message")));
    const first = Math.min(...granted.map((s) => s.at));
    for (const slot of finals) expect(slot.at).toBeLessThan(first + windowMs);
    // The window is full: the next final waits until the first slot leaves it.
    const late = await b.acquireFinal(4000, "private", "message");
    expect(late.at).toBeGreaterThan(first + windowMs);
  });

  it("shares a group's window and its interval between instances", async () => {
    const limits: PacerLimits = {
      ...DEFAULT_LIMITS,
      group: { limit: 3, windowMs: 400, reserve: 1 },
      chat: { limit: 100, windowMs: 1100 },
      intermediateIntervalMs: { draft: 0, privateEdit: 0, groupEdit: 0 },
      groupIntervalMs: 100,
    };
    const [a, b] = pair(limits);
    const tries = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).tryIntermediate(-500, "group", "message")));
    // Intermediate edits leave the group's reserve: two of the three places, between both instances.
    const granted = tries.filter((s) => s !== undefined).map((s) => s.at);
    expect(granted).toHaveLength(2);
    expect(Math.max(a.delay(-500, "group", "message", true), b.delay(-500, "group", "message", true))).toBeGreaterThan(0);
    // A final from the other instance takes the reserve, after the group's interval (Redis's clock).
    const final = await a.acquireFinal(-500, "group", "message");
    expect(final.at).toBeGreaterThanOrEqual(Math.max(...granted) + limits.groupIntervalMs);
    expect(final.at).toBeLessThan(Math.min(...granted) + limits.group.windowMs);
    // Three in the 400 ms window is the limit: the next final waits until the first leaves it.
    const fourth = await b.acquireFinal(-500, "group", "message");
    expect(fourth.at).toBeGreaterThan(Math.min(...granted) + limits.group.windowMs);
  });

  it("holds a chat on every instance after a 429 on one", async () => {
    const [a, b] = pair();
    const before = await b.acquireFinal(77, "private", "message");
    b.settle(before);
    await a.penalize(77, "private", 0.3);
    const after = await b.acquireFinal(77, "private", "message");
    expect(after.at).toBeGreaterThanOrEqual(before.at + 300);
    // Another chat is not held.
    expect(await b.tryIntermediate(78, "private", "message")).toBeDefined();
  });

  it("paces in memory while Redis cannot be reached", async () => {
    const errors: unknown[] = [];
    const down: PacerWindowStore = { runScript: () => Promise.reject(new Error("ECONNREFUSED")), key: (name) => name };
    const pacer = new SharedPacer(down, DEFAULT_LIMITS, (err) => errors.push(err));
    const slot = await pacer.acquireFinal(5, "private", "message");
    pacer.settle(slot);
    expect(await pacer.tryIntermediate(6, "private", "draft")).toBeDefined();
    // The in-memory windows still count: a chat's draft interval holds.
    expect(await pacer.tryIntermediate(6, "private", "draft")).toBeUndefined();
    expect(errors.length).toBeGreaterThan(0);
  });
});
