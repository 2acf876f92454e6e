/**
 * Word documents (.docx) through mammoth, with headings kept for citations. The file is a zip, so it first passes
 * the zip-bomb guard (zip-guard.ts) and mammoth only ever sees the bounded, repacked copy. Pictures are not read.
 */
import mammoth from "mammoth";
import { DocumentError } from "./document-error.js";
import { makeDocument, type ExtractedDocument } from "./document.js";
import { htmlSections } from "./html.js";
import { boundedZip } from "./zip-guard.js";

/** Word's Title style becomes a heading (mammoth's default map leaves it a paragraph). */
const STYLE_MAP = ["p[style-name='Title'] => h1:fresh", "p[style-name='Subtitle'] => h2:fresh"];

export async function docxDocument(bytes: Uint8Array): Promise<ExtractedDocument> {
  if (bytes.length === 0) throw new DocumentError("empty", "the file is empty");
  const { files, repacked } = await boundedZip(bytes);
  if (!files.has("word/document.xml")) throw new DocumentError("corrupt", "the zip is not a Word document (no word/document.xml)");
  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: Buffer.from(repacked.buffer, repacked.byteOffset, repacked.byteLength) },
      {
        styleMap: STYLE_MAP,
        externalFileAccess: false,
        convertImage: mammoth.images.imgElement(() => Promise.resolve({ src: "" })),
      },
    );
    html = result.value;
  } catch (err) {
    throw new DocumentError("corrupt", `mammoth cannot read the document: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const sections = htmlSections(html);
  const title = sections.find((s) => s.heading)?.heading;
  const doc = makeDocument("docx", sections, { title });
  if (doc.sections.length === 0) throw new DocumentError("empty", "the document holds no text");
  return doc;
}
