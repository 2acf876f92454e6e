/**
 * Documents sent to the bot, end to end over real HTTP: each kind read (the model request carries the right text,
 * with page or section labels and the instruction to cite them), follow-up questions, groups, and one clear line for
 * each file that cannot be read (and no model call for it).
 */
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { botText, newGroup, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";
import { makeDocuments, type DocumentFixtures } from "../fixtures/documents.js";
import type { ChatRequestBody } from "../servers/openai.js";
import { historyKey } from "../../src/storage/history.js";

let h: Harness;
let docs: DocumentFixtures;
beforeAll(async () => {
  docs = await makeDocuments();
  h = await startHarness();
}, 120_000);
afterAll(() => h.close());

const file = async (path: string, file_name: string, mime_type: string) => ({ bytes: new Uint8Array(await readFile(path)), file_name, mime_type });
const words = (text: string) => text.replace(/\s+/g, " ");
/** The material sent with the question: the system message right before it. */
function contextOf(body: ChatRequestBody): string {
  const i = body.messages.length - 2;
  const m = body.messages[i]!;
  return m.role === "system" && i > 0 ? String(m.content) : "";
}
const lastRequest = () => h.openai.chatRequests().at(-1)!;

describe("documents in a private chat", () => {
  it("sends a PDF whole with its page labels and the question, and asks for citations", async () => {
    const { user, chat } = newPrivateChat(h);
    const before = h.openai.chatRequests().length;
    await say(h, { chat: chat.id, from: user, document: await file(docs.textPdf.path, "report.pdf", "application/pdf"), caption: "What did the lantern restoration cost?" });
    expect(h.openai.chatRequests().length).toBe(before + 1);
    const body = lastRequest();
    expect(body.messages.at(-1)!.content).toBe("📄 report.pdf\nWhat did the lantern restoration cost?");
    const context = contextOf(body);
    expect(context).toMatch(/cite the source in square brackets .*\[report\.pdf, p\. 2\]/s);
    expect(context).toContain('<document title="report.pdf">');
    for (const [i, page] of docs.textPdf.pages.entries()) expect(words(context)).toContain(`[p. ${i + 1}] ${words(page)}`);
    // A document that fits is sent whole: no embeddings.
    expect(h.openai.embeddingRequests()).toHaveLength(0);
    expect(botText(h, chat.id)).toContain("You said: 📄 report.pdf");

    // History keeps the question and a reference, never the document's text.
    const turns = await h.app.deps.history.load(historyKey(chat.id));
    expect(turns[0]).toMatchObject({ content: "📄 report.pdf\nWhat did the lantern restoration cost?", documents: [{ title: "report.pdf" }] });
    expect(JSON.stringify(turns)).not.toContain("copper");

    // A follow-up still has the document.
    await say(h, { chat: chat.id, from: user, text: "And when do the puffins nest?" });
    expect(words(contextOf(lastRequest()))).toContain(words(docs.textPdf.pages[2]!));
    expect(lastRequest().messages.at(-1)!.content).toBe("And when do the puffins nest?");
  });

  it("summarises a document sent without a caption, in the user's language", async () => {
    const { user, chat } = newPrivateChat(h);
    await say(h, { chat: chat.id, from: user, document: await file(docs.docx.path, "guide.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document") });
    expect(lastRequest().messages.at(-1)!.content).toBe("📄 guide.docx\nSummarise this document.");
    const context = contextOf(lastRequest());
    expect(context).toContain("[Safety]");
    for (const p of docs.docx.paragraphs) expect(context).toContain(p);

    const zh = newPrivateChat(h, { language_code: "zh" });
    await say(h, { chat: zh.chat.id, from: zh.user, document: await file(docs.markdown.path, "notes.md", "text/markdown") });
    expect(lastRequest().messages.at(-1)!.content).toBe("📄 notes.md\n总结这份文档。");
    expect(contextOf(lastRequest())).toContain("aurora migrate --dry-run");
  });

  it.each([
    ["csv", "cities.csv", "text/csv", (d: DocumentFixtures) => d.csv.text],
    ["json", "project.json", "application/json", (d: DocumentFixtures) => d.json.text],
    ["code", "fibonacci.ts", "application/octet-stream", (d: DocumentFixtures) => d.code.text],
    ["text", "notes.txt", "text/plain", (d: DocumentFixtures) => d.plainText.text],
  ])("reads %s files", async (kind, name, mime, text) => {
    const { user, chat } = newPrivateChat(h);
    const path = { csv: docs.csv.path, json: docs.json.path, code: docs.code.path, text: docs.plainText.path }[kind]!;
    await say(h, { chat: chat.id, from: user, document: await file(path, name, mime), caption: "what is in it?" });
    expect(contextOf(lastRequest())).toContain(text(docs).trim());
  });

  it("reads an HTML file's article without its clutter", async () => {
    const { user, chat } = newPrivateChat(h);
    await say(h, { chat: chat.id, from: user, document: await file(docs.html.path, "article.html", "text/html"), caption: "tl;dr?" });
    const context = contextOf(lastRequest());
    for (const p of docs.html.paragraphs) expect(words(context)).toContain(words(p));
    for (const noise of docs.html.noise) expect(context).not.toContain(noise);
  });

  it("answers a question replying to a document it was sent earlier", async () => {
    const { user, chat } = newPrivateChat(h);
    const sent = h.telegram.userSends({ chat: chat.id, from: user, document: await file(docs.textPdf.path, "report.pdf", "application/pdf") });
    await h.app.whenHandled(h.app.handled + 1);
    await say(h, { chat: chat.id, from: user, text: "Who founded it?", replyTo: sent.message_id });
    expect(lastRequest().messages.at(-1)!.content).toBe("📄 report.pdf\nWho founded it?");
    expect(contextOf(lastRequest())).toContain("founded in 1844");
  });
});

describe("files that cannot be read", () => {
  const cases: Array<[string, (d: DocumentFixtures) => string, string, string, string]> = [
    ["an encrypted PDF", (d) => d.encryptedPdf.path, "locked.pdf", "application/pdf", "This PDF is protected with a password, so I can't read it. Please send a copy without the password."],
    ["a truncated PDF", (d) => d.corruptPdf.path, "truncated.pdf", "application/pdf", "This file is damaged or isn't what its name says, so I can't read it."],
    ["a scanned PDF", (d) => d.imagePdf.path, "scanned.pdf", "application/pdf", "This PDF has no text layer (it looks like a scan), so there is nothing for me to read. Send a version with text, or photos of the pages."],
    ["an empty file", (d) => d.empty.path, "empty.txt", "text/plain", "This file is empty."],
    ["an empty PDF", (d) => d.emptyPdf.path, "empty.pdf", "application/pdf", "This file is empty."],
    ["a zip bomb posing as DOCX", (d) => d.docxBomb.path, "bomb.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "This file would expand far beyond what a document needs (it looks like a zip bomb), so I won't open it."],
    ["a zip bomb that lies about its size", (d) => d.docxBombLying.path, "report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "This file would expand far beyond what a document needs (it looks like a zip bomb), so I won't open it."],
    ["an unknown binary", (d) => d.unknownBinary.path, "blob.bin", "application/octet-stream", "I can't read this kind of file. I read PDF, Word (.docx), plain text, Markdown, HTML, CSV, JSON and source code."],
  ];
  it.each(cases)("%s gets one line and no model call", async (_, path, name, mime, line) => {
    const { user, chat } = newPrivateChat(h);
    const before = h.openai.requests.length;
    await say(h, { chat: chat.id, from: user, document: await file(path(docs), name, mime), caption: "what does it say?" });
    expect(h.telegram.botMessages(chat.id).map((m) => m.text)).toEqual([line]);
    expect(h.openai.requests.length).toBe(before);
    // Nothing else broke: the chat answers the next question.
    await say(h, { chat: chat.id, from: user, text: "hello" });
    expect(botText(h, chat.id)).toContain("You said: hello");
  });

  it("says when a file is over Telegram's 20 MB download limit, without trying", async () => {
    const zh = newPrivateChat(h, { language_code: "zh" });
    const from = h.telegram.calls.length;
    await say(h, { chat: zh.chat.id, from: zh.user, document: { bytes: new Uint8Array(20 * 1024 * 1024 + 1), file_name: "huge.pdf", mime_type: "application/pdf" } });
    expect(h.telegram.botMessages(zh.chat.id).map((m) => m.text)).toEqual(["这个文件太大了：Telegram 只允许机器人下载最多 20 MB 的文件。"]);
    expect(h.telegram.calls.slice(from).some((c) => c.method === "getFile")).toBe(false);
  });
});

describe("documents in groups", () => {
  it("reads a document whose caption mentions the bot or starts with /ask, or that /ask replies to; ignores the rest", async () => {
    const { user, chat } = newGroup(h);
    const bot = h.app.bot.botInfo.username;
    const pdf = await file(docs.textPdf.path, "report.pdf", "application/pdf");
    const before = h.openai.chatRequests().length;
    await say(h, { chat: chat.id, from: user, document: pdf });
    await say(h, { chat: chat.id, from: user, document: pdf, caption: "our annual report" });
    expect(h.openai.chatRequests().length).toBe(before);
    expect(h.telegram.botMessages(chat.id)).toHaveLength(0);

    await say(h, { chat: chat.id, from: user, document: pdf, caption: `@${bot} who founded the trust?` });
    expect(lastRequest().messages.at(-1)!.content).toBe(`${user.first_name}: 📄 report.pdf\nwho founded the trust?`);
    await say(h, { chat: chat.id, from: user, document: pdf, caption: "/ask what about the seals?" });
    expect(lastRequest().messages.at(-1)!.content).toBe(`${user.first_name}: 📄 report.pdf\nwhat about the seals?`);
    const quiet = h.telegram.messages(chat.id).find((m) => m.document && m.caption === undefined)!;
    await say(h, { chat: chat.id, from: user, text: "/ask how much did visitors bring in?", replyTo: quiet.message_id });
    expect(lastRequest().messages.at(-1)!.content).toBe(`${user.first_name}: 📄 report.pdf\nhow much did visitors bring in?`);
    expect(contextOf(lastRequest())).toContain("48,200 pounds");
    expect(h.openai.chatRequests().length).toBe(before + 3);
  });
});
