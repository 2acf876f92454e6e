/**
 * WMO weather interpretation codes (WMO 4677 "ww") as Open-Meteo reports them in `weather_code`.
 * Open-Meteo uses this subset of 0..99; see https://open-meteo.com/en/docs ("WMO Weather interpretation codes").
 */
export const WMO_CODES: Readonly<Record<number, { en: string; zh: string }>> = {
  0: { en: "Clear sky", zh: "晴" },
  1: { en: "Mainly clear", zh: "大部晴朗" },
  2: { en: "Partly cloudy", zh: "多云" },
  3: { en: "Overcast", zh: "阴" },
  45: { en: "Fog", zh: "雾" },
  48: { en: "Depositing rime fog", zh: "雾凇" },
  51: { en: "Light drizzle", zh: "小毛毛雨" },
  53: { en: "Moderate drizzle", zh: "毛毛雨" },
  55: { en: "Dense drizzle", zh: "浓毛毛雨" },
  56: { en: "Light freezing drizzle", zh: "轻微冻毛毛雨" },
  57: { en: "Dense freezing drizzle", zh: "浓冻毛毛雨" },
  61: { en: "Slight rain", zh: "小雨" },
  63: { en: "Moderate rain", zh: "中雨" },
  65: { en: "Heavy rain", zh: "大雨" },
  66: { en: "Light freezing rain", zh: "轻微冻雨" },
  67: { en: "Heavy freezing rain", zh: "强冻雨" },
  71: { en: "Slight snowfall", zh: "小雪" },
  73: { en: "Moderate snowfall", zh: "中雪" },
  75: { en: "Heavy snowfall", zh: "大雪" },
  77: { en: "Snow grains", zh: "米雪" },
  80: { en: "Slight rain showers", zh: "小阵雨" },
  81: { en: "Moderate rain showers", zh: "中阵雨" },
  82: { en: "Violent rain showers", zh: "强阵雨" },
  85: { en: "Slight snow showers", zh: "小阵雪" },
  86: { en: "Heavy snow showers", zh: "大阵雪" },
  95: { en: "Thunderstorm", zh: "雷暴" },
  96: { en: "Thunderstorm with slight hail", zh: "雷暴伴小冰雹" },
  99: { en: "Thunderstorm with heavy hail", zh: "雷暴伴大冰雹" },
};

/**
 * Broad WMO 4677 groups for codes Open-Meteo does not document; keeps an unexpected code readable.
 * Ranges are [from, to] inclusive.
 */
const WMO_GROUPS: ReadonlyArray<{ from: number; to: number; en: string; zh: string }> = [
  { from: 0, to: 3, en: "Cloud development", zh: "云量变化" },
  { from: 4, to: 9, en: "Haze, dust or smoke", zh: "霾、沙尘或烟" },
  { from: 10, to: 12, en: "Mist", zh: "轻雾" },
  { from: 13, to: 19, en: "Precipitation or thunder in sight", zh: "附近有降水或雷声" },
  { from: 20, to: 29, en: "Recent precipitation, fog or thunderstorm", zh: "刚过去的降水、雾或雷暴" },
  { from: 30, to: 39, en: "Duststorm, sandstorm or blowing snow", zh: "沙尘暴或吹雪" },
  { from: 40, to: 49, en: "Fog", zh: "雾" },
  { from: 50, to: 59, en: "Drizzle", zh: "毛毛雨" },
  { from: 60, to: 69, en: "Rain", zh: "雨" },
  { from: 70, to: 79, en: "Snow", zh: "雪" },
  { from: 80, to: 90, en: "Showers", zh: "阵雨" },
  { from: 91, to: 99, en: "Thunderstorm", zh: "雷暴" },
];

/** The weather code in words, in Chinese when `language` starts with "zh", otherwise in English. */
export function describeWeatherCode(code: number, language?: string): string {
  const zh = language?.toLowerCase().startsWith("zh") ?? false;
  const exact = WMO_CODES[code];
  if (exact) return zh ? exact.zh : exact.en;
  const group = Number.isInteger(code) ? WMO_GROUPS.find((g) => code >= g.from && code <= g.to) : undefined;
  if (group) return zh ? group.zh : group.en;
  return zh ? `未知天气（代码 ${code}）` : `Unknown conditions (code ${code})`;
}
