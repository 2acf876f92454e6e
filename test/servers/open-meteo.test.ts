import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenMeteoServer, syntheticWeather, type OpenMeteoServer } from "./open-meteo.js";

let server: OpenMeteoServer;
beforeAll(async () => {
  server = await startOpenMeteoServer();
});
afterAll(async () => {
  await server.close();
});

async function get(base: string, path: string, query: Record<string, string>) {
  const res = await fetch(`${base}${path}?${new URLSearchParams(query).toString()}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const forecastQuery = {
  latitude: "35.6895",
  longitude: "139.69171",
  current: "temperature_2m,apparent_temperature,relative_humidity_2m,wind_speed_10m,weather_code",
  daily: "temperature_2m_max,temperature_2m_min",
  timezone: "auto",
  forecast_days: "1",
  temperature_unit: "celsius",
  wind_speed_unit: "kmh",
};

describe("local Open-Meteo: geocoding", () => {
  it("finds places case-insensitively and in other scripts", async () => {
    for (const name of ["tokyo", "TOKYO", "東京", "東京都", "东京", "Токио"]) {
      const { status, body } = await get(server.geocodingApiUrl, "/v1/search", { name, count: "1" });
      expect(status).toBe(200);
      expect(body.results).toMatchObject([{ id: 1850147, name: "Tokyo", country: "Japan", timezone: "Asia/Tokyo" }]);
    }
  });

  it("localises names with language=zh and orders same-named places by population", async () => {
    const { body } = await get(server.geocodingApiUrl, "/v1/search", { name: "London", count: "10", language: "zh" });
    expect(body.results).toMatchObject([
      { name: "伦敦", country: "英国", country_code: "GB" },
      { name: "伦敦", country: "加拿大", country_code: "CA" },
    ]);
  });

  it("answers an unknown name without a results key, like the real API", async () => {
    expect(await get(server.geocodingApiUrl, "/v1/search", { name: "Atlantis" })).toEqual({
      status: 200,
      body: { generationtime_ms: 0.1 },
    });
  });

  it("rejects a missing name, a bad count and unknown parameters with Open-Meteo's error shape", async () => {
    expect(await get(server.geocodingApiUrl, "/v1/search", { count: "1" })).toEqual({
      status: 400,
      body: { error: true, reason: "Parameter 'name' is required" },
    });
    expect((await get(server.geocodingApiUrl, "/v1/search", { name: "Paris", count: "0" })).status).toBe(400);
    expect((await get(server.geocodingApiUrl, "/v1/search", { name: "Paris", city: "x" })).body).toEqual({
      error: true,
      reason: "Unknown parameter 'city'",
    });
  });

  it("serves geocoding and forecast on different ports", async () => {
    expect(server.geocodingApiUrl).not.toBe(server.weatherApiUrl);
    expect((await get(server.weatherApiUrl, "/v1/search", { name: "Paris" })).status).toBe(404);
  });
});

describe("local Open-Meteo: forecast", () => {
  it("returns the real response shape with deterministic values per coordinate", async () => {
    const first = await get(server.weatherApiUrl, "/v1/forecast", forecastQuery);
    const second = await get(server.weatherApiUrl, "/v1/forecast", forecastQuery);
    expect(first.status).toBe(200);
    const w = syntheticWeather(35.6895, 139.69171);
    expect(first.body).toMatchObject({
      timezone: "Asia/Tokyo",
      current_units: { temperature_2m: "°C", wind_speed_10m: "km/h", relative_humidity_2m: "%" },
      current: {
        temperature_2m: w.temperature,
        apparent_temperature: w.apparent,
        relative_humidity_2m: w.humidity,
        wind_speed_10m: w.wind,
        weather_code: w.weatherCode,
      },
      daily: { temperature_2m_max: [w.max], temperature_2m_min: [w.min] },
    });
    expect((first.body.daily as { time: string[] }).time).toHaveLength(1);
    expect(second.body.current).toEqual(first.body.current);
    const paris = await get(server.weatherApiUrl, "/v1/forecast", { ...forecastQuery, latitude: "48.85341", longitude: "2.3488" });
    expect(paris.body.current).not.toEqual(first.body.current);
  });

  it("converts units on request", async () => {
    const { body } = await get(server.weatherApiUrl, "/v1/forecast", {
      ...forecastQuery,
      temperature_unit: "fahrenheit",
      wind_speed_unit: "mph",
    });
    const w = syntheticWeather(35.6895, 139.69171);
    expect(body.current_units).toMatchObject({ temperature_2m: "°F", wind_speed_10m: "mp/h" });
    expect((body.current as { temperature_2m: number }).temperature_2m).toBeCloseTo((w.temperature * 9) / 5 + 32, 1);
  });

  it("rejects missing coordinates, unknown variables and bad units", async () => {
    const { latitude: _lat, ...noLatitude } = forecastQuery;
    expect(await get(server.weatherApiUrl, "/v1/forecast", noLatitude)).toEqual({
      status: 400,
      body: { error: true, reason: "Parameter 'latitude' is required" },
    });
    expect((await get(server.weatherApiUrl, "/v1/forecast", { ...forecastQuery, latitude: "91" })).status).toBe(400);
    expect((await get(server.weatherApiUrl, "/v1/forecast", { ...forecastQuery, current: "temperature" })).body).toMatchObject({
      error: true,
      reason: expect.stringContaining("invalid String value temperature"),
    });
    expect((await get(server.weatherApiUrl, "/v1/forecast", { ...forecastQuery, temperature_unit: "kelvin" })).status).toBe(400);
  });

  it("records requests and switches to error mode", async () => {
    server.requests.length = 0;
    server.mode = "error";
    try {
      expect(await get(server.weatherApiUrl, "/v1/forecast", forecastQuery)).toEqual({
        status: 500,
        body: { error: true, reason: "Internal server error" },
      });
    } finally {
      server.mode = "up";
    }
    expect(server.requests).toEqual([{ service: "weather", path: "/v1/forecast", query: forecastQuery }]);
  });

  it("holds requests in slow mode until the client gives up", async () => {
    server.mode = "slow";
    try {
      const err = await fetch(`${server.weatherApiUrl}/v1/forecast?${new URLSearchParams(forecastQuery).toString()}`, {
        signal: AbortSignal.timeout(100),
      }).catch((e: unknown) => e);
      expect((err as Error).name).toBe("TimeoutError");
    } finally {
      server.mode = "up";
    }
  });
});
