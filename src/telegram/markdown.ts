/**
 * Markdown as chat models write it → plain text plus Telegram entities. We never send parse_mode: there is nothing to
 * escape, so no answer can fail to parse. The output is valid for Telegram whatever the input (see entity-check.ts),
 * because every result goes through `finalize`, which repairs or drops what Telegram would reject.
 *
 * Two levels, both linear: lines are grouped into blocks (fences, headings, quotes, lists, tables, rules, paragraphs),
 * and each paragraph or list item is parsed inline with CommonMark's delimiter-stack algorithm (flanking rules, rule
 * of three, openers_bottom), adapted where chat models differ from CommonMark (see `classifyRun`).
 *
 * `partial` renders a text that is still streaming so that it does not flicker: the paragraph that is still being
 * written auto-closes its open markers instead of showing them, half-typed markers at the very end are hidden, an
 * open fence is a `pre` block already.
 */
import type { MessageEntity } from "grammy/types";
import type { FormattedText } from "./formatted-text.js";
import { isAllowedLinkUrl, isWhitespaceOnly, splitsSurrogatePair } from "./entity-check.js";

export interface MarkdownOptions {
  /** The text is still being streamed: hide dangling markers and style the open paragraph as if it were closed. */
  partial?: boolean;
}

type Style = "bold" | "italic" | "strikethrough" | "spoiler";

const RULE_LINE = "──────────";
const BULLET = "• ";
const TASK_OPEN = "☐ ";
const TASK_DONE = "☑ ";

/** Accumulates output text in chunks (no per-character concatenation) and the entities over it. */
class Writer {
  private readonly chunks: string[] = [];
  length = 0;
  readonly entities: MessageEntity[] = [];
  private pendingBreaks = 0;

  write(s: string): void {
    if (s.length === 0) return;
    this.flush();
    this.chunks.push(s);
    this.length += s.length;
  }

  /** Position where the next content starts (pending line breaks are written first). */
  mark(): number {
    this.flush();
    return this.length;
  }

  /** The next block starts on a new line (`blank`: after an empty line). */
  breakLine(blank: boolean): void {
    this.pendingBreaks = Math.max(this.pendingBreaks, blank ? 2 : 1);
  }

  add(type: MessageEntity["type"], start: number, extra?: { url?: string; language?: string }): void {
    const length = this.length - start;
    if (length <= 0) return;
    if (type === "text_link") this.entities.push({ type, offset: start, length, url: extra?.url ?? "" });
    else if (type === "pre") {
      this.entities.push(
        extra?.language ? { type, offset: start, length, language: extra.language } : { type, offset: start, length },
      );
    } else this.entities.push({ type, offset: start, length } as MessageEntity);
  }

  text(): string {
    return this.chunks.join("");
  }

