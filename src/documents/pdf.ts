/**
 * PDF text with page numbers, through unpdf (Mozilla's pdf.js in a build for servers: pure JavaScript, no native
 * parts, Node 20). Paragraphs are told apart by the space between lines, so chunks can end between them.
 * A password-protected file is "encrypted", one pdf.js cannot parse is "corrupt", and one whose pages carry no text
 * at all (a scan without OCR) is "no_text".
 */
import { getDocumentProxy } from "unpdf";
import { DocumentError } from "./document-error.js";
import { makeDocument, type DocumentSection, type ExtractedDocument } from "./document.js";

/** More pages than any document a chat could use; beyond it the file is refused before its text is read. */
export const MAX_PDF_PAGES = 3000;

interface TextItemLike {
  str: string;
  hasEOL: boolean;
  transform: number[];
  height: number;
}

const isTextItem = (item: unknown): item is TextItemLike => typeof (item as { str?: unknown }).str === "string";

/** One page's text: lines joined, a blank line where the gap between lines says a new paragraph starts. */
function pageText(items: readonly unknown[]): string {
  let text = "";
  let line = "";
  let lineY: number | undefined;
  let lineHeight = 0;
  let previousY: number | undefined;
  let previousHeight = 0;
  const endLine = () => {
    const content = line.replace(/\s+/g, " ").trim();
    line = "";
    if (!content || lineY === undefined) return;
    if (text !== "") {
      const gap = previousY === undefined ? 0 : Math.abs(previousY - lineY);
      const height = Math.max(lineHeight, previousHeight, 1);
      text += gap > height * 1.6 ? "\n\n" : "\n";
    }
    text += content;
    previousY = lineY;
    previousHeight = lineHeight;
    lineY = undefined;
    lineHeight = 0;
  };
  for (const item of items) {
    if (!isTextItem(item)) continue;
    const y = item.transform[5] ?? 0;
    const height = item.height || Math.abs(item.transform[3] ?? 0);
    // A new baseline without an end-of-line mark is a new line too (columns, tables).
    if (lineY !== undefined && line.trim() !== "" && Math.abs(y - lineY) > Math.max(height, lineHeight) * 0.5) endLine();
    if (item.str !== "") {
      lineY ??= y;
      lineHeight = Math.max(lineHeight, height);
      line += item.str;
    }
    if (item.hasEOL) endLine();
  }
  endLine();
  return text;
}

function pdfError(err: unknown): DocumentError {
  const name = (err as { name?: unknown })?.name;
  if (name === "PasswordException") return new DocumentError("encrypted", "the PDF needs a password", { cause: err });
  return new DocumentError("corrupt", `pdf.js cannot read the file: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/** The text of every page of a PDF, one section per page (pages without text are left out). */
export async function pdfDocument(bytes: Uint8Array): Promise<ExtractedDocument> {
  if (bytes.length === 0) throw new DocumentError("empty", "the file is empty");
  // pdf.js takes ownership of the buffer it is given (it may transfer it): hand it a copy.
  const data = new Uint8Array(bytes);
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    pdf = await getDocumentProxy(data, { verbosity: 0, isEvalSupported: false, disableFontFace: true, useSystemFonts: false });
  } catch (err) {
    throw pdfError(err);
  }
  try {
    if (pdf.numPages > MAX_PDF_PAGES) throw new DocumentError("too_large", `the PDF has ${pdf.numPages} pages`);
    const sections: DocumentSection[] = [];
    for (let number = 1; number <= pdf.numPages; number++) {
      const page = await pdf.getPage(number);
      const content = await page.getTextContent();
      sections.push({ text: pageText(content.items), page: number });
      page.cleanup();
    }
    let title: string | undefined;
    try {
      const info = (await pdf.getMetadata()).info as { Title?: unknown } | undefined;
      if (typeof info?.Title === "string") title = info.Title;
    } catch {
      // Metadata is optional.
    }
    const doc = makeDocument("pdf", sections, { title, pages: pdf.numPages });
    if (doc.sections.length === 0) throw new DocumentError("no_text", `none of the ${pdf.numPages} pages has a text layer`);
    return doc;
  } catch (err) {
    if (err instanceof DocumentError) throw err;
    throw pdfError(err);
  } finally {
    await pdf.destroy().catch(() => undefined);
  }
}
