/**
 * The context that goes with a question (answerQuestion's QuestionContextSource): the documents and pages in play,
 * sent whole while they fit the knowledge budget, and otherwise the chunks nearest to the question, retrieved by
 * embeddings from them and from the chat's learned knowledge, each labelled with its source and page or section so
 * the answer can cite it.
 *
 * In play, newest first: the documents sent with this question, the pages behind its links, and the documents that
 * earlier questions still in the history brought (their turns keep a reference). Budget: KNOWLEDGE_TOKEN_BUDGET, or
 * less when the model's context window has less room left beside the history.
 */
import type { BotContext } from "./context.js";
import type { ContextRequest, QuestionContext, QuestionContextSource } from "./answer.js";
import { documentErrorText, readLinkDocument } from "./documents.js";
import { embedTexts, ensureEmbedded } from "./embeddings.js";
import { replyMarkdown } from "./reply.js";
import { modelErrorNoteKey } from "./model-error-notes.js";
import { targetOf } from "./target.js";
import { ModelError } from "../ai/errors.js";
import { countTokens } from "../ai/tokens.js";
import type { DocumentRef, StoredDocument } from "../storage/documents.js";
import type { VectorHit } from "../storage/vectors/open.js";
import { topicOptions } from "../telegram/target.js";

export interface KnowledgeContextOptions {
  /** Documents the user sent with this question (already read). */
  documents?: StoredDocument[];
  /** Links in the question, to be read. */
  links?: string[];
}

const INSTRUCTIONS =
  "Material for this conversation follows: documents and web pages the user sent, and excerpts retrieved from " +
  "longer documents and from this chat's knowledge base. Answer from it when the question is about it, and say so " +
  "when it does not contain the answer. After each statement that uses it, cite the source in square brackets with " +
  "the page or section shown, e.g. [report.pdf, p. 2] or [guide.docx, Safety]; cite a web page as a Markdown link " +
  "to its address. Excerpts that have nothing to do with the question are to be ignored.";

/** A question that asks for the web (en and zh), for the note that there is no web search. */
const ASKS_FOR_WEB =
  /\b(search|google|look\s*(it\s*)?up|browse|internet|online|web\s*(site|page)?|latest|news|currently|right now)\b|搜索|搜一下|搜搜|查一下|查查|上网|网上|网络上|最新|新闻|百度|谷歌/i;
const NO_WEB_NOTE =
  "You cannot search the web or open pages in this chat: web search is not enabled for this bot. If the user asks " +
  "you to search or for current information you do not have, say so plainly (and suggest they send a link or a " +
  "document), instead of guessing.";

