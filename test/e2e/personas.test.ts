/**
 * /persona over real HTTP: the keyboard of presets (the one in force marked), what a press changes in the system
 * prompt the OpenAI test server receives, in the user's language; who may pick in groups (admins for the chat, each
 * member in per-member mode); the chat's /system text as "Custom"; PERSONAS_FILE in YAML and JSON; and a broken
 * persona file stopping a real process at start-up with one line.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeChat, FakeUser, StoredMessage } from "../servers/bot-api.js";
import { newGroup, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";

let h: Harness;
let dir: string;
beforeAll(async () => {
  h = await startHarness();
  dir = await mkdtemp(join(tmpdir(), "personas-e2e-"));
});
afterAll(async () => {
  await h.close();
  await rm(dir, { recursive: true, force: true });
});

type Button = { text: string; callback_data: string };
const buttonsOf = (msg: StoredMessage): Button[] => (msg.reply_markup as { inline_keyboard: Button[][] }).inline_keyboard.flat();
const labels = (msg: StoredMessage) => buttonsOf(msg).map((b) => b.text);
const marked = (msg: StoredMessage) => labels(msg).filter((l) => l.startsWith("✓ "));
const lastBotMessage = (hh: Harness, chatId: number) => hh.telegram.botMessages(chatId).at(-1)!;
/** The system prompt of the model request made last. */
const lastSystemPrompt = (hh: Harness = h) => String(hh.openai.chatRequests().at(-1)!.messages[0]!.content);
const prompt = (id: string, locale: "en" | "zh" = "en", hh: Harness = h) => hh.app.deps.personas.get(id)!.prompt[locale];

