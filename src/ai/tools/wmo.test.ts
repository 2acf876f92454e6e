import { describe, expect, it } from "vitest";
import { describeWeatherCode, WMO_CODES } from "./wmo.js";

describe("describeWeatherCode", () => {
  it("covers every code Open-Meteo documents, in English and Chinese", () => {
    const documented = [0, 1, 2, 3, 45, 48, 51, 53, 55, 56, 57, 61, 63, 65, 66, 67, 71, 73, 75, 77, 80, 81, 82, 85, 86, 95, 96, 99];
    expect(Object.keys(WMO_CODES).map(Number)).toEqual(documented);
    for (const code of documented) {
      expect(describeWeatherCode(code)).toMatch(/^[A-Z][a-z]/);
      expect(describeWeatherCode(code, "zh-CN")).toMatch(/^[\u4e00-\u9fff]/);
    }
  });

  it("names the common ones as people say them", () => {
    expect(describeWeatherCode(2)).toBe("Partly cloudy");
    expect(describeWeatherCode(2, "zh")).toBe("多云");
    expect(describeWeatherCode(95, "en-US")).toBe("Thunderstorm");
  });

  it("falls back to the WMO group for undocumented codes, then to a readable unknown", () => {
    expect(describeWeatherCode(68)).toBe("Rain");
    expect(describeWeatherCode(42, "zh")).toBe("雾");
    expect(describeWeatherCode(150)).toBe("Unknown conditions (code 150)");
    expect(describeWeatherCode(-1, "zh")).toBe("未知天气（代码 -1）");
  });
});
