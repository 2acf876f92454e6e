/**
 * A user's document (a Telegram file) or a link, read into a stored document: downloaded (at most Telegram's 20 MB
 * for bots) or fetched behind the SSRF guard, its text extracted (src/documents), chunked with the chat model's
 * tokenizer, and saved (storage/documents.ts). The same file or page in the same chat is the same document: it is
 * read once. Every way this can fail has one line for the user (documentErrorText).
 */
import { anySignal } from "any-signal";
import type { Document } from "grammy/types";
import type { BotContext } from "./context.js";
import { countTokens } from "../ai/tokens.js";
import { chunkDocument, locationLabel } from "../documents/chunker.js";
import { DocumentError } from "../documents/document-error.js";
import type { ExtractedDocument } from "../documents/document.js";
import { extractDocument } from "../documents/extract.js";
import { readLink } from "../services/links.js";
import { documentId, type DocumentSource, type StoredDocument } from "../storage/documents.js";
import { downloadTelegramFile, TelegramFileError } from "../telegram/files.js";
import { WebFetchError } from "../web/web-error.js";
import { escapeMarkdown } from "./markdown-escape.js";

/** The Bot API hands bots files of at most 20 MB. */
export const MAX_DOCUMENT_BYTES = 20 * 1024 * 1024;
/** A 20 MB download over a slow Bot API server must still end. */
const DOWNLOAD_TIMEOUT_MS = 120_000;

/** Chunks and counts an extracted document and saves it. */
async function store(
  ctx: BotContext,
  id: string,
  extracted: ExtractedDocument,
  meta: { title: string; source: DocumentSource; bytes: number },
): Promise<StoredDocument> {
  const { deps } = ctx;
  const chunks = chunkDocument(extracted, { countTokens: (text) => countTokens(text, deps.encoding) });
  const max = deps.config.knowledge.maxChunks;
  if (chunks.length > max) throw new DocumentError("too_long", `${chunks.length} chunks, more than ${max}`);
  const doc: StoredDocument = {
    id,
    chatId: ctx.chat!.id,
    title: meta.title,
    format: extracted.format,
    source: meta.source,
    bytes: meta.bytes,
    tokens: chunks.reduce((n, c) => n + c.tokens, 0),
    chunkCount: chunks.length,
    ...(extracted.pages !== undefined ? { pages: extracted.pages } : {}),
    addedAt: deps.now().getTime(),
    chunks: chunks.map((c) => ({ text: c.text, tokens: c.tokens, location: locationLabel(c.location) })),
  };
  await deps.knowledge.documents.save(doc);
  return doc;
}

/**
 * The document a user sent, read (or found, when this chat has read the same file before). Throws TelegramFileError
 * (download) or DocumentError (reading).
 */
export async function readTelegramDocument(ctx: BotContext, file: Document, signal: AbortSignal): Promise<StoredDocument> {
  const { deps } = ctx;
  const id = documentId(ctx.chat!.id, `telegram:${file.file_unique_id}`);
  const known = await deps.knowledge.documents.get(id);
  if (known) return known;
  if (file.file_size !== undefined && file.file_size > MAX_DOCUMENT_BYTES) throw new TelegramFileError("too_big", "over the Bot API's 20 MB");
  const bounded = anySignal([signal, AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS)]);
  let bytes: Uint8Array;
  try {
    bytes = await downloadTelegramFile(ctx.api, file.file_id, {
      apiRoot: deps.config.telegram.apiRoot,
      token: deps.config.telegram.token,
      maxBytes: MAX_DOCUMENT_BYTES,
      signal: bounded,
    });
  } finally {
    bounded.clear();
  }
  const extracted = await extractDocument(bytes, { fileName: file.file_name, mimeType: file.mime_type });
  const fileName = file.file_name?.trim() || `document.${extracted.format}`;
  return store(ctx, id, extracted, { title: fileName, source: { kind: "file", fileName }, bytes: bytes.length });
}

/** A link, fetched and read. Throws WebFetchError (fetching) or DocumentError (reading). */
export async function readLinkDocument(ctx: BotContext, url: string, signal: AbortSignal): Promise<StoredDocument> {
  const { deps } = ctx;
  const language = (await ctx.chatSettings()).language ?? ctx.from?.language_code;
  const link = await readLink(deps.knowledge.fetcher, url, { signal, ...(language ? { language } : {}) });
  const id = documentId(ctx.chat!.id, `link:${link.url}`, link.content);
  const known = await deps.knowledge.documents.get(id);
  if (known) return known;
  // A page is named by its title; a file behind a link (a PDF) by its file name, as a file sent in the chat is.
  const address = new URL(link.url);
  const fileName = decodeURIComponent(address.pathname.split("/").pop() ?? "");
  const title = (link.doc.format === "html" ? link.doc.title : fileName || link.doc.title) ?? address.host + address.pathname.replace(/\/$/, "");
  return store(ctx, id, link.doc, { title, source: { kind: "link", url: link.url }, bytes: link.bytes });
}

/**
 * One line for the user about a document or link that could not be read (Markdown, or plain text for a tool result);
 * undefined for errors that are not about that. A link is named as the user gave it, not as the hop that failed.
 */
export function documentErrorText(ctx: BotContext, err: unknown, url?: string, format: "markdown" | "plain" = "markdown"): string | undefined {
  const literal = format === "markdown" ? escapeMarkdown : (text: string) => text;
  if (err instanceof DocumentError) {
    return ctx.t(`document-${err.reason.replace(/_/g, "-")}`, { max: ctx.deps.config.knowledge.maxChunks });
  }
  if (err instanceof TelegramFileError) {
    if (err.reason === "too_big") return ctx.t("document-too-big", { max: MAX_DOCUMENT_BYTES / (1024 * 1024) });
    if (err.reason === "aborted") return undefined;
    return ctx.t("document-download-failed");
  }
  if (err instanceof WebFetchError) {
    if (err.reason === "aborted") return undefined;
    const shown = url ?? err.details.url ?? "";
    let host = shown;
    try {
      host = new URL(shown).host;
    } catch {
      // Shown as given.
    }
    return ctx.t(`link-${err.reason.replace(/_/g, "-")}`, { url: literal(shown), host: literal(host), status: err.details.status ?? 0 });
  }
  return undefined;
}
