/**
 * A local stand-in for Open-Meteo: the geocoding API (GET /v1/search) and the forecast API (GET /v1/forecast),
 * on two ports as the real ones live on two hosts, so a client that mixes up the base URLs fails.
 * Response shapes follow the real services; parameters are checked more strictly than the real ones (unknown
 * parameters are rejected too) so a typo in the client shows up as a 400 instead of silently missing data.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type OpenMeteoMode = "up" | "slow" | "error";

export interface OpenMeteoRequest {
  service: "geocoding" | "weather";
  path: string;
  query: Record<string, string>;
}

export interface OpenMeteoServer {
  weatherApiUrl: string;
  geocodingApiUrl: string;
  requests: OpenMeteoRequest[];
  /** "slow": requests hang until the client gives up (or close()); "error": every request gets a 500. */
  mode: OpenMeteoMode;
  close(): Promise<void>;
}

interface GazetteerEntry {
  id: number;
  names: { en: string; zh: string };
  /** Other spellings the search matches: native script, traditional/simplified, exonyms. */
  aliases: string[];
  latitude: number;
  longitude: number;
  elevation: number;
  country_code: string;
  country: { en: string; zh: string };
  admin1: { en: string; zh: string };
  timezone: string;
  population: number;
}

// Coordinates, ids and populations as the real geocoding API returns them for these places.
export const GAZETTEER: readonly GazetteerEntry[] = [
  {
    id: 1850147,
    names: { en: "Tokyo", zh: "东京" },
    aliases: ["東京", "東京都", "东京都", "とうきょう", "Tōkyō", "Токио"],
    latitude: 35.6895,
    longitude: 139.69171,
    elevation: 44,
    country_code: "JP",
    country: { en: "Japan", zh: "日本" },
    admin1: { en: "Tokyo", zh: "东京都" },
    timezone: "Asia/Tokyo",
    population: 8336599,
  },
  {
    id: 1816670,
    names: { en: "Beijing", zh: "北京" },
    aliases: ["北京市", "Peking", "Pekin", "Пекин"],
    latitude: 39.9075,
    longitude: 116.39723,
    elevation: 49,
    country_code: "CN",
    country: { en: "China", zh: "中国" },
    admin1: { en: "Beijing", zh: "北京市" },
    timezone: "Asia/Shanghai",
    population: 18960744,
  },
  {
    id: 2988507,
    names: { en: "Paris", zh: "巴黎" },
    aliases: ["Париж", "パリ"],
    latitude: 48.85341,
    longitude: 2.3488,
    elevation: 42,
    country_code: "FR",
    country: { en: "France", zh: "法国" },
    admin1: { en: "Île-de-France", zh: "法兰西岛" },
    timezone: "Europe/Paris",
    population: 2138551,
  },
  {
    id: 5391959,
    names: { en: "San Francisco", zh: "旧金山" },
    aliases: ["三藩市", "舊金山", "サンフランシスコ", "Сан-Франциско"],
    latitude: 37.77493,
    longitude: -122.41942,
    elevation: 16,
    country_code: "US",
    country: { en: "United States", zh: "美国" },
    admin1: { en: "California", zh: "加利福尼亚州" },
    timezone: "America/Los_Angeles",
    population: 864816,
  },
  {
    id: 2643743,
    names: { en: "London", zh: "伦敦" },
    aliases: ["倫敦", "ロンドン", "Лондон", "Londres"],
    latitude: 51.50853,
    longitude: -0.12574,
    elevation: 25,
    country_code: "GB",
    country: { en: "United Kingdom", zh: "英国" },
    admin1: { en: "England", zh: "英格兰" },
    timezone: "Europe/London",
    population: 8961989,
  },
  {
    id: 6058560,
    names: { en: "London", zh: "伦敦" },
    aliases: [],
    latitude: 42.98339,
    longitude: -81.23304,
    elevation: 252,
    country_code: "CA",
    country: { en: "Canada", zh: "加拿大" },
    admin1: { en: "Ontario", zh: "安大略省" },
    timezone: "America/Toronto",
    population: 346765,
  },
];

