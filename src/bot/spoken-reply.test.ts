import { describe, expect, it } from "vitest";
import { SPOKEN_ANSWER_MAX_CHARACTERS, speakableText } from "./spoken-reply.js";

describe("speakableText", () => {
  it("drops the markup, replaces code blocks and keeps short answers whole", () => {
    const { text, cut } = speakableText("# Title\n\nUse **bold** and a [link](https://x.test).\n\n```py\nprint(1)\n```\n\n- one\n- two", "(code)");
    expect(cut).toBe(false);
    expect(text).not.toMatch(/[*#`]|https/);
    expect(text).toContain("Use bold and a link.");
    expect(text).toContain("(code)");
    expect(text).not.toContain("print(1)");
  });

  it("cuts a long answer at the end of a sentence", () => {
    const { text, cut } = speakableText("This sentence is here. ".repeat(200), "(code)");
    expect(cut).toBe(true);
    expect(text.length).toBeLessThanOrEqual(SPOKEN_ANSWER_MAX_CHARACTERS);
    expect(text.endsWith("here.")).toBe(true);
  });
});
