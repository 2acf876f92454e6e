/** Every fixture document read through extractDocument: the right text, pages and headings, and one reason per bad file. */
import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { makeDocuments, makeTextPdf, makeZipBomb, type DocumentFixtures } from "../../test/fixtures/documents.js";
import { DocumentError } from "./document-error.js";
import { extractDocument } from "./extract.js";
import { detectFormat } from "./detect.js";
import { boundedZip } from "./zip-guard.js";
import { makeZip } from "../../test/fixtures/documents.js";

let docs: DocumentFixtures;
beforeAll(async () => {
  docs = await makeDocuments();
}, 120_000);

const read = (path: string) => readFile(path).then((b) => new Uint8Array(b));
const words = (text: string) => text.replace(/\s+/g, " ").trim();

async function reason(path: string, fileName: string): Promise<string> {
  try {
    await extractDocument(await read(path), { fileName });
    return "read";
  } catch (err) {
    if (err instanceof DocumentError) return err.reason;
    throw err;
  }
}

describe("extractDocument", () => {
  it("reads a PDF page by page, with its title", async () => {
    const doc = await extractDocument(await read(docs.textPdf.path), { fileName: "report.pdf" });
    expect(doc.format).toBe("pdf");
    expect(doc.pages).toBe(3);
    expect(doc.title).toBe("Skerryvore Lighthouse Trust annual report");
    expect(doc.sections.map((s) => s.page)).toEqual([1, 2, 3]);
    doc.sections.forEach((s, i) => expect(words(s.text)).toBe(words(docs.textPdf.pages[i]!)));
  });

  it("tells paragraphs apart by the space between lines", async () => {
    const pdf = await makeTextPdf(["First paragraph, line one.\nline two.\n\nSecond paragraph."]);
    const doc = await extractDocument(new Uint8Array(pdf), { fileName: "p.pdf" });
    expect(doc.sections[0]!.text).toBe("First paragraph, line one.\nline two.\n\nSecond paragraph.");
  });

  it("reads a DOCX with its headings", async () => {
    const doc = await extractDocument(await read(docs.docx.path), { fileName: "guide.docx" });
    expect(doc.format).toBe("docx");
    expect(doc.title).toBe(docs.docx.title);
    expect(doc.sections.map((s) => s.heading)).toEqual([docs.docx.title, ...docs.docx.headings]);
    const all = doc.sections.map((s) => s.text).join("\n\n");
    for (const p of docs.docx.paragraphs) expect(all).toContain(p);
    expect(doc.sections.find((s) => s.heading === "Safety")!.text).toContain("Check the tide table");
  });

  it("reads Markdown by heading, CSV with its header, JSON, code and plain text", async () => {
    const md = await extractDocument(await read(docs.markdown.path), { fileName: "notes.md" });
    expect(md.title).toBe("Release notes");
    expect(md.sections.map((s) => s.heading)).toEqual(docs.markdown.headings);
    expect(md.sections[2]!.text).toContain("aurora migrate --dry-run");

    const csv = await extractDocument(await read(docs.csv.path), { fileName: "cities.csv", mimeType: "text/csv" });
    expect(csv.sections[0]!.header).toBe("city,country,population");
    expect(csv.sections[0]!.text).toContain("上海,中国,24870895");

    const json = await extractDocument(await read(docs.json.path), { fileName: "project.json" });
    expect(json.format).toBe("json");
    expect(JSON.parse(json.sections[0]!.text)).toEqual(docs.json.value);

    const code = await extractDocument(await read(docs.code.path), { fileName: "fibonacci.ts" });
    expect(code.format).toBe("code");
    expect(code.sections[0]!.text).toBe(docs.code.text.trim());

    const text = await extractDocument(await read(docs.plainText.path), { fileName: "notes.txt", mimeType: "text/plain" });
    expect(text.sections[0]!.text).toBe(docs.plainText.text.trim());
  });

  it("reads an HTML file's article only, without the clutter", async () => {
    const doc = await extractDocument(await read(docs.html.path), { fileName: "article.html" });
    expect(doc.title).toBe(docs.html.title);
    const all = doc.sections.map((s) => s.text).join("\n\n");
    for (const p of docs.html.paragraphs) expect(words(all)).toContain(words(p));
    for (const noise of docs.html.noise) expect(all).not.toContain(noise);
    expect(doc.sections.map((s) => s.heading).filter(Boolean)).toEqual(docs.html.headings);
  });

  it("decodes UTF-16 and GB 18030 text, and refuses binary posing as text", async () => {
    const utf16 = new Uint8Array([0xff, 0xfe, ...Buffer.from("héllo 世界", "utf16le")]);
    expect((await extractDocument(utf16, { fileName: "a.txt" })).sections[0]!.text).toBe("héllo 世界");
    const gbk = new Uint8Array([0xc4, 0xe3, 0xba, 0xc3, 0xca, 0xc0, 0xbd, 0xe7]); // 你好世界 in GBK
    expect((await extractDocument(gbk, { fileName: "a.txt" })).sections[0]!.text).toBe("你好世界");
    expect(await reason(docs.unknownBinary.path, "notes.txt")).toBe("unsupported");
  });

  it("says what is wrong with each bad file", async () => {
    expect(await reason(docs.encryptedPdf.path, "locked.pdf")).toBe("encrypted");
    expect(await reason(docs.corruptPdf.path, "truncated.pdf")).toBe("corrupt");
    expect(await reason(docs.imagePdf.path, "scanned.pdf")).toBe("no_text");
    expect(await reason(docs.empty.path, "empty.txt")).toBe("empty");
    expect(await reason(docs.emptyPdf.path, "empty.pdf")).toBe("empty");
    expect(await reason(docs.unknownBinary.path, "blob.bin")).toBe("unsupported");
    expect(await reason(docs.docxBomb.path, "bomb.docx")).toBe("too_large");
    expect(await reason(docs.docxBombLying.path, "bomb-lying.docx")).toBe("too_large");
    // A .pdf that is not one, a "docx" that is text, a zip that is no Word file.
    expect(await reason(docs.plainText.path, "fake.pdf")).toBe("corrupt");
    expect(await reason(docs.plainText.path, "fake.docx")).toBe("corrupt");
    const zip = await makeZip({ "readme.txt": "hello" });
    await expect(extractDocument(new Uint8Array(zip), { fileName: "x.docx" })).rejects.toMatchObject({ reason: "corrupt" });
    await expect(extractDocument(new Uint8Array(zip), { fileName: "x.zip" })).rejects.toMatchObject({ reason: "unsupported" });
  });
});

