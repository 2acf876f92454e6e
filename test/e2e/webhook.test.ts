import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { botText, newPrivateChat, startHarness, type Harness } from "../helpers/harness.js";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

let h: Harness;
let port: number;
beforeAll(async () => {
  port = await freePort();
  h = await startHarness({
    // Telegram posts to the public HTTPS URL; a reverse proxy forwards to PORT.
    env: { BOT_MODE: "webhook", WEBHOOK_URL: "https://bot.example.test/telegram", WEBHOOK_SECRET: "s3cret-token", PORT: String(port) },
  });
});
afterAll(() => h.close());

describe("webhook mode", () => {
  it("registers the webhook with its secret and answers updates Telegram posts", async () => {
    expect(h.telegram.calls.find((c) => c.method === "setWebhook")?.params).toMatchObject({
      url: "https://bot.example.test/telegram",
      secret_token: "s3cret-token",
    });
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue({ text: "answered through the webhook" });
    const message = { message_id: 1, date: Math.floor(Date.now() / 1000), chat, from: user, text: "hi" };
    const post = (secret: string) =>
      fetch(`http://127.0.0.1:${port}/telegram`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": secret },
        body: JSON.stringify({ update_id: 1, message }),
      });
    // Without the secret, nobody else can feed the bot updates.
    expect((await post("wrong")).status).toBe(401);
    const target = h.app.handled + 1;
    expect((await post("s3cret-token")).status).toBe(200);
    await h.app.whenHandled(target);
    expect(botText(h, chat.id)).toBe("answered through the webhook");
  });
});
