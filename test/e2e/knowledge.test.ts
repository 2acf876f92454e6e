/**
 * Retrieval by embeddings end to end: a document too long to send whole is chunked, embedded in batches (the OpenAI
 * test server's deterministic vectors make the chunk sharing the question's rare words provably the nearest), and the
 * question gets the nearest chunks with their page labels; a chat's knowledge (/learn, /knowledge, /forget and its
 * button, admins only in groups) is retrieved from by every later question; embedding calls are admitted (a budget
 * refuses them) and counted in /usage.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { botText, newGroup, newPrivateChat, say, startHarness, type Harness, shownMessages } from "../helpers/harness.js";
import { makeDocuments, makeTextPdf, type DocumentFixtures } from "../fixtures/documents.js";
import { readFile } from "node:fs/promises";
import type { ChatRequestBody, EmbeddingRequestBody } from "../servers/openai.js";
import type { FakeUser } from "../servers/bot-api.js";
import { documentId } from "../../src/storage/documents.js";

// Forty words every page uses about equally often, none of them in a question below.
const FILLER = (
  "harbour timetable weather notice passenger vessel crossing morning evening pier ticket office island quay " +
  "captain deck rope anchor cargo freight schedule delay departure arrival berth tide swell gale buoy beacon " +
  "channel sound strait mainland village school church market bakery garage"
).split(" ");
/** Page n: filler from a shared vocabulary plus one sentence of words only that page has. */
const RARE: Record<number, string> = {
  7: "The zephyrine quartermaster buried the obsidian ledger beneath the lighthouse cistern.",
  23: "Marmalade pelicans migrated over the tamarisk dunes every Michaelmas.",
};
function longPages(count: number): string[] {
  return Array.from({ length: count }, (_, p) => {
    const words = Array.from({ length: 320 }, (_, i) => FILLER[(i + p) % FILLER.length]).join(" ");
    return `${words}. ${RARE[p + 1] ?? ""}`;
  });
}

let h: Harness;
let docs: DocumentFixtures;
let longPdf: Uint8Array;
beforeAll(async () => {
  docs = await makeDocuments();
  longPdf = new Uint8Array(await makeTextPdf(longPages(30), { title: "Ferry log" }));
  // A small knowledge budget, so the 30-page log (about 11,000 tokens) is retrieved from, never sent whole.
  h = await startHarness({ env: { KNOWLEDGE_TOKEN_BUDGET: "2000", KNOWLEDGE_CHUNKS_PER_QUESTION: "2" } });
}, 120_000);
afterAll(() => h.close());

const lastRequest = () => h.openai.chatRequests().at(-1)!;
function contextOf(body: ChatRequestBody): string {
  const m = body.messages.at(-2)!;
  return m.role === "system" && body.messages.length > 2 ? String(m.content) : "";
}
const excerpts = (context: string) => [...context.matchAll(/<excerpt title="([^"]+)"(?: url="[^"]+")? location="([^"]+)">/g)].map((m) => `${m[1]} ${m[2]}`);
const pdf = () => ({ bytes: longPdf, file_name: "ferry-log.pdf", mime_type: "application/pdf" });
const embeddingsSince = (from: number): EmbeddingRequestBody[] => h.openai.embeddingRequests().slice(from);
const inputs = (body: EmbeddingRequestBody) => (Array.isArray(body.input) ? body.input : [body.input]) as string[];