describe("the zip guard", () => {
  it("refuses an honest bomb from its directory, before inflating anything", async () => {
    const bytes = await read(docs.docxBomb.path);
    const before = process.memoryUsage().arrayBuffers;
    await expect(boundedZip(bytes)).rejects.toMatchObject({ reason: "too_large", message: expect.stringContaining("declares") });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it("stops a lying bomb as soon as it inflates past what it declared", async () => {
    const bytes = await read(docs.docxBombLying.path);
    await expect(boundedZip(bytes)).rejects.toMatchObject({ reason: "too_large" });
  });

  it("refuses an entry whose compression ratio no office file has, even under the total bound", async () => {
    const bomb = await makeZipBomb({ expandedBytes: 40 * 1024 * 1024 });
    await expect(boundedZip(new Uint8Array(bomb.bytes))).rejects.toMatchObject({ reason: "too_large", message: expect.stringContaining("expand") });
  });

  it("passes a real DOCX through unchanged in content", async () => {
    const { files } = await boundedZip(await read(docs.docx.path));
    expect(new TextDecoder().decode(files.get("word/document.xml"))).toContain("Beadlet anemones");
  });
});

describe("detectFormat", () => {
  it("trusts signatures over names", () => {
    const pdf = new TextEncoder().encode("%PDF-1.7\n...");
    expect(detectFormat(pdf, { fileName: "notes.txt" })).toBe("pdf");
    expect(detectFormat(new TextEncoder().encode("hello"), { fileName: "x.py" })).toBe("code");
    expect(detectFormat(new TextEncoder().encode("hello"), { fileName: "Dockerfile" })).toBe("code");
    expect(detectFormat(new TextEncoder().encode("hello"), {})).toBe("text");
    expect(detectFormat(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0]), { fileName: "sheet.xlsx" })).toBe("binary");
  });
});
