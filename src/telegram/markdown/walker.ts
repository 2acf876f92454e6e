/**
 * markdown-it tokens → chat text plus Telegram entities. One pass over the tokens, one switch over their types.
 *
 * Presentation: headings are bold lines, bullets "• ", ordered items numbered from their list's start, task items
 * ☐/☑, rules a line of "─", block quotes a blockquote entity, code blocks `pre` with their language, tables an
 * aligned `pre` block. Links become text_link when Telegram accepts their URL; bare URLs and <autolinks> stay plain
 * text (Telegram links them itself); an image is a link to it, named by its alt text. Code inside a link loses its
 * code style (Telegram lets code and links contain neither). Raw HTML is shown as it was written, except `<br>`.
 * Blank lines between blocks follow the source.
 */
import type { Token } from "markdown-it";
import type { MessageEntity } from "grammy/types";
import { isAllowedLinkUrl } from "../entity-check.js";
import { drawTable, type Align } from "./table.js";

const RULE_LINE = "──────────";
const BULLET = "• ";
const TASK_RE = /^\[([ xX])\](?=\s|$)\s*/;
const BR_RE = /^<br\s*\/?>$/i;

/** Output text in chunks, the entities over it, and the line layout (separators and list indentation). */
class Writer {
  private readonly chunks: string[];
  length: number;
  readonly entities: MessageEntity[];
  /** Indentation of continuation lines inside list items. */
  indent = "";
  /** A separator owed before the next content: 1 line break or 2 (a blank line). */
  private breaks = 0;
  private breakIndent = "";
  /** After `<br>`: the spaces that follow it are dropped. */
  private skipSpaces = false;
  /** Text before this may not be trimmed: an entity ends there. */
  private entitiesEnd: number;

  constructor(seed?: Rendered) {
    this.chunks = seed ? [seed.text] : [];
    this.length = seed?.text.length ?? 0;
    this.entities = seed ? [...seed.entities] : [];
    this.entitiesEnd = this.length;
  }

  /** Nothing owed: a separator or skipped spaces would make this a bad place to resume from. */
  settled(): boolean {
    return this.breaks === 0 && !this.skipSpaces;
  }

  write(s: string): void {
    if (this.skipSpaces) {
      s = s.replace(/^[ \t]+/, "");
      if (s === "") return;
      this.skipSpaces = false;
    }
    if (s === "") return;
    this.flush();
    this.chunks.push(s);
    this.length += s.length;
  }

  /** The next block starts on a new line (`blank`: after an empty line), indented unless `mark(false)` says not. */
  separate(blank: boolean): void {
    this.breaks = Math.max(this.breaks, blank ? 2 : 1);
    this.breakIndent = this.indent;
  }

  /** Where the next content starts; `indented` false for code and tables, whose lines must not be shifted. */
  mark(indented = true): number {
    if (!indented) this.breakIndent = "";
    this.flush();
    return this.length;
  }

  /** A hard line break (`<br>`, or a backslash or two spaces at a line end), without the spaces around it. */
  lineBreak(): void {
    const last = this.chunks.at(-1);
    if (last !== undefined && /[ \t]$/.test(last)) {
      const trimmed = last.replace(/[ \t]+$/, "");
      if (this.length - last.length + trimmed.length >= this.entitiesEnd) {
        this.length -= last.length - trimmed.length;
        this.chunks[this.chunks.length - 1] = trimmed;
      }
    }
    this.write(`\n${this.indent}`);
    this.skipSpaces = true;
  }

  add(type: MessageEntity["type"], start: number, extra?: { url?: string; language?: string }): void {
    const length = this.length - start;
    if (length <= 0) return;
    this.entitiesEnd = this.length;
    if (type === "text_link") this.entities.push({ type, offset: start, length, url: extra?.url ?? "" });
    else if (type === "pre" && extra?.language) this.entities.push({ type, offset: start, length, language: extra.language });
    else this.entities.push({ type, offset: start, length } as MessageEntity);
  }

  text(): string {
    return this.chunks.join("");
  }

  private flush(): void {
    if (this.breaks > 0 && this.length > 0) {
      const s = (this.breaks === 2 ? "\n\n" : "\n") + this.breakIndent;
      this.chunks.push(s);
      this.length += s.length;
    }
    this.breaks = 0;
    this.skipSpaces = false;
  }
}

