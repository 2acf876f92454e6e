import { z } from "zod";
import { defineTool, ToolError, type Tool } from "./tool.js";
import { describeWeatherCode } from "./wmo.js";

export type TemperatureUnit = "celsius" | "fahrenheit";

export interface WeatherReport {
  /** "Tokyo, Japan": place name, region when it adds something, country; in the requested language when known. */
  location: string;
  latitude: number;
  longitude: number;
  timezone: string;
  temperature: number;
  feelsLike: number;
  /** Relative humidity in percent. */
  humidity: number;
  windSpeed: number;
  windUnit: string;
  /** The WMO weather code in words, e.g. "Partly cloudy". */
  conditions: string;
  weatherCode: number;
  /** Today's forecast high and low; null when the service has no value. */
  high: number | null;
  low: number | null;
  unit: TemperatureUnit;
  /** Local time of the observation at the place, ISO 8601 without offset, e.g. "2026-11-25T21:45". */
  time: string;
}

export interface WeatherClient {
  current(
    location: string,
    unit: TemperatureUnit,
    opts: { signal?: AbortSignal; language?: string },
  ): Promise<WeatherReport | { notFound: string }>;
}

export type WeatherErrorCode = "timeout" | "http" | "network" | "bad_response";

/** A failure of the weather service. The message names the service and the problem, and is safe to show. */
export class WeatherError extends ToolError {
  readonly code: WeatherErrorCode;
  readonly status: number | undefined;
  constructor(code: WeatherErrorCode, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = "WeatherError";
    this.code = code;
    this.status = options?.status;
  }
}

export const DEFAULT_WEATHER_TIMEOUT_MS = 8_000;

const geocodingResponseSchema = z.object({
  results: z
    .array(
      z.object({
        name: z.string(),
        latitude: z.number(),
        longitude: z.number(),
        country: z.string().optional(),
        country_code: z.string().optional(),
        admin1: z.string().optional(),
        timezone: z.string().optional(),
      }),
    )
    .optional(),
});
type Place = NonNullable<z.infer<typeof geocodingResponseSchema>["results"]>[number];

const forecastResponseSchema = z.object({
  timezone: z.string().optional(),
  current: z.object({
    time: z.string(),
    temperature_2m: z.number(),
    apparent_temperature: z.number(),
    relative_humidity_2m: z.number(),
    wind_speed_10m: z.number(),
    weather_code: z.number(),
  }),
  current_units: z.object({ wind_speed_10m: z.string() }).partial().optional(),
  daily: z
    .object({
      temperature_2m_max: z.array(z.number().nullable()),
      temperature_2m_min: z.array(z.number().nullable()),
    })
    .optional(),
});

const errorBodySchema = z.object({ reason: z.string() });

