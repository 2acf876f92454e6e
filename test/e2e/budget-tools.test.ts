/** A tool loop's further model calls are held to the same budgets as its first. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenMeteoServer, type OpenMeteoServer } from "../servers/open-meteo.js";
import { botText, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";

let h: Harness;
let meteo: OpenMeteoServer;
beforeAll(async () => {
  meteo = await startOpenMeteoServer();
  h = await startHarness({
    env: {
      DAILY_TOKEN_LIMIT_PER_USER: "3000",
      MAX_ANSWER_TOKENS: "200",
      WEATHER_API_URL: meteo.weatherApiUrl,
      GEOCODING_API_URL: meteo.geocodingApiUrl,
    },
  });
});
afterAll(async () => {
  await h.close();
  await meteo.close();
});

describe("budgets in a tool loop", () => {
  it("stops before the next model call when the first one spent the budget, and says why", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueue(
      {
        toolCalls: [{ name: "get_current_weather", arguments: JSON.stringify({ location: "Tokyo" }) }],
        usage: { prompt_tokens: 2900, completion_tokens: 20 },
      },
      { text: "should never be asked for" },
    );
    const before = h.openai.chatRequests().length;
    await say(h, { chat: chat.id, from: user, text: "What's the weather in Tokyo?" });
    // The first call fitted the budget; its usage (2,920 tokens) leaves too little for a second one.
    expect(h.openai.chatRequests().length - before).toBe(1);
    const text = botText(h, chat.id);
    expect(text).not.toContain("should never be asked for");
    expect(text).toMatch(/daily token budget doesn't cover this question: 80 of 3,?000 tokens left today/);
    expect(h.openai.pending()).toBe(1);
  });
});
