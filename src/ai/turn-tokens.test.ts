import { beforeAll, describe, expect, it } from "vitest";
import { countTokens, loadEncoding, messageTokens } from "./tokens.js";
import { countTurnTokens } from "./turn-tokens.js";

beforeAll(async () => {
  await loadEncoding("o200k_base");
});

describe("countTurnTokens", () => {
  it("counts a turn as content + overhead + images + name", () => {
    const content = "看了山和海，也看了人山和人海。";
    expect(countTurnTokens({ content }, "o200k_base")).toBe(messageTokens(content, "o200k_base"));
    const images = [{ tokens: 85 }, { tokens: 765 }];
    expect(countTurnTokens({ content, images, name: "Alice" }, "o200k_base")).toBe(
      messageTokens(content, "o200k_base") + 85 + 765 + countTokens("Alice", "o200k_base") + 1,
    );
  });
});
