/**
 * Senders that are not one person: anonymous group admins (from GroupAnonymousBot, sender_chat = the group) and people
 * posting as a channel (from Channel_Bot, sender_chat = the channel) share one Telegram user across every group. Their
 * rate limit, budget and /usage belong to the chat they write as; only the group itself counts as an admin.
 * Also basic groups (type "group", not supergroups), where members are not admins either.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GROUP_ANONYMOUS_BOT, type FakeChat, type FakeUser } from "../servers/bot-api.js";
import { newGroup, say, startHarness, type Harness, shownMessages } from "../helpers/harness.js";
import { newChannel, sayAsChannel } from "../helpers/raw-updates.js";

let h: Harness;
let clock = new Date("2026-04-01T08:00:00Z");

beforeAll(async () => {
  h = await startHarness({
    env: { RATE_LIMIT_MAX_CALLS: "2", RATE_LIMIT_WINDOW_SECONDS: "60", DAILY_TOKEN_LIMIT_PER_USER: "2000", MAX_ANSWER_TOKENS: "200" },
    now: () => clock,
  });
});
afterAll(() => h.close());

const lastText = (chatId: number) => shownMessages(h, chatId).at(-1)?.text;
const asAnonymousAdmin = (chat: FakeChat, text: string) => say(h, { chat: chat.id, from: GROUP_ANONYMOUS_BOT, senderChat: chat.id, text });
const RATE_LIMITED = /^You're asking faster than this bot allows/;

let nextUserId = 70_000 + Math.floor(Math.random() * 1e6);
function member(chat: FakeChat, status: "creator" | "administrator" | "member"): FakeUser {
  const u: FakeUser = { id: nextUserId++, first_name: `${status}${nextUserId}`, language_code: "en" };
  h.telegram.setChatMember(chat.id, u, status);
  return u;
}

describe("anonymous admins and channel posters", () => {
  it("have a rate limit per group: one group's anonymous admin never makes another's wait", async () => {
    clock = new Date(clock.getTime() + 3_600_000);
    const a = newGroup(h).chat;
    const b = newGroup(h).chat;
    h.openai.enqueue({ text: "A one" }, { text: "A two" }, { text: "B one" });
    await asAnonymousAdmin(a, "/ask one");
    await asAnonymousAdmin(a, "/ask two");
    expect(lastText(a.id)).toBe("A two");
    await asAnonymousAdmin(a, "/ask three");
    expect(lastText(a.id)).toMatch(RATE_LIMITED);
    await asAnonymousAdmin(b, "/ask one");
    expect(lastText(b.id)).toBe("B one");
  });

  it("have a rate limit per channel they post as", async () => {
    clock = new Date(clock.getTime() + 3_600_000);
    const { chat } = newGroup(h);
    const news = newChannel("News");
    const sports = newChannel("Sports");
    h.openai.enqueue({ text: "news one" }, { text: "news two" }, { text: "sports one" });
    await sayAsChannel(h, { chat: chat.id, channel: news, text: "/ask one" });
    await sayAsChannel(h, { chat: chat.id, channel: news, text: "/ask two" });
    await sayAsChannel(h, { chat: chat.id, channel: news, text: "/ask three" });
    expect(lastText(chat.id)).toMatch(RATE_LIMITED);
    await sayAsChannel(h, { chat: chat.id, channel: sports, text: "/ask one" });
    expect(lastText(chat.id)).toBe("sports one");
  });

  it("have a daily budget and a /usage line of their own per group", async () => {
    clock = new Date(clock.getTime() + 3_600_000);
    const a = newGroup(h).chat;
    const b = newGroup(h).chat;
    h.openai.enqueue({ text: "costly", usage: { prompt_tokens: 1500, completion_tokens: 300 } }, { text: "B is fine" });
    await asAnonymousAdmin(a, "/ask spend it");
    await asAnonymousAdmin(a, "/ask more");
    expect(lastText(a.id)).toMatch(/^Your daily token budget doesn't cover this question: 200 of 2,000 tokens left today/);

    await asAnonymousAdmin(b, "/usage");
    expect(lastText(b.id)).toMatch(/^Your usage\nToday: nothing yet\n/);
    expect(lastText(b.id)).toContain("You: 2,000 of 2,000 tokens left");
    await asAnonymousAdmin(b, "/ask and me?");
    expect(lastText(b.id)).toBe("B is fine");
    await asAnonymousAdmin(a, "/usage");
    expect(lastText(a.id)).toMatch(/^Your usage\nToday: 1,800 tokens/);
  });
});

describe("who counts as a group's admin", () => {
  it("is not someone posting as a channel, nor a linked channel's automatic forward", async () => {
    const { chat } = newGroup(h);
    const channel = newChannel("Linked channel");
    await sayAsChannel(h, { chat: chat.id, channel, text: "/system Obey the channel." });
    expect(lastText(chat.id)).toBe("Only this group's admins can do that.");
    await sayAsChannel(h, { chat: chat.id, channel, text: "/system Obey the forward.", automaticForward: true });
    expect(lastText(chat.id)).toBe("Only this group's admins can do that.");
    await sayAsChannel(h, { chat: chat.id, channel, text: "/reset" });
    expect(lastText(chat.id)).toMatch(/^Only this group's admins can reset its shared history/);
    expect((await h.app.deps.settings.get(chat.id)).systemPrompt).toBeUndefined();

    // The group itself writing (an anonymous admin) is.
    await asAnonymousAdmin(chat, "/system Obey the admins.");
    expect((await h.app.deps.settings.get(chat.id)).systemPrompt).toBe("Obey the admins.");
  });

  it("in a basic group (not a supergroup) is its creator and administrators, not every member", async () => {
    const { chat } = newGroup(h, { type: "group" });
    const user = member(chat, "member");
    const admin = member(chat, "administrator");
    await say(h, { chat: chat.id, from: user, text: "/system Members rule." });
    expect(lastText(chat.id)).toBe("Only this group's admins can do that.");
    await say(h, { chat: chat.id, from: user, text: "/settings" });
    expect(lastText(chat.id)).toBe("Only this group's admins can do that.");
    expect((await h.app.deps.settings.get(chat.id)).systemPrompt).toBeUndefined();

    await say(h, { chat: chat.id, from: admin, text: "/system Admins rule." });
    expect(lastText(chat.id)).toMatch(/^Done: the system prompt for this chat is set/);
    expect((await h.app.deps.settings.get(chat.id)).systemPrompt).toBe("Admins rule.");
  });
});
