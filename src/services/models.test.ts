import { describe, expect, it } from "vitest";
import { chosenModel, effectiveModel } from "./models.js";

const config = { openai: { model: "gpt-4.1-mini" }, allowedModels: ["gpt-4.1-mini", "gpt-4.1", "gpt-5-mini"] };

describe("effectiveModel", () => {
  it("is the chat's choice while it is allowed", () => {
    expect(effectiveModel(config, { model: "gpt-4.1" })).toBe("gpt-4.1");
    expect(chosenModel(config, { model: "gpt-4.1" })).toBe("gpt-4.1");
  });

  it("falls back to the configured model without a choice or when the choice is no longer allowed", () => {
    expect(effectiveModel(config, {})).toBe("gpt-4.1-mini");
    expect(effectiveModel(config, { model: "gpt-4" })).toBe("gpt-4.1-mini");
    expect(chosenModel(config, { model: "gpt-4" })).toBeUndefined();
  });
});
