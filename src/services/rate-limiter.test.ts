import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Keyv from "keyv";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limiter.js";
import { openStore } from "../storage/store.js";

function clock(iso: string) {
  let now = new Date(iso);
  return { now: () => now, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

describe("RateLimiter", () => {
  it("admits maxCalls in a window and says exactly when the next slot frees", async () => {
    const c = clock("2026-05-01T12:00:00Z");
    const limiter = new RateLimiter(new Keyv(), { windowMs: 60_000, maxCalls: 2, now: c.now });
    expect(await limiter.take({ userId: 1 })).toEqual({ ok: true });
    c.advance(10_000);
    expect(await limiter.take({ userId: 1 })).toEqual({ ok: true });
    expect(await limiter.take({ userId: 1 })).toEqual({ ok: false, retryAfterMs: 50_000 });
    // Another user has their own window.
    expect(await limiter.take({ userId: 2 })).toEqual({ ok: true });
    c.advance(50_000);
    expect(await limiter.take({ userId: 1 })).toEqual({ ok: true });
    // The second call (at +10 s) frees the next slot at +70 s.
    expect(await limiter.take({ userId: 1 })).toEqual({ ok: false, retryAfterMs: 10_000 });
  });

  it("counts concurrent calls of one user without losing any", async () => {
    const c = clock("2026-05-01T12:00:00Z");
    const limiter = new RateLimiter(new Keyv(), { windowMs: 60_000, maxCalls: 3, now: c.now });
    const decisions = await Promise.all(Array.from({ length: 5 }, () => limiter.take({ userId: 7 })));
    expect(decisions.filter((d) => d.ok).length).toBe(3);
  });

  it("counts a chat writing as itself apart from a user with the same number", async () => {
    const limiter = new RateLimiter(new Keyv(), { windowMs: 60_000, maxCalls: 1 });
    expect(await limiter.take({ senderChatId: -100 })).toEqual({ ok: true });
    expect(await limiter.take({ senderChatId: -100 })).toMatchObject({ ok: false });
    expect(await limiter.take({ senderChatId: -200 })).toEqual({ ok: true });
    expect(await limiter.take({ userId: 100 })).toEqual({ ok: true });
  });

  it("is off with maxCalls 0", async () => {
    const limiter = new RateLimiter(new Keyv(), { windowMs: 60_000, maxCalls: 0 });
    for (let i = 0; i < 10; i++) expect(await limiter.take({ userId: 1 })).toEqual({ ok: true });
  });

  it("shares the counts between instances through the store (SQLite)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ratelimit-"));
    const url = `sqlite://${join(dir, "bot.sqlite")}`;
    const a = await openStore(url);
    const b = await openStore(url);
    try {
      const c = clock("2026-05-01T12:00:00Z");
      const first = new RateLimiter(a.keyv, { windowMs: 60_000, maxCalls: 2, now: c.now });
      const second = new RateLimiter(b.keyv, { windowMs: 60_000, maxCalls: 2, now: c.now });
      expect(await first.take({ userId: 9 })).toEqual({ ok: true });
      expect(await second.take({ userId: 9 })).toEqual({ ok: true });
      expect(await first.take({ userId: 9 })).toMatchObject({ ok: false });
      expect(await second.take({ userId: 9 })).toMatchObject({ ok: false });
    } finally {
      await a.close();
      await b.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("ignores a stored value of the wrong shape", async () => {
    const keyv = new Keyv();
    await keyv.set("ratelimit:u:3", { not: "a list" });
    const limiter = new RateLimiter(keyv, { windowMs: 1000, maxCalls: 1 });
    expect(await limiter.take({ userId: 3 })).toEqual({ ok: true });
  });

  it.skipIf(!process.env.REDIS_URL)("decides in one Redis script with the same answers, shared by two instances", async () => {
    const namespace = `ratelimit-test-${randomUUID()}`;
    const a = await openStore(process.env.REDIS_URL!, { namespace });
    const b = await openStore(process.env.REDIS_URL!, { namespace });
    try {
      const c = clock("2026-05-01T12:00:00Z");
      const first = new RateLimiter(a.keyv, { windowMs: 60_000, maxCalls: 2, now: c.now, shared: a.shared });
      const second = new RateLimiter(b.keyv, { windowMs: 60_000, maxCalls: 2, now: c.now, shared: b.shared });
      expect(await first.take({ userId: 9 })).toEqual({ ok: true });
      c.advance(10_000);
      expect(await second.take({ userId: 9 })).toEqual({ ok: true });
      c.advance(5_000);
      expect(await first.take({ userId: 9 })).toEqual({ ok: false, retryAfterMs: 45_000 });
      c.advance(45_000);
      expect(await second.take({ userId: 9 })).toEqual({ ok: true });
      expect(await first.take({ senderChatId: -9 })).toEqual({ ok: true });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
