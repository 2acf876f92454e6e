import { describe, expect, it } from "vitest";
import type { MessageEntity } from "grammy/types";
import { MESSAGE_LIMIT, type FormattedText } from "./formatted-text.js";
import { checkEntities } from "./entity-check.js";
import { markdownToEntities } from "./markdown.js";
import { splitFormatted, utf16Safe } from "./split.js";
import { rng } from "../../test/helpers/random.js";

const WORDS = ["the", "model", "answer", "stream", "Telegram", "entity", "split", "中文", "测试", "😀", "ok", "a"];

function words(random: () => number, length: number): string {
  const out: string[] = [];
  let size = 0;
  while (size < length) {
    let word = WORDS[Math.floor(random() * WORDS.length)] as string;
    const style = random();
    if (style < 0.05) word = `**${word}**`;
    else if (style < 0.08) word = `*${word}*`;
    else if (style < 0.1) word = `\`${word}\``;
    else if (style < 0.12) word = `[${word}](https://example.com/${size})`;
    out.push(word);
    size += word.length + 1;
  }
  return out.join(" ");
}

/** A random answer in Markdown: paragraphs, lists, code blocks (short lines), quotes, a table now and then. */
function randomMarkdown(random: () => number, blocks: number): string {
  const out: string[] = [];
  for (let b = 0; b < blocks; b++) {
    const kind = random();
    if (kind < 0.45) {
      const lines = 1 + Math.floor(random() * 3);
      const paragraph: string[] = [];
      for (let l = 0; l < lines; l++) paragraph.push(words(random, 20 + Math.floor(random() * 300)));
      // Bold across a line break now and then, so entities cross cuts.
      out.push(random() < 0.2 ? `**${paragraph.join("\n")}**` : paragraph.join("\n"));
    } else if (kind < 0.6) {
      const items: string[] = [];
      const count = 2 + Math.floor(random() * 8);
      for (let k = 0; k < count; k++) items.push(`${random() < 0.3 ? "  " : ""}- ${words(random, 10 + Math.floor(random() * 80))}`);
      out.push(items.join("\n"));
    } else if (kind < 0.8) {
      const lines: string[] = [];
      const count = 2 + Math.floor(random() * 60);
      for (let k = 0; k < count; k++) {
        const indent = " ".repeat(Math.floor(random() * 4) * 2);
        lines.push(`${indent}let v${k} = f("${"x_*<>&".repeat(Math.floor(random() * 10))}"); // ${k}`);
      }
      out.push(`\`\`\`ts\n${lines.join("\n")}\n\`\`\``);
    } else if (kind < 0.9) {
      out.push(`> ${words(random, 40 + Math.floor(random() * 200))}\n> ${words(random, 30)}`);
    } else {
      const rows = ["| Name | Value |", "|---|---:|"];
      for (let k = 0; k < 3 + Math.floor(random() * 10); k++) rows.push(`| ${words(random, 10)} | ${k * 7} |`);
      out.push(rows.join("\n"));
    }
  }
  return out.join("\n\n");
}

interface Placed {
  part: FormattedText;
  /** Where the part's text starts in the original text. */
  start: number;
}

const isBlank = (s: string): boolean => s.trim() === "";

/** Finds each part in the original text (only whitespace may lie between parts) and checks everything on the way. */
function checkSplit(ft: FormattedText, parts: FormattedText[], limit: number): Placed[] {
  const placed: Placed[] = [];
  let pos = 0;
  for (const part of parts) {
    expect(part.text.length).toBeGreaterThan(0);
    expect(part.text.length).toBeLessThanOrEqual(limit);
    expect(part.text).toBe(part.text.trim());
    expect(checkEntities(part)).toBeNull();
    let start = pos;
    while (start < ft.text.length && isBlank(ft.text[start] as string)) start++;
    expect(ft.text.slice(start, start + part.text.length)).toBe(part.text);
    placed.push({ part, start });
    pos = start + part.text.length;
  }
  expect(isBlank(ft.text.slice(pos))).toBe(true);

  // Each part carries exactly the original entities clipped to it (whitespace-only pieces dropped).
  for (const { part, start } of placed) {
    const end = start + part.text.length;
    const expected: MessageEntity[] = [];
    for (const entity of ft.entities) {
      const from = Math.max(entity.offset, start);
      const to = Math.min(entity.offset + entity.length, end);
      if (to <= from || isBlank(ft.text.slice(from, to))) continue;
      expected.push({ ...entity, offset: from - start, length: to - from });
    }
    const key = (e: MessageEntity): string => JSON.stringify(e);
    expect(part.entities.map(key).sort()).toEqual(expected.map(key).sort());
  }
  return placed;
}

