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
import { renderMarkdown } from "./drafts.js";
import { repairEntities } from "./repair.js";
import { rng } from "../../../test/helpers/random.js";

const DIR = join(import.meta.dirname, "../../../test/fixtures/markdown");
const CORPUS = readdirSync(DIR)
  .filter((f) => f.endsWith(".md"))
  .sort()
  .map((f) => ({ name: f, markdown: readFileSync(join(DIR, f), "utf8") }));

/** markdownToEntities without its plain-text fallback, so that a throw fails the test instead of hiding. */
function render(markdown: string, partial: boolean, reuse = true): FormattedText {
  const { text, entities } = renderMarkdown(markdown, partial, reuse);
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
      const final = render(markdown, false, false);
      const finalVisible = outsideCode(final);
      expect(checkEntities(final), name).toBeNull();
      expect(codeOverLink(final), name).toBe(false);
      for (let k = 1; k <= markdown.length; k++) {
        const prefix = markdown.slice(0, k);
        const ft = render(prefix, true);
        prefixes++;
        // A draft re-read from its last block looks exactly as the whole draft read again.
        if (JSON.stringify(ft) !== JSON.stringify(render(prefix, true, false))) problems.push(`${name} @${k}: reuse differs`);
        const invalid = checkEntities(ft);
        const visible = outsideCode(ft);
        const stray = MARKERS.filter((m) => count(visible, m) > count(finalVisible, m));
        if (invalid || stray.length > 0 || codeOverLink(ft)) {
          problems.push(`${name} @${k} ${JSON.stringify(prefix.slice(-40))}: ${invalid ?? ""} ${stray.join(" ")} → ${JSON.stringify(ft.text.slice(-60))}`);
        }
      }
      // The whole answer, still marked partial, already looks as its final text does, and so does the final text
      // rendered on top of its drafts.
      expect(render(markdown, true), name).toEqual(final);
      expect(render(markdown, false), name).toEqual(final);
    }
    console.log(`${CORPUS.length} answers, ${prefixes} prefixes, ${problems.length} problems`);
    expect(problems.slice(0, 20)).toEqual([]);
  });

  it("renders a text on top of an earlier render of its start exactly as it renders it whole (random block soup)", () => {
    const pieces = [
      "- ", "1. ", "2) ", "> ", "  ", "    ", "```\n", "~~~py\n", "\n", "\n\n", "| a | b |\n", "|---|---|\n", "---\n", "===\n",
      "***\n", "# ", "text ", "more words", "**", "*", "`", "[x]", "(https://a.example)", "<div>\n", "</div>\n", "- [ ] ",
      "***bold*** ", "😀", "中文", "\\", "|", "||", "~~",
    ];
    const random = rng(1010);
    let checked = 0;
    for (let run = 0; run < 150; run++) {
      const parts: string[] = [];
      for (let k = 5 + Math.floor(random() * 40); k > 0; k--) parts.push(pieces[Math.floor(random() * pieces.length)] as string);
      const doc = parts.join("");
      for (let k = 1; k <= doc.length; k++) {
        const prefix = doc.slice(0, k);
        for (const partial of [true, false]) {
          expect(render(prefix, partial), JSON.stringify(prefix)).toEqual(render(prefix, partial, false));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(10_000);
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
