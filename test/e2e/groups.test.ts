/**
 * Groups as admins and members meet them: who may set the system prompt and the settings (asked of the Bot API
 * test server's chat members), forum topics, per-member history, both languages, and the command menus.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GROUP_ANONYMOUS_BOT, type FakeChat, type FakeUser, type StoredMessage } from "../servers/bot-api.js";
import { botText, newGroup, newPrivateChat, say, startHarness, type Harness, shownMessages } from "../helpers/harness.js";
import { DEFAULT_SYSTEM_PROMPT } from "../../src/config.js";
import { historyKey } from "../../src/storage/history.js";

let h: Harness;
let clock = new Date("2026-03-10T10:00:00Z");
const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));

beforeAll(async () => {
  h = await startHarness({
    env: { ADMIN_CACHE_SECONDS: "60", SYSTEM_PROMPT_MAX_TOKENS: "40", ALLOWED_MODELS: "gpt-4.1-mini,gpt-4.1,gpt-4o-mini" },
    now: () => clock,
    // The panels and refusals here are pressed and read by several members: normal replies, as on a Bot API server
    // without ephemeral messages (test/e2e/ephemeral.test.ts shows them to the one who asked).
    telegram: { ephemeralSupported: false },
  });
});
afterAll(() => h.close());

let nextUserId = 50_000;
/** Another person in `chat` with the given status. */
function member(chat: FakeChat, status: "creator" | "administrator" | "member", user: Partial<FakeUser> = {}): FakeUser {
  const u: FakeUser = { id: nextUserId++, first_name: `${status}${nextUserId}`, language_code: "en", ...user };
  h.telegram.setChatMember(chat.id, u, status);
  return u;
}

/** The system prompt the model received last. */
const lastSystemPrompt = () => String(h.openai.chatRequests().at(-1)!.messages[0]!.content);
const lastBotMessage = (chatId: number): StoredMessage => shownMessages(h, chatId).at(-1)!;
const memberLookups = (chatId: number, userId: number) =>
  h.telegram.calls.filter((c) => c.method === "getChatMember" && c.params.chat_id === chatId && c.params.user_id === userId).length;

async function press(chatId: number, from: FakeUser, messageId: number, data: string) {
  const target = h.app.handled + 1;
  const id = h.telegram.userPresses({ chat: chatId, from, messageId, data });
  await h.app.whenHandled(target);
  return h.telegram.calls.find((c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === id);
}

describe("/system in groups", () => {
  it("refuses a plain member and changes nothing", async () => {
    const { chat } = newGroup(h);
    const user = member(chat, "member");
    await say(h, { chat: chat.id, from: user, text: "/system You are a pirate." });
    expect(lastBotMessage(chat.id).text).toBe("Only this group's admins can do that.");
    await say(h, { chat: chat.id, from: user, text: "/ask hello" });
    expect(lastSystemPrompt()).toBe(DEFAULT_SYSTEM_PROMPT);
  });

  it("accepts an administrator, sends the prompt first, shows it, and resets it", async () => {
    const { chat } = newGroup(h);
    const admin = member(chat, "administrator");
    const user = member(chat, "member");
    await say(h, { chat: chat.id, from: admin, text: "/system You are a pirate. Answer like one." });
    expect(lastBotMessage(chat.id).text).toMatch(/^Done: the system prompt for this chat is set \(\d+ tokens\)/);
    await say(h, { chat: chat.id, from: user, text: "/ask where is the treasure?" });
    expect(lastSystemPrompt()).toBe("You are a pirate. Answer like one.");

    // Everyone may read it; the hint says who may change it.
    await say(h, { chat: chat.id, from: user, text: "/system" });
    const shown = lastBotMessage(chat.id);
    expect(shown.text).toBe("This chat's system prompt:\nYou are a pirate. Answer like one.\n\nOnly this group's admins can change it.");
    expect(shown.entities).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: "expandable_blockquote", length: "You are a pirate. Answer like one.".length })]),
    );

    await say(h, { chat: chat.id, from: admin, text: "/system reset" });
    expect(lastBotMessage(chat.id).text).toBe("Done: this chat is back to the default system prompt.");
    await say(h, { chat: chat.id, from: user, text: "/ask and now?" });
    expect(lastSystemPrompt()).toBe(DEFAULT_SYSTEM_PROMPT);
  });

  it("accepts the creator", async () => {
    const { chat } = newGroup(h);
    const creator = member(chat, "creator");
    await say(h, { chat: chat.id, from: creator, text: "/system Be brief." });
    await say(h, { chat: chat.id, from: creator, text: "/ask hi" });
    expect(lastSystemPrompt()).toBe("Be brief.");
  });

  it("accepts an anonymous admin (the message is sent as the group itself)", async () => {
    const { chat } = newGroup(h);
    const user = member(chat, "member");
    await say(h, { chat: chat.id, from: GROUP_ANONYMOUS_BOT, senderChat: chat.id, text: "/system Speak formally." });
    expect(lastBotMessage(chat.id).text).toMatch(/^Done: the system prompt for this chat is set/);
    await say(h, { chat: chat.id, from: user, text: "/ask hi" });
    expect(lastSystemPrompt()).toBe("Speak formally.");
  });

  it("refuses a prompt over the length bound with a clear reply", async () => {
    const { chat } = newGroup(h);
    const admin = member(chat, "administrator");
    await say(h, { chat: chat.id, from: admin, text: `/system ${"Always answer in rhyming couplets. ".repeat(10)}` });
    expect(lastBotMessage(chat.id).text).toMatch(/^That system prompt is too long: \d+ tokens, and at most 40 are allowed/);
    await say(h, { chat: chat.id, from: admin, text: "/ask hi" });
    expect(lastSystemPrompt()).toBe(DEFAULT_SYSTEM_PROMPT);
  });

  it("caches admin status briefly and asks Telegram again once the cache expires", async () => {
    const { chat } = newGroup(h);
    const admin = member(chat, "administrator");
    await say(h, { chat: chat.id, from: admin, text: "/system First." });
    expect(memberLookups(chat.id, admin.id)).toBe(1);

    // Demoted: within the cache time the bot still trusts what it was told, without asking again.
    h.telegram.setChatMember(chat.id, admin, "member");
    advance(30_000);
    await say(h, { chat: chat.id, from: admin, text: "/system Second." });
    expect(memberLookups(chat.id, admin.id)).toBe(1);
    expect(lastBotMessage(chat.id).text).toMatch(/^Done/);

    advance(31_000);
    await say(h, { chat: chat.id, from: admin, text: "/system Third." });
    expect(memberLookups(chat.id, admin.id)).toBe(2);
    expect(lastBotMessage(chat.id).text).toBe("Only this group's admins can do that.");
    await say(h, { chat: chat.id, from: admin, text: "/ask which prompt?" });
    expect(lastSystemPrompt()).toBe("Second.");
  });
});

