// Webhook delivery by the test Bot API server: every update POSTed to a local listener with the secret header, in
// order per chat, retried with back-off until a 2xx, limited by max_connections and allowed_updates, and reported by
// getWebhookInfo.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Api } from "grammy";
import type { BotApiServer } from "./bot-api.js";
import { alice, bob, failure, GROUP, startTestBed } from "./bot-api-testing.js";

interface Received {
  body: { update_id: number; message?: { text?: string; chat: { id: number } }; callback_query?: unknown };
  secret: string | undefined;
  at: number;
}

/** A local webhook listener: `respond` decides each answer (status, delay, body). */
async function listen(respond: (r: Received, n: number) => { status?: number; delayMs?: number; body?: unknown }) {
  const received: Received[] = [];
  let active = 0;
  let maxActive = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: Received = { body: JSON.parse(Buffer.concat(chunks).toString()) as Received["body"], secret: req.headers["x-telegram-bot-api-secret-token"] as string | undefined, at: Date.now() };
      received.push(r);
      active++;
      maxActive = Math.max(maxActive, active);
      const answer = respond(r, received.length);
      setTimeout(() => {
        active--;
        res.writeHead(answer.status ?? 200, { "content-type": "application/json" });
        res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    maxActive: () => maxActive,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

// Generous: on 2 cores shared with the process-heavy e2e files (real bot processes) a worker can stall for seconds.
async function until(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

let server: BotApiServer;
let api: Api;
const closers: Array<() => Promise<void>> = [];

beforeEach(async () => {
  ({ server, api } = await startTestBed({ webhookDelivery: { retryMinMs: 50, retryMaxMs: 200, timeoutMs: 300 } }));
});
afterEach(async () => {
  await server.close();
  for (const close of closers.splice(0)) await close();
});

describe("setWebhook", () => {
  it("requires HTTPS on Telegram's ports unless allowHttpWebhooks, and answers 409 to getUpdates while set", async () => {
    server.allowHttpWebhooks = false;
    expect((await failure(api.setWebhook("http://127.0.0.1:9/hook"))).description).toBe("Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
    expect((await failure(api.setWebhook("https://example.com:9000/hook"))).description).toBe(
      "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
    );
    await api.setWebhook("https://example.com:8443/hook");
    server.allowHttpWebhooks = true;
    await api.setWebhook("http://127.0.0.1:9/hook");
    expect((await failure(api.getUpdates())).error_code).toBe(409);
    await api.deleteWebhook();
    expect(await api.getUpdates({ timeout: 0 })).toEqual([]);
  });

  it("never connects to a host other than loopback, and says so in getWebhookInfo", async () => {
    await api.setWebhook("https://bot.example.test/telegram");
    server.userSends({ chat: alice.id, from: alice, text: "hi" });
    let later = await api.getWebhookInfo();
    while (later.last_error_message === undefined) later = await api.getWebhookInfo();
    expect(later).toMatchObject({ url: "https://bot.example.test/telegram", pending_update_count: 1 });
    expect(later.last_error_message).toMatch(/loopback addresses only/);
  });
});

describe("delivery", () => {
  it("POSTs each update as JSON with the secret header and confirms it on 2xx", async () => {
    const hook = await listen(() => ({ status: 200 }));
    closers.push(hook.close);
    await api.setWebhook(hook.url, { secret_token: "s3cret_token-1" });
    server.userSends({ chat: alice.id, from: alice, text: "one" });
    server.userSends({ chat: alice.id, from: alice, text: "two" });
    await until(() => hook.received.length === 2 && server.pendingUpdates().length === 0);
    expect(hook.received.map((r) => r.body.message?.text)).toEqual(["one", "two"]);
    expect(hook.received.every((r) => r.secret === "s3cret_token-1")).toBe(true);
    expect(await api.getWebhookInfo()).toMatchObject({ url: hook.url, pending_update_count: 0, max_connections: 40 });
  });

  it("keeps an update pending and retries it with back-off until a 2xx, holding that chat's later updates", async () => {
    const hook = await listen((r, n) => ({ status: r.body.message?.text === "first" && n <= 2 ? 500 : 200 }));
    closers.push(hook.close);
    await api.setWebhook(hook.url);
    server.userSends({ chat: alice.id, from: alice, text: "first" });
    server.userSends({ chat: alice.id, from: alice, text: "second" });
    await until(() => hook.received.length >= 1);
    await until(() => hook.received.length >= 2);
    const info = await api.getWebhookInfo();
    expect(info.last_error_message).toBe("Wrong response from the webhook: 500 Internal Server Error");
    expect(info.last_error_date).toEqual(expect.any(Number));
    await until(() => server.pendingUpdates().length === 0);
    const texts = hook.received.map((r) => r.body.message?.text);
    expect(texts).toEqual(["first", "first", "first", "second"]);
    // Doubling back-off from retryMinMs (50 ms): at least 50 ms before the first retry, 100 ms before the second.
    const [a, b, c] = hook.received.map((r) => r.at);
    expect(b! - a!).toBeGreaterThanOrEqual(45);
    expect(c! - b!).toBeGreaterThanOrEqual(95);
  });

  it("times out a slow webhook, runs other chats in parallel up to max_connections, and keeps order within a chat", async () => {
    const hook = await listen((r, n) => ({ delayMs: n === 1 ? 600 : 40 }));
    closers.push(hook.close);
    await api.setWebhook(hook.url, { max_connections: 2 });
    server.userSends({ chat: alice.id, from: alice, text: "slow" });
    server.userSends({ chat: GROUP, from: bob, text: "g1" });
    server.userSends({ chat: GROUP, from: bob, text: "g2" });
    server.userSends({ chat: bob.id, from: bob, text: "b1" });
    await until(() => server.pendingUpdates().length === 0, 15_000);
    expect(hook.maxActive()).toBeLessThanOrEqual(2);
    const texts = hook.received.map((r) => r.body.message?.text);
    expect(texts.indexOf("g1")).toBeLessThan(texts.indexOf("g2"));
    expect(texts.filter((t) => t === "slow").length).toBeGreaterThanOrEqual(2);
    expect((await api.getWebhookInfo()).last_error_message).toBe("Read timeout expired");
  });

  it("honours allowed_updates and runs a method given in the webhook's answer", async () => {
    const hook = await listen((r) => ({ body: r.body.message ? { method: "sendMessage", chat_id: r.body.message.chat.id, text: "reply in the answer" } : undefined }));
    closers.push(hook.close);
    await api.setWebhook(hook.url, { allowed_updates: ["callback_query"] });
    server.userSends({ chat: alice.id, from: alice, text: "dropped" });
    const panel = await api.sendMessage(alice.id, "p", { reply_markup: { inline_keyboard: [[{ text: "x", callback_data: "x" }]] } });
    server.userPresses({ chat: alice.id, from: alice, messageId: panel.message_id, data: "x" });
    await until(() => hook.received.length === 1 && server.pendingUpdates().length === 0);
    expect(hook.received[0]!.body.callback_query).toBeDefined();
    expect((await api.getWebhookInfo()).allowed_updates).toEqual(["callback_query"]);

    await api.setWebhook(hook.url, { allowed_updates: ["message"] });
    server.userSends({ chat: alice.id, from: alice, text: "answered by the webhook reply" });
    await until(() => server.botMessages(alice.id).some((m) => m.text === "reply in the answer"));
  });
});