  private flush(): void {
    if (this.pendingBreaks === 0) return;
    if (this.length > 0) {
      const breaks = this.pendingBreaks >= 2 ? "\n\n" : "\n";
      this.chunks.push(breaks);
      this.length += breaks.length;
    }
    this.pendingBreaks = 0;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Character classes

function isWhitespaceChar(ch: string): boolean {
  if (ch === "") return true; // start or end of the text counts as whitespace (CommonMark)
  const c = ch.charCodeAt(0);
  if (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d || c === 0x0c) return true;
  return c > 0x7f && /^\s$/u.test(ch);
}

const PUNCTUATION_RE = /^[\p{P}\p{S}]$/u;

function isPunctuationChar(ch: string): boolean {
  if (ch === "") return false;
  const c = ch.charCodeAt(0);
  if (c < 0x80) return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || c >= 0x7b;
  return PUNCTUATION_RE.test(ch);
}

function isAsciiPunctuation(c: number): boolean {
  return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

function isWordChar(ch: string): boolean {
  return ch !== "" && !isWhitespaceChar(ch) && !isPunctuationChar(ch);
}

/** The code point that ends just before `i` ("" at the start). */
function codePointBefore(s: string, i: number): string {
  if (i <= 0) return "";
  const low = s.charCodeAt(i - 1);
  if (low >= 0xdc00 && low <= 0xdfff && i >= 2) {
    const high = s.charCodeAt(i - 2);
    if (high >= 0xd800 && high <= 0xdbff) return s.slice(i - 2, i);
  }
  return s[i - 1] as string;
}

/** The code point that starts at `i` ("" at the end). */
function codePointAt(s: string, i: number): string {
  if (i >= s.length) return "";
  const cp = s.codePointAt(i) as number;
  return cp > 0xffff ? s.slice(i, i + 2) : (s[i] as string);
}

// ---------------------------------------------------------------------------------------------------------------
// Inline level

interface TextToken {
  kind: "text";
  text: string;
}
interface CodeToken {
  kind: "code";
  text: string;
}
interface LinkOpenToken {
  kind: "link_open";
  /** null: the link was dropped (bad or incomplete URL), only its text is shown. */
  url: string | null;
}
interface LinkCloseToken {
  kind: "link_close";
}
interface DelimToken {
  kind: "delim";
  char: string;
  /** Characters of the run not used by a match (shown literally, or hidden when auto-opened). */
  count: number;
  /** Original length of the run (rule of three). */
  runLength: number;
  canOpen: boolean;
  canClose: boolean;
  /** Styles this run closes, innermost first. */
  closes: Style[];
  /** Styles this run opens, outermost first. */
  opens: Style[];
  prev: DelimToken | null;
  next: DelimToken | null;
}
type Token = TextToken | CodeToken | LinkOpenToken | LinkCloseToken | DelimToken;

interface Bracket {
  tokenIndex: number;
  /** Last delimiter before the bracket: emphasis inside the link text is resolved above it. */
  delimBefore: DelimToken;
  active: boolean;
  /** `[` preceded by a non-word character: can be hidden while streaming (a link is probably coming). */
  hideable: boolean;
}

/**
 * Can this run of `*`, `_`, `~` or `|` open or close? CommonMark's flanking rules, with chat-model fixes:
 * a single `*` is never intraword (so `2*3*4` stays literal), and doubled `**`, `~~`, `||` only need a non-space
 * on the inner side (so `**Note:**text` and `**加粗：**文字` work as the model meant).
 */
function classifyRun(src: string, start: number, end: number, char: string): { canOpen: boolean; canClose: boolean } {
  const before = codePointBefore(src, start);
  const after = codePointAt(src, end);
  const beforeSpace = isWhitespaceChar(before);
  const afterSpace = isWhitespaceChar(after);
  const length = end - start;
  if (char !== "_" && length >= 2) return { canOpen: !afterSpace, canClose: !beforeSpace };
  const beforePunct = isPunctuationChar(before);
  const afterPunct = isPunctuationChar(after);
  const leftFlanking = !afterSpace && (!afterPunct || beforeSpace || beforePunct);
  const rightFlanking = !beforeSpace && (!beforePunct || afterSpace || afterPunct);
  return {
    canOpen: leftFlanking && (!rightFlanking || beforePunct),
    canClose: rightFlanking && (!leftFlanking || afterPunct),
  };
}

/** Positions of every maximal backtick run, by run length, with a forward-only cursor: closers are found in O(1). */
class BacktickRuns {
  private readonly byLength = new Map<number, number[]>();
  private readonly cursor = new Map<number, number>();

  constructor(src: string) {
    let i = src.indexOf("`");
    while (i !== -1) {
      let j = i + 1;
      while (j < src.length && src.charCodeAt(j) === 0x60) j++;
      const list = this.byLength.get(j - i);
      if (list) list.push(i);
      else this.byLength.set(j - i, [i]);
      i = src.indexOf("`", j);
    }
  }

  /** Start of the first run of exactly `length` backticks at or after `from`, or -1. */
  find(length: number, from: number): number {
    const list = this.byLength.get(length);
    if (!list) return -1;
    let k = this.cursor.get(length) ?? 0;
    while (k < list.length && (list[k] as number) < from) k++;
    this.cursor.set(length, k);
    return k < list.length ? (list[k] as number) : -1;
  }
}

const AUTOLINK_RE = /<([a-zA-Z][a-zA-Z0-9+.-]{1,31}:[^\s<>]*)>/y;
const EMAIL_AUTOLINK_RE = /<([^\s<>@]+@[^\s<>@]+)>/y;
const BR_RE = /<br\s*\/?>/iy;
const BARE_URL_RE = /https?:\/\/[^\s<>[\]`|]+/y;
/** Half-typed `<br>` or autolink at the end of a streaming text. */
const PARTIAL_BR_RE = /^<(?:b|br|br\s*\/?)$/i;
const PARTIAL_AUTOLINK_RE = /^<(?:[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>]*|h|ht|htt|https?|m|ma|mai|mail|mailto?|t|tg)$/i;
/** How far a link destination and title may reach (keeps `](` scanning linear on hostile input). */
const MAX_LINK_TAIL = 2048;

/** Trailing characters a bare URL does not end with (GFM's autolink extension). */
function trimUrlEnd(url: string): string {
  let balance = 0; // "(" minus ")" in url[0, end)
  for (let k = 0; k < url.length; k++) {
    if (url[k] === "(") balance++;
    else if (url[k] === ")") balance--;
  }
  let end = url.length;
  for (;;) {
    const c = url[end - 1];
    if (c === undefined) break;
    if (".,:;!?'\"*_~".includes(c)) end--;
    else if (c === ")" && balance < 0) {
      end--;
      balance++;
    } else break;
  }
  return url.slice(0, end);
}

interface LinkTail {
  /** Index just after the closing `)`. */
  end: number;
  url: string;
}

/** Parses `(url "title")` at `start` (which holds `(`); null when it is not a complete inline-link tail. */
function parseLinkTail(src: string, start: number): LinkTail | null | "incomplete" {
  const limit = Math.min(src.length, start + MAX_LINK_TAIL);
  let i = start + 1;
  const skipSpaces = (): void => {
    while (i < limit && (src[i] === " " || src[i] === "\t" || src[i] === "\n")) i++;
  };
  skipSpaces();
  let url: string;
  if (src[i] === "<") {
    const close = src.indexOf(">", i + 1);
    if (close === -1 || close >= limit) return limit === src.length ? "incomplete" : null;
    url = src.slice(i + 1, close);
    if (url.includes("\n") || url.includes("<")) return null;
    i = close + 1;
  } else {
    const urlStart = i;
    let depth = 0;
    while (i < limit) {
      const c = src[i] as string;
      if (c === "\\" && i + 1 < limit && isAsciiPunctuation(src.charCodeAt(i + 1))) {
        i += 2;
        continue;
      }
      if (c === " " || c === "\t" || c === "\n") break;
      if (c === "(") depth++;
      else if (c === ")") {
        if (depth === 0) break;
        depth--;
      }
      i++;
    }
    url = src.slice(urlStart, i).replace(/\\([!-/:-@[-`{-~])/g, "$1");
  }
  skipSpaces();
  if (i >= limit) return limit === src.length ? "incomplete" : null;
  const q = src[i] as string;
  if (q === '"' || q === "'" || (q === "(" && i > start + 1)) {
    const closer = q === "(" ? ")" : q;
    let k = i + 1;
    while (k < limit && src[k] !== closer) k += src[k] === "\\" ? 2 : 1;
    if (k >= limit) return limit === src.length ? "incomplete" : null;
    i = k + 1;
    skipSpaces();
    if (i >= limit) return limit === src.length ? "incomplete" : null;
  }
  if (src[i] !== ")") return null;
  return { end: i + 1, url };
}