describe("/settings", () => {
  it("lets admins pick the model and history mode; members pressing buttons are refused", async () => {
    const { chat } = newGroup(h);
    const admin = member(chat, "administrator");
    const user = member(chat, "member");

    await say(h, { chat: chat.id, from: user, text: "/settings" });
    expect(lastBotMessage(chat.id).text).toBe("Only this group's admins can do that.");

    await say(h, { chat: chat.id, from: admin, text: "/settings" });
    const panel = lastBotMessage(chat.id);
    expect(panel.text).toContain("Settings for this chat\nModel: gpt-4.1-mini\nHistory: shared by the whole group");
    const buttons = (panel.reply_markup as { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> }).inline_keyboard.flat();
    expect(buttons.map((b) => b.text)).toEqual(
      expect.arrayContaining(["✓ gpt-4.1-mini", "gpt-4.1", "gpt-4o-mini", "✓ Shared history", "History per member", "✓ Automatic", "English", "中文"]),
    );
    const data = (label: string) => buttons.find((b) => b.text.replace("✓ ", "") === label)!.callback_data;

    const refused = await press(chat.id, user, panel.message_id, data("gpt-4o-mini"));
    expect(refused?.params).toMatchObject({ text: "Only this group's admins can change the settings.", show_alert: true });
    expect(h.telegram.message(chat.id, panel.message_id)!.edits).toBe(0);

    const saved = await press(chat.id, admin, panel.message_id, data("gpt-4o-mini"));
    expect(saved?.params).toMatchObject({ text: "Saved." });
    expect(h.telegram.message(chat.id, panel.message_id)!.text).toContain("Model: gpt-4o-mini");
    await press(chat.id, admin, panel.message_id, data("History per member"));
    expect(h.telegram.message(chat.id, panel.message_id)!.text).toContain("History: one per member");

    await say(h, { chat: chat.id, from: user, text: "/ask which model?" });
    expect(h.openai.chatRequests().at(-1)!.model).toBe("gpt-4o-mini");

    // Pressing what is already chosen is confirmed, not an error.
    const again = await press(chat.id, admin, panel.message_id, data("History per member"));
    expect(again?.params).toMatchObject({ text: "Saved." });
  });

  it("switches the bot's own language for the whole chat", async () => {
    const { chat } = newGroup(h);
    const admin = member(chat, "administrator");
    await say(h, { chat: chat.id, from: admin, text: "/settings" });
    const panel = lastBotMessage(chat.id);
    const saved = await press(chat.id, admin, panel.message_id, "set:lang:zh");
    expect(saved?.params).toMatchObject({ text: "已保存。" });
    expect(h.telegram.message(chat.id, panel.message_id)!.text).toContain("本聊天的设置");

    // An English-speaking member now gets the bot's texts in Chinese.
    const user = member(chat, "member");
    await say(h, { chat: chat.id, from: user, text: "/system New prompt" });
    expect(lastBotMessage(chat.id).text).toBe("只有本群的管理员才能这样做。");

    await press(chat.id, admin, panel.message_id, "set:lang:auto");
    await say(h, { chat: chat.id, from: user, text: "/system New prompt" });
    expect(lastBotMessage(chat.id).text).toBe("Only this group's admins can do that.");
  });
});