/** A user presses a button of a bot message; returns the bot's answerCallbackQuery parameters. */
async function press(hh: Harness, chatId: number, from: FakeUser, messageId: number, data: string) {
  const target = hh.app.handled + 1;
  const id = hh.telegram.userPresses({ chat: chatId, from, messageId, data });
  await hh.app.whenHandled(target);
  return hh.telegram.calls.find((c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === id)?.params;
}

/** Presses the button labelled `label` (marked or not) on the message. */
function dataOf(msg: StoredMessage, label: string): string {
  const button = buttonsOf(msg).find((b) => b.text.replace(/^✓ /, "") === label);
  if (!button) throw new Error(`no button "${label}" in ${JSON.stringify(labels(msg))}`);
  return button.callback_data;
}

let nextMember = 70_000;
function member(chat: FakeChat, status: "creator" | "administrator" | "member", user: Partial<FakeUser> = {}): FakeUser {
  const u: FakeUser = { id: nextMember++, first_name: `${status}${nextMember}`, language_code: "en", ...user };
  h.telegram.setChatMember(chat.id, u, status);
  return u;
}

describe("the command menu", () => {
  it("offers /persona to everyone, in English and Chinese", () => {
    const menu = (scope: string, lang: string) =>
      h.telegram.myCommands({ type: scope }, lang) as Array<{ command: string; description: string }>;
    for (const scope of ["default", "all_private_chats", "all_group_chats", "all_chat_administrators"]) {
      expect(menu(scope, "").find((c) => c.command === "persona")?.description).toBe("Pick a persona (a preset system prompt)");
      expect(menu(scope, "zh").find((c) => c.command === "persona")?.description).toBe("选择角色（预设的系统提示词）");
    }
  });
});

describe("/persona in a private chat", () => {
  it("shows the presets with the one in force marked, and a pick changes the system prompt the model gets", async () => {
    const { user, chat } = newPrivateChat(h);
    await say(h, { chat: chat.id, from: user, text: "/persona" });
    const panel = lastBotMessage(h, chat.id);
    expect(panel.text).toBe(
      'Persona for this chat\nIn use: Default assistant\n\nTap one to use it. /system shows the prompt or sets your own, which then stays a choice here ("Custom").',
    );
    expect(labels(panel)).toEqual(["✓ Default assistant", "Translator", "Code reviewer", "Concise answers", "Teacher"]);

    await say(h, { chat: chat.id, from: user, text: "hello" });
    expect(lastSystemPrompt()).toBe(prompt("default"));

    expect(await press(h, chat.id, user, panel.message_id, dataOf(panel, "Translator"))).toMatchObject({ text: "Now using: Translator" });
    const edited = h.telegram.message(chat.id, panel.message_id)!;
    expect(edited.text).toContain("In use: Translator");
    expect(marked(edited)).toEqual(["✓ Translator"]);
    await say(h, { chat: chat.id, from: user, text: "bonjour tout le monde" });
    expect(lastSystemPrompt()).toBe(prompt("translator"));
    expect(lastSystemPrompt()).toMatch(/^You are a translator/);

    // An old keyboard stays valid: a newer panel exists, the first one's press still applies.
    await say(h, { chat: chat.id, from: user, text: "/persona" });
    expect(marked(lastBotMessage(h, chat.id))).toEqual(["✓ Translator"]);
    expect(await press(h, chat.id, user, panel.message_id, dataOf(panel, "Concise answers"))).toMatchObject({ text: "Now using: Concise answers" });
    await say(h, { chat: chat.id, from: user, text: "why is the sky blue?" });
    expect(lastSystemPrompt()).toBe(prompt("concise"));
    // Pressing what is already chosen re-applies it and is confirmed.
    expect(await press(h, chat.id, user, panel.message_id, dataOf(panel, "Concise answers"))).toMatchObject({ text: "Now using: Concise answers" });
  });

  it("answers a button of a preset that no longer exists with a short callback answer, changing nothing", async () => {
    const { user, chat } = newPrivateChat(h);
    await say(h, { chat: chat.id, from: user, text: "/persona" });
    const panel = lastBotMessage(h, chat.id);
    await press(h, chat.id, user, panel.message_id, dataOf(panel, "Teacher"));
    // A keyboard from before the operator took "lawyer" out of PERSONAS_FILE.
    const requests = h.openai.chatRequests().length;
    expect(await press(h, chat.id, user, panel.message_id, "persona:lawyer")).toMatchObject({ text: "That persona is no longer available." });
    expect(h.openai.chatRequests()).toHaveLength(requests);
    await say(h, { chat: chat.id, from: user, text: "what is a prime?" });
    expect(lastSystemPrompt()).toBe(prompt("teacher"));
  });

  it("speaks Chinese to a Chinese user: names, confirmation and the prompt the model gets", async () => {
    const { user, chat } = newPrivateChat(h, { language_code: "zh-hans" });
    await say(h, { chat: chat.id, from: user, text: "/persona" });
    const panel = lastBotMessage(h, chat.id);
    expect(panel.text).toMatch(/^本聊天的角色\n当前使用：默认助手/);
    expect(labels(panel)).toEqual(["✓ 默认助手", "翻译", "代码审查", "简洁回答", "老师"]);
    expect(await press(h, chat.id, user, panel.message_id, dataOf(panel, "老师"))).toMatchObject({ text: "已切换为：老师" });
    await say(h, { chat: chat.id, from: user, text: "什么是质数？" });
    expect(lastSystemPrompt()).toBe(prompt("teacher", "zh"));
    expect(lastSystemPrompt()).toMatch(/^你是一位耐心的老师/);
  });
});

describe("/persona in groups", () => {
  it("lets admins pick the chat's persona; a member's press gets a short refusal and changes nothing", async () => {
    const { chat } = newGroup(h);
    const admin = member(chat, "administrator");
    const user = member(chat, "member");
    await say(h, { chat: chat.id, from: user, text: "/persona" });
    const panel = lastBotMessage(h, chat.id);
    expect(panel.text).toContain("Only this group's admins can change it.");

    const refused = await press(h, chat.id, user, panel.message_id, dataOf(panel, "Code reviewer"));
    expect(refused).toMatchObject({ text: "Only this group's admins can pick its persona.", show_alert: true });
    expect(h.telegram.message(chat.id, panel.message_id)!.edits).toBe(0);
    await say(h, { chat: chat.id, from: user, text: "/ask review `x = x + 1`" });
    expect(lastSystemPrompt()).toBe(prompt("default"));

    expect(await press(h, chat.id, admin, panel.message_id, dataOf(panel, "Code reviewer"))).toMatchObject({ text: "Now using: Code reviewer" });
    expect(marked(h.telegram.message(chat.id, panel.message_id)!)).toEqual(["✓ Code reviewer"]);
    // The chat's persona is everyone's.
    await say(h, { chat: chat.id, from: user, text: "/ask review `x = x + 1`" });
    expect(lastSystemPrompt()).toBe(prompt("code-reviewer"));
  });

  it("keeps the chat's /system text as the marked Custom choice, replaced by a preset and back", async () => {
    const { chat } = newGroup(h);
    const admin = member(chat, "administrator");
    await say(h, { chat: chat.id, from: admin, text: "/system You are a pirate." });
    await say(h, { chat: chat.id, from: admin, text: "/persona" });
    const panel = lastBotMessage(h, chat.id);
    expect(panel.text).toContain("In use: Custom (/system)");
    expect(labels(panel)).toEqual(["Default assistant", "Translator", "Code reviewer", "Concise answers", "Teacher", "✓ Custom (/system)"]);

    await press(h, chat.id, admin, panel.message_id, dataOf(panel, "Concise answers"));
    expect(marked(h.telegram.message(chat.id, panel.message_id)!)).toEqual(["✓ Concise answers"]);
    await say(h, { chat: chat.id, from: admin, text: "/ask where is the treasure?" });
    expect(lastSystemPrompt()).toBe(prompt("concise"));
    // /system shows what is in force.
    await say(h, { chat: chat.id, from: admin, text: "/system" });
    expect(lastBotMessage(h, chat.id).text).toContain(`This chat uses the persona “Concise answers”:\n${prompt("concise")}`);

    expect(await press(h, chat.id, admin, panel.message_id, dataOf(panel, "Custom (/system)"))).toMatchObject({ text: "Now using: Custom (/system)" });
    expect(marked(h.telegram.message(chat.id, panel.message_id)!)).toEqual(["✓ Custom (/system)"]);
    await say(h, { chat: chat.id, from: admin, text: "/ask where is the treasure?" });
    expect(lastSystemPrompt()).toBe("You are a pirate.");

    // A new /system text comes into force over a preset picked before.
    await press(h, chat.id, admin, panel.message_id, dataOf(panel, "Teacher"));
    await say(h, { chat: chat.id, from: admin, text: "/system You are a parrot." });
    await say(h, { chat: chat.id, from: admin, text: "/ask hello?" });
    expect(lastSystemPrompt()).toBe("You are a parrot.");
    // Without a /system text there is no Custom to pick.
    await say(h, { chat: chat.id, from: admin, text: "/system reset" });
    expect(await press(h, chat.id, admin, panel.message_id, "persona:custom")).toMatchObject({ text: "This chat has no custom prompt: an admin sets one with /system." });
  });

  it("lets each member pick their own in per-member mode, over the chat's", async () => {
    const { chat } = newGroup(h);
    const admin = member(chat, "administrator");
    const alice = member(chat, "member");
    const bob = member(chat, "member", { language_code: "zh" });
    const carol = member(chat, "member");
    await h.app.deps.settings.update(chat.id, { historyMode: "per-user", persona: "concise" });

    await say(h, { chat: chat.id, from: alice, text: "/persona" });
    const alicePanel = lastBotMessage(h, chat.id);
    expect(alicePanel.text).toMatch(/^Your persona in this group\nIn use: Concise answers/);
    expect(await press(h, chat.id, alice, alicePanel.message_id, dataOf(alicePanel, "Translator"))).toMatchObject({ text: "Now using: Translator" });
    // Bob presses the same message: a member's press is theirs, no refusal.
    expect(await press(h, chat.id, bob, alicePanel.message_id, dataOf(alicePanel, "Teacher"))).toMatchObject({ text: "已切换为：老师" });

    await say(h, { chat: chat.id, from: alice, text: "/ask guten Tag" });
    expect(lastSystemPrompt()).toBe(prompt("translator"));
    await say(h, { chat: chat.id, from: bob, text: "/ask 什么是质数？" });
    expect(lastSystemPrompt()).toBe(prompt("teacher", "zh"));
    await say(h, { chat: chat.id, from: carol, text: "/ask what is a prime?" });
    expect(lastSystemPrompt()).toBe(prompt("concise"));
    await say(h, { chat: chat.id, from: admin, text: "/ask what is a prime?" });
    expect(lastSystemPrompt()).toBe(prompt("concise"));

    await say(h, { chat: chat.id, from: carol, text: "/persona" });
    expect(marked(lastBotMessage(h, chat.id))).toEqual(["✓ Concise answers"]);
    await say(h, { chat: chat.id, from: alice, text: "/persona" });
    expect(marked(lastBotMessage(h, chat.id))).toEqual(["✓ Translator"]);
  });
});

describe("PERSONAS_FILE", () => {
  it("adds presets and replaces built-in ones by id, from YAML and from JSON", async () => {
    const yaml = join(dir, "personas.yaml");
    await writeFile(
      yaml,
      "- id: lawyer\n  name: { en: Lawyer, zh: 律师 }\n  prompt:\n    en: You are a careful lawyer.\n    zh: 你是一位严谨的律师。\n" +
        "- id: teacher\n  name: { en: Tutor, zh: 导师 }\n  prompt: { en: You tutor one student., zh: 你辅导一名学生。 }\n",
    );
    const json = join(dir, "personas.json");
    await writeFile(json, JSON.stringify([{ id: "poet", name: { en: "Poet", zh: "诗人" }, prompt: { en: "Answer in verse.", zh: "用诗回答。" } }]));

    for (const [file, pick, expected] of [
      [yaml, "Lawyer", "You are a careful lawyer."],
      [yaml, "Tutor", "You tutor one student."],
      [json, "Poet", "Answer in verse."],
    ] as const) {
      const other = await startHarness({ env: { PERSONAS_FILE: file } });
      try {
        const { user, chat } = newPrivateChat(other);
        await say(other, { chat: chat.id, from: user, text: "/persona" });
        const panel = lastBotMessage(other, chat.id);
        expect(labels(panel)).toEqual(
          file === yaml
            ? ["✓ Default assistant", "Translator", "Code reviewer", "Concise answers", "Tutor", "Lawyer"]
            : ["✓ Default assistant", "Translator", "Code reviewer", "Concise answers", "Teacher", "Poet"],
        );
        await press(other, chat.id, user, panel.message_id, dataOf(panel, pick));
        await say(other, { chat: chat.id, from: user, text: "hello" });
        expect(lastSystemPrompt(other)).toBe(expected);
      } finally {
        await other.close();
      }
    }
  });

  it("stops a real process at start-up with one line naming the problem when the file is broken or missing", async () => {
    const ROOT = resolve(import.meta.dirname, "../..");
    const started = Date.now();
    const broken = join(dir, "broken.yaml");
    await writeFile(broken, "- id: lawyer\n  name: Lawyer\n");
    const missing = join(dir, "missing.yaml");
    // Both at once: a process start loads the whole bot (seconds each on a busy machine). Syntax errors and every
    // other problem are checked in src/services/personas.test.ts; here the path from the file to the exit code.
    const runs = [
      [broken, `Cannot start: PERSONAS_FILE ${broken} has a mistake: personas[0].prompt must be a text or { en, zh }\n`],
      [missing, `Cannot start: PERSONAS_FILE ${missing} cannot be read (no such file)\n`],
    ].map(async ([file, line]) => {
      const child = spawn(join(ROOT, "node_modules/.bin/tsx"), [join(ROOT, "src/main.ts")], {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? "",
          TELEGRAM_BOT_TOKEN: h.telegram.token,
          TELEGRAM_API_ROOT: h.telegram.apiRoot,
          OPENAI_API_KEY: h.openai.apiKey,
          OPENAI_BASE_URL: h.openai.baseURL,
          STORE_URL: "memory://",
          PERSONAS_FILE: file!,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((r) => child.on("exit", r));
      expect({ code, stderr }).toEqual({ code: 1, stderr: line });
    });
    await Promise.all(runs);
    // Nothing reached Telegram: a local file's mistake is told before the network is asked.
    expect(h.telegram.calls.filter((c) => c.method === "getMe" && c.at >= started)).toEqual([]);
  }, 120_000);
});