interface OpenEntity {
  type: Style | "link";
  start: number;
  url: string | null;
}

/** Closes the innermost open entity of `type` (closing and reopening what is above it, so nesting stays proper). */
function closeOpen(w: Writer, stack: OpenEntity[], type: Style | "link"): void {
  let k = stack.length - 1;
  while (k >= 0 && (stack[k] as OpenEntity).type !== type) k--;
  if (k < 0) return;
  const above = stack.splice(k + 1);
  for (let a = above.length - 1; a >= 0; a--) emitOpen(w, above[a] as OpenEntity);
  emitOpen(w, stack.pop() as OpenEntity);
  for (const entity of above) stack.push({ ...entity, start: w.length });
}

function emitOpen(w: Writer, open: OpenEntity): void {
  if (open.type === "link") {
    if (open.url !== null) w.add("text_link", open.start, { url: open.url });
  } else w.add(open.type, open.start);
}

/**
 * Renders one paragraph (or list item, heading, table cell) of inline Markdown into `w`.
 * `streamingTail`: this is the paragraph still being written (partial mode).
 */
function renderInline(w: Writer, src: string, streamingTail: boolean): void {
  if (streamingTail) src = stripDanglingEnd(src);
  const tokens: Token[] = [];
  const sentinel: DelimToken = {
    kind: "delim",
    char: "",
    count: 0,
    runLength: 0,
    canOpen: false,
    canClose: false,
    closes: [],
    opens: [],
    prev: null,
    next: null,
  };
  let lastDelim = sentinel;
  const brackets: Bracket[] = [];
  const backticks = new BacktickRuns(src);
  const n = src.length;
  let textStart = 0;
  let i = 0;
  let closingParen = -1; // cached position of the next `)` (n: none)

  const flushText = (end: number): void => {
    if (end > textStart) tokens.push({ kind: "text", text: src.slice(textStart, end) });
  };
  const unlink = (d: DelimToken): void => {
    if (d.prev) d.prev.next = d.next;
    if (d.next) d.next.prev = d.prev;
    if (lastDelim === d) lastDelim = d.prev ?? sentinel;
    d.prev = null;
    d.next = null;
  };

  /** CommonMark's "process emphasis" over the delimiters after `bottom`. */
  const processEmphasis = (bottom: DelimToken, autoOpen: boolean): void => {
    const openersBottom = new Map<string, DelimToken>();
    let closer = bottom.next;
    while (closer) {
      if (!closer.canClose) {
        closer = closer.next;
        continue;
      }
      const key = `${closer.char}${closer.canOpen ? 1 : 0}${closer.runLength % 3}`;
      const floor = openersBottom.get(key);
      let opener = closer.prev;
      let found: DelimToken | null = null;
      while (opener && opener !== bottom && opener !== floor) {
        if (opener.char === closer.char && opener.canOpen && compatible(opener, closer)) {
          found = opener;
          break;
        }
        opener = opener.prev;
      }
      if (found) {
        const double = found.count >= 2 && closer.count >= 2;
        const use = closer.char === "*" || closer.char === "_" ? (double ? 2 : 1) : 2;
        const style: Style =
          use === 1 ? "italic" : closer.char === "~" ? "strikethrough" : closer.char === "|" ? "spoiler" : "bold";
        found.count -= use;
        closer.count -= use;
        found.opens.unshift(style);
        closer.closes.push(style);
        // Delimiters between the pair can no longer match anything: they stay literal.
        let between = found.next;
        while (between && between !== closer) {
          const next: DelimToken | null = between.next;
          unlink(between);
          between = next;
        }
        if (found.count === 0) unlink(found);
        if (closer.count === 0) {
          const next: DelimToken | null = closer.next;
          unlink(closer);
          closer = next;
        }
      } else {
        if (closer.prev) openersBottom.set(key, closer.prev);
        const next: DelimToken | null = closer.next;
        if (!closer.canOpen) unlink(closer);
        closer = next;
      }
    }
    // What is left after `bottom` is unmatched: literal, or (streaming) opened up to the end of the paragraph.
    let rest = bottom.next;
    while (rest) {
      const next: DelimToken | null = rest.next;
      if (autoOpen && rest.canOpen) autoOpenRun(rest);
      unlink(rest);
      rest = next;
    }
  };

  while (i < n) {
    const c = src.charCodeAt(i);
    switch (c) {
      case 0x5c: {
        // backslash
        const next = src.charCodeAt(i + 1);
        if (i + 1 < n && isAsciiPunctuation(next)) {
          flushText(i);
          tokens.push({ kind: "text", text: src[i + 1] as string });
          i += 2;
          textStart = i;
          continue;
        }
        if (next === 0x0a) {
          flushText(i);
          i += 1;
          textStart = i;
          continue;
        }
        i++;
        continue;
      }
      case 0x60: {
        // backtick: code span
        let j = i + 1;
        while (j < n && src.charCodeAt(j) === 0x60) j++;
        const length = j - i;
        const close = backticks.find(length, j);
        if (close !== -1) {
          flushText(i);
          tokens.push({ kind: "code", text: codeSpanText(src.slice(j, close)) });
          i = close + length;
          textStart = i;
          continue;
        }
        if (streamingTail) {
          flushText(i);
          tokens.push({ kind: "code", text: codeSpanText(src.slice(j)) });
          i = n;
          textStart = n;
          continue;
        }
        i = j; // unmatched: literal backticks
        continue;
      }
      case 0x2a: // *
      case 0x5f: // _
      case 0x7e: // ~
      case 0x7c: {
        // |
        let j = i + 1;
        while (j < n && src.charCodeAt(j) === c) j++;
        const char = src[i] as string;
        const length = j - i;
        if ((c === 0x7e || c === 0x7c) && length !== 2) {
          i = j;
          continue;
        }
        const { canOpen, canClose } = classifyRun(src, i, j, char);
        if (!canOpen && !canClose) {
          i = j;
          continue;
        }
        flushText(i);
        const d: DelimToken = {
          kind: "delim",
          char,
          count: length,
          runLength: length,
          canOpen,
          canClose,
          closes: [],
          opens: [],
          prev: lastDelim,
          next: null,
        };
        lastDelim.next = d;
        lastDelim = d;
        tokens.push(d);
        i = j;
        textStart = i;
        continue;
      }
      case 0x21: // !
      case 0x5b: {
        // [
        const isImage = c === 0x21;
        if (isImage && src.charCodeAt(i + 1) !== 0x5b) {
          i++;
          continue;
        }
        flushText(i);
        const width = isImage ? 2 : 1;
        brackets.push({
          tokenIndex: tokens.length,
          delimBefore: lastDelim,
          active: true,
          hideable: !isWordChar(codePointBefore(src, i)),
        });
        tokens.push({ kind: "text", text: src.slice(i, i + width) });
        i += width;
        textStart = i;
        continue;
      }
      case 0x5d: {
        // ]
        const bracket = brackets[brackets.length - 1];
        if (!bracket) {
          i++;
          continue;
        }
        if (!bracket.active) {
          brackets.pop();
          i++;
          continue;
        }
        let tail: LinkTail | null | "incomplete" = null;
        if (src.charCodeAt(i + 1) === 0x28) {
          // No `)` ahead means no complete link: skip the scan (keeps `[a](` repeated linear).
          if (closingParen <= i) {
            closingParen = src.indexOf(")", i + 2);
            if (closingParen === -1) closingParen = n;
          }
          if (closingParen < n || (streamingTail && n - i <= MAX_LINK_TAIL)) tail = parseLinkTail(src, i + 1);
        }
        else if (i + 1 >= n && streamingTail && bracket.hideable) tail = "incomplete";
        if (tail === "incomplete" && !streamingTail) tail = null;
        if (tail === null) {
          brackets.pop();
          i++;
          continue;
        }
        flushText(i);
        const url = tail !== "incomplete" && isAllowedLinkUrl(tail.url) ? tail.url : null;
        tokens[bracket.tokenIndex] = { kind: "link_open", url };
        processEmphasis(bracket.delimBefore, false);
        tokens.push({ kind: "link_close" });
        brackets.pop();
        for (const outer of brackets) outer.active = false; // no links inside links
        i = tail === "incomplete" ? n : tail.end;
        textStart = i;
        continue;
      }
      case 0x3c: {
        // <
        const autolink = matchAt(AUTOLINK_RE, src, i) ?? matchAt(EMAIL_AUTOLINK_RE, src, i);
        if (autolink) {
          flushText(i);
          tokens.push({ kind: "text", text: autolink[1] as string });
          i += autolink[0].length;
          textStart = i;
          continue;
        }
        const br = matchAt(BR_RE, src, i);
        if (br) {
          flushText(i);
          const previous = tokens[tokens.length - 1];
          if (previous?.kind === "text") {
            let end = previous.text.length;
            while (end > 0 && (previous.text[end - 1] === " " || previous.text[end - 1] === "\t")) end--;
            previous.text = previous.text.slice(0, end);
          }
          tokens.push({ kind: "text", text: "\n" });
          i += br[0].length;
          while (i < n && (src[i] === " " || src[i] === "\t")) i++;
          textStart = i;
          continue;
        }
        if (streamingTail) {
          const rest = src.slice(i, Math.min(n, i + 64));
          if (i + rest.length === n && PARTIAL_BR_RE.test(rest)) {
            flushText(i);
            i = n;
            textStart = n;
            continue;
          }
          if (i + rest.length === n && PARTIAL_AUTOLINK_RE.test(rest)) {
            flushText(i);
            i++;
            textStart = i;
            continue;
          }
        }
        i++;
        continue;
      }
      case 0x68: {
        // h: a bare URL is literal text (its `_` and `*` are not markup)
        if (src.startsWith("http", i) && !isWordChar(codePointBefore(src, i))) {
          const m = matchAt(BARE_URL_RE, src, i);
          if (m) {
            const url = trimUrlEnd(m[0]);
            i += Math.max(1, url.length);
            continue;
          }
        }
        i++;
        continue;
      }
      default:
        i++;
    }
  }
  flushText(n);

  processEmphasis(sentinel, streamingTail);
  if (streamingTail) {
    // An unclosed `[` of the paragraph being written: its link is probably coming, do not show the bracket yet.
    for (const bracket of brackets) {
      const token = tokens[bracket.tokenIndex];
      if (bracket.hideable && token?.kind === "text") token.text = "";
    }
  }
  renderTokens(w, tokens);
}

