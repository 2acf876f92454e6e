/**
 * Cutting a document into chunks of about CHUNK_TOKENS tokens for embeddings and retrieval. Cuts fall between
 * paragraphs where possible, then between lines, then between sentences, and only as a last resort inside a
 * sentence. A chunk never mixes two headings (it starts with its heading, so it can be found and cited by it); PDF
 * pages are merged while they are small, and the chunk then cites the page range. Tokens are counted with the
 * counter the caller gives (the chat model's encoding), once per piece and once per chunk.
 */
import type { DocumentSection, ExtractedDocument } from "./document.js";

/** The size chunks aim for. */
export const CHUNK_TOKENS = 500;

/** Where a chunk comes from, for citations. */
export interface ChunkLocation {
  /** First and last PDF page. */
  pageFrom?: number;
  pageTo?: number;
  heading?: string;
}

export interface DocumentChunk {
  /** 0-based position in the document. */
  index: number;
  text: string;
  tokens: number;
  location: ChunkLocation;
}

export interface ChunkOptions {
  countTokens: (text: string) => number;
  /** Default CHUNK_TOKENS. */
  targetTokens?: number;
}

/** "p. 3", "pp. 3–4", or the heading: how excerpts are labelled for the model (and so in citations). */
export function locationLabel(location: ChunkLocation): string {
  const { pageFrom, pageTo, heading } = location;
  if (pageFrom !== undefined) return pageTo !== undefined && pageTo !== pageFrom ? `pp. ${pageFrom}–${pageTo}` : `p. ${pageFrom}`;
  if (heading) return heading.length > 80 ? `${heading.slice(0, 79)}…` : heading;
  return "";
}

interface Piece {
  text: string;
  tokens: number;
  /** What joins it to the piece before: a blank line between paragraphs, a newline between lines, a space. */
  glue: string;
  /** Set on the first piece of a PDF page, so a chunk spanning pages can mark where each begins. */
  pageStart?: number;
}

const SENTENCE_END = /(?<=[.!?。！？；;])\s+|(?<=[。！？；])/u;

/** Splits text that is too long on its own at ever finer boundaries, down to characters. */
function split(text: string, glue: string, limit: number, count: (t: string) => number): Piece[] {
  const tokens = count(text);
  if (tokens <= limit) return [{ text, tokens, glue }];
  const tries: Array<[RegExp, string]> = [
    [/\n{2,}/, "\n\n"],
    [/\n/, "\n"],
    [SENTENCE_END, " "],
    [/\s+/, " "],
  ];
  for (const [pattern, innerGlue] of tries) {
    const parts = text.split(pattern).filter((p) => p.trim() !== "");
    if (parts.length > 1) return parts.flatMap((part, i) => split(part, i === 0 ? glue : innerGlue, limit, count));
  }
  // One "word" longer than a chunk (a minified line, a long run of CJK without punctuation): cut by characters.
  const pieces: Piece[] = [];
  const step = Math.max(1, Math.floor((text.length * limit) / tokens));
  for (let at = 0; at < text.length; at += step) {
    const part = text.slice(at, at + step);
    pieces.push({ text: part, tokens: count(part), glue: at === 0 ? glue : "" });
  }
  return pieces;
}

/** Chunks of a whole document, in order. */
export function chunkDocument(doc: ExtractedDocument, opts: ChunkOptions): DocumentChunk[] {
  const target = opts.targetTokens ?? CHUNK_TOKENS;
  const count = opts.countTokens;
  const chunks: DocumentChunk[] = [];
  let pieces: Piece[] = [];
  let tokens = 0;
  let location: ChunkLocation = {};
  let header = "";
  /** Index of the first chunk of the current section: later ones repeat its heading. */
  let sectionStart = 0;

  const flush = () => {
    if (pieces.length === 0) return;
    // A chunk spanning pages marks where each one begins ("[p. 2]"), so every sentence can be cited by its page.
    const spans = location.pageFrom !== undefined && location.pageTo !== location.pageFrom;
    const body = pieces
      .map((p, i) => (i === 0 ? "" : p.glue) + (spans && (p.pageStart !== undefined || i === 0) ? `[p. ${p.pageStart ?? location.pageFrom}]\n` : "") + p.text)
      .join("");
    const continued = chunks.length > sectionStart && location.heading !== undefined && location.pageFrom === undefined;
    const prefix = header || (continued ? location.heading! : "");
    const text = prefix ? `${prefix}\n${body}` : body;
    chunks.push({ index: chunks.length, text, tokens: count(text), location });
    pieces = [];
    tokens = 0;
  };

  const startSection = (section: DocumentSection) => {
    const sameHeading = section.heading === location.heading;
    // Pages run on into the same chunk while it has room (the loop below extends its page range as text of the new
    // page goes in); a new heading always starts a new one.
    if (section.page !== undefined && sameHeading && pieces.length > 0) return;
    flush();
    sectionStart = chunks.length;
    location = {
      ...(section.page !== undefined ? { pageFrom: section.page, pageTo: section.page } : {}),
      ...(section.heading ? { heading: section.heading } : {}),
    };
  };

  for (const section of doc.sections) {
    startSection(section);
    header = section.header ?? "";
    const prefixTokens = count(header || section.heading || "") + 1;
    const limit = Math.max(16, target - prefixTokens);
    const sectionPieces = split(section.text, "\n\n", limit, count);
    if (section.page !== undefined && sectionPieces[0]) sectionPieces[0].pageStart = section.page;
    for (const piece of sectionPieces) {
      if (tokens > 0 && tokens + piece.tokens > limit) {
        flush();
        // The chunk that continues a section keeps its place (same heading, this page).
        if (section.page !== undefined) location = { ...location, pageFrom: section.page, pageTo: section.page };
      }
      if (section.page !== undefined) location = { ...location, pageFrom: location.pageFrom ?? section.page, pageTo: section.page };
      pieces.push(piece);
      tokens += piece.tokens + (pieces.length > 1 ? 1 : 0);
    }
  }
  flush();
  return chunks;
}
