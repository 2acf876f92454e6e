/**
 * Nothing lost, nothing answered twice: the bot as a real process, killed with SIGKILL mid-answer and started again
 * on the same store (SQLite, Redis). Questions asked before, during and after the crash each end with exactly one
 * complete answer.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBotApiServer, type BotApiServer } from "../servers/bot-api.js";
import { echoScript, startOpenAIServer, type OpenAIServer } from "../servers/openai.js";
import { startBotProcess } from "../helpers/bot-process.js";

const REDIS_URL = process.env.REDIS_URL;

let telegram: BotApiServer;
let openai: OpenAIServer;
let cwd: string;
beforeAll(async () => {
  telegram = await startBotApiServer();
  openai = await startOpenAIServer();
  // Slow enough that a kill lands mid-answer.
  openai.setDefault((body) => ({ ...echoScript(body), chunkSize: 3, delayMs: 40 }));
  cwd = await mkdtemp(join(tmpdir(), "tg-ai-durable-"));
});
afterAll(async () => {
  await telegram.close();
  await openai.close();
  await rm(cwd, { recursive: true, force: true });
});

let nextChat = 700_000 + Math.floor(Math.random() * 1e8);
function newChat() {
  const user = { id: nextChat++, first_name: "Q", language_code: "en" };
  telegram.addUser(user);
  telegram.addChat({ id: user.id, type: "private", first_name: user.first_name });
  return user;
}

/** The final texts the bot left in a chat. */
const texts = (chatId: number) => telegram.botMessages(chatId).map((m) => m.text);

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const stores = [
  { name: "SQLite", enabled: true, url: () => `sqlite://${join(cwd, "bot.sqlite")}` },
  { name: "Redis (REDIS_URL)", enabled: Boolean(REDIS_URL), url: () => REDIS_URL! },
];

// A server's variable in the title: CI checks that every test naming it ran (test/ci/store-tests-ran.ts).
for (const store of stores) {
  describe.skipIf(!store.enabled)(`kill -9 mid-answer on ${store.name}`, () => {
    it("after the restart every question has exactly one complete answer: none lost, none repeated", async () => {
      const env = {
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        OPENAI_API_KEY: openai.apiKey,
        OPENAI_BASE_URL: openai.baseURL,
        STORE_URL: store.url(),
      };
      const [a, b, c] = [newChat(), newChat(), newChat()];
      const first = startBotProcess(env, cwd);
      await first.waitForLog("bot started");
      // A question answered in full before the crash: it must not be answered again.
      telegram.userSends({ chat: c.id, from: c, text: "done before" });
      await until(() => texts(c.id).length === 1, 15_000, "the first answer");
      // Two answers streaming when the process is killed.
      telegram.userSends({ chat: a.id, from: a, text: "first question of a, cut by the crash" });
      telegram.userSends({ chat: b.id, from: b, text: "question of b, cut by the crash" });
      await telegram.waitFor((call) => call.method === "sendMessageDraft" && Number(call.params.chat_id) === a.id, 15_000);
      await first.kill9();
      expect(texts(a.id)).toEqual([]);
      // Asked while the bot is down.
      telegram.userSends({ chat: a.id, from: a, text: "second question of a, asked while down" });

      const second = startBotProcess(env, cwd);
      try {
        await second.waitForLog("bot started");
        await until(() => texts(a.id).length >= 2 && texts(b.id).length >= 1, 30_000, "the answers after the restart");
        // Nothing more comes: give a repeated answer the time to show.
        await new Promise((r) => setTimeout(r, 1500));
        expect(texts(a.id)).toEqual(["You said: first question of a, cut by the crash", "You said: second question of a, asked while down"]);
        expect(texts(b.id)).toEqual(["You said: question of b, cut by the crash"]);
        expect(texts(c.id)).toEqual(["You said: done before"]);
      } finally {
        second.child.kill("SIGTERM");
        expect(await second.exit).toBe(0);
      }
      expect(telegram.pendingUpdates()).toEqual([]);
    }, 150_000);
  });
}