const CURRENT_VARIABLES = new Set([
  "temperature_2m",
  "apparent_temperature",
  "relative_humidity_2m",
  "wind_speed_10m",
  "wind_direction_10m",
  "weather_code",
  "precipitation",
  "cloud_cover",
  "is_day",
]);
const DAILY_VARIABLES = new Set(["temperature_2m_max", "temperature_2m_min", "weather_code", "sunrise", "sunset"]);
const GEOCODING_PARAMS = new Set(["name", "count", "language", "format", "countryCode"]);
const FORECAST_PARAMS = new Set([
  "latitude",
  "longitude",
  "current",
  "daily",
  "timezone",
  "forecast_days",
  "temperature_unit",
  "wind_speed_unit",
]);
const WIND_UNITS: Record<string, { label: string; perKmh: number }> = {
  kmh: { label: "km/h", perKmh: 1 },
  ms: { label: "m/s", perKmh: 1 / 3.6 },
  mph: { label: "mp/h", perKmh: 0.621371 },
  kn: { label: "kn", perKmh: 0.539957 },
};
const WMO_SAMPLE = [0, 1, 2, 3, 45, 51, 61, 63, 71, 80, 95];

class BadRequest extends Error {}

function normalise(s: string): string {
  return s.normalize("NFKC").trim().toLowerCase();
}

/** FNV-1a: a stable number per coordinate, so the same place always has the same weather. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** The deterministic weather at a coordinate, in °C and km/h. */
export function syntheticWeather(latitude: number, longitude: number) {
  const h = hash(`${latitude.toFixed(2)},${longitude.toFixed(2)}`);
  const temperature = round1(28 - Math.abs(latitude) * 0.45 + ((h % 100) / 10 - 5));
  const humidity = 35 + ((h >>> 8) % 60);
  const wind = round1(((h >>> 16) % 300) / 10);
  return {
    temperature,
    apparent: round1(temperature - wind / 10 + (humidity - 50) / 25),
    humidity,
    wind,
    weatherCode: WMO_SAMPLE[(h >>> 4) % WMO_SAMPLE.length]!,
    max: round1(temperature + 3 + ((h >>> 12) % 30) / 10),
    min: round1(temperature - 4 - ((h >>> 20) % 30) / 10),
  };
}

function toF(celsius: number): number {
  return round1((celsius * 9) / 5 + 32);
}

function checkParams(query: URLSearchParams, allowed: Set<string>): void {
  for (const key of query.keys()) {
    if (!allowed.has(key)) throw new BadRequest(`Unknown parameter '${key}'`);
  }
}

function requireParam(query: URLSearchParams, key: string): string {
  const value = query.get(key);
  if (value === null || value === "") throw new BadRequest(`Parameter '${key}' is required`);
  return value;
}

function parseNumber(query: URLSearchParams, key: string, min: number, max: number, integer = false): number {
  const raw = requireParam(query, key);
  const n = Number(raw);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new BadRequest(`Cannot initialize ${integer ? "Int" : "Float"} from invalid String value ${raw} for key ${key}`);
  }
  if (n < min || n > max) throw new BadRequest(`Parameter '${key}' must be between ${min} and ${max}`);
  return n;
}

function parseVariables(query: URLSearchParams, key: string, known: Set<string>): string[] | undefined {
  const raw = query.get(key);
  if (raw === null) return undefined;
  const list = raw.split(",").filter(Boolean);
  for (const v of list) {
    if (!known.has(v)) throw new BadRequest(`Cannot initialize WeatherVariable from invalid String value ${v} for key ${key}`);
  }
  return list;
}