/** The whitespace dropped between consecutive parts, as [start, end) in the original text. */
function gaps(placed: Placed[]): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 1; k < placed.length; k++) {
    const previous = placed[k - 1] as Placed;
    out.push([previous.start + previous.part.text.length, (placed[k] as Placed).start]);
  }
  return out;
}

function preRanges(ft: FormattedText): [number, number][] {
  return ft.entities.filter((e) => e.type === "pre").map((e) => [e.offset, e.offset + e.length]);
}

describe("splitFormatted", () => {
  it("returns a text that fits unchanged", () => {
    const ft = markdownToEntities("**short** answer");
    const parts = splitFormatted(ft);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toBe(ft);
    const exact: FormattedText = { text: "x".repeat(MESSAGE_LIMIT), entities: [] };
    expect(splitFormatted(exact)[0]).toBe(exact);
  });

  it("splits a 10 000-char answer of paragraphs only at blank lines, each part as full as it can be", () => {
    const random = rng(1);
    const paragraphs: string[] = [];
    let size = 0;
    while (size < 13_000) {
      const paragraph = words(random, 100 + Math.floor(random() * 800));
      paragraphs.push(paragraph);
      size += paragraph.length + 2;
    }
    const ft = markdownToEntities(paragraphs.join("\n\n"));
    expect(ft.text.length).toBeGreaterThan(10_000);
    const parts = splitFormatted(ft);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    const placed = checkSplit(ft, parts, MESSAGE_LIMIT);
    for (const [a, b] of gaps(placed)) expect(ft.text.slice(a, b)).toBe("\n\n");
    // Greedy: the next paragraph would not have fitted into the part before it.
    for (let k = 0; k + 1 < placed.length; k++) {
      const current = placed[k] as Placed;
      const next = placed[k + 1] as Placed;
      let nextEnd = ft.text.indexOf("\n\n", next.start);
      if (nextEnd === -1) nextEnd = ft.text.length;
      expect(nextEnd - current.start).toBeGreaterThan(MESSAGE_LIMIT);
    }
  });

  it("holds its properties on several hundred random documents", () => {
    const random = rng(2024);
    const limits = [MESSAGE_LIMIT, 2000, 1000, 600, 300];
    let splits = 0;
    for (let run = 0; run < 400; run++) {
      const ft = markdownToEntities(randomMarkdown(random, 3 + Math.floor(random() * 25)));
      expect(checkEntities(ft)).toBeNull();
      const limit = limits[run % limits.length] as number;
      const parts = splitFormatted(ft, limit);
      const placed = checkSplit(ft, parts, limit);
      if (parts.length > 1) splits++;
      // Code lines here are under 100 units: a cut inside a code block falls between its lines.
      for (const [a, b] of gaps(placed)) {
        for (const [s, e] of preRanges(ft)) {
          if (s < a && b < e) expect(ft.text.slice(a, b)).toContain("\n");
        }
        expect(b).toBeGreaterThan(a); // never a cut in the middle of a word
      }
    }
    expect(splits).toBeGreaterThan(300);
  });

  it("prefers cutting before a code block when the part stays at least half full", () => {
    const code = Array.from({ length: 100 }, (_, k) => `const value${k} = compute(${k}); // line ${k}`).join("\n");
    const prose = Array.from({ length: 400 }, (_, k) => `lorem${k}`).join(" ").slice(0, 2500).trim();
    const ft = markdownToEntities(`${prose}\n\n\`\`\`js\n${code}\n\`\`\`\n\nDone.`);
    const parts = splitFormatted(ft);
    const placed = checkSplit(ft, parts, MESSAGE_LIMIT);
    expect(parts[0]?.text).toBe(ft.text.slice(0, prose.length).trim());
    expect(parts[1]?.entities[0]).toMatchObject({ type: "pre", offset: 0, language: "js" });
    expect(placed.length).toBeGreaterThanOrEqual(2);
  });

  it("cuts inside a code block between lines when cutting before it would leave the part under half full", () => {
    const code = Array.from({ length: 150 }, (_, k) => `    print("row ${k}", a_b * c[${k}])`).join("\n");
    const prose = words(rng(4), 800);
    const ft = markdownToEntities(`${prose}\n\n\`\`\`python\n${code}\n\`\`\``);
    const parts = splitFormatted(ft);
    const placed = checkSplit(ft, parts, MESSAGE_LIMIT);
    expect(parts.length).toBe(2);
    expect(parts[0]?.text.length).toBeGreaterThan(MESSAGE_LIMIT / 2);
    const [gap] = gaps(placed);
    expect(ft.text.slice(...(gap as [number, number]))).toContain("\n");
    // The pre continues in the next part with the same language; its lines are whole.
    expect(parts[0]?.entities.at(-1)).toMatchObject({ type: "pre", language: "python" });
    expect(parts[1]?.entities[0]).toMatchObject({ type: "pre", offset: 0, language: "python" });
    expect(parts[1]?.text.startsWith('print("row')).toBe(true);
    expect(parts[0]?.text.endsWith("])")).toBe(true);
  });

  it("cuts a single huge line of prose at spaces, and keeps entities and link urls across the cut", () => {
    const prose = Array.from({ length: 1100 }, (_, k) => `word${k}`).join(" ");
    const ft: FormattedText = {
      text: prose,
      entities: [
        { type: "bold", offset: 0, length: prose.length },
        { type: "text_link", offset: 3000, length: 3000, url: "https://example.com/x" },
      ],
    };
    const parts = splitFormatted(ft);
    const placed = checkSplit(ft, parts, MESSAGE_LIMIT);
    expect(parts.length).toBe(3);
    for (const [a, b] of gaps(placed)) expect(ft.text.slice(a, b)).toBe(" ");
    for (const part of parts) expect(part.entities[0]).toEqual({ type: "bold", offset: 0, length: part.text.length });
    const links = parts.flatMap((p) => p.entities.filter((e) => e.type === "text_link"));
    expect(links.length).toBe(2);
    for (const link of links) expect(link).toMatchObject({ url: "https://example.com/x" });
  });

  it("cuts hard at the limit when there is no space, never inside a surrogate pair", () => {
    const ft: FormattedText = { text: "😀".repeat(5000), entities: [{ type: "italic", offset: 0, length: 10_000 }] };
    const parts = splitFormatted(ft, 4095);
    checkSplit(ft, parts, 4095);
    expect(parts.map((p) => p.text.length)).toEqual([4094, 4094, 1812]);
    const plain: FormattedText = { text: "x".repeat(9000), entities: [] };
    expect(splitFormatted(plain).map((p) => p.text.length)).toEqual([4096, 4096, 808]);
  });

  it("cuts a code line longer than the limit inside the line (at a space when it has one)", () => {
    const line = Array.from({ length: 900 }, (_, k) => `arg${k}`).join(", ");
    const ft = markdownToEntities(`\`\`\`sh\nrun ${line}\n\`\`\``);
    const parts = splitFormatted(ft);
    const placed = checkSplit(ft, parts, MESSAGE_LIMIT);
    expect(parts.length).toBeGreaterThan(1);
    for (const [a, b] of gaps(placed)) expect(ft.text.slice(a, b)).toBe(" ");
    for (const part of parts) expect(part.entities).toEqual([{ type: "pre", offset: 0, length: part.text.length, language: "sh" }]);
  });

  it("prefers a line break to a space, and drops whitespace at the cut", () => {
    const lines = Array.from({ length: 200 }, (_, k) => `line ${k} with some words   `).join("\n");
    const ft: FormattedText = { text: lines, entities: [] };
    const parts = splitFormatted(ft, 1000);
    const placed = checkSplit(ft, parts, 1000);
    for (const [a, b] of gaps(placed)) expect(ft.text.slice(a, b)).toMatch(/^ *\n$/);
  });

  it("moves a cut index out of a surrogate pair", () => {
    expect(utf16Safe("a😀b", 2)).toBe(1);
    expect(utf16Safe("a😀b", 3)).toBe(3);
    expect(utf16Safe("a😀b", 1)).toBe(1);
  });
});
