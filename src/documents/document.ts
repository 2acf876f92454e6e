/** What extraction makes of a file or a web page: its text in sections that keep page numbers or headings. */

/** The formats the bot reads. */
export type DocumentFormat = "pdf" | "docx" | "html" | "markdown" | "csv" | "json" | "code" | "text";

/**
 * A run of text with one place to cite: a PDF page, or the part of a document under one heading. Paragraphs are
 * separated by blank lines, so chunking can cut between them.
 */
export interface DocumentSection {
  text: string;
  /** 1-based page number (PDF). */
  page?: number;
  /** The heading the text sits under (DOCX, Markdown, HTML), innermost last: "Safety", "1.2.0". */
  heading?: string;
  /** A line every chunk of this section starts with (the header row of a CSV), so no chunk loses its meaning. */
  header?: string;
}

/** A document's text, ready to be chunked. */
export interface ExtractedDocument {
  format: DocumentFormat;
  /** The title the document gives itself (PDF metadata, the page's <title>, a DOCX or Markdown heading), if any. */
  title?: string;
  sections: DocumentSection[];
  /** Pages of a PDF. */
  pages?: number;
  /** Characters of text over all sections. */
  characters: number;
}

/** Builds an ExtractedDocument, counting its characters and dropping sections with no text. */
export function makeDocument(format: DocumentFormat, sections: DocumentSection[], extra: { title?: string; pages?: number } = {}): ExtractedDocument {
  const kept = sections
    .map((s) => ({ ...s, text: s.text.replace(/[ \t]+\n/g, "\n").replace(/\n{3,}/g, "\n\n").trim() }))
    .filter((s) => s.text.length > 0);
  const title = extra.title?.replace(/\s+/g, " ").trim();
  return {
    format,
    ...(title ? { title } : {}),
    sections: kept,
    ...(extra.pages !== undefined ? { pages: extra.pages } : {}),
    characters: kept.reduce((n, s) => n + s.text.length, 0),
  };
}