function compatible(opener: DelimToken, closer: DelimToken): boolean {
  if (opener.char === "~" || opener.char === "|") return opener.count >= 2 && closer.count >= 2;
  // CommonMark's rule of three.
  if (
    (opener.canClose || closer.canOpen) &&
    (opener.runLength + closer.runLength) % 3 === 0 &&
    !(opener.runLength % 3 === 0 && closer.runLength % 3 === 0)
  ) {
    return false;
  }
  return true;
}

/** Streaming: an unmatched opener styles the rest of the paragraph, and its marker is hidden. */
function autoOpenRun(d: DelimToken): void {
  const styles: Style[] = [];
  if (d.char === "~") {
    if (d.count === 2) styles.push("strikethrough");
  } else if (d.char === "|") {
    if (d.count === 2) styles.push("spoiler");
  } else if (d.count === 1) styles.push("italic");
  else if (d.count === 2) styles.push("bold");
  else styles.push("bold", "italic");
  if (styles.length === 0) return;
  d.opens = [...styles, ...d.opens];
  d.count = 0;
}

function matchAt(re: RegExp, src: string, i: number): RegExpExecArray | null {
  re.lastIndex = i;
  return re.exec(src);
}

/** CommonMark code span content: line breaks become spaces, one space is stripped from both ends if both have one. */
function codeSpanText(raw: string): string {
  const text = raw.includes("\n") ? raw.replace(/\n/g, " ") : raw;
  if (text.length >= 2 && text.startsWith(" ") && text.endsWith(" ") && text.trim() !== "") {
    return text.slice(1, -1);
  }
  return text;
}

