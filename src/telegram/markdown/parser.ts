/**
 * The Markdown reader: markdown-it (CommonMark + GFM tables and strikethrough) set up for chat models, plus the
 * inline rules that keep a half-written answer from flashing raw markers while it streams.
 *
 * Chat-model choices on top of CommonMark (the spec examples they change are listed with a reason in spec.test.ts):
 * - `||spoiler||`, Telegram's own markup;
 * - doubled `**`, `~~`, `||` need only a non-space on their inner side (`**Note:**text`, and CJK through
 *   markdown-it-cjk-friendly: `**结论：**文字`);
 * - a single `*` between two ASCII letters or digits is literal (`2*3*4`);
 * - bare http(s) URLs are read as links (their `_` and `*` are not markup); link URLs are never refused here, the
 *   walker decides which ones Telegram may get.
 *
 * Streaming (`partial`): a last line that is only the start of a marker, or a table header whose delimiter row is not
 * complete, is left out. The last inline block, if the text ends inside it, is the "tail": there, dangling marker
 * characters at the very end are hidden, unclosed emphasis runs to the end, an unclosed code span is code to the end,
 * and a link still being typed shows only its text. Earlier blocks are read exactly as in the final text.
 */
import MarkdownIt from "markdown-it";
import type { Delimiter, MarkdownIt as Parser, StateCore, StateInline, Token } from "markdown-it";
import cjkFriendly from "markdown-it-cjk-friendly";

/** What a parse is told, and what its rules leave for each other. */
export interface ParseEnv {
  /** The text is a prefix of an answer still streaming. */
  partial: boolean;
  /** Set while the tail inline block is parsed. */
  tail?: boolean;
}

const PIPE = 0x7c;
const BACKTICK = 0x60;

const isAsciiAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);

/** Characters the text rule stops at: markdown-it's own, plus `|` for spoilers. */
function isTerminator(c: number): boolean {
  switch (c) {
    case 0x0a: case 0x21: case 0x23: case 0x24: case 0x25: case 0x26: case 0x2a: case 0x2b: case 0x2d: case 0x3a:
    case 0x3c: case 0x3d: case 0x3e: case 0x40: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f: case 0x60:
    case 0x7b: case 0x7c: case 0x7d: case 0x7e:
      return true;
    default:
      return false;
  }
}

function text(state: StateInline, silent: boolean): boolean {
  let pos = state.pos;
  while (pos < state.posMax && !isTerminator(state.src.charCodeAt(pos))) pos++;
  if (pos === state.pos) return false;
  if (!silent) state.pending += state.src.slice(state.pos, pos);
  state.pos = pos;
  return true;
}

/** `||`: a delimiter like strikethrough's `~~`; other runs of `|` are text. */
function spoiler(state: StateInline, silent: boolean): boolean {
  if (silent || state.src.charCodeAt(state.pos) !== PIPE) return false;
  const scanned = state.scanDelims(state.pos, true);
  if (scanned.length === 2) {
    state.push("text", "", 0).content = "||";
    state.delimiters.push({
      marker: PIPE,
      length: 0,
      token: state.tokens.length - 1,
      end: -1,
      open: scanned.can_open,
      close: scanned.can_close,
    });
  } else state.pending += "|".repeat(scanned.length);
  state.pos += scanned.length;
  return true;
}

function spoilerPairs(state: StateInline): boolean {
  const pair = (delimiters: Delimiter[]): void => {
    for (const opener of delimiters) {
      if (opener.marker !== PIPE || opener.end === -1) continue;
      retype(state.tokens[opener.token] as Token, "spoiler_open", 1);
      retype(state.tokens[(delimiters[opener.end] as Delimiter).token] as Token, "spoiler_close", -1);
    }
  };
  pair(state.delimiters);
  for (const meta of state.tokens_meta) if (meta?.delimiters) pair(meta.delimiters);
  return false;
}

function retype(token: Token, type: string, nesting: 1 | -1): void {
  token.type = type;
  token.nesting = nesting;
  token.markup = token.content;
  token.content = "";
}

/** Streaming: an unclosed code span in the tail is code up to the end. */
function openCodeSpan(state: StateInline, silent: boolean): boolean {
  const { src, pos } = state;
  if (silent || !(state.env as ParseEnv).tail || src.charCodeAt(pos) !== BACKTICK || state.posMax !== src.length) {
    return false;
  }
  let end = pos;
  while (src.charCodeAt(end) === BACKTICK) end++;
  for (let at = src.indexOf("`", end); at !== -1; ) {
    let runEnd = at;
    while (src.charCodeAt(runEnd) === BACKTICK) runEnd++;
    if (runEnd - at === end - pos) return false; // closed: the backticks rule reads it
    at = src.indexOf("`", runEnd);
  }
  const token = state.push("code_inline", "code", 0);
  token.content = src.slice(end).replace(/\n/g, " ");
  token.markup = src.slice(pos, end);
  state.pos = src.length;
  return true;
}

