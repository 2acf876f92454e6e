/**
 * Reading a link: the page fetched behind the SSRF guard (web/safe-fetch.ts), then read as a document by what it is
 * (an HTML page's main content, a PDF's pages, plain text); other kinds of content are "unsupported".
 */
import { DocumentError } from "../documents/document-error.js";
import type { ExtractedDocument } from "../documents/document.js";
import { extractDocument } from "../documents/extract.js";
import type { SafeFetcher } from "../web/safe-fetch.js";

export interface ReadLink {
  /** The URL after redirects. */
  url: string;
  doc: ExtractedDocument;
  /** Bytes received. */
  bytes: number;
  /** The content as received, for a document id. */
  content: Uint8Array;
}

/** Content types read as documents; the rest (images, archives, binaries) are not. */
const READABLE = /^(text\/|application\/(pdf|xhtml\+xml|xml|json|ld\+json|javascript)|$)/;

function fileNameOf(url: string): string | undefined {
  const last = new URL(url).pathname.split("/").pop();
  return last ? decodeURIComponent(last) : undefined;
}

/** Re-encodes text that declares another charset (e.g. GBK) as UTF-8, so the readers see it as it was meant. */
function asUtf8(bytes: Uint8Array, contentType: string): Uint8Array {
  const charset = /charset=["']?([\w-]+)/i.exec(contentType)?.[1]?.toLowerCase();
  if (!charset || charset === "utf-8" || charset === "utf8") return bytes;
  try {
    return new TextEncoder().encode(new TextDecoder(charset).decode(bytes));
  } catch {
    return bytes;
  }
}

/** Fetches and reads a link. Throws WebFetchError (fetching) or DocumentError (reading). */
export async function readLink(fetcher: SafeFetcher, url: string, opts: { signal?: AbortSignal; language?: string } = {}): Promise<ReadLink> {
  const page = await fetcher.fetch(url, opts);
  const mime = page.contentType.split(";")[0]!.trim();
  if (!READABLE.test(mime)) throw new DocumentError("unsupported", `a link to ${mime || "unknown content"}`);
  const content = mime === "application/pdf" ? page.bytes : asUtf8(page.bytes, page.contentType);
  const doc = await extractDocument(content, { fileName: fileNameOf(page.url), mimeType: mime || undefined });
  return { url: page.url, doc, bytes: page.bytes.length, content: page.bytes };
}

/** A document's text in reading order, headings and pages marked, for a tool result. */
export function documentText(doc: ExtractedDocument): string {
  return doc.sections.map((s) => (s.page !== undefined && doc.sections.length > 1 ? `[p. ${s.page}]\n${s.text}` : s.text)).join("\n\n");
}