/**
 * Streaming: markers at the very end may be the first half of something (`**` of a closing `**`, a backtick of a
 * fence, `[` of a link): hide them until the next characters tell what they are.
 */
function stripDanglingEnd(src: string): string {
  let end = src.length;
  while (end > 0 && "*_~|`\\".includes(src[end - 1] as string)) end--;
  if (end < src.length) return src.slice(0, end);
  while (end > 0 && "#[!".includes(src[end - 1] as string)) end--;
  if (end < src.length && isWhitespaceChar(codePointBefore(src, end))) return src.slice(0, end);
  return src;
}

function renderTokens(w: Writer, tokens: Token[]): void {
  const stack: OpenEntity[] = [];
  for (const token of tokens) {
    switch (token.kind) {
      case "text":
        w.write(token.text);
        break;
      case "code": {
        const start = w.length;
        w.write(token.text);
        w.add("code", start);
        break;
      }
      case "delim":
        for (const style of token.closes) closeOpen(w, stack, style);
        if (token.count > 0) w.write(token.char.repeat(token.count));
        for (const style of token.opens) stack.push({ type: style, start: w.length, url: null });
        break;
      case "link_open":
        stack.push({ type: "link", start: w.length, url: token.url });
        break;
      case "link_close":
        closeOpen(w, stack, "link");
        break;
    }
  }
  while (stack.length > 0) emitOpen(w, stack.pop() as OpenEntity);
}

/** Inline Markdown reduced to its text (table cells). */
function inlinePlainText(src: string, streaming = false): string {
  const w = new Writer();
  renderInline(w, src, streaming);
  return w.text().replace(/\s+/g, " ").trim();
}

// ---------------------------------------------------------------------------------------------------------------
// Block level

interface Fence {
  char: string;
  length: number;
  indent: number;
  language: string | undefined;
}

function leadingSpaces(line: string): number {
  let k = 0;
  while (k < line.length && (line[k] === " " || line[k] === "\t")) k++;
  return k;
}

function isBlank(line: string): boolean {
  return isWhitespaceOnly(line, 0, line.length);
}

