/**
 * The real entry point as an operator runs it: `src/main.ts` in a child process, configured only by environment.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBotApiServer, type BotApiServer } from "../servers/bot-api.js";
import { startOpenAIServer, type OpenAIServer } from "../servers/openai.js";

const ROOT = resolve(import.meta.dirname, "../..");
const TSX = join(ROOT, "node_modules/.bin/tsx");
const MAIN = join(ROOT, "src/main.ts");

let telegram: BotApiServer;
let openai: OpenAIServer;
let cwd: string;
beforeAll(async () => {
  telegram = await startBotApiServer();
  openai = await startOpenAIServer();
  // An empty working directory: no stray .env, and the default ./data/bot.sqlite lands here.
  cwd = await mkdtemp(join(tmpdir(), "tg-ai-main-"));
});
afterAll(async () => {
  await telegram.close();
  await openai.close();
  await rm(cwd, { recursive: true, force: true });
});

function start(env: Record<string, string>): { child: ChildProcess; output: () => { stdout: string; stderr: string }; exit: Promise<number | null> } {
  const child = spawn(TSX, [MAIN], { cwd, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, output: () => ({ stdout, stderr }), exit };
}

describe("npm start (src/main.ts)", () => {
  it("refuses to start without OPENAI_API_KEY, in one line", async () => {
    const p = start({ TELEGRAM_BOT_TOKEN: telegram.token });
    expect(await p.exit).toBe(1);
    expect(p.output().stderr).toBe("Cannot start: OPENAI_API_KEY is missing\n");
  });

  it("names a malformed variable", async () => {
    const p = start({ TELEGRAM_BOT_TOKEN: "not-a-token", OPENAI_API_KEY: "sk-x" });
    expect(await p.exit).toBe(1);
    expect(p.output().stderr).toBe("Cannot start: TELEGRAM_BOT_TOKEN is malformed (expected <digits>:<secret> from @BotFather)\n");
  });

  it("says so when Telegram rejects the token", async () => {
    const p = start({
      TELEGRAM_BOT_TOKEN: "999:wrong-token",
      TELEGRAM_API_ROOT: telegram.apiRoot,
      OPENAI_API_KEY: openai.apiKey,
      STORE_URL: "memory://",
    });
    expect(await p.exit).toBe(1);
    expect(p.output().stderr).toBe("Cannot start: TELEGRAM_BOT_TOKEN was rejected by Telegram (401 Unauthorized): check the token\n");
  });

  it("serves with only the required variables (history in ./data), and stops gracefully on SIGTERM mid-answer", async () => {
    const p = start({
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      OPENAI_API_KEY: openai.apiKey,
      OPENAI_BASE_URL: openai.baseURL,
    });
    // Long polls are recorded when they return; the log line says when the bot listens.
    while (!p.output().stdout.includes("bot started")) await new Promise((r) => setTimeout(r, 50));
    const user = { id: 4242, first_name: "Op", language_code: "en" };
    telegram.addUser(user);
    telegram.addChat({ id: user.id, type: "private", first_name: "Op" });
    openai.enqueue({ text: "a slow answer that is still streaming when the signal comes", chunkSize: 4, delayMs: 60 });
    telegram.userSends({ chat: user.id, from: user, text: "hello" });
    await telegram.waitFor((c) => c.method === "sendMessageDraft" && Number(c.params.chat_id) === user.id, 10_000);
    p.child.kill("SIGTERM");
    expect(await p.exit).toBe(0);
    // The answer in flight was finished, not cut.
    expect(telegram.botMessages(user.id).map((m) => m.text)).toEqual([
      "a slow answer that is still streaming when the signal comes",
    ]);
    // The handled update was confirmed: a restart will not answer it twice.
    expect(telegram.pendingUpdates()).toEqual([]);
    const { stdout } = p.output();
    expect(stdout).toContain("bot started");
    expect(stdout).not.toContain(telegram.token.split(":")[1]);
    expect(stdout).not.toContain(openai.apiKey);
  }, 40_000);
});

/** A TCP server that accepts connections and never answers (a Bot API behind a stuck proxy). */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A port nothing listens on. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

// Each waits out the start-up deadline: run side by side.
describe.concurrent("npm start when the Bot API cannot be reached", () => {
  const token = "777:unreachable-bot-token";
  async function expectReported(apiRoot: string, reason: RegExp): Promise<void> {
    const started = Date.now();
    const p = start({ TELEGRAM_BOT_TOKEN: token, TELEGRAM_API_ROOT: apiRoot, OPENAI_API_KEY: "sk-x", STORE_URL: "memory://" });
    const code = await Promise.race([p.exit, new Promise<"hung">((r) => setTimeout(() => r("hung"), 40_000))]);
    if (code === "hung") p.child.kill("SIGKILL");
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThanOrEqual(30_000);
    const { stderr } = p.output();
    expect(stderr).toMatch(new RegExp(`^Cannot start: cannot reach the Telegram Bot API at ${apiRoot.replace(/[.]/g, "\\.")}: ${reason.source}.*\\n$`));
    expect(stderr.split("\n").filter(Boolean)).toHaveLength(1);
    expect(stderr + p.output().stdout).not.toContain("unreachable-bot-token");
  }

  it("reports a closed port in one line, within 30 s, and exits 1", async () => {
    await expectReported(await closedPort(), /.*ECONNREFUSED/);
  }, 45_000);

  it("reports a server that accepts and never answers", async () => {
    const silent = await silentServer();
    try {
      await expectReported(silent.url, /no answer in time/);
    } finally {
      await silent.close();
    }
  }, 45_000);

  it("reports a Bot API that answers 5xx instead of waiting on it", async () => {
    const failing = await startBotApiServer({ token: "777:unreachable-bot-token" });
    failing.failNext("getMe", { error_code: 502, description: "Bad Gateway" }, 1000);
    try {
      await expectReported(failing.apiRoot, /it answered 502 Bad Gateway/);
    } finally {
      await failing.close();
    }
  }, 45_000);
});