describe("a document too long to send whole", () => {
  it("is chunked and embedded in one batch, and the question gets the nearest chunk with its page", async () => {
    const { user, chat } = newPrivateChat(h);
    const from = h.openai.embeddingRequests().length;
    await say(h, { chat: chat.id, from: user, document: pdf(), caption: "Where did the quartermaster bury the obsidian ledger?" });
    const [chunks, question, ...rest] = embeddingsSince(from);
    expect(rest).toHaveLength(0);
    expect(chunks!.model).toBe("text-embedding-3-small");
    expect(inputs(chunks!).length).toBeGreaterThan(10);
    expect(inputs(question!)).toEqual(["📄 ferry-log.pdf\nWhere did the quartermaster bury the obsidian ledger?"]);

    const context = contextOf(lastRequest());
    const found = excerpts(context);
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/^ferry-log\.pdf pp?\. .*\b7\b/);
    expect(context.indexOf("zephyrine quartermaster")).toBeGreaterThan(0);
    expect(context).not.toContain("Marmalade pelicans");
    expect(context).not.toContain("<document");
    // Far fewer tokens than the document: the request is small although the document is not.
    const stored = (await h.app.deps.knowledge.documents.get((await h.app.deps.history.load(`history:${chat.id}`))[0]!.documents![0]!.id))!;
    expect(stored.tokens).toBeGreaterThan(8000);
    expect(JSON.stringify(lastRequest().messages).length).toBeLessThan(stored.tokens);

    // A follow-up retrieves again from the same document (its vectors are reused: only the question is embedded).
    const next = h.openai.embeddingRequests().length;
    await say(h, { chat: chat.id, from: user, text: "Which birds crossed the tamarisk dunes?" });
    expect(embeddingsSince(next).map(inputs)).toEqual([["Which birds crossed the tamarisk dunes?"]]);
    expect(excerpts(contextOf(lastRequest()))[0]).toMatch(/^ferry-log\.pdf pp?\. .*\b23\b/);
    expect(contextOf(lastRequest())).toContain("Marmalade pelicans");
  });

  it("counts the embedding calls in /usage, priced", async () => {
    const { user, chat } = newPrivateChat(h);
    const from = h.openai.requests.length;
    await say(h, { chat: chat.id, from: user, document: pdf(), caption: "Summarise the log" });
    const embedded = h.openai.requests.slice(from).filter((r) => r.path === "/v1/embeddings");
    expect(embedded).toHaveLength(2);
    const usage = await h.app.deps.usage.get({ userId: user.id });
    // Two embedding calls and one answer.
    expect(usage.today.calls).toBe(3);
    expect(usage.today.promptTokens).toBeGreaterThan(8000);
    expect(usage.today.unpricedCalls).toBe(0);
    await say(h, { chat: chat.id, from: user, text: "/usage" });
    const tokens = (usage.today.promptTokens + usage.today.completionTokens).toLocaleString("en-US");
    expect(botText(h, chat.id)).toContain(`Today: ${tokens} tokens`);
  });
});

