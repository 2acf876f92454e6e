/**
 * Links in questions and web search, end to end against the local test website and the fake SearXNG. The website is
 * on 127.0.0.1, so the bots that read it run with WEB_FETCH_ALLOW_PRIVATE=true; the SSRF guard still refuses
 * link-local and metadata addresses then (and a bot without it refuses the website itself). The website's request
 * log proves that nothing behind a refused address was asked for.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageEntity } from "grammy/types";
import { botText, chatCalls, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";
import { startWebsite, WEBSITE_PATHS as P, type Website } from "../servers/website.js";
import { startSearxng, type SearxngServer } from "../servers/searxng.js";
import { articlePage, chineseArticlePage } from "../fixtures/web-pages.js";
import { REPORT_PAGES } from "../fixtures/documents.js";
import type { ChatRequestBody } from "../servers/openai.js";
import { historyKey } from "../../src/storage/history.js";

let site: Website;
let h: Harness;
beforeAll(async () => {
  site = await startWebsite();
  h = await startHarness({ env: { WEB_FETCH_ALLOW_PRIVATE: "true" } });
});
afterAll(async () => {
  await h.close();
  await site.close();
});

const words = (text: string) => text.replace(/\s+/g, " ");
function contextOf(body: ChatRequestBody): string {
  const m = body.messages.at(-2)!;
  return m.role === "system" && body.messages.length > 2 ? String(m.content) : "";
}
const lastRequest = (harness = h) => harness.openai.chatRequests().at(-1)!;
/** The names of the tools a request offered. */
const toolNames = (body: ChatRequestBody) => ((body.tools ?? []) as Array<{ function: { name: string } }>).map((t) => t.function.name);
const lastLine = (chatId: number, harness = h) => harness.telegram.botMessages(chatId).at(-1)!.text;

