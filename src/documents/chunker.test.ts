import { beforeAll, describe, expect, it } from "vitest";
import { chunkDocument, locationLabel } from "./chunker.js";
import { makeDocument } from "./document.js";
import { countTokens, loadEncoding } from "../ai/tokens.js";

beforeAll(async () => {
  await loadEncoding("o200k_base");
});
const count = (text: string) => countTokens(text, "o200k_base");

const sentence = (i: number) => `Sentence number ${i} talks about the lighthouse keeper and the storm on the reef.`;
const paragraph = (from: number, n: number) => Array.from({ length: n }, (_, i) => sentence(from + i)).join(" ");

describe("chunkDocument", () => {
  it("keeps small documents whole, with their location", () => {
    const doc = makeDocument("pdf", [{ text: "Short page.", page: 1 }, { text: "Another.", page: 2 }]);
    const chunks = chunkDocument(doc, { countTokens: count });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.text).toBe("[p. 1]\nShort page.\n\n[p. 2]\nAnother.");
    expect(locationLabel(chunks[0]!.location)).toBe("pp. 1–2");
    expect(chunks[0]!.tokens).toBe(count(chunks[0]!.text));
  });

  it("cuts between paragraphs near the target, never inside one that fits", () => {
    const paragraphs = Array.from({ length: 12 }, (_, i) => paragraph(i * 10, 10));
    const doc = makeDocument("text", [{ text: paragraphs.join("\n\n") }]);
    const chunks = chunkDocument(doc, { countTokens: count, targetTokens: 500 });
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) {
      expect(chunk.tokens).toBeLessThanOrEqual(500);
      for (const part of chunk.text.split("\n\n")) expect(paragraphs).toContain(part);
    }
    expect(chunks.map((c) => c.text).join("\n\n")).toBe(paragraphs.join("\n\n"));
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
  });

  it("splits an overlong paragraph at sentences, and an endless word by characters", () => {
    const doc = makeDocument("text", [{ text: paragraph(0, 80) }, { text: "x".repeat(20_000) }]);
    const chunks = chunkDocument(doc, { countTokens: count, targetTokens: 300 });
    for (const chunk of chunks) expect(chunk.tokens).toBeLessThanOrEqual(320);
    expect(chunks.some((c) => c.text.startsWith("Sentence number") && c.text.endsWith("reef."))).toBe(true);
    expect(chunks.filter((c) => /^x+$/.test(c.text)).reduce((n, c) => n + c.text.length, 0)).toBe(20_000);
  });

  it("starts a chunk at every heading and repeats the heading on its continuations", () => {
    const doc = makeDocument("docx", [
      { heading: "Anemones", text: `Anemones\n\n${paragraph(0, 40)}\n\n${paragraph(40, 40)}` },
      { heading: "Safety", text: "Safety\n\nCheck the tide table." },
    ]);
    const chunks = chunkDocument(doc, { countTokens: count, targetTokens: 500 });
    const anemones = chunks.filter((c) => c.location.heading === "Anemones");
    expect(anemones.length).toBeGreaterThan(1);
    for (const chunk of anemones) expect(chunk.text.startsWith("Anemones\n")).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ text: "Safety\n\nCheck the tide table.", location: { heading: "Safety" } });
    expect(locationLabel(chunks.at(-1)!.location)).toBe("Safety");
  });

  it("repeats a CSV header on every chunk and cuts only between rows", () => {
    const rows = Array.from({ length: 400 }, (_, i) => `city${i},country${i},${i * 1000}`);
    const doc = makeDocument("csv", [{ header: "city,country,population", text: rows.join("\n") }]);
    const chunks = chunkDocument(doc, { countTokens: count, targetTokens: 200 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      const [header, ...lines] = chunk.text.split("\n");
      expect(header).toBe("city,country,population");
      for (const line of lines) expect(rows).toContain(line);
      expect(chunk.tokens).toBeLessThanOrEqual(200);
    }
  });

  it("cites the page a chunk continues on when a page is cut", () => {
    const doc = makeDocument("pdf", [
      { page: 1, text: "Page one." },
      { page: 2, text: Array.from({ length: 6 }, (_, i) => paragraph(i * 10, 10)).join("\n\n") },
    ]);
    const chunks = chunkDocument(doc, { countTokens: count, targetTokens: 300 });
    expect(locationLabel(chunks[0]!.location)).toBe("pp. 1–2");
    for (const chunk of chunks.slice(1)) expect(locationLabel(chunk.location)).toBe("p. 2");
  });
});

describe("page ranges", () => {
  it("names only the pages whose text a chunk holds: a page that does not fit starts the next chunk", () => {
    const page = (n: number) => ({ page: n, text: paragraph(n * 100, 18) });
    const doc = makeDocument("pdf", [page(1), page(2), page(3)]);
    expect(count(doc.sections[0]!.text)).toBeGreaterThan(250);
    const chunks = chunkDocument(doc, { countTokens: count, targetTokens: 500 });
    expect(chunks.map((c) => locationLabel(c.location))).toEqual(["p. 1", "p. 2", "p. 3"]);
    expect(chunks.map((c) => c.text)).toEqual(doc.sections.map((s) => s.text));
  });
});
