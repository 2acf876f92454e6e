/**
 * Who may use the bot and what it may spend: allow lists and owners, the "told once" line, the per-user rate limit,
 * and daily budgets that run out mid-day and renew the next day (an injected clock, not waiting).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeChat, FakeUser } from "../servers/bot-api.js";
import { botText, say, startHarness, type Harness, shownMessages } from "../helpers/harness.js";
import type { BotContext } from "../../src/bot/context.js";
import { describeBudget } from "../../src/features/usage.js";
import { PRICES, formatUsd } from "../../src/ai/pricing.js";

const ALLOWED_USERS = [7001, 7002, 7003, 7004, 7005];
const ALLOWED_GROUP = -1_007_100;
const OWNER = 7999;

let h: Harness;
let clock = new Date("2026-03-10T10:00:00Z");
const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));

beforeAll(async () => {
  h = await startHarness({
    env: {
      ALLOWED_USER_IDS: ALLOWED_USERS.join(","),
      ALLOWED_CHAT_IDS: String(ALLOWED_GROUP),
      BOT_OWNER_IDS: String(OWNER),
      RATE_LIMIT_MAX_CALLS: "3",
      RATE_LIMIT_WINDOW_SECONDS: "60",
      MAX_ANSWER_TOKENS: "200",
      DAILY_TOKEN_LIMIT_PER_USER: "1000",
      DAILY_COST_LIMIT_PER_CHAT_USD: "0.001",
    },
    now: () => clock,
  });
  h.telegram.addChat({ id: ALLOWED_GROUP, type: "supergroup", title: "Allowed group" });
});
afterAll(() => h.close());

function person(id: number, language_code = "en"): { user: FakeUser; chat: FakeChat } {
  const user: FakeUser = { id, first_name: `P${id}`, language_code };
  const chat: FakeChat = { id, type: "private", first_name: user.first_name };
  h.telegram.addUser(user);
  h.telegram.addChat(chat);
  return { user, chat };
}

let nextGroupId = -1_007_200;
function otherGroup(): FakeChat {
  const chat: FakeChat = { id: nextGroupId--, type: "supergroup", title: "Some group" };
  h.telegram.addChat(chat);
  return chat;
}

const modelCalls = () => h.openai.chatRequests().length;

describe("allow lists and owners", () => {
  it("tells a stranger once, across a restart, and spends nothing on them", async () => {
    const { user, chat } = person(7500);
    const before = modelCalls();
    await say(h, { chat: chat.id, from: user, text: "hello?" });
    await say(h, { chat: chat.id, from: user, text: "anyone there?" });
    await h.restart();
    await say(h, { chat: chat.id, from: user, text: "/ask please" });
    expect(shownMessages(h, chat.id).map((m) => m.text)).toEqual([
      "Sorry, this bot is private and not available to you here. Please ask its owner for access.",
    ]);
    expect(modelCalls()).toBe(before);
  });

  it("tells a Chinese-speaking stranger in Chinese", async () => {
    const { user, chat } = person(7501, "zh-CN");
    await say(h, { chat: chat.id, from: user, text: "你好" });
    expect(botText(h, chat.id)).toBe("抱歉，这是一个私人机器人，你在这里无法使用。请向它的管理者申请权限。");
  });

  it("ignores group chatter from strangers and refuses their button presses", async () => {
    const group = otherGroup();
    const { user } = person(7502);
    await say(h, { chat: group.id, from: user, text: "just talking to friends" });
    expect(shownMessages(h, group.id)).toEqual([]);
    await say(h, { chat: group.id, from: user, text: "/ask hi" });
    const [line] = shownMessages(h, group.id);
    expect(line!.text).toMatch(/^Sorry, this bot is private/);
    // Shown to the stranger only (an ephemeral message).
    expect(line).toMatchObject({ message_id: 0, receiver_user_id: user.id });

    const target = h.app.handled + 1;
    const id = h.telegram.userPresses({ chat: group.id, from: user, ephemeralMessageId: line!.ephemeral_message_id!, data: "set:lang:zh" });
    await h.app.whenHandled(target);
    const answer = h.telegram.calls.find((c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === id);
    expect(answer?.params).toMatchObject({ text: expect.stringMatching(/^Sorry, this bot is private/), show_alert: true });
  });

  it("serves everyone in an allowed chat and allowed users in any chat", async () => {
    const stranger = person(7503);
    h.openai.enqueue({ text: "answer in the allowed group" }, { text: "answer for an allowed user" });
    await say(h, { chat: ALLOWED_GROUP, from: stranger.user, text: "/ask hi" });
    expect(shownMessages(h, ALLOWED_GROUP).at(-1)!.text).toBe("answer in the allowed group");

    const group = otherGroup();
    const allowed = person(7005);
    await say(h, { chat: group.id, from: allowed.user, text: "/ask hi" });
    expect(botText(h, group.id)).toBe("answer for an allowed user");
  });

  it("lets an owner do everything everywhere, also as a group admin", async () => {
    const group = otherGroup();
    const owner = person(OWNER);
    h.telegram.setChatMember(group.id, owner.user, "member");
    await say(h, { chat: group.id, from: owner.user, text: "/system Owner's rules." });
    expect(shownMessages(h, group.id).at(-1)!.text).toMatch(/^Done: the system prompt for this chat is set/);
    await say(h, { chat: group.id, from: owner.user, text: "/ask hi" });
    expect(String(h.openai.chatRequests().at(-1)!.messages[0]!.content)).toBe("Owner's rules.");
  });
});

describe("rate limit", () => {
  it("refuses the call over the limit with a clear wait, and serves again once the window moves on", async () => {
    const { user, chat } = person(7002);
    for (let i = 0; i < 3; i++) await say(h, { chat: chat.id, from: user, text: `question ${i}` });
    const before = modelCalls();
    await say(h, { chat: chat.id, from: user, text: "one too many" });
    expect(shownMessages(h, chat.id).at(-1)!.text).toBe(
      "You're asking faster than this bot allows. Please try again in 60 s.",
    );
    // Told once per window: asking again before it frees gets no second line (and spends nothing).
    const shown = shownMessages(h, chat.id).length;
    advance(45_000);
    await say(h, { chat: chat.id, from: user, text: "still too soon" });
    expect(shownMessages(h, chat.id)).toHaveLength(shown);
    expect(modelCalls()).toBe(before);

    advance(15_000);
    h.openai.enqueue({ text: "back again" });
    await say(h, { chat: chat.id, from: user, text: "now?" });
    expect(shownMessages(h, chat.id).at(-1)!.text).toBe("back again");
  });
});

describe("daily budgets", () => {
  it("stops a user whose token budget runs out mid-day, and renews it the next day", async () => {
    const { user, chat } = person(7001);
    h.openai.enqueue({ text: "a long and expensive answer", usage: { prompt_tokens: 500, completion_tokens: 300 } });
    await say(h, { chat: chat.id, from: user, text: "tell me everything" });
    const before = modelCalls();

    await say(h, { chat: chat.id, from: user, text: "and more" });
    expect(modelCalls()).toBe(before);
    // 10:00 UTC + the rate-limit test's minute: the budget renews at midnight, 13 h 59 min later.
    expect(shownMessages(h, chat.id).at(-1)!.text).toMatch(
      /^Your daily token budget doesn't cover this question: 200 of 1,000 tokens left today, and it may need up to \d+\. The budget renews at 00:00 UTC \(in 13 h 59 min\)\.$/,
    );

    // What /usage shows: the same figures, in the user's language.
    const ctx = {
      deps: h.app.deps,
      from: user,
      chat,
      t: (key: string, vars?: Record<string, string | number>) => h.app.deps.i18n.t("en", key, vars),
    } as unknown as BotContext;
    expect(await h.app.deps.limits.budgetStatus({ sender: { userId: user.id }, chatId: chat.id })).toMatchObject({
      user: { tokens: { limit: 1000, used: 800, left: 200 } },
      exempt: false,
    });
    // The private chat spent what its user did: 500 tokens in and 300 out at the chat model's list price.
    const price = PRICES[h.config.openai.model]!;
    const chatLeft = formatUsd(0.001 - (500 * price.input + 300 * price.output) / 1e6);
    expect(await describeBudget(ctx)).toBe(
      `**Today's budget**\nYou: 200 of 1,000 tokens left\nThis chat: ${chatLeft} of $0.001 left\nRenews at 00:00 UTC (in 13 h 59 min).`,
    );
    // …and /usage itself shows what is left, not only what was spent.
    await say(h, { chat: chat.id, from: user, text: "/usage" });
    expect(shownMessages(h, chat.id).at(-1)!.text).toContain(
      `\n\nToday's budget\nYou: 200 of 1,000 tokens left\nThis chat: ${chatLeft} of $0.001 left\nRenews at 00:00 UTC (in 13 h 59 min).\n\n`,
    );

    advance(24 * 60 * 60 * 1000);
    expect(await h.app.deps.limits.budgetStatus({ sender: { userId: user.id }, chatId: chat.id })).toMatchObject({ user: { tokens: { used: 0, left: 1000 } } });
    h.openai.enqueue({ text: "a new day" });
    await say(h, { chat: chat.id, from: user, text: "and more" });
    expect(shownMessages(h, chat.id).at(-1)!.text).toBe("a new day");
  });

  it("stops everyone in a chat whose daily spending limit is used up", async () => {
    const group = otherGroup();
    const spender = person(7003);
    const other = person(7004, "zh-hans");
    h.openai.enqueue({ text: "pricey", usage: { prompt_tokens: 100, completion_tokens: 700 } });
    await say(h, { chat: group.id, from: spender.user, text: "/ask expensive question" });
    const before = modelCalls();
    await say(h, { chat: group.id, from: other.user, text: "/ask 我也想问" });
    expect(modelCalls()).toBe(before);
    expect(shownMessages(h, group.id).at(-1)!.text).toMatch(/^本聊天的每日费用上限不够回答这个问题：今天还剩 \$0\.00（共 \$0\.001）/);
  });
});