function parseFenceOpen(line: string): Fence | null {
  const indent = leadingSpaces(line);
  const char = line[indent];
  if (char !== "`" && char !== "~") return null;
  let j = indent;
  while (j < line.length && line[j] === char) j++;
  const length = j - indent;
  if (length < 3) return null;
  const info = line.slice(j).trim();
  if (char === "`" && info.includes("`")) return null;
  const word = /^\{?\.?([A-Za-z0-9_+#.-]{1,32})/.exec(info);
  return { char, length, indent, language: word ? word[1] : undefined };
}

function isFenceClose(line: string, fence: Fence): boolean {
  const indent = leadingSpaces(line);
  let j = indent;
  while (j < line.length && line[j] === fence.char) j++;
  return j - indent >= fence.length && line.slice(j).trim() === "";
}

/** `---`, `***`, `___` (spaces allowed between). */
function isRule(line: string): boolean {
  const t = line.trim();
  const char = t[0];
  if (char !== "-" && char !== "*" && char !== "_") return false;
  let count = 0;
  for (const ch of t) {
    if (ch === char) count++;
    else if (ch !== " " && ch !== "\t") return false;
  }
  return count >= 3;
}

const HEADING_RE = /^[ \t]{0,3}(#{1,6})(?:[ \t]+|$)/;
const LIST_RE = /^([ \t]*)([-*+]|\d{1,9}[.)])(?:[ \t]+|$)/;
const TASK_RE = /^\[([ xX])\](?:[ \t]+|$)/;
const QUOTE_RE = /^[ \t]*>/;
const TABLE_DELIMITER_RE = /^\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?$/;
/** A delimiter row still being typed. */
const TABLE_DELIMITER_PREFIX_RE = /^[|:\- \t]+$/;

function headingText(line: string, marker: string): string {
  let content = line.slice(marker.length).trim();
  let end = content.length;
  while (end > 0 && content[end - 1] === "#") end--;
  if (end === 0) content = "";
  else if (end < content.length && (content[end - 1] === " " || content[end - 1] === "\t")) {
    content = content.slice(0, end).trimEnd();
  }
  return content;
}

function stripQuoteMarkers(line: string): string {
  let s = line;
  for (;;) {
    const m = /^[ \t]*>[ \t]?/.exec(s);
    if (!m) return s;
    s = s.slice(m[0].length);
  }
}

function expandTabs(s: string): string {
  return s.includes("\t") ? s.replace(/\t/g, "    ") : s;
}

/** A line that starts a block other than a paragraph continuation. */
function startsBlock(lines: string[], i: number, ctx: BlockContext): boolean {
  const line = lines[i] as string;
  if (isBlank(line) || isRule(line) || HEADING_RE.test(line) || LIST_RE.test(line)) return true;
  if (ctx.inQuote) return false;
  if (QUOTE_RE.test(line) || parseFenceOpen(line) !== null || isTableStart(lines, i, ctx.tail)) return true;
  return i === ctx.tail && line.trimStart().startsWith("|"); // maybe a table header still being typed
}

function isTableStart(lines: string[], i: number, tail: number): boolean {
  const header = lines[i] as string;
  const delimiter = lines[i + 1];
  if (!header.includes("|") || delimiter === undefined) return false;
  const t = delimiter.trim();
  if (TABLE_DELIMITER_RE.test(t) && t.includes("|")) return true;
  return i + 1 === tail && t.length > 0 && TABLE_DELIMITER_PREFIX_RE.test(t);
}

interface BlockContext {
  inQuote: boolean;
  /** Index (in this line array) of the line still being written, or -1. */
  tail: number;
}

function renderBlocks(w: Writer, lines: string[], ctx: BlockContext): void {
  let i = 0;
  const n = lines.length;
  while (i < n) {
    const line = lines[i] as string;
    if (isBlank(line)) {
      w.breakLine(true);
      i++;
      continue;
    }
    if (!ctx.inQuote) {
      if (QUOTE_RE.test(line)) {
        let j = i;
        while (j < n && QUOTE_RE.test(lines[j] as string)) j++;
        const inner = lines.slice(i, j).map(stripQuoteMarkers);
        const start = w.mark();
        renderBlocks(w, inner, { inQuote: true, tail: ctx.tail >= i && ctx.tail < j ? ctx.tail - i : -1 });
        w.add("blockquote", start);
        w.breakLine(false);
        i = j;
        continue;
      }
      const fence = parseFenceOpen(line);
      if (fence) {
        let j = i + 1;
        while (j < n && !isFenceClose(lines[j] as string, fence)) j++;
        const content = lines.slice(i + 1, j).map((l) => l.slice(Math.min(fence.indent, leadingSpaces(l))));
        const code = content.join("\n");
        if (code.trim() !== "") {
          const start = w.mark();
          w.write(code);
          w.add("pre", start, { language: fence.language });
          w.breakLine(false);
        }
        i = j + 1; // an unclosed fence runs to the end (CommonMark), streaming or not
        continue;
      }
      if (isTableStart(lines, i, ctx.tail)) {
        let j = i + 2;
        while (j < n && !isBlank(lines[j] as string) && (lines[j] as string).includes("|")) j++;
        const table = renderTable(lines.slice(i, j), ctx.tail >= i && ctx.tail < j);
        if (table) {
          const start = w.mark();
          w.write(table);
          w.add("pre", start);
          w.breakLine(false);
        }
        i = j;
        continue;
      }
      if (ctx.tail === i && line.trimStart().startsWith("|")) {
        i++; // a table header still being typed: shown once its delimiter row says it is a table
        continue;
      }
    }
    if (isRule(line)) {
      w.mark();
      w.write(RULE_LINE);
      w.breakLine(false);
      i++;
      continue;
    }
    const heading = HEADING_RE.exec(line);
    if (heading) {
      const content = headingText(line, heading[0]);
      if (content !== "") {
        const start = w.mark();
        renderInline(w, content, i === ctx.tail);
        w.add("bold", start);
        w.breakLine(false);
      }
      i++;
      continue;
    }
    // A paragraph or a list item, with its continuation lines.
    const parts: string[] = [listItemLine(line)];
    let j = i + 1;
    while (j < n && !startsBlock(lines, j, ctx)) {
      parts.push((lines[j] as string).trim());
      j++;
    }
    w.mark();
    renderInline(w, parts.join("\n"), ctx.tail >= i && ctx.tail < j);
    w.breakLine(false);
    i = j;
  }
}

/** A source line as shown: list markers become bullets (indentation kept), task boxes become ☐/☑. */
function listItemLine(line: string): string {
  const m = LIST_RE.exec(line);
  if (!m) return line.trim();
  const indent = expandTabs(m[1] as string);
  const marker = m[2] as string;
  const rest = line.slice(m[0].length).trimEnd();
  const task = TASK_RE.exec(rest);
  if (task && (marker === "-" || marker === "*" || marker === "+")) {
    return indent + (task[1] === " " ? TASK_OPEN : TASK_DONE) + rest.slice(task[0].length);
  }
  if (marker === "-" || marker === "*" || marker === "+") return indent + BULLET + rest;
  return `${indent}${marker} ${rest}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Tables

function splitCells(line: string): string[] {
  let s = line.trim();
  if (s.startsWith("|")) s = s.slice(1);
  if (s.endsWith("|") && !s.endsWith("\\|")) s = s.slice(0, -1);
  const cells: string[] = [];
  let start = 0;
  let codeRun = 0;
  for (let k = 0; k < s.length; k++) {
    const ch = s[k];
    if (ch === "\\") {
      k++;
      continue;
    }
    if (ch === "`") {
      let j = k;
      while (j < s.length && s[j] === "`") j++;
      if (codeRun === 0) codeRun = j - k;
      else if (codeRun === j - k) codeRun = 0;
      k = j - 1;
      continue;
    }
    if (ch === "|" && codeRun === 0) {
      cells.push(s.slice(start, k));
      start = k + 1;
    }
  }
  cells.push(s.slice(start));
  return cells.map((cell) => cell.trim());
}

/** Width of a string in a monospace font: East Asian wide characters and emoji take two columns, marks none. */
export function displayWidth(s: string): number {
  let width = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || cp === 0xfe0f || cp === 0x20e3) continue;
    if (
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x1f300 && cp <= 0x1faff) ||
      (cp >= 0x20000 && cp <= 0x3fffd)
    ) {
      width += 2;
    } else width += 1;
  }
  return width;
}

