/**
 * One entry point for every document the bot reads: bytes and what the sender says they are in, an
 * ExtractedDocument out, or a DocumentError that says in one word what is wrong with the file.
 */
import { DocumentError } from "./document-error.js";
import type { ExtractedDocument } from "./document.js";
import { detectFormat, type FileHints } from "./detect.js";
import { decodeText, textDocument } from "./text.js";

// The PDF, DOCX and HTML readers (pdf.js, mammoth with the zip guard, Readability over linkedom) are loaded the first
// time such a file arrives: together they are tens of MB of resident memory that a bot nobody sends documents to
// should not carry.

export async function extractDocument(bytes: Uint8Array, hints: FileHints = {}): Promise<ExtractedDocument> {
  if (bytes.length === 0) throw new DocumentError("empty", "the file is empty");
  const format = detectFormat(bytes, hints);
  switch (format) {
    case "pdf":
      return (await import("./pdf.js")).pdfDocument(bytes);
    case "docx":
      return (await import("./docx.js")).docxDocument(bytes);
    case "binary":
      throw new DocumentError("unsupported", "not a document the bot reads");
    case "html": {
      const text = decodeText(bytes);
      if (text === undefined) throw new DocumentError("unsupported", "the file is not text");
      return (await import("./html.js")).htmlDocument(text);
    }
    default:
      return textDocument(bytes, format);
  }
}
