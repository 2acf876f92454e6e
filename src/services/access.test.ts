import { describe, expect, it } from "vitest";
import { isAllowed } from "./access.js";

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