describe("a chat's knowledge", () => {
  it("/learn keeps a document; every later question retrieves from it; /knowledge lists it; /forget removes it", async () => {
    const { user, chat } = newPrivateChat(h);
    const sent = h.telegram.userSends({ chat: chat.id, from: user, document: pdf(), caption: "keep this" });
    await h.app.whenHandled(h.app.handled + 1);
    const from = h.openai.embeddingRequests().length;
    await say(h, { chat: chat.id, from: user, text: "/learn", replyTo: sent.message_id });
    // The document was embedded for the first question: /learn keeps those vectors instead of paying again.
    expect(embeddingsSince(from)).toHaveLength(0);
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toMatch(/^Learned “ferry-log\.pdf”: \d+ chunks, [\d,]+ tokens\. From now on every question/);

    await say(h, { chat: chat.id, from: user, text: "/reset" });
    await say(h, { chat: chat.id, from: user, text: "Where is the obsidian ledger?" });
    expect(excerpts(contextOf(lastRequest()))[0]).toMatch(/^ferry-log\.pdf pp?\. .*\b7\b/);

    // A small learned document next to it: retrieval draws from both.
    await say(h, { chat: chat.id, from: user, document: { bytes: new Uint8Array(await readFile(docs.docx.path)), file_name: "guide.docx", mime_type: "application/octet-stream" }, caption: "x" });
    const guide = h.telegram.messages(chat.id).filter((m) => m.document).at(-1)!;
    await say(h, { chat: chat.id, from: user, text: "/learn", replyTo: guide.message_id });
    await say(h, { chat: chat.id, from: user, text: "/reset" });
    await say(h, { chat: chat.id, from: user, text: "Do snakelocks anemones sting shrimp?" });
    expect(excerpts(contextOf(lastRequest()))[0]).toBe("guide.docx Anemones");

    await say(h, { chat: chat.id, from: user, text: "/knowledge" });
    const list = h.telegram.botMessages(chat.id).at(-1)!;
    expect(list.text).toMatch(/^What this chat has learned\n1\. ferry-log\.pdf — [\d.]+ KB, \d+ chunks, added \d{4}-\d{2}-\d{2}\n2\. guide\.docx — [\d.]+ KB, \d chunks, added/);
    const buttons = (list.reply_markup as { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> }).inline_keyboard.flat();
    expect(buttons.map((b) => b.text)).toEqual(["Forget 1", "Forget 2"]);

    await say(h, { chat: chat.id, from: user, text: "/forget 1" });
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("Forgot “ferry-log.pdf”.");
    const learned = await h.app.deps.knowledge.documents.learned(chat.id);
    expect(learned.map((d) => d.title)).toEqual(["guide.docx"]);
    await say(h, { chat: chat.id, from: user, text: "/reset" });
    await say(h, { chat: chat.id, from: user, text: "Where is the obsidian ledger?" });
    expect(excerpts(contextOf(lastRequest())).every((e) => e.startsWith("guide.docx"))).toBe(true);

    // The button removes the other one and updates the list in place.
    const target = h.app.handled + 1;
    const pressed = h.telegram.userPresses({ chat: chat.id, from: user, messageId: list.message_id, data: buttons[1]!.callback_data });
    await h.app.whenHandled(target);
    expect(h.telegram.calls.find((c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === pressed)!.params.text).toBe("Forgot “guide.docx”.");
    expect(h.telegram.message(chat.id, list.message_id)!.text).toBe("This chat hasn't learned anything yet. Reply /learn to a document, or send /learn https://… with a page.");
    expect(await h.app.deps.knowledge.documents.learned(chat.id)).toEqual([]);
    expect(await h.app.deps.knowledge.vectors.count(learned[0]!.id)).toBe(0);
  });

  it("refuses what does not fit the chat's limits, and explains /learn and /forget", async () => {
    const { user, chat } = newPrivateChat(h);
    const config = h.app.deps.config.knowledge;
    const max = config.maxDocuments;
    config.maxDocuments = 1;
    try {
      await say(h, { chat: chat.id, from: user, text: "/learn" });
      expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe(
        "Reply /learn to a document, or send /learn followed by a link, and I'll keep it in this chat's knowledge.",
      );
      const txt = h.telegram.userSends({ chat: chat.id, from: user, document: { bytes: new TextEncoder().encode("Tide tables for Oban."), file_name: "tides.txt", mime_type: "text/plain" }, caption: "hi" });
      await h.app.whenHandled(h.app.handled + 1);
      await say(h, { chat: chat.id, from: user, text: "/learn", replyTo: txt.message_id });
      await say(h, { chat: chat.id, from: user, text: "/learn", replyTo: txt.message_id });
      expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("I already know “tides.txt”. /knowledge lists what I know.");
      const sent = h.telegram.userSends({ chat: chat.id, from: user, document: pdf(), caption: "hi" });
      await h.app.whenHandled(h.app.handled + 1);
      await say(h, { chat: chat.id, from: user, text: "/learn", replyTo: sent.message_id });
      expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("This chat's knowledge is full (1 document). /forget one first.");
      await say(h, { chat: chat.id, from: user, text: "/forget" });
      expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("Send /forget N with the number /knowledge shows.");
      await say(h, { chat: chat.id, from: user, text: "/forget 5" });
      expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("There is no document number 5. /knowledge lists them.");
    } finally {
      config.maxDocuments = max;
    }
  });

  it("in groups only admins may /learn and /forget; everyone's questions retrieve from it", async () => {
    const { user: admin, chat } = newGroup(h);
    h.telegram.setChatMember(chat.id, admin, "administrator");
    const member: FakeUser = { id: admin.id + 1_000_000, first_name: "Member", language_code: "en" };
    h.telegram.setChatMember(chat.id, member, "member");
    const doc = h.telegram.userSends({ chat: chat.id, from: member, document: pdf() });
    await h.app.whenHandled(h.app.handled + 1);
    await say(h, { chat: chat.id, from: member, text: "/learn", replyTo: doc.message_id });
    // The refusal is the member's own: an ephemeral message only they see.
    expect(shownMessages(h, chat.id).at(-1)).toMatchObject({ text: "Only this group's admins can do that.", receiver_user_id: member.id });
    expect(await h.app.deps.knowledge.documents.learned(chat.id)).toEqual([]);
    await say(h, { chat: chat.id, from: admin, text: "/learn", replyTo: doc.message_id });
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toMatch(/^Learned “ferry-log\.pdf”/);

    await say(h, { chat: chat.id, from: member, text: "/ask which birds fly over the tamarisk dunes?" });
    expect(excerpts(contextOf(lastRequest()))[0]).toMatch(/\b23\b/);
    await say(h, { chat: chat.id, from: member, text: "/knowledge" });
    const list = h.telegram.botMessages(chat.id).at(-1)!;
    expect(list.text).toContain("Only this group's admins can add or remove documents.");
    expect(list.reply_markup).toBeUndefined();
    await say(h, { chat: chat.id, from: member, text: "/forget 1" });
    expect(shownMessages(h, chat.id).at(-1)!.text).toBe("Only this group's admins can do that.");
    expect(await h.app.deps.knowledge.documents.learned(chat.id)).toHaveLength(1);
  });
});

describe("budgets and embeddings", () => {
  let small: Harness;
  beforeAll(async () => {
    small = await startHarness({ env: { DAILY_TOKEN_LIMIT_PER_USER: "3000" } });
  });
  afterAll(() => small.close());

  it("refuses an embedding call that does not fit today's budget, before making it", async () => {
    // In a group, a document nobody asks about is not a question: the /learn refusal is the first thing this user
    // is told today (a refusal is told once per window).
    const { user, chat } = newGroup(small);
    small.telegram.setChatMember(chat.id, user, "creator");
    const sent = small.telegram.userSends({ chat: chat.id, from: user, document: { bytes: longPdf, file_name: "ferry-log.pdf", mime_type: "application/pdf" } });
    await small.app.whenHandled(small.app.handled + 1);
    expect(shownMessages(small, chat.id)).toEqual([]);
    await say(small, { chat: chat.id, from: user, text: "/learn", replyTo: sent.message_id });
    expect(small.openai.embeddingRequests()).toHaveLength(0);
    expect(shownMessages(small, chat.id).at(-1)!.text).toMatch(/^Your daily token budget doesn't cover this question: 3,000 of 3,000 tokens left today, and it may need up to [\d,]+\./);
    // What it needed is exactly the document's chunks: the embedding call's estimate, not an answer's.
    const doc = (await small.app.deps.knowledge.documents.get(documentId(chat.id, `telegram:${sent.document!.file_unique_id}`)))!;
    expect(shownMessages(small, chat.id).at(-1)!.text).toContain(`may need up to ${doc.tokens.toLocaleString("en-US")}.`);
    expect(await small.app.deps.knowledge.documents.learned(chat.id)).toEqual([]);
    expect((await small.app.deps.usage.get({ userId: user.id })).today.calls).toBe(0);
  });
});
