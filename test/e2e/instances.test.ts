/**
 * Several instances: two bot processes in webhook mode behind a round-robin proxy, sharing the machine's Redis. Every
 * update is answered once, each chat's answers come in order, and when one instance is killed mid-answer the other
 * takes its chats over (within 30 s), finishing what it left.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBotApiServer, type BotApiServer } from "../servers/bot-api.js";
import { echoScript, startOpenAIServer, type OpenAIServer } from "../servers/openai.js";
import { startBotProcess, type BotProcess } from "../helpers/bot-process.js";
import { startRoundRobinProxy, type RoundRobinProxy } from "../helpers/round-robin-proxy.js";
import { PARTITIONS } from "../../src/storage/queue/redis.js";
import { partitionOf } from "../../src/storage/queue/update-queue.js";
import { freePort } from "../helpers/free-port.js";

const REDIS_URL = process.env.REDIS_URL;


async function until(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The partitions an instance said it holds last. */
function partitionsHeld(p: BotProcess): number[] | undefined {
  const lines = p.stdout().split("\n").filter((l) => l.includes("update queue partitions held"));
  const last = lines.at(-1);
  return last ? (JSON.parse(last) as { partitions: number[] }).partitions : undefined;
}

describe.skipIf(!REDIS_URL)("two instances on Redis (REDIS_URL) behind a round-robin proxy", () => {
  let telegram: BotApiServer;
  let openai: OpenAIServer;
  let proxy: RoundRobinProxy;
  let cwd: string;
  const instances: BotProcess[] = [];
  const ports: number[] = [];
  beforeAll(async () => {
    telegram = await startBotApiServer();
    openai = await startOpenAIServer();
    openai.setDefault((body) => ({ ...echoScript(body), chunkSize: 4, delayMs: 25 }));
    cwd = await mkdtemp(join(tmpdir(), "tg-ai-instances-"));
    ports.push(await freePort(), await freePort());
    proxy = await startRoundRobinProxy(ports);
  });
  afterAll(async () => {
    for (const p of instances) await p.kill9();
    await proxy.close();
    await telegram.close();
    await openai.close();
    await rm(cwd, { recursive: true, force: true });
  });

  it("answers every update once, in order per chat, on both; takes over a killed instance's chats", async () => {
    for (const port of ports) {
      const p = startBotProcess(
        {
          TELEGRAM_BOT_TOKEN: telegram.token,
          TELEGRAM_API_ROOT: telegram.apiRoot,
          OPENAI_API_KEY: openai.apiKey,
          OPENAI_BASE_URL: openai.baseURL,
          STORE_URL: REDIS_URL!,
          BOT_MODE: "webhook",
          WEBHOOK_URL: `${proxy.url}/telegram`,
          WEBHOOK_SECRET: "instances-secret",
          PORT: String(port),
        },
        cwd,
      );
      instances.push(p);
      await p.waitForLog("bot started");
    }
    const [a, b] = instances as [BotProcess, BotProcess];
    // Both have announced themselves and split the 16 partitions.
    await until(() => partitionsHeld(a)?.length === 8 && partitionsHeld(b)?.length === 8, 20_000, () => `a split (${JSON.stringify(partitionsHeld(a))} / ${JSON.stringify(partitionsHeld(b))})`);
    expect((await fetch(`${proxy.url}/healthz`)).status).toBe(200);

    // Four chats in a's partitions and four in b's.
    const partitionOfChat = (id: number) => partitionOf(`chat:${id}`, PARTITIONS);
    const onB = new Set(partitionsHeld(b));
    const chats: { id: number; first_name: string; language_code: string }[] = [];
    for (let id = 900_000 + Math.floor(Math.random() * 1e8); chats.length < 8; id++) {
      const wanted = chats.filter((c) => onB.has(partitionOfChat(c.id))).length < 4 ? onB.has(partitionOfChat(id)) : !onB.has(partitionOfChat(id));
      if (!wanted) continue;
      const user = { id, first_name: `U${chats.length}`, language_code: "en" };
      telegram.addUser(user);
      telegram.addChat({ id: user.id, type: "private", first_name: user.first_name });
      chats.push(user);
    }
    const bChats = new Set(chats.filter((c) => onB.has(partitionOfChat(c.id))).map((c) => c.id));
    const asked = new Map<number, string[]>(chats.map((c) => [c.id, []]));
    const ask = (round: number) => {
      for (const c of chats) {
        const text = `question ${round} of ${c.first_name}`;
        asked.get(c.id)!.push(`You said: ${text}`);
        telegram.userSends({ chat: c.id, from: c, text });
      }
    };
    const answered = () => chats.every((c) => telegram.botMessages(c.id).length >= asked.get(c.id)!.length);
    const missing = () => chats.map((c) => `${c.id}: ${telegram.botMessages(c.id).length}/${asked.get(c.id)!.length}`).join(", ");
    for (let round = 1; round <= 3; round++) ask(round);
    await until(answered, 30_000, () => `the answers (${missing()})`);

    // Both instances handled updates, and both received some from the proxy.
    const handledBy = async (port: number) => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(/^bot_updates_handled_total\{outcome="done"\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    expect(await handledBy(ports[0]!)).toBeGreaterThan(0);
    expect(await handledBy(ports[1]!)).toBeGreaterThan(0);
    expect(proxy.forwarded.every((n) => n > 0)).toBe(true);

    // A slow round; b is killed while its answers stream.
    openai.setDefault((body) => ({ ...echoScript(body), chunkSize: 2, delayMs: 150 }));
    ask(4);
    await telegram.waitFor(
      (c) => c.method === "sendMessageDraft" && bChats.has(Number(c.params.chat_id)) && typeof c.params.text === "string" && c.params.text.includes("question 4"),
      15_000,
    );
    await b.kill9();
    const killedAt = Date.now();
    expect(chats.filter((c) => bChats.has(c.id)).some((c) => telegram.botMessages(c.id).length < 4)).toBe(true);
    await until(answered, 40_000, () => `the answers after the kill (${missing()})`);
    expect(Date.now() - killedAt).toBeLessThan(30_000);
    expect(partitionsHeld(a)).toHaveLength(16);
    await new Promise((r) => setTimeout(r, 1000));
    for (const c of chats) expect(telegram.botMessages(c.id).map((m) => m.text)).toEqual(asked.get(c.id));
  }, 180_000);
});
