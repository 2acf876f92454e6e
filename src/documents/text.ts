/**
 * Plain-text formats: decoding (UTF-8, UTF-16 with a byte order mark, and GB 18030 for Chinese files saved by older
 * Windows tools), telling text from binary, and sections for Markdown (by heading), CSV (header row kept with every
 * chunk), JSON, source code and plain text.
 */
import { DocumentError } from "./document-error.js";
import { makeDocument, type DocumentFormat, type DocumentSection, type ExtractedDocument } from "./document.js";

/** Share of control characters (other than tab, newline, carriage return, form feed) above which bytes are binary. */
const MAX_CONTROL_SHARE = 0.01;

function isText(text: string): boolean {
  if (text.includes("\u0000")) return false;
  let control = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) || c === 0x7f || c === 0xfffd) control++;
  }
  return control <= text.length * MAX_CONTROL_SHARE;
}

/** The text of a file, or undefined when the bytes are not text in any encoding tried. */
export function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes.subarray(2));
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes.subarray(2));
  for (const encoding of ["utf-8", "gb18030"]) {
    try {
      // ignoreBOM: false (the default) drops a UTF-8 byte order mark.
      const text = new TextDecoder(encoding, { fatal: true }).decode(bytes);
      if (isText(text)) return text;
    } catch {
      // Not this encoding: try the next.
    }
  }
  return undefined;
}

/** Markdown split at ATX headings (# …) outside code fences; each section keeps its heading. */
function markdownSections(text: string): { sections: DocumentSection[]; title?: string } {
  const sections: DocumentSection[] = [];
  let heading: string | undefined;
  let title: string | undefined;
  let lines: string[] = [];
  let fence: string | undefined;
  const flush = () => {
    sections.push({ text: lines.join("\n"), ...(heading ? { heading } : {}) });
    lines = [];
  };
  for (const line of text.split(/\r?\n/)) {
    const fenceMark = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fenceMark) {
      if (fence === undefined) fence = fenceMark[0];
      else if (fenceMark[0] === fence) fence = undefined;
    }
    const atx = fence === undefined ? /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line) : null;
    if (atx) {
      flush();
      heading = atx[2]!.trim();
      if (atx[1]!.length === 1 && title === undefined) title = heading;
      lines.push(line);
      continue;
    }
    lines.push(line);
  }
  flush();
  return { sections, ...(title ? { title } : {}) };
}

/** A text format's sections: Markdown by heading, CSV with its header row on every chunk, the rest whole. */
export function textDocument(bytes: Uint8Array, format: Exclude<DocumentFormat, "pdf" | "docx" | "html">): ExtractedDocument {
  const text = decodeText(bytes);
  if (text === undefined) throw new DocumentError("unsupported", "the file is not text");
  const normalized = text.replace(/\r\n?/g, "\n");
  if (normalized.trim() === "") throw new DocumentError("empty", "the file holds no text");
  if (format === "markdown") {
    const { sections, title } = markdownSections(normalized);
    return makeDocument("markdown", sections, { title });
  }
  if (format === "csv") {
    const newline = normalized.indexOf("\n");
    const header = newline < 0 ? normalized : normalized.slice(0, newline);
    const rows = newline < 0 ? "" : normalized.slice(newline + 1);
    // Rows are lines: a chunk may end after any of them, never inside one.
    return makeDocument("csv", [{ text: rows.trim() === "" ? header : rows, ...(rows.trim() === "" ? {} : { header }) }]);
  }
  return makeDocument(format, [{ text: normalized }]);
}
