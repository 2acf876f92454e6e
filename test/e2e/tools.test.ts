import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { botText, chatCalls, newGroup, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";
import { startOpenMeteoServer, syntheticWeather, GAZETTEER, type OpenMeteoServer } from "../servers/open-meteo.js";
import { echoScript, type ChatRequestBody } from "../servers/openai.js";
import { createWeatherClient } from "../../src/ai/tools/weather.js";

let h: Harness;
let meteo: OpenMeteoServer;
beforeAll(async () => {
  meteo = await startOpenMeteoServer();
  h = await startHarness({ env: { WEATHER_API_URL: meteo.weatherApiUrl, GEOCODING_API_URL: meteo.geocodingApiUrl } });
});
afterAll(async () => {
  await h.close();
  await meteo.close();
});

const place = (en: string) => GAZETTEER.find((g) => g.names.en === en)!;
const weatherAt = (en: string) => syntheticWeather(place(en).latitude, place(en).longitude);
const call = (id: string, args: string) => ({ id, name: "get_current_weather", arguments: args });

/** The tool messages the bot sent back to the model in one request, parsed. */
function toolResults(body: ChatRequestBody): Array<{ id: string; content: Record<string, unknown> }> {
  return body.messages
    .filter((m) => m.role === "tool")
    .map((m) => ({ id: m.tool_call_id!, content: JSON.parse(String(m.content)) as Record<string, unknown> }));
}

/** Requests made for this exchange only. */
function requestsSince(from: number): ChatRequestBody[] {
  return h.openai.chatRequests().slice(from);
}

describe("/weather", () => {
  it("calls the tool (required), shows a status while it runs, and sends the forecast back to the model", async () => {
    const { user, chat } = newPrivateChat(h);
    const from = h.openai.chatRequests().length;
    const callsFrom = h.telegram.calls.length;
    const tokyo = weatherAt("Tokyo");
    // The follow-up waits a moment, as a real model does, so the status line is on screen before the answer.
    h.openai.enqueue({ toolCalls: [call("call_tokyo", '{"location":"Tokyo"}')] }, { text: "Tokyo: mild and calm.", firstDelayMs: 400 });
    await say(h, { chat: chat.id, from: user, text: "/weather Tokyo" });

    const [first, second, ...rest] = requestsSince(from);
    expect(rest).toHaveLength(0);
    expect(first!.tool_choice).toBe("required");
    expect(JSON.stringify(first!.tools)).toContain("get_current_weather");
    expect(first!.messages.at(-1)!.content).toBe("What's the weather in Tokyo right now?");
    const [result] = toolResults(second!);
    expect(result!.id).toBe("call_tokyo");
    expect(result!.content).toMatchObject({
      location: "Tokyo, Japan",
      temperature: tokyo.temperature,
      feelsLike: tokyo.apparent,
      humidity: tokyo.humidity,
      high: tokyo.max,
      low: tokyo.min,
      unit: "celsius",
    });
    expect(meteo.requests.some((r) => r.service === "geocoding" && r.query.name === "Tokyo")).toBe(true);

    const drafts = chatCalls(h, chat.id, callsFrom).filter((c) => c.method === "sendMessageDraft");
    expect(drafts.some((c) => String(c.params.text).includes("Checking the weather in Tokyo…"))).toBe(true);
    const messages = h.telegram.botMessages(chat.id);
    expect(messages.map((m) => m.text)).toEqual(["Tokyo: mild and calm."]);
  });

  it("explains itself without a place", async () => {
    const { user, chat } = newPrivateChat(h);
    const from = h.openai.chatRequests().length;
    await say(h, { chat: chat.id, from: user, text: "/weather" });
    expect(botText(h, chat.id)).toMatch(/^Usage: \/weather city/);
    expect(requestsSince(from)).toHaveLength(0);
  });

  it("works with city names in Chinese, in Chinese", async () => {
    const { user, chat } = newPrivateChat(h, { language_code: "zh-hans" });
    const callsFrom = h.telegram.calls.length;
    const from = h.openai.chatRequests().length;
    h.openai.enqueue({ toolCalls: [call("c1", '{"location":"東京"}')] }, { text: "东京天气不错。", firstDelayMs: 300 });
    await say(h, { chat: chat.id, from: user, text: "/weather 東京" });
    const [first, second] = requestsSince(from);
    expect(first!.messages.at(-1)!.content).toBe("東京现在的天气怎么样？");
    expect(toolResults(second!)[0]!.content).toMatchObject({ location: "东京, 日本", temperature: weatherAt("Tokyo").temperature });
    const drafts = chatCalls(h, chat.id, callsFrom).filter((c) => c.method === "sendMessageDraft");
    expect(drafts.some((c) => String(c.params.text).includes("正在查询東京的天气…"))).toBe(true);

    // A plain question in Chinese may use the tool too (tool_choice auto).
    h.openai.enqueue({ toolCalls: [call("c2", '{"location":"北京"}')] }, { text: "北京晴。" });
    await say(h, { chat: chat.id, from: user, text: "北京天气怎么样？" });
    const [third, fourth] = requestsSince(from + 2);
    expect(third!.tool_choice).toBe("auto");
    expect(toolResults(fourth!)[0]!.content).toMatchObject({ location: "北京, 中国", temperature: weatherAt("Beijing").temperature });
    expect(h.telegram.botMessages(chat.id).map((m) => m.text)).toEqual(["东京天气不错。", "北京晴。"]);
  });

  it("shows the status in the chat's chosen language, not the member's", async () => {
    const { user, chat } = newGroup(h, {}, { language_code: "en" });
    await h.app.deps.settings.update(chat.id, { language: "zh" });
    const callsFrom = h.telegram.calls.length;
    const meteoFrom = meteo.requests.length;
    h.openai.enqueue({ toolCalls: [call("c_zh", '{"location":"Tokyo"}')] }, { text: "东京：晴。", firstDelayMs: 400 });
    await say(h, { chat: chat.id, from: user, text: "/weather Tokyo" });
    const shown = chatCalls(h, chat.id, callsFrom).map((c) => String(c.params.text));
    expect(shown.some((t) => t.includes("正在查询Tokyo的天气…"))).toBe(true);
    expect(shown.some((t) => t.includes("Checking the weather"))).toBe(false);
    expect(meteo.requests.slice(meteoFrom).find((r) => r.service === "geocoding")?.query.language).toBe("zh");
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("东京：晴。");
  });
});

describe("weather in a plain question", () => {
  it("runs three calls in one answer and sends all three results back in one follow-up", async () => {
    const { user, chat } = newPrivateChat(h);
    const from = h.openai.chatRequests().length;
    const callsFrom = h.telegram.calls.length;
    h.openai.enqueue(
      {
        toolCalls: [
          call("call_sf", '{"location": "San Francisco", "unit": "fahrenheit"}'),
          call("call_tokyo", '{"location": "Tokyo", "unit": "celsius"}'),
          call("call_paris", '{"location": "Paris", "unit": "celsius"}'),
        ],
        chunkSize: 7,
      },
      { text: "San Francisco is cool, Tokyo mild, Paris grey.", firstDelayMs: 300 },
    );
    await say(h, { chat: chat.id, from: user, text: "What's the weather like in San Francisco, Tokyo, and Paris?" });

    const requests = requestsSince(from);
    expect(requests).toHaveLength(2);
    expect(requests[0]!.tool_choice).toBe("auto");
    const results = toolResults(requests[1]!);
    expect(results.map((r) => r.id)).toEqual(["call_sf", "call_tokyo", "call_paris"]);
    const fahrenheit = (c: number) => Math.round(((c * 9) / 5 + 32) * 10) / 10;
    expect(results[0]!.content).toMatchObject({ location: "San Francisco, California, United States", unit: "fahrenheit", temperature: fahrenheit(weatherAt("San Francisco").temperature) });
    expect(results[1]!.content).toMatchObject({ location: "Tokyo, Japan", temperature: weatherAt("Tokyo").temperature });
    expect(results[2]!.content).toMatchObject({ location: "Paris, Île-de-France, France", temperature: weatherAt("Paris").temperature });
    // The assistant message with all three calls precedes their results.
    const assistant = requests[1]!.messages.find((m) => m.role === "assistant" && Array.isArray(m.tool_calls));
    expect((assistant!.tool_calls as unknown[]).length).toBe(3);

    const drafts = chatCalls(h, chat.id, callsFrom).filter((c) => c.method === "sendMessageDraft").map((c) => String(c.params.text));
    expect(drafts.some((t) => t.includes("San Francisco…") && t.includes("Tokyo…") && t.includes("Paris…"))).toBe(true);
    expect(botText(h, chat.id)).toBe("San Francisco is cool, Tokyo mild, Paris grey.");
  });

  it("starts a new paragraph when the answer continues after text the model wrote before its tool call", async () => {
    const { user, chat } = newPrivateChat(h);
    const from = h.openai.chatRequests().length;
    h.openai.enqueue(
      { text: "Let me check.", toolCalls: [call("c_pre", '{"location":"Tokyo"}')] },
      { text: "Tokyo is mild today." },
    );
    await say(h, { chat: chat.id, from: user, text: "Weather in Tokyo?" });
    // The model's own message keeps exactly what it wrote; the user reads two paragraphs, not one run-on line.
    const assistant = requestsSince(from)[1]!.messages.find((m) => m.role === "assistant" && Array.isArray(m.tool_calls));
    expect(assistant!.content).toBe("Let me check.");
    expect(botText(h, chat.id)).toBe("Let me check.\n\nTokyo is mild today.");
  });

  it("tells the model when a place does not exist", async () => {
    const { user, chat } = newPrivateChat(h);
    const from = h.openai.chatRequests().length;
    h.openai.enqueue({ toolCalls: [call("c1", '{"location":"Atlantis"}')] }, { text: "I couldn't find Atlantis." });
    await say(h, { chat: chat.id, from: user, text: "/weather Atlantis" });
    const content = toolResults(requestsSince(from)[1]!)[0]!.content;
    expect(content.notFound).toBe("Atlantis");
    expect(String(content.message)).toMatch(/No place called "Atlantis" was found/);
    expect(botText(h, chat.id)).toBe("I couldn't find Atlantis.");
  });

  it("turns broken JSON arguments into a tool error the model sees, and keeps working", async () => {
    const { user, chat } = newPrivateChat(h);
    const from = h.openai.chatRequests().length;
    h.openai.enqueue({ toolCalls: [call("c1", '{"location": "Tok')] }, { text: "Sorry, let me try again later." });
    await say(h, { chat: chat.id, from: user, text: "/weather Tokyo" });
    const content = toolResults(requestsSince(from)[1]!)[0]!.content;
    expect(content.error).toMatch(/not valid JSON/);
    expect(botText(h, chat.id)).toBe("Sorry, let me try again later.");
    // Still alive: the next question is answered normally.
    await say(h, { chat: chat.id, from: user, text: "hello" });
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("You said: hello");
  });

  it("bounds a model that keeps calling tools: the last round forbids tools and the answer arrives", async () => {
    const { user, chat } = newPrivateChat(h);
    const from = h.openai.chatRequests().length;
    let rounds = 0;
    // A model that calls the tool again after every result, for as long as it is allowed to.
    h.openai.setDefault((body) =>
      body.tool_choice === "none" ? { text: "Here is what I found." } : { toolCalls: [call(`loop_${rounds++}`, '{"location":"Paris"}')] },
    );
    try {
      await say(h, { chat: chat.id, from: user, text: "weather in Paris, again and again" });
    } finally {
      h.openai.setDefault(echoScript);
    }
    const requests = requestsSince(from);
    expect(requests.length).toBe(5);
    expect(requests.at(-1)!.tool_choice).toBe("none");
    expect(toolResults(requests.at(-1)!)).toHaveLength(4);
    expect(botText(h, chat.id)).toBe("Here is what I found.");
  });

  it("gives the user a note when the model still calls tools when told not to", async () => {
    const { user, chat } = newPrivateChat(h);
    const from = h.openai.chatRequests().length;
    h.openai.enqueue(...Array.from({ length: 5 }, (_, i) => ({ toolCalls: [call(`x${i}`, '{"location":"Paris"}')] })));
    await say(h, { chat: chat.id, from: user, text: "weather in Paris forever" });
    expect(requestsSince(from)).toHaveLength(5);
    expect(h.openai.pending()).toBe(0);
    expect(botText(h, chat.id)).toBe("The AI service could not handle this request.");
  });
});

describe("Open-Meteo trouble", () => {
  it("reports a slow service and a failing one to the model instead of hanging or crashing", async () => {
    const { user, chat } = newPrivateChat(h);
    const from = h.openai.chatRequests().length;
    const real = h.app.deps.weather;
    // The production timeout is 8 s; the same client with a short one keeps this test quick.
    h.app.deps.weather = createWeatherClient({ weatherApiUrl: meteo.weatherApiUrl, geocodingApiUrl: meteo.geocodingApiUrl, timeoutMs: 300 });
    try {
      meteo.mode = "slow";
      h.openai.enqueue({ toolCalls: [call("slow", '{"location":"Tokyo"}')] }, { text: "The weather service is slow." });
      await say(h, { chat: chat.id, from: user, text: "/weather Tokyo" });
      meteo.mode = "error";
      h.openai.enqueue({ toolCalls: [call("err", '{"location":"Tokyo"}')] }, { text: "The weather service is down." });
      await say(h, { chat: chat.id, from: user, text: "/weather Tokyo" });
    } finally {
      meteo.mode = "up";
      h.app.deps.weather = real;
    }
    const requests = requestsSince(from);
    expect(toolResults(requests[1]!)[0]!.content.error).toMatch(/did not answer within 0\.3 s/);
    expect(toolResults(requests[3]!)[0]!.content.error).toMatch(/answered HTTP 500/);
    expect(h.telegram.botMessages(chat.id).map((m) => m.text)).toEqual(["The weather service is slow.", "The weather service is down."]);
  });
});
