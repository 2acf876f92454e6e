/**
 * A stand-in for a SearXNG instance's search API: `GET|POST /search?q=…&format=json` answered in SearXNG's JSON shape
 * ({ query, number_of_results, results, answers, corrections, infoboxes, suggestions, unresponsive_engines }, each
 * result with url, title, content, engine, engines, positions, score, category, template, parsed_url, …), as
 * searx/webapp.py and searx/webutils.py (get_json_response) produce it.
 *
 * Like SearXNG: `format` defaults to html; a format the instance does not enable (json is off in a default
 * settings.yml!) is a 403 with Flask's HTML "Forbidden" page; a missing or empty `q` is 400 `{"error": "No query"}`
 * for json; a search failure is 500 `{"error": "search error"}`; `number_of_results` is whatever the engines
 * reported, often 0, so a client must not rely on it; `pageno` pages through the results (10 a page here).
 * Results come from setResults() for a query (matched trimmed and case-insensitively), else from the default: pages of
 * the local test website when its origin is given, else none. Looser: no engines run, every other parameter
 * (language, categories, engines, time_range, safesearch) is recorded and ignored, and the HTML format is a bare list.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { articlePage, chineseArticlePage } from "../fixtures/web-pages.js";
import { closeServer, readBody, sendJson, startFake } from "./http-util.js";
import { ResponseLife, type StreamGate } from "./openai/lifetime.js";

/** One search result as a test gives it; the server fills in SearXNG's other fields. */
export interface SearxngResultInput {
  url: string;
  title: string;
  content?: string;
  engine?: string;
  engines?: string[];
  score?: number;
  category?: string;
  publishedDate?: string | null;
  thumbnail?: string;
  img_src?: string;
}

/** What one search answers (results plus the side lists), as a test gives it. */
export interface SearxngAnswerInput {
  results: SearxngResultInput[];
  /** Direct answers; newer SearXNG sends objects `{ answer, url?, engine? }`. */
  answers?: Array<{ answer: string; url?: string; engine?: string }>;
  suggestions?: string[];
  corrections?: string[];
  infoboxes?: object[];
  /** `[engine, reason]` pairs, e.g. `["google", "timeout"]`. */
  unresponsive_engines?: Array<[string, string]>;
  /** Default 0, as SearXNG reports when no engine gives a total. */
  number_of_results?: number;
}

/** A failure, delay or gate for the next search request. */
export type SearxngScript =
  | { error: { status: number; body?: string; contentType?: string } }
  | { delayMs: number }
  | { hold: StreamGate };

/** One request the fake received. */
export interface SearxngRequest {
  method: string;
  path: string;
  /** Query string and form fields together (form fields win, as in SearXNG). */
  params: Record<string, string>;
  /** performance.now() when it arrived. */
  at: number;
}

/** Options of startSearxng(). */
export interface SearxngOptions {
  /** Origin of the test website (test/servers/website.ts): the default results point at its pages. */
  website?: string;
  /** Output formats the instance enables. Default ["html", "json"]. */
  formats?: string[];
}

const OUTPUT_FORMATS = ["html", "json", "csv", "rss"];
const PER_PAGE = 10;
const FORBIDDEN_PAGE = `<!doctype html>
<html lang=en>
<title>403 Forbidden</title>
<h1>Forbidden</h1>
<p>You don&#39;t have the permission to access the requested resource. It is either read-protected or not readable by the server.</p>
`;

/** Default results: the test website's articles and PDF, whatever the query. */
function websiteResults(origin: string): SearxngAnswerInput {
  const en = articlePage();
  const zh = chineseArticlePage();
  return {
    results: [
      { url: `${origin}/article`, title: en.title, content: en.paragraphs[0]!, engine: "duckduckgo", engines: ["duckduckgo", "brave"] },
      { url: `${origin}/zh/article`, title: zh.title, content: zh.paragraphs[0]!, engine: "bing", engines: ["bing"] },
      {
        url: `${origin}/docs/report.pdf`,
        title: "Annual report of the Skerryvore Lighthouse Trust (PDF)",
        content: "Annual report of the Skerryvore Lighthouse Trust. The trust was founded in 1844…",
        engine: "brave",
        engines: ["brave"],
      },
    ],
    suggestions: ["skerryvore lighthouse history"],
  };
}

/** The running fake SearXNG: set results per query, script failures, read the queries. */
export class SearxngServer {
  /** The instance's base URL: what SEARXNG_URL is set to. */
  readonly url: string;
  readonly requests: SearxngRequest[] = [];
  /** Enabled output formats; take "json" out to get SearXNG's 403. */
  formats: string[];
  private readonly byQuery = new Map<string, SearxngAnswerInput>();
  private readonly queue: SearxngScript[] = [];
  private defaultAnswer: (query: string) => SearxngAnswerInput;
  private readonly stop = new AbortController();

  /** Use startSearxng(). */
  constructor(
    private readonly server: Server,
    origin: string,
    options: SearxngOptions,
  ) {
    this.url = origin;
    this.formats = options.formats ?? ["html", "json"];
    const website = options.website;
    this.defaultAnswer = website ? () => websiteResults(website) : () => ({ results: [] });
  }