type Align = "left" | "right" | "center";

/**
 * A pipe table as aligned monospace text (inline markup stripped), or "" when it has no content.
 * `streaming`: the last row is still being written.
 */
function renderTable(rows: string[], streaming: boolean): string {
  const header = splitCells(rows[0] as string).map((cell) => inlinePlainText(cell));
  const aligns: Align[] = splitCells(rows[1] as string).map((cell) => {
    const left = cell.startsWith(":");
    const right = cell.endsWith(":") && cell.length > 1;
    return left && right ? "center" : right ? "right" : "left";
  });
  const body = rows
    .slice(2)
    .map((row, r, all) => splitCells(row).map((cell) => inlinePlainText(cell, streaming && r === all.length - 1)));
  const all = [header, ...body];
  const columns = Math.max(...all.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < columns; c++) widths.push(Math.max(1, ...all.map((r) => displayWidth(r[c] ?? ""))));
  const pad = (cell: string, c: number): string => {
    const gap = (widths[c] as number) - displayWidth(cell);
    const align = aligns[c] ?? "left";
    if (align === "right") return " ".repeat(gap) + cell;
    if (align === "center") return " ".repeat(Math.floor(gap / 2)) + cell + " ".repeat(gap - Math.floor(gap / 2));
    return cell + " ".repeat(gap);
  };
  const line = (r: string[]): string => {
    const cells: string[] = [];
    for (let c = 0; c < columns; c++) cells.push(pad(r[c] ?? "", c));
    return cells.join(" | ").trimEnd();
  };
  const out = [line(header), widths.map((width) => "-".repeat(width)).join("-+-"), ...body.map(line)];
  return all.every((r) => r.every((cell) => cell === "")) ? "" : out.join("\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Final repair: whitespace, and entities made valid for Telegram

const TYPE_RANK: Record<string, number> = {
  blockquote: 0,
  expandable_blockquote: 0,
  text_link: 1,
  bold: 2,
  italic: 3,
  underline: 4,
  strikethrough: 5,
  spoiler: 6,
  code: 7,
  pre: 7,
};

/**
 * Trims the text, collapses blank-line runs (outside pre) to one blank line, trims each entity to non-whitespace,
 * sorts, and drops any entity Telegram would reject (empty, whitespace-only, crossing, inside code/pre, nested in its
 * own type).
 */
function finalize(text: string, raw: MessageEntity[]): FormattedText {
  const pres = raw.filter((e) => e.type === "pre").sort((a, b) => a.offset - b.offset);
  // Ranges to delete, in order.
  const removeStart: number[] = [];
  const removeEnd: number[] = [];
  let lead = 0;
  while (lead < text.length && isWhitespaceOnly(text, lead, lead + 1)) lead++;
  if (lead > 0) {
    removeStart.push(0);
    removeEnd.push(lead);
  }
  let trail = text.length;
  while (trail > lead && isWhitespaceOnly(text, trail - 1, trail)) trail--;
  let preIndex = 0;
  let k = text.indexOf("\n", lead);
  while (k !== -1 && k < trail) {
    let j = k + 1;
    let last = k;
    while (j < trail) {
      const c = text.charCodeAt(j);
      if (c === 0x0a) last = j;
      else if (c !== 0x20 && c !== 0x09 && c !== 0x0d) break;
      j++;
    }
    if (last > k + 1) {
      while (preIndex < pres.length && (pres[preIndex] as MessageEntity).offset + (pres[preIndex] as MessageEntity).length <= k) {
        preIndex++;
      }
      const pre = pres[preIndex];
      const insidePre = pre !== undefined && pre.offset <= last && pre.offset + pre.length > k;
      if (!insidePre) {
        removeStart.push(k + 1);
        removeEnd.push(last);
      }
    }
    k = text.indexOf("\n", Math.max(j, k + 1));
  }
  if (trail < text.length) {
    removeStart.push(trail);
    removeEnd.push(text.length);
  }

  let out = text;
  let map = (pos: number): number => pos;
  if (removeStart.length > 0) {
    const kept: string[] = [];
    const removedBefore: number[] = []; // removed characters before removeStart[r]
    let cursor = 0;
    let removed = 0;
    for (let r = 0; r < removeStart.length; r++) {
      const s = removeStart[r] as number;
      const e = removeEnd[r] as number;
      kept.push(text.slice(cursor, s));
      removedBefore.push(removed);
      removed += e - s;
      cursor = e;
    }
    kept.push(text.slice(cursor));
    out = kept.join("");
    map = (pos: number): number => {
      // last removal range starting at or before pos
      let lo = 0;
      let hi = removeStart.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if ((removeStart[mid] as number) <= pos) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (found === -1) return pos;
      const s = removeStart[found] as number;
      const e = removeEnd[found] as number;
      const before = removedBefore[found] as number;
      return pos >= e ? pos - before - (e - s) : s - before;
    };
  }

  const entities: MessageEntity[] = [];
  for (const entity of raw) {
    let start = map(entity.offset);
    let end = map(entity.offset + entity.length);
    if (entity.type !== "pre") {
      while (start < end && isWhitespaceOnly(out, start, start + 1)) start++;
      while (end > start && isWhitespaceOnly(out, end - 1, end)) end--;
    }
    if (splitsSurrogatePair(out, start)) start--;
    if (splitsSurrogatePair(out, end)) end++;
    if (end <= start || isWhitespaceOnly(out, start, end)) continue;
    entities.push({ ...entity, offset: start, length: end - start });
  }
  entities.sort(
    (a, b) => a.offset - b.offset || b.length - a.length || (TYPE_RANK[a.type] ?? 5) - (TYPE_RANK[b.type] ?? 5),
  );
  // Ancestors are properly nested, so the innermost one decides crossing and leaf containment; a count per type
  // decides "nested in its own type" (linear, even for thousands of nested entities).
  const kept: MessageEntity[] = [];
  const open: MessageEntity[] = [];
  const openTypes = new Map<string, number>();
  const family = (type: string): string => (type === "expandable_blockquote" ? "blockquote" : type);
  for (const entity of entities) {
    while (open.length > 0) {
      const top = open[open.length - 1] as MessageEntity;
      if (top.offset + top.length > entity.offset) break;
      open.pop();
      openTypes.set(family(top.type), (openTypes.get(family(top.type)) ?? 1) - 1);
    }
    const top = open[open.length - 1];
    if (
      top &&
      (entity.offset + entity.length > top.offset + top.length || top.type === "code" || top.type === "pre")
    ) {
      continue;
    }
    if ((openTypes.get(family(entity.type)) ?? 0) > 0) continue;
    kept.push(entity);
    open.push(entity);
    openTypes.set(family(entity.type), (openTypes.get(family(entity.type)) ?? 0) + 1);
  }
  return { text: out, entities: kept };
}

// ---------------------------------------------------------------------------------------------------------------

/** A last line that is only the start of a marker (`-`, `**`, a backtick or two, `#`): hidden while streaming. */
const DANGLING_LINE_RE = /^[ \t]*(?:[-*_+=~`#>|]{1,3})[ \t]*$/;

/**
 * Converts a chat model's Markdown to plain text plus Telegram entities (never parse_mode).
 * With `partial`, the text is a prefix of an answer still streaming: see the module comment.
 */
export function markdownToEntities(markdown: string, opts?: MarkdownOptions): FormattedText {
  const partial = opts?.partial === true;
  const lines = markdown.split("\n");
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k] as string;
    if (line.endsWith("\r")) lines[k] = line.slice(0, -1);
  }
  let tail = -1;
  if (partial) {
    const last = lines.length - 1;
    if (last > 0 || (lines[0] as string).length > 0) {
      if (DANGLING_LINE_RE.test(lines[last] as string)) lines[last] = "";
    }
    let lastText = lines.length - 1;
    while (lastText >= 0 && isBlank(lines[lastText] as string)) lastText--;
    // "text\n" is still open (the next line may continue the paragraph); "text\n\n" closed it.
    if (lastText >= 0 && lines.length - 1 - lastText <= 1) tail = lastText;
  }
  const w = new Writer();
  renderBlocks(w, lines, { inQuote: false, tail });
  return finalize(w.text(), w.entities);
}