function search(query: URLSearchParams) {
  checkParams(query, GEOCODING_PARAMS);
  const name = normalise(requireParam(query, "name"));
  const count = query.has("count") ? parseNumber(query, "count", 1, 100, true) : 10;
  const language = query.get("language") ?? "en";
  if (!/^[a-z]{2,3}$/.test(language)) throw new BadRequest(`Parameter 'language' must be a lower-case language code`);
  const format = query.get("format") ?? "json";
  if (format !== "json") throw new BadRequest(`Format '${format}' is not supported here`);

  const spellings = (e: GazetteerEntry) => [e.names.en, e.names.zh, ...e.aliases].map(normalise);
  let hits = GAZETTEER.filter((e) => spellings(e).includes(name));
  // Like the real API, a longer query also matches by prefix ("Toky" finds Tokyo); one or two characters must match exactly.
  if (hits.length === 0 && [...name].length >= 3) hits = GAZETTEER.filter((e) => spellings(e).some((s) => s.startsWith(name)));
  if (hits.length === 0) return { generationtime_ms: 0.1 };

  const zh = language === "zh";
  const results = [...hits]
    .sort((a, b) => b.population - a.population)
    .slice(0, count)
    .map((e) => ({
      id: e.id,
      name: zh ? e.names.zh : e.names.en,
      latitude: e.latitude,
      longitude: e.longitude,
      elevation: e.elevation,
      feature_code: "PPLC",
      country_code: e.country_code,
      timezone: e.timezone,
      population: e.population,
      country: zh ? e.country.zh : e.country.en,
      admin1: zh ? e.admin1.zh : e.admin1.en,
    }));
  return { results, generationtime_ms: 0.1 };
}

function localTime(timeZone: string): string {
  // "sv-SE" formats as "2026-11-25 21:47:03"; Open-Meteo reports the current 15-minute slot.
  const text = new Intl.DateTimeFormat("sv-SE", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(new Date());
  const [date = "", hm = "00:00"] = text.split(" ");
  const [hh = "00", mm = "00"] = hm.split(":");
  const slot = String(Math.floor(Number(mm) / 15) * 15).padStart(2, "0");
  return `${date}T${hh}:${slot}`;
}

/** "GMT+9" and 32400 for Asia/Tokyo, now. */
function zoneInfo(timeZone: string): { abbreviation: string; offsetSeconds: number } {
  const part = (style: "short" | "longOffset") =>
    new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: style })
      .formatToParts(new Date())
      .find((p) => p.type === "timeZoneName")?.value ?? "GMT";
  const match = /^GMT([+-])(\d{2}):(\d{2})$/.exec(part("longOffset"));
  const offsetSeconds = match ? (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 3600 + Number(match[3]) * 60) : 0;
  return { abbreviation: part("short"), offsetSeconds };
}

