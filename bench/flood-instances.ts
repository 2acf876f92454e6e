/**
 * The flood with several instances: two (or more) bot processes in webhook mode share the machine's Redis (a key
 * prefix of their own, so nothing else there is touched), behind a round-robin HTTP proxy that the test Bot API
 * server delivers every update to, one request to one instance then the next. 50 private and 10 group chats stream
 * 300-token answers at once, as in the one-process flood: Telegram's limits must hold for the bot as a whole
 * (0 × 429) and every answer must end complete.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@keyv/redis";
import { startBotApiServer, type BotApiServer } from "../test/servers/bot-api.js";
import { botEnv } from "./bot-env.js";
import { startOpenAIServer } from "../test/servers/openai.js";
import { startCommand } from "./startup.js";
import { chatOf, plainTail, sendFloodQuestions, sleep, stats } from "./flood-common.js";
import { freePort } from "../test/helpers/free-port.js";
import { startRoundRobinProxy } from "../test/helpers/round-robin-proxy.js";

const RTT_MS = Number(process.env.BENCH_RTT_MS ?? 20);
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A Redis to share, or undefined (the section then says why it did not run). */
async function redisReachable(): Promise<boolean> {
  const client = createClient({ url: REDIS_URL, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/** Everything the run wrote under its prefix goes, so repeated benches never fill the shared Redis. */
async function dropPrefix(prefix: string): Promise<void> {
  const client = createClient({ url: REDIS_URL });
  client.on("error", () => {});
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys);
  } finally {
    client.destroy();
  }
}

export async function floodInstances(instances = 2): Promise<string[]> {
  const title = `Flood control with ${instances} instances (webhooks round-robin, one Redis): 50 private + 10 group chats at once`;
  if (!(await redisReachable())) return [title, `  not run: no Redis at ${REDIS_URL} (set REDIS_URL)`];
  // Telegram waits far longer than the test server's 10 s for a webhook's answer before delivering again; a shorter
  // wait would have the other instance answer the same update a second time (de-duplication is the update queue's).
  const telegram: BotApiServer = await startBotApiServer({ latencyMs: RTT_MS, webhookDelivery: { timeoutMs: 60_000 } });
  const openai = await startOpenAIServer();
  const dir = await mkdtemp(join(tmpdir(), "bench-instances-"));
  const prefix = `bench-flood-${process.pid}-${randomUUID().slice(0, 8)}`;
  const ports = await Promise.all(Array.from({ length: instances }, () => freePort()));
  const proxy = await startRoundRobinProxy(ports);
  const children: ChildProcess[] = [];
  try {
    for (const port of ports) {
      const child = spawn(process.execPath, startCommand().args, {
        cwd: dir,
        env: botEnv({ telegram, openai }, dir, {
          STORE_URL: `${REDIS_URL}${REDIS_URL.includes("?") ? "&" : "?"}prefix=${prefix}`,
          BOT_MODE: "webhook",
          WEBHOOK_URL: `${proxy.url}/telegram`,
          WEBHOOK_SECRET: "bench-secret",
          PORT: String(port),
        }),
        stdio: ["ignore", "ignore", "inherit"],
      });
      children.push(child);
    }
    // Generous: on a busy machine two processes loading at once take a while.
    const deadline = Date.now() + 90_000;
    while (telegram.calls.filter((c) => c.method === "setWebhook" && c.status === 200).length < instances) {
      if (Date.now() > deadline) throw new Error("the instances did not start");
      await sleep(50);
    }
    await sleep(300);

    const privates = Array.from({ length: 50 }, (_, i) => 30_000 + i);
    const groups = Array.from({ length: 10 }, (_, i) => -30_000 - i);
    const texts = new Map<number, string>();
    openai.setDefault((body) => ({ text: texts.get(chatOf(body)) ?? "ok", chunkSize: 6, delayMs: 40 }));
    const start = Date.now();
    sendFloodQuestions(telegram, privates, groups, texts);
    const all = [...privates, ...groups];
    const complete = (id: number) => telegram.botMessages(id).some((m) => plainTail(m.text ?? "") === plainTail(texts.get(id)!));
    const doneAt = new Map<number, number>();
    while (doneAt.size < all.length && Date.now() - start < 120_000) {
      for (const id of all) if (!doneAt.has(id) && complete(id)) doneAt.set(id, Date.now() - start);
      await sleep(50);
    }
    const missing = all.filter((id) => !doneAt.has(id));
    const perSecond = new Map<number, number>();
    for (const c of telegram.calls) {
      if (c.at < start || !["sendMessage", "editMessageText", "sendMessageDraft"].includes(c.method)) continue;
      const s = Math.floor((c.at - start) / 1000);
      perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    }
    // Answers are complete when exactly one bot message ends like the answer (none answered twice).
    const twice = all.filter((id) => telegram.botMessages(id).filter((m) => plainTail(m.text ?? "") === plainTail(texts.get(id)!)).length > 1);
    const finish = stats([...doneAt.values()]);
    const tooMany = telegram.stats.tooManyRequests;
    // Where 429s fell (method and chat), so a miss says which window it was.
    const refused = telegram.calls.filter((c) => c.status === 429).map((c) => `${c.method}@${String(c.params.chat_id ?? c.params.inline_message_id)}`);
    return [
      title,
      `  429 answers from the Bot API: ${tooMany}  [target 0: ${tooMany === 0 ? "ok" : "MISSED"}]${refused.length ? ` (${refused.join(", ")})` : ""}`,
      `  complete answers: ${doneAt.size}/${all.length}${missing.length ? ` (missing: ${missing.join(",")})` : ""}` +
        `${twice.length ? `; answered twice: ${twice.join(",")}` : ""}  [target all: ${missing.length === 0 && twice.length === 0 ? "ok" : "MISSED"}]; ` +
        `time to complete: median ${(finish.median / 1000).toFixed(1)} s, max ${(finish.max / 1000).toFixed(1)} s`,
      `  deliveries per instance: ${proxy.forwarded.join(" / ")} (${all.length} updates; ${proxy.failed()} failed at the proxy); busiest second: ${Math.max(...perSecond.values())} sends/edits/drafts (Telegram allows ~30)`,
    ];
  } finally {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((r) => {
            if (child.exitCode !== null) return r();
            child.on("exit", () => r());
            child.kill("SIGTERM");
          }),
      ),
    );
    await proxy.close();
    await telegram.close();
    await openai.close();
    await rm(dir, { recursive: true, force: true });
    await dropPrefix(prefix).catch(() => undefined);
  }
}
