/**
 * Web search through a SearXNG instance's JSON API (`GET {SEARXNG_URL}/search?q=…&format=json`). The instance is
 * the operator's (often on a private network), so it is called directly, not through the SSRF guard; the pages its
 * results point at are read through the guard like any other link.
 */
import { readBoundedBody } from "../util/bounded-body.js";

/** One search result: what the model sees. */
export interface SearchResult {
  title: string;
  url: string;
  snippet: string;
}

/** The search failed (instance down, JSON not enabled, timeout); `message` is safe to show to the model. */
export class WebSearchError extends Error {
  override readonly name = "WebSearchError";
}

export interface SearxngOptions {
  /** SEARXNG_URL: the instance's base URL. */
  baseUrl: string;
  timeoutMs?: number;
}

const MAX_RESPONSE_BYTES = 2 * 1024 * 1024;

export class SearxngClient {
  readonly #base: string;
  readonly #timeoutMs: number;

  constructor(opts: SearxngOptions) {
    this.#base = opts.baseUrl.replace(/\/+$/, "");
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** Up to `limit` results for `query`, best first; duplicates (same URL) and results without a web URL are dropped. */
  async search(query: string, opts: { signal?: AbortSignal; language?: string; limit?: number } = {}): Promise<SearchResult[]> {
    const url = new URL(`${this.#base}/search`);
    url.searchParams.set("q", query);
    url.searchParams.set("format", "json");
    if (opts.language) url.searchParams.set("language", opts.language);
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    let response: Response;
    try {
      response = await fetch(url, { signal, headers: { accept: "application/json" } });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new WebSearchError(deadline.aborted ? "The search engine did not answer in time." : "The search engine cannot be reached.", { cause: err });
    }
    if (response.status === 403) {
      await response.body?.cancel().catch(() => undefined);
      throw new WebSearchError("The search engine refused the request (its JSON format is not enabled).");
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new WebSearchError(`The search engine answered with an error (HTTP ${response.status}).`);
    }
    let data: unknown;
    try {
      data = JSON.parse(new TextDecoder().decode(await readBoundedBody(response, MAX_RESPONSE_BYTES)));
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new WebSearchError("The search engine's answer could not be read.", { cause: err });
    }
    const results = (data as { results?: unknown }).results;
    if (!Array.isArray(results)) throw new WebSearchError("The search engine's answer could not be read.");
    const seen = new Set<string>();
    const out: SearchResult[] = [];
    for (const r of results as Array<Record<string, unknown>>) {
      const link = typeof r.url === "string" ? r.url : "";
      if (!/^https?:\/\//i.test(link) || seen.has(link)) continue;
      seen.add(link);
      out.push({
        title: typeof r.title === "string" ? r.title.trim() : link,
        url: link,
        snippet: typeof r.content === "string" ? r.content.replace(/\s+/g, " ").trim().slice(0, 500) : "",
      });
      if (out.length >= (opts.limit ?? 6)) break;
    }
    return out;
  }
}