function forecast(query: URLSearchParams) {
  checkParams(query, FORECAST_PARAMS);
  const latitude = parseNumber(query, "latitude", -90, 90);
  const longitude = parseNumber(query, "longitude", -180, 180);
  const current = parseVariables(query, "current", CURRENT_VARIABLES);
  const daily = parseVariables(query, "daily", DAILY_VARIABLES);
  const timezoneParam = query.get("timezone") ?? "GMT";
  if (daily && !query.has("timezone")) throw new BadRequest("Parameter 'timezone' is required for daily data");
  if (timezoneParam !== "auto" && timezoneParam !== "GMT" && !timezoneParam.includes("/")) {
    throw new BadRequest(`Invalid timezone '${timezoneParam}'`);
  }
  const days = query.has("forecast_days") ? parseNumber(query, "forecast_days", 0, 16, true) : 7;
  const tempUnit = query.get("temperature_unit") ?? "celsius";
  if (tempUnit !== "celsius" && tempUnit !== "fahrenheit") {
    throw new BadRequest(`Cannot initialize TemperatureUnit from invalid String value ${tempUnit}`);
  }
  const windKey = query.get("wind_speed_unit") ?? "kmh";
  const wind = WIND_UNITS[windKey];
  if (!wind) throw new BadRequest(`Cannot initialize WindspeedUnit from invalid String value ${windKey}`);

  const place = GAZETTEER.find((e) => Math.abs(e.latitude - latitude) < 0.01 && Math.abs(e.longitude - longitude) < 0.01);
  const timezone = timezoneParam === "auto" ? (place?.timezone ?? "GMT") : timezoneParam;
  const w = syntheticWeather(latitude, longitude);
  const t = (c: number) => (tempUnit === "fahrenheit" ? toF(c) : c);
  const tLabel = tempUnit === "fahrenheit" ? "°F" : "°C";
  const now = localTime(timezone);

  const values: Record<string, number> = {
    temperature_2m: t(w.temperature),
    apparent_temperature: t(w.apparent),
    relative_humidity_2m: w.humidity,
    wind_speed_10m: round1(w.wind * wind.perKmh),
    wind_direction_10m: hash(now) % 360,
    weather_code: w.weatherCode,
    precipitation: 0,
    cloud_cover: w.weatherCode >= 2 ? 75 : 10,
    is_day: 1,
  };
  const units: Record<string, string> = {
    temperature_2m: tLabel,
    apparent_temperature: tLabel,
    relative_humidity_2m: "%",
    wind_speed_10m: wind.label,
    wind_direction_10m: "°",
    weather_code: "wmo code",
    precipitation: "mm",
    cloud_cover: "%",
    is_day: "",
  };

  const zone = zoneInfo(timezone);
  const body: Record<string, unknown> = {
    // The real API answers with the coordinates of the grid cell it used.
    latitude: Math.round(latitude * 100) / 100,
    longitude: Math.round(longitude * 100) / 100,
    generationtime_ms: 0.05,
    utc_offset_seconds: zone.offsetSeconds,
    timezone,
    timezone_abbreviation: zone.abbreviation,
    elevation: place?.elevation ?? 0,
  };
  if (current) {
    body.current_units = { time: "iso8601", interval: "seconds", ...Object.fromEntries(current.map((v) => [v, units[v]])) };
    body.current = { time: now, interval: 900, ...Object.fromEntries(current.map((v) => [v, values[v]])) };
  }
  if (daily) {
    const dates = Array.from({ length: days }, (_, i) => {
      const d = new Date(`${now.slice(0, 10)}T00:00:00Z`);
      d.setUTCDate(d.getUTCDate() + i);
      return d.toISOString().slice(0, 10);
    });
    const daySeries: Record<string, (i: number) => unknown> = {
      temperature_2m_max: (i) => t(round1(w.max + i * 0.3)),
      temperature_2m_min: (i) => t(round1(w.min - i * 0.2)),
      weather_code: () => w.weatherCode,
      sunrise: (i) => `${dates[i]}T06:30`,
      sunset: (i) => `${dates[i]}T17:00`,
    };
    body.daily_units = {
      time: "iso8601",
      ...Object.fromEntries(daily.map((v) => [v, v.startsWith("temperature") ? tLabel : v === "weather_code" ? "wmo code" : "iso8601"])),
    };
    body.daily = { time: dates, ...Object.fromEntries(daily.map((v) => [v, dates.map((_, i) => daySeries[v]!(i))])) };
  }
  return body;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

export async function startOpenMeteoServer(): Promise<OpenMeteoServer> {
  const hanging = new Set<ServerResponse>();

  const handler =
    (service: OpenMeteoRequest["service"], path: string, answer: (q: URLSearchParams) => unknown) =>
    (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? "/", "http://localhost");
      state.requests.push({ service, path: url.pathname, query: Object.fromEntries(url.searchParams) });
      if (req.method !== "GET") return send(res, 405, { error: true, reason: "Method not allowed" });
      if (url.pathname !== path) return send(res, 404, { error: true, reason: "Not Found" });
      if (state.mode === "error") return send(res, 500, { error: true, reason: "Internal server error" });
      if (state.mode === "slow") {
        // Never answers: the client's timeout is what ends it.
        hanging.add(res);
        res.on("close", () => hanging.delete(res));
        return;
      }
      try {
        send(res, 200, answer(url.searchParams));
      } catch (err) {
        if (err instanceof BadRequest) return send(res, 400, { error: true, reason: err.message });
        send(res, 500, { error: true, reason: String(err) });
      }
    };

  const geocoding = createServer(handler("geocoding", "/v1/search", search));
  const weather = createServer(handler("weather", "/v1/forecast", forecast));
  const [geocodingApiUrl, weatherApiUrl] = await Promise.all([listen(geocoding), listen(weather)]);

  const state: OpenMeteoServer = {
    weatherApiUrl,
    geocodingApiUrl,
    requests: [],
    mode: "up",
    async close() {
      for (const res of hanging) res.destroy();
      await Promise.all(
        [geocoding, weather].map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      );
    },
  };
  return state;
}