/** Every token type markdown-it and our rules produce; an unknown one is shown as its text (see the switch). */
type TokenType =
  | "paragraph_open" | "paragraph_close" | "heading_open" | "heading_close" | "blockquote_open" | "blockquote_close"
  | "bullet_list_open" | "bullet_list_close" | "ordered_list_open" | "ordered_list_close" | "list_item_open"
  | "list_item_close" | "table_open" | "table_close" | "thead_open" | "thead_close" | "tbody_open" | "tbody_close"
  | "tr_open" | "tr_close" | "th_open" | "th_close" | "td_open" | "td_close" | "inline" | "fence" | "code_block"
  | "hr" | "html_block" | "text" | "text_special" | "softbreak" | "hardbreak" | "code_inline" | "html_inline"
  | "em_open" | "em_close" | "strong_open" | "strong_close" | "s_open" | "s_close" | "spoiler_open"
  | "spoiler_close" | "link_open" | "link_close" | "image";

interface OpenEntity {
  type: "bold" | "italic" | "strikethrough" | "spoiler" | "blockquote" | "link";
  start: number;
  url?: string;
}

interface List {
  ordered: boolean;
  next: number;
  indent: string;
}

interface Table {
  open: Token;
  rows: string[][];
  aligns: Align[];
}

/** Walks block and inline tokens (recursively into `children`) into `w`. */
class Walker {
  private readonly open: OpenEntity[] = [];
  private readonly lists: List[] = [];
  private table: Table | undefined;
  /** The first block in a list item goes on its marker's line, the first in a quote right at its start. */
  private containerStart = false;
  /** Inside a link shown as text_link: code is plain text, and an image is its alt text. */
  private linkDepth = 0;

  /** `lastLine`: source line after the last block, to tell a line break from a blank line between blocks. */
  constructor(
    private readonly w: Writer,
    private lastLine = 0,
  ) {}

  /** What has been written so far, to resume from with other tokens after it (at a top-level block only). */
  snapshot(): Rendered | undefined {
    return this.w.settled() ? { text: this.w.text(), entities: [...this.w.entities], lastLine: this.lastLine } : undefined;
  }

  walk(tokens: Token[], from = 0, to = tokens.length): void {
    for (let i = from; i < to; i++) this.token(tokens[i] as Token, tokens, i);
  }

  /** A block starts: on the item's marker line, else after a line break or (as in the source) a blank line. */
  private block(token: Token, leaf = true): void {
    if (this.containerStart) this.containerStart = false;
    else this.w.separate(token.map !== null && token.map[0] > this.lastLine);
    if (leaf && token.map) this.lastLine = token.map[1];
  }

  private push(type: OpenEntity["type"], url?: string): void {
    this.open.push({ type, start: this.w.mark(), url });
    if (type === "link" && url !== undefined) this.linkDepth++;
  }

  private pop(): void {
    const entity = this.open.pop();
    if (!entity) return;
    if (entity.type === "link" && entity.url !== undefined) this.linkDepth--;
    if (entity.type !== "link" || entity.url !== undefined) {
      this.w.add(entity.type === "link" ? "text_link" : entity.type, entity.start, { url: entity.url });
    }
  }