describe("a link in a question", () => {
  it("is read: the article's main content goes with the question, the clutter does not, and follow-ups keep it", async () => {
    const { user, chat } = newPrivateChat(h);
    const url = site.url(P.article);
    const article = articlePage();
    await say(h, { chat: chat.id, from: user, text: `What is this article about? ${url}` });
    const context = contextOf(lastRequest());
    expect(context).toContain(`<document title="${article.title}" url="${url}">`);
    for (const p of article.paragraphs) expect(words(context)).toContain(words(p));
    for (const noise of article.noise) expect(context).not.toContain(noise);
    expect(context).toMatch(/cite a web page as a Markdown link/);
    expect(lastRequest().messages.at(-1)!.content).toBe(`What is this article about? ${url}`);
    const turns = await h.app.deps.history.load(historyKey(chat.id));
    expect(turns[0]!.documents).toEqual([{ id: expect.stringMatching(/^d[0-9a-f]{24}$/), title: article.title }]);

    const fetched = site.requestsFor(P.article).length;
    await say(h, { chat: chat.id, from: user, text: "Who wrote it?" });
    expect(words(contextOf(lastRequest()))).toContain(words(article.paragraphs[0]!));
    expect(site.requestsFor(P.article).length).toBe(fetched);
  });

  it("reads a Chinese page and a PDF (with its pages), through redirects", async () => {
    const zh = newPrivateChat(h, { language_code: "zh" });
    await say(h, { chat: zh.chat.id, from: zh.user, text: `总结一下 ${site.url(P.chineseArticle)}` });
    for (const p of chineseArticlePage().paragraphs) expect(words(contextOf(lastRequest()))).toContain(words(p));
    expect(site.requestsFor(P.chineseArticle).at(-1)!.headers["accept-language"]).toMatch(/^zh/);

    const { user, chat } = newPrivateChat(h);
    await say(h, { chat: chat.id, from: user, text: `/ask what does page 2 say? ${site.url(`${P.redirect(2)}?status=301`)}` });
    expect(contextOf(lastRequest())).toContain(articlePage().title);
    await say(h, { chat: chat.id, from: user, text: `and this one? ${site.url(P.pdf)}` });
    const context = contextOf(lastRequest());
    REPORT_PAGES.forEach((page, i) => expect(words(context)).toContain(`[p. ${i + 1}] ${words(page)}`));
  });

  it("/learn keeps a page or a PDF behind a link; later questions retrieve from them", async () => {
    const { user, chat } = newPrivateChat(h);
    await say(h, { chat: chat.id, from: user, text: `/learn ${site.url(P.article)}` });
    expect(lastLine(chat.id)).toMatch(new RegExp(`^Learned “${articlePage().title}”: \\d+ chunks?, [\\d,]+ tokens\\.`));
    await say(h, { chat: chat.id, from: user, text: `/learn ${site.url(P.pdf)}` });
    expect(lastLine(chat.id)).toMatch(/^Learned “report\.pdf”: 1 chunk/);
    await say(h, { chat: chat.id, from: user, text: "When do puffins nest on the basalt ledges?" });
    const context = contextOf(lastRequest());
    expect(context).toMatch(new RegExp(`<excerpt title="report.pdf" url="${site.url(P.pdf).replace(/[.?]/g, "\\$&")}" location="pp. 1–3">`));
    expect(context).toContain("Puffins nest on the basalt ledges");
  });

  it.each([
    ["a redirect to the metadata service", `${P.redirect(2)}?then=metadata`, (url: string) => `I can't open ${url}: it leads to a private or internal network address.`],
    ["a sixth redirect", P.redirect(6), (url: string) => `${url} redirects too many times, so I gave up.`],
    ["a page over 5 MB", P.bigDeclared, (url: string) => `The page at ${url} is larger than 5 MB, so I didn't read it.`],
    ["a missing page", P.notFound, (url: string) => `${url} answered with an error (HTTP 404).`],
    ["a ZIP file", P.zip, () => "I can't read this kind of file. I read PDF, Word (.docx), plain text, Markdown, HTML, CSV, JSON and source code."],
  ])("%s gets one line and no model call", async (_, path, line) => {
    const { user, chat } = newPrivateChat(h);
    const before = h.openai.requests.length;
    const url = site.url(path);
    await say(h, { chat: chat.id, from: user, text: `read ${url}` });
    expect(h.telegram.botMessages(chat.id).map((m) => m.text)).toEqual([line(url)]);
    expect(h.openai.requests.length).toBe(before);
  });

  it("never asks a private or metadata address for anything: the redirect is the last request made", async () => {
    const { user, chat } = newPrivateChat(h);
    const before = site.requests.length;
    await say(h, { chat: chat.id, from: user, text: `read ${site.url(P.toMetadata)}` });
    expect(site.requests.slice(before).map((r) => r.path)).toEqual([P.toMetadata]);
    expect(lastLine(chat.id)).toMatch(/private or internal network address/);
  });
});

describe("a bot without WEB_FETCH_ALLOW_PRIVATE", () => {
  let strict: Harness;
  beforeAll(async () => {
    strict = await startHarness();
  });
  afterAll(() => strict.close());

  it("refuses links to loopback, private and metadata addresses before connecting", async () => {
    const { user, chat } = newPrivateChat(strict);
    const before = site.requests.length;
    for (const url of [site.url(P.article), `http://localhost:${new URL(site.origin).port}/secret`, "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/admin"]) {
      await say(strict, { chat: chat.id, from: user, text: `what is on ${url}` });
      expect(lastLine(chat.id, strict)).toBe(`I can't open ${url}: it leads to a private or internal network address.`);
    }
    expect(site.requests.length).toBe(before);
    expect(strict.openai.chatRequests()).toHaveLength(0);
  });
});

