import { describe, expect, it } from "vitest";
import { AUDIO_PRICES_AS_OF, estimateCost, formatUsd, parsePriceOverrides, PRICES, PRICES_AS_OF, priceFor, PriceOverrideError } from "./pricing.js";

describe("price table", () => {
  it("has a date and every model the bot may be configured with", () => {
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const model of [
      "gpt-4o",
      "gpt-4o-mini",
      "gpt-4.1",
      "gpt-4.1-mini",
      "gpt-4.1-nano",
      "gpt-5",
      "gpt-5-mini",
      "gpt-5-nano",
      "gpt-3.5-turbo",
      "gpt-image-1",
      "gpt-image-1-mini",
      "dall-e-3",
    ]) {
      expect(PRICES[model], model).toBeDefined();
    }
    for (const [model, price] of Object.entries(PRICES)) {
      expect(price.cachedInput ?? price.input, model).toBeLessThanOrEqual(price.input);
      if (price.defaultImage) {
        expect(price.images?.[price.defaultImage.size]?.[price.defaultImage.quality], model).toBeGreaterThan(0);
      }
    }
  });
});

describe("embedding prices", () => {
  it("price embedding calls by their input tokens", () => {
    expect(estimateCost({ model: "text-embedding-3-small", promptTokens: 1_000_000 })).toBeCloseTo(0.02, 10);
    expect(estimateCost({ model: "text-embedding-3-large", promptTokens: 500_000 })).toBeCloseTo(0.065, 10);
    expect(estimateCost({ model: "text-embedding-ada-002", promptTokens: 10_000, completionTokens: 0 })).toBeCloseTo(0.001, 10);
  });
});

describe("priceFor", () => {
  it("maps dated snapshots to their model but not other variants", () => {
    expect(priceFor("gpt-4o-2024-08-06")).toBe(PRICES["gpt-4o"]);
    expect(priceFor("gpt-4o-mini-2024-07-18")).toBe(PRICES["gpt-4o-mini"]);
    expect(priceFor("gpt-5-mini-2025-08-07")).toBe(PRICES["gpt-5-mini"]);
    expect(priceFor("gpt-3.5-turbo-0125")).toBe(PRICES["gpt-3.5-turbo"]);
    expect(priceFor("gpt-4o-2024-05-13")).toEqual({ input: 5, output: 15 });
    expect(priceFor("GPT-4o")).toBe(PRICES["gpt-4o"]);
    expect(priceFor("openai/gpt-4.1-nano")).toBe(PRICES["gpt-4.1-nano"]);
    expect(priceFor("gpt-4o-realtime-preview")).toBeUndefined();
    expect(priceFor("gpt-5.1")).toBeUndefined();
    expect(priceFor("llama-3-70b")).toBeUndefined();
    expect(priceFor("constructor")).toBeUndefined();
  });

  it("prefers overrides, also for snapshots", () => {
    const overrides = { "gpt-4o": { input: 3, output: 12 } };
    expect(priceFor("gpt-4o-2024-11-20", overrides)).toEqual({ input: 3, output: 12 });
    expect(priceFor("gpt-4o-mini", overrides)).toBe(PRICES["gpt-4o-mini"]);
  });
});

