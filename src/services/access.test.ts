import { describe, expect, it } from "vitest";
import Keyv from "keyv";
import { ACCESS_TOLD_TTL_MS, AccessRefusals, isAllowed } from "./access.js";

const lists = (allowedUserIds: number[], allowedChatIds: number[], ownerIds: number[] = []) => ({
  allowedUserIds,
  allowedChatIds,
  ownerIds,
});

describe("isAllowed", () => {
  it("lets everyone in when both lists are empty", () => {
    expect(isAllowed(lists([], []), 1, 1)).toBe(true);
    expect(isAllowed(lists([], []), 1, -100)).toBe(true);
  });

  it("with a user list only: those users, in any chat", () => {
    const access = lists([1, 2], []);
    expect(isAllowed(access, 1, -100)).toBe(true);
    expect(isAllowed(access, 2, 2)).toBe(true);
    expect(isAllowed(access, 3, 3)).toBe(false);
    expect(isAllowed(access, 3, -100)).toBe(false);
  });

  it("with a chat list only: everyone in those chats (a private chat's id is its user's)", () => {
    const access = lists([], [-100, 5]);
    expect(isAllowed(access, 9, -100)).toBe(true);
    expect(isAllowed(access, 5, 5)).toBe(true);
    expect(isAllowed(access, 9, 9)).toBe(false);
    expect(isAllowed(access, 9, -200)).toBe(false);
  });

  it("with both: either the user or the chat is enough", () => {
    const access = lists([1], [-100]);
    expect(isAllowed(access, 1, -200)).toBe(true);
    expect(isAllowed(access, 2, -100)).toBe(true);
    expect(isAllowed(access, 2, -200)).toBe(false);
  });

  it("always lets owners in", () => {
    expect(isAllowed(lists([1], [-100], [42]), 42, -300)).toBe(true);
    expect(isAllowed(lists([1], [-100], [42]), 43, -300)).toBe(false);
  });

  it("judges updates without a sender (channel posts) by the chat alone", () => {
    expect(isAllowed(lists([1], [-100]), undefined, -100)).toBe(true);
    expect(isAllowed(lists([1], [-100]), undefined, -200)).toBe(false);
  });
});

describe("AccessRefusals", () => {
  it("remembers a told sender for 30 days, not forever", async () => {
    const keyv = new Keyv();
    const refusals = new AccessRefusals(keyv);
    const before = Date.now();
    expect(await refusals.firstRefusal(-100, 7)).toBe(true);
    expect(await refusals.firstRefusal(-100, 7)).toBe(false);
    const raw = await keyv.getRaw("access:told:-100:7");
    const days30 = 30 * 24 * 60 * 60 * 1000;
    expect(raw?.expires).toBeGreaterThanOrEqual(before + days30);
    expect(raw?.expires).toBeLessThanOrEqual(Date.now() + days30);
  });

  it("tells a sender again once 30 days have passed (the clock's days), and gives old marks an expiry", async () => {
    let now = new Date("2026-01-01T00:00:00Z");
    const keyv = new Keyv();
    const refusals = new AccessRefusals(keyv, { now: () => now });
    expect(await refusals.firstRefusal(-100, 9)).toBe(true);
    now = new Date(now.getTime() + ACCESS_TOLD_TTL_MS - 1);
    expect(await refusals.firstRefusal(-100, 9)).toBe(false);
    now = new Date(now.getTime() + 2);
    expect(await refusals.firstRefusal(-100, 9)).toBe(true);
    // A mark written before marks expired: still a mark, and from now on one that expires.
    await keyv.set("access:told:-100:10", true);
    expect(await refusals.firstRefusal(-100, 10)).toBe(false);
    expect((await keyv.getRaw("access:told:-100:10"))?.expires).toBeGreaterThan(Date.now());
  });

  it("tells each sender once even when their messages arrive at the same moment", async () => {
    const refusals = new AccessRefusals(new Keyv());
    const firsts = await Promise.all(Array.from({ length: 5 }, () => refusals.firstRefusal(-100, 8)));
    expect(firsts.filter(Boolean)).toHaveLength(1);
  });
});
