import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSearxng, type SearxngServer } from "../../test/servers/searxng.js";
import { SearxngClient, WebSearchError } from "./searxng.js";

let searx: SearxngServer;
beforeAll(async () => {
  searx = await startSearxng({ website: "http://127.0.0.1:9" });
});
afterAll(async () => {
  await searx.close();
});

describe("SearxngClient", () => {
  it("asks the JSON API and keeps title, URL and snippet of each web result", async () => {
    searx.setResults("tide tables", [
      { url: "https://tides.example/oban", title: "Oban tide times", content: "High water at 07:12 and 19:40." },
      { url: "https://tides.example/oban", title: "duplicate", content: "" },
      { url: "magnet:?xt=urn:btih:abc", title: "not a web page" },
      { url: "https://sea.example/tiree", title: "Tiree", content: "  Ferry   and tides  " },
    ]);
    const results = await new SearxngClient({ baseUrl: `${searx.url}/` }).search("tide tables", { language: "en" });
    expect(results).toEqual([
      { title: "Oban tide times", url: "https://tides.example/oban", snippet: "High water at 07:12 and 19:40." },
      { title: "Tiree", url: "https://sea.example/tiree", snippet: "Ferry and tides" },
    ]);
    expect(searx.requests.at(-1)).toMatchObject({ method: "GET", path: "/search", params: { q: "tide tables", format: "json", language: "en" } });
  });

  it("says why a search failed", async () => {
    const client = new SearxngClient({ baseUrl: searx.url, timeoutMs: 300 });
    searx.formats = ["html"];
    await expect(client.search("x")).rejects.toThrow(/JSON format is not enabled/);
    searx.formats = ["html", "json"];
    searx.enqueue({ error: { status: 500 } });
    await expect(client.search("x")).rejects.toThrow(/HTTP 500/);
    searx.enqueue({ delayMs: 2_000 });
    await expect(client.search("x")).rejects.toThrow(/did not answer in time/);
    await expect(new SearxngClient({ baseUrl: "http://127.0.0.1:9" }).search("x")).rejects.toBeInstanceOf(WebSearchError);
  });
});