describe("/reset", () => {
  const turns = async (key: string) => (await h.app.deps.history.load(key)).map((t) => t.content);

  it("lets only admins forget a group's shared history, and tells members why in their language", async () => {
    const { chat } = newGroup(h);
    const admin = member(chat, "administrator");
    const user = member(chat, "member");
    const zh = member(chat, "member", { language_code: "zh-hans" });
    h.openai.enqueue({ text: "first answer" });
    await say(h, { chat: chat.id, from: user, text: "/ask remember this" });

    await say(h, { chat: chat.id, from: user, text: "/reset" });
    expect(lastBotMessage(chat.id).text).toBe(
      "Only this group's admins can reset its shared history. An admin can switch to one history per member in /settings.",
    );
    await say(h, { chat: chat.id, from: zh, text: "/reset" });
    expect(lastBotMessage(chat.id).text).toBe("只有本群的管理员才能清除共享的对话记录。管理员可以在 /settings 中改为每位成员各自一份记录。");
    expect(await turns(historyKey(chat.id))).toEqual([`remember this`, "first answer"]);

    await say(h, { chat: chat.id, from: admin, text: "/reset" });
    expect(lastBotMessage(chat.id).text).toBe("Done: I've forgotten this chat's history.");
    expect(await turns(historyKey(chat.id))).toEqual([]);
  });

  it("lets an anonymous admin reset it, and in a forum only the topic's history goes", async () => {
    const { chat } = newGroup(h, { is_forum: true });
    const user = member(chat, "member");
    h.openai.enqueue({ text: "in three" }, { text: "in four" });
    await say(h, { chat: chat.id, from: user, text: "/ask three", threadId: 3 });
    await say(h, { chat: chat.id, from: user, text: "/ask four", threadId: 4 });
    await say(h, { chat: chat.id, from: GROUP_ANONYMOUS_BOT, senderChat: chat.id, text: "/reset", threadId: 3 });
    expect(lastBotMessage(chat.id).text).toBe("Done: I've forgotten this chat's history.");
    expect(await turns(historyKey(chat.id, 3))).toEqual([]);
    expect(await turns(historyKey(chat.id, 4))).toEqual(["four", "in four"]);
  });

  it("lets each member reset their own history in per-member mode", async () => {
    const { chat } = newGroup(h);
    const admin = member(chat, "administrator");
    const ann = member(chat, "member", { first_name: "Ann" });
    const bob = member(chat, "member", { first_name: "Bob" });
    await say(h, { chat: chat.id, from: admin, text: "/settings" });
    await press(chat.id, admin, lastBotMessage(chat.id).message_id, "set:hist:per-user");
    h.openai.enqueue({ text: "hi Ann" }, { text: "hi Bob" });
    await say(h, { chat: chat.id, from: ann, text: "/ask I am Ann" });
    await say(h, { chat: chat.id, from: bob, text: "/ask I am Bob" });
    await say(h, { chat: chat.id, from: ann, text: "/reset" });
    expect(lastBotMessage(chat.id).text).toBe("Done: I've forgotten your history in this chat.");
    expect(await turns(historyKey(chat.id, undefined, ann.id))).toEqual([]);
    expect(await turns(historyKey(chat.id, undefined, bob.id))).toEqual(["I am Bob", "hi Bob"]);
  });

  it("lets the user reset a private chat", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "private answer" });
    await say(h, { chat: chat.id, from: user, text: "remember me" });
    await say(h, { chat: chat.id, from: user, text: "/reset" });
    expect(lastBotMessage(chat.id).text).toBe("Done: I've forgotten this chat's history.");
    expect(await turns(historyKey(chat.id))).toEqual([]);
  });
});

