/**
 * Ephemeral replies in groups (Bot API 10.3 `ephemeral_message_parameters`) over real HTTP: /usage, /tokens, the
 * /settings panel and refusals are shown only to the person who asked; private chats and people writing as a chat
 * get normal replies; a server that refuses ephemeral messages gets a normal reply instead, remembered for an hour.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GROUP_ANONYMOUS_BOT, type Call, type FakeChat, type FakeUser, type StoredMessage } from "../servers/bot-api.js";
import { newGroup, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";

let clock = new Date("2026-03-10T10:00:00Z");
const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_MAX_CALLS: "1", RATE_LIMIT_WINDOW_SECONDS: "60" }, now: () => clock });
});
afterAll(() => h.close());

let nextMember = 80_000;
function member(hh: Harness, chat: FakeChat, status: "administrator" | "member", user: Partial<FakeUser> = {}): FakeUser {
  const u: FakeUser = { id: nextMember++, first_name: `${status}${nextMember}`, language_code: "en", ...user };
  hh.telegram.setChatMember(chat.id, u, status);
  return u;
}

/** The sendMessage calls to a chat from call `from` on. */
const sends = (hh: Harness, chatId: number, from: number): Call[] =>
  hh.telegram.calls.slice(from).filter((c) => c.method === "sendMessage" && Number(c.params.chat_id) === chatId);
const texts = (messages: StoredMessage[]) => messages.map((m) => m.text ?? "");