/**
 * Streaming: a link (or image) in the tail whose `]`, `(url` or `)` has not arrived yet shows its text only.
 * Runs after markdown-it's link and image rules, so it only sees brackets they refused.
 */
function openLink(state: StateInline, silent: boolean): boolean {
  const { src } = state;
  let pos = state.pos;
  if (silent || !(state.env as ParseEnv).tail || state.posMax !== src.length) return false;
  const image = src.charCodeAt(pos) === 0x21;
  if (image) pos++;
  if (src.charCodeAt(pos) !== 0x5b) return false;
  // `arr[0`, `x[i]`: a bracket after a word character is not a link.
  if (!image && pos > 0 && (isAsciiAlnum(src.charCodeAt(pos - 1)) || src.charCodeAt(pos - 1) === 0x5f)) return false;
  const labelEnd = state.md.helpers.parseLinkLabel(state, pos, false);
  if (labelEnd === -1) {
    state.pos = pos + 1; // the label is still being typed: hide the bracket
    return true;
  }
  const rest = src.slice(labelEnd + 1);
  const incomplete =
    rest === "" ||
    (rest.startsWith("(") && (!rest.includes(")") || /^\(\S*$/.test(rest) || /^\(\s*\S+\s+["'(][^"')]*$/.test(rest))) ||
    /^\[[^\]]*\]?$/.test(rest);
  if (!incomplete) return false;
  const max = state.posMax;
  state.pos = pos + 1;
  state.posMax = labelEnd;
  state.md.inline.tokenize(state);
  state.pos = max;
  state.posMax = max;
  return true;
}

/**
 * Streaming: emphasis, strikethrough and spoiler openers left unmatched in the tail are closed at its end (innermost
 * first), so the text being written is styled as it will be once its closer arrives. Openers inside a matched pair
 * stay literal (closing them at the end would cross the pair).
 */
function closeOpenDelimiters(state: StateInline): boolean {
  if (!(state.env as ParseEnv).tail) return false;
  const delimiters = state.delimiters;
  const open: Delimiter[] = [];
  let enclosedUntil = -1;
  for (let i = 0; i < delimiters.length; i++) {
    const d = delimiters[i] as Delimiter;
    if (d.end > i) enclosedUntil = Math.max(enclosedUntil, d.end);
    else if (d.open && d.end === -1 && i > enclosedUntil) open.push(d);
  }
  for (let k = open.length - 1; k >= 0; k--) {
    const opener = open[k] as Delimiter;
    state.push("text", "", 0).content = (state.tokens[opener.token] as Token).content;
    opener.end = delimiters.length;
    delimiters.push({ ...opener, token: state.tokens.length - 1, end: -1, open: false, close: true });
  }
  return false;
}

/** Hidden at the very end of the tail until the next characters tell what they start. */
const DANGLING_END_RE = /(?:[*_~|`\\]+|(?<=^|\s)[#[!]+|<(?:b|br|br\s*\/?))$/i;
/** The `<` of an autolink (or tag) still being typed. */
const OPEN_ANGLE_RE = /<(?=[a-z][\w+.-]*(?::[^\s<>]*)?$)/i;

/** The inline block the streaming text ends in, if any: the last one, if its block reaches the last line. */
function findTail(tokens: Token[], src: string): Token | undefined {
  let lastLine = 0;
  for (let at = src.indexOf("\n"); at !== -1 && at < src.length - 1; at = src.indexOf("\n", at + 1)) lastLine++;
  let tail: Token | undefined;
  let row: [number, number] | null = null; // table cells have no map of their own
  for (const token of tokens) {
    if (token.type === "tr_open") row = token.map;
    if (token.type === "inline") tail = ((token.map ?? row)?.[1] ?? 0) > lastLine ? token : undefined;
    else if (token.nesting === 0) tail = undefined;
  }
  return tail;
}

/** markdown-it's core inline step, with the tail marked and its dangling end hidden. */
function inlineWithTail(state: StateCore): void {
  const env = state.env as ParseEnv;
  const tail = env.partial && !/\n[ \t]*\n[ \t]*$/.test(state.src) ? findTail(state.tokens, state.src) : undefined;
  for (const token of state.tokens) {
    if (token.type !== "inline") continue;
    env.tail = token === tail;
    if (env.tail) token.content = token.content.replace(DANGLING_END_RE, "").replace(OPEN_ANGLE_RE, "");
    state.md.inline.parse(token.content, state.md, env, (token.children ??= []));
  }
  env.tail = false;
}

function createParser(): Parser {
  const md = new MarkdownIt({ html: true, linkify: true });
  md.linkify.set({ fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false });
  md.core.ruler.disable(["linkify", "replacements", "smartquotes"]);
  md.validateLink = () => true;
  md.use(cjkFriendly);
  const CjkState = md.inline.State;
  md.inline.State = class ChatState extends CjkState {
    override scanDelims(start: number, canSplitWord: boolean) {
      const scanned = super.scanDelims(start, canSplitWord);
      const marker = this.src.charCodeAt(start);
      const before = start > 0 ? this.src.charCodeAt(start - 1) : 0x20;
      const end = start + scanned.length;
      const after = end < this.posMax ? this.src.charCodeAt(end) : 0x20;
      if (marker === 0x2a && scanned.length === 1 && isAsciiAlnum(before) && isAsciiAlnum(after)) {
        return { ...scanned, can_open: false, can_close: false };
      }
      if (marker !== 0x5f && scanned.length >= 2) {
        return { ...scanned, can_open: !md.utils.isWhiteSpace(after), can_close: !md.utils.isWhiteSpace(before) };
      }
      return scanned;
    }
  };
  md.inline.ruler.at("text", text);
  md.inline.ruler.after("strikethrough", "spoiler", spoiler);
  md.inline.ruler.before("backticks", "open_code_span", openCodeSpan);
  md.inline.ruler.after("image", "open_link", openLink);
  md.inline.ruler2.after("balance_pairs", "close_open_delimiters", closeOpenDelimiters);
  md.inline.ruler2.after("strikethrough", "spoiler", spoilerPairs);
  md.core.ruler.at("inline", inlineWithTail);
  return md;
}

const parser = createParser();

/** A last line that is only the start of a marker (`-`, `**`, a backtick or two, `#`, `>`, `|`, `==`). */
const DANGLING_LINE_RE = /^[ \t]*[-*_+=~`#>|]{1,3}[ \t]*$/;
const TABLE_DELIMITER_RE = /^\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?$/;
const TABLE_DELIMITER_PREFIX_RE = /^[|:\- \t]+$/;

const cellCount = (row: string): number => row.trim().replace(/^\|/, "").replace(/(?<!\\)\|$/, "").split(/(?<!\\)\|/).length;

/** Where the line before the one starting at `lineStart` starts (`lineStart` > 0). */
const previousLineStart = (s: string, lineStart: number): number => (lineStart <= 1 ? 0 : s.lastIndexOf("\n", lineStart - 2) + 1);

/**
 * Streaming: the last line is hidden while it is only the start of a marker, and so is a table header until its
 * delimiter row says it is a table (one line too short, and the header would flash as a paragraph of pipes).
 * Only the last three lines are looked at.
 */
export function hideUnfinishedLines(markdown: string): string {
  const lastStart = markdown.lastIndexOf("\n") + 1;
  const last = markdown.slice(lastStart);
  const previousStart = lastStart > 0 ? previousLineStart(markdown, lastStart) : -1;
  const previous = previousStart >= 0 ? markdown.slice(previousStart, lastStart - 1) : undefined;
  const earlier = previousStart > 0 ? markdown.slice(previousLineStart(markdown, previousStart), previousStart - 1) : "";
  if (previous?.includes("|") && TABLE_DELIMITER_PREFIX_RE.test(last) && !earlier.includes("|")) {
    const complete = TABLE_DELIMITER_RE.test(last.trim()) && cellCount(last) === cellCount(previous);
    return complete ? markdown : markdown.slice(0, Math.max(0, previousStart - 1));
  }
  if (last.trimStart().startsWith("|") && !previous?.includes("|")) return markdown.slice(0, Math.max(0, lastStart - 1));
  return DANGLING_LINE_RE.test(last) ? markdown.slice(0, lastStart) : markdown;
}

/** markdown-it's block tokens for `markdown`, inline tokens in their `children` (`partial`: see the module comment). */
export function parseMarkdown(markdown: string, partial: boolean): Token[] {
  const env: ParseEnv = { partial };
  return parser.parse(markdown, env);
}
