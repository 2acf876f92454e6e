/**
 * The web tools the model gets when SEARXNG_URL is set: `web_search` (a SearXNG search) and `read_page` (a page's main
 * content, fetched behind the SSRF guard). The searching and reading are injected (src/web, wired in app/), so this
 * file only says what the model sees: arguments, results, status lines and errors it can react to.
 */
import { z } from "zod";
import { defineTool, ToolError, type Tool } from "./tool.js";

export interface WebSearchHit {
  title: string;
  url: string;
  snippet: string;
}

/** Searches the web; throws an Error whose message the model may read. */
export type SearchWeb = (query: string, opts: { signal: AbortSignal; language?: string }) => Promise<WebSearchHit[]>;

/** Reads a page: its title and main text (cut to what a tool result may hold); throws an Error the model may read. */
export type ReadPage = (url: string, opts: { signal: AbortSignal; language?: string }) => Promise<{ title: string; url: string; text: string }>;

/** Characters of page text one read_page result carries (about 6,000 tokens of English). */
export const MAX_PAGE_TEXT_CHARS = 24_000;

const searchArgs = z.object({
  query: z.string().trim().min(1).max(300).describe("What to search for, as you would type it into a search engine."),
});
const readArgs = z.object({
  url: z.url({ protocol: /^https?$/ }).describe("The http(s) address of the page, e.g. one from web_search results."),
});

/** How a failure reaches the model: its message when it is one of ours, a plain line otherwise. */
function toolError(err: unknown, what: string): ToolError {
  return new ToolError(err instanceof Error && err.message ? `${what}: ${err.message}` : `${what} failed.`, { cause: err });
}

export function webSearchTool(search: SearchWeb): Tool<typeof searchArgs> {
  return defineTool({
    name: "web_search",
    description:
      "Search the web for current or specific information you do not know. Returns results with title, url and a " +
      "snippet; use read_page on the most promising ones for details. Cite the pages you use as Markdown links.",
    schema: searchArgs,
    timeoutMs: 15_000,
    async run(args, ctx) {
      try {
        const results = await search(args.query, { signal: ctx.signal, ...(ctx.language ? { language: ctx.language } : {}) });
        return { query: args.query, results };
      } catch (err) {
        throw toolError(err, "The search failed");
      }
    },
    status(args, t) {
      return t("web-search-status", { query: args.query });
    },
  });
}

export function readPageTool(read: ReadPage): Tool<typeof readArgs> {
  return defineTool({
    name: "read_page",
    description:
      "Read the main text of a web page (or a PDF) at an http(s) URL, without navigation or ads. Use it on search " +
      "results or links the user gave. Cite the page as a Markdown link.",
    schema: readArgs,
    timeoutMs: 20_000,
    async run(args, ctx) {
      try {
        const page = await read(args.url, { signal: ctx.signal, ...(ctx.language ? { language: ctx.language } : {}) });
        const cut = page.text.length > MAX_PAGE_TEXT_CHARS;
        return { url: page.url, title: page.title, text: cut ? `${page.text.slice(0, MAX_PAGE_TEXT_CHARS)}…` : page.text, ...(cut ? { truncated: true } : {}) };
      } catch (err) {
        throw toolError(err, "The page could not be read");
      }
    },
    status(args, t) {
      let site = args.url;
      try {
        site = new URL(args.url).host;
      } catch {
        // The schema already checked it; the raw text is shown otherwise.
      }
      return t("web-read-status", { site });
    },
  });
}
