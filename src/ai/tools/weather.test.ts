import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startOpenMeteoServer, syntheticWeather, type OpenMeteoServer } from "../../../test/servers/open-meteo.js";
import { runToolCall, toOpenAITools } from "./tool.js";
import { createWeatherClient, weatherTool, WeatherError, type WeatherReport } from "./weather.js";
import { describeWeatherCode } from "./wmo.js";
import { createI18n } from "../../bot/i18n.js";

let server: OpenMeteoServer;

beforeAll(async () => {
  server = await startOpenMeteoServer();
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.mode = "up";
  server.requests.length = 0;
});

function client(timeoutMs?: number) {
  return createWeatherClient({
    weatherApiUrl: server.weatherApiUrl,
    geocodingApiUrl: `${server.geocodingApiUrl}/`,
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

function asReport(r: WeatherReport | { notFound: string }): WeatherReport {
  if ("notFound" in r) throw new Error(`expected a report, got notFound ${r.notFound}`);
  return r;
}

describe("createWeatherClient against the local Open-Meteo", () => {
  it("reports Tokyo in celsius with conditions in words", async () => {
    const report = asReport(await client().current("Tokyo", "celsius", {}));
    const expected = syntheticWeather(35.6895, 139.69171);
    expect(report).toMatchObject({
      location: "Tokyo, Japan",
      latitude: 35.6895,
      longitude: 139.69171,
      timezone: "Asia/Tokyo",
      temperature: expected.temperature,
      feelsLike: expected.apparent,
      humidity: expected.humidity,
      windSpeed: expected.wind,
      windUnit: "km/h",
      weatherCode: expected.weatherCode,
      high: expected.max,
      low: expected.min,
      unit: "celsius",
    });
    expect(report.conditions).toBe(describeWeatherCode(expected.weatherCode));
    expect(report.conditions).not.toMatch(/Unknown/);
    expect(report.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:(00|15|30|45)$/);

    const [geo, forecast] = server.requests;
    expect(geo).toMatchObject({
      service: "geocoding",
      path: "/v1/search",
      query: { name: "Tokyo", count: "1", language: "en", format: "json" },
    });
    expect(forecast).toMatchObject({
      service: "weather",
      path: "/v1/forecast",
      query: {
        latitude: "35.6895",
        longitude: "139.69171",
        current: "temperature_2m,apparent_temperature,relative_humidity_2m,wind_speed_10m,weather_code",
        daily: "temperature_2m_max,temperature_2m_min",
        timezone: "auto",
        forecast_days: "1",
        temperature_unit: "celsius",
        wind_speed_unit: "kmh",
      },
    });
  });

  it("finds 東京 and answers in Chinese for a zh user", async () => {
    const report = asReport(await client().current("東京", "celsius", { language: "zh-hans" }));
    expect(report.location).toBe("东京, 日本");
    expect(report.latitude).toBe(35.6895);
    expect(server.requests[0]?.query).toMatchObject({ name: "東京", language: "zh" });
    expect(report.conditions).toBe(describeWeatherCode(report.weatherCode, "zh"));
    expect(report.conditions).toMatch(/[\u4e00-\u9fff]/);
  });

  it("finds 北京 (two characters, exact match)", async () => {
    const report = asReport(await client().current("北京", "celsius", { language: "en" }));
    expect(report.location).toBe("Beijing, China");
    expect(report.timezone).toBe("Asia/Shanghai");
  });

  it("converts to fahrenheit through the API's temperature_unit", async () => {
    const c = asReport(await client().current("Paris", "celsius", {}));
    const f = asReport(await client().current("Paris", "fahrenheit", {}));
    expect(f.unit).toBe("fahrenheit");
    expect(f.temperature).toBeCloseTo((c.temperature * 9) / 5 + 32, 0);
    expect(f.high).toBeCloseTo(((c.high ?? NaN) * 9) / 5 + 32, 0);
    expect(server.requests.filter((r) => r.service === "weather").map((r) => r.query.temperature_unit)).toEqual([
      "celsius",
      "fahrenheit",
    ]);
  });

  it("uses what follows a comma to choose among same-named places", async () => {
    expect(asReport(await client().current("London", "celsius", {})).location).toBe("London, England, United Kingdom");
    expect(asReport(await client().current("London, Canada", "celsius", {})).location).toBe("London, Ontario, Canada");
    // "CA" is the model's habit from the classic example; the biggest San Francisco is still the answer.
    expect(asReport(await client().current("San Francisco, CA", "celsius", {})).location).toBe(
      "San Francisco, California, United States",
    );
  });

  it("returns notFound for a place that does not exist, without asking for a forecast", async () => {
    expect(await client().current("Atlantis", "celsius", {})).toEqual({ notFound: "Atlantis" });
    expect(server.requests.map((r) => r.service)).toEqual(["geocoding"]);
  });

  it("throws a WeatherError on timeout (slow mode)", async () => {
    server.mode = "slow";
    const started = Date.now();
    const err = await client(300)
      .current("Tokyo", "celsius", {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeatherError);
    expect((err as WeatherError).code).toBe("timeout");
    expect((err as WeatherError).message).toBe("The geocoding service did not answer within 0.3 s.");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("throws a WeatherError with the status on HTTP 500", async () => {
    server.mode = "error";
    const err = await client()
      .current("Tokyo", "celsius", {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeatherError);
    expect(err).toMatchObject({ code: "http", status: 500 });
    expect((err as Error).message).toBe("The geocoding service answered HTTP 500: Internal server error.");
  });

  it("rethrows the caller's abort reason instead of a timeout", async () => {
    server.mode = "slow";
    const controller = new AbortController();
    const pending = client(5_000).current("Tokyo", "celsius", { signal: controller.signal });
    const reason = new Error("user pressed stop");
    setTimeout(() => controller.abort(reason), 50);
    await expect(pending).rejects.toBe(reason);
  });

  it("reports a network failure when nothing listens", async () => {
    const dead = createWeatherClient({ weatherApiUrl: "http://127.0.0.1:9", geocodingApiUrl: "http://127.0.0.1:9" });
    await expect(dead.current("Tokyo", "celsius", {})).rejects.toMatchObject({
      code: "network",
      message: "Could not reach the geocoding service.",
    });
  });
});

describe("weatherTool", () => {
  const ctx = () => ({ signal: new AbortController().signal });

  it("declares get_current_weather with location required and a unit enum", () => {
    const [tool] = toOpenAITools([weatherTool(client())]);
    expect(tool?.function.name).toBe("get_current_weather");
    expect(tool?.function.parameters).toMatchObject({
      type: "object",
      required: ["location"],
      properties: { location: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
    });
  });

  it("runs three parallel calls like the notes' example", async () => {
    const tools = [weatherTool(client())];
    const calls = [
      { id: "call_1", name: "get_current_weather", arguments: '{"location": "San Francisco", "unit": "celsius"}' },
      { id: "call_2", name: "get_current_weather", arguments: '{"location": "Tokyo", "unit": "celsius"}' },
      { id: "call_3", name: "get_current_weather", arguments: '{"location": "Paris", "unit": "fahrenheit"}' },
    ];
    const results = await Promise.all(calls.map((call) => runToolCall(tools, call, ctx())));
    expect(results.every((r) => r.ok)).toBe(true);
    const parsed = results.map((r) => JSON.parse(r.content) as WeatherReport);
    expect(parsed.map((r) => r.location)).toEqual([
      "San Francisco, California, United States",
      "Tokyo, Japan",
      "Paris, Île-de-France, France",
    ]);
    expect(parsed.map((r) => r.unit)).toEqual(["celsius", "celsius", "fahrenheit"]);
  });

  it("tells the model clearly when a place is not found", async () => {
    const result = await runToolCall(
      [weatherTool(client())],
      { id: "c", name: "get_current_weather", arguments: '{"location":"Xyzzyville"}' },
      ctx(),
    );
    expect(result.ok).toBe(true);
    expect(JSON.parse(result.content)).toEqual({
      notFound: "Xyzzyville",
      message: 'No place called "Xyzzyville" was found. Ask the user to check the name or give a nearby city.',
    });
  });

  it("turns a service failure into an error the model can read", async () => {
    server.mode = "error";
    const result = await runToolCall(
      [weatherTool(client())],
      { id: "c", name: "get_current_weather", arguments: '{"location":"Tokyo"}' },
      ctx(),
    );
    expect(result).toEqual({
      ok: false,
      content: JSON.stringify({ error: "The geocoding service answered HTTP 500: Internal server error." }),
    });
  });

  it("shows a status line in English or Chinese", () => {
    const tool = weatherTool(client());
    const i18n = createI18n();
    expect(tool.status?.({ location: "Tokyo" }, (key, vars) => i18n.t("en", key, vars))).toBe("Checking the weather in Tokyo…");
    expect(tool.status?.({ location: "东京" }, (key, vars) => i18n.t("zh", key, vars))).toBe("正在查询东京的天气…");
  });
});
