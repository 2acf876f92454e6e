/**
 * HTML: the main content of a page (Mozilla Readability over linkedom: no navigation, scripts, ads or footers), and
 * the text of any HTML fragment in sections by heading (also what a DOCX becomes through mammoth).
 */
import { Readability } from "@mozilla/readability";
import { parseHTML } from "linkedom";
import { DocumentError } from "./document-error.js";
import { makeDocument, type DocumentFormat, type DocumentSection, type ExtractedDocument } from "./document.js";

const HEADING = /^H[1-6]$/;
/** Elements whose text is one paragraph (their inline children flow into it). */
const BLOCKS = new Set(["P", "LI", "PRE", "BLOCKQUOTE", "TR", "DT", "DD", "FIGCAPTION", "CAPTION", "ADDRESS", "SUMMARY"]);
const SKIPPED = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "SVG", "IFRAME", "OBJECT", "HEAD", "BUTTON", "SELECT", "FORM"]);
/** Containers: their direct text, if any, is a paragraph of its own; their element children are walked. */
const CONTAINERS = new Set(["DIV", "SECTION", "ARTICLE", "MAIN", "BODY", "HEADER", "FOOTER", "ASIDE", "NAV", "UL", "OL", "DL", "TABLE", "TBODY", "THEAD", "TFOOT", "FIGURE", "DETAILS", "CENTER", "HTML"]);

interface MinimalNode {
  nodeType: number;
  nodeName: string;
  textContent: string | null;
  childNodes: ArrayLike<MinimalNode>;
}

/** What this file uses of a linkedom document (the DOM lib is not part of this Node project's types). */
interface MinimalDocument {
  title: string;
  body: MinimalNode | null;
  querySelectorAll(selector: string): ArrayLike<{ remove(): void }>;
}

/** linkedom's parser, typed as this file uses it. */
function parseDocument(html: string): MinimalDocument {
  return (parseHTML(html) as unknown as { document: MinimalDocument }).document;
}

const ELEMENT = 1;
const TEXT = 3;

function inlineText(node: MinimalNode): string {
  if (node.nodeType === TEXT) return node.textContent ?? "";
  if (node.nodeType !== ELEMENT || SKIPPED.has(node.nodeName)) return "";
  if (node.nodeName === "BR") return "\n";
  let text = "";
  for (const child of Array.from(node.childNodes)) text += inlineText(child);
  if (node.nodeName === "TD" || node.nodeName === "TH") text += "\t";
  return text;
}

const tidy = (text: string) =>
  text
    .replace(/[ \t\u00a0]+/g, " ")
    .replace(/ ?\n ?/g, "\n")
    .trim();

/** Paragraphs under headings, in document order. */
function collectSections(root: MinimalNode): DocumentSection[] {
  const sections: DocumentSection[] = [];
  let current: { heading?: string; paragraphs: string[] } = { paragraphs: [] };
  const flush = () => {
    if (current.paragraphs.length > 0 || current.heading) {
      sections.push({ text: current.paragraphs.join("\n\n"), ...(current.heading ? { heading: current.heading } : {}) });
    }
  };
  const walk = (node: MinimalNode) => {
    if (node.nodeType !== ELEMENT || SKIPPED.has(node.nodeName)) return;
    if (HEADING.test(node.nodeName)) {
      const heading = tidy(inlineText(node)).replace(/\n/g, " ");
      if (!heading) return;
      flush();
      current = { heading, paragraphs: [heading] };
      return;
    }
    if (BLOCKS.has(node.nodeName)) {
      const text = node.nodeName === "PRE" ? (node.textContent ?? "").trim() : tidy(inlineText(node));
      if (text) current.paragraphs.push(text);
      return;
    }
    if (CONTAINERS.has(node.nodeName)) {
      // Text that sits directly in a container (a <div> used as a paragraph) is read in runs between its blocks.
      let run = "";
      const endRun = () => {
        const text = tidy(run);
        if (text) current.paragraphs.push(text);
        run = "";
      };
      for (const child of Array.from(node.childNodes)) {
        const isBlock =
          child.nodeType === ELEMENT && (HEADING.test(child.nodeName) || BLOCKS.has(child.nodeName) || CONTAINERS.has(child.nodeName));
        if (isBlock) {
          endRun();
          walk(child);
        } else run += inlineText(child);
      }
      endRun();
      return;
    }
    // Anything else (inline elements at block level, unknown tags) is a paragraph of its own.
    const text = tidy(inlineText(node));
    if (text) current.paragraphs.push(text);
  };
  walk(root);
  flush();
  return sections;
}

/** The sections of an HTML fragment or page, read as it is (no main-content detection). */
export function htmlSections(html: string): DocumentSection[] {
  const body = parseDocument(`<!DOCTYPE html><html><body>${html}</body></html>`).body;
  return body ? collectSections(body) : [];
}

/**
 * A web page or HTML file: its main content when Readability finds an article, otherwise the whole body (minus
 * scripts, styles and forms). The title is the article's headline or the page's <title>.
 */
export function htmlDocument(html: string, format: DocumentFormat = "html"): ExtractedDocument {
  if (html.trim() === "") throw new DocumentError("empty", "the page is empty");
  const document = parseDocument(html);
  const pageTitle = document.title;
  let sections: DocumentSection[] = [];
  let title: string | undefined = pageTitle || undefined;
  try {
    // Readability changes the document it reads; the fallback below parses again.
    const article = new Readability(document, { charThreshold: 200 }).parse();
    if (article?.content) {
      sections = htmlSections(article.content);
      title = article.title || title;
    }
  } catch {
    // A page Readability cannot handle is read whole below.
  }
  if (sections.length === 0) {
    const whole = parseDocument(html);
    for (const element of Array.from(whole.querySelectorAll("nav, header, footer, aside, script, style, noscript, form"))) element.remove();
    const body = whole.body;
    if (body) sections = collectSections(body);
  }
  const doc = makeDocument(format, sections, { title });
  if (doc.sections.length === 0) throw new DocumentError("empty", "the page holds no text");
  return doc;
}
