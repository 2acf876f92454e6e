import { describe, expect, it } from "vitest";
import { startBotApiServer } from "../../test/servers/bot-api.js";
import { reachBotApi } from "./bot-api-reach.js";
import { StartupError } from "./startup-error.js";

async function failure(promise: Promise<unknown>): Promise<StartupError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StartupError);
  return err as StartupError;
}

describe("reaching the Bot API at start-up", () => {
  it("returns the bot's user at once when the Bot API answers", async () => {
    const telegram = await startBotApiServer();
    try {
      expect(await reachBotApi(telegram.token, telegram.apiRoot)).toMatchObject({ id: telegram.botUser.id, username: "test_ai_bot" });
    } finally {
      await telegram.close();
    }
  });

  it("rides out a few 5xx answers", async () => {
    const telegram = await startBotApiServer();
    telegram.failNext("getMe", { error_code: 502, description: "Bad Gateway" }, 2);
    try {
      expect(await reachBotApi(telegram.token, telegram.apiRoot, { deadlineMs: 5000 })).toMatchObject({ id: telegram.botUser.id });
    } finally {
      await telegram.close();
    }
  });

  it("names the 5xx it kept getting, even when the deadline cuts the last attempt short", async () => {
    // Slow answers: the deadline falls in the middle of an attempt.
    const telegram = await startBotApiServer({ latencyMs: 400 });
    telegram.failNext("getMe", { error_code: 503, description: "Service Unavailable" }, 100);
    try {
      const err = await failure(reachBotApi(telegram.token, telegram.apiRoot, { deadlineMs: 1500, attemptTimeoutMs: 1000 }));
      expect(err.message).toBe(`cannot reach the Telegram Bot API at ${telegram.apiRoot}: it answered 503 Service Unavailable (tried for 2 s)`);
    } finally {
      await telegram.close();
    }
  });

  it("stops at once on a rejected token, and never names the token", async () => {
    const telegram = await startBotApiServer();
    try {
      const started = Date.now();
      const err = await failure(reachBotApi("999:not-the-token", telegram.apiRoot, { deadlineMs: 5000 }));
      expect(Date.now() - started).toBeLessThan(2000);
      expect(err.message).toBe("TELEGRAM_BOT_TOKEN was rejected by Telegram (401 Unauthorized): check the token");
    } finally {
      await telegram.close();
    }
  });
});