describe("web search", () => {
  let searx: SearxngServer;
  let web: Harness;
  beforeAll(async () => {
    searx = await startSearxng({ website: site.origin });
    web = await startHarness({ env: { SEARXNG_URL: searx.url, WEB_FETCH_ALLOW_PRIVATE: "true" } });
  });
  afterAll(async () => {
    await web.close();
    await searx.close();
  });

  it("searches SearXNG and reads a result, with status lines, and the answer cites it as a link", async () => {
    const { user, chat } = newPrivateChat(web);
    const article = site.url(P.article);
    web.openai.enqueue(
      { toolCalls: [{ id: "s1", name: "web_search", arguments: '{"query":"skerryvore lighthouse history"}' }] },
      { toolCalls: [{ id: "r1", name: "read_page", arguments: JSON.stringify({ url: article }) }], firstDelayMs: 300 },
      { text: `The trust keeps the lamp burning ([the article](${article})).`, firstDelayMs: 300 },
    );
    const callsFrom = web.telegram.calls.length;
    const from = web.openai.chatRequests().length;
    await say(web, { chat: chat.id, from: user, text: "Search the web: what is the history of Skerryvore lighthouse?" });

    const [first, second, third] = web.openai.chatRequests().slice(from);
    expect(toolNames(first!).sort()).toEqual(["get_current_weather", "read_page", "web_search"]);
    expect(searx.queries()).toEqual(["skerryvore lighthouse history"]);
    const searchResult = JSON.parse(String(second!.messages.find((m) => m.role === "tool")!.content)) as { results: Array<{ url: string }> };
    expect(searchResult.results.map((r) => r.url)).toContain(article);
    const pageResult = JSON.parse(String(third!.messages.filter((m) => m.role === "tool").at(-1)!.content)) as { title: string; text: string };
    expect(pageResult.title).toBe(articlePage().title);
    expect(words(pageResult.text)).toContain(words(articlePage().paragraphs[1]!));
    for (const noise of articlePage().noise) expect(pageResult.text).not.toContain(noise);

    const drafts = chatCalls(web, chat.id, callsFrom).filter((c) => c.method === "sendMessageDraft").map((c) => String(c.params.text));
    expect(drafts.some((t) => t.includes("Searching the web for “skerryvore lighthouse history”…"))).toBe(true);
    expect(drafts.some((t) => t.includes(`Reading ${new URL(site.origin).host}…`))).toBe(true);
    const final = web.telegram.botMessages(chat.id).at(-1)!;
    expect(final.text).toBe("The trust keeps the lamp burning (the article).");
    expect(final.entities).toContainEqual(expect.objectContaining({ type: "text_link", url: article }) as MessageEntity);
  });

  it("tells the model when a page may not be read (metadata) or the search failed, and the model tells the user", async () => {
    const { user, chat } = newPrivateChat(web);
    const from = web.openai.chatRequests().length;
    searx.enqueue({ error: { status: 500 } });
    web.openai.enqueue(
      { toolCalls: [{ id: "s1", name: "web_search", arguments: '{"query":"x"}' }, { id: "r1", name: "read_page", arguments: '{"url":"http://169.254.169.254/latest/meta-data/"}' }] },
      { text: "I could not search or read that page.", firstDelayMs: 100 },
    );
    await say(web, { chat: chat.id, from: user, text: "look it up" });
    const followUp = web.openai.chatRequests()[from + 1]!;
    const results = followUp.messages.filter((m) => m.role === "tool").map((m) => JSON.parse(String(m.content)) as { error: string });
    expect(results[0]!.error).toMatch(/^The search failed: The search engine answered with an error \(HTTP 500\)\./);
    expect(results[1]!.error).toMatch(/^The page could not be read: I can't open http:\/\/169\.254\.169\.254\/latest\/meta-data\/: it leads to a private or internal network address\./);
    expect(botText(web, chat.id)).toBe("I could not search or read that page.");
  });

  it("without SEARXNG_URL there is no search tool, and a request to search gets the note to say so", async () => {
    const { user, chat } = newPrivateChat(h);
    await say(h, { chat: chat.id, from: user, text: "Please search the web for the latest ferry news" });
    const body = lastRequest();
    expect(toolNames(body)).toEqual(["get_current_weather"]);
    expect(contextOf(body)).toMatch(/^You cannot search the web or open pages in this chat: web search is not enabled/);
    // An ordinary question gets no note.
    await say(h, { chat: chat.id, from: user, text: "What is 2+2?" });
    expect(lastRequest().messages.filter((m) => m.role === "system")).toHaveLength(1);
  });
});