/** Open-Meteo's `language` is a lower-case primary language subtag ("zh-hans" → "zh"). */
function geocodingLanguage(language: string | undefined): string {
  const primary = language?.toLowerCase().split(/[-_]/)[0] ?? "";
  return /^[a-z]{2,3}$/.test(primary) ? primary : "en";
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

function placeLabel(place: Place): string {
  const parts = [place.name];
  const region = place.admin1;
  // Skip a region that only repeats the city ("Tokyo" in Tokyo, "东京都" for 东京).
  if (region && !region.startsWith(place.name) && !place.name.startsWith(region)) parts.push(region);
  if (place.country) parts.push(place.country);
  return parts.join(", ");
}

function normalise(s: string): string {
  return s.normalize("NFKC").trim().toLowerCase();
}

/** "London, Canada" → the London whose country, country code or region matches "Canada"; else the first. */
function pickPlace(places: Place[], qualifier: string | undefined): Place | undefined {
  if (!qualifier) return places[0];
  const q = normalise(qualifier);
  const matches = (value: string | undefined) => value !== undefined && normalise(value).startsWith(q);
  return places.find((p) => matches(p.country) || matches(p.admin1) || normalise(p.country_code ?? "") === q) ?? places[0];
}

export function createWeatherClient(opts: {
  weatherApiUrl: string;
  geocodingApiUrl: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}): WeatherClient {
  const weatherBase = trimSlash(opts.weatherApiUrl);
  const geocodingBase = trimSlash(opts.geocodingApiUrl);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_WEATHER_TIMEOUT_MS;
  const doFetch = opts.fetch ?? fetch;

  async function getJson(
    service: "Geocoding" | "Weather",
    url: string,
    signal: AbortSignal,
    caller: AbortSignal | undefined,
  ): Promise<unknown> {
    const failed = (err: unknown): never => {
      if (caller?.aborted) throw caller.reason;
      if (signal.aborted) {
        throw new WeatherError("timeout", `The ${service.toLowerCase()} service did not answer within ${timeoutMs / 1000} s.`, {
          cause: err,
        });
      }
      throw new WeatherError("network", `Could not reach the ${service.toLowerCase()} service.`, { cause: err });
    };
    let res: Response;
    let body: string;
    try {
      res = await doFetch(url, { signal, headers: { accept: "application/json" } });
      body = await res.text();
    } catch (err) {
      return failed(err);
    }
    if (!res.ok) {
      let reason = "";
      try {
        reason = errorBodySchema.parse(JSON.parse(body)).reason;
      } catch {
        // Not Open-Meteo's error shape (a proxy's HTML page, say): the status alone has to do.
      }
      const detail = reason ? `: ${reason.slice(0, 200)}` : "";
      throw new WeatherError("http", `The ${service.toLowerCase()} service answered HTTP ${res.status}${detail}.`, {
        status: res.status,
      });
    }
    try {
      return JSON.parse(body);
    } catch (err) {
      throw new WeatherError("bad_response", `The ${service.toLowerCase()} service sent a response that is not JSON.`, {
        cause: err,
      });
    }
  }

  function parse<T>(service: "Geocoding" | "Weather", schema: z.ZodType<T>, data: unknown): T {
    const result = schema.safeParse(data);
    if (!result.success) {
      throw new WeatherError("bad_response", `The ${service.toLowerCase()} service sent an unexpected response.`, {
        cause: result.error,
      });
    }
    return result.data;
  }

  async function geocode(location: string, language: string, signal: AbortSignal, caller?: AbortSignal) {
    // Open-Meteo matches place names only: "San Francisco, CA" finds nothing. Search the name and use the rest
    // to choose among same-named places.
    const [head = "", ...rest] = location.split(/[,，]/);
    const name = head.trim() || location.trim();
    const qualifier = rest.join(",").trim() || undefined;
    const params = new URLSearchParams({
      name,
      count: qualifier ? "10" : "1",
      language,
      format: "json",
    });
    const data = await getJson("Geocoding", `${geocodingBase}/v1/search?${params.toString()}`, signal, caller);
    const { results } = parse("Geocoding", geocodingResponseSchema, data);
    return pickPlace(results ?? [], qualifier);
  }

  return {
    async current(location, unit, { signal: caller, language }) {
      const deadline = AbortSignal.timeout(timeoutMs);
      const signal = caller ? AbortSignal.any([caller, deadline]) : deadline;
      const lang = geocodingLanguage(language);

      const place = await geocode(location, lang, signal, caller);
      if (!place) return { notFound: location };

      const params = new URLSearchParams({
        latitude: String(place.latitude),
        longitude: String(place.longitude),
        current: "temperature_2m,apparent_temperature,relative_humidity_2m,wind_speed_10m,weather_code",
        daily: "temperature_2m_max,temperature_2m_min",
        timezone: "auto",
        forecast_days: "1",
        temperature_unit: unit,
        wind_speed_unit: "kmh",
      });
      const data = await getJson("Weather", `${weatherBase}/v1/forecast?${params.toString()}`, signal, caller);
      const forecast = parse("Weather", forecastResponseSchema, data);
      const now = forecast.current;
      return {
        location: placeLabel(place),
        latitude: place.latitude,
        longitude: place.longitude,
        timezone: forecast.timezone ?? place.timezone ?? "GMT",
        temperature: now.temperature_2m,
        feelsLike: now.apparent_temperature,
        humidity: now.relative_humidity_2m,
        windSpeed: now.wind_speed_10m,
        windUnit: forecast.current_units?.wind_speed_10m ?? "km/h",
        conditions: describeWeatherCode(now.weather_code, lang),
        weatherCode: now.weather_code,
        high: forecast.daily?.temperature_2m_max[0] ?? null,
        low: forecast.daily?.temperature_2m_min[0] ?? null,
        unit,
        time: now.time,
      };
    },
  };
}

const weatherArgs = z.object({
  location: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .describe(
      'The city, in any language or script, e.g. "Tokyo", "東京", "北京". Optionally followed by a comma and the ' +
        'country or region to tell same-named places apart, e.g. "London, Canada".',
    ),
  unit: z
    .enum(["celsius", "fahrenheit"])
    .optional()
    .describe("Temperature unit. Default celsius; use fahrenheit when the user does or is in the US."),
});

export function weatherTool(client: WeatherClient): Tool<typeof weatherArgs> {
  return defineTool({
    name: "get_current_weather",
    description:
      "Get the current weather and today's high and low for a city: temperature, feels-like, humidity, wind, " +
      "conditions. Call once per city; several cities can be asked for in parallel.",
    schema: weatherArgs,
    timeoutMs: DEFAULT_WEATHER_TIMEOUT_MS + 2_000,
    async run(args, ctx) {
      const result = await client.current(args.location, args.unit ?? "celsius", {
        signal: ctx.signal,
        ...(ctx.language ? { language: ctx.language } : {}),
      });
      if ("notFound" in result) {
        return {
          notFound: result.notFound,
          message: `No place called "${result.notFound}" was found. Ask the user to check the name or give a nearby city.`,
        };
      }
      return result;
    },
    status(args, t) {
      return t("weather-status", { location: args.location });
    },
  });
}
