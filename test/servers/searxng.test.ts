// The fake SearXNG over real HTTP: the JSON API's shape, its refusals, scripted failures and delays, request records.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { articlePage } from "../fixtures/web-pages.js";
import { StreamGate } from "./openai.js";
import { startSearxng, type SearxngServer } from "./searxng.js";

let searx: SearxngServer;

beforeEach(async () => {
  searx = await startSearxng({ website: "http://127.0.0.1:9" });
});

afterEach(async () => {
  await searx.close();
});

const search = (params: Record<string, string>, init?: RequestInit) => fetch(`${searx.url}/search?${new URLSearchParams(params).toString()}`, init);

interface SearchJson {
  query: string;
  number_of_results: number;
  results: Array<Record<string, unknown>>;
  answers: unknown[];
  corrections: string[];
  infoboxes: unknown[];
  suggestions: string[];
  unresponsive_engines: Array<[string, string]>;
}

describe("fake SearXNG", () => {
  it("answers SearXNG's JSON shape, by default with the test website's pages", async () => {
    const res = await search({ q: "skerryvore lighthouse", format: "json" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    const body = (await res.json()) as SearchJson;
    expect(Object.keys(body).sort()).toEqual(
      ["answers", "corrections", "infoboxes", "number_of_results", "query", "results", "suggestions", "unresponsive_engines"].sort(),
    );
    expect(body).toMatchObject({ query: "skerryvore lighthouse", number_of_results: 0, answers: [], unresponsive_engines: [] });
    expect(body.results.map((r) => r.url)).toEqual([
      "http://127.0.0.1:9/article",
      "http://127.0.0.1:9/zh/article",
      "http://127.0.0.1:9/docs/report.pdf",
    ]);
    expect(body.results[0]).toEqual({
      url: "http://127.0.0.1:9/article",
      title: articlePage().title,
      content: articlePage().paragraphs[0],
      thumbnail: "",
      engine: "duckduckgo",
      template: "default.html",
      parsed_url: ["http", "127.0.0.1:9", "/article", "", "", ""],
      img_src: "",
      priority: "",
      engines: ["duckduckgo", "brave"],
      positions: [1],
      score: 1,
      category: "general",
      publishedDate: null,
    });
  });

  it("answers the results set for a query, paged 10 at a time, with answers and unresponsive engines", async () => {
    const results = Array.from({ length: 13 }, (_, i) => ({ url: `https://example.org/${i}`, title: `Result ${i}`, content: `About ${i}` }));
    searx.setResults("Tide Tables", {
      results,
      answers: [{ answer: "High tide at 14:02" }],
      unresponsive_engines: [["google", "timeout"]],
      number_of_results: 1200,
    });
    const first = (await (await search({ q: "  tide tables ", format: "json" })).json()) as SearchJson;
    expect(first.results).toHaveLength(10);
    expect(first).toMatchObject({ number_of_results: 1200, unresponsive_engines: [["google", "timeout"]] });
    expect(first.answers).toEqual([{ template: "answer/legacy.html", engine: "", url: null, answer: "High tide at 14:02" }]);
    const second = (await (await search({ q: "tide tables", format: "json", pageno: "2" })).json()) as SearchJson;
    expect(second.results.map((r) => [r.title, r.positions])).toEqual([
      ["Result 10", [11]],
      ["Result 11", [12]],
      ["Result 12", [13]],
    ]);
    searx.setResults("nothing", []);
    expect(((await (await search({ q: "nothing", format: "json" })).json()) as SearchJson).results).toEqual([]);
  });

  it("takes POSTed forms as SearXNG does", async () => {
    searx.setResults("posted", [{ url: "https://example.org/p", title: "P" }]);
    const res = await fetch(`${searx.url}/search`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "q=posted&format=json&language=zh-CN",
    });
    expect(((await res.json()) as SearchJson).results[0]).toMatchObject({ title: "P", content: "" });
    expect(searx.requests.at(-1)).toMatchObject({ method: "POST", params: { q: "posted", format: "json", language: "zh-CN" } });
  });

  it("refuses format=json with 403 when the instance does not enable it, and an empty query with 400", async () => {
    searx.formats = ["html"];
    const refused = await search({ q: "x", format: "json" });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await refused.text()).toContain("<title>403 Forbidden</title>");
    expect((await search({ q: "x" })).status).toBe(200);

    searx.formats = ["html", "json"];
    const empty = await search({ q: "", format: "json" });
    expect([empty.status, await empty.json()]).toEqual([400, { error: "No query" }]);
    expect((await search({ format: "json" })).status).toBe(400);
    expect((await fetch(`${searx.url}/nope`)).status).toBe(404);
  });

  it("fails, delays and holds on script, and records every query", async () => {
    searx.enqueue({ error: { status: 500 } }, { error: { status: 429 } });
    const failed = await search({ q: "a", format: "json" });
    expect([failed.status, await failed.json()]).toEqual([500, { error: "search error" }]);
    const limited = await search({ q: "b", format: "json" });
    expect([limited.status, await limited.text()]).toEqual([429, "Too Many Requests"]);

    const gate = new StreamGate();
    searx.enqueue({ hold: gate });
    let answered = false;
    const held = search({ q: "c", format: "json" }).then((r) => {
      answered = true;
      return r;
    });
    await gate.reached;
    expect(answered).toBe(false);
    gate.release();
    expect((await held).status).toBe(200);

    searx.enqueue({ delayMs: 2000 });
    const timedOut = await search({ q: "d", format: "json" }, { signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
    expect((timedOut as Error).name).toBe("TimeoutError");
    expect(searx.queries()).toEqual(["a", "b", "c", "d"]);
  });

  it("answers no results by default when no website is given", async () => {
    const bare = await startSearxng();
    try {
      const res = await fetch(`${bare.url}/search?q=anything&format=json`);
      expect(((await res.json()) as SearchJson).results).toEqual([]);
    } finally {
      await bare.close();
    }
  });
});