describe("audio prices", () => {
  it("prices transcription by the minute heard and speech by the minute spoken or the character", () => {
    expect(AUDIO_PRICES_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // gpt-4o-mini-transcribe: $0.003 a minute; a 30-second voice note costs half of that, whatever the tokens.
    expect(estimateCost({ model: "gpt-4o-mini-transcribe", promptTokens: 300, completionTokens: 40, audioSeconds: 30 })).toBeCloseTo(0.0015, 12);
    expect(estimateCost({ model: "gpt-4o-mini-transcribe-2025-03-20", promptTokens: 0, audioSeconds: 60 })).toBeCloseTo(0.003, 12);
    expect(estimateCost({ model: "whisper-1", promptTokens: 0, audioSeconds: 90 })).toBeCloseTo(0.009, 12);
    expect(estimateCost({ model: "gpt-4o-transcribe", promptTokens: 0, audioSeconds: 60 })).toBeCloseTo(0.006, 12);
    // gpt-4o-mini-tts: $0.015 a minute of speech made; tts-1: $15 per million characters.
    expect(estimateCost({ model: "gpt-4o-mini-tts", promptTokens: 0, audioSeconds: 120, characters: 1800 })).toBeCloseTo(0.03, 12);
    expect(estimateCost({ model: "tts-1", promptTokens: 0, audioSeconds: 120, characters: 1000 })).toBeCloseTo(0.015, 12);
    expect(estimateCost({ model: "tts-1-hd", promptTokens: 0, characters: 1_000_000 })).toBeCloseTo(30, 10);
    // Chat models have no audio price: seconds and characters add nothing.
    expect(estimateCost({ model: "gpt-4o-mini", promptTokens: 0, audioSeconds: 60, characters: 100 })).toBe(0);
  });

  it("takes per-minute and per-character overrides", () => {
    const overrides = parsePriceOverrides('{"my-stt":{"input":0,"output":0,"perMinute":0.01},"my-tts":{"input":0,"output":0,"perMillionCharacters":20}}');
    expect(estimateCost({ model: "my-stt", promptTokens: 0, audioSeconds: 30 }, overrides)).toBeCloseTo(0.005, 12);
    expect(estimateCost({ model: "my-tts", promptTokens: 0, characters: 500 }, overrides)).toBeCloseTo(0.01, 12);
    expect(() => parsePriceOverrides('{"x":{"input":0,"output":0,"perMinute":-1}}')).toThrow(PriceOverrideError);
  });
});

describe("estimateCost", () => {
  it("prices prompt, cached and completion tokens per million", () => {
    // gpt-4o: 2.50 in, 1.25 cached, 10.00 out.
    expect(estimateCost({ model: "gpt-4o", promptTokens: 1_000_000, completionTokens: 1_000_000 })).toBeCloseTo(12.5, 10);
    expect(
      estimateCost({ model: "gpt-4o", promptTokens: 2000, cachedTokens: 1024, completionTokens: 500 }),
    ).toBeCloseTo((976 * 2.5 + 1024 * 1.25 + 500 * 10) / 1e6, 12);
    // The notes' example: 88 prompt + 77 completion tokens on gpt-3.5-turbo-0125.
    expect(estimateCost({ model: "gpt-3.5-turbo-0125", promptTokens: 88, completionTokens: 77 })).toBeCloseTo(
      (88 * 0.5 + 77 * 1.5) / 1e6,
      12,
    );
  });

  it("bills cached tokens at the input price when the model has no cache discount, and clamps them", () => {
    expect(estimateCost({ model: "gpt-3.5-turbo", promptTokens: 1000, cachedTokens: 800 })).toBeCloseTo(0.0005, 12);
    expect(estimateCost({ model: "gpt-4o-mini", promptTokens: 100, cachedTokens: 500 })).toBeCloseTo((100 * 0.075) / 1e6, 12);
  });

  it("prices images by size and quality, with the model's default for a bare count or auto", () => {
    expect(estimateCost({ model: "gpt-image-1", promptTokens: 0, images: [{ size: "1024x1024", quality: "high" }] })).toBeCloseTo(0.167, 10);
    expect(estimateCost({ model: "gpt-image-1", promptTokens: 0, images: 2 })).toBeCloseTo(0.084, 10);
    expect(estimateCost({ model: "gpt-image-1-mini", promptTokens: 0, images: [{ size: "auto", quality: "low", count: 3 }] })).toBeCloseTo(
      0.015,
      10,
    );
    expect(
      estimateCost({ model: "gpt-image-1", promptTokens: 40, images: [{ size: "1536x1024", quality: "medium" }] }),
    ).toBeCloseTo(0.063 + (40 * 5) / 1e6, 10);
    expect(estimateCost({ model: "dall-e-3", promptTokens: 0, images: [{ size: "1792x1024", quality: "hd" }] })).toBeCloseTo(0.12, 10);
  });

  it("returns null for unknown models and unpriced image sizes", () => {
    expect(estimateCost({ model: "my-local-llama", promptTokens: 10, completionTokens: 10 })).toBeNull();
    expect(estimateCost({ model: "gpt-image-1", promptTokens: 0, images: [{ size: "4096x4096" }] })).toBeNull();
    expect(estimateCost({ model: "gpt-4o", promptTokens: 0, images: 1 })).toBeNull();
  });

  it("uses overrides, including for models the table lacks", () => {
    const overrides = parsePriceOverrides('{"my-local-llama":{"input":0,"output":0},"gpt-4o":{"input":5,"output":20}}');
    expect(estimateCost({ model: "my-local-llama", promptTokens: 10 }, overrides)).toBe(0);
    expect(estimateCost({ model: "gpt-4o", promptTokens: 1e6, cachedTokens: 1e6 }, overrides)).toBeCloseTo(5, 10);
  });
});

describe("parsePriceOverrides", () => {
  it("accepts the documented shape and normalises model ids", () => {
    expect(parsePriceOverrides('{"GPT-4o":{"input":2.5,"output":10,"cachedInput":1.25}}')).toEqual({
      "gpt-4o": { input: 2.5, output: 10, cachedInput: 1.25 },
    });
    expect(
      parsePriceOverrides('{"img":{"input":1,"output":1,"images":{"1024x1024":{"low":0.01}},"defaultImage":{"size":"1024x1024","quality":"low"}}}'),
    ).toMatchObject({ img: { images: { "1024x1024": { low: 0.01 } } } });
  });

  it("rejects bad JSON and bad prices with a short reason", () => {
    expect(() => parsePriceOverrides("{gpt-4o: 1}")).toThrow(new PriceOverrideError("Price overrides are not valid JSON."));
    expect(() => parsePriceOverrides('{"gpt-4o":{"input":-1,"output":10}}')).toThrow(/^Invalid price overrides: gpt-4o\.input: /);
    expect(() => parsePriceOverrides('{"gpt-4o":{"input":1}}')).toThrow(/gpt-4o\.output/);
    expect(() => parsePriceOverrides('{"gpt-4o":{"input":1,"output":1,"inptu":2}}')).toThrow(PriceOverrideError);
    expect(() => parsePriceOverrides("[]")).toThrow(PriceOverrideError);
  });
});

describe("formatUsd", () => {
  it("shows small amounts to four decimals and larger ones to cents", () => {
    expect(formatUsd(0.0012)).toBe("$0.0012");
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(0.5)).toBe("$0.50");
    expect(formatUsd(0.042)).toBe("$0.042");
    expect(formatUsd(12.345)).toBe("$12.35");
    expect(formatUsd(1234.5)).toBe("$1,234.50");
    expect(formatUsd(Number.NaN)).toBe("$?");
    expect(formatUsd(-0.5)).toBe("-$0.50");
  });

  it("keeps two significant digits for fractions of a hundredth of a cent", () => {
    expect(formatUsd(0.0000072)).toBe("$0.0000072");
    expect(formatUsd(0.000034)).toBe("$0.000034");
    expect(formatUsd(0.000012)).toBe("$0.000012");
    expect(formatUsd(0.00004)).toBe("$0.000040");
  });
});