describe("groups in practice", () => {
  it("keeps one history per forum topic and answers in the topic", async () => {
    const { chat } = newGroup(h, { is_forum: true });
    const user = member(chat, "member");
    h.openai.enqueue({ text: "topic one answer" }, { text: "topic two answer" }, { text: "topic one again" });
    await say(h, { chat: chat.id, from: user, text: "/ask first in one", threadId: 11 });
    await say(h, { chat: chat.id, from: user, text: "/ask first in two", threadId: 22 });
    await say(h, { chat: chat.id, from: user, text: "/ask more in one", threadId: 11 });
    const sent = h.openai.chatRequests().at(-1)!.messages.slice(1).map((m) => String(m.content));
    expect(sent).toEqual([`${user.first_name}: first in one`, "topic one answer", `${user.first_name}: more in one`]);
    const answers = shownMessages(h, chat.id);
    expect(answers.map((m) => [m.text, m.message_thread_id])).toEqual([
      ["topic one answer", 11],
      ["topic two answer", 22],
      ["topic one again", 11],
    ]);
  });

  it("keeps one history per member per topic in per-member mode", async () => {
    const { chat } = newGroup(h, { is_forum: true });
    const admin = member(chat, "administrator");
    const ann = member(chat, "member", { first_name: "Ann" });
    const bob = member(chat, "member", { first_name: "Bob" });
    await say(h, { chat: chat.id, from: admin, text: "/settings", threadId: 5 });
    const panel = lastBotMessage(chat.id);
    expect(panel.message_thread_id).toBe(5);
    await press(chat.id, admin, panel.message_id, "set:hist:per-user");

    h.openai.enqueue({ text: "hi Ann" }, { text: "hi Bob" }, { text: "Ann in seven" }, { text: "Ann again" });
    await say(h, { chat: chat.id, from: ann, text: "/ask I am Ann", threadId: 5 });
    await say(h, { chat: chat.id, from: bob, text: "/ask I am Bob", threadId: 5 });
    expect(h.openai.chatRequests().at(-1)!.messages.slice(1).map((m) => String(m.content))).toEqual(["Bob: I am Bob"]);
    await say(h, { chat: chat.id, from: ann, text: "/ask other topic", threadId: 7 });
    expect(h.openai.chatRequests().at(-1)!.messages.slice(1).map((m) => String(m.content))).toEqual(["Ann: other topic"]);
    await say(h, { chat: chat.id, from: ann, text: "/ask who am I?", threadId: 5 });
    expect(h.openai.chatRequests().at(-1)!.messages.slice(1).map((m) => String(m.content))).toEqual([
      "Ann: I am Ann",
      "hi Ann",
      "Ann: who am I?",
    ]);
    expect(lastBotMessage(chat.id)).toMatchObject({ text: "Ann again", message_thread_id: 5 });
  });

  it("speaks each user's language: Chinese for zh*, English otherwise", async () => {
    const zh = newPrivateChat(h, { language_code: "zh-hans" });
    const en = newPrivateChat(h, { language_code: "en" });
    await say(h, { chat: zh.chat.id, from: zh.user, text: "/system" });
    await say(h, { chat: en.chat.id, from: en.user, text: "/system" });
    expect(botText(h, zh.chat.id)).toMatch(/^本聊天使用默认的系统提示词：\n/);
    expect(botText(h, zh.chat.id)).toMatch(/发送 \/system 加上新的提示词即可修改/);
    expect(botText(h, en.chat.id)).toMatch(/^This chat uses the default system prompt:\n/);
    // In a private chat the user is their own admin.
    await say(h, { chat: zh.chat.id, from: zh.user, text: "/system 用中文回答。" });
    expect(lastBotMessage(zh.chat.id).text).toMatch(/^好的，本聊天的系统提示词已设置/);
    await say(h, { chat: zh.chat.id, from: zh.user, text: "你好" });
    expect(lastSystemPrompt()).toBe("用中文回答。");
  });

  it("registers the command menu per scope and language", () => {
    const names = (scope: Record<string, unknown>, lang = "") =>
      (h.telegram.myCommands(scope, lang) as Array<{ command: string; description: string }> | undefined)?.map((c) => c.command);
    const describe = (scope: Record<string, unknown>, lang: string, command: string) =>
      (h.telegram.myCommands(scope, lang) as Array<{ command: string; description: string }>).find((c) => c.command === command)
        ?.description;

    for (const lang of ["", "zh"]) {
      const privateMenu = names({ type: "all_private_chats" }, lang)!;
      const groupMenu = names({ type: "all_group_chats" }, lang)!;
      const adminMenu = names({ type: "all_chat_administrators" }, lang)!;
      expect(groupMenu).toEqual(expect.arrayContaining(["start", "help", "ask", "reset"]));
      expect(groupMenu).not.toContain("system");
      expect(groupMenu).not.toContain("settings");
      expect(adminMenu).toEqual([...groupMenu, "system", "settings", "learn", "forget"]);
      expect(privateMenu).toEqual(adminMenu);
      expect(names({ type: "default" }, lang)).toEqual(groupMenu);
    }
    expect(describe({ type: "all_chat_administrators" }, "", "system")).toBe("Show or set this chat's system prompt");
    expect(describe({ type: "all_chat_administrators" }, "zh", "system")).toBe("查看或设置本聊天的系统提示词");
    expect(describe({ type: "all_group_chats" }, "zh", "ask")).toBe("提问");
  });
});
