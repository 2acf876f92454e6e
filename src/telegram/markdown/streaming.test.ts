/**
 * Streaming over a corpus of realistic answers (test/fixtures/markdown: code in lists and quotes, tables, links with
 * parentheses, CJK, emoji, nested lists, long code): every prefix, rendered as a draft is, must be valid for Telegram,
 * show no marker the final text does not show, and never put code over a link.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FormattedText } from "../formatted-text.js";
import { checkEntities } from "../entity-check.js";
import { markdownToEntities } from "../markdown.js";
import { parseMarkdown } from "./parser.js";
import { repairEntities } from "./repair.js";
import { renderTokens } from "./walker.js";

const DIR = join(import.meta.dirname, "../../../test/fixtures/markdown");
const CORPUS = readdirSync(DIR)
  .filter((f) => f.endsWith(".md"))
  .sort()
  .map((f) => ({ name: f, markdown: readFileSync(join(DIR, f), "utf8") }));

/** markdownToEntities without its plain-text fallback, so that a throw fails the test instead of hiding. */
function render(markdown: string, partial: boolean): FormattedText {
  const { text, entities } = renderTokens(parseMarkdown(markdown, partial));
  return repairEntities(text, entities);
}

/** The text a reader sees as text: outside code and pre, where markers would be markup left over. */
function outsideCode(ft: FormattedText): string {
  let out = "";
  let cursor = 0;
  for (const e of ft.entities) {
    if ((e.type !== "code" && e.type !== "pre") || e.offset < cursor) continue;
    out += ft.text.slice(cursor, e.offset);
    cursor = e.offset + e.length;
  }
  return out + ft.text.slice(cursor);
}

const MARKERS = ["**", "`", "```", "](", "||"];
const count = (s: string, marker: string): number => s.split(marker).length - 1;

function codeOverLink(ft: FormattedText): boolean {
  const links = ft.entities.filter((e) => e.type === "text_link");
  return ft.entities.some(
    (e) =>
      (e.type === "code" || e.type === "pre") &&
      links.some((l) => e.offset < l.offset + l.length && l.offset < e.offset + e.length),
  );
}

describe("markdownToEntities while streaming, over the answer corpus", () => {
  it("has at least 30 realistic answers", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(30);
  });

  it("is valid at every prefix, shows no marker the final text hides, never puts code over a link", () => {
    const problems: string[] = [];
    let prefixes = 0;
    for (const { name, markdown } of CORPUS) {
      const final = render(markdown, false);
      const finalVisible = outsideCode(final);
      expect(checkEntities(final), name).toBeNull();
      expect(codeOverLink(final), name).toBe(false);
      for (let k = 1; k <= markdown.length; k++) {
        const prefix = markdown.slice(0, k);
        const ft = render(prefix, true);
        prefixes++;
        const invalid = checkEntities(ft);
        const visible = outsideCode(ft);
        const stray = MARKERS.filter((m) => count(visible, m) > count(finalVisible, m));
        if (invalid || stray.length > 0 || codeOverLink(ft)) {
          problems.push(`${name} @${k} ${JSON.stringify(prefix.slice(-40))}: ${invalid ?? ""} ${stray.join(" ")} → ${JSON.stringify(ft.text.slice(-60))}`);
        }
      }
      // The whole answer, still marked partial, already looks as its final text does.
      expect(render(markdown, true), name).toEqual(final);
    }
    console.log(`${CORPUS.length} answers, ${prefixes} prefixes, ${problems.length} problems`);
    expect(problems.slice(0, 20)).toEqual([]);
  });

  it("ends every paragraph as the final text does", () => {
    for (const { name, markdown } of CORPUS) {
      for (let k = markdown.indexOf("\n\n"); k !== -1; k = markdown.indexOf("\n\n", k + 1)) {
        const prefix = markdown.slice(0, k + 2);
        expect(markdownToEntities(prefix, { partial: true }), `${name} @${k}`).toEqual(markdownToEntities(prefix));
      }
    }
  });
});
