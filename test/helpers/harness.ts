/**
 * Starts the bot in-process exactly as main.ts does, against the local Bot API and OpenAI test servers, with history
 * on a real SQLite file in a temporary folder (or the store given). Log lines are collected for assertions.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { loadConfig, type Config } from "../../src/config.js";
import { createLogger } from "../../src/util/logger.js";
import { startApp, type App, type AppOptions } from "../../src/app.js";
import { startBotApiServer, type BotApiServer, type BotApiServerOptions, type Call, type FakeChat, type FakeUser, type StoredMessage } from "../servers/bot-api.js";
import { startOpenAIServer, type OpenAIServer } from "../servers/openai.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

export interface Harness {
  telegram: BotApiServer;
  openai: OpenAIServer;
  app: App;
  config: Config;
  dir: string;
  logs: string[];
  /** The proxy between the bot and the Bot API test server (`viaProxy`): take Telegram off the network and back. */
  proxy: TcpProxy | undefined;
  /** Stops the bot and starts a new one on the same servers and store (a process restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  telegram?: BotApiServerOptions;
  gracePeriodMs?: number;
  /** The app's clock (usage days, rate limits, budgets, admin cache); tests move it instead of waiting. */
  now?: () => Date;
  /** The bot reaches the Bot API through a TCP proxy the test can take down (`h.proxy`). */
  viaProxy?: boolean;
  /** Pauses between failed getUpdates calls (tests shorten the 30 s bound). */
  pollBackoff?: AppOptions["pollBackoff"];
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const telegram = await startBotApiServer(opts.telegram);
  const openai = await startOpenAIServer();
  const proxy = opts.viaProxy ? await startTcpProxy(telegram.apiRoot) : undefined;
  const dir = await mkdtemp(join(tmpdir(), "tg-ai-bot-"));
  const logs: string[] = [];
  const config = loadConfig({
    TELEGRAM_BOT_TOKEN: telegram.token,
    TELEGRAM_API_ROOT: proxy?.url ?? telegram.apiRoot,
    OPENAI_API_KEY: openai.apiKey,
    OPENAI_BASE_URL: openai.baseURL,
    STORE_URL: `sqlite://${join(dir, "bot.sqlite")}`,
    LOG_LEVEL: "debug",
    ...opts.env,
  });
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const start = () =>
    startApp(config, {
      logger: createLogger({ level: config.logLevel, secrets: [config.telegram.token, config.openai.apiKey], destination }),
      gracePeriodMs: opts.gracePeriodMs ?? 5000,
      now: opts.now,
      pollBackoff: opts.pollBackoff,
    });
  const h: Harness = {
    telegram,
    openai,
    app: await start(),
    config,
    dir,
    logs,
    proxy,
    async restart() {
      await h.app.stop("restart");
      h.app = await start();
    },
    async close() {
      await h.app.stop("test end");
      await proxy?.close();
      await telegram.close();
      await openai.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return h;
}

// Random start: stores outside the test (Redis, Postgres) keep keys between runs, and ids must not meet old ones.
let nextId = 1000 + Math.floor(Math.random() * 1e9);

/** A new user and their private chat. */
export function newPrivateChat(h: Harness, user: Partial<FakeUser> = {}): { user: FakeUser; chat: FakeChat } {
  const id = nextId++;
  const u: FakeUser = { id, first_name: `User${id}`, language_code: "en", ...user };
  const chat: FakeChat = { id: u.id, type: "private", first_name: u.first_name };
  h.telegram.addUser(u);
  h.telegram.addChat(chat);
  return { user: u, chat };
}

/** A new supergroup with one member. */
export function newGroup(h: Harness, opts: Partial<FakeChat> = {}, user: Partial<FakeUser> = {}): { user: FakeUser; chat: FakeChat } {
  const id = nextId++;
  const u: FakeUser = { id, first_name: `Member${id}`, language_code: "en", ...user };
  const chat: FakeChat = { id: -1_000_000_000_000 - id, type: "supergroup", title: `Group ${id}`, ...opts };
  h.telegram.addUser(u);
  h.telegram.addChat(chat);
  return { user: u, chat };
}

const SENDS = new Set(["sendMessage", "editMessageText", "sendMessageDraft", "sendPhoto", "editMessageCaption"]);

/** Calls that change what a chat shows, in order. */
export function chatCalls(h: Harness, chatId: number, from = 0): Call[] {
  return h.telegram.calls.slice(from).filter((c) => SENDS.has(c.method) && Number(c.params.chat_id) === chatId);
}

/** A user message, then the bot's whole handling of it (the answer fully delivered). */
export async function say(h: Harness, opts: Parameters<BotApiServer["userSends"]>[0]): Promise<void> {
  const target = h.app.handled + 1;
  h.telegram.userSends(opts);
  await h.app.whenHandled(target);
}

/**
 * Every message the bot showed in a chat, in order: to everyone, and (ephemeral messages, Bot API 10.3) to one member
 * each. `h.telegram.visibleTo(chat, user)` is what one member sees.
 */
export function shownMessages(h: Harness, chatId: number): StoredMessage[] {
  return [...h.telegram.botMessages(chatId), ...h.telegram.ephemeralMessages(chatId)].sort((a, b) => (a.sentAt ?? 0) - (b.sentAt ?? 0));
}

/** All bot messages in a chat, ephemeral ones included, joined (the text its users read). */
export function botText(h: Harness, chatId: number): string {
  return shownMessages(h, chatId)
    .map((m) => m.text ?? m.caption ?? "")
    .join("\n\n");
}