const attribute = (value: string) => value.replace(/["\n]/g, " ");

function sourceAttributes(doc: Pick<StoredDocument, "title" | "source">): string {
  return doc.source.kind === "link" ? `title="${attribute(doc.title)}" url="${attribute(doc.source.url)}"` : `title="${attribute(doc.title)}"`;
}

/** A whole document, its chunks in order, each change of page or section marked. */
function renderDocument(doc: StoredDocument): string {
  const parts: string[] = [];
  let last: string | undefined;
  for (const chunk of doc.chunks) {
    // A chunk over several pages marks each page inside its text already.
    if (chunk.location && chunk.location !== last && !chunk.text.startsWith("[p. ")) parts.push(`[${chunk.location}]`);
    last = chunk.location;
    parts.push(chunk.text);
  }
  return `<document ${sourceAttributes(doc)}>\n${parts.join("\n\n")}\n</document>`;
}

function renderExcerpt(hit: VectorHit, doc: Pick<StoredDocument, "title" | "source">): string {
  return `<excerpt ${sourceAttributes(doc)}${hit.location ? ` location="${attribute(hit.location)}"` : ""}>\n${hit.text}\n</excerpt>`;
}

/** The context source for a question asked in this update. */
export function knowledgeContext(ctx: BotContext, opts: KnowledgeContextOptions = {}): QuestionContextSource {
  return async (request) => {
    try {
      return await gather(ctx, opts, request);
    } catch (err) {
      if (err instanceof ModelError && err.kind !== "aborted") {
        ctx.log.warn({ err }, "embedding call failed");
        await replyMarkdown(ctx, ctx.t(modelErrorNoteKey(err)));
        return { stop: "told" };
      }
      throw err;
    }
  };
}

async function gather(ctx: BotContext, opts: KnowledgeContextOptions, { question, past, room, signal }: ContextRequest): Promise<QuestionContext> {
  const { deps } = ctx;
  const { documents, vectors, embedder } = deps.knowledge;
  const chatId = ctx.chat!.id;
  const encoding = deps.encoding;
  let left = Math.min(deps.config.knowledge.tokenBudget, room);
  const links = opts.links ?? [];
  const learned = await documents.learned(chatId);
  const earlierRefs = past.flatMap((turn) => turn.documents ?? []).reverse();
  if (links.length === 0 && !opts.documents?.length && earlierRefs.length === 0 && learned.length === 0) {
    return !deps.knowledge.search && ASKS_FOR_WEB.test(question) ? { text: NO_WEB_NOTE } : {};
  }
  const target = targetOf(ctx);
  void ctx.fastApi.sendChatAction(target.chatId, "typing", topicOptions(target)).catch(() => undefined);

  // The newest first: what this question brings, then what earlier questions still in the history brought.
  const fresh: StoredDocument[] = [...(opts.documents ?? [])];
  for (const url of links) {
    try {
      fresh.push(await readLinkDocument(ctx, url, signal));
    } catch (err) {
      const line = documentErrorText(ctx, err, url);
      if (!line) throw err;
      ctx.log.info({ err, url }, "link not read");
      await replyMarkdown(ctx, line);
      return { stop: "told" };
    }
  }
  const seen = new Set(fresh.map((d) => d.id));
  const inPlay = [...fresh];
  for (const ref of earlierRefs) {
    if (seen.has(ref.id)) continue;
    seen.add(ref.id);
    const doc = await documents.get(ref.id);
    if (doc) inPlay.push(doc);
  }

  // Whole while they fit; the rest by retrieval.
  const parts: string[] = [];
  const retrieve: StoredDocument[] = [];
  const sentWhole = new Set<string>();
  for (const doc of inPlay) {
    if (doc.tokens <= left) {
      const text = renderDocument(doc);
      const tokens = countTokens(text, encoding) + 1;
      if (tokens <= left) {
        parts.push(text);
        left -= tokens;
        sentWhole.add(doc.id);
        continue;
      }
    }
    retrieve.push(doc);
  }
  const fromKnowledge = learned.filter((d) => !sentWhole.has(d.id) && !retrieve.some((r) => r.id === d.id));
  const sources = new Map<string, Pick<StoredDocument, "title" | "source">>([...retrieve, ...fromKnowledge].map((d) => [d.id, d]));
  let excerpts = 0;
  if (sources.size > 0 && left > 0) {
    for (const doc of retrieve) if (!(await ensureEmbedded(ctx, doc, signal))) return { stop: "limited" };
    for (const meta of fromKnowledge) {
      if (meta.embeddedWith === embedder.model) continue;
      const doc = await documents.get(meta.id);
      if (doc && !(await ensureEmbedded(ctx, doc, signal))) return { stop: "limited" };
    }
    const query = await embedTexts(ctx, [question], [countTokens(question, encoding)], signal);
    if (!query) return { stop: "limited" };
    const hits = await vectors.search(String(chatId), [...sources.keys()], query[0]!, deps.config.knowledge.chunksPerQuestion);
    const rendered: string[] = [];
    for (const hit of hits) {
      const text = renderExcerpt(hit, sources.get(hit.docId)!);
      const tokens = countTokens(text, encoding) + 1;
      if (tokens > left) continue;
      rendered.push(text);
      left -= tokens;
    }
    excerpts = rendered.length;
    if (rendered.length > 0) parts.push(`Excerpts nearest to the question, nearest first:\n\n${rendered.join("\n\n")}`);
  }
  ctx.log.debug({ whole: sentWhole.size, retrievedFrom: sources.size, excerpts }, "question context");

  const turn = fresh.length > 0 ? { documents: fresh.map((d): DocumentRef => ({ id: d.id, title: d.title })) } : undefined;
  if (parts.length === 0) return turn ? { turn } : {};
  const note = !deps.knowledge.search && ASKS_FOR_WEB.test(question) ? `\n\n${NO_WEB_NOTE}` : "";
  return { text: `${INSTRUCTIONS}${note}\n\n${parts.join("\n\n")}`, ...(turn ? { turn } : {}) };
}
