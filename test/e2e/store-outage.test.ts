/**
 * Redis, the store and the update queue, stopped for 10 s while the bot runs (a redis-server of the test's own, on
 * a port of its own, with its append-only file): nothing crashes, questions asked meanwhile wait, and every question
 * is answered exactly once when Redis is back.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newPrivateChat, startHarness, type Harness } from "../helpers/harness.js";
import { freePort } from "../helpers/free-port.js";

const REDIS_URL = process.env.REDIS_URL;


/** redis-server on `port`, its data in `dir` (appendonly, fsync always: a stop loses nothing). */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!out.includes("Ready to accept connections")) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The machine's Redis is not touched; REDIS_URL says a Redis is expected on this machine (redis-server installed).
describe.skipIf(!REDIS_URL)("when Redis (REDIS_URL) goes away for 10 s", () => {
  let redis: ChildProcess;
  let port: number;
  let dir: string;
  let h: Harness;
  let ops: string;
  beforeAll(async () => {
    port = await freePort();
    dir = await mkdtemp(join(tmpdir(), "tg-ai-redis-"));
    redis = await startRedis(port, dir);
    const metricsPort = await freePort();
    ops = `http://127.0.0.1:${metricsPort}`;
    h = await startHarness({ env: { STORE_URL: `redis://127.0.0.1:${port}`, METRICS_PORT: String(metricsPort) }, pollBackoff: { minMs: 200, maxMs: 1000 } });
  });
  afterAll(async () => {
    await h.close();
    await stopRedis(redis);
    await rm(dir, { recursive: true, force: true });
  });

  it("does not crash, lets the questions wait, and answers each exactly once when it is back", async () => {
    const first = newPrivateChat(h);
    const second = newPrivateChat(h);
    const third = newPrivateChat(h);
    const texts = (chatId: number) => h.telegram.botMessages(chatId).map((m) => m.text);
    h.telegram.userSends({ chat: first.chat.id, from: first.user, text: "before" });
    await until(() => texts(first.chat.id).length === 1, 15_000, "the answer before the outage");
    expect((await fetch(`${ops}/healthz`)).status).toBe(200);

    await stopRedis(redis);
    const logsBefore = h.logs.length;
    h.telegram.userSends({ chat: second.chat.id, from: second.user, text: "during, one" });
    h.telegram.userSends({ chat: third.chat.id, from: third.user, text: "during, two" });
    await until(() => h.logs.slice(logsBefore).some((l) => l.includes("cannot store updates")), 15_000, "the failed store");
    await new Promise((r) => setTimeout(r, 8000));
    expect(texts(second.chat.id)).toEqual([]);
    // Not ready while the store is away (a load balancer stops sending updates here).
    expect((await fetch(`${ops}/healthz`)).status).toBe(503);

    redis = await startRedis(port, dir);
    await until(() => texts(second.chat.id).length >= 1 && texts(third.chat.id).length >= 1, 30_000, "the answers after the outage");
    await new Promise((r) => setTimeout(r, 1500));
    expect(texts(first.chat.id)).toEqual(["You said: before"]);
    expect(texts(second.chat.id)).toEqual(["You said: during, one"]);
    expect(texts(third.chat.id)).toEqual(["You said: during, two"]);
    expect(h.logs.join("")).toContain("updates are stored again");
    expect((await fetch(`${ops}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${ops}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(metrics)?.[1]);
    expect(value("bot_updates_received_total")).toBe(3);
    expect(value('bot_updates_handled_total{outcome="done"}')).toBe(3);
    expect(value("bot_queue_depth")).toBe(0);
    expect(value('bot_telegram_messages_total{method="sendMessage"}')).toBeGreaterThanOrEqual(3);
    expect(metrics).toMatch(/^bot_model_response_seconds_count\{endpoint="chat\/completions"\} [1-9]/m);
    expect(metrics).toMatch(/^bot_model_tokens_total\{model="[^"]+",kind="completion"\} [1-9]/m);
  }, 90_000);
});