  /** What a search for `query` answers (matched trimmed and case-insensitively). */
  setResults(query: string, answer: SearxngAnswerInput | SearxngResultInput[]): void {
    this.byQuery.set(query.trim().toLowerCase(), Array.isArray(answer) ? { results: answer } : answer);
  }

  /** What searches without their own results answer. */
  setDefault(fn: (query: string) => SearxngAnswerInput): void {
    this.defaultAnswer = fn;
  }

  /** Failures, delays or gates for the next search requests, one each. */
  enqueue(...scripts: SearxngScript[]): void {
    this.queue.push(...scripts);
  }

  /** The `q` of every search request, oldest first. */
  queries(): string[] {
    return this.requests.filter((r) => r.path === "/search").map((r) => r.params.q ?? "");
  }

  /** Ends every response in progress and stops listening. */
  async close(): Promise<void> {
    this.stop.abort();
    await closeServer(this.server);
  }

  /** @internal */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: `test server failure: ${String(error)}` });
      else res.destroy();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    let body = "";
    if (req.method === "POST") body = (await readBody(req)).toString("utf8");
    else req.resume();
    const params: Record<string, string> = Object.fromEntries(url.searchParams);
    if (/application\/x-www-form-urlencoded/i.test(req.headers["content-type"] ?? "")) Object.assign(params, Object.fromEntries(new URLSearchParams(body)));
    this.requests.push({ method: req.method ?? "GET", path: url.pathname, params, at: performance.now() });

    if (url.pathname !== "/search" || (req.method !== "GET" && req.method !== "POST")) {
      return html(res, 404, "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n");
    }
    let format = params.format ?? "html";
    if (!OUTPUT_FORMATS.includes(format)) format = "html";
    if (!this.formats.includes(format)) return html(res, 403, FORBIDDEN_PAGE);
    const query = params.q ?? "";
    if (query === "") {
      if (format === "json") return sendJson(res, 400, { error: "No query" });
      return html(res, 200, "<!doctype html><html><body><form action=\"/search\"><input name=\"q\"></form></body></html>");
    }

    const life = new ResponseLife(res, this.stop.signal);
    const script = this.queue.shift();
    if (script && "error" in script) {
      const { status, body: errorBody, contentType } = script.error;
      if (errorBody !== undefined) return send(res, status, contentType ?? "text/plain; charset=utf-8", errorBody);
      if (status === 429) return send(res, 429, "text/plain; charset=utf-8", "Too Many Requests");
      if (format === "json") return sendJson(res, status, { error: "search error" });
      return html(res, status, `<!doctype html><html><body><p>search error</p></body></html>`);
    }
    if (script && "delayMs" in script) await life.sleep(script.delayMs);
    if (script && "hold" in script) await life.hold(script.hold);
    if (life.gone) return;

    const answer = this.byQuery.get(query.trim().toLowerCase()) ?? this.defaultAnswer(query);
    const page = Math.max(1, Number.parseInt(params.pageno ?? "1", 10) || 1);
    const results = answer.results.slice((page - 1) * PER_PAGE, page * PER_PAGE).map((r, i) => resultOf(r, (page - 1) * PER_PAGE + i + 1));
    if (format === "json") {
      return sendJson(res, 200, {
        query,
        number_of_results: answer.number_of_results ?? 0,
        results,
        answers: (answer.answers ?? []).map((a) => ({ template: "answer/legacy.html", engine: "", url: null, ...a })),
        corrections: answer.corrections ?? [],
        infoboxes: answer.infoboxes ?? [],
        suggestions: answer.suggestions ?? [],
        unresponsive_engines: answer.unresponsive_engines ?? [],
      });
    }
    const items = results.map((r) => `<article class="result"><h3><a href="${escapeHtml(r.url)}">${escapeHtml(r.title)}</a></h3><p class="content">${escapeHtml(r.content)}</p></article>`);
    return html(res, 200, `<!doctype html><html><head><title>${escapeHtml(query)} - SearXNG</title></head><body>${items.join("")}</body></html>`);
  }
}

function resultOf(input: SearxngResultInput, position: number) {
  const parsed = new URL(input.url);
  const engine = input.engine ?? "duckduckgo";
  return {
    url: input.url,
    title: input.title,
    content: input.content ?? "",
    thumbnail: input.thumbnail ?? "",
    engine,
    template: "default.html",
    parsed_url: [parsed.protocol.replace(/:$/, ""), parsed.host, parsed.pathname, "", parsed.search.replace(/^\?/, ""), parsed.hash.replace(/^#/, "")],
    img_src: input.img_src ?? "",
    priority: "",
    engines: input.engines ?? [engine],
    positions: [position],
    score: input.score ?? 1 / position,
    category: input.category ?? "general",
    publishedDate: input.publishedDate ?? null,
  };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function html(res: ServerResponse, status: number, body: string): void {
  send(res, status, "text/html; charset=utf-8", body);
}

/** Starts the fake SearXNG on 127.0.0.1 with a random port; set SEARXNG_URL to its `url`. */
export async function startSearxng(options: SearxngOptions = {}): Promise<SearxngServer> {
  return startFake((server, origin) => new SearxngServer(server, origin, options));
}
