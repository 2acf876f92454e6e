/**
 * The tools a question may use: the weather always; web search and page reading when SEARXNG_URL is set (the pages
 * read through the same SSRF guard as links in questions).
 */
import type { BotContext } from "./context.js";
import type { Tool } from "../ai/tools/tool.js";
import { weatherTool } from "../ai/tools/weather.js";
import { readPageTool, webSearchTool } from "../ai/tools/web.js";
import { documentErrorText } from "./documents.js";
import { documentText, readLink } from "../services/links.js";

export function questionTools(ctx: BotContext): Tool[] {
  const { weather, knowledge } = ctx.deps;
  const tools: Tool[] = [weatherTool(weather)];
  const search = knowledge.search;
  if (search) {
    tools.push(
      webSearchTool((query, opts) => search.search(query, opts)),
      readPageTool(async (url, opts) => {
        try {
          const link = await readLink(knowledge.fetcher, url, opts);
          return { title: link.doc.title ?? new URL(link.url).host, url: link.url, text: documentText(link.doc) };
        } catch (err) {
          // The model reads the same line the user would (in the chat's language), never a stack or an address list.
          const line = documentErrorText(ctx, err, url, "plain");
          throw line ? new Error(line, { cause: err }) : err;
        }
      }),
    );
  }
  return tools;
}