describe("in groups, only the person who asked sees it", () => {
  it("/usage and /tokens: ephemeral replies to the question, for the asker only", async () => {
    const { chat, user: alice } = newGroup(h);
    const bob = member(h, chat, "member");
    const from = h.telegram.calls.length;
    await say(h, { chat: chat.id, from: alice, text: "/usage" });
    await say(h, { chat: chat.id, from: alice, text: "/tokens hello world" });

    const calls = sends(h, chat.id, from);
    expect(calls.map((c) => c.params.ephemeral_message_parameters)).toEqual([{ receiver_user_id: alice.id }, { receiver_user_id: alice.id }]);
    expect(calls.every((c) => c.status === 200)).toBe(true);
    const [usage, tokens] = h.telegram.ephemeralMessages(chat.id);
    expect(usage).toMatchObject({ message_id: 0, receiver_user_id: alice.id, reply_to_message_id: expect.any(Number) });
    expect(usage!.text).toMatch(/^Your usage\n/);
    expect(tokens!.text).toMatch(/^Tokens: 2 /);
    // Alice sees her questions and both replies; Bob and the chat's history see only the questions.
    expect(texts(h.telegram.visibleTo(chat.id, alice.id))).toEqual(["/usage", usage!.text, "/tokens hello world", tokens!.text]);
    expect(texts(h.telegram.visibleTo(chat.id, bob.id))).toEqual(["/usage", "/tokens hello world"]);
    expect(h.telegram.botMessages(chat.id)).toEqual([]);
  });

  it("/settings: the panel is the admin's own, pressed and refreshed in place; a member's refusal is theirs", async () => {
    const { chat } = newGroup(h);
    const admin = member(h, chat, "administrator");
    const bob = member(h, chat, "member");
    await say(h, { chat: chat.id, from: bob, text: "/settings" });
    expect(h.telegram.ephemeralMessages(chat.id).at(-1)).toMatchObject({ text: "Only this group's admins can do that.", receiver_user_id: bob.id });

    await say(h, { chat: chat.id, from: admin, text: "/settings" });
    const panel = h.telegram.ephemeralMessages(chat.id).at(-1)!;
    expect(panel).toMatchObject({ receiver_user_id: admin.id });
    expect(panel.text).toContain("Settings for this chat\nModel: gpt-4.1-mini");
    const buttons = (panel.reply_markup as { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> }).inline_keyboard.flat();
    const gpt41 = buttons.find((b) => b.text === "gpt-4.1")!.callback_data;

    const target = h.app.handled + 1;
    const id = h.telegram.userPresses({ chat: chat.id, from: admin, ephemeralMessageId: panel.ephemeral_message_id!, data: gpt41 });
    await h.app.whenHandled(target);
    expect(h.telegram.calls.find((c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === id)?.params).toMatchObject({ text: "Saved." });
    expect(h.telegram.calls.filter((c) => c.method === "editEphemeralMessageText").at(-1)).toMatchObject({ status: 200 });
    expect(h.telegram.ephemeralMessages(chat.id).at(-1)).toMatchObject({ edits: 1, text: expect.stringContaining("Model: gpt-4.1\n") });
    expect((await h.app.deps.settings.get(chat.id)).model).toBe("gpt-4.1");
    expect(texts(h.telegram.visibleTo(chat.id, bob.id))).toEqual(["/settings", "Only this group's admins can do that.", "/settings"]);
  });

  it("a rate-limit refusal goes to the one who ran into it", async () => {
    const { chat, user: alice } = newGroup(h);
    const bob = member(h, chat, "member");
    await say(h, { chat: chat.id, from: alice, text: "/ask one" });
    await say(h, { chat: chat.id, from: alice, text: "/ask two" });
    const refusal = h.telegram.ephemeralMessages(chat.id).at(-1)!;
    expect(refusal).toMatchObject({ receiver_user_id: alice.id, text: expect.stringMatching(/^You're asking faster than this bot allows/) });
    expect(texts(h.telegram.visibleTo(chat.id, bob.id))).not.toContain(refusal.text);
    advance(61_000);
  });

  it("falls back to a normal reply when one ephemeral message is refused for its own reason, without giving them up", async () => {
    const { chat, user: alice } = newGroup(h);
    // E.g. the asker left the group just now: that reply goes out normally; the server still takes ephemeral ones.
    h.telegram.failNext("sendMessage", { error_code: 400, description: "Bad Request: USER_NOT_PARTICIPANT" });
    let from = h.telegram.calls.length;
    await say(h, { chat: chat.id, from: alice, text: "/usage" });
    expect(sends(h, chat.id, from).map((c) => [c.status, c.params.ephemeral_message_parameters])).toEqual([
      [400, { receiver_user_id: alice.id }],
      [200, undefined],
    ]);
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toMatch(/^Your usage\n/);
    from = h.telegram.calls.length;
    await say(h, { chat: chat.id, from: alice, text: "/usage" });
    expect(sends(h, chat.id, from).map((c) => [c.status, c.params.ephemeral_message_parameters])).toEqual([[200, { receiver_user_id: alice.id }]]);
  });

  it("stays a normal reply in private chats and for anonymous admins (no one person to show it to)", async () => {
    const { user, chat } = newPrivateChat(h);
    let from = h.telegram.calls.length;
    await say(h, { chat: chat.id, from: user, text: "/usage" });
    expect(sends(h, chat.id, from).map((c) => c.params.ephemeral_message_parameters)).toEqual([undefined]);

    const { chat: group } = newGroup(h);
    from = h.telegram.calls.length;
    await say(h, { chat: group.id, from: GROUP_ANONYMOUS_BOT, senderChat: group, text: "/usage" });
    expect(sends(h, group.id, from).map((c) => c.params.ephemeral_message_parameters)).toEqual([undefined]);
    expect(h.telegram.botMessages(group.id)).toHaveLength(1);
  });
});

describe("a server that refuses ephemeral messages", () => {
  let other: Harness;
  let otherClock = new Date("2026-03-10T10:00:00Z");
  beforeAll(async () => {
    other = await startHarness({ telegram: { ephemeralSupported: false }, now: () => otherClock });
  });
  afterAll(() => other.close());

  it("gets a normal reply instead, once tried: later replies are not tried ephemeral, until an hour has passed", async () => {
    const { chat, user: alice } = newGroup(other);
    let from = other.telegram.calls.length;
    await say(other, { chat: chat.id, from: alice, text: "/usage" });
    const first = sends(other, chat.id, from);
    expect(first.map((c) => [c.status, c.params.ephemeral_message_parameters])).toEqual([
      [400, { receiver_user_id: alice.id }],
      [200, undefined],
    ]);
    expect(other.telegram.botMessages(chat.id).at(-1)!.text).toMatch(/^Your usage\n/);

    from = other.telegram.calls.length;
    await say(other, { chat: chat.id, from: alice, text: "/tokens hello" });
    expect(sends(other, chat.id, from).map((c) => [c.status, c.params.ephemeral_message_parameters])).toEqual([[200, undefined]]);
    // Remembered for the server, not the chat: another group is not tried either.
    const { chat: second, user: carol } = newGroup(other);
    from = other.telegram.calls.length;
    await say(other, { chat: second.id, from: carol, text: "/usage" });
    expect(sends(other, second.id, from).map((c) => c.params.ephemeral_message_parameters)).toEqual([undefined]);

    // The server was upgraded meanwhile: after an hour the bot tries again.
    other.telegram.ephemeralSupported = true;
    otherClock = new Date(otherClock.getTime() + 61 * 60_000);
    from = other.telegram.calls.length;
    await say(other, { chat: chat.id, from: alice, text: "/usage" });
    expect(sends(other, chat.id, from).map((c) => [c.status, c.params.ephemeral_message_parameters])).toEqual([[200, { receiver_user_id: alice.id }]]);
    expect(other.telegram.ephemeralMessages(chat.id)).toHaveLength(1);
  });
});