  private token(token: Token, tokens: Token[], i: number): void {
    const w = this.w;
    const type = token.type as TokenType;
    switch (type) {
      case "paragraph_open":
      case "heading_open":
        this.block(token);
        if (type === "heading_open") this.push("bold");
        break;
      case "heading_close":
        this.pop();
        break;
      case "paragraph_close":
        break;
      case "blockquote_open":
        this.block(token, false);
        this.push("blockquote");
        this.containerStart = true;
        break;
      case "blockquote_close":
        this.containerStart = false;
        this.pop();
        break;
      case "bullet_list_open":
      case "ordered_list_open":
        this.lists.push({ ordered: type === "ordered_list_open", next: Number(token.attrGet("start") ?? 1), indent: w.indent });
        break;
      case "bullet_list_close":
      case "ordered_list_close":
        this.lists.pop();
        break;
      case "list_item_open": {
        const list = this.lists.at(-1) as List;
        this.block(token, false);
        let marker = list.ordered ? `${list.next++}${token.markup} ` : BULLET;
        const first = tokens[i + 2]?.children?.[0];
        const task = tokens[i + 1]?.type === "paragraph_open" && first?.type === "text" ? TASK_RE.exec(first.content) : null;
        if (task && first) {
          first.content = first.content.slice(task[0].length);
          const box = task[1] === " " ? "☐ " : "☑ ";
          marker = list.ordered ? marker + box : box;
        }
        w.mark();
        w.write(marker);
        w.indent = list.indent + " ".repeat(marker.length);
        this.containerStart = true;
        break;
      }
      case "list_item_close":
        this.containerStart = false;
        w.indent = (this.lists.at(-1) as List).indent;
        break;
      case "table_open":
        this.table = { open: token, rows: [], aligns: [] };
        break;
      case "tr_open":
        this.table?.rows.push([]);
        break;
      case "th_open": {
        const style = String(token.attrGet("style") ?? "");
        this.table?.aligns.push(style.includes("right") ? "right" : style.includes("center") ? "center" : "left");
        break;
      }
      case "table_close": {
        const table = this.table as Table;
        this.table = undefined;
        const drawn = drawTable(table.rows, table.aligns);
        if (drawn === "") break;
        this.block(table.open);
        const start = w.mark(false);
        w.write(drawn);
        w.add("pre", start);
        break;
      }
      case "thead_open":
      case "thead_close":
      case "tbody_open":
      case "tbody_close":
      case "tr_close":
      case "th_close":
      case "td_open":
      case "td_close":
        break;
      case "inline":
        if (this.table) this.table.rows.at(-1)?.push(plainText(token.children).replace(/\s+/g, " ").trim());
        else this.walk(token.children ?? []);
        break;
      case "fence":
      case "code_block": {
        const code = token.content.replace(/\n$/, "");
        if (code.trim() === "") break;
        this.block(token);
        const start = w.mark(false);
        w.write(code);
        w.add("pre", start, { language: /^\{?\.?([\w+#.-]{1,32})/.exec(token.info.trim())?.[1] });
        break;
      }
      case "hr":
        this.block(token);
        w.write(RULE_LINE);
        break;
      case "html_block":
        this.block(token);
        w.write(token.content.trimEnd());
        break;
      case "text":
      case "text_special":
        w.write(token.content);
        break;
      case "softbreak":
        w.write(`\n${w.indent}`);
        break;
      case "hardbreak":
        w.lineBreak();
        break;
      case "html_inline":
        if (BR_RE.test(token.content)) w.lineBreak();
        else w.write(token.content);
        break;
      case "code_inline": {
        const start = w.mark();
        w.write(token.content);
        if (this.linkDepth === 0) w.add("code", start);
        break;
      }
      case "em_open":
        this.push("italic");
        break;
      case "strong_open":
        this.push("bold");
        break;
      case "s_open":
        this.push("strikethrough");
        break;
      case "spoiler_open":
        this.push("spoiler");
        break;
      case "em_close":
      case "strong_close":
      case "s_close":
      case "spoiler_close":
      case "link_close":
        this.pop();
        break;
      case "link_open": {
        const href = String(token.attrGet("href") ?? "");
        const shown = token.markup !== "autolink" && token.markup !== "linkify" && isAllowedLinkUrl(href);
        this.push("link", shown ? href : undefined);
        break;
      }
      case "image": {
        const src = String(token.attrGet("src") ?? "");
        // Inside a link only its alt text: Telegram links cannot nest.
        const linked = this.linkDepth === 0 && isAllowedLinkUrl(src);
        if (linked) this.push("link", src);
        w.write(plainText(token.children));
        if (linked) this.pop();
        break;
      }
      default: {
        // Exhaustive over TokenType; a token type a future markdown-it adds is shown as its text, never dropped.
        const _never: never = type;
        w.write((token).content);
      }
    }
  }
}

/** Inline tokens as text only (table cells, image alt text). */
function plainText(tokens: Token[] | null): string {
  const w = new Writer();
  new Walker(w).walk(tokens ?? []);
  return w.text();
}

/** Chat text and entities (not yet repaired: see repair.ts), and the source line after the last block. */
export interface Rendered {
  text: string;
  entities: MessageEntity[];
  lastLine: number;
}

/**
 * The chat text and entities for markdown-it's tokens, written after `seed` (what earlier blocks rendered to; its
 * lastLine counted in these tokens' lines). `snapshotAt`: the index of a top-level token, to also return what was
 * rendered before it.
 */
export function renderTokens(
  tokens: Token[],
  seed?: Rendered,
  snapshotAt = -1,
): { text: string; entities: MessageEntity[]; snapshot?: Rendered } {
  const w = new Writer(seed);
  const walker = new Walker(w, seed?.lastLine);
  if (snapshotAt < 0) {
    walker.walk(tokens);
    return { text: w.text(), entities: w.entities };
  }
  walker.walk(tokens, 0, snapshotAt);
  const snapshot = walker.snapshot();
  walker.walk(tokens, snapshotAt);
  return { text: w.text(), entities: w.entities, snapshot };
}
