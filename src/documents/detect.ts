/**
 * Which reader a file needs, from its name and MIME type as the sender gave them, checked against its first bytes:
 * a PDF or a DOCX is recognised by its signature, not by its name, and a name that lies is a corrupt file.
 */
import type { DocumentFormat } from "./document.js";

/** What the sender says the file is. */
export interface FileHints {
  fileName?: string;
  mimeType?: string;
}

/** The reader for a file: a format, or "binary" for bytes with no known text format. */
export type DetectedFormat = DocumentFormat | "binary";

const PDF_SIGNATURE = [0x25, 0x50, 0x44, 0x46, 0x2d]; // %PDF-
const ZIP_SIGNATURE = [0x50, 0x4b, 0x03, 0x04];

const CODE_EXTENSIONS = new Set(
  (
    "ts tsx mts cts js jsx mjs cjs py pyi rb go rs java kt kts scala swift c h cc cpp cxx hpp hh cs fs vb php pl pm r " +
    "lua dart ex exs erl hs clj cljs elm ml mli nim zig sh bash zsh fish ps1 bat cmd sql graphql gql proto css scss " +
    "sass less vue svelte astro xml xsd xsl yaml yml toml ini cfg conf properties env gradle cmake make mk dockerfile " +
    "tf hcl nix tex bib diff patch lock"
  ).split(" "),
);
const MARKDOWN_EXTENSIONS = new Set(["md", "markdown", "mdown", "mkd", "mdx", "rst", "adoc"]);
const TEXT_EXTENSIONS = new Set(["txt", "text", "log", "srt", "vtt", "nfo"]);

/** The lower-cased extension of a file name ("report.PDF" → "pdf"; "Dockerfile" → "dockerfile"). */
export function extensionOf(fileName: string | undefined): string | undefined {
  if (!fileName) return undefined;
  const base = fileName.split(/[\\/]/).pop() ?? "";
  const dot = base.lastIndexOf(".");
  if (dot <= 0) return /^(dockerfile|makefile|gemfile|rakefile|procfile)$/i.test(base) ? base.toLowerCase() : undefined;
  return base.slice(dot + 1).toLowerCase();
}

function startsWith(bytes: Uint8Array, signature: number[], at = 0): boolean {
  return signature.every((b, i) => bytes[at + i] === b);
}

/** A PDF's header may follow some junk (the spec allows it within the first 1024 bytes). */
export function looksLikePdf(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length - PDF_SIGNATURE.length, 1024);
  for (let i = 0; i <= end; i++) if (startsWith(bytes, PDF_SIGNATURE, i)) return true;
  return false;
}

export function looksLikeZip(bytes: Uint8Array): boolean {
  return startsWith(bytes, ZIP_SIGNATURE);
}

/** The format a name or MIME type claims, if any. */
export function claimedFormat(hints: FileHints): DocumentFormat | undefined {
  const mime = hints.mimeType?.toLowerCase().split(";")[0]?.trim();
  const ext = extensionOf(hints.fileName);
  if (ext === "pdf" || mime === "application/pdf") return "pdf";
  if (ext === "docx" || mime === "application/vnd.openxmlformats-officedocument.wordprocessingml.document") return "docx";
  if (ext === "html" || ext === "htm" || ext === "xhtml" || mime === "text/html" || mime === "application/xhtml+xml") return "html";
  if ((ext && MARKDOWN_EXTENSIONS.has(ext)) || mime === "text/markdown" || mime === "text/x-markdown") return "markdown";
  if (ext === "csv" || ext === "tsv" || mime === "text/csv" || mime === "text/tab-separated-values") return "csv";
  if (ext === "json" || ext === "jsonl" || ext === "ndjson" || ext === "geojson" || mime === "application/json") return "json";
  if (ext && CODE_EXTENSIONS.has(ext)) return "code";
  if ((ext && TEXT_EXTENSIONS.has(ext)) || mime === "text/plain") return "text";
  if (mime?.startsWith("text/")) return "text";
  if (mime && /^application\/(x-)?(javascript|typescript|sh|yaml|xml|toml|sql)/.test(mime)) return "code";
  return undefined;
}

/**
 * The reader for these bytes. Signatures win over names: a PDF is read as a PDF whatever it is called, and a file
 * named .pdf that is not one reads as a damaged PDF (the caller's "corrupt"). Other zips (XLSX, ODT, archives) and
 * anything else that is not text are "binary".
 */
export function detectFormat(bytes: Uint8Array, hints: FileHints): DetectedFormat {
  const claimed = claimedFormat(hints);
  if (looksLikePdf(bytes)) return "pdf";
  if (looksLikeZip(bytes)) return claimed === "docx" ? "docx" : "binary";
  if (claimed === "pdf" || claimed === "docx") return claimed;
  return claimed ?? "text";
}
