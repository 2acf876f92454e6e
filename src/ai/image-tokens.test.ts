import { describe, expect, it } from "vitest";
import { imageTokens, MAX_HIGH_DETAIL_TOKENS, scaledForHighDetail } from "./image-tokens.js";

describe("imageTokens", () => {
  it.each([
    // The worked examples of OpenAI's guide, repeated in the notes.
    [1024, 1024, 765],
    [2048, 4096, 1105],
    // The notes' own example: 1868×892 → 1608×768 → 4×2 tiles.
    [1868, 892, 1445],
    // Small images are not enlarged: one tile.
    [512, 512, 255],
    [1, 1, 255],
    [513, 512, 425],
    // 100×5000 → 40×2048 (fit in 2048), short side already ≤ 768 → 1×4 tiles.
    [100, 5000, 765],
    // 4097×1 → 2047×1 (never below one pixel) → 4×1 tiles.
    [4097, 1, 765],
    // Exactly at the bounds: no scaling.
    [768, 2048, 85 + 170 * 2 * 4],
    [2048, 768, 85 + 170 * 4 * 2],
    // 4096×4096 → 2048×2048 → 768×768 → 2×2.
    [4096, 4096, 765],
  ])("%d×%d costs %d tokens in high detail", (width, height, tokens) => {
    expect(imageTokens(width, height)).toBe(tokens);
    expect(imageTokens(height, width, "high")).toBe(tokens);
    expect(imageTokens(width, height, "auto")).toBe(tokens);
  });

  it("costs 85 tokens in low detail whatever the size", () => {
    expect(imageTokens(1, 1, "low")).toBe(85);
    expect(imageTokens(8000, 6000, "low")).toBe(85);
  });

  it("refuses sizes that are not positive", () => {
    expect(() => imageTokens(0, 10)).toThrow(RangeError);
    expect(() => imageTokens(10, -1)).toThrow(RangeError);
    expect(() => imageTokens(Number.NaN, 10)).toThrow(RangeError);
    expect(() => imageTokens(Number.POSITIVE_INFINITY, 10, "low")).toThrow(RangeError);
  });
});

describe("scaledForHighDetail", () => {
  it("fits inside 2048×2048, then brings the short side down to 768, never enlarging", () => {
    expect(scaledForHighDetail(2048, 4096)).toEqual({ width: 768, height: 1536 });
    expect(scaledForHighDetail(1868, 892)).toEqual({ width: 1608, height: 768 });
    expect(scaledForHighDetail(300, 200)).toEqual({ width: 300, height: 200 });
    expect(scaledForHighDetail(100, 5000)).toEqual({ width: 40, height: 2048 });
  });
});

describe("MAX_HIGH_DETAIL_TOKENS", () => {
  it("is at least what any size costs at high detail", () => {
    let most = 0;
    for (let w = 64; w <= 8192; w += 97) for (let h = 64; h <= 8192; h += 89) most = Math.max(most, imageTokens(w, h, "high"));
    expect(MAX_HIGH_DETAIL_TOKENS).toBeGreaterThanOrEqual(most);
    expect(MAX_HIGH_DETAIL_TOKENS).toBe(imageTokens(768, 2048, "high"));
  });
});
